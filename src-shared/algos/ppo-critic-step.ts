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
 * thread (checked by test/algos/ppo-threads.test.ts). By default the helper also carries the
 * critic's rollout forward and the staging of its minibatches (`CriticRolloutStore`, below):
 * the critic's inputs of a rollout cross threads once, as they are written, instead of as
 * staged minibatch rows (~8 MB per MAPPO minibatch), and the trainer's thread, the critical
 * path, loses the critic's forward of every rollout step (docs/performance.md, "issue-15t").
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

/** The critic's rollout sizes (PpoTrainer's): rows per step, episode limit, chunk length, copies, value heads. */
export interface CriticRolloutDims {
  readonly rowsC: number;
  readonly L: number;
  readonly CL: number;
  readonly B: number;
  readonly K: number;
}

/**
 * The critic's side of a rollout: its inputs of every step, its values (normalised if
 * valueNorm) and its GRU states at chunk starts, with the one forward step and the one staging
 * of a minibatch's inputs that both threads run (the trainer on one thread; the helper when it
 * carries the critic's rollout, `ppoThreadOptions.helperRollout`), so both give the same bits.
 */
export class CriticRolloutStore {
  readonly pk: number;
  readonly E: number;
  readonly H: number;
  readonly cPatch: Float32Array; // [L+1][rowsC][P*K]
  readonly cExtra: Float32Array; // [L+1][rowsC][E]
  readonly vals: Float32Array; //   [L+1][rowsC][K]
  readonly hCStore: Float32Array; // [chunks][rowsC][H]
  private hC: Float32Array;
  private hC2: Float32Array;

  constructor(
    readonly shape: { P: number; K: number; E: number },
    readonly groups: number,
    hidden: number,
    readonly dims: CriticRolloutDims,
  ) {
    const { rowsC, L, CL, K } = dims;
    this.pk = shape.P * shape.K;
    this.E = shape.E;
    this.H = hidden;
    this.cPatch = new Float32Array((L + 1) * rowsC * this.pk);
    this.cExtra = new Float32Array((L + 1) * rowsC * this.E);
    this.vals = new Float32Array((L + 1) * rowsC * K);
    this.hCStore = new Float32Array(Math.ceil(L / CL) * rowsC * hidden);
    this.hC = new Float32Array(rowsC * hidden);
    this.hC2 = new Float32Array(rowsC * hidden);
  }

  /** A new rollout: zero state. */
  reset(): void {
    this.hC.fill(0);
  }

  /**
   * The critic's forward on slot t's rows (already in cPatch/cExtra), its values to vals[t];
   * at a chunk start (t a multiple of CL within the rollout) the state first goes to hCStore.
   */
  step(tf: Tf, critic: PpoNet, t: number, chunkStart: boolean): void {
    const { rowsC, CL, K } = this.dims;
    const { pk, E, H } = this;
    if (chunkStart) this.hCStore.set(this.hC, (t / CL) * rowsC * H);
    const G = this.groups;
    const R = rowsC / G;
    const p = tf.tensor3d(this.cPatch.subarray(t * rowsC * pk, (t + 1) * rowsC * pk), [G, R * this.shape.P, this.shape.K]);
    const e = E > 0 ? tf.tensor3d(this.cExtra.subarray(t * rowsC * E, (t + 1) * rowsC * E), [G, R, E]) : null;
    const v = critic.step(p, e, R, this.hC, this.hC2);
    p.dispose();
    e?.dispose();
    [this.hC, this.hC2] = [this.hC2, this.hC];
    this.vals.set(v, t * rowsC * K);
  }

  /**
   * A minibatch's critic inputs, rows [group][step k][sequence s] (sequences = `units`, (chunk,
   * copy) pairs): patches, extras, the chunk-start states and the rollout's values; steps past
   * T or after a copy ended stay zero (the buffers come zero-filled).
   */
  stage(units: Int32Array, T: number, valid: Uint8Array, out: { cP: Float32Array; cE: Float32Array; cH: Float32Array; cOld: Float32Array }): void {
    const { rowsC, CL, B, K } = this.dims;
    const { pk, E, H } = this;
    const GC = this.groups;
    const SC = units.length;
    const { cP, cE, cH, cOld } = out;
    for (let g = 0; g < GC; g++) {
      for (let s = 0; s < SC; s++) {
        const unit = units[s];
        const c = Math.floor(unit / B);
        const b = unit % B;
        const r = GC === 1 ? b : g * B + b; // critic row
        const t0 = c * CL;
        cH.set(this.hCStore.subarray((c * rowsC + r) * H, (c * rowsC + r + 1) * H), (g * SC + s) * H);
        for (let k = 0; k < CL; k++) {
          const q = (g * CL + k) * SC + s;
          const t = t0 + k;
          if (t >= T || !valid[t * B + b]) continue;
          const i = t * rowsC + r;
          cP.set(this.cPatch.subarray(i * pk, (i + 1) * pk), q * pk);
          if (E > 0) cE.set(this.cExtra.subarray(i * E, (i + 1) * E), q * E);
          for (let h = 0; h < K; h++) cOld[q * K + h] = this.vals[i * K + h];
        }
      }
    }
  }
}

/**
 * A critic minibatch for a helper that holds the rollout (`CriticRolloutStore`): the units
 * and the targets; the helper stages the inputs itself (no input rows cross threads).
 */
export interface StagedCriticJob extends Omit<CriticJob, 'cP' | 'cE' | 'cH' | 'cOld'> {
  readonly units: Int32Array;
  readonly T: number;
  readonly valid: Uint8Array;
}

/** What the helper's rollout gives back: the values and the chunk-start states. */
export interface CriticRolloutResult {
  readonly vals: Float32Array;
  readonly hCStore: Float32Array;
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
  /** The rollout's sizes, for a helper that carries the critic's rollout. */
  readonly rollout: CriticRolloutDims;
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
  /**
   * The critic's rollout on the helper (after `begin`, before the steps): `rolloutStep` hands
   * over slot t's input rows (copied) and runs the forward there; `rolloutDone` answers with
   * the values and chunk-start states once all posted steps ran. `stagedStep` is `step` with
   * the inputs staged by the helper from the rollout it holds.
   */
  rolloutStep(t: number, patches: Float32Array, extras: Float32Array, chunkStart: boolean): void;
  rolloutDone(): Promise<CriticRolloutResult>;
  stagedStep(job: StagedCriticJob): Promise<CriticResult>;
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
