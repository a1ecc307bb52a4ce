/**
 * The R-pass (nn/policy-rop.ts) against the two references it replaces or must agree with:
 * the taped double backprop (nn/hvp.ts over algos/recurrent-actor.ts `tapeLogits`) and central
 * differences of the fused first-order gradient (GRUCell.sequence's BPTT). Tiny networks, so
 * the tape is cheap; every activation, both distribution forms (eps 0 / floor) and grouped
 * (per-agent) weights. And the wasm kernel's matmuls against tfjs's, bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RecurrentActor, tapeLogits } from '../../src-shared/algos/recurrent-actor';
import type { EnvSpec } from '../../src-shared/envs/types';
import { maskedLogProbs } from '../../src-shared/nn/categorical';
import { GruTrace, type GruGates } from '../../src-shared/nn/gru';
import { hessianVectorProduct, registerSecondOrderGradients, secondOrderOps } from '../../src-shared/nn/hvp';
import type { Activation } from '../../src-shared/nn/mlp';
import { POLICY_PARAM_NAMES, RecurrentPolicyRop, policyRopKernel, type PolicyArrays, type PolicyTensors } from '../../src-shared/nn/policy-rop';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './tf-setup';

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.float());
}

/** [G][T][R][F] (the tape's layout) -> [T][G][R][F] (the R-pass's). */
function toTimeMajor(src: Float32Array, G: number, T: number, R: number, F: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let g = 0; g < G; g++) {
    for (let t = 0; t < T; t++) out.set(src.subarray(((g * T + t) * R) * F, ((g * T + t) * R + R) * F), ((t * G + g) * R) * F);
  }
  return out;
}

/** |a - b| <= rtol * max|b| part by part (b not trivially zero). */
function expectClose(a: Float32Array[], b: Float32Array[], rtol: number, what: string): void {
  let scale = 0;
  for (const x of b) for (const v of x) scale = Math.max(scale, Math.abs(v));
  expect(scale, what).toBeGreaterThan(1e-3);
  a.forEach((ai, i) => {
    let m = 0;
    for (let k = 0; k < ai.length; k++) m = Math.max(m, Math.abs(ai[k] - b[i][k]));
    expect(m, `${what}: ${POLICY_PARAM_NAMES[i]} (scale ${scale.toExponential(2)})`).toBeLessThanOrEqual(rtol * scale);
  });
}

interface Setup {
  actor: RecurrentActor;
  vars: tf.Variable[];
  G: number;
  T: number;
  R: number;
  O: number;
  A: number;
  xG: Float32Array;
  maskG: Float32Array;
  cG: Float32Array;
  eps: number;
  act: Activation;
}

function setup(G: number, act: Activation, eps: number, seed: number, gruGates: GruGates = 'f64-js'): Setup {
  const O = 4;
  const A = 3;
  const T = 5;
  const R = 3;
  const spec = { obsSize: O, numActions: A } as EnvSpec;
  const rng = new Rng(seed, G);
  const actor = new RecurrentActor(tf, spec, { hiddenDim: 5, activation: act, gruGates }, G, rng);
  const xG = rand(rng, G * T * R * O, -1.5, 1.5);
  const maskG = new Float32Array(G * T * R * A).fill(1);
  for (let i = 0; i < G * T * R; i += 4) maskG[i * A + 2] = 0;
  // Objective weights: dense on some rows, zero on others (rows without weight are skipped).
  const cG = rand(rng, G * T * R * A).map((w, i) => (Math.floor(i / A) % 5 === 3 ? 0 : w * maskG[i]));
  // The parameter order of ParamSet is the order of POLICY_PARAM_NAMES.
  expect(actor.params.names()).toEqual([...POLICY_PARAM_NAMES]);
  return { actor, vars: actor.params.variables(), G, T, R, O, A, xG, maskG, cG, eps, act };
}

