/**
 * COMA's critic update of one batch (TD(lambda) targets, the critic's step(s), the pre-update Q
 * the actor's baseline reads), as one function both threads run, and the port through which
 * the trainer runs it on a helper thread (`algo.updateThreads: 2`, as PPO's critic:
 * ppo-critic-step.ts; the host's side is src-main/runner/coma-critic-thread.ts).
 *
 * Why a second thread pays here: given the batch, the critic's update and the actor's are
 * independent except that the actor's loss reads the critic's Q from the forward BEFORE its
 * step. So the trainer hands the batch to a helper that owns a replica of the critic, its
 * target and its optimiser, and runs the actor's staging and forward meanwhile; the helper
 * publishes Q as soon as its forward is done (a SharedArrayBuffer, `ComaCriticCall.q`, which
 * the actor's loss waits on inside the tape), then takes its backward and optimiser step while
 * the trainer runs the actor's backward. The critic's state goes over once per update and
 * comes back at its end (tens of KB at the paper's sizes); the helper keeps nothing between
 * updates, so checkpoints, resume and switching threads between rounds are unchanged. No Rng
 * draw happens in the critic's update. Both threads run this same code on the same backend,
 * so the bits are those of one thread (test/algos/coma-threads.test.ts).
 *
 * src-shared cannot start threads (no Node modules here): the host registers a factory
 * (`setComaCriticThreadFactory`, done by initBackend).
 */
import { clipByGlobalNorm } from '../nn/clip';
import type { GruGates } from '../nn/gru';
import type { Activation, Mlp } from '../nn/mlp';
import type { Optimizer, OptimizerState } from '../nn/optim';
import type { ParamSet } from '../nn/params';
import { tdLambdaTargets, tdLambdaTargetsPymarl } from '../nn/returns';
import type { Tensor, TensorRecord, Tf } from '../nn/tf';
import { ComaCriticWork, disposePass, explicitCriticApplies, explicitCriticGrads, forwardRows } from './coma-critic';
import { buildCriticInputs, criticInputSize, type CriticLayout } from './coma-critic-input';
import type { ComaActorRows, ComaActorSettings, ComaActorSums } from './coma-actor-part';

/** Valid agent-steps [T][N][B] of a batch: copy b's steps 0..endStep[b] (capped at T - 1). */
export function comaValidMasks(endStep: Int32Array, T: number, N: number, B: number, out: Float32Array = new Float32Array(T * N * B)): Float32Array {
  const M = N * B;
  const masks = out.subarray(0, T * M);
  masks.fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t <= Math.min(endStep[b], T - 1); t++) for (let a = 0; a < N; a++) masks[t * M + a * B + b] = 1;
  }
  return masks;
}

/**
 * The critic's TD(lambda) targets for one batch, time-major [t][agent][copy] (M = N * B columns).
 * `values` [T+1][N][B] holds the target critic's Q of the action at each slot (slot T: the action
 * sampled at the final observation). Copy b's steps 0..endStep[b] are valid; endTrunc[b] = 1
 * when it ended by the time limit.
 *   standard        tdLambdaTargets with terminated = 1 on a true termination's last step only
 *   terminated-sum  PyMARL's build_td_lambda_targets fed the released code's sticky flags
 *                   (terminated = 1 from the ending step on, time limit included).
 * Returns the targets and the masks [T][N][B].
 */
