/**
 * Host side of the PPO critic's helper thread (`algo.updateThreads: 2`; the protocol and why
 * are in src-shared/algos/ppo-critic-step.ts). One `worker_threads` Worker per trainer, running
 * ppo-critic-worker.ts; starting it, failure and exit are helper-thread.ts's (shared with
 * COMA's critic thread).
 *
 * Failure: an error or exit of the helper rejects every pending call and every later one with
 * "ppo critic thread failed: ..." so the round, and with it the run, fails with that message
 * (the worker process reports it like any learner error); the app is not affected.
 * Exit: the thread is unref'd whenever nothing is pending, so an undisposed trainer never
 * keeps a process alive; `close` terminates it.
 */
import type { Worker } from 'node:worker_threads';
import type {
  CriticJob,
  CriticResult,
  CriticRolloutResult,
  CriticSpec,
  CriticState,
  PpoCriticThread,
  StagedCriticJob,
} from '../../src-shared/algos/ppo-critic-step';
import { HelperThread, liveHelperThreads, type HelperMemory } from './helper-thread';

export type { HelperMemory } from './helper-thread';

export type HostMessage =
  | { kind: 'begin'; state: CriticState }
  | { kind: 'step'; id: number; job: CriticJob }
  | { kind: 'end'; id: number }
  | { kind: 'rollout-step'; t: number; patches: Float32Array; extras: Float32Array; chunkStart: boolean }
  | { kind: 'rollout-done'; id: number }
  | { kind: 'staged-step'; id: number; job: StagedCriticJob }
  | { kind: 'memory'; id: number };

type Answer =
  | { kind: 'step'; id: number; value: number; norms: number[] }
  | { kind: 'end'; id: number; state: CriticState }
  | { kind: 'rollout-done'; id: number; result: CriticRolloutResult };

/** Copies of the job's arrays (the trainer reuses its staging buffers), moved, not cloned again. */
function detach(job: CriticJob): { job: CriticJob; transfer: ArrayBuffer[] } {
  const cP = job.cP.slice();
  const cE = job.cE.slice();
  const cH = job.cH.slice();
  const cOld = job.cOld.slice();
  const cTgt = job.cTgt.slice();
  const cW = job.cW.slice();
  return {
    job: { ...job, cP, cE, cH, cOld, cTgt, cW },
    transfer: [cP, cE, cH, cOld, cTgt, cW].map((a) => a.buffer as ArrayBuffer),
  };
}

/** Helpers alive in this process, of any learner (the bench's --rss reads their memory). */
export function liveCriticThreads(): readonly { memory(): Promise<HelperMemory> }[] {
  return liveHelperThreads();
}

export class PpoCriticThreadHost implements PpoCriticThread {
  private readonly helper: HelperThread<HostMessage>;

  constructor(backend: string, spec: CriticSpec) {
    this.helper = new HelperThread<HostMessage>('ppo critic thread', 'ppo-critic-worker', { backend, spec }, (msg) => {
      const m = msg as Answer;
      return m.kind === 'step' ? { value: m.value, norms: m.norms } : m.kind === 'end' ? m.state : m.result;
    });
  }

  /** The underlying thread (tests end it to check that a crash fails the round). */
  get thread(): Worker {
    return this.helper.thread;
  }

  begin(state: CriticState): void {
    const transfer: ArrayBuffer[] = [];
    for (const r of Object.values(state.params)) transfer.push(r.data.buffer as ArrayBuffer);
    for (const r of Object.values(state.opt.tensors)) transfer.push(r.data.buffer as ArrayBuffer);
    this.helper.post({ kind: 'begin', state }, transfer);
  }

  step(job: CriticJob): Promise<CriticResult> {
    const d = detach(job);
    return this.helper.call<CriticResult>({ kind: 'step', id: this.helper.id(), job: d.job }, d.transfer);
  }

  rolloutStep(t: number, patches: Float32Array, extras: Float32Array, chunkStart: boolean): void {
    const p = patches.slice();
    const e = extras.slice();
    this.helper.post({ kind: 'rollout-step', t, patches: p, extras: e, chunkStart }, [p.buffer as ArrayBuffer, e.buffer as ArrayBuffer]);
  }

  rolloutDone(): Promise<CriticRolloutResult> {
    return this.helper.call<CriticRolloutResult>({ kind: 'rollout-done', id: this.helper.id() });
  }

  stagedStep(job: StagedCriticJob): Promise<CriticResult> {
    // Copies: the trainer reuses its buffers (the units are a view of its shuffled order).
    const units = job.units.slice();
    const valid = job.valid.slice();
    const cTgt = job.cTgt.slice();
    const cW = job.cW.slice();
    const transfer = [units, valid, cTgt, cW].map((a) => a.buffer as ArrayBuffer);
    return this.helper.call<CriticResult>({ kind: 'staged-step', id: this.helper.id(), job: { ...job, units, valid, cTgt, cW } }, transfer);
  }

  end(): Promise<CriticState> {
    return this.helper.call<CriticState>({ kind: 'end', id: this.helper.id() });
  }

  /** The helper isolate's heap, external (wasm) memory and live tensors, queued after pending steps. */
  memory(): Promise<HelperMemory> {
    return this.helper.memory();
  }

  close(): void {
    this.helper.close();
  }
}
