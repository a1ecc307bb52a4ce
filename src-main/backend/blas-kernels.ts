/**
 * tfjs-wasm's BatchMatMul and _FusedMatMul on the machine's CBLAS (the `wasm-blas` backend,
 * blas.ts): the operands stay in tfjs-wasm's heap and the addon multiplies them there.
 *
 * Handled: float32, batch shapes where each operand's batch is the output's or a single matrix
 * (broadcast), no bias or a bias of N values, activation linear or relu. Anything else (other
 * activations, prelu weights, other broadcasts) goes to the stock XNNPACK kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BlasAddon } from './blas';
import type { KernelArgs as WasmKernelArgs, TensorInfo } from './wasm-kernels';

// tfjs hands the kernels optional inputs too (bias, prelu weights).
type KernelArgs = Omit<WasmKernelArgs, 'inputs'> & { inputs: Record<string, TensorInfo | undefined> };
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

const stock = new Map<string, KernelFunc>();

function product(gemm: BlasAddon['gemm'], name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const ta = !!args.attrs.transposeA;
  const tb = !!args.attrs.transposeB;
  const fallback = () => stock.get(name)!(args);
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || preluActivationWeights) return fallback();
  if (activation !== 'linear' && activation !== 'relu') return fallback();
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return fallback();
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return fallback(); // the stock kernel's error message
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(batchShape);
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return fallback();
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== N)) return fallback();
  const out = args.backend.makeOutput([...batchShape, M, N], 'float32');
  if (batch * M * N === 0) return out;
  // Views after makeOutput: an allocation may grow (and detach) the heap.
  const av = args.backend.typedArrayFromHeap(a);
  const bv = args.backend.typedArrayFromHeap(b);
  const ov = args.backend.typedArrayFromHeap(out);
  const biasOff = bias ? args.backend.typedArrayFromHeap(bias).byteOffset : 0;
  gemm(
    ov.buffer as ArrayBuffer, batch, M, N, K,
    av.byteOffset, batchA === 1 ? 0 : M * K * 4, ta ? 1 : 0,
    bv.byteOffset, batchB === 1 ? 0 : K * N * 4, tb ? 1 : 0,
    ov.byteOffset, biasOff, activation === 'relu' ? 1 : 0,
  );
  return out;
}

export const BLAS_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;

/** Put BatchMatMul and _FusedMatMul of the wasm backend on `addon`; idempotent. */
export function registerBlasKernels(addon: BlasAddon): void {
  const gemm = addon.gemm.bind(addon);
  for (const name of BLAS_KERNELS) {
    const current = tf.getKernel(name, 'wasm');
    if (!current) continue;
    if (!stock.has(name)) stock.set(name, current.kernelFunc as unknown as KernelFunc);
    const fn: KernelFunc = (args) => product(gemm, name, args);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

/** Back to XNNPACK's kernels (tests). */
export function restoreStockBlasKernels(): void {
  for (const [name, fn] of stock) {
    const current = tf.getKernel(name, 'wasm');
    if (!current || current.kernelFunc === (fn as unknown)) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
