/**
 * The PPO critic's minibatch step (value loss, gradient, per-group norm clip, Adam), and the
 * port through which PpoTrainer can run it on a second thread (`updateThreads: 2`).
 *
 * Why a second thread: a PPO round is ~90% update, and the actor's and the critic's updates of
 * one minibatch are independent given the rollout's data (the critic's loss reads only its own
 * inputs and targets; no Rng draw happens inside a minibatch; the value normaliser's update is
 * CPU bookkeeping done while staging, on the trainer's thread, in the same order). So the
 * trainer stages each critic minibatch, hands it to a helper thread that owns a replica of the
 * critic and its Adam state, runs the actor's step meanwhile, and takes the critic's parameters
 * and optimiser state back at the end of the update. Both threads run the same code
 * (`criticStep`) on the same backend with the same kernels, so the bits are the same as on one
 * thread (checked by test/algos/ppo-threads.test.ts).
 *
 * src-shared cannot start threads (no Node modules here): the host process registers a factory
 * (`setPpoCriticThreadFactory`; src-main/runner/ppo-critic-thread.ts, done by initBackend).
 */
import { clipByGroupNorm, valueLossElements } from '../nn/ppo';
import type { Activation } from '../nn/mlp';
import type { Adam, OptimizerState } from '../nn/optim';
import type { PpoNet } from '../nn/ppo-net';
import { ppoSequencePath } from '../nn/ppo-net';
import type { Tensor, TensorRecord, Tf } from '../nn/tf';

/** One staged critic minibatch: rows [group][step k][sequence s] (see PpoTrainer.minibatch). */
export interface CriticJob {
  readonly cP: Float32Array;
  readonly cE: Float32Array;
  readonly cH: Float32Array;
  readonly cOld: Float32Array;
  readonly cTgt: Float32Array;
  readonly cW: Float32Array;
  readonly CL: number;
  readonly SC: number;
  readonly GC: number;
  readonly K: number;
  readonly J: number;
  readonly clip: number;
  readonly huberDelta: number;
  readonly valueCoef: number;
  readonly gradClip: number;
  /** The network path (PpoNet.sequence or sequenceReference): a bench switch the helper cannot see otherwise. */
  readonly reference: boolean;
}

export interface CriticResult {
  /** The weighted value loss times valueCoef (what the gradient is of). */
  readonly value: number;
  /** Per-group gradient norms before clipping. */
  readonly norms: number[];
}

/** One Adam step of the critic on a staged minibatch. */
export function criticStep(tf: Tf, critic: PpoNet, opt: Adam, job: CriticJob): CriticResult {
  const { CL, SC, GC, K, J } = job;
  const saved = ppoSequencePath.reference;
  ppoSequencePath.reference = job.reference;
  try {
    const res = tf.tidy(() => {
      const vOld = tf.tensor3d(job.cOld, [GC, CL * SC, K]);
      const tgt = tf.tensor3d(job.cTgt, [GC, CL * SC, J]);
      const w = tf.tensor3d(job.cW, [GC, CL * SC, J]);
      return critic.params.grads(() => {
        const v = critic.sequence(job.cP, job.cE, job.cH, CL, SC);
        const el = valueLossElements(tf, v, vOld, tgt, job.clip, job.huberDelta);
        return tf.mul(tf.sum(tf.mul(w, el)), job.valueCoef) as never;
      }) as never;
    }) as { value: number; grads: Record<string, Tensor> };
    const norms = clipByGroupNorm(tf, res.grads, GC, job.gradClip);
    opt.step(res.grads);
    for (const g of Object.values(res.grads)) g.dispose();
    return { value: res.value, norms };
  } finally {
    ppoSequencePath.reference = saved;
  }
}

/** What the helper needs to build a replica of the critic (PpoNet's and Adam's arguments). */
export interface CriticSpec {
  readonly shape: { P: number; K: number; E: number };
  readonly groups: number;
  readonly hidden: number;
  readonly outputs: number;
  readonly activation: Activation;
  readonly recurrent: boolean;
  readonly lr: number;
  readonly eps: number;
}

/** The critic's full learning state, handed to the helper and back once per update. */
export interface CriticState {
  readonly params: Record<string, TensorRecord>;
  readonly opt: OptimizerState;
}

/**
 * A helper thread owning a critic replica. Calls are queued in order: `begin` loads the state,
 * each `step` runs one minibatch, `end` returns the state after the last step. A failure of
 * the thread rejects every pending and later call with an error saying so.
 */
export interface PpoCriticThread {
  begin(state: CriticState): void;
  step(job: CriticJob): Promise<CriticResult>;
  end(): Promise<CriticState>;
  /** Stop the thread (idempotent). */
  close(): void;
}

export type PpoCriticThreadFactory = (spec: CriticSpec) => PpoCriticThread;

let factory: PpoCriticThreadFactory | null = null;

/** Set by the host process (src-main) once its backend is up; null turns threads off. */
export function setPpoCriticThreadFactory(f: PpoCriticThreadFactory | null): void {
  factory = f;
}

export function ppoCriticThreadFactory(): PpoCriticThreadFactory | null {
  return factory;
}
