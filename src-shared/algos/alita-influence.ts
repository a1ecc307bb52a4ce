/**
 * ALITA's influence F (eq. 3-4, 7): the targets z it can be measured against, and Theorem 1's
 * score-function surrogate for its gradient. The trainer (alita.ts) computes z by the max over
 * joint actions (alita-joint-max.ts) and steps the estimators.
 *
 * `influenceGradient: 'score-function'` is Theorem 1 (spec §2.6): the surrogate
 * Σ_i α_i [mean_b(g² ℓ) + 2 mean_b(g) mean_b(q ℓ)], α_i = 1/|I|, with q = the estimator at the
 * influencer's sampled one-hot action, g = q - z (both constants) and ℓ = log pi_k of that
 * action. The sample is the argmax of the same Gumbel-softmax draw the MADDPG term uses (a
 * Gumbel-max categorical sample), so switching estimators moves no Rng draw. The proof's inner
 * expectation over the discounted visitation is the batch itself, as the spec reads it; the
 * estimator has high variance and is there to compare against Theorem 1, not as a default.
 * `losses/actor_<k>` then holds lambda x the surrogate (not lambda F); `influence/F` is always
 * F's value, mean_b Σ_i α_i g².
 */
import type { Tensor, Tf } from '../nn/tf';

/** The three targets z_i of F (spec §2.5): eq. 7, eq. 4 and the released code's TD target. */
export const TARGETS = ['eq7', 'eq4', 'code'] as const;
export type InfluenceTarget = (typeof TARGETS)[number];

/**
 * Theorem 1's surrogate for one influencer on K rows, Σ_i α_i [ mean_b(g_ib² ℓ_b) + 2 mean_b(g_ib)
 * mean_b(q_ib ℓ_b) ] with α_i = 1/|I|, g and q constants (row-major [K, |I|]) and `logp` [K] the
 * log-probability of the sampled influencer action (the only differentiable input). It is linear
 * in ℓ, so it is mean_b(w_b ℓ_b) with the constant weight w_b = Σ_i α_i (g_ib² + 2 mean(g_i) q_ib).
 * Its value is not F; its gradient is the batch estimate of eq. 5.
 */
export function scoreFunctionSurrogate(tf: Tf, logp: Tensor, g: Float32Array, q: Float32Array, K: number, nI: number): Tensor {
  const gMean = new Float64Array(nI);
  for (let b = 0; b < K; b++) for (let i = 0; i < nI; i++) gMean[i] += g[b * nI + i] / K;
  const w = new Float32Array(K);
  for (let b = 0; b < K; b++) {
    let v = 0;
    for (let i = 0; i < nI; i++) v += g[b * nI + i] * g[b * nI + i] + 2 * gMean[i] * q[b * nI + i];
    w[b] = v / nI;
  }
  return tf.tidy(() => tf.mean(tf.mul(tf.reshape(logp, [K]), tf.tensor1d(w))));
}