export function comaCriticTargets(
  bootstrap: 'standard' | 'terminated-sum',
  rewards: Float32Array,
  values: Float32Array,
  endStep: Int32Array,
  endTrunc: Uint8Array,
  T: number,
  N: number,
  B: number,
  gamma: number,
  lambda: number,
): { targets: Float32Array; masks: Float32Array } {
  const M = N * B;
  const masks = comaValidMasks(endStep, T, N, B);
  const terminated = new Float32Array(T * M);
  if (bootstrap === 'standard') {
    for (let b = 0; b < B; b++) {
      if (endTrunc[b] || endStep[b] >= T) continue;
      for (let a = 0; a < N; a++) terminated[endStep[b] * M + a * B + b] = 1;
    }
    return { targets: tdLambdaTargets(rewards, terminated, masks, values, T, M, gamma, lambda), masks };
  }
  for (let b = 0; b < B; b++) {
    for (let t = Math.max(endStep[b], 0); t < T; t++) for (let a = 0; a < N; a++) terminated[t * M + a * B + b] = 1;
  }
  return { targets: tdLambdaTargetsPymarl(rewards, terminated, masks, values, T, M, gamma, lambda), masks };
}

/** The critic's settings (the trainer's config, as the helper needs it). */
export interface ComaCriticSettings {
  readonly layout: CriticLayout;
  readonly bootstrap: 'standard' | 'terminated-sum';
  readonly reward: 'individual' | 'team';
  readonly gamma: number;
  readonly lambda: number;
  readonly criticUpdate: 'batch' | 'per-step-reverse';
  readonly criticGradClip: number;
}

/** What the critic reads of a batch (EpisodeBatch's fields; time-major, T + 1 slots where it has them). */
export interface ComaCriticBatch {
  readonly T: number;
  readonly B: number;
  readonly cobs: Float32Array; //     [T+1][N][B][envObs]
  readonly states: Float32Array; //   [T+1][B][S]
  readonly acts: Int32Array; //       [T+1][N][B]
  readonly rews: Float32Array; //     [T][N][B]
  readonly endStep: Int32Array; //    [B]
  readonly endTrunc: Uint8Array; //   [B]
}

/** The critic, its target and its optimiser (the trainer's, or the helper's replica). */
export interface ComaCriticNets {
  readonly critic: Mlp;
  readonly params: ParamSet;
  readonly target: Mlp;
  readonly opt: Optimizer;
}

/** Reusable CPU buffers, sized for the largest batch: inputs [(T+1) N B][F], Q [T N B][A]. */
export interface ComaCriticBuffers {
  readonly feats: Float32Array;
  readonly qPre: Float32Array;
  readonly work: ComaCriticWork;
}

export interface ComaCriticResult {
  /** Sum of the steps' losses, and of their gradient norms before clipping. */
  readonly loss: number;
  readonly norm: number;
  /** Optimiser steps taken (0 when the batch has no valid agent-step). */
  readonly steps: number;
  /** Valid agent-steps, and the sum of their targets (charts/target_mean). */
  readonly valid: number;
  readonly targetSum: number;
}

/**
 * The critic's update on one batch: targets from the target critic's Q (or from the critic's own
 * forward when `targetInSync`: the target is its copy and no step came since, coma-critic.ts),
 * then one step on all valid agent-steps ('batch') or one per time step, t = T-1..0
 * ('per-step-reverse'), writing the pre-update Q of every row into buf.qPre [T N B][A].
 * `onQ` is called once qPre is complete (before the backward in batch mode on the tape-free
 * path; the helper publishes Q to the waiting actor there).
 */
