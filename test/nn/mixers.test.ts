import { beforeAll, describe, expect, it } from 'vitest';
import { QmixMixer, QtranJoint, absDiff, eluDiff, qtranLosses, vdnMix } from '../../src-shared/nn/mixers';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

const N = 3;
const R = 5;
const S = 4;

function randomData(seed: number, n: number, scale = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => (rng.float() * 2 - 1) * scale);
}

describe('differentiable helpers', () => {
  beforeAll(setupTf);

  it('|x| and elu match their definitions, with the right gradients', () => {
    const xs = [-2, -0.5, 0.25, 3];
    expect(maxAbsDiff(tf.tidy(() => absDiff(tf, tf.tensor(xs)).dataSync()), [2, 0.5, 0.25, 3])).toBe(0);
    const elu = xs.map((x) => (x > 0 ? x : Math.exp(x) - 1));
    expect(maxAbsDiff(tf.tidy(() => eluDiff(tf, tf.tensor(xs)).dataSync()), elu)).toBeLessThan(1e-6);
    const gAbs = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(absDiff(tf, x)))(tf.tensor(xs)).dataSync());
    expect(Array.from(gAbs)).toEqual([-1, -1, 1, 1]);
    const gElu = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(eluDiff(tf, x)))(tf.tensor(xs)).dataSync());
    expect(maxAbsDiff(gElu, xs.map((x) => (x > 0 ? 1 : Math.exp(x))))).toBeLessThan(1e-6);
  });
});

describe('VDN', () => {
  beforeAll(setupTf);

  it("Q_tot is the sum of the agents' Q, row by row", () => {
    const q = randomData(1, N * R, 3);
    const out = tf.tidy(() => vdnMix(tf, tf.tensor2d(q, [N, R])).dataSync());
    const want = Array.from({ length: R }, (_, r) => q[r] + q[R + r] + q[2 * R + r]);
    expect(maxAbsDiff(out, want)).toBeLessThan(1e-5);
  });
});

describe('QMIX mixer', () => {
  beforeAll(setupTf);

  for (const layers of [1, 2] as const) {
    it(`(${layers}-layer hypernetworks) has non-negative mixing weights and is monotonic in every agent's Q`, () => {
      const params = new ParamSet(tf);
      const mixer = new QmixMixer(tf, params, 'mixer', { numAgents: N, stateSize: S, embedDim: 6, hypernetEmbed: 7, hypernetLayers: layers, valueHidden: 5 }, new Rng(4));
      // Hypernetwork biases shifted negative, so raw weights are mostly negative before |.|.
      for (const name of params.names().filter((n) => n.endsWith('bias'))) params.get(name).assign(tf.fill(params.get(name).shape, -1));
      const s = tf.tensor2d(randomData(2, R * S, 2), [R, S]);
      const q = tf.tensor2d(randomData(3, N * R, 5), [N, R]);
      const { w1, w2 } = mixer.weights(s);
      expect(Math.min(...Array.from(w1.dataSync()))).toBeGreaterThanOrEqual(0);
      expect(Math.min(...Array.from(w2.dataSync()))).toBeGreaterThanOrEqual(0);
      w1.dispose();
      w2.dispose();
      // dQ_tot/dQ_i >= 0 everywhere (the gradient through the mixer's own ops).
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(mixer.forward(x, s)))(q).dataSync());
      expect(Math.min(...Array.from(g))).toBeGreaterThanOrEqual(0);
      expect(Math.max(...Array.from(g))).toBeGreaterThan(0);
      // Raising one agent's Q never lowers Q_tot.
      const base = tf.tidy(() => mixer.forward(q, s).dataSync());
      const qv = q.dataSync();
      for (let i = 0; i < N; i++) {
        const bumped = Float32Array.from(qv);
        for (let r = 0; r < R; r++) bumped[i * R + r] += 0.7;
        const up = tf.tidy(() => mixer.forward(tf.tensor2d(bumped, [N, R]), s).dataSync());
        for (let r = 0; r < R; r++) expect(up[r]).toBeGreaterThanOrEqual(base[r] - 1e-6);
      }
      // The forward is the formula: elu(q W1 + b1) . w2 + V(s).
      const manual = tf.tidy(() => {
        const { w1: W1, w2: W2 } = mixer.weights(s);
        const b1 = tf.reshape(mixer.hyperB1.forward(tf.reshape(s, [1, R, S])), [R, 6]);
        const pre = tf.add(tf.reshape(tf.matMul(tf.reshape(tf.transpose(q), [R, 1, N]), tf.reshape(W1, [R, N, 6])), [R, 6]), b1);
        const v = tf.reshape(mixer.value.forward(tf.reshape(s, [1, R, S])), [R, 1]);
        return tf.add(tf.sum(tf.mul(tf.elu(pre), W2), 1, true), v).dataSync();
      });
      expect(maxAbsDiff(base, manual)).toBeLessThan(1e-4);
      s.dispose();
      q.dispose();
      params.dispose();
    });
  }
});

