/**
 * tfjs-backend-wasm's threaded SIMD build in Node: XNNPACK's thread pool (matmuls, convs and
 * the other XNNPACK kernels split their output tiles over N threads), which tfjs leaves off
 * in Node (its flag WASM_HAS_MULTITHREAD_SUPPORT answers false there, tfjs issue 3830).
 *
 * Three things stand between the threaded build and Node, each worked around here:
 * 1. The pthread worker script reaches emscripten as a `blob:` URL and the main script as a
 *    Blob; Node's worker_threads.Worker loads neither. The shim below (global `Worker`, which
 *    the emscripten glue reads when it spawns its pool) starts the same worker source with
 *    `eval: true` and hands the worker the path of the emscripten factory file
 *    (wasm-out/tfjs-backend-wasm-threaded-simd.js) instead of the Blob. (The Blob holds the
 *    bundler's copy of that factory, which refers to the bundle's closure and cannot run in a
 *    worker anyway.)
 * 2. The C++ side caps the pool at emscripten_num_logical_cores() / 2, i.e. os.cpus().length / 2
 *    (it assumes two hyper-threads per core): 1 on a 2-core machine. While the module
 *    initialises, os.cpus() reports 2 x the requested count so the cap is the request.
 * 3. The pool's workers are unref'd, so a process with nothing else pending exits while the
 *    backend waits for them to load: a timer holds the event loop during initialisation. Once
 *    a worker runs a pool thread the glue refs it, and the pool threads live as long as the
 *    module: the shim keeps them unref'd so the process still exits when its work is done.
 *
 * Results: XNNPACK partitions a GEMM by output tiles and each output element is summed over K
 * in the same order whatever the thread count, and Cairn's own kernels (wasm-kernels.ts) and
 * tfjs-wasm's non-XNNPACK kernels run on the calling thread: the thread count does not change
 * a bit (test/backend/wasm-threads.test.ts compares a training run at 1 and 2 threads).
 *
 * Count: CAIRN_WASM_THREADS = 1..8 (the pool emscripten pre-spawns has 8 workers) or `auto`
 * (the default): 1. Measured on the 2-core development machine (docs/performance.md, "The
 * second core"), the second thread only paid for large matmuls; see there before changing the
 * default.
 */
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

const nodeRequire = createRequire(import.meta.url);

/** Emscripten's pre-spawned pool (PTHREAD_POOL_SIZE of the tfjs build); more would spawn late. */
export const MAX_WASM_THREADS = 8;

/**
 * The thread count asked for: `value` (a flag or setting), else CAIRN_WASM_THREADS, else auto.
 * auto = 1: see the header (the gain was not shown on the shared 2-core machine).
 */
export function wasmThreadsChoice(value?: string | number): number {
  const raw = value ?? process.env.CAIRN_WASM_THREADS ?? 'auto';
  if (raw === 'auto' || raw === '') return 1;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(`CAIRN_WASM_THREADS: expected auto or an integer 1..${MAX_WASM_THREADS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function wasmOutDir(): string {
  const dist = path.dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  return path.join(path.dirname(dist), 'wasm-out');
}

/**
 * Install what the threaded build needs in Node for the duration of `init` (the backend's
 * initialisation), with the pool capped at `threads`. The Worker shim stays installed: the
 * glue spawns more workers only if a pool thread exits, and reads `Worker` then.
 */
export async function withThreadedWasm<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const out = wasmOutDir();
  const factoryFile = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  // The worker source is shipped as a JS string literal in a CommonJS module; tfjs escapes its
  // newlines the same way before making its Blob (a raw newline would end a string literal).
  const workerSource = (nodeRequire(path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');

  class PthreadWorker extends NodeWorker {
    constructor(_blobUrl: string, options?: WorkerOptions) {
      super(workerSource, { ...options, eval: true });
      super.unref();
    }
    // The glue refs a worker while it runs a pthread, and XNNPACK's pool threads run for the
    // life of the module: the process would never exit by itself. They are helpers of the main
    // thread, never the reason to stay alive.
    override ref(): void {}
    override postMessage(msg: unknown, transfer?: Parameters<NodeWorker['postMessage']>[1]): void {
      const m = msg as { cmd?: string } | null;
      // 'load' carries the main script to importScripts() in the worker: a file path works there.
      if (m && m.cmd === 'load') msg = { ...m, urlOrBlob: factoryFile };
      super.postMessage(msg, transfer);
    }
  }
  // The glue assigns `global.Worker = worker_threads.Worker` while it starts; the setter keeps ours.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => {} });

  const cpus = os.cpus;
  os.cpus = () => {
    const c = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]);
  };
  const hold = setInterval(() => {}, 1 << 30);
  try {
    return await init();
  } finally {
    clearInterval(hold);
    os.cpus = cpus;
  }
}
