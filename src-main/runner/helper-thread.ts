/**
 * A learner's helper thread (`algo.updateThreads: 2`), the part every such helper shares: one
 * `worker_threads` Worker running `<name>.ts` of this folder (built: `<name>.js` beside the
 * bundled host in out/main; from source: through tsx, as the report thread does), calls queued
 * in order and answered by id, failure and exit. PPO's critic (ppo-critic-thread.ts), COMA's
 * (coma-critic-thread.ts) and PG's (pg-critic-thread.ts) are built on it; each says what its
 * messages mean. Their workers share the other end (helper-worker.ts: backend start, message
 * loop, `memory`, failure).
 *
 * Failure: an error or exit of the helper rejects every pending call and every later one with
 * "<label> failed: ..." (or "<label> exited with code N"), so the round, and with it the run,
 * fails with that message (the worker process reports it like any learner error).
 * Exit: the thread is unref'd whenever nothing is pending, so an undisposed trainer never
 * keeps a process alive; `close` terminates it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What every helper's worker may post besides its answers. */
export type HelperNotice = { kind: 'ready' } | { kind: 'error'; message: string };

/** The helper isolate's memory: what the process's memoryUsage() in the host thread cannot see. */
export interface HelperMemory {
  heapMb: number;
  /** External and ArrayBuffer memory of the helper's isolate (its wasm heap is in here). */
  externalMb: number;
  tensors: number;
}

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
}

/** Start `<name>` (a worker module of src-main/runner) with `workerData`. */
function spawn(name: string, workerData: unknown): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    // Bundled: this code sits in out/main or in a chunk folder below it.
    for (const dir of [path.dirname(here), path.dirname(path.dirname(here))]) {
      const built = path.join(dir, `${name}.js`);
      if (fs.existsSync(built)) return new Worker(built, { workerData });
    }
  }
  // From source: register tsx inside the thread (Node 20 ignores `--import` in a Worker's execArgv).
  const src = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(src).href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Helpers alive in this process (the bench's --rss reads their memory). */
const live = new Set<HelperThread>();

export function liveHelperThreads(): readonly HelperThread[] {
  return [...live];
}

/**
 * The host's end of one helper. `decode` turns an answer (any message with an `id` other than
 * the notices) into what the call resolves to.
 */
export class HelperThread<M extends { kind: string } = { kind: string }> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failureError: Error | null = null;
  private closed = false;

  /**
   * `label`: how errors name it ("ppo critic thread"); `name`: its worker module; `decode`:
   * an answer to what its call resolves to.
   */
  constructor(
    private readonly label: string,
    name: string,
    workerData: unknown,
    decode: (msg: { kind: string; id: number }) => unknown,
  ) {
    this.worker = spawn(name, workerData);
    this.worker.unref();
    live.add(this);
    this.worker.on('message', (msg: HelperNotice | { kind: string; id: number }) => {
      if (msg.kind === 'ready') return;
      if (msg.kind === 'error') return this.fail(new Error(`${label} failed: ${(msg as { message: string }).message.split('\n')[0]}`));
      const id = (msg as { id: number }).id;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.kind === 'memory') {
        const { kind: _k, id: _i, ...mem } = msg as { kind: string; id: number } & HelperMemory;
        return p.resolve(mem as never);
      }
      p.resolve(decode(msg as { kind: string; id: number }) as never);
    });
    this.worker.on('error', (err) => this.fail(new Error(`${label} failed: ${err.message.split('\n')[0]}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`${label} exited with code ${code}`));
    });
  }

  /** The underlying thread (tests end it to check that a crash fails the round). */
  get thread(): Worker {
    return this.worker;
  }

  /** Why it failed (a crash, an error, or closed), or null while it works. */
  get failure(): Error | null {
    return this.failureError;
  }

  /** The id the next call's message carries. */
  id(): number {
    return this.nextId++;
  }

  private fail(err: Error): void {
    if (!this.failureError) this.failureError = err;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(this.failureError);
  }

  /** Send a message with an id (from `id()`) and wait for its answer. */
  call<T>(msg: M & { id: number }, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failureError) return Promise.reject(this.failureError);
    if (this.closed) return Promise.reject(new Error(`${this.label}: used after close`));
    const p = new Promise<T>((resolve, reject) => this.pending.set(msg.id, { resolve: resolve as (v: never) => void, reject }));
    this.worker.ref();
    this.worker.postMessage(msg, transfer);
    return p;
  }

  /** Send a message that gets no answer (a failed or closed helper drops it: the next call reports it). */
  post(msg: M, transfer: ArrayBuffer[] = []): void {
    if (this.failureError || this.closed) return;
    this.worker.postMessage(msg, transfer);
  }

  /** The helper isolate's heap, external (wasm) memory and live tensors, queued after pending calls. */
  memory(): Promise<HelperMemory> {
    return this.call<HelperMemory>({ kind: 'memory', id: this.id() } as unknown as M & { id: number });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    this.fail(new Error(`${this.label}: closed`));
    void this.worker.terminate();
  }
}

/** The answer to a `memory` message, from inside a helper's worker. */
export function helperMemory(tensors: number): HelperMemory {
  const m = process.memoryUsage();
  const mb = (b: number) => b / (1 << 20);
  return { heapMb: mb(m.heapUsed), externalMb: mb(m.external + m.arrayBuffers), tensors };
}
