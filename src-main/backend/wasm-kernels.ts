/**
 * Kernel overrides for the wasm backend, registered by initBackend (select.ts) when wasm is
 * chosen. Each computes exactly what the stock kernel computes (same values, same float
 * rounding and summation order: test/backend/wasm-kernels.test.ts compares them bit for bit),
 * only without its avoidable copies:
 * - Slice, SplitV, Unpack: the stock kernels read their input with `readSync`, which copies the
 *   WHOLE input out of wasm memory, once per piece: splitting a [4800, 192] activation in three
 *   copied it three times. These read a view of wasm memory instead.
 * - Identity (tf.clone, and the gradient of every pass-through op) shares its input's memory
 *   with a reference count, as the cpu backend does, instead of copying it.
 * - Sum over leading axes (bias gradients: the column sums of a [rows, units] gradient): the
 *   stock kernel transposes the input so the reduced axes come last, then sums; this sums the
 *   rows into the output in one pass, in the same order (row 0 first, float32 accumulation).
 * Views of wasm memory are taken after every allocation, because growing the memory detaches
 * views taken before it. Anything else (strings, complex, other axes) goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What tfjs hands a kernel and gets back (the wasm backend's view). */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

export interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: object): void;
}

export type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: WasmBackend };
export type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

const VIEWABLE = new Set(['float32', 'int32', 'bool']);

/** The stock wasm kernels, kept as the fallback (and as the reference in tests). */
export const stockWasmKernels = new Map<string, KernelFunc>();

/** slice of x at begin/size (already normalised), reading a view of wasm memory. */
function sliceView(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const n = tf.util.sizeFromShape(size);
  if (n === 0) return out;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const off = tf.slice_util.computeFlatOffset(begin, strides);
    ov.set(xv.subarray(off, off + n));
    return out;
  }
  // Copy runs of the innermost axis, walking the outer indices like an odometer.
  const rank = size.length;
  const inner = size[rank - 1];
  const idx = new Array<number>(rank - 1).fill(0);
  let o = 0;
  for (;;) {
    let off = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (begin[d] + idx[d]) * strides[d];
    ov.set(xv.subarray(off, off + inner), o);
    o += inner;
    let d = rank - 2;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

function slice(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = args.inputs.x;
  if (!VIEWABLE.has(x.dtype)) return stockWasmKernels.get('Slice')!(args);
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, args.attrs.begin as number[], args.attrs.size as number[]);
  return sliceView(args.backend, x, begin, size);
}

function splitV(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = args.inputs.x;
  if (!VIEWABLE.has(x.dtype)) return stockWasmKernels.get('SplitV')!(args);
  const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs.numOrSizeSplits as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const piece = sliceView(args.backend, x, begin, size);
    begin[axis] += s;
    return piece;
  });
}

function unpack(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = args.inputs.value;
  if (!VIEWABLE.has(x.dtype)) return stockWasmKernels.get('Unpack')!(args);
  let axis = args.attrs.axis as number;
  if (axis < 0) axis += x.shape.length;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = [...x.shape];
  size[axis] = 1;
  const outs: TensorInfo[] = [];
  for (let i = 0; i < x.shape[axis]; i++) {
    begin[axis] = i;
    const piece = sliceView(args.backend, x, begin, size);
    outs.push({ dataId: piece.dataId, dtype: piece.dtype, shape: outShape });
  }
  return outs;
}

function identity(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = args.inputs.x;
  if (!VIEWABLE.has(x.dtype)) return stockWasmKernels.get('Identity')!(args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function sum(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = args.inputs.x;
  const rank = x.shape.length;
  // Axes in the order given: the stock kernel sums in that order ([1, 0] is not [0, 1]).
  const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return stockWasmKernels.get('Sum')!(args);
  const rest = x.shape.slice(axes.length);
  const outShape = args.attrs.keepDims ? [...axes.map(() => 1), ...rest] : rest;
  const out = args.backend.makeOutput(outShape, 'float32');
  const n = tf.util.sizeFromShape(rest);
  const m = tf.util.sizeFromShape(x.shape) / Math.max(n, 1);
  if (n === 0) return out;
  const xv = args.backend.typedArrayFromHeap(x) as Float32Array;
  const ov = args.backend.typedArrayFromHeap(out) as Float32Array;
  // Float32Array stores round every partial sum to float32, as the C++ kernel's float does.
  ov.fill(0);
  for (let i = 0; i < m; i++) {
    const base = i * n;
    for (let j = 0; j < n; j++) ov[j] += xv[base + j];
  }
  return out;
}

const OVERRIDES: Record<string, KernelFunc> = { Slice: slice, SplitV: splitV, Unpack: unpack, Identity: identity, Sum: sum };

/** Replace the stock wasm kernels above; idempotent. `names` limits which (tests, A/B runs). */
export function registerWasmKernels(names: readonly string[] = Object.keys(OVERRIDES)): void {
  for (const name of names) {
    const fn = OVERRIDES[name];
    if (!fn) throw new Error(`wasm kernels: no override named ${name}`);
    const current = tf.getKernel(name, 'wasm');
    if (!current) continue;
    if (!stockWasmKernels.has(name)) stockWasmKernels.set(name, current.kernelFunc as unknown as KernelFunc);
    if (current.kernelFunc === (fn as unknown)) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

/** Put the stock kernels back (A/B measurements and tests). */
export function restoreStockWasmKernels(names: readonly string[] = [...stockWasmKernels.keys()]): void {
  for (const name of names) {
    const stock = stockWasmKernels.get(name);
    const current = tf.getKernel(name, 'wasm');
    if (!stock || !current || current.kernelFunc === (stock as unknown)) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelName: name, backendName: 'wasm', kernelFunc: stock as unknown as tf.KernelFunc });
  }
}

export const WASM_KERNEL_OVERRIDES = Object.keys(OVERRIDES);
