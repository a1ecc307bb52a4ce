/**
 * One worker thread for the CPU-bound half of comparisons and reports (`report-worker.ts`),
 * started on first use and kept while the host lives. Jobs run one after another in the
 * thread, in the order sent; the caller's thread only reads series (asynchronous SQLite I/O)
 * and copies them over.
 *
 * A thread, not a child process: the work is plain JavaScript over typed arrays (no tfjs, so
 * tensorflow/tfjs#8388 does not apply), and a thread starts in milliseconds and receives
 * typed arrays by structured clone. If the thread dies (out of memory, a bug), its pending
 * jobs fail with that reason and the next job starts a fresh thread: a broken report never
 * takes the host down.
 */
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReportJob, ReportReply, ReportTask, ReportTaskMap } from './report-tasks';

export interface ReportThreadOptions {
  /** The built worker (`out/main/report-worker.js` in the desktop app); default: the .ts source through tsx. */
  workerFile?: string;
}

/** A report job failed in the thread; `field` is set when it was a bad request. */
export class ReportThreadError extends Error {
  override name = 'ReportThreadError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class ReportThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly opts: ReportThreadOptions = {}) {}

  /** Run one task in the thread. */
  run<K extends ReportTask>(task: K, input: ReportTaskMap[K]['input']): Promise<ReportTaskMap[K]['output']> {
    if (this.closed) return Promise.reject(new ReportThreadError('report thread: closed'));
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Keep the process alive only while a job is pending (a CLI exits when it is done).
      if (this.pending.size === 1) w.ref();
      try {
        w.postMessage({ id, task, input } satisfies ReportJob);
      } catch (err) {
        this.settle(id);
        reject(err as Error);
      }
    });
  }

  /** Stop the thread; pending jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new ReportThreadError('report thread: closed'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = this.spawn();
    w.unref();
    w.on('message', (reply: ReportReply) => {
      const p = this.settle(reply.id);
      if (!p) return;
      if ('error' in reply) p.reject(new ReportThreadError(reply.error.message, reply.error.field));
      else p.resolve(reply.result);
    });
    const gone = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = null;
      this.failAll(err);
    };
    w.on('error', (err) => gone(new ReportThreadError(`report thread failed: ${err.message.split('\n')[0]}`)));
    w.on('exit', (code) => gone(new ReportThreadError(`report thread exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private spawn(): Worker {
    const file = this.opts.workerFile ?? process.env.CAIRN_REPORT_WORKER;
    if (file && fs.existsSync(file) && !file.endsWith('.ts')) return new Worker(file);
    // From source: register tsx inside the thread (Node 20 ignores `--import` in a Worker's execArgv).
    const src = file && file.endsWith('.ts') ? file : fileURLToPath(new URL('./report-worker.ts', import.meta.url));
    // Both resolved here: the eval'd code resolves bare names from the working directory.
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(src).href)}); })`;
    return new Worker(boot, { eval: true });
  }

  private settle(id: number) {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    return p;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
