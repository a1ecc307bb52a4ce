/**
 * COMA's actor gradient over a set of episodes (the whole batch, or one part of it), as one
 * function the trainer's thread and the critic's helper thread both run.
 *
 * `actorHelperShare` > 0 (default 0.3) splits a batch the rollout's trace does not serve (a
 * sampled batch) by episodes into two parts: copies 0..b0-1 and b0..B-1. Each part runs the
 * actor's forward, loss and backward over its own rows (the loss already divided by the whole
 * batch's valid agent-steps), and the trainer adds part 2's gradient to part 1's before the clip
 * and the step. Part 2 runs on the critic's helper after its critic update when the helper runs
 * (updateThreads 2, or auto's hint), else on the trainer's thread right after part 1: the same
 * function on the same rows and the same Q, so the same bits either way, and the thread count
 * never changes results. Mathematically the gradient of one pass; the float rounding differs
 * from it (each weight gradient is a sum over all rows, here two partial sums added), so
 * `actorHelperShare: 0` keeps the one-pass path, bit for bit the one before the split
 * (docs/performance.md, "issue-15c3" and "issue-15c").
 */
import { maskedLogProbs } from '../nn/categorical';
import type { Tensor, Tf } from '../nn/tf';
import type { GruTrace } from '../nn/gru';
import { comaActorLoss, comaActorLossClosedForm, type ActorLossWork } from './coma-actor-loss';
import { timeToGroupRange, type RecurrentActor } from './recurrent-actor';
import type { ComaActorJob, ComaActorPartResult } from './coma-critic-step';

/** The actor's rows of a batch (or of a part), group-major [N][T][B]. */
export interface ComaActorRows {
  readonly N: number;
  readonly T: number;
  readonly B: number;
  readonly x: Float32Array; //      [N][T][B][obs]
  readonly avail: Float32Array; //  [N][T][B][A]
  readonly acts: Int32Array; //     [N][T][B]
  readonly masks: Float32Array; //  [N][T][B]
}

/** The update statistics' sums over a part's valid rows (coma.ts divides by the batch's count). */
export interface ComaActorSums {
  bSum: number;
  qSum: number;
  aSum: number;
  piMax: number;
}

export interface ComaActorSettings {
  readonly eps: number;
  /** Valid agent-steps of the WHOLE batch (the loss's divisor). */
  readonly count: number;
  readonly closedForm: boolean;
}

/**
 * Loss and gradients (by the actor's parameter names) over `rows`; `q()` gives the pre-update Q
 * of the same rows, group-major [N][T][B][A] (called inside the tape, after the forward: the
 * critic's helper may still be computing it). Fills `work` (pi, baseline, qTaken, adv).
 */
export function comaActorGrads(
  tf: Tf,
  actor: RecurrentActor,
  rows: ComaActorRows,
  s: ComaActorSettings,
  q: () => Float32Array,
  work: ActorLossWork,
  trace?: GruTrace,
): { value: number; grads: Record<string, Tensor> } {
  const { N, T, B } = rows;
  const R = N * T * B;
  const O = rows.x.length / R;
  const A = rows.avail.length / R;
  return tf.tidy(() => {
    const X = tf.tensor3d(rows.x.subarray(0, R * O), [1, R, O]);
    const avail = s.closedForm ? null : tf.tensor3d(rows.avail.subarray(0, R * A), [1, R, A]);
    const res = actor.params.grads(() => {
      const logits = actor.sequenceLogits(X, N, T, B, trace);
      const logp = s.closedForm ? null : maskedLogProbs(tf, logits, avail!, s.eps);
      const qG = q();
      // pi, baseline and advantage on the CPU from the very log-probs being differentiated.
      if (logp) return comaActorLoss(tf, logp, qG, rows.acts, rows.masks, s.count, work) as never;
      return comaActorLossClosedForm(tf, logits, rows.avail, s.eps, qG, rows.acts, rows.masks, s.count, work) as never;
    });
    return res as never; // tidy keeps tensors found in the returned object (the gradients)
  }) as { value: number; grads: Record<string, Tensor> };
}

/** Sums of baseline, Q(u), advantage and max pi over the valid rows of a part (work from comaActorGrads). */
export function comaActorSums(work: ActorLossWork, masks: ArrayLike<number>, R: number, A: number): ComaActorSums {
  let bSum = 0;
  let qSum = 0;
  let aSum = 0;
  let piMax = 0;
  for (let r = 0; r < R; r++) {
    bSum += work.baseline[r];
    qSum += work.qTaken[r];
    aSum += work.adv[r];
    if (!masks[r]) continue;
    let m = 0;
    for (let u = 0; u < A; u++) m = Math.max(m, work.pi[r * A + u]);
    piMax += m;
  }
  return { bSum, qSum, aSum, piMax };
}

