import { beforeAll, describe, expect, it } from 'vitest';
import { GRADIENT_KERNELS } from '../../src-shared/nn/gradients';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './tf-setup';

/** Central finite differences of f at x (float64 bookkeeping around float32 evaluations). */
function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: Float32Array, shape: number[], h = 1e-2): Float32Array {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const eval1 = (d: number) =>
      tf.tidy(() => {
        const xx = Float32Array.from(x);
        xx[i] += d;
        return f(tf.tensor(xx, shape)).dataSync()[0];
      });
    g[i] = (eval1(h) - eval1(-h)) / (2 * h);
  }
  return g;
}

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.float());
}

/** Checks tf.grad(f) against finite differences for input x (a weighted sum keeps every output in play). */
function check(name: string, op: (x: tf.Tensor) => tf.Tensor, shape: number[], lo = -1, hi = 1): void {
  const rng = new Rng(42, name.length);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = rand(rng, n, lo, hi);
  const outShape = tf.tidy(() => op(tf.tensor(x, shape)).shape);
  const w = tf.tensor(rand(rng, outShape.reduce((a, b) => a * b, 1)), outShape);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(op(t), w)) as tf.Scalar;
  const analytic = tf.tidy(() => tf.grad(f)(tf.tensor(x, shape)).dataSync() as Float32Array);
  const numeric = numericGrad(f, x, shape);
  w.dispose();
  for (let i = 0; i < n; i++) {
    expect(Math.abs(analytic[i] - numeric[i]), `${name}[${i}]: ${analytic[i]} vs ${numeric[i]}`).toBeLessThan(
      3e-3 + 1e-2 * Math.abs(numeric[i]),
    );
  }
}

describe('registered gradients (finite differences)', () => {
  beforeAll(setupTf);

  it('registers a gradient for every listed kernel', () => {
    for (const k of GRADIENT_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
  });

  const c = () => tf.tensor([0.3, -0.7, 1.1], [3]);
  const rows = () => tf.tensor([[0.5, -1.5, 2], [1, 0.25, -0.75]]);
  it.each([
    ['Add (broadcast)', (x: tf.Tensor) => tf.add(x, c()), [2, 3]],
    ['Add (broadcast, other side)', (x: tf.Tensor) => tf.add(rows(), x), [3]],
    ['Sub', (x: tf.Tensor) => tf.sub(c(), x), [2, 3]],
    ['Sub (broadcast b)', (x: tf.Tensor) => tf.sub(rows(), x), [1, 3]],
    ['Mul', (x: tf.Tensor) => tf.mul(x, tf.mul(x, c())), [2, 3]],
    ['Mul (broadcast b)', (x: tf.Tensor) => tf.mul(rows(), x), [3]],
    ['RealDiv numerator', (x: tf.Tensor) => tf.div(x, tf.add(tf.abs(c()), 1)), [2, 3]],
    ['Neg', (x: tf.Tensor) => tf.neg(x), [4]],
    ['Square', (x: tf.Tensor) => tf.square(x), [4]],
    ['Exp', (x: tf.Tensor) => tf.exp(x), [4]],
    ['Erf', (x: tf.Tensor) => tf.erf(x), [5]],
    ['Sigmoid', (x: tf.Tensor) => tf.sigmoid(tf.mul(x, 3)), [5]],
    ['Tanh', (x: tf.Tensor) => tf.tanh(tf.mul(x, 2)), [5]],
    ['Sum axis', (x: tf.Tensor) => tf.sum(tf.square(x), 1), [2, 3]],
    ['Sum keepDims', (x: tf.Tensor) => tf.mul(tf.sum(x, -1, true), x), [2, 3]],
    ['Mean', (x: tf.Tensor) => tf.mean(tf.square(x), 0), [3, 2]],
    ['Reshape', (x: tf.Tensor) => tf.mul(tf.reshape(x, [3, 2]), tf.tensor([[1, 2], [3, 4], [5, 6]])), [2, 3]],
    ['Cast', (x: tf.Tensor) => tf.square(tf.cast(x, 'float32')), [3]],
    ['Slice', (x: tf.Tensor) => tf.square(tf.slice(x, [0, 1], [2, 2])), [2, 3]],
    ['SplitV', (x: tf.Tensor) => { const [a, b] = tf.split(x, [1, 2], 1); return tf.mul(tf.sum(a), b); }, [2, 3]],
  ] as [string, (x: tf.Tensor) => tf.Tensor, number[]][])('%s', (name, op, shape) => check(name, op, shape));

  it.each([
    ['Sqrt', (x: tf.Tensor) => tf.sqrt(x)],
    ['Rsqrt', (x: tf.Tensor) => tf.rsqrt(x)],
    ['Log', (x: tf.Tensor) => tf.log(x)],
    ['RealDiv denominator', (x: tf.Tensor) => tf.div(tf.tensor([1, -2, 3, 0.5]), x)],
  ] as [string, (x: tf.Tensor) => tf.Tensor][])('%s (positive inputs)', (name, op) => check(name, op, [4], 0.5, 2));

  it('Relu (away from the kink)', () => {
    const x = tf.tensor([-1.5, -0.3, 0.4, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor([1, 2, 3, 4]))))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 3, 4]);
  });

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('BatchMatMul transposeA=%s transposeB=%s (both inputs)', (tA, tB) => {
    const aShape = tA ? [2, 4, 3] : [2, 3, 4];
    const bShape = tB ? [2, 5, 4] : [2, 4, 5];
    const rng = new Rng(7);
    const bVal = tf.tensor(rand(rng, 40), bShape);
    const aVal = tf.tensor(rand(rng, 24), aShape);
    check(`mm-a ${tA}${tB}`, (x) => tf.matMul(x as tf.Tensor3D, bVal as tf.Tensor3D, tA, tB), aShape);
    check(`mm-b ${tA}${tB}`, (x) => tf.matMul(aVal as tf.Tensor3D, x as tf.Tensor3D, tA, tB), bShape);
  });

  it('BatchMatMul with a broadcast batch dimension', () => {
    const rng = new Rng(9);
    const aVal = tf.tensor(rand(rng, 24), [2, 3, 4]);
    check('mm-bcast', (x) => tf.matMul(aVal as tf.Tensor3D, x as tf.Tensor3D), [1, 4, 2]);
  });

  it('fused matMul with bias and relu trains through the un-fused path', () => {
    const rng = new Rng(11);
    const aVal = tf.tensor(rand(rng, 12), [1, 3, 4]);
    const bias = tf.tensor(rand(rng, 2), [2]);
    check('fused', (x) => tf.fused.matMul({ a: aVal as tf.Tensor3D, b: x as tf.Tensor3D, bias, activation: 'relu' }), [1, 4, 2]);
  });
});
