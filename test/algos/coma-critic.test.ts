/**
 * COMA's tape-free critic step (src-shared/algos/coma-critic.ts) against the taped step it
 * replaced: the same bytes for Q, loss and every gradient, and whole trainers with either path
 * giving the same statistics, episodes and checkpoint bytes (wasm backend, as the golden
 * series).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { comaEntry } from '../../src-shared/algos/coma';
import {
  ComaCriticWork,
  comaCriticPath,
  disposePass,
  explicitCriticApplies,
  explicitCriticGrads,
  forwardRows,
  tdLossGrad,
} from '../../src-shared/algos/coma-critic';
import { Mlp } from '../../src-shared/nn/mlp';
import { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { Rng } from '../../src-shared/rng';
import { build, episodeSummary, setupTf, tf } from './helpers';

beforeAll(setupTf);
afterEach(() => {
  comaCriticPath.reference = false;
});

const bytes = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer).toString('hex');

/** Inputs of one critic step: rows of F features (some exact zeros, as one-hot blocks have). */
function problem(rows: number, F: number, A: number, seed: number) {
  const rng = new Rng(seed, 1);
  const feats = new Float32Array(rows * F);
  for (let i = 0; i < feats.length; i++) feats[i] = rng.float() < 0.3 ? 0 : Math.round(rng.float() * 20 - 5) / 2;
  const targets = new Float32Array(rows);
  for (let i = 0; i < rows; i++) targets[i] = rng.float() * 4 - 2;
  const masks = new Float32Array(rows);
  const acts = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    masks[i] = rng.float() < 0.8 ? 1 : 0;
    acts[i] = rng.int(A);
  }
  return { feats, targets, masks, acts };
}

/** The taped step exactly as coma.ts ran it before (and still runs with the reference path). */
function tapedStep(mlp: Mlp, params: ParamSet, p: ReturnType<typeof problem>, F: number, A: number, r0: number, n: number, count: number) {
  const w = new Float32Array(n * A);
  for (let i = 0; i < n; i++) if (p.masks[r0 + i]) w[i * A + p.acts[r0 + i]] = 1 / count;
  let held: Tensor | null = null;
  const { value, grads } = tf.tidy(() => {
    const X = tf.tensor3d(p.feats.subarray(r0 * F, (r0 + n) * F), [1, n, F]);
    const W = tf.tensor3d(w, [1, n, A]);
    const Y = tf.tensor3d(p.targets.subarray(r0, r0 + n), [1, n, 1]);
    return params.grads(() => {
      const q = mlp.forward(X, false);
      held = tf.keep(q);
      return tf.sum(tf.mul(W, tf.square(tf.sub(q, Y)))) as never;
    }) as never;
  }) as { value: number; grads: Record<string, Tensor> };
  const q = held as unknown as Tensor;
  const qv = Float32Array.from(q.dataSync() as Float32Array);
  q.dispose();
  return { value, grads, q: qv };
}