export function comaCriticUpdate(
  tf: Tf,
  nets: ComaCriticNets,
  s: ComaCriticSettings,
  d: ComaCriticBatch,
  targetInSync: boolean,
  buf: ComaCriticBuffers,
  onQ?: () => void,
): ComaCriticResult {
  const { critic, params, target, opt } = nets;
  const { T, B } = d;
  const N = s.layout.numAgents;
  const A = s.layout.numActions;
  const F = criticInputSize(s.layout);
  const M = N * B;
  const R = T * M;

  // ---------------------------------------------------------------- targets
  const feats = buf.feats.subarray(0, (T + 1) * M * F);
  buildCriticInputs(s.layout, T + 1, B, d.cobs, d.states, d.acts, feats);
  const values = new Float32Array((T + 1) * M);
  // When the target is the critic's copy and no critic step came since, one forward over the
  // T + 1 slots gives the bootstrap values, the baseline's Q and the backward's activations
  // (coma-critic.ts); batch mode only (the per-step loop changes the critic between steps).
  const explicit = explicitCriticApplies(critic);
  const shared = explicit && targetInSync && s.criticUpdate === 'batch' ? forwardRows(tf, critic, feats, F, 0, R, buf.work, M) : null;
  if (shared) {
    for (let i = 0; i < (T + 1) * M; i++) values[i] = shared.q[i * A + d.acts[i]];
  } else {
    tf.tidy(() => {
      const q = target.infer(tf.tensor3d(feats, [1, (T + 1) * M, F])).dataSync() as Float32Array;
      for (let i = 0; i < (T + 1) * M; i++) values[i] = q[i * A + d.acts[i]];
    });
  }
  const rewards = Float32Array.from(d.rews.subarray(0, R));
  if (s.reward === 'team') {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        let sum = 0;
        for (let a = 0; a < N; a++) sum += d.rews[t * M + a * B + b];
        for (let a = 0; a < N; a++) rewards[t * M + a * B + b] = sum;
      }
    }
  }
  const { targets, masks } = comaCriticTargets(s.bootstrap, rewards, values, d.endStep, d.endTrunc, T, N, B, s.gamma, s.lambda);

  // ---------------------------------------------------------------- critic update
  const qPre = buf.qPre.subarray(0, R * A);
  let criticLoss = 0;
  let criticNorm = 0;
  let steps = 0;
  let published = false;
  const publish = () => {
    if (published) return;
    published = true;
    onQ?.();
  };
  /**
   * One critic step on rows [r0, r0 + n) of the time-major batch: loss = sum of
   * W (Q - y)^2 with W = m one-hot(u) / count. Records the pre-update Q of those rows.
   */
  const criticStep = (r0: number, n: number, count: number) => {
    if (explicit) {
      const fw = shared ?? forwardRows(tf, critic, feats, F, r0, n, buf.work);
      qPre.set(fw.q.subarray(0, n * A), r0 * A);
      if (s.criticUpdate === 'batch') publish();
      const { value, grads } = explicitCriticGrads(tf, critic, params, 'critic', fw.pass, r0, n, targets, masks, d.acts, count, buf.work);
      if (!shared) disposePass(fw.pass);
      criticNorm += clipByGlobalNorm(tf, grads, s.criticGradClip);
      opt.step(grads);
      for (const g of Object.values(grads)) g.dispose();
      criticLoss += value;
      steps++;
      return;
    }
    const w = new Float32Array(n * A);
    for (let i = 0; i < n; i++) if (masks[r0 + i]) w[i * A + d.acts[r0 + i]] = 1 / count;
    let held: Tensor | null = null;
    const { value, grads } = tf.tidy(() => {
      const X = tf.tensor3d(feats.subarray(r0 * F, (r0 + n) * F), [1, n, F]);
      const W = tf.tensor3d(w, [1, n, A]);
      const Y = tf.tensor3d(targets.subarray(r0, r0 + n), [1, n, 1]);
      return params.grads(() => {
        const q = critic.forward(X, false);
        held = tf.keep(q); // the pre-update values feed the actor's baseline
        return tf.sum(tf.mul(W, tf.square(tf.sub(q, Y)))) as never;
      }) as never;
    }) as { value: number; grads: Record<string, Tensor> };
    const q = held as unknown as Tensor;
    qPre.set(q.dataSync() as Float32Array, r0 * A);
    q.dispose();
    if (s.criticUpdate === 'batch') publish();
    criticNorm += clipByGlobalNorm(tf, grads, s.criticGradClip);
    opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    criticLoss += value;
    steps++;
  };
  try {
    if (s.criticUpdate === 'batch') {
      let count = 0;
      for (let i = 0; i < R; i++) count += masks[i];
      if (count > 0) criticStep(0, R, count);
    } else {
      qPre.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        let count = 0;
        for (let i = 0; i < M; i++) count += masks[t * M + i];
        if (count === 0) continue;
        criticStep(t * M, M, count);
      }
    }
  } finally {
    if (shared) disposePass(shared.pass);
  }
  publish();
  let valid = 0;
  let targetSum = 0;
  for (let i = 0; i < R; i++) {
    if (!masks[i]) continue;
    valid++;
    targetSum += targets[i];
  }
  return { loss: criticLoss, norm: criticNorm, steps, valid, targetSum };
}

