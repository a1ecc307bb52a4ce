/**
 * PG's critic update of one round (the critics' step(s) on their TD(lambda) targets, recording
 * the pre-update baseline V the actor's advantage reads), as one function both threads run,
 * and the port through which the trainer runs it on a helper thread (`algo.updateThreads: 2`,
 * as COMA's critic: coma-critic-step.ts; the host's side is src-main/runner/pg-critic-thread.ts).
 *
 * Why a second thread pays here: the actor's loss reads V from the critics' forward BEFORE
 * their step (the baseline of A = R - V), and nothing else of the critics' update. So the
 * trainer computes the targets (the target critics' values at each copy's final observation:
 * B rows per agent), hands the batch to a helper holding replicas of the critics and their
 * optimiser, and runs the actor's staging and forward meanwhile; the helper publishes V as soon
 * as its forward has it (a SharedArrayBuffer, `PgCriticCall.values`, which the actor's loss
 * waits on inside the tape), then takes its backward and optimiser step while the trainer runs
 * the actor's backward and step. The critics' parameters and RMSprop state go over once per
 * round and come back at its end (tens of KB at the paper's sizes); the helper keeps nothing
 * between rounds, so checkpoints, resume and switching threads between rounds are unchanged,
 * and the target copy stays on the trainer's thread. No Rng draw happens in the critics'
 * update. Both threads run this same code on the same backend, so the bits are those of one
 * thread (test/algos/pg-threads.test.ts).
 *
 * src-shared cannot start threads (no Node modules here): the host registers a factory
 * (`setPgCriticThreadFactory`, done by initBackend).
 */
import type { Activation, Mlp } from '../nn/mlp';
import type { OptimizerState, RMSprop } from '../nn/optim';
import type { ParamSet } from '../nn/params';
import type { TensorRecord, Tf } from '../nn/tf';
import { fitCritics, perAgentRows } from './pg-critics';
import { groupToTime, timeToGroup } from './recurrent-actor';

/** The critics' update settings (the trainer's config, as the helper needs it). */
export interface PgCriticSettings {
  readonly criticUpdate: 'batch' | 'per-step-reverse';
  readonly criticGradClip: number;
  /** The critics' passes in the wasm kernel (Mlp.forwardKernel), as the trainer decided. */
  readonly kernel: boolean;
}

/** What the critics' update reads of a round, time-major [t][agent][copy][...]. */
export interface PgCriticBatch {
  readonly T: number;
  readonly N: number;
  readonly B: number;
  readonly E: number;
  readonly cobs: Float32Array; //    [T(+1)][N][B][E] (only slots 0..T-1 are read)
  readonly targets: Float32Array; // [T][N][B]
  readonly masks: Float32Array; //   [T][N][B]
}

/** The critics and their optimiser (the trainer's, or the helper's replicas). */
export interface PgCriticNets {
  readonly params: ParamSet;
  readonly critics: Mlp[];
  readonly opt: RMSprop;
}

export interface PgCriticResult {
  /** Sums of the steps' losses and of their gradient norms before clipping. */
  readonly loss: number;
  readonly norm: number;
  /** Optimiser steps taken. */
  readonly steps: number;
}

/**
 * The critics' update on one round: one step on all valid agent-steps ('batch') or one per time
 * step, t = T-1..0 ('per-step-reverse'), writing the pre-update V of every agent-step into
 * `baseline` [T][N][B] (time-major; 0 where a per-step update skipped an empty step). `onV` is
 * called once `baseline` is complete: in batch mode after the forward, before the backward.
 * `stage` is scratch of at least T N B max(E, 1) floats.
 */
export function pgCriticUpdate(
  tf: Tf,
  nets: PgCriticNets,
  s: PgCriticSettings,
  d: PgCriticBatch,
  stage: Float32Array,
  baseline: Float32Array,
  onV?: () => void,
): PgCriticResult {
  const { T, N, B, E, masks, targets } = d;
  const M = N * B;
  let loss = 0;
  let norm = 0;
  let steps = 0;
  const step = (X: ReturnType<typeof perAgentRows>, Gt: ReturnType<typeof perAgentRows>, Mt: ReturnType<typeof perAgentRows>, count: number, onValues?: (v: Float32Array) => void) => {
    const fit = fitCritics(tf, nets.params, nets.critics, nets.opt, X, Gt, Mt, count, s.criticGradClip, s.kernel, onValues);
    norm += fit.norm;
    loss += fit.loss;
    steps++;
    return fit.values;
  };
  baseline.fill(0, 0, T * M);
  if (s.criticUpdate === 'batch') {
    let count = 0;
    for (let i = 0; i < T * M; i++) count += masks[i];
    const R = T * B;
    tf.tidy(() => {
      const X = perAgentRows(tf, timeToGroup(d.cobs, T, N, B, E, stage), N, R, E);
      const Gt = perAgentRows(tf, timeToGroup(targets, T, N, B, 1, new Float32Array(T * M)), N, R, 1);
      const Mt = perAgentRows(tf, timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)), N, R, 1);
      step(X, Gt, Mt, count, (v) => {
        groupToTime(v, T, N, B, baseline);
        onV?.();
      });
    });
  } else {
    for (let t = T - 1; t >= 0; t--) {
      let count = 0;
      for (let i = 0; i < M; i++) count += masks[t * M + i];
      if (count === 0) continue;
      tf.tidy(() => {
        // Time-major slices are already [N][B][.] for one step.
        const X = perAgentRows(tf, d.cobs.subarray(t * M * E, (t + 1) * M * E), N, B, E);
        const Gt = perAgentRows(tf, targets.subarray(t * M, (t + 1) * M), N, B, 1);
        const Mt = perAgentRows(tf, masks.subarray(t * M, (t + 1) * M), N, B, 1);
        baseline.set(step(X, Gt, Mt, count), t * M);
      });
    }
    onV?.();
  }
  return { loss, norm, steps };
}

// ================================================================= the helper thread's port

/** What the helper needs to build replicas of the critics and their optimiser. */
export interface PgCriticSpec {
  readonly numAgents: number;
  /** Each critic's layer sizes [envObs, H, H, 1], hidden activation. */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly lr: number;
  readonly rmspropAlpha: number;
  readonly rmspropEps: number;
  /** The most agent-steps of one round, L N B (sizes the shared V buffer). */
  readonly maxRows: number;
}

/** The critics' learning state: handed over before an update, handed back after it. */
export interface PgCriticState {
  readonly critic: Record<string, TensorRecord>;
  readonly opt: OptimizerState;
}

export interface PgCriticJob {
  readonly settings: PgCriticSettings;
  readonly batch: PgCriticBatch;
}

/** One update under way on the helper. */
export interface PgCriticCall {
  /**
   * The pre-update V [T][N][B], time-major; blocks until the helper has it. Valid until the
   * next update. Throws if the helper failed.
   */
  values(): Float32Array;
  /** The update's result and the critics' state after it. */
  readonly done: Promise<{ result: PgCriticResult; state: PgCriticState }>;
}

export interface PgCriticThread {
  update(state: PgCriticState, job: PgCriticJob): PgCriticCall;
  /** Stop the thread (idempotent). */
  close(): void;
}

export type PgCriticThreadFactory = (spec: PgCriticSpec) => PgCriticThread;

let factory: PgCriticThreadFactory | null = null;

/** Set by the host process (src-main) once its backend is up; null turns threads off. */
export function setPgCriticThreadFactory(f: PgCriticThreadFactory | null): void {
  factory = f;
}

export function pgCriticThreadFactory(): PgCriticThreadFactory | null {
  return factory;
}
