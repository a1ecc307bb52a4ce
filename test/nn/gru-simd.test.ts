/**
 * The float32 SIMD GRU gate kernel (nn/wasm/gru-gates.as.ts via nn/gru-simd.ts): its exp,
 * sigmoid and tanh against Math in float64, its gates and BPTT against the float64 JS reference
 * at the learners' size, determinism, and that the committed bytes are the source's.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EnvSpec } from '../../src-shared/envs/types';
import { RecurrentActor, kernelPaths } from '../../src-shared/algos/recurrent-actor';
import { maskedLogProbs } from '../../src-shared/nn/categorical';
import { GRUCell, GruTrace, gateRows, kernelMatmul, type GruGates } from '../../src-shared/nn/gru';
import { gateKernel, gateRowsSimd } from '../../src-shared/nn/gru-simd';
import { ParamSet } from '../../src-shared/nn/params';
import { Mlp } from '../../src-shared/nn/mlp';
import { resolve } from '../../src-shared/config/schema';
import { getAlgo } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './tf-setup';

const ROOT = path.join(__dirname, '..', '..');

/** Max error of the kernel's function `kind` over xs against ref (float64): [abs, rel]. */
function mathError(kind: number, xs: Float32Array, ref: (x: number) => number): [number, number] {
  const K = gateKernel();
  const [src, dst] = K.layout(xs.length, xs.length);
  K.f32(src, xs.length).set(xs);
  K.k.mathTest(kind, src, dst, xs.length);
  const out = K.f32(dst, xs.length);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < xs.length; i++) {
    const want = ref(xs[i]);
    const d = Math.abs(out[i] - want);
    abs = Math.max(abs, d);
    if (want !== 0) rel = Math.max(rel, d / Math.abs(want));
  }
  return [abs, rel];
}

function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

