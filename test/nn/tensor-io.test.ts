import { beforeAll, describe, expect, it } from 'vitest';
import { readInto, upload } from '../../src-shared/nn/tensor-io';
import { setupTf, tf } from './tf-setup';

describe('tensor-io (read-backs into reused buffers)', () => {
  beforeAll(setupTf);

  it('readInto copies the same bytes as dataSync, into the front of a larger buffer', () => {
    const x = tf.tidy(() => tf.matMul(tf.tensor2d([1.5, -2, 3.25, 0.1, 7, -0.3], [2, 3]), tf.tensor2d([0.2, 1, -1, 3, 0.5, 0.25], [3, 2])));
    const dst = new Float32Array(10).fill(99);
    const out = readInto(tf, x, dst);
    expect(out.length).toBe(4);
    expect(out).toEqual(Float32Array.from(x.dataSync()));
    expect(Array.from(dst.subarray(4))).toEqual([99, 99, 99, 99, 99, 99]); // the rest untouched
    x.dispose();
  });

  it('readInto refuses a short buffer and a non-float tensor, naming the problem', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(() => readInto(tf, x, new Float32Array(2))).toThrow(/holds 2 values, tensor has 3/);
    const i = tf.tensor1d([1, 2], 'int32');
    expect(() => readInto(tf, i, new Float32Array(2))).toThrow(/float32/);
    x.dispose();
    i.dispose();
  });

  it('upload: the tensor keeps its values when the buffer is overwritten afterwards', () => {
    const buf = Float32Array.from([1, 2, 3, 4]);
    const t = upload(tf, buf, [2, 2]);
    buf.fill(-1);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    expect(t.shape).toEqual([2, 2]);
    t.dispose();
  });
});
