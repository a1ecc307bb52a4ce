import { beforeAll, describe, expect, it } from 'vitest';
import { ParamSet } from '../../src-shared/nn/params';
import { setupTf, tf } from './tf-setup';

describe('ParamSet', () => {
  beforeAll(setupTf);

  it('round-trips records, copies between sets and maps gradients to stable names', () => {
    const a = new ParamSet(tf);
    a.add('x/w', [2, 2], Float32Array.from([1, 2, 3, 4]));
    a.add('x/b', [2], Float32Array.from([5, 6]));
    const b = new ParamSet(tf);
    b.add('x/w', [2, 2], new Float32Array(4));
    b.add('x/b', [2], new Float32Array(2));
    b.loadRecords(a.toRecords('p/'), 'p/');
    expect(Array.from(b.get('x/w').dataSync())).toEqual([1, 2, 3, 4]);
    const c = new ParamSet(tf, false);
    c.add('x/w', [2, 2], new Float32Array(4));
    c.add('x/b', [2], new Float32Array(2));
    c.copyFrom(a);
    expect(Array.from(c.get('x/b').dataSync())).toEqual([5, 6]);
    const { value, grads } = a.grads(() => tf.sum(tf.mul(a.get('x/w'), a.get('x/w'))) as tf.Scalar);
    expect(value).toBe(30);
    expect(Object.keys(grads)).toEqual(['x/w']);
    expect(Array.from(grads['x/w'].dataSync())).toEqual([2, 4, 6, 8]);
    grads['x/w'].dispose();
    expect(() => b.loadRecords({})).toThrow(/no tensor "x\/w"/);
    expect(() => a.add('x/b', [1], new Float32Array(1))).toThrow(/duplicate/);
    [a, b, c].forEach((p) => p.dispose());
  });
});
