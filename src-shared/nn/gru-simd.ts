/**
 * Loader and memory of the float32 SIMD GRU gate kernels (src-shared/nn/wasm/gru-gates.as.ts,
 * compiled by `npm run build:wasm` into gru-gates.wasm.ts as base64).
 *
 * One module instance and ONE linear memory per process (per worker), shared by every GRUCell:
 * the kernels are synchronous, so each call lays its arrays out from the start of the memory
 * (`layout`) and nothing else touches it until the call returns. The memory grows to the
 * largest layout asked for and is never shrunk; views are re-made only after it grows (growing
 * detaches the old ArrayBuffer). Offset 0 is never handed out: the kernels read a 0 pointer as
 * "absent" (no previous state, no trace).
 *
 * The module is compiled synchronously on first use (`new WebAssembly.Module`): fine in Node,
 * workers and vitest; a browser's main thread refuses synchronous compiles above 4 KB, and the
 * learners never run there.
 *
 * Under the wasm-blas backend the host hands in native functions on this memory
 * (`setKernelNative`): CBLAS for matmul / matmulAT, and C ports of gatesForward / gatesBackward
 * (src-main/backend/native/cairn-gates.c) that write the same bits as the wasm exports.
 *
 * How to add another kernel: write src-shared/nn/wasm/<name>.as.ts (AssemblyScript, `v128` /
 * `f32x4`, pointers as byte offsets), add it to KERNELS in scripts/build-wasm.mjs, run `npm run
 * build:wasm`, and load it the way `gateKernel` does; test it against the float64 JS reference
 * and keep that reference selectable by a config option.
 */
import { GRU_GATES_WASM } from './wasm/gru-gates.wasm';

