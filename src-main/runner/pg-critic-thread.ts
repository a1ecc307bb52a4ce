/**
 * Host side of PG's critic thread (`algo.updateThreads: 2`; the protocol and why are in
 * src-shared/algos/pg-critic-step.ts). One `worker_threads` Worker per trainer, running
 * pg-critic-worker.ts; starting it, failure and exit are helper-thread.ts's, the wait for V
 * helper-signal.ts's (V goes through a SharedArrayBuffer: the actor's loss needs it inside its
 * taped forward, a synchronous function).
 */
import type { Worker } from 'node:worker_threads';
import type { PgCriticCall, PgCriticJob, PgCriticResult, PgCriticSpec, PgCriticState, PgCriticThread } from '../../src-shared/algos/pg-critic-step';
import { HelperThread, type HelperMemory } from './helper-thread';
import { SignalWaiter, signalShared, type SignalShared } from './helper-signal';

/** The shared memory of one helper: V float32 [maxRows], and the signal's words. */
export interface PgShared {
  values: SharedArrayBuffer;
  signal: SignalShared;
}

export type PgHostMessage = { kind: 'update'; id: number; seq: number; state: PgCriticState; job: PgCriticJob } | { kind: 'memory'; id: number };

export type PgWorkerAnswer = { kind: 'update'; id: number; result: PgCriticResult; state: PgCriticState };

const LABEL = 'pg critic thread';

/** Copies of the round's arrays (the trainer reuses its buffers), moved, not cloned. */
function detach(job: PgCriticJob): { job: PgCriticJob; transfer: ArrayBuffer[] } {
  const d = job.batch;
  const R = d.T * d.N * d.B;
  const cobs = d.cobs.slice(0, R * d.E);
  const targets = d.targets.slice(0, R);
  const masks = d.masks.slice(0, R);
  return { job: { ...job, batch: { ...d, cobs, targets, masks } }, transfer: [cobs, targets, masks].map((a) => a.buffer as ArrayBuffer) };
}

export class PgCriticThreadHost implements PgCriticThread {
  private readonly helper: HelperThread<PgHostMessage>;
  private readonly values: Float32Array;
  private readonly signal: SignalWaiter;
  private seq = 0;

  constructor(backend: string, spec: PgCriticSpec) {
    const shared: PgShared = { values: new SharedArrayBuffer(spec.maxRows * 4), signal: signalShared() };
    this.values = new Float32Array(shared.values);
    this.helper = new HelperThread<PgHostMessage>(LABEL, 'pg-critic-worker', { backend, spec, shared }, (msg) => {
      const m = msg as PgWorkerAnswer;
      return { result: m.result, state: m.state };
    });
    this.signal = new SignalWaiter(LABEL, shared.signal, this.helper as HelperThread);
  }

  /** The underlying thread (tests end it to check that a crash fails the round). */
  get thread(): Worker {
    return this.helper.thread;
  }

  update(state: PgCriticState, job: PgCriticJob): PgCriticCall {
    const seq = ++this.seq;
    const d = detach(job);
    const transfer = [...d.transfer];
    for (const r of Object.values(state.critic)) transfer.push(r.data.buffer as ArrayBuffer);
    for (const r of Object.values(state.opt.tensors)) transfer.push(r.data.buffer as ArrayBuffer);
    const done = this.helper.call<{ result: PgCriticResult; state: PgCriticState }>({ kind: 'update', id: this.helper.id(), seq, state, job: d.job }, transfer);
    // A round that fails at values() never awaits `done`; its rejection is the same failure.
    done.catch(() => undefined);
    const n = job.batch.T * job.batch.N * job.batch.B;
    return {
      values: () => {
        this.signal.wait(seq);
        return this.values.subarray(0, n);
      },
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
