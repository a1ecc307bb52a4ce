/**
 * The machine's CBLAS library under the wasm backend: the `wasm-blas` backend (select.ts).
 *
 * Cairn's addon (native/cairn-blas.c, built by `npm install` into
 * node_modules/.cache/cairn-native/) opens a CBLAS library at run time and multiplies matrices
 * in place in a wasm memory. Where it pays: every float32 product of the recurrent learners,
 * 2-4x faster than wasm SIMD on one core (docs/performance.md, "BLAS under wasm"). Which
 * library: $CAIRN_BLAS (a path or file name; `off` turns the backend off), else the first of
 * LIBRARIES that opens. A plain reference BLAS (netlib's libblas.so.3) is not on the list: it
 * is slower than wasm SIMD.
 *
 * Results differ from `wasm` by float rounding only (another summation order), so a run records
 * `wasm-blas` as its backend, and (config, seed) gives the same episodes again on the same
 * backend and machine (one BLAS thread: the order does not depend on timing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { MemoryGatesBackward, MemoryGatesForward } from '../../src-shared/nn/gru-simd';

const nodeRequire = createRequire(import.meta.url);

/** The addon's functions (cairn-blas.c). Offsets and strides in bytes. */
export interface BlasAddon {
  open(path: string): { path: string; config: string; core: string };
  gemm(
    memory: ArrayBuffer, batch: number, M: number, N: number, K: number,
    a: number, strideA: number, transA: number, b: number, strideB: number, transB: number,
    c: number, bias: number, relu: number,
  ): void;
  /**
   * The gate kernel's gatesForward / gatesBackward in C (native/cairn-gates.c), on its memory,
   * bit-identical. Absent from an addon built before them (a stale build): then the wasm ones run.
   */
  gatesForward?: MemoryGatesForward;
  gatesBackward?: MemoryGatesBackward;
}

export interface Blas {
  addon: BlasAddon;
  /** What a log line says: "OpenBLAS 0.3.21 (SkylakeX) from libopenblas.so.0". */
  describe: string;
}

const LIBRARIES: Record<string, string[]> = {
  linux: ['libopenblas.so.0', 'libopenblas.so', 'libmkl_rt.so.2', 'libmkl_rt.so', 'libblis.so.4', 'libblis.so'],
  darwin: ['/System/Library/Frameworks/Accelerate.framework/Accelerate', 'libopenblas.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib'],
};

/** The addon's path: $CAIRN_BLAS_ADDON, else next to the installed node_modules. */
export function addonPath(): string {
  if (process.env.CAIRN_BLAS_ADDON) return process.env.CAIRN_BLAS_ADDON;
  // Resolved through a dependency so it works from the sources (tsx) and from the bundle (out/).
  const nm = path.resolve(path.dirname(nodeRequire.resolve('@tensorflow/tfjs-core/package.json')), '..', '..');
  return path.join(nm, '.cache', 'cairn-native', 'cairn-blas.node');
}

let loaded: Blas | null = null;

/** The addon on a CBLAS library, opened once per thread; throws saying what is missing. */
export function loadBlas(): Blas {
  if (process.env.CAIRN_BLAS === 'off') throw new Error('CAIRN_BLAS=off');
  loaded ??= openBlas(process.env.CAIRN_BLAS);
  return loaded;
}

/** Open the addon and `choice` (a library path or name; default: the platform's list). */
export function openBlas(choice?: string): Blas {
  const file = addonPath();
  if (!fs.existsSync(file)) throw new Error(`the native BLAS addon is not built (${file}): run npm run build:native`);
  const addon = nodeRequire(file) as BlasAddon;
  const tried: string[] = [];
  for (const lib of choice ? [choice] : (LIBRARIES[process.platform] ?? [])) {
    try {
      const got = addon.open(lib);
      const name = got.config ? got.config.split(' ').slice(0, 2).join(' ') : path.basename(lib);
      return { addon, describe: `${name}${got.core ? ` (${got.core})` : ''} from ${lib}${staleness(file, addon)}` };
    } catch (e) {
      tried.push(`${lib}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const hint = process.platform === 'linux' ? '; on Debian/Ubuntu: apt-get install libopenblas0-pthread' : '';
  throw new Error(`no CBLAS library could be opened (${tried.join('; ') || 'none known on this platform'})${hint}`);
}

/**
 * What a log line adds when the addon lags its sources (a `git pull` without `npm install`):
 * it still works, with whatever it has; the run's log says so and how to fix it.
 */
function staleness(file: string, addon: BlasAddon): string {
  const notes: string[] = [];
  if (!addon.gatesForward || !addon.gatesBackward) notes.push('gate kernels: wasm, this addon predates the C ones');
  // The sources sit beside this module in a checkout; a bundled app has none to compare.
  const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'native');
  try {
    const built = fs.statSync(file).mtimeMs;
    if (fs.readdirSync(dir).some((f) => /\.[ch]$/.test(f) && fs.statSync(path.join(dir, f)).mtimeMs > built)) notes.push('older than its sources');
  } catch {
    /* no sources here */
  }
  return notes.length ? `; stale build (${notes.join('; ')}): run npm run build:native` : '';
}