function tapeObjective(s: Setup, fused: boolean): () => tf.Scalar {
  const so = secondOrderOps(tf);
  const { G, T, R, O, A } = s;
  return () =>
    tf.tidy(() => {
      const x = tf.tensor3d(s.xG, [G, T * R, O]);
      const avail = tf.tensor3d(s.maskG, [G, T * R, A]);
      const c = tf.tensor3d(s.cG, [G, T * R, A]);
      const logp = fused
        ? maskedLogProbs(tf, s.actor.sequenceLogits(x, G, T, R), avail, s.eps)
        : so.maskedLogProbs(tapeLogits(tf, s.actor.weights(), x, T, s.act), avail, s.eps);
      return tf.sum(tf.mul(c, logp)) as tf.Scalar;
    });
}

function arrays(ts: tf.Tensor[]): Float32Array[] {
  return ts.map((t) => Float32Array.from(t.dataSync() as Float32Array));
}

function ropFor(s: Setup, trace?: { trace: GruTrace; cols: number[][] }): RecurrentPolicyRop {
  const rop = new RecurrentPolicyRop(tf, s.act);
  rop.setBatch(s.actor.weights() as unknown as PolicyTensors, {
    T: s.T,
    R: s.R,
    x: toTimeMajor(s.xG, s.G, s.T, s.R, s.O),
    avail: toTimeMajor(s.maskG, s.G, s.T, s.R, s.A),
    eps: s.eps,
    trace,
  });
  return rop;
}

const asRecord = (parts: Float32Array[]): PolicyArrays => Object.fromEntries(POLICY_PARAM_NAMES.map((n, i) => [n, parts[i]])) as PolicyArrays;
const asList = (r: PolicyArrays): Float32Array[] => POLICY_PARAM_NAMES.map((n) => r[n]);

/** Central differences of the fused first-order gradient along v. */
function fdHvp(s: Setup, v: Float32Array[], h: number): Float32Array[] {
  const base = s.vars.map((x) => Float32Array.from(x.dataSync() as Float32Array));
  const f = tapeObjective(s, true);
  const at = (sign: number): Float32Array[] => {
    s.vars.forEach((x, i) => {
      const t = tf.tensor(base[i].map((b, k) => b + sign * h * v[i][k]), x.shape);
      x.assign(t);
      t.dispose();
    });
    return tf.tidy(() => {
      const { grads } = tf.variableGrads(f, s.vars);
      return s.vars.map((x) => Float32Array.from(grads[x.name].dataSync() as Float32Array));
    });
  };
  const plus = at(1);
  const minus = at(-1);
  s.vars.forEach((x, i) => {
    const t = tf.tensor(base[i], x.shape);
    x.assign(t);
    t.dispose();
  });
  return plus.map((p, i) => p.map((pk, k) => (pk - minus[i][k]) / (2 * h)));
}

const CASES: [string, number, Activation, number][] = [
  ['G = 1, relu, masked softmax', 1, 'relu', 0],
  ['G = 1, gelu, epsilon floor 0.1', 1, 'gelu', 0.1],
  ['G = 2 (per-agent), gelu, masked softmax', 2, 'gelu', 0],
  ['G = 2 (per-agent), relu, epsilon floor 0.2', 2, 'relu', 0.2],
  ['G = 1, tanh, masked softmax', 1, 'tanh', 0],
];

