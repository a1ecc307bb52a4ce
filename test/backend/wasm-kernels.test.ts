/**
 * The wasm kernel overrides give the stock kernels' results bit for bit (same bytes), on the
 * shapes the learners use and on awkward ones, and Identity's shared memory survives disposal
 * of either tensor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WASM_KERNEL_OVERRIDES, registerWasmKernels, restoreStockWasmKernels } from '../../src-main/backend/wasm-kernels';
import { setupTf, tf } from '../nn/tf-setup';
import { Rng } from '../../src-shared/rng';

function rand(shape: number[], seed: number, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  const rng = new Rng(seed, 3);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = dtype === 'float32' ? Float32Array.from({ length: n }, () => (rng.float() - 0.5) * 10 ** (rng.int(7) - 3)) : Int32Array.from({ length: n }, () => rng.int(1000) - 500);
  return tf.tensor(v, shape, dtype);
}

/** Run f with the stock kernels and with the overrides; return both outputs' bytes. */
function both(f: () => tf.Tensor | tf.Tensor[]): [Uint8Array[], Uint8Array[]] {
  const bytes = (r: tf.Tensor | tf.Tensor[]) => {
    const ts = Array.isArray(r) ? r : [r];
    const out = ts.map((t) => {
      const d = t.dataSync() as Float32Array | Int32Array;
      return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
    });
    ts.forEach((t) => t.dispose());
    return out;
  };
  restoreStockWasmKernels();
  const stock = bytes(f());
  registerWasmKernels();
  const ours = bytes(f());
  return [stock, ours];
}

describe('wasm kernel overrides', () => {
  beforeAll(setupTf);
  afterAll(() => registerWasmKernels());

  it('are registered by initBackend', () => {
    for (const name of WASM_KERNEL_OVERRIDES) expect(tf.getKernel(name, 'wasm')!.kernelFunc.name).toBe(name === 'SplitV' ? 'splitV' : name.toLowerCase());
  });

  it('Slice: contiguous and strided, ranks 1-5, float32 and int32', () => {
    const cases: [number[], number[], number[]][] = [
      [[100], [7], [50]],
      [[48, 192], [0, 64], [48, 64]],
      [[48, 192], [3, 0], [10, 192]],
      [[2, 37, 24], [1, 5, 8], [1, 30, 8]],
      [[3, 4, 5, 6], [1, 0, 2, 1], [2, 4, 3, 4]],
      [[2, 3, 4, 5, 6], [0, 1, 1, 0, 2], [2, 2, 3, 5, 3]],
      [[5, 5], [2, 2], [0, 3]],
    ];
    for (const [shape, begin, size] of cases) {
      for (const dtype of ['float32', 'int32'] as const) {
        const x = rand(shape, shape.length, dtype);
        const [a, b] = both(() => tf.slice(x, begin, size));
        expect(b).toEqual(a);
        x.dispose();
      }
    }
  });

  it('SplitV and Unpack: every axis', () => {
    const x = rand([6, 10, 192], 7);
    for (const [sizes, axis] of [[3, 2], [[2, 3, 5], 1], [[1, 5], 0], [[64, 64, 64], -1]] as [number | number[], number][]) {
      const [a, b] = both(() => tf.split(x, sizes, axis));
      expect(b).toEqual(a);
    }
    for (const axis of [0, 1, 2]) {
      const [a, b] = both(() => tf.unstack(x, axis));
      expect(b).toEqual(a);
    }
    x.dispose();
  });

  it('Sum over leading axes sums in the stock order; other axes fall back', () => {
    const x = rand([4800, 192], 11);
    const y = rand([2, 37, 64], 12);
    const cases: [tf.Tensor, number | number[], boolean][] = [
      [x, 0, false],
      [x, [0], true],
      [y, [0, 1], false],
      [y, [1, 0], true],
      [y, 0, false],
      [y, 2, false],
      [y, [1, 2], false],
      [y, [0, 1, 2], false],
    ];
    for (const [t, axis, keep] of cases) {
      const [a, b] = both(() => tf.sum(t, axis, keep));
      expect(b, `sum over ${JSON.stringify(axis)} of [${t.shape}]`).toEqual(a);
    }
    const shapes = [tf.sum(y, [0, 1], true).shape, tf.sum(y, 0).shape];
    expect(shapes).toEqual([[1, 1, 64], [37, 64]]);
    const i = rand([9, 4], 13, 'int32');
    const [a, b] = both(() => tf.sum(i, 0));
    expect(b).toEqual(a);
    tf.dispose([x, y, i]);
  });

  it('Identity shares memory; either tensor can be disposed first', () => {
    const before = tf.memory().numBytes;
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(x);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    const d = tf.clone(c);
    d.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    c.dispose();
    expect(tf.memory().numBytes).toBe(before);
  });

  it('gradients through split and slice are unchanged', () => {
    // (Cairn registers the gradients it uses: Slice and SplitV among them, not Pack or Concat.)
    const x = rand([4, 6, 9], 21);
    const f = (v: tf.Tensor) => {
      const [p, q, r] = tf.split(v, 3, 2);
      const g = tf.mul(tf.sigmoid(p), tf.tanh(tf.add(q, r))); // [4, 6, 3]
      return tf.sum(tf.mul(tf.slice(g, [0, 1, 0], [4, 3, 3]), tf.slice(v, [0, 2, 3], [4, 3, 3])));
    };
    const [a, b] = both(() => tf.grad(f)(x));
    expect(b).toEqual(a);
    x.dispose();
  });
});
