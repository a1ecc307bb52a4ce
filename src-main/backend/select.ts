/**
 * Picks the TensorFlow.js backend for a worker: tfjs-node-gpu > tfjs-node > wasm-blas > wasm > cpu.
 *
 * The native packages are optional dependencies: their install scripts download libtensorflow,
 * which fails where the network does not allow it, and npm then leaves them out. So every
 * candidate is probed by actually loading it; the first that loads and initialises wins.
 * Override with `--backend` or `CAIRN_BACKEND` (auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu).
 * `wasm-blas` is the wasm backend with its matrix products on the machine's CBLAS library
 * (blas.ts): chosen when Cairn's native addon was built and a CBLAS library opens.
 * The wasm backend's thread count: CAIRN_WASM_THREADS (wasm-threads.ts; default 1, the
 * single-threaded SIMD build).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from '../../src-shared/nn/gradients';
import { registerWasmKernels } from './wasm-kernels';
import { loadBlas, type Blas } from './blas';
import { registerBlasKernels, restoreStockBlasKernels } from './blas-kernels';
import { setKernelGemm, setKernelNative } from '../../src-shared/nn/gru-simd';
import { wasmThreadsChoice, withThreadedWasm } from './wasm-threads';
import { setPpoCriticThreadFactory } from '../../src-shared/algos/ppo-critic-step';
import { PpoCriticThreadHost } from '../runner/ppo-critic-thread';
import { setComaCriticThreadFactory } from '../../src-shared/algos/coma-critic-step';
import { setPgCriticThreadFactory } from '../../src-shared/algos/pg-critic-step';
import { ComaCriticThreadHost } from '../runner/coma-critic-thread';
import { PgCriticThreadHost } from '../runner/pg-critic-thread';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm-blas', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

// Not named `require`: electron-vite's ESM shim declares its own `require` in bundled chunks.
const nodeRequire = createRequire(import.meta.url);

export interface BackendInfo {
  /** What we record on the run: tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu. */
  name: Exclude<BackendChoice, 'auto'>;
  /** Why others were skipped (shown in logs). */
  skipped: string[];
  /** wasm only: XNNPACK's thread count (1 = the single-threaded SIMD build). */
  threads?: number;
  /** wasm-blas only: the CBLAS library ("OpenBLAS 0.3.21 (SkylakeX) from libopenblas.so.0"). */
  blas?: string;
}

async function tryNative(pkg: string): Promise<boolean> {
  try {
    // Loading registers the "tensorflow" backend on the shared tfjs-core instance.
    nodeRequire(pkg);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(threads: number): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
    if (threads === 1) return await tf.setBackend('wasm');
    // The flag is registered by the import above; tfjs answers false for it in Node.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    const ok = await withThreadedWasm(threads, () => tf.setBackend('wasm'));
    if (ok && wasm.getThreadsCount() !== threads) {
      throw new Error(`CAIRN_WASM_THREADS: asked for ${threads} threads, the wasm backend started ${wasm.getThreadsCount()}`);
    }
    return ok;
  } catch (e) {
    if ((e as Error).message?.startsWith('CAIRN_WASM_THREADS')) throw e;
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  // The cpu backend greets Node users with a banner recommending tfjs-node; the selection
  // above already tried it, and the banner would land in our CLI output.
  if (ok) (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return ok;
}

/** Initialise and return the chosen backend; throws only if an explicit choice cannot load. */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`backend: expected one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(choice)}`);
  }
  const order: Exclude<BackendChoice, 'auto'>[] =
    choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm-blas', 'wasm', 'cpu'] : [choice];
  const skipped: string[] = [];
  // Read before anything loads: a bad value is an error even when a native backend wins.
  const threads = wasmThreadsChoice();
  let blas: Blas | null = null;
  for (const name of order) {
    if (name === 'wasm-blas') {
      try {
        blas = loadBlas();
      } catch (e) {
        skipped.push(`wasm-blas: ${(e as Error).message}`);
        if (choice === 'wasm-blas') break;
        continue;
      }
    }
    const ok =
      name === 'tensorflow-gpu'
        ? await tryNative('@tensorflow/tfjs-node-gpu')
        : name === 'tensorflow'
          ? await tryNative('@tensorflow/tfjs-node')
          : name === 'wasm' || name === 'wasm-blas'
            ? await tryWasm(threads)
            : await tryCpu();
    if (ok) {
      await tf.ready();
      // tfjs-core's Node build registers no gradients (see nn/gradients.ts): every worker
      // gets them here, whatever algorithm it runs.
      registerGradients(tf);
      // Copy-free Slice/SplitV/Unpack/Identity and one-pass leading-axis sums, bit-identical to
      // the stock kernels; CAIRN_WASM_KERNELS=stock keeps the stock ones (A/B measurements).
      const wasm = name === 'wasm' || name === 'wasm-blas';
      if (wasm && process.env.CAIRN_WASM_KERNELS !== 'stock') registerWasmKernels();
      // The products on CBLAS for wasm-blas; on XNNPACK and the kernel's own loops otherwise
      // (also when an earlier init in this process chose wasm-blas).
      if (name === 'wasm-blas' && blas) {
        registerBlasKernels(blas.addon);
        setKernelNative({ gemm: blas.addon.gemm.bind(blas.addon), ...(process.env.CAIRN_NATIVE_GATES === 'off' ? {} : { gatesForward: blas.addon.gatesForward, gatesBackward: blas.addon.gatesBackward }) });
      } else {
        restoreStockBlasKernels();
        setKernelGemm(null);
      }
      // PPO's `updateThreads: 2` helper starts its own copy of this same backend.
      setPpoCriticThreadFactory((spec) => new PpoCriticThreadHost(name, spec));
      // COMA's likewise (its critic's update beside the actor's).
      setComaCriticThreadFactory((spec) => new ComaCriticThreadHost(name, spec));
      // PG's likewise (its critics' step beside the actor's update).
      setPgCriticThreadFactory((spec) => new PgCriticThreadHost(name, spec));
      if (name === 'wasm-blas') return { name, skipped, threads, blas: blas?.describe };
      return name === 'wasm' ? { name, skipped, threads } : { name, skipped };
    }
    skipped.push(`${name}: not available on this machine`);
  }
  throw new Error(`backend: ${choice} could not be loaded on this machine (${skipped.join('; ')})`);
}

/** Resolve the user's choice from flag, then CAIRN_BACKEND, then auto. */
export function backendChoice(flag?: string): BackendChoice {
  const v = flag ?? process.env.CAIRN_BACKEND ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(v)) {
    throw new Error(`backend: expected one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as BackendChoice;
}
