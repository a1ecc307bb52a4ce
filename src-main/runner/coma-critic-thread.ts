/**
 * Host side of COMA's critic thread (`algo.updateThreads: 2`; the protocol and why are in
 * src-shared/algos/coma-critic-step.ts). One `worker_threads` Worker per trainer, running
 * coma-critic-worker.ts; starting it, failure and exit are helper-thread.ts's (shared with PPO's
 * critic thread).
 *
 * The pre-update Q goes through a SharedArrayBuffer: the actor's loss needs it in the middle of
 * its taped forward (a synchronous function), so `q()` waits on helper-signal.ts's signal
 * (shared with PG's critic thread) instead of a message.
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
import { SignalWaiter, signalShared, type SignalShared } from './helper-signal';

/** The shared memory of one helper: Q float32 [maxRows * A], and the signal's words. */
export interface ComaShared {
  q: SharedArrayBuffer;
  signal: SignalShared;
}

export type ComaHostMessage =
  | { kind: 'update'; id: number; seq: number; state: ComaCriticState; job: ComaCriticJob }
  | { kind: 'memory'; id: number };

export type ComaWorkerAnswer = { kind: 'update'; id: number; result: ComaCriticResult; state: ComaCriticState; actor?: ComaActorPartResult };

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
  private readonly signal: SignalWaiter;
  private seq = 0;

  constructor(backend: string, spec: ComaCriticSpec) {
    const A = spec.sizes[spec.sizes.length - 1];
    const shared: ComaShared = { q: new SharedArrayBuffer(spec.maxRows * A * 4), signal: signalShared() };
    this.q = new Float32Array(shared.q);
    this.helper = new HelperThread<ComaHostMessage>('coma critic thread', 'coma-critic-worker', { backend, spec, shared }, (msg) => {
      const m = msg as ComaWorkerAnswer;
      return { result: m.result, state: m.state, actor: m.actor };
    });
    this.signal = new SignalWaiter('coma critic thread', shared.signal, this.helper as HelperThread);
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
    return {
      q: () => {
        this.signal.wait(seq);
        return this.q.subarray(0, rows);
      },
      tryQ: () => (this.signal.ready(seq) ? this.q.subarray(0, rows) : null),
      done,
    };
  }

  /** The helper isolate's heap, external (wasm) memory and live tensors, queued after pending calls. */
  memory(): Promise<HelperMemory> {
    return this.helper.memory();
  }

  close(): void {
    this.helper.close();
  }
}