describe('float32 SIMD GRU gate kernel', () => {
  beforeAll(setupTf);

  it('committed wasm bytes match a fresh build of the AssemblyScript source', () => {
    // Exits 1 (and execFileSync throws) when src-shared/nn/wasm/gru-gates.wasm.ts is stale.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-wasm.mjs'), '--check'], { cwd: ROOT, stdio: 'pipe' });
  }, 180_000);

  it('exp, sigmoid and tanh: max error against Math in float64', () => {
    const FLT_EPS = 2 ** -23;
    // exp over its whole normal range: relative error (results are floats of any magnitude).
    const [, expRel] = mathError(0, grid(-87, 88, 200_001), Math.exp);
    // sigmoid and tanh where the gates live: absolute error (what h' inherits).
    const wide = grid(-40, 40, 200_001);
    const [sigAbs, sigRel] = mathError(1, wide, (x) => 1 / (1 + Math.exp(-x)));
    const [tanhAbs] = mathError(2, wide, Math.tanh);
    const [tanhAbsSmall, tanhRelSmall] = mathError(2, grid(-0.01, 0.01, 20_001), Math.tanh);
    console.log(
      `max error: exp rel ${(expRel / FLT_EPS).toFixed(2)} eps, sigmoid abs ${sigAbs.toExponential(2)} rel ${(sigRel / FLT_EPS).toFixed(2)} eps, ` +
        `tanh abs ${tanhAbs.toExponential(2)} (|x| <= 0.01: abs ${tanhAbsSmall.toExponential(2)}, rel ${(tanhRelSmall / FLT_EPS).toFixed(2)} eps)`,
    );
    expect(expRel).toBeLessThan(3 * FLT_EPS);
    expect(sigRel).toBeLessThan(4 * FLT_EPS);
    expect(sigAbs).toBeLessThan(2 * FLT_EPS);
    expect(tanhAbs).toBeLessThan(FLT_EPS);
    expect(tanhRelSmall).toBeLessThan(4 * FLT_EPS);
    // The extremes saturate instead of overflowing.
    const [extAbs] = mathError(1, Float32Array.from([-1e4, -100, 100, 1e4]), (x) => 1 / (1 + Math.exp(-x)));
    expect(extAbs).toBeLessThan(1e-37);
  });

  it.each([64, 6])('gate rows agree with the float64 reference to float32 rounding, H=%i', (H) => {
    const rows = 37;
    const rng = new Rng(5);
    const gi = Float32Array.from({ length: rows * 3 * H + 7 }, () => 3 * rng.normal());
    const gh = Float32Array.from({ length: rows * 3 * H + 3 }, () => 3 * rng.normal());
    const hp = Float32Array.from({ length: rows * H }, () => Math.tanh(rng.normal()));
    for (const prev of [hp, null]) {
      const a = new GruTrace(2, rows, H);
      const b = new GruTrace(2, rows, H);
      const ha = new Float32Array(rows * H + 5);
      const hb = new Float32Array(rows * H + 5);
      gateRows(rows, H, gi, 7, gh, 3, prev, 0, ha, 5, a, rows * H);
      gateRowsSimd(rows, H, gi, 7, gh, 3, prev, 0, hb, 5, b, rows * H);
      for (const [x, y] of [[ha, hb], [a.r, b.r], [a.z, b.z], [a.n, b.n], [a.ghn, b.ghn]] as const) {
        let m = 0;
        for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        expect(m).toBeLessThan(1e-6);
      }
      expect(hb.subarray(0, 5)).toEqual(new Float32Array(5)); // nothing written before hoOff
    }
  });

  /** Value and every gradient of sum(w * sequence(e)), from the rollout trace when given. */
  function run(gates: GruGates, G: number, N: number, T: number, B: number, I: number, H: number, useTrace: boolean): Float32Array[] {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, groups: G, gates }, new Rng(41));
    const rng = new Rng(42);
    const rows = N * B;
    const e = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    let trace: GruTrace | undefined;
    if (useTrace) {
      trace = new GruTrace(T, rows, H);
      let hp = new Float32Array(rows * H);
      for (let t = 0; t < T; t++) {
        const step = new Float32Array(rows * I);
        for (let a = 0; a < N; a++) step.set(e.subarray((a * T + t) * B * I, (a * T + t + 1) * B * I), a * B * I);
        const hn = new Float32Array(rows * H);
        tf.tidy(() => cell.stepRows(tf.tensor3d(step, [G, rows / G, I]), hp, hn, trace, t));
        hp = hn;
      }
    }
    const shape = (f: number): [number, number, number] => [G, (N * T * B) / G, f];
    const out = tf.tidy(() => {
      const eT = tf.variable(tf.tensor(e, shape(I)));
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(cell.sequence(eT, N, T, B, trace), tf.tensor(w, shape(H)))) as tf.Scalar,
        [eT, ...params.variables()],
      );
      const r = [value, grads[eT.name], ...params.variables().map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
      eT.dispose();
      return r;
    });
    params.dispose();
    // The rollout's activations too (what the R-pass and the update read).
    if (trace) out.push(trace.r.slice(), trace.z.slice(), trace.n.slice(), trace.ghn.slice(), trace.h.slice());
    return out;
  }

  it.each([
    [1, true],
    [2, false],
  ])('sequence and BPTT at the learners size (H = 64, 50 steps) agree with float64 JS, groups=%i, trace=%s', (G, useTrace) => {
    const [N, T, B, I, H] = [4, 50, 2, 16, 64];
    const ref = run('f64-js', G, N, T, B, I, H, useTrace);
    const simd = run('f32-simd', G, N, T, B, I, H, useTrace);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) {
      const scale = Math.max(1e-3, ...Array.from(ref[i], Math.abs));
      let m = 0;
      for (let k = 0; k < ref[i].length; k++) m = Math.max(m, Math.abs(ref[i][k] - simd[i][k]));
      worst = Math.max(worst, m / scale);
      expect(m / scale, `output ${i}`).toBeLessThan(2e-5);
    }
    // Different kernels: not the same bits (the option would be pointless otherwise).
    expect(ref.some((r, i) => r.some((v, k) => v !== simd[i][k]))).toBe(true);
    console.log(`f32-simd vs f64-js, G=${G}: max relative difference ${worst.toExponential(2)}`);
  });

  it.each([
    [1, 64, true],
    [1, 64, false],
    [2, 64, true],
    [2, 6, false],
    [3, 5, true],
  ])('hidden-side matmuls in the kernel give the bits of the tfjs matmuls (f32-simd vs f32-simd-tfjs-matmul), groups=%i, H=%i, trace=%s', (G, H, useTrace) => {
    const [N, T, B, I] = [G === 3 ? 3 : 4, 12, 3, 7];
    // Otherwise both runs would take the tfjs matmuls and this test could not fail.
    expect(kernelMatmul(tf, 'f32-simd')).toBe(true);
    expect(kernelMatmul(tf, 'f32-simd-tfjs-matmul')).toBe(false);
    const inTfjs = run('f32-simd-tfjs-matmul', G, N, T, B, I, H, useTrace);
    const inKernel = run('f32-simd', G, N, T, B, I, H, useTrace);
    expect(inKernel.length).toBe(inTfjs.length);
    for (let i = 0; i < inTfjs.length; i++) expect(inKernel[i], `output ${i}`).toEqual(inTfjs[i]);
  });

  it.each([
    [64, 64, 192, true, false],
    [64, 64, 192, true, true],
    [64, 192, 64, false, false],
    [9, 13, 15, true, true],
    [5, 3, 2, false, true],
    [130, 64, 7, true, false],
    // Long K, several blocks of the kernel's K loop (the weight gradients over all rows).
    [13, 1000, 20, false, false],
    [6, 600, 9, true, true],
  ])('matmul %i x %i x %i (bias %s, relu %s): the same bits as tfjs-wasm', (M, K, N, bias, relu) => {
    const rng = new Rng(M * 1000 + K * 10 + N);
    const a = Float32Array.from({ length: M * K }, () => rng.normal());
    const w = Float32Array.from({ length: K * N }, () => rng.normal() * 0.3);
    const b = Float32Array.from({ length: N }, () => rng.normal());
    // Exact zeros and negative zeros, where relu's and the sum's signs of zero show.
    a[0] = 0;
    w[1] = -0;
    const want = tf.tidy(() => {
      const x = tf.tensor3d(a, [1, M, K]);
      const y = tf.tensor3d(w, [1, K, N]);
      if (!bias) return (relu ? tf.relu(tf.matMul(x, y)) : tf.matMul(x, y)).dataSync() as Float32Array;
      const attrs = { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear', leakyreluAlpha: 0.2 };
      return (tf.engine().runKernel('_FusedMatMul', { a: x, b: y, bias: tf.tensor1d(b) }, attrs as never) as tf.Tensor).dataSync() as Float32Array;
    });
    const Kk = gateKernel();
    const [pa, pw, pb, po] = Kk.layout(M * K, K * N, N, M * N);
    // Garbage below the first array and in the output: a kernel that read either would show.
    Kk.f32(0, pa / 4).fill(1e3);
    Kk.f32(po, M * N).fill(Number.NaN);
    Kk.f32(pa, M * K).set(a);
    Kk.f32(pw, K * N).set(w);
    Kk.f32(pb, N).set(b);
    Kk.k.matmul(M, K, N, pa, pw, bias ? pb : 0, po, relu ? 1 : 0);
    expect(Kk.f32(po, M * N)).toEqual(Float32Array.from(want));
  });

  it.each([
    [64, 64, 192],
    [11, 360, 64],
    [64, 3000, 192],
    [37, 600, 3],
    [5, 2, 13],
  ])('matmulAT %i x %i x %i (a stored transposed): the same bits as tfjs-wasm on the transpose', (M, K, N) => {
    const rng = new Rng(M * 7 + K * 3 + N);
    const aT = Float32Array.from({ length: K * M }, () => rng.normal());
    const w = Float32Array.from({ length: K * N }, () => rng.normal() * 0.3);
    // Exact zeros and negative zeros (whole zero rows: the R-pass's shifted first step).
    aT.fill(0, 0, M);
    aT.fill(-0, M, 2 * M);
    w[1] = -0;
    const a = new Float32Array(M * K);
    for (let k = 0; k < K; k++) for (let i = 0; i < M; i++) a[i * K + k] = aT[k * M + i];
    const want = tf.tidy(() => tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(w, [K, N])).dataSync() as Float32Array);
    const Kk = gateKernel();
    const [pa, pw, po] = Kk.layout(K * M, K * N, M * N);
    Kk.f32(po, M * N).fill(Number.NaN);
    Kk.f32(pa, K * M).set(aT);
    Kk.f32(pw, K * N).set(w);
    Kk.k.matmulAT(M, K, N, pa, pw, po);
    const got = Kk.f32(po, M * N);
    expect(Array.from(new Uint32Array(got.buffer, got.byteOffset, got.length))).toEqual(Array.from(new Uint32Array(Float32Array.from(want).buffer)));
  });

  it.each([
    [1, 'relu'],
    [2, 'relu'],
    [1, 'linear'],
  ] as const)('the actor step in the kernel gives the bits of the tfjs layers, groups=%i, %s', (G, activation) => {
    const spec = { obsSize: 11, numActions: 5 } as EnvSpec;
    const [rows, H, T] = [12, 64, 6];
    const make = (gruGates: GruGates) => new RecurrentActor(tf, spec, { hiddenDim: H, activation, gruGates }, G, new Rng(77));
    const ref = make('f32-simd-tfjs-matmul');
    const ker = make('f32-simd');
    expect(ker.gru.actorStep(activation)).not.toBeNull();
    expect(ref.gru.actorStep(activation)).toBeNull();
    const rng = new Rng(78);
    const run = (actor: RecurrentActor, x: Float32Array[], step: (t: number) => void) => {
      const trace = new GruTrace(T, rows, H);
      let [hp, hn] = [new Float32Array(rows * H), new Float32Array(rows * H)];
      const logits: Float32Array[] = [];
      for (let t = 0; t < T; t++) {
        step(t);
        logits.push(t % 2 ? actor.stepLogits(x[t], hp, hn, trace, t) : tf.tidy(() => actor.stepLogits(tf.tensor3d(x[t], [G, rows / G, 11]), hp, hn, trace, t)));
        [hp, hn] = [hn, hp];
      }
      return [...logits, trace.r, trace.z, trace.n, trace.ghn, trace.h];
    };
    const xs = Array.from({ length: T }, () => Float32Array.from({ length: rows * 11 }, () => rng.normal()));
    // Between steps: new weights (the cached copy must be replaced) and another user of the
    // kernel's memory (the cached copy must not be trusted after it).
    const perturb = (actor: RecurrentActor) => (t: number) => {
      if (t === 2) actor.head.bias.assign(tf.add(actor.head.bias, 0.5));
      if (t === 3) actor.gru.weightHh.assign(tf.mul(actor.gru.weightHh, 1.1));
      if (t === 4) gateKernel().layout(1 << 16).forEach((p) => gateKernel().f32(p, 1 << 16).fill(7));
    };
    const a = run(ref, xs, perturb(ref));
    const b = run(ker, xs, perturb(ker));
    for (let i = 0; i < a.length; i++) expect(b[i], `output ${i}`).toEqual(a[i]);
    ref.params.dispose();
    ker.params.dispose();
  });

  it.each([
    [1, 'relu', 'f32-simd-tfjs-matmul', 0, true],
    [1, 'relu', 'f32-simd', 0, true],
    [2, 'relu', 'f32-simd-tfjs-matmul', 0, true],
    [1, 'linear', 'f32-simd-tfjs-matmul', 0, true],
    [1, 'relu', 'f32-simd-tfjs-matmul', 0.3, true],
    [3, 'relu', 'f32-simd', 0, true],
    // Without the rollout's trace (COMA's replayed episodes): the GRU's forward in the op too.
    [1, 'relu', 'f32-simd-tfjs-matmul', 0, false],
    [2, 'relu', 'f32-simd', 0, false],
    [1, 'linear', 'f32-simd', 0.3, false],
  ] as const)('the training pass in the kernel gives the bits of the tfjs layers (logits, loss, all 8 gradients), groups=%i, %s, against %s, eps %f, trace %s', (G, activation, refGates, eps, useTrace) => {
    const spec = { obsSize: 11, numActions: 5 } as EnvSpec;
    const [N, T, B, H, O, A] = [G === 3 ? 3 : 2, 9, 5, 64, 11, 5];
    const rows = N * B;
    const m = (N * T * B) / G;
    const rng = new Rng(91 + G);
    const xs = Array.from({ length: T }, () => Float32Array.from({ length: rows * O }, () => rng.normal()));
    // [N][T][B] rows for the update (what timeToGroup makes of the rollout's [T][N][B]).
    const X = new Float32Array(N * T * B * O);
    for (let t = 0; t < T; t++) for (let r = 0; r < rows; r++) X.set(xs[t].subarray(r * O, (r + 1) * O), ((Math.floor(r / B) * T + t) * B + (r % B)) * O);
    // Loss weights with zeros and a masked action, as PG's coefficients and availability.
    const C = Float32Array.from({ length: G * m * A }, (_, i) => (i % 3 === 0 ? 0 : rng.normal()));
    const avail = Float32Array.from({ length: G * m * A }, (_, i) => (i % 7 === 3 ? 0 : 1));
    const run = (gates: GruGates, fused: boolean) => {
      kernelPaths.actorSequence = fused;
      try {
        const actor = new RecurrentActor(tf, spec, { hiddenDim: H, activation, gruGates: gates }, G, new Rng(5));
        const trace = new GruTrace(T + 2, rows, H);
        let [hp, hn] = [new Float32Array(rows * H), new Float32Array(rows * H)];
        for (let t = 0; t < T; t++) {
          actor.stepLogits(xs[t], hp, hn, trace, t);
          [hp, hn] = [hn, hp];
        }
        const out: Float32Array[] = [];
        const { value, grads } = tf.tidy(() => {
          const Xt = tf.tensor3d(X, [G, m, O]);
          const Ct = tf.tensor3d(C, [G, m, A]);
          const At = tf.tensor3d(avail, [G, m, A]);
          return actor.params.grads(() => {
            const logits = actor.sequenceLogits(Xt, N, T, B, useTrace ? trace : undefined);
            out.push(logits.dataSync() as Float32Array);
            // Another user of the kernel's memory between forward and backward.
            gateKernel().layout(1 << 16).forEach((p) => gateKernel().f32(p, 1 << 16).fill(7));
            return tf.neg(tf.sum(tf.mul(Ct, maskedLogProbs(tf, logits, At, eps)))) as never;
          }) as never;
        }) as { value: number; grads: Record<string, tf.Tensor> };
        out.push(Float32Array.of(value));
        for (const name of actor.params.names()) {
          out.push(grads[name].dataSync() as Float32Array);
          grads[name].dispose();
        }
        actor.params.dispose();
        return out;
      } finally {
        kernelPaths.actorSequence = true;
      }
    };
    const ker = run('f32-simd', true);
    const ref = run(refGates, false);
    // The fused pass ran (a fallback to the reference would make this test unable to fail).
    expect(new RecurrentActor(tf, spec, { hiddenDim: H, activation, gruGates: 'f32-simd' }, G, new Rng(5)).gru.actorSequence(activation)).not.toBeNull();
    expect(ker.length).toBe(10);
    for (let i = 0; i < ref.length; i++) expect(ker[i], `output ${i}`).toEqual(ref[i]);
  });

  it("the actor's training op keeps one own trace per row count: alternating two batch sizes (COMA's split update) reuses both, same bits", () => {
    const spec = { obsSize: 6, numActions: 4 } as EnvSpec;
    const [N, T, H, O] = [2, 7, 16, 6];
    const actor = new RecurrentActor(tf, spec, { hiddenDim: H, activation: 'relu', gruGates: 'f32-simd' }, 1, new Rng(41));
    const kernel = actor.gru.actorSequence('relu')!;
    expect(kernel).not.toBeNull();
    const rng = new Rng(42);
    const xOf = (B: number) => Float32Array.from({ length: N * T * B * O }, () => rng.normal());
    const pass = (X: Float32Array, B: number): Float32Array[] => {
      const { value, grads } = tf.tidy(() => {
        const Xt = tf.tensor3d(X, [1, N * T * B, O]);
        return actor.params.grads(() => tf.sum(tf.square(actor.sequenceLogits(Xt, N, T, B))) as never) as never;
      }) as { value: number; grads: Record<string, tf.Tensor> };
      const out: Float32Array[] = [Float32Array.of(value)];
      for (const name of actor.params.names()) {
        out.push(grads[name].dataSync() as Float32Array);
        grads[name].dispose();
      }
      return out;
    };
    const kept = () => (kernel as unknown as { traces: { kept(): GruTrace[] } }).traces.kept();
    const [x3, x2] = [xOf(3), xOf(2)];
    const first3 = pass(x3, 3);
    const tr3 = kept()[0];
    const first2 = pass(x2, 2);
    expect(pass(x3, 3)).toEqual(first3);
    expect(pass(x2, 2)).toEqual(first2);
    expect(kept().map((t) => t.rows)).toEqual([N * 3, N * 2]);
    expect(kept()[0]).toBe(tr3);
    actor.params.dispose();
  });

  it.each([
    ['relu', [7, 64, 64, 1]],
    ['relu', [5, 9, 6, 3]],
    ['linear', [7, 64, 64, 1]],
  ] as const)("PG's critic step in the kernel gives the bits of the tfjs layers (values, loss, all gradients), %s, sizes %j", (activation, sizes) => {
    const R = 53;
    const rng = new Rng(313);
    const X = [0, 1].map(() => Float32Array.from({ length: R * sizes[0] }, () => rng.normal()));
    const Gt = [0, 1].map(() => Float32Array.from({ length: R * sizes[3] }, () => rng.normal()));
    const Mt = [0, 1].map(() => Float32Array.from({ length: R * sizes[3] }, (_, i) => (i % 5 === 0 ? 0 : 1)));
    const run = (kernel: boolean) => {
      const params = new ParamSet(tf);
      const init = new Rng(314);
      const critics = [0, 1].map((a) => new Mlp(tf, params, `critic/${a}`, [...sizes], activation, 1, init));
      const out: Float32Array[] = [];
      const { value, grads } = params.grads(() => {
        let loss: tf.Tensor = tf.scalar(0);
        for (let a = 0; a < 2; a++) {
          const x = tf.tensor3d(X[a], [1, R, sizes[0]]);
          const v = kernel ? critics[a].forwardKernel(x)! : critics[a].forward(x, false);
          out.push(v.dataSync() as Float32Array);
          loss = tf.add(loss, tf.sum(tf.mul(tf.tensor3d(Mt[a], [1, R, sizes[3]]), tf.square(tf.sub(v, tf.tensor3d(Gt[a], [1, R, sizes[3]]))))));
        }
        // Another user of the kernel's memory before the backward.
        gateKernel().layout(1 << 16).forEach((p) => gateKernel().f32(p, 1 << 16).fill(7));
        return tf.div(loss, 40) as never;
      });
      out.push(Float32Array.of(value));
      for (const name of params.names()) out.push(grads[name].dataSync() as Float32Array);
      params.dispose();
      return out;
    };
    const a = run(false);
    const b = run(true);
    expect(b.length).toBe(3 + 2 * 2 * 3);
    for (let i = 0; i < a.length; i++) expect(b[i], `output ${i}`).toEqual(a[i]);
  });

  it('same inputs give the same bits (deterministic)', () => {
    const a = run('f32-simd', 2, 2, 9, 3, 5, 8, true);
    const b = run('f32-simd', 2, 2, 9, 3, 5, 8, true);
    for (let i = 0; i < a.length; i++) expect(b[i]).toEqual(a[i]);
  });

  it('an unknown gates value is an error naming the allowed values', () => {
    const params = new ParamSet(tf);
    expect(() => new GRUCell(tf, params, 'g', { inputSize: 2, hiddenSize: 4, gates: 'f16' as never }, new Rng(1))).toThrow(/gates must be one of f32-simd, f64-js, f32-simd-tfjs-matmul/);
    params.dispose();
    for (const id of ['pg', 'coma']) {
      const schema = getAlgo(id)!.schema;
      expect(resolve('algo', schema, {}).gruGates).toBe('f32-simd');
      expect(() => resolve('algo', schema, { gruGates: 'f16' })).toThrow(/gruGates[\s\S]*one of f32-simd, f64-js, f32-simd-tfjs-matmul/);
    }
  });
});
