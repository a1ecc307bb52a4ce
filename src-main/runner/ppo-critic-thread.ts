/**
 * Host side of the PPO critic's helper thread (`algo.updateThreads: 2`; the protocol and why
 * are in src-shared/algos/ppo-critic-step.ts). One `worker_threads` Worker per trainer, running
 * ppo-critic-worker.ts (built: `ppo-critic-worker.js` beside this module in out/main; from
 * source: through tsx, as the report thread does).
 *
 * Failure: an error or exit of the helper rejects every pending call and every later one with
 * "ppo critic thread failed: ..." so the round, and with it the run, fails with that message
 * (the worker process reports it like any learner error); the app is not affected.
 * Exit: the thread is unref'd whenever nothing is pending, so an undisposed trainer never
 * keeps a process alive; `close` terminates it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CriticJob, CriticResult, CriticSpec, CriticState, PpoCriticThread } from '../../src-shared/algos/ppo-critic-step';

export type HostMessage =
  | { kind: 'begin'; state: CriticState }
  | { kind: 'step'; id: number; job: CriticJob }
  | { kind: 'end'; id: number }
  | { kind: 'memory'; id: number };

/** The helper's own isolate: what the process's memoryUsage() in the host thread cannot see. */
export interface HelperMemory {
  heapMb: number;
  /** External and ArrayBuffer memory of the helper's isolate (its wasm heap is in here). */
  externalMb: number;
  tensors: number;
}

type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'step'; id: number; value: number; norms: number[] }
  | { kind: 'end'; id: number; state: CriticState }
  | ({ kind: 'memory'; id: number } & HelperMemory)
  | { kind: 'error'; message: string };

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
}

function spawn(workerData: unknown): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    // Bundled: this code sits in out/main or in a chunk folder below it.
    for (const dir of [path.dirname(here), path.dirname(path.dirname(here))]) {
      const built = path.join(dir, 'ppo-critic-worker.js');
      if (fs.existsSync(built)) return new Worker(built, { workerData });
    }
  }
  // From source: register tsx inside the thread (Node 20 ignores `--import` in a Worker's execArgv).
  const src = fileURLToPath(new URL('./ppo-critic-worker.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(src).href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

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

/** Helpers alive in this process (the bench's --rss reads their memory). */
const live = new Set<PpoCriticThreadHost>();

export function liveCriticThreads(): readonly PpoCriticThreadHost[] {
  return [...live];
}

export class PpoCriticThreadHost implements PpoCriticThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(backend: string, spec: CriticSpec) {
    this.worker = spawn({ backend, spec });
    this.worker.unref();
    live.add(this);
    this.worker.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'ready') return;
      if (msg.kind === 'error') return this.fail(new Error(`ppo critic thread failed: ${msg.message.split('\n')[0]}`));
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.kind === 'memory') {
        const { kind: _k, id: _i, ...mem } = msg;
        return p.resolve(mem as never);
      }
      p.resolve((msg.kind === 'step' ? { value: msg.value, norms: msg.norms } : msg.state) as never);
    });
    this.worker.on('error', (err) => this.fail(new Error(`ppo critic thread failed: ${err.message.split('\n')[0]}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`ppo critic thread exited with code ${code}`));
    });
  }

  /** The underlying thread (tests end it to check that a crash fails the round). */
  get thread(): Worker {
    return this.worker;
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(this.failure);
  }

  private call<T>(msg: HostMessage, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('ppo critic thread: used after close'));
    const id = (msg as { id: number }).id;
    const p = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: never) => void, reject }));
    this.worker.ref();
    this.worker.postMessage(msg, transfer);
    return p;
  }

  begin(state: CriticState): void {
    if (this.failure || this.closed) return; // the next call reports it
    const transfer: ArrayBuffer[] = [];
    for (const r of Object.values(state.params)) transfer.push(r.data.buffer as ArrayBuffer);
    for (const r of Object.values(state.opt.tensors)) transfer.push(r.data.buffer as ArrayBuffer);
    this.worker.postMessage({ kind: 'begin', state } satisfies HostMessage, transfer);
  }

  step(job: CriticJob): Promise<CriticResult> {
    const d = detach(job);
    return this.call<CriticResult>({ kind: 'step', id: this.nextId++, job: d.job }, d.transfer);
  }

  end(): Promise<CriticState> {
    return this.call<CriticState>({ kind: 'end', id: this.nextId++ });
  }

  /** The helper isolate's heap, external (wasm) memory and live tensors, queued after pending steps. */
  memory(): Promise<HelperMemory> {
    return this.call<HelperMemory>({ kind: 'memory', id: this.nextId++ });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    this.fail(new Error('ppo critic thread: closed'));
    void this.worker.terminate();
  }
}