describe('COMA critic step without the tape', () => {
  it.each([
    ['paper sizes, one slot of rows after (shared target forward)', 27, 64, 6, 600, 64, 0],
    ['centralised width, no extra rows, a step in the middle', 71, 32, 5, 300, 0, 120],
  ])('%s: Q, loss and gradients are the taped step\'s bytes', (_name, F, H, A, n, extra, r0) => {
    const params = new ParamSet(tf);
    const mlp = new Mlp(tf, params, 'critic', [F, H, H, A], 'relu', 1, new Rng(3, 2));
    expect(explicitCriticApplies(mlp)).toBe(true);
    const total = r0 + n + extra;
    const p = problem(total, F, A, 7);
    let count = 0;
    for (let i = r0; i < r0 + n; i++) count += p.masks[i];
    const ref = tapedStep(mlp, params, p, F, A, r0, n, count);
    const work = new ComaCriticWork(total, A);
    const fw = forwardRows(tf, mlp, p.feats, F, r0, n, work, extra);
    expect(bytes(fw.q.subarray(0, n * A))).toBe(bytes(ref.q));
    if (extra > 0) {
      // The extra rows' Q is what a forward over all rows (the target's infer) gives.
      const all = tf.tidy(() => Float32Array.from(mlp.infer(tf.tensor3d(p.feats.subarray(r0 * F, (r0 + n + extra) * F), [1, n + extra, F])).dataSync() as Float32Array));
      expect(bytes(fw.q)).toBe(bytes(all));
    }
    const got = explicitCriticGrads(tf, mlp, params, 'critic', fw.pass, r0, n, p.targets, p.masks, p.acts, count, work);
    disposePass(fw.pass);
    expect(got.value).toBe(ref.value);
    expect(Object.keys(got.grads)).toEqual(Object.keys(ref.grads));
    for (const [k, g] of Object.entries(ref.grads)) {
      expect(got.grads[k].shape, k).toEqual(g.shape);
      expect(bytes(got.grads[k].dataSync() as Float32Array), k).toBe(bytes(g.dataSync() as Float32Array));
    }
    for (const g of [...Object.values(ref.grads), ...Object.values(got.grads)]) g.dispose();
    params.dispose();
  });

  it('dL/dQ is W * 2 (Q - y) in float32 with the sign of zero the tape gives; db its column sums', () => {
    // Two rows, A = 2; row 1 masked out. count = 1, W = 1 on row 0's action 1.
    const q = Float32Array.from([0.5, 3, -1, 2]);
    const dq = new Float32Array(4);
    const db = new Float32Array(2);
    const loss = tdLossGrad(q, Float32Array.from([1, 5]), Float32Array.from([1, 0]), Int32Array.from([1, 0]), 0, 2, 2, 1, dq, db);
    expect(loss).toBe(4); // (3 - 1)^2
    expect(Array.from(dq)).toEqual([-0, 4, -0, -0]); // 0 * 2 * (negative) is -0, as Mul/Square's gradients give
    expect(Object.is(dq[0], -0)).toBe(true);
    expect(Array.from(db)).toEqual([0, 4]);
  });

  it('GELU critics and the reference switch take the taped step', () => {
    const params = new ParamSet(tf);
    const gelu = new Mlp(tf, params, 'g', [4, 8, 3], 'gelu', 1, new Rng(1, 1));
    const relu = new Mlp(tf, params, 'r', [4, 8, 3], 'relu', 1, new Rng(1, 1));
    expect(explicitCriticApplies(gelu)).toBe(false);
    comaCriticPath.reference = true;
    expect(explicitCriticApplies(relu)).toBe(false);
    params.dispose();
  });
});

describe('COMA trainer: tape-free and taped critic steps give the same run', () => {
  const SMALL = { numEnvs: 3, env: { episodeLimit: 25, obsLastAction: true } };
  it.each([
    ['paper defaults (buffer, target in step: shared forward)', {}],
    ['on-policy, centralised critic with last actions', { bufferSize: 0, criticInput: 'centralised', criticLastActions: true }],
    ['per-step-reverse critic, terminated-sum bootstrap, two updates per round', { criticUpdate: 'per-step-reverse', criticBootstrap: 'terminated-sum', updatesPerRound: 2, bufferSize: 6, batchSize: 2 }],
    ['target every 30 critic steps (out of step between copies), team reward', { targetUpdateCriticSteps: 30, reward: 'team', bufferSize: 6, batchSize: 3 }],
  ])('%s', async (_name, algo) => {
    const run = async (reference: boolean) => {
      comaCriticPath.reference = reference;
      const { trainer } = build(comaEntry, { ...SMALL, seed: 21, algo: { ...algo, lr: 1e-3, criticLr: 1e-3 } });
      const rounds: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await trainer.round();
        rounds.push(JSON.stringify(r.stats) + episodeSummary(r.episodes));
      }
      const ckpt = await trainer.save();
      const params: Record<string, string> = {};
      for (const [k, t] of Object.entries(ckpt.tensors)) params[k] = bytes(t.data);
      trainer.dispose();
      return { rounds, params };
    };
    const taped = await run(true);
    const explicit = await run(false);
    expect(explicit.rounds).toEqual(taped.rounds);
    expect(Object.keys(explicit.params).sort()).toEqual(Object.keys(taped.params).sort());
    for (const [k, v] of Object.entries(taped.params)) expect(explicit.params[k], k).toBe(v);
    // The critic learned: otherwise equality would prove nothing.
    expect(taped.rounds[0]).not.toEqual(taped.rounds[3]);
  });
});
