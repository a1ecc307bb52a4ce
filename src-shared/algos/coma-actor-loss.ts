/**
 * COMA's actor loss as one CPU pass over the read-back logits, with its closed-form gradient
 * (issue 15; `actorLoss: 'closed-form'`, the default; 'taped' is the previous path).
 *
 * The taped path builds the behaviour distribution's log-probabilities with tfjs ops
 * (categorical.ts maskedLogProbs: about ten elementwise kernels over [rows, A], a log-softmax
 * and, with an epsilon floor, exp/log/sum), reads them back for the baseline, then multiplies,
 * sums and negates on the tape, and the backward runs the gradient of each of those kernels.
 * All of it is elementwise over rows x A = 9,600 x 6 at the paper's sizes: dispatch and tape
 * bookkeeping, not arithmetic. Here the forward reads the logits back once and, per row, in
 * float64:
 *   s = softmax(l) over all actions, S = sum over available actions of s;
 *   eps = 0:  pi_k = s_k / S (available k; the masked log-softmax), log pi_u = l_u - logsumexp_avail(l);
 *   eps > 0:  p_k = (1 - eps) s_k + eps / A, Z = sum_avail p, pi_k = p_k / Z, log pi_u = log p_u - log Z;
 *   baseline = sum_k pi_k Q_k, A_r = Q(u_r) - baseline (held constant, as the taped path does),
 *   loss = -sum_r c_r log pi_r(u_r),  c_r = m_r A_r / count,
 * and the gradient w.r.t. the logits, which the tape then carries into the actor's backward:
 *   eps = 0:  dL/dl_k = -c_r ([k = u] - pi_k) for available k, 0 otherwise;
 *   eps > 0:  dL/dl_k = -c_r (1 - eps) [ (s_u / p_u)([k = u] - s_k) - (avail_k - S) s_k / Z ].
 * (derivation: d log p_u / dl_k = (1 - eps) s_u ([u = k] - s_k) / p_u, and
 * d log Z / dl_k = (1 - eps) (avail_k s_k - S s_k) / Z.)
 *
 * Same mathematics as the taped path; other float rounding (float64 here, float32 kernels
 * there), so the series differ in the last bits and drift apart from there: docs/performance.md
 * "COMA on two threads" gives the figures; the golden series pin both paths.
 */
import type { Tensor, Tf } from '../nn/tf';

/**
 * The counterfactual baseline and advantage per row (rows where mask = 0 get zeros):
 *   baseline = sum_u pi(u) Q(u),  qTaken = Q(u_taken),  adv = qTaken - baseline.
 * q and pi are [rows][A]; actions and mask [rows].
 */
export function counterfactualAdvantage(
  q: ArrayLike<number>,
  pi: ArrayLike<number>,
  actions: ArrayLike<number>,
  mask: ArrayLike<number>,
  rows: number,
  A: number,
  baseline: Float32Array,
  qTaken: Float32Array,
  adv: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    if (!mask[r]) {
      baseline[r] = 0;
      qTaken[r] = 0;
      adv[r] = 0;
      continue;
    }
    let s = 0;
    for (let u = 0; u < A; u++) s += pi[r * A + u] * q[r * A + u];
    const qt = q[r * A + actions[r]];
    baseline[r] = s;
    qTaken[r] = qt;
    adv[r] = qt - s;
  }
}

/** CPU workspaces of `comaActorLoss` (at least rows * A, resp. rows, values). */
export interface ActorLossWork {
  pi: Float32Array;
  coef: Float32Array;
  baseline: Float32Array;
  qTaken: Float32Array;
  adv: Float32Array;
  /** The closed form's float64 row statistics (4 * rows); allocated per call when absent or short. */
  rowStats?: Float64Array;
}

/**
 * COMA's actor loss for log-probabilities `logp` [1, rows, A] (from maskedLogProbs: the
 * behaviour distribution, unavailable actions at MASKED_LOGP):
 *   loss = -sum_r m_r A_r log pi_r(u_r) / count,  A_r = Q_r(u_r) - sum_u pi_r(u) Q_r(u),
 * with A read back and held constant (no gradient through the baseline or Q). q [rows][A],
 * actions and mask [rows]. Fills `work` (pi, baseline, qTaken, adv) as a side effect.
 */
export function comaActorLoss(
  tf: Tf,
  logp: Tensor,
  q: ArrayLike<number>,
  actions: ArrayLike<number>,
  mask: ArrayLike<number>,
  count: number,
  work: ActorLossWork,
): Tensor {
  const [, rows, A] = logp.shape as number[];
  const lp = logp.dataSync() as Float32Array;
  const pi = work.pi.subarray(0, rows * A);
  for (let i = 0; i < rows * A; i++) pi[i] = Math.exp(lp[i]);
  counterfactualAdvantage(q, pi, actions, mask, rows, A, work.baseline, work.qTaken, work.adv);
  const coef = work.coef.subarray(0, rows * A);
  coef.fill(0);
  for (let r = 0; r < rows; r++) if (mask[r]) coef[r * A + actions[r]] = work.adv[r] / count;
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.tensor3d(coef, [1, rows, A]), logp))));
}