describe('QTRAN', () => {
  beforeAll(setupTf);

  it('its three losses on a hand-built case', () => {
    // Two rows, the second one masked out. Row 0: Q_jt(u) = 2, Q_jt(ubar) = 3, sum Q_i(u) = 1.5,
    // sum Q_i(ubar) = 2.5, V = 0.25, y = 1.
    const t = (xs: number[]) => tf.tensor2d(xs, [2, 1]);
    const l = tf.tidy(() => {
      const out = qtranLosses(tf, {
        qJtTaken: t([2, 9]),
        qJtTakenConst: t([2, 9]),
        qJtGreedyConst: t([3, 9]),
        sumTaken: t([1.5, 9]),
        sumGreedy: t([2.5, 9]),
        v: t([0.25, 9]),
        y: t([1, 9]),
        mask: t([1, 0]),
        count: 1,
      });
      return [out.td.dataSync()[0], out.opt.dataSync()[0], out.nopt.dataSync()[0]];
    });
    expect(l[0]).toBeCloseTo((2 - 1) ** 2, 6); //             L_td
    expect(l[1]).toBeCloseTo((2.5 - 3 + 0.25) ** 2, 6); //     L_opt
    expect(l[2]).toBeCloseTo(Math.min(1.5 - 2 + 0.25, 0) ** 2, 6); // L_nopt
    // L_nopt vanishes when the constraint sum Q_i - Q_jt + V >= 0 holds.
    const zero = tf.tidy(() => qtranLosses(tf, { qJtTaken: t([1, 0]), qJtTakenConst: t([1, 0]), qJtGreedyConst: t([1, 0]), sumTaken: t([2, 0]), sumGreedy: t([1, 0]), v: t([0, 0]), y: t([1, 0]), mask: t([1, 0]), count: 1 }).nopt.dataSync()[0]);
    expect(zero).toBe(0);
  });

  it('the joint network sums per-agent encodings of (hidden state, action)', () => {
    const params = new ParamSet(tf);
    const H = 3;
    const A = 2;
    const j = new QtranJoint(tf, params, 'mixer', { numAgents: 2, numActions: A, stateSize: S, agentHidden: H, embedDim: 4 }, new Rng(8));
    const h = tf.tensor3d(randomData(5, 2 * R * H), [2, R, H]);
    const u = tf.tensor3d(Array.from({ length: 2 * R * A }, (_, i) => (i % A === 0 ? 1 : 0)), [2, R, A]);
    const s = tf.tensor2d(randomData(6, R * S), [R, S]);
    const q = tf.tidy(() => j.jointQ(h, u, s).dataSync());
    // Swapping the agents leaves Q_jt unchanged (a sum over agents).
    const hs = tf.tidy(() => tf.reverse(h, 0));
    const q2 = tf.tidy(() => j.jointQ(hs, u, s).dataSync());
    expect(maxAbsDiff(q, q2)).toBeLessThan(1e-5);
    expect(q.length).toBe(R);
    expect(tf.tidy(() => j.stateValue(s).shape)).toEqual([R, 1]);
    for (const x of [h, u, s, hs]) x.dispose();
    params.dispose();
  });
});
