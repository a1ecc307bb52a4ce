/**
 * Masked categorical distributions over discrete actions.
 *
 * Acting happens on the CPU: one read-back of the logits per step, then probabilities,
 * sampling (with the run's Rng) and entropy in plain loops. Training recomputes log-probs in
 * tfjs so they carry gradients. Both sides implement the same distribution:
 *
 *   p   = softmax(logits)                  over all A actions
 *   p   = (1 - eps) p + eps / A            optional epsilon floor (released PyMARL code)
 *   pi  = p * mask / sum(p * mask)         unavailable actions excluded, renormalised
 *
 * With eps = 0 this is the masked softmax. Masks are 1 = available.
 */
import type { Rng } from '../rng';
import type { Tensor, Tf } from './tf';

/** Log-probability stored for unavailable actions in `maskedLogProbs` (finite, so 0 * it = 0). */
export const MASKED_LOGP = -1e9;

/**
 * CPU: write pi for one row of A logits into `out[outOff..]`. Returns false (and writes the
 * unmasked floored distribution) when the mask has no available action, which only happens
 * for rows nobody will act on (finished env copies).
 */
export function maskedProbs(
  logits: ArrayLike<number>,
  off: number,
  mask: ArrayLike<number>,
  maskOff: number,
  A: number,
  epsilon: number,
  out: Float32Array | Float64Array,
  outOff: number,
): boolean {
  let max = -Infinity;
  for (let a = 0; a < A; a++) max = Math.max(max, logits[off + a]);
  let sum = 0;
  for (let a = 0; a < A; a++) {
    const e = Math.exp(logits[off + a] - max);
    out[outOff + a] = e;
    sum += e;
  }
  let z = 0;
  for (let a = 0; a < A; a++) {
    const p = (1 - epsilon) * (out[outOff + a] / sum) + epsilon / A;
    out[outOff + a] = p;
    if (mask[maskOff + a]) z += p;
  }
  if (z <= 0) return false;
  for (let a = 0; a < A; a++) out[outOff + a] = mask[maskOff + a] ? out[outOff + a] / z : 0;
  return true;
}

/** Sample an index from probabilities `p[off..off+A)` (inverse CDF; never a zero-probability index). */
export function sampleIndex(p: ArrayLike<number>, off: number, A: number, rng: Rng): number {
  const u = rng.float();
  let c = 0;
  let last = -1;
  for (let a = 0; a < A; a++) {
    const pa = p[off + a];
    if (pa <= 0) continue;
    last = a;
    c += pa;
    if (u < c) return a;
  }
  // Rounding left u above the total: take the last index with probability > 0.
  return last >= 0 ? last : 0;
}

/** Index of the largest logit among available actions (ties: lowest index). */
export function argmaxMasked(logits: ArrayLike<number>, off: number, mask: ArrayLike<number>, maskOff: number, A: number): number {
  let best = -1;
  let bestV = -Infinity;
  for (let a = 0; a < A; a++) {
    if (!mask[maskOff + a]) continue;
    if (best < 0 || logits[off + a] > bestV) {
      best = a;
      bestV = logits[off + a];
    }
  }
  return best < 0 ? 0 : best;
}

/** Entropy (nats) of probabilities `p[off..off+A)`. */
export function entropy(p: ArrayLike<number>, off: number, A: number): number {
  let h = 0;
  for (let a = 0; a < A; a++) {
    const pa = p[off + a];
    if (pa > 0) h -= pa * Math.log(pa);
  }
  return h;
}

/**
 * tfjs: log pi for logits [..., A] and a float mask of the same shape (1 = available).
 * Unavailable entries hold MASKED_LOGP (finite, so multiplying by a zero one-hot gives 0, not
 * NaN). Differentiable w.r.t. the logits. With epsilon = 0 this is one masked log-softmax.
 */
export function maskedLogProbs(tf: Tf, logits: Tensor, mask: Tensor, epsilon = 0): Tensor {
  return tf.tidy(() => {
    const A = logits.shape[logits.rank - 1];
    const off = tf.mul(tf.sub(1, mask), MASKED_LOGP);
    if (epsilon === 0) return tf.add(tf.mul(tf.logSoftmax(tf.add(logits, off)), mask), off);
    // p = (1-eps) softmax + eps/A, restricted to the mask and renormalised, in log space.
    const p = tf.add(tf.mul(tf.exp(tf.logSoftmax(logits)), 1 - epsilon), epsilon / A);
    const logZ = tf.log(tf.sum(tf.mul(p, mask), -1, true));
    return tf.add(tf.mul(tf.sub(tf.log(p), logZ), mask), off);
  });
}

/** tfjs: entropy per row of log-probs from `maskedLogProbs` (masked entries contribute 0). */
export function entropyFromLogProbs(tf: Tf, logp: Tensor, mask: Tensor): Tensor {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.mul(tf.exp(logp), logp), mask), -1)));
}
