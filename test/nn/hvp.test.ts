import { beforeAll, describe, expect, it } from 'vitest';
import { RecurrentActor, tapeLogits } from '../../src-shared/algos/recurrent-actor';
import type { EnvSpec } from '../../src-shared/envs/types';
import { maskedLogProbs } from '../../src-shared/nn/categorical';
import {
  SECOND_ORDER_KERNELS,
  doubleBackprop,
  hessianVectorProduct,
  registerSecondOrderGradients,
  secondOrderOps,
} from '../../src-shared/nn/hvp';
import { Mlp, type Activation } from '../../src-shared/nn/mlp';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.float());
}

/**
 * Central differences of the first-order gradient along v: (grad f(theta + eps v) -
 * grad f(theta - eps v)) / 2 eps, with `gradOf` computing the gradient however it likes.
 */
function fdHvp(vars: tf.Variable[], v: Float32Array[], eps: number, gradOf: () => Float32Array[]): Float32Array[] {
  const base = vars.map((x) => Float32Array.from(x.dataSync() as Float32Array));
  const at = (s: number): Float32Array[] => {
    vars.forEach((x, i) => {
      const t = tf.tensor(base[i].map((b, k) => b + s * eps * v[i][k]), x.shape);
      x.assign(t);
      t.dispose();
    });
    return gradOf();
  };
  const plus = at(1);
  const minus = at(-1);
  vars.forEach((x, i) => {
    const t = tf.tensor(base[i], x.shape);
    x.assign(t);
    t.dispose();
  });
  return plus.map((p, i) => p.map((pk, k) => (pk - minus[i][k]) / (2 * eps)));
}

/** First-order gradients as arrays (tf.variableGrads, through whatever custom gradients f uses). */
function gradArrays(f: () => tf.Scalar, vars: tf.Variable[]): Float32Array[] {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(f, vars);
    return vars.map((x) => Float32Array.from(grads[x.name].dataSync() as Float32Array));
  });
}

function hvpArrays(f: () => tf.Scalar, vars: tf.Variable[], v: Float32Array[]): Float32Array[] {
  const vt = v.map((vi, i) => tf.tensor(vi, vars[i].shape));
  const { hvp } = hessianVectorProduct(tf, f, vars, vt);
  const out = hvp.map((h) => Float32Array.from(h.dataSync() as Float32Array));
  hvp.forEach((h) => h.dispose());
  vt.forEach((t) => t.dispose());
  return out;
}

/** |analytic - numeric| <= atol + rtol * max|numeric|, over all parts. */
function expectClose(analytic: Float32Array[], numeric: Float32Array[], rtol: number): void {
  let scale = 0;
  for (const n of numeric) for (const x of n) scale = Math.max(scale, Math.abs(x));
  expect(scale).toBeGreaterThan(1e-3); // the product is not trivially zero
  analytic.forEach((a, i) => {
    expect(maxAbsDiff(a, numeric[i]), `part ${i} (scale ${scale})`).toBeLessThan(rtol * scale);
  });
}