describe('R-pass Hessian-vector product through the recurrent policy', () => {
  beforeAll(async () => {
    await setupTf();
    registerSecondOrderGradients(tf);
  });

  it.each(CASES)('%s: gradient = fused BPTT, H v = taped double backprop and = differences', (_name, G, act, eps) => {
    const s = setup(G, act, eps, 11 + G);
    const before = tf.memory().numTensors;
    const rop = ropFor(s);
    const rng = new Rng(77, G);
    const v = s.vars.map((p) => rand(rng, p.size));

    // First order: J and its gradient, as the fused op computes them.
    const { value: jRop, grads } = rop.gradient(toTimeMajor(s.cG, s.G, s.T, s.R, s.A));
    const ref = tf.tidy(() => {
      const { value, grads: g } = tf.variableGrads(tapeObjective(s, true), s.vars);
      return { value: value.dataSync()[0], grads: s.vars.map((x) => Float32Array.from(g[x.name].dataSync() as Float32Array)) };
    });
    expect(Math.abs(jRop - ref.value)).toBeLessThan(1e-5 * (1 + Math.abs(ref.value)));
    expectClose(asList(grads), ref.grads, 1e-5, 'gradient');

    // Second order: R{grad J} against the tape, tightly; grad J . v alongside.
    const { value: dir, hvp } = rop.hvp(toTimeMajor(s.cG, s.G, s.T, s.R, s.A), asRecord(v));
    const vt = v.map((vi, i) => tf.tensor(vi, s.vars[i].shape));
    const taped = hessianVectorProduct(tf, tapeObjective(s, false), s.vars, vt);
    const tapedArr = arrays(taped.hvp);
    taped.hvp.forEach((t) => t.dispose());
    vt.forEach((t) => t.dispose());
    expectClose(asList(hvp), tapedArr, 2e-5, 'H v vs tape');
    let dot = 0;
    ref.grads.forEach((g, i) => g.forEach((gk, k) => (dot += gk * v[i][k])));
    expect(Math.abs(dir - dot)).toBeLessThan(1e-5 * (1 + Math.abs(dot)));

    // And against the definition, loosely (float32 differences; h small enough that no ReLU
    // unit changes sides).
    expectClose(asList(hvp), fdHvp(s, v, 3e-3), 2e-3, 'H v vs differences');

    rop.dispose();
    expect(tf.memory().numTensors).toBe(before);
    s.actor.params.dispose();
  });

  it.each(['f64-js', 'f32-simd'] as const)('reusing the rollout trace gives the recomputed forward, with padding rows and a subset of sequences, gates=%s', (gates) => {
    const s = setup(2, 'relu', 0, 5, gates);
    const { G, T, R, O, A } = s;
    const H = 5;
    // The rollout: all G * R rows per step through stepLogits, recorded into a trace.
    const rows = G * R;
    const trace = new GruTrace(T, rows, H);
    let hA = new Float32Array(rows * H);
    let hB = new Float32Array(rows * H);
    const xT = toTimeMajor(s.xG, G, T, R, O);
    for (let t = 0; t < T; t++) {
      const xt = tf.tensor3d(xT.subarray(t * rows * O, (t + 1) * rows * O), [G, R, O]);
      s.actor.stepLogits(xt, hA, hB, trace, t);
      xt.dispose();
      [hA, hB] = [hB, hA];
    }
    // Group 0 uses its sequences 2 and 0 (in that order), group 1 only its sequence 1; the
    // third slot of group 1 and the second of... every missing slot is padding.
    const pick = [
      [2, 0],
      [1],
    ];
    const Rs = 2;
    const sub = (src: Float32Array, F: number, fill: number) => {
      const out = new Float32Array(T * G * Rs * F).fill(fill);
      for (let t = 0; t < T; t++) {
        for (let g = 0; g < G; g++) {
          pick[g].forEach((r, k) => out.set(src.subarray(((t * G + g) * R + r) * F, ((t * G + g) * R + r + 1) * F), ((t * G + g) * Rs + k) * F));
        }
      }
      return out;
    };
    const x = sub(xT, O, 0);
    const avail = sub(toTimeMajor(s.maskG, G, T, R, A), A, 1);
    const w = sub(toTimeMajor(s.cG, G, T, R, A), A, 0);
    const rng = new Rng(3);
    const v = asRecord(s.vars.map((p) => rand(rng, p.size)));
    const run = (withTrace: boolean) => {
      const rop = new RecurrentPolicyRop(tf, 'relu', gates);
      rop.setBatch(s.actor.weights() as unknown as PolicyTensors, {
        T,
        R: Rs,
        x,
        avail,
        eps: 0,
        trace: withTrace ? { trace, cols: pick.map((q, g) => q.map((r) => g * R + r)) } : undefined,
      });
      const g = rop.gradient(w);
      const h = rop.hvp(w, v);
      rop.dispose();
      return { g: asList(g.grads), h: asList(h.hvp), value: h.value };
    };
    const a = run(true);
    const b = run(false);
    expectClose(a.g, b.g, 1e-5, 'gradient, trace vs recomputed');
    expectClose(a.h, b.h, 1e-5, 'H v, trace vs recomputed');
    expect(Math.abs(a.value - b.value)).toBeLessThan(1e-5 * (1 + Math.abs(b.value)));
    s.actor.params.dispose();
  });

  it('refuses mismatched sizes, naming what was expected', () => {
    const s = setup(1, 'relu', 0, 2);
    const rop = ropFor(s);
    expect(() => rop.hvp(new Float32Array(3), asRecord(s.vars.map((p) => new Float32Array(p.size))))).toThrow(/objective weights must hold 15 x 3/);
    expect(() => rop.hvp(new Float32Array(15 * 3), asRecord(s.vars.map(() => new Float32Array(1))))).toThrow(/v\['input\/weight'\] must hold 20/);
    expect(() =>
      rop.setBatch(s.actor.weights() as unknown as PolicyTensors, { T: 5, R: 3, x: new Float32Array(4), avail: new Float32Array(45), eps: 0 }),
    ).toThrow(/x and avail must hold 15 rows/);
    rop.dispose();
    s.actor.params.dispose();
  });

  // Sizes past the kernel's K block (256: 6H = 384 at H = 64; the weight products' 2 T R = 360)
  // and widths off its 8- and 4-column tiles (H = 37, A = 3); with f32-simd gates and no trace
  // the forward's gate calls lay out the kernel's memory between the matmuls (re-staging).
  const BITS: [string, number, number, number, number, Activation, GruGates][] = [
    ['G = 1, H = 64, T = 30, R = 6, relu', 1, 64, 30, 6, 'relu', 'f64-js'],
    ['G = 2, H = 37, T = 9, R = 5, gelu', 2, 37, 9, 5, 'gelu', 'f64-js'],
    ['G = 2, H = 64, T = 30, R = 6, tanh, f32-simd gates', 2, 64, 30, 6, 'tanh', 'f32-simd'],
  ];
  it.each(BITS)('the wasm kernel matmuls give tfjs-wasm\'s bits: %s', (_name, G, H, T, R, act, gates) => {
    const O = 11;
    const A = 3;
    const rng = new Rng(40 + G, H);
    const actor = new RecurrentActor(tf, { obsSize: O, numActions: A } as EnvSpec, { hiddenDim: H, activation: act, gruGates: gates }, G, rng);
    const n = T * G * R;
    const x = rand(rng, n * O, -1.5, 1.5);
    const avail = new Float32Array(n * A).fill(1);
    for (let i = 0; i < n; i += 3) avail[i * A + 1] = 0;
    const w = rand(rng, n * A).map((v, i) => (Math.floor(i / A) % 4 === 1 ? 0 : v * avail[i]));
    const v = asRecord(actor.params.variables().map((p) => rand(rng, p.size)));
    let matMuls = 0;
    const counting = { ...tf, matMul: (...a: Parameters<typeof tf.matMul>) => (matMuls++, tf.matMul(...a)) } as unknown as typeof tf;
    const run = (kernel: boolean, eps: number) => {
      policyRopKernel.matmul = kernel;
      matMuls = 0;
      try {
        const rop = new RecurrentPolicyRop(counting, act, gates);
        rop.setBatch(actor.weights() as unknown as PolicyTensors, { T, R, x, avail, eps });
        const g = rop.gradient(w);
        const h = rop.hvp(w, v);
        const h2 = rop.hvp(w, v);
        rop.dispose();
        return { g: asList(g.grads), h: asList(h.hvp), h2: asList(h2.hvp), values: [g.value, h.value, h2.value], matMuls };
      } finally {
        policyRopKernel.matmul = true;
      }
    };
    const bits = (xs: Float32Array[]) => xs.map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));
    for (const eps of [0, 0.1]) {
      const k = run(true, eps);
      const r = run(false, eps);
      expect(k.matMuls, 'the kernel path calls no tfjs matmul').toBe(0);
      expect(r.matMuls).toBeGreaterThan(2 * T);
      expect(bits(k.g)).toEqual(bits(r.g));
      expect(bits(k.h)).toEqual(bits(r.h));
      expect(bits(k.h2), 'a second product on the same batch').toEqual(bits(k.h));
      expect(k.values).toEqual(r.values);
    }
    actor.params.dispose();
  });
});
