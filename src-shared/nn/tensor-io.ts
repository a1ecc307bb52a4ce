/**
 * Moving float32 values between tensors and reusable CPU buffers without garbage.
 *
 * `dataSync()` on the wasm backend returns a fresh copy of the tensor's bytes (HEAPU8.slice),
 * so a rollout that reads back three small tensors per step, and an update that reads back
 * megabyte-sized gate pre-activations, allocate a new array each time: the GC then costs as
 * much as the copy. `readInto` copies straight from a view of wasm memory into a buffer the
 * caller keeps; elsewhere it falls back to dataSync (the cpu backend returns its own array,
 * no copy). The values are the same bytes either way.
 *
 * `upload` is the other direction for buffers the caller will overwrite later: the wasm
 * backend copies the values into its memory when the tensor is made, but the cpu backend (and
 * possibly others) keeps a reference to the array, so there a copy is taken first.
 *
 * The wasm view is taken and consumed with no allocation in between: growing wasm memory
 * detaches earlier views, which then read as empty.
 */
import type { Tensor, Tf } from './tf';

interface HeapBackend {
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array;
}

function heapBackend(tf: Tf): HeapBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' ? (b as HeapBackend) : null;
}

/** Copies t's values (float32, t.size of them) into dst[0..t.size); returns that subarray. */
export function readInto(tf: Tf, t: Tensor, dst: Float32Array): Float32Array {
  const n = t.size;
  if (t.dtype !== 'float32') throw new Error(`readInto: expected a float32 tensor, got ${t.dtype}`);
  if (dst.length < n) throw new Error(`readInto: buffer holds ${dst.length} values, tensor has ${n}`);
  const out = dst.length === n ? dst : dst.subarray(0, n);
  const hb = heapBackend(tf);
  if (hb) out.set(hb.typedArrayFromHeap(t as never));
  else out.set(t.dataSync() as Float32Array);
  return out;
}

/** A float32 tensor with `data`'s values that stays valid after `data` is overwritten. */
export function upload(tf: Tf, data: Float32Array, shape: number[]): Tensor {
  return tf.tensor(heapBackend(tf) ? data : data.slice(), shape, 'float32');
}