// The WebAssembly global, typed here: the node tsconfig has neither the DOM lib nor wasm types.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface GateKernelExports {
  memory: WasmMemory;
  mathTest(kind: number, src: number, dst: number, n: number): void;
  gatesForward(nBlocks: number, B: number, H: number, gi: number, giStride: number, gh: number, hp: number, ho: number, r: number, z: number, n: number, ghn: number): void;
  gatesBackward(
    N: number, B: number, T: number, t: number, H: number, m: number,
    dh: number, back: number, dHs: number, r: number, z: number, n: number, ghn: number, hp: number,
    dGI: number, dGIT: number, dGHT: number, hPrev: number, dgh: number, dBih: number, dBhh: number,
  ): void;
  /**
   * out [M][N] = a [M][K] @ w [K][N] (+ bias [N]; bias = 0: none), max(0, .) when relu = 1: the
   * same bits as tfjs-wasm's MatMul / _FusedMatMul (XNNPACK's summation order).
   */
  matmul(M: number, K: number, N: number, a: number, w: number, bias: number, out: number, relu: number): void;
  /**
   * dz = x * step(mask) (mask = 0: x) over [m][C]: dz^T [C][m] to dst, float32 column sums (row 0
   * first) added to sums [C]; out != 0: dz [m][C] there too.
   */
  columnsT(m: number, C: number, x: number, mask: number, dst: number, sums: number, out: number): void;
  /** dst = a + b over n float32 values (dst may be a or b). */
  addF32(n: number, dst: number, a: number, b: number): void;
  /** out [M][N] = a^T @ w for a stored [K][M], w [K][N]: `matmul`'s bits on a's transpose. */
  matmulAT(M: number, K: number, N: number, a: number, w: number, out: number): void;
  /**
   * gatesBackward's step with dGI, dGH [N][T][B][3H] and hPrev in row order, no transposes and
   * no bias sums (for products on a host BLAS: nn/ppo-gru-host.ts).
   */
  gatesBackwardRows(
    N: number, B: number, T: number, t: number, H: number,
    dh: number, back: number, dHs: number, r: number, z: number, n: number, ghn: number, hp: number,
    dGI: number, dGH: number, hPrev: number,
  ): void;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A float32 product on a wasm memory (the `wasm-blas` backend's CBLAS, src-main/backend/blas.ts):
 * c [M][N] = op(a) @ op(b) (+ bias [N], then max(0, .) when relu), offsets in bytes, `batch`
 * products with byte strides (0 broadcasts). Handed in by the host so src-shared loads nothing native.
 */
export type MemoryGemm = (
  memory: ArrayBuffer, batch: number, M: number, N: number, K: number,
  a: number, strideA: number, transA: number, b: number, strideB: number, transB: number,
  c: number, bias: number, relu: number,
) => void;

/**
 * `gatesForward` of the kernel on a memory (the wasm-blas addon's C port, cairn-gates.c): the
 * same arguments after the memory's ArrayBuffer, the same bits.
 */
export type MemoryGatesForward = (
  memory: ArrayBuffer, nBlocks: number, B: number, H: number, gi: number, giStride: number, gh: number, hp: number,
  ho: number, r: number, z: number, n: number, ghn: number,
) => void;

/** `gatesBackward` of the kernel on a memory, likewise. */
export type MemoryGatesBackward = (
  memory: ArrayBuffer, N: number, B: number, T: number, t: number, H: number, m: number,
  dh: number, back: number, dHs: number, r: number, z: number, n: number, ghn: number, hp: number,
  dGI: number, dGIT: number, dGHT: number, hPrev: number, dgh: number, dBih: number, dBhh: number,
) => void;

/**
 * Native replacements the host hands in for some of the kernel's exports (src-main/backend/
 * select.ts under wasm-blas). gemm replaces matmul and matmulAT (other float rounding); the gate
 * functions, when given, replace gatesForward / gatesBackward with the same bits.
 */
export interface KernelNative {
  gemm: MemoryGemm;
  gatesForward?: MemoryGatesForward;
  gatesBackward?: MemoryGatesBackward;
}

let hostNative: KernelNative | null = null;

/**
 * Route the kernel's exports through the host's native functions (null: back to the kernel's
 * own SIMD loops, whose matmul bits match tfjs-wasm's XNNPACK). Applies to the instance already
 * made too.
 */
export function setKernelNative(native: KernelNative | null): void {
  hostNative = native;
  instance?.useNative(native);
}

/** `setKernelNative` with the products only. */
export function setKernelGemm(gemm: MemoryGemm | null): void {
  setKernelNative(gemm ? { gemm } : null);
}

/** The kernels' memory, laid out per call. */
export class GateKernel {
  /** The kernel's exports, with the host's native functions in place of some (setKernelNative). */
  k: GateKernelExports;
  private readonly raw: GateKernelExports;
  private buf: ArrayBuffer | null = null;
  private f32v = new Float32Array(0);
  private f64v = new Float64Array(0);
  /** Calls of `layout` so far: a caller whose region was laid out by the latest call knows its contents are intact. */
  layouts = 0;
  /** The byte offset just past the latest layout's last array. */
  top = 64;

  constructor() {
    const mod = new WA.Module(decodeBase64(GRU_GATES_WASM));
    this.raw = new WA.Instance(mod, {}).exports as unknown as GateKernelExports;
    this.k = this.raw;
    this.useNative(hostNative);
  }

  useNative(native: KernelNative | null): void {
    if (!native) {
      this.k = this.raw;
      return;
    }
    const mem = this.raw.memory;
    const { gemm, gatesForward: fwd, gatesBackward: bwd } = native;
    // A plain object over the exports (which are frozen), so the hot call sites stay `K.k.matmul(...)`.
    // The buffer is read at each call: growing the memory replaces it.
    this.k = Object.assign(Object.create(null) as GateKernelExports, this.raw, {
      matmul: (M: number, K: number, N: number, a: number, w: number, bias: number, out: number, relu: number) =>
        gemm(mem.buffer, 1, M, N, K, a, 0, 0, w, 0, 0, out, bias, relu),
      matmulAT: (M: number, K: number, N: number, a: number, w: number, out: number) =>
        gemm(mem.buffer, 1, M, N, K, a, 0, 1, w, 0, 0, out, 0, 0),
    });
    if (fwd) {
      this.k.gatesForward = (nBlocks, B, H, gi, giStride, gh, hp, ho, r, z, n, ghn) =>
        fwd(mem.buffer, nBlocks, B, H, gi, giStride, gh, hp, ho, r, z, n, ghn);
    }
    if (bwd) {
      this.k.gatesBackward = (N, B, T, t, H, m, dh, back, dHs, r, z, n, ghn, hp, dGI, dGIT, dGHT, hPrev, dgh, dBih, dBhh) =>
        bwd(mem.buffer, N, B, T, t, H, m, dh, back, dHs, r, z, n, ghn, hp, dGI, dGIT, dGHT, hPrev, dgh, dBih, dBhh);
    }
  }

  /**
   * Byte offsets of arrays of the given float32 counts (a negative count: that many float64s),
   * 16-byte aligned, from offset 64. Grows the memory when needed. Earlier layouts' contents
   * are not kept.
   */
  layout(...counts: number[]): number[] {
    return this.layoutFrom(64, ...counts);
  }

  /**
   * `layout` from byte offset `start` (a caller's `top`): the arrays of a callee that must not
   * overwrite the caller's, laid out just before. Counts as a new layout.
   */
  layoutFrom(start: number, ...counts: number[]): number[] {
    this.layouts++;
    const ptrs: number[] = [];
    let p = Math.ceil(start / 16) * 16;
    for (const c of counts) {
      ptrs.push(p);
      p += Math.ceil((c < 0 ? -c * 8 : c * 4) / 16) * 16;
    }
    this.top = p;
    const mem = this.k.memory;
    if (mem.buffer.byteLength < p) mem.grow(Math.ceil((p - mem.buffer.byteLength) / 65536));
    if (this.buf !== mem.buffer) {
      const buf = mem.buffer;
      this.buf = buf;
      this.f32v = new Float32Array(buf);
      this.f64v = new Float64Array(buf);
    }
    return ptrs;
  }

  /** A float32 view of n values at byte offset p (valid until the next `layout`). */
  f32(p: number, n: number): Float32Array {
    return this.f32v.subarray(p >> 2, (p >> 2) + n);
  }

  f64(p: number, n: number): Float64Array {
    return this.f64v.subarray(p >> 3, (p >> 3) + n);
  }
}

let instance: GateKernel | null = null;

/** The process's kernel instance (compiled on first use). */
export function gateKernel(): GateKernel {
  if (!instance) instance = new GateKernel();
  return instance;
}

/** The activations a forward gate call records (nn/gru.ts GruTrace's fields). */
export interface GateTrace {
  r: Float32Array;
  z: Float32Array;
  n: Float32Array;
  ghn: Float32Array;
}

/**
 * `gateRows` of nn/gru.ts (same arguments, same layout) on the float32 SIMD kernel: copies the
 * rows in, runs, copies h' and the trace out. For callers that keep their arrays in JS
 * (nn/policy-rop.ts); GRUCell itself reads tensors straight into the kernel's memory.
 */
export function gateRowsSimd(
  rows: number,
  H: number,
  gi: Float32Array,
  giOff: number,
  gh: Float32Array,
  ghOff: number,
  hp: Float32Array | null,
  hpOff: number,
  ho: Float32Array,
  hoOff: number,
  tr: GateTrace | null,
  trOff: number,
): void {
  const K = gateKernel();
  const H3 = 3 * H;
  const nh = rows * H;
  const [pGi, pGh, pHp, pHo, pR, pZ, pN, pGhn] = K.layout(rows * H3, rows * H3, nh, nh, nh, nh, nh, nh);
  K.f32(pGi, rows * H3).set(gi.subarray(giOff, giOff + rows * H3));
  K.f32(pGh, rows * H3).set(gh.subarray(ghOff, ghOff + rows * H3));
  if (hp !== null) K.f32(pHp, nh).set(hp.subarray(hpOff, hpOff + nh));
  K.k.gatesForward(1, rows, H, pGi, 0, pGh, hp === null ? 0 : pHp, pHo, tr ? pR : 0, pZ, pN, pGhn);
  ho.set(K.f32(pHo, nh), hoOff);
  if (tr) {
    tr.r.set(K.f32(pR, nh), trOff);
    tr.z.set(K.f32(pZ, nh), trOff);
    tr.n.set(K.f32(pN, nh), trOff);
    tr.ghn.set(K.f32(pGhn, nh), trOff);
  }
}

/**
 * The host's gemm `setKernelNative` (or `setKernelGemm`) installed (the `wasm-blas` backend), or null (plain wasm: the
 * kernel's own loops). Paths that sum in another order than tfjs-wasm's run only when this is
 * set, so `wasm` keeps its bits (issue-15q: nn/ppo-gru-host.ts).
 */
export function kernelHostGemm(): MemoryGemm | null {
  return hostNative?.gemm ?? null;
}
