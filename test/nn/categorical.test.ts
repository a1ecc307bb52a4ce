import { beforeAll, describe, expect, it } from 'vitest';
import {
  MASKED_LOGP,
  argmaxMasked,
  entropy,
  entropyFromLogProbs,
  maskedLogProbs,
  maskedProbs,
  sampleIndex,
} from '../../src-shared/nn/categorical';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

describe('masked categorical', () => {
  beforeAll(setupTf);
  const logits = [0.2, 1.5, -0.3, 0.8, 2.0, -1.0];
  const mask = [1, 1, 0, 1, 0, 1];

  it('zeroes unavailable actions and renormalises (softmax over available)', () => {
    const p = new Float64Array(6);
    expect(maskedProbs(logits, 0, mask, 0, 6, 0, p, 0)).toBe(true);
    const z = [0, 1, 3, 5].reduce((s, a) => s + Math.exp(logits[a]), 0);
    const ref = logits.map((l, a) => (mask[a] ? Math.exp(l) / z : 0));
    expect(maxAbsDiff(p, ref)).toBeLessThan(1e-12);
  });

  it('applies the epsilon floor before masking', () => {
    const p = new Float64Array(6);
    const eps = 0.3;
    maskedProbs(logits, 0, mask, 0, 6, eps, p, 0);
    const zAll = logits.reduce((s, l) => s + Math.exp(l), 0);
    const floored = logits.map((l) => (1 - eps) * (Math.exp(l) / zAll) + eps / 6);
    const z = [0, 1, 3, 5].reduce((s, a) => s + floored[a], 0);
    expect(maxAbsDiff(p, floored.map((f, a) => (mask[a] ? f / z : 0)))).toBeLessThan(1e-12);
  });

  it('never samples a masked action and matches the probabilities', () => {
    const p = new Float64Array(6);
    maskedProbs(logits, 0, mask, 0, 6, 0, p, 0);
    const rng = new Rng(123);
    const counts = new Array(6).fill(0);
    const n = 40000;
    for (let i = 0; i < n; i++) counts[sampleIndex(p, 0, 6, rng)]++;
    expect(counts[2]).toBe(0);
    expect(counts[4]).toBe(0);
    for (const a of [0, 1, 3, 5]) expect(Math.abs(counts[a] / n - p[a])).toBeLessThan(0.012);
  });

  it('argmax ignores masked actions; entropy of uniform over k is log k', () => {
    expect(argmaxMasked(logits, 0, mask, 0, 6)).toBe(1); // 2.0 at index 4 is masked
    expect(entropy([0.25, 0.25, 0, 0.25, 0, 0.25], 0, 6)).toBeCloseTo(Math.log(4), 12);
  });

  it.each([0, 0.2])('tfjs log-probs equal the CPU distribution (eps=%s), masked entries are MASKED_LOGP', (eps) => {
    const p = new Float64Array(6);
    maskedProbs(logits, 0, mask, 0, 6, eps, p, 0);
    const [lp, ent] = tf.tidy(() => {
      const l = maskedLogProbs(tf, tf.tensor2d([logits]), tf.tensor2d([mask]), eps);
      return [l.dataSync(), entropyFromLogProbs(tf, l, tf.tensor2d([mask])).dataSync()];
    });
    for (let a = 0; a < 6; a++) {
      if (mask[a]) expect(Math.abs(lp[a] - Math.log(p[a]))).toBeLessThan(1e-5);
      else expect(lp[a]).toBe(MASKED_LOGP);
    }
    expect(Math.abs(ent[0] - entropy(p, 0, 6))).toBeLessThan(1e-5);
  });

  it('log-prob gradients are finite and zero for masked logits when eps = 0', () => {
    const g = tf.tidy(() =>
      tf
        .grad((l: tf.Tensor) => tf.sum(tf.mul(maskedLogProbs(tf, l, tf.tensor2d([mask])), tf.tensor2d([[0, 1, 0, 0, 0, 0]]))))(
          tf.tensor2d([logits]),
        )
        .dataSync(),
    );
    for (const v of g) expect(Number.isFinite(v)).toBe(true);
    expect(g[2]).toBe(0);
    expect(g[4]).toBe(0);
    // d log pi_1 / d logit_1 = 1 - pi_1
    const p = new Float64Array(6);
    maskedProbs(logits, 0, mask, 0, 6, 0, p, 0);
    expect(Math.abs(g[1] - (1 - p[1]))).toBeLessThan(1e-5);
  });
});
