/**
 * SAF (algos/saf.ts): the attention blocks, the pool's selection and mixture, and a tiny
 * PPO update on Manitokan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attend, SafNet, safEntry, safSchema } from '../../src-shared/algos/saf';
import { resolve } from '../../src-shared/config/schema';
import { manitokanEntry } from '../../src-shared/envs/manitokan';
import { Rng } from '../../src-shared/rng';
import { build, setupTf, tf } from './helpers';

const SMALL = { hiddenDim: 16, stateDim: 8, epochs: 2, minibatches: 2 };

describe('SAF', () => {
  beforeAll(setupTf);

  it('attention: output [U, Q, D], weights [U, Q, X] each summing to 1 over the keys', () => {
    const rng = new Rng(1);
    const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const [U, Q, X, D] = [3, 4, 2, 5];
    const q = tf.tensor3d(r(U * Q * D), [U, Q, D]);
    const k = tf.tensor3d(r(U * X * D), [U, X, D]);
    const v = tf.tensor3d(r(U * X * D), [U, X, D]);
    const { out, weights } = attend(tf, q, k, v);
    expect(out.shape).toEqual([U, Q, D]);
    expect(weights.shape).toEqual([U, Q, X]);
    const w = weights.arraySync() as number[][][];
    for (const row of w.flat()) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // By hand for one query: softmax(q.k / sqrt D) v.
    const qa = q.arraySync() as number[][][];
    const ka = k.arraySync() as number[][][];
    const va = v.arraySync() as number[][][];
    const s = ka[1].map((kk) => kk.reduce((acc, x, d) => acc + x * qa[1][2][d], 0) / Math.sqrt(D));
    const e = s.map((x) => Math.exp(x - Math.max(...s)));
    const z = e.reduce((a, b) => a + b, 0);
    const want = Array.from({ length: D }, (_, d) => e.reduce((acc, ei, x) => acc + (ei / z) * va[1][x][d], 0));
    const got = (out.arraySync() as number[][][])[1][2];
    got.forEach((g, d) => expect(g).toBeCloseTo(want[d], 5));
    tf.dispose([q, k, v, out, weights]);
  });

  it('selection: weights sum to 1; the mixture is a masked distribution; a dominant slot key picks its policy', () => {
    const spec = manitokanEntry.spec(resolve('env', manitokanEntry.schema, {}));
    const cfg = resolve('algo', safSchema, SMALL) as never;
    const net = new SafNet(tf, { O: 27, W: 3, Hh: 3, C: 3, P: 4, Kc: 12, E: 0 }, cfg, spec.numActions, new Rng(2));
    const U = 3;
    const N = 2;
    const M = U * N;
    const rng = new Rng(3);
    const patches = tf.tensor2d(Float32Array.from({ length: M * 4 * 12 }, () => rng.int(11)), [M * 4, 12]);
    const maskData = new Float32Array(M * 6).fill(1);
    for (let r = 0; r < M; r += 2) maskData[r * 6 + 4] = maskData[r * 6 + 5] = 0; // drop/toggle unavailable
    const mask = tf.tensor2d(maskData, [M, 6]);
    const out = net.forward(patches, null, mask, U, N);
    const sel = out.selection.arraySync() as number[][];
    const probs = out.probs.arraySync() as number[][];
    expect(out.value.shape).toEqual([M]);
    sel.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
    probs.forEach((row, r) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      if (r % 2 === 0) expect([row[4], row[5]]).toEqual([0, 0]);
    });
    // Zero keys: a uniform selection.
    const keys = net.params.get('pool/keys');
    const D = 8;
    keys.assign(tf.zeros([4, D]));
    const uni = net.forward(patches, null, mask, U, N);
    for (const row of uni.selection.arraySync() as number[][]) row.forEach((x) => expect(x).toBeCloseTo(0.25, 6));
    // A constant query u = tanh(0.5) and slot key 2 = 100 u: every agent selects policy 2, so
    // the other policies' outputs no longer matter.
    net.params.get('policy_proj/weight').assign(tf.zeros([1, 2 * D, D]));
    net.params.get('policy_proj/bias').assign(tf.fill([D], 0.5));
    const u = Math.tanh(0.5);
    keys.assign(tf.tensor2d(Array.from({ length: 4 }, (_, i) => new Array<number>(D).fill(i === 2 ? 100 * u : 0)), [4, D]));
    const picked = net.forward(patches, null, mask, U, N);
    for (const row of picked.selection.arraySync() as number[][]) expect(row[2]).toBeGreaterThan(0.999999);
    const head = net.params.get('pool/policy/2/bias');
    const hb = Array.from(head.dataSync());
    head.assign(tf.tensor1d(hb.map((x, i) => (Math.floor(i / 6) === 2 ? x : x + 5 * ((i % 6) - 2)))));
    const other = net.forward(patches, null, mask, U, N);
    const pa = picked.probs.arraySync() as number[][];
    (other.probs.arraySync() as number[][]).forEach((row, r) => row.forEach((x, a) => expect(x).toBeCloseTo(pa[r][a], 5)));
    tf.dispose([uni.probs, uni.value, uni.selection, picked.probs, picked.value, picked.selection, other.probs, other.value, other.selection]);
    tf.dispose([patches, mask, out.probs, out.value, out.selection]);
    net.params.dispose();
  });

  it('one tiny PPO update: finite stats, parameters move, deterministic, no leak', async () => {
    const run = async () => {
      const before = tf.memory().numTensors;
      const { trainer } = build(safEntry, { numEnvs: 2, seed: 5, env: { episodeLimit: 12, obsLastAction: true }, algo: SMALL });
      const p0 = (await trainer.save()).tensors['net/pool/keys'].data.slice();
      const r = await trainer.round();
      const p1 = (await trainer.save()).tensors['net/pool/keys'].data;
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return { r, moved: p1.some((x, i) => x !== p0[i]) };
    };
    const a = await run();
    for (const [k, v] of Object.entries(a.r.stats)) expect(Number.isFinite(v), k).toBe(true);
    expect(a.r.envSteps).toBeGreaterThan(0);
    expect(a.moved).toBe(true);
    const b = await run();
    expect(b.r.stats).toEqual(a.r.stats);
  });

  it('refuses envs without view planes, in words', () => {
    expect(safEntry.accepts(manitokanEntry.spec({}))).toEqual([]);
  });
});
