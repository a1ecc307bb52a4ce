import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm, globalNorm } from '../../src-shared/nn/clip';
import { Adam, RMSprop } from '../../src-shared/nn/optim';
import { ParamSet } from '../../src-shared/nn/params';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

function paramSet(values: number[]): ParamSet {
  const p = new ParamSet(tf);
  p.add('w', [values.length], Float32Array.from(values));
  return p;
}

function stepWith(opt: { step(g: Record<string, tf.Tensor>): void }, g: number[]): void {
  const t = tf.tensor(g);
  opt.step({ w: t });
  t.dispose();
}

describe('RMSprop (PyTorch semantics)', () => {
  beforeAll(setupTf);

  it('two steps match hand-computed torch.optim.RMSprop values', () => {
    const p = paramSet([1, -2]);
    const opt = new RMSprop(tf, p, { lr: 0.01, alpha: 0.99, eps: 1e-8 });
    stepWith(opt, [0.5, -0.1]);
    expect(maxAbsDiff(p.get('w').dataSync(), [0.90000002, -1.9000001])).toBeLessThan(1e-6);
    stepWith(opt, [0.5, 0.2]);
    expect(maxAbsDiff(p.get('w').dataSync(), [0.8291119095494123, -1.9895323561269267])).toBeLessThan(1e-6);
    const ms = opt.getState().tensors['w/square_avg'].data;
    expect(maxAbsDiff(ms, [0.004975, 0.000499])).toBeLessThan(1e-9);
    opt.dispose();
    p.dispose();
  });

  it('adds eps outside the square root (tf.train.rmsprop puts it inside)', () => {
    const p = paramSet([1]);
    const opt = new RMSprop(tf, p, { lr: 0.1, alpha: 0.99, eps: 1e-5 });
    stepWith(opt, [1e-6]);
    // torch: 1 - 0.1 * 1e-6 / (sqrt(1e-14) + 1e-5) = 0.990099...; eps inside: 0.99997
    expect(Math.abs(p.get('w').dataSync()[0] - 0.9900990099009901)).toBeLessThan(1e-6);
    opt.dispose();
    p.dispose();
  });

  it('state round-trips through getState/setState', () => {
    const p = paramSet([1, 2]);
    const a = new RMSprop(tf, p, { lr: 0.1 });
    stepWith(a, [0.3, -0.4]);
    const p2 = paramSet([1, 2]);
    p2.loadRecords(p.toRecords());
    const b = new RMSprop(tf, p2, { lr: 0.5 });
    b.setState(a.getState());
    expect(b.lr).toBe(0.1);
    stepWith(a, [0.1, 0.2]);
    stepWith(b, [0.1, 0.2]);
    expect(Array.from(p2.get('w').dataSync())).toEqual(Array.from(p.get('w').dataSync()));
    [a, b, p, p2].forEach((x) => x.dispose());
  });

  it('leaves the tensor count unchanged per step, and frees everything on dispose', () => {
    const start = tf.memory().numTensors;
    const p = paramSet([1, 2, 3]);
    const opt = new RMSprop(tf, p, { lr: 0.1 });
    const g = tf.tensor([0.1, 0.2, 0.3]);
    opt.step({ w: g });
    const n = tf.memory().numTensors;
    opt.step({ w: g });
    expect(tf.memory().numTensors).toBe(n);
    g.dispose();
    opt.dispose();
    p.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('Adam (PyTorch semantics)', () => {
  beforeAll(setupTf);

  it('two steps match hand-computed torch.optim.Adam values', () => {
    const p = paramSet([1]);
    const opt = new Adam(tf, p, { lr: 0.1 });
    stepWith(opt, [0.5]);
    expect(Math.abs(p.get('w').dataSync()[0] - 0.900000002)).toBeLessThan(1e-6);
    stepWith(opt, [-0.2]);
    expect(Math.abs(p.get('w').dataSync()[0] - 0.8654394181165108)).toBeLessThan(1e-6);
    expect(opt.getState().extra.step).toBe(2);
    opt.dispose();
    p.dispose();
  });
});

describe('global-norm clipping', () => {
  beforeAll(setupTf);

  it('scales by clip / (norm + 1e-6) when above the limit and returns the pre-clip norm', () => {
    const grads: Record<string, tf.Tensor> = { a: tf.tensor([3]), b: tf.tensor([[4]]) };
    const norm = clipByGlobalNorm(tf, grads, 1);
    expect(norm).toBeCloseTo(5, 5);
    const s = 1 / (5 + 1e-6);
    expect(Math.abs(grads.a.dataSync()[0] - 3 * s)).toBeLessThan(1e-7);
    expect(Math.abs(grads.b.dataSync()[0] - 4 * s)).toBeLessThan(1e-7);
    expect(globalNorm(tf, Object.values(grads))).toBeCloseTo(1, 5);
    Object.values(grads).forEach((g) => g.dispose());
  });

  it('leaves gradients alone below the limit or with clip <= 0', () => {
    for (const clip of [10, 0]) {
      const grads: Record<string, tf.Tensor> = { a: tf.tensor([3, 4]) };
      const before = grads.a;
      expect(clipByGlobalNorm(tf, grads, clip)).toBeCloseTo(5, 5);
      expect(grads.a).toBe(before);
      before.dispose();
    }
  });
});

describe('optimizer over several parameters', () => {
  beforeAll(setupTf);

  it('updates every tensor as if alone, and leaves parameters without a gradient (and their state) alone', () => {
    const mk = () => {
      const p = new ParamSet(tf);
      p.add('a', [2, 2], Float32Array.from([1, 2, 3, 4]));
      p.add('b', [3], Float32Array.from([-1, 0, 1]));
      return p;
    };
    const both = mk();
    const opt = new RMSprop(tf, both, { lr: 0.1, alpha: 0.9, eps: 1e-5 });
    const single = paramSet([-1, 0, 1]);
    const ref = new RMSprop(tf, single, { lr: 0.1, alpha: 0.9, eps: 1e-5 });
    const ga = tf.tensor([[0.5, -0.5], [0.25, 0]]);
    const gb = tf.tensor([0.3, -0.2, 0.1]);
    opt.step({ a: ga, b: gb });
    ref.step({ w: gb });
    expect(Array.from(both.get('b').dataSync())).toEqual(Array.from(single.get('w').dataSync()));
    expect(both.get('a').shape).toEqual([2, 2]);
    const aBefore = Array.from(both.get('a').dataSync());
    const msBefore = Array.from(opt.getState().tensors['a/square_avg'].data);
    opt.step({ b: gb }); // no gradient for a
    ref.step({ w: gb });
    expect(Array.from(both.get('a').dataSync())).toEqual(aBefore);
    expect(Array.from(opt.getState().tensors['a/square_avg'].data)).toEqual(msBefore);
    expect(Array.from(both.get('b').dataSync())).toEqual(Array.from(single.get('w').dataSync()));
    [ga, gb].forEach((t) => t.dispose());
    [opt, ref, both, single].forEach((x) => x.dispose());
  });
});
