/** Gumbel-softmax sampling (nn/gumbel.ts) and the off-policy gradients (Concat, Softmax). */
import { beforeAll, describe, expect, it } from 'vitest';
import { gumbelSoftmax, gumbelSoftmaxRow, gumbelNoise } from '../../src-shared/nn/gumbel';
import { OFFPOLICY_GRADIENT_KERNELS, registerOffPolicyGradients } from '../../src-shared/nn/gradients-offpolicy';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './tf-setup';

describe('Gumbel-softmax', () => {
  beforeAll(async () => {
    await setupTf();
    registerOffPolicyGradients(tf);
  });

  it('the argmax of 1e5 samples follows softmax(logits), masked entries never win', () => {
    const logits = [0.5, -1, 2, 0.1, 0];
    const mask = [1, 1, 1, 1, 0];
    const z = logits.slice(0, 4).reduce((s, l) => s + Math.exp(l), 0);
    const p = logits.map((l, k) => (mask[k] ? Math.exp(l) / z : 0));
    const rng = new Rng(11);
    const counts = new Array(5).fill(0);
    const out = new Float32Array(5);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const a = gumbelSoftmaxRow(logits, 0, 5, rng, out, 0, mask, 0);
      counts[a]++;
      if (i < 10) {
        expect(out.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        expect(out[4]).toBe(0);
      }
    }
    counts.forEach((c, k) => expect(Math.abs(c / n - p[k]), `action ${k}`).toBeLessThan(0.006));
  });

  it('the sample is differentiable in the logits: finite gradient that matches finite differences', () => {
    const rng = new Rng(3);
    const noise = tf.tensor2d(gumbelNoise(rng, 6), [2, 3]);
    const w = tf.tensor2d([[0.3, -0.2, 1.1]]);
    const f = (l: tf.Tensor) => tf.sum(tf.mul(gumbelSoftmax(tf, l, noise), w));
    const x = tf.tensor2d([0.2, -0.4, 0.9, 1.5, 0.1, -0.3], [2, 3]);
    const g = tf.grad(f)(x).dataSync();
    const base = x.dataSync();
    const h = 1e-2;
    for (let k = 0; k < base.length; k++) {
      const up = Float32Array.from(base);
      const dn = Float32Array.from(base);
      up[k] += h;
      dn[k] -= h;
      const fd = (f(tf.tensor2d(up, [2, 3])).dataSync()[0] - f(tf.tensor2d(dn, [2, 3])).dataSync()[0]) / (2 * h);
      expect(Number.isFinite(g[k])).toBe(true);
      expect(Math.abs(g[k] - fd), `d/dlogit ${k}`).toBeLessThan(2e-3);
    }
    // Straight-through: a one-hot forward value, the soft sample's gradient.
    const hard = gumbelSoftmax(tf, x, noise, 1, true).dataSync();
    expect(Array.from(hard).filter((v) => v === 1).length).toBe(2);
    const gh = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(gumbelSoftmax(tf, l, noise, 1, true), w)))(x).dataSync();
    expect(Array.from(gh)).toEqual(Array.from(g));
  });

  it('Concat gradient splits the upstream gradient back to each input', () => {
    expect(OFFPOLICY_GRADIENT_KERNELS.every((k) => tf.getGradient(k) != null)).toBe(true);
    const a = tf.tensor2d([1, 2], [1, 2]);
    const b = tf.tensor2d([3, 4, 5], [1, 3]);
    const w = tf.tensor2d([[1, 2, 3, 4, 5]]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.concat([x, y], 1)), w)))([a, b]);
    expect(Array.from(ga.dataSync())).toEqual([2, 8]);
    expect(Array.from(gb.dataSync())).toEqual([18, 32, 50]);
  });
});