/**
 * The loss for logits [.., rows, A] (the actor's sequenceLogits, group-major rows), as a scalar
 * tensor whose gradient w.r.t. `logits` is the closed form above. `avail` [rows][A] (1 =
 * available), q [rows][A], actions and mask [rows]; fills `work` (pi, baseline, qTaken, adv)
 * as the taped path does, and work.coef with the gradient.
 */
export function comaActorLossClosedForm(
  tf: Tf,
  logits: Tensor,
  avail: ArrayLike<number>,
  eps: number,
  q: ArrayLike<number>,
  actions: ArrayLike<number>,
  mask: ArrayLike<number>,
  count: number,
  work: ActorLossWork,
): Tensor {
  const A = logits.shape[logits.rank - 1];
  const rows = logits.size / A;
  const shape = logits.shape.slice();
  const op = tf.customGrad((...args: unknown[]) => {
    const x = args[0] as Tensor;
    const l = x.dataSync() as Float32Array;
    const pi = work.pi.subarray(0, rows * A);
    const grad = work.coef.subarray(0, rows * A);
    // Row statistics kept for the gradient: log pi of the taken action is all the loss needs.
    // Every row writes its own before any reads it, so reused buffers need no clearing.
    const st = work.rowStats && work.rowStats.length >= 4 * rows ? work.rowStats : new Float64Array(4 * rows);
    const logPiTaken = st.subarray(0, rows);
    const sTaken = st.subarray(rows, 2 * rows); // eps > 0: s_u / p_u
    const sAv = st.subarray(2 * rows, 3 * rows); // eps > 0: S, and 1 / Z below
    const invZ = st.subarray(3 * rows, 4 * rows);
    for (let r = 0; r < rows; r++) {
      const o = r * A;
      const u = actions[r];
      if (eps === 0) {
        let m = -Infinity;
        for (let k = 0; k < A; k++) if (avail[o + k] && l[o + k] > m) m = l[o + k];
        let z = 0;
        for (let k = 0; k < A; k++) if (avail[o + k]) z += Math.exp(l[o + k] - m);
        const lse = m + Math.log(z);
        for (let k = 0; k < A; k++) pi[o + k] = avail[o + k] ? Math.exp(l[o + k] - lse) : 0;
        logPiTaken[r] = l[o + u] - lse;
      } else {
        let m = -Infinity;
        for (let k = 0; k < A; k++) if (l[o + k] > m) m = l[o + k];
        let z = 0;
        for (let k = 0; k < A; k++) z += Math.exp(l[o + k] - m);
        let S = 0;
        let Z = 0;
        for (let k = 0; k < A; k++) {
          if (!avail[o + k]) continue;
          const s = Math.exp(l[o + k] - m) / z;
          S += s;
          Z += (1 - eps) * s + eps / A;
        }
        for (let k = 0; k < A; k++) pi[o + k] = avail[o + k] ? ((1 - eps) * (Math.exp(l[o + k] - m) / z) + eps / A) / Z : 0;
        const su = Math.exp(l[o + u] - m) / z;
        const pu = (1 - eps) * su + eps / A;
        logPiTaken[r] = Math.log(pu) - Math.log(Z);
        sTaken[r] = su / pu;
        sAv[r] = S;
        invZ[r] = 1 / Z;
      }
    }
    counterfactualAdvantage(q, pi, actions, mask, rows, A, work.baseline, work.qTaken, work.adv);
    let loss = 0;
    grad.fill(0);
    for (let r = 0; r < rows; r++) {
      if (!mask[r]) continue;
      const c = work.adv[r] / count;
      const o = r * A;
      const u = actions[r];
      loss -= c * logPiTaken[r];
      if (eps === 0) {
        for (let k = 0; k < A; k++) if (avail[o + k]) grad[o + k] = -c * ((k === u ? 1 : 0) - pi[o + k]);
      } else {
        let m = -Infinity;
        for (let k = 0; k < A; k++) if (l[o + k] > m) m = l[o + k];
        let z = 0;
        for (let k = 0; k < A; k++) z += Math.exp(l[o + k] - m);
        for (let k = 0; k < A; k++) {
          const s = Math.exp(l[o + k] - m) / z;
          const dLogP = sTaken[r] * ((k === u ? 1 : 0) - s);
          const dLogZ = ((avail[o + k] ? 1 : 0) - sAv[r]) * s * invZ[r];
          grad[o + k] = -c * (1 - eps) * (dLogP - dLogZ);
        }
      }
    }
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: Tensor): Tensor[] => [tf.mul(dy, tf.tensor(grad, shape))],
    };
  });
  return op(logits) as Tensor;
}
