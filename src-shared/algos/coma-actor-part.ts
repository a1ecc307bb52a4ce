/**
 * COMA's actor gradient over a set of episodes (the whole batch, or one part of it), as one
 * function the trainer's thread and the critic's helper thread both run.
 *
 * `actorHelperShare` > 0 (with `updateThreads: 2`) splits a sampled batch by episodes: the
 * trainer takes the first ones, the helper the last ones after its critic update, each runs the
 * actor's forward, loss and backward over its part (the loss already divided by the whole
 * batch's valid agent-steps), and the trainer adds the helper's gradient to its own before the
 * clip and the step. Mathematically the same gradient; the float rounding differs from one
 * thread's (each weight gradient is a sum over all rows, now two partial sums added), so this
 * is an option, off by default (docs/performance.md, "issue-15c3").
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

/** A fresh ActorLossWork for R rows of A actions. */
export function actorLossWork(R: number, A: number, pi?: Float32Array, coef?: Float32Array): ActorLossWork {
  return {
    pi: pi ?? new Float32Array(R * A),
    coef: coef ?? new Float32Array(R * A),
    baseline: new Float32Array(R),
    qTaken: new Float32Array(R),
    adv: new Float32Array(R),
  };
}

/**
 * The helper's part of a split actor update: `actor` (the helper's replica) takes the job's
 * parameters, reads Q of copies b0..B-1 from the critic's time-major `qTime` [T][N][B][A], and
 * returns the part's loss, gradients and sums as plain data.
 */
export function comaActorPart(tf: Tf, actor: RecurrentActor, job: ComaActorJob, qTime: Float32Array, B: number): ComaActorPartResult {
  actor.params.loadRecords(job.params);
  const { N, T } = job.rows;
  const R = N * T * job.rows.B;
  const A = job.rows.avail.length / R;
  const qG = timeToGroupRange(qTime, T, N, B, A, job.b0, B, new Float32Array(R * A));
  const work = actorLossWork(R, A);
  const { value, grads } = comaActorGrads(tf, actor, job.rows, job.settings, () => qG, work);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, g] of Object.entries(grads)) {
    out[name] = { shape: g.shape.slice(), data: Float32Array.from(g.dataSync() as Float32Array) };
    g.dispose();
  }
  return { loss: value, grads: out, sums: comaActorSums(work, job.rows.masks, R, A) };
}