// ================================================================= the helper thread's port

/** What the helper needs to build replicas of the critic, its target and its optimiser. */
export interface ComaCriticSpec {
  /** Layer sizes [F, H, H, A], hidden activation. */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly optimizer: 'rmsprop' | 'adam';
  readonly lr: number;
  readonly rmspropAlpha: number;
  readonly rmspropEps: number;
  /** The most rows of one batch, T * N * B (sizes the shared Q buffer) and its input slots (T + 1) N B. */
  readonly maxRows: number;
  readonly maxSlots: number;
  /** The actor's sizes, when the helper may take a part of the actor's update (actorHelperShare > 0). */
  readonly actor?: ComaActorSpec;
}

/** What the helper needs to build a replica of the actor (RecurrentActor, G = 1). */
export interface ComaActorSpec {
  readonly obsSize: number;
  readonly numActions: number;
  readonly hiddenDim: number;
  readonly activation: Activation;
  readonly gruGates: GruGates;
}

/**
 * The helper's part of the actor's update (coma-actor-part.ts): the batch's copies b0..B-1,
 * their rows group-major, the actor's parameters before the update.
 */
export interface ComaActorJob {
  readonly b0: number;
  readonly params: Record<string, TensorRecord>;
  readonly settings: ComaActorSettings;
  readonly rows: ComaActorRows;
}

/** The helper's part's loss, gradients (by parameter name) and statistics' sums. */
export interface ComaActorPartResult {
  readonly loss: number;
  readonly grads: Record<string, TensorRecord>;
  readonly sums: ComaActorSums;
}

/** The critic's learning state: handed over before an update, handed back after it. */
export interface ComaCriticState {
  readonly critic: Record<string, TensorRecord>;
  readonly target: Record<string, TensorRecord>;
  readonly opt: OptimizerState;
}

export interface ComaCriticJob {
  readonly settings: ComaCriticSettings;
  readonly batch: ComaCriticBatch;
  readonly targetInSync: boolean;
  /** comaCriticPath.reference (the taped step), a switch the helper cannot see otherwise. */
  readonly reference: boolean;
  /** The helper's part of the actor's update, run after the critic's (actorHelperShare). */
  readonly actor?: ComaActorJob;
}

/** One update under way on the helper. */
export interface ComaCriticCall {
  /**
   * The pre-update Q [T N B][A], time-major; blocks until the helper has it (it is published
   * before the critic's backward). Valid until the next update. Throws if the helper failed.
   */
  q(): Float32Array;
  /** The same Q if the helper has it already, else null (does not wait). */
  tryQ(): Float32Array | null;
  /** The update's result and the critic's state after it. */
  readonly done: Promise<{ result: ComaCriticResult; state: ComaCriticState; actor?: ComaActorPartResult }>;
}

export interface ComaCriticThread {
  update(state: ComaCriticState, job: ComaCriticJob): ComaCriticCall;
  /** Stop the thread (idempotent). */
  close(): void;
}

export type ComaCriticThreadFactory = (spec: ComaCriticSpec) => ComaCriticThread;

let factory: ComaCriticThreadFactory | null = null;

/** Set by the host process (src-main) once its backend is up; null turns threads off. */
export function setComaCriticThreadFactory(f: ComaCriticThreadFactory | null): void {
  factory = f;
}

export function comaCriticThreadFactory(): ComaCriticThreadFactory | null {
  return factory;
}