/** An ActorLossWork for up to R rows of A actions (one per trainer or helper, reused every update). */
export function actorLossWork(R: number, A: number): ActorLossWork {
  return {
    pi: new Float32Array(R * A),
    coef: new Float32Array(R * A),
    baseline: new Float32Array(R),
    qTaken: new Float32Array(R),
    adv: new Float32Array(R),
    rowStats: new Float64Array(4 * R),
  };
}

/**
 * Where a split puts part 2: copies b0..B-1 of a batch of B, b0 = B - round(share * B), at least
 * one copy in each part; null when the batch stays whole (share 0, one copy, or a batch served
 * by the rollout's trace, which lives on the trainer's thread). Independent of the threads.
 */
export function comaActorSplit(share: number, B: number, onPolicyTrace: boolean): { b0: number } | null {
  if (onPolicyTrace) return null;
  const hb = Math.min(B - 1, Math.round(share * B));
  return hb > 0 ? { b0: B - hb } : null;
}

/**
 * Copies b0..b1-1 of a time-major batch's actor inputs (O features, A actions per row) as
 * group-major rows, into `out`'s arrays (at least the part's size; views of them are returned).
 */
export function comaActorRowsOf(
  d: { readonly xs: Float32Array; readonly avail: Float32Array; readonly acts: Int32Array },
  masks: Float32Array,
  dims: { readonly T: number; readonly N: number; readonly B: number; readonly O: number; readonly A: number },
  b0: number,
  b1: number,
  out: { x: Float32Array; avail: Float32Array; acts: Int32Array; masks: Float32Array },
): ComaActorRows {
  const { T, N, B, O, A } = dims;
  return {
    N,
    T,
    B: b1 - b0,
    x: timeToGroupRange(d.xs, T, N, B, O, b0, b1, out.x),
    avail: timeToGroupRange(d.avail, T, N, B, A, b0, b1, out.avail),
    acts: timeToGroupRange(d.acts, T, N, B, 1, b0, b1, out.acts),
    masks: timeToGroupRange<Float32Array>(masks, T, N, B, 1, b0, b1, out.masks),
  };
}

/** Reusable buffers of part 2 (sized for the largest part): its Q rows and its loss's workspace. */
export interface ComaActorPartBuffers {
  readonly q: Float32Array;
  readonly work: ActorLossWork;
}

/**
 * Part 2 of a split (copies b0..B-1 of `rows`' batch of B): its loss, gradients (tensors, by
 * parameter name) and sums, with Q read from the critic's time-major `qTime` [T][N][B][A] when
 * the loss needs it. What the helper runs (comaActorPart) and what the trainer's thread runs
 * when no helper does: one function, so the bits cannot depend on the thread.
 */
export function comaActorPartGrads(
  tf: Tf,
  actor: RecurrentActor,
  rows: ComaActorRows,
  s: ComaActorSettings,
  qTime: () => Float32Array,
  b0: number,
  B: number,
  buf: ComaActorPartBuffers,
): { value: number; grads: Record<string, Tensor>; sums: ComaActorSums } {
  const { N, T } = rows;
  const R = N * T * rows.B;
  const A = rows.avail.length / R;
  const q = () => timeToGroupRange(qTime(), T, N, B, A, b0, B, buf.q);
  const { value, grads } = comaActorGrads(tf, actor, rows, s, q, buf.work);
  return { value, grads, sums: comaActorSums(buf.work, rows.masks, R, A) };
}

/**
 * The helper's part 2: `actor` (the helper's replica) takes the job's parameters, then
 * comaActorPartGrads over the job's rows with Q from `qTime`; the result as plain data.
 */
export function comaActorPart(tf: Tf, actor: RecurrentActor, job: ComaActorJob, qTime: Float32Array, B: number, buf?: ComaActorPartBuffers): ComaActorPartResult {
  actor.params.loadRecords(job.params);
  const R = job.rows.N * job.rows.T * job.rows.B;
  const A = job.rows.avail.length / R;
  const b = buf ?? { q: new Float32Array(R * A), work: actorLossWork(R, A) };
  const { value, grads, sums } = comaActorPartGrads(tf, actor, job.rows, job.settings, () => qTime, job.b0, B, b);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, g] of Object.entries(grads)) {
    out[name] = { shape: g.shape.slice(), data: Float32Array.from(g.dataSync() as Float32Array) };
    g.dispose();
  }
  return { loss: value, grads: out, sums };
}
