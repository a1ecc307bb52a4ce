/**
 * Host side of COMA's critic thread (`algo.updateThreads: 2`; the protocol and why are in
 * src-shared/algos/coma-critic-step.ts). One `worker_threads` Worker per trainer, running
 * coma-critic-worker.ts; starting it, failure and exit are helper-thread.ts's (shared with PPO's
 * critic thread).
 *
 * The pre-update Q goes through a SharedArrayBuffer: the actor's loss needs it in the middle of
 * its taped forward (a synchronous function), so `q()` waits with Atomics.wait (allowed on a
 * Node main thread) instead of a message. The helper writes Q, then the update's sequence
 * number, and notifies; on an error it writes a failure flag and the message's first line
 * first, so the waiting trainer fails with it instead of waiting for an answer that cannot come.
 */
import type { Worker } from 'node:worker_threads';
import type {
  ComaActorPartResult,
  ComaCriticCall,
  ComaCriticJob,
  ComaCriticResult,
  ComaCriticSpec,
  ComaCriticState,
  ComaCriticThread,
} from '../../src-shared/algos/coma-critic-step';
import { HelperThread, type HelperMemory } from './helper-thread';

/** The shared memory of one helper: Q, and the control words (see SYNC_*). */
export interface ComaShared {
  q: SharedArrayBuffer; //     float32 [maxRows * A]
  sync: SharedArrayBuffer; //  int32 [SYNC_WORDS]
  error: SharedArrayBuffer; // utf-8 bytes of the failure's first line
}
/** sync[SYNC_SEQ]: the last update whose Q is in; sync[SYNC_FAILED]: 1 once the helper failed; sync[SYNC_ERROR_LEN]: bytes in `error`. */
export const SYNC_SEQ = 0;
export const SYNC_FAILED = 1;
export const SYNC_ERROR_LEN = 2;
const SYNC_WORDS = 4;
export const ERROR_BYTES = 1024;

export type ComaHostMessage =
  | { kind: 'update'; id: number; seq: number; state: ComaCriticState; job: ComaCriticJob }
  | { kind: 'memory'; id: number };

export type ComaWorkerAnswer = { kind: 'update'; id: number; result: ComaCriticResult; state: ComaCriticState; actor?: ComaActorPartResult };

/**
 * How long `q()` waits for the helper's forward before giving up. It only runs out if the
 * helper died without a word (an error writes the failure flag): a forward takes milliseconds.
 */
const Q_DEADLINE_MS = 600_000;

/** Copies of the batch's arrays in use (the trainer reuses its batch buffers), to be moved, not cloned. */
function detach(job: ComaCriticJob, N: number, E: number, S: number): { job: ComaCriticJob; transfer: ArrayBuffer[] } {
  const d = job.batch;
  const M = N * d.B;
  const cobs = d.cobs.slice(0, (d.T + 1) * M * E);
  const states = d.states.slice(0, (d.T + 1) * d.B * S);
  const acts = d.acts.slice(0, (d.T + 1) * M);
  const rews = d.rews.slice(0, d.T * M);
  const endStep = d.endStep.slice(0, d.B);
  const endTrunc = d.endTrunc.slice(0, d.B);
  return {
    job: { ...job, batch: { T: d.T, B: d.B, cobs, states, acts, rews, endStep, endTrunc } },
    transfer: [cobs, states, acts, rews, endStep, endTrunc].map((a) => a.buffer as ArrayBuffer),
  };
}

export class ComaCriticThreadHost implements ComaCriticThread {
  private readonly helper: HelperThread<ComaHostMessage>;
  private readonly q: Float32Array;
  private readonly sync: Int32Array;
  private readonly error: Uint8Array;
  private seq = 0;

  constructor(backend: string, spec: ComaCriticSpec) {
    const A = spec.sizes[spec.sizes.length - 1];
    const shared: ComaShared = {
      q: new SharedArrayBuffer(spec.maxRows * A * 4),
      sync: new SharedArrayBuffer(SYNC_WORDS * 4),
      error: new SharedArrayBuffer(ERROR_BYTES),
    };
    this.q = new Float32Array(shared.q);
    this.sync = new Int32Array(shared.sync);
    this.error = new Uint8Array(shared.error);
    this.helper = new HelperThread<ComaHostMessage>('coma critic thread', 'coma-critic-worker', { backend, spec, shared }, (msg) => {
      const m = msg as ComaWorkerAnswer;
      return { result: m.result, state: m.state, actor: m.actor };
    });
  }

  /** The underlying thread (tests end it to check that a crash fails the round). */
  get thread(): Worker {
    return this.helper.thread;
  }

  update(state: ComaCriticState, job: ComaCriticJob): ComaCriticCall {
    const seq = ++this.seq;
    const { layout } = job.settings;
    const d = detach(job, layout.numAgents, layout.envObsSize, layout.mode === 'centralised' ? layout.stateSize : 0);
    const transfer = [...d.transfer];
    for (const r of Object.values(state.critic)) transfer.push(r.data.buffer as ArrayBuffer);
    for (const r of Object.values(state.target)) transfer.push(r.data.buffer as ArrayBuffer);
    for (const r of Object.values(state.opt.tensors)) transfer.push(r.data.buffer as ArrayBuffer);
    // The actor's part (actorHelperShare): fresh arrays made for the helper, moved too.
    const a = job.actor;
    if (a) {
      for (const r of Object.values(a.params)) transfer.push(r.data.buffer as ArrayBuffer);
      for (const v of [a.rows.x, a.rows.avail, a.rows.acts, a.rows.masks]) transfer.push(v.buffer as ArrayBuffer);
    }
    const done = this.helper.call<{ result: ComaCriticResult; state: ComaCriticState; actor?: ComaActorPartResult }>({ kind: 'update', id: this.helper.id(), seq, state, job: d.job }, transfer);
    // A round that fails at q() never awaits `done`; its rejection is the same failure.
    done.catch(() => undefined);
    const rows = d.job.batch.T * layout.numAgents * d.job.batch.B * layout.numActions;
    return { q: () => this.waitQ(seq, rows), tryQ: () => (Atomics.load(this.sync, SYNC_SEQ) === seq ? this.q.subarray(0, rows) : null), done };
  }

  private waitQ(seq: number, n: number): Float32Array {
    const t0 = Date.now();
    for (;;) {
      const f = this.helper.failure;
      if (f) throw f;
      if (Atomics.load(this.sync, SYNC_FAILED) !== 0) {
        const len = Atomics.load(this.sync, SYNC_ERROR_LEN);
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        const msg = new TextDecoder().decode(this.error.slice(0, len));
        throw new Error(`coma critic thread failed: ${msg}`);
      }
      const at = Atomics.load(this.sync, SYNC_SEQ);
      if (at === seq) return this.q.subarray(0, n);
      if (Date.now() - t0 > Q_DEADLINE_MS) throw new Error(`coma critic thread: no Q from the helper after ${Q_DEADLINE_MS / 1000} s`);
      Atomics.wait(this.sync, SYNC_SEQ, at, 1000);
    }
  }

  /** The helper isolate's heap, external (wasm) memory and live tensors, queued after pending calls. */
  memory(): Promise<HelperMemory> {
    return this.helper.memory();
  }

  close(): void {
    this.helper.close();
  }
}