describe('Hessian-vector products (double backprop) vs finite differences of the gradient', () => {
  beforeAll(async () => {
    await setupTf();
    registerSecondOrderGradients(tf);
  });

  it('registers a gradient for every second-order kernel', () => {
    for (const k of SECOND_ORDER_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
  });

  it.each([
    ['exp', (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => so.exp(x)],
    ['sigmoid', (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => so.sigmoid(x)],
    ['tanh', (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => so.tanh(x)],
    ['logSoftmax', (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => so.logSoftmax(x)],
    ['maskedLogProbs eps 0.2', (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => so.maskedLogProbs(x, tf.tensor2d([[1, 1, 0], [1, 1, 1]]), 0.2)],
  ] as [string, (so: ReturnType<typeof secondOrderOps>, x: tf.Tensor) => tf.Tensor][])('so.%s: H v of sum(c * op(W x))', (name, op) => {
    const so = secondOrderOps(tf);
    const rng = new Rng(3, name.length);
    const w = tf.variable(tf.tensor2d(rand(rng, 6), [2, 3]));
    const x = tf.tensor2d(rand(rng, 4, -2, 2), [2, 2]);
    const c = tf.tensor2d(rand(rng, 6), [2, 3]);
    const f = () => tf.sum(tf.mul(c, op(so, tf.matMul(x, w)))) as tf.Scalar;
    const v = [rand(rng, 6)];
    expectClose(hvpArrays(f, [w], v), fdHvp([w], v, 1e-2, () => gradArrays(f, [w])), 3e-3);
    w.dispose();
    x.dispose();
    c.dispose();
  });

  it('the tfjs ops that reuse a saved output lose second-order terms (why so.* exists)', () => {
    const w = tf.variable(tf.tensor1d([0.3, -0.5, 0.8]));
    const v = [Float32Array.from([1, 2, -1])];
    for (const f of [() => tf.sum(tf.tanh(w)) as tf.Scalar, () => tf.sum(tf.exp(w)) as tf.Scalar]) {
      expect(Math.max(...hvpArrays(f, [w], v)[0].map(Math.abs))).toBe(0);
      expect(Math.max(...fdHvp([w], v, 1e-2, () => gradArrays(f, [w]))[0].map(Math.abs))).toBeGreaterThan(0.1);
    }
    w.dispose();
  });

  it.each(['gelu', 'relu'] as Activation[])('tiny MLP 4 -> 6 -> 3 with %s, log-softmax objective', (act) => {
    const so = secondOrderOps(tf);
    const rng = new Rng(5, act.length);
    const params = new ParamSet(tf);
    const mlp = new Mlp(tf, params, 'm', [4, 6, 3], act, 1, rng);
    const x = tf.tensor3d(rand(rng, 5 * 4, -2, 2), [1, 5, 4]);
    const c = tf.tensor3d(rand(rng, 5 * 3), [1, 5, 3]);
    const f = () => tf.sum(tf.mul(c, so.logSoftmax(mlp.forward(x)))) as tf.Scalar;
    const vars = params.variables();
    const v = vars.map((p) => rand(rng, p.size));
    const before = tf.memory().numTensors;
    const analytic = hvpArrays(f, vars, v);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(analytic, fdHvp(vars, v, 1e-2, () => gradArrays(f, vars)), 3e-3);
    x.dispose();
    c.dispose();
    params.dispose();
  });

  it.each([
    ['shared actor (G = 1), relu', 1, 'relu'],
    ['per-agent actors (G = 2), gelu', 2, 'gelu'],
  ] as [string, number, Activation][])('GRU policy, %s: tape double backprop vs differences of the fused BPTT gradient', (_n, G, act) => {
    // Actor obs 4 -> H 5 -> GRU 5 -> 3 actions, R = 3 sequences of T = 4 steps per group.
    const O = 4;
    const A = 3;
    const T = 4;
    const R = 3;
    const spec = { obsSize: O, numActions: A } as EnvSpec;
    const rng = new Rng(9, G);
    const actor = new RecurrentActor(tf, spec, { hiddenDim: 5, activation: act }, G, rng);
    const x = tf.tensor3d(rand(rng, G * T * R * O, -1.5, 1.5), [G, T * R, O]);
    const mask = new Float32Array(G * T * R * A).fill(1);
    for (let i = 0; i < G * T * R; i += 4) mask[i * A + 2] = 0; // some unavailable actions
    const avail = tf.tensor3d(mask, [G, T * R, A]);
    const c = tf.tensor3d(rand(rng, G * T * R * A).map((w, i) => w * mask[i]), [G, T * R, A]);
    const vars = actor.params.variables();
    const so = secondOrderOps(tf);
    const tapeF = () => tf.sum(tf.mul(c, so.maskedLogProbs(tapeLogits(tf, actor.weights(), x, T, act), avail, 0.1))) as tf.Scalar;
    // The fused op, N = G agents of B = R copies: [N][T][B] rows = the tape's [G][t][r] rows.
    const fusedF = () => tf.sum(tf.mul(c, maskedLogProbs(tf, actor.sequenceLogits(x, G, T, R), avail, 0.1))) as tf.Scalar;
    // Same forward values on both paths.
    const [vt, vf] = tf.tidy(() => [tapeF().dataSync()[0], fusedF().dataSync()[0]]);
    expect(Math.abs(vt - vf)).toBeLessThan(1e-5 * (1 + Math.abs(vf)));
    const v = vars.map((p) => rand(rng, p.size));
    const before = tf.memory().numTensors;
    const analytic = hvpArrays(tapeF, vars, v);
    expect(tf.memory().numTensors).toBe(before);
    // eps 3e-3: small enough that no ReLU unit changes sides (1e-2 crosses a kink here).
    expectClose(analytic, fdHvp(vars, v, 3e-3, () => gradArrays(fusedF, vars)), 2e-3);
    x.dispose();
    avail.dispose();
    c.dispose();
    actor.params.dispose();
  });

  it('through the fused GRU op the product is wrong (why the tape path exists)', () => {
    const so = secondOrderOps(tf);
    const spec = { obsSize: 3, numActions: 2 } as EnvSpec;
    const rng = new Rng(2);
    const actor = new RecurrentActor(tf, spec, { hiddenDim: 4, activation: 'relu' }, 1, rng);
    const x = tf.tensor3d(rand(rng, 3 * 2 * 3), [1, 6, 3]);
    const c = tf.tensor3d(rand(rng, 6 * 2), [1, 6, 2]);
    const vars = actor.params.variables();
    const v = vars.map((p) => rand(rng, p.size));
    const f = (fused: boolean) => () =>
      tf.sum(tf.mul(c, so.logSoftmax(fused ? actor.sequenceLogits(x, 1, 3, 2) : tapeLogits(tf, actor.weights(), x, 3, 'relu')))) as tf.Scalar;
    const numeric = fdHvp(vars, v, 3e-3, () => gradArrays(f(true), vars));
    expectClose(hvpArrays(f(false), vars, v), numeric, 2e-3);
    const fused = hvpArrays(f(true), vars, v);
    const whh = actor.params.names().indexOf('gru/weight_hh');
    expect(maxAbsDiff(fused[whh], numeric[whh])).toBeGreaterThan(1e-2);
    x.dispose();
    c.dispose();
    actor.params.dispose();
  });

  it('doubleBackprop: an inner gradient w.r.t. derived tensors stays differentiable', () => {
    // f(w) = sum((u . w)^2) with u = [w, w] stacked; grad_u f . psi, differentiated w.r.t. w.
    const w = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const psi = tf.tensor1d([1, 2, 3, -1, 0.5, 0]);
    const { grads } = doubleBackprop(tf, [w], (grad) => {
      const u = tf.concat([w, w]);
      const y = tf.square(tf.sum(tf.mul(u, tf.tensor1d([1, 1, 1, 2, 2, 2])))) as tf.Scalar;
      const [gu] = grad(y, [u]);
      return tf.sum(tf.mul(gu, psi)) as tf.Scalar;
    });
    // y = (3 sum w)^2, dy/du_k = 2 (3 sum w) a_k, sum_k psi_k dy/du_k = 6 sum(w) (psi . a),
    // d/dw_i = 6 (psi . a) = 6 * (1 + 2 + 3 - 2 + 1 + 0) = 30.
    expect(Array.from(grads[0].dataSync())).toEqual([30, 30, 30]);
    grads[0].dispose();
    w.dispose();
    psi.dispose();
  });
});
