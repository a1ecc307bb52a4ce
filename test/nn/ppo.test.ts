import { beforeAll, describe, expect, it } from 'vitest';
import { concatDiff, im2col, patchCount } from '../../src-shared/nn/conv';
import {
  ValueNorm,
  absolute,
  clampRange,
  clipByGroupNorm,
  clippedSurrogate,
  gae,
  huber,
  maximum,
  minimum,
  normaliseAdvantages,
  orthogonal,
  valueLossElements,
} from '../../src-shared/nn/ppo';
import { discountedReturns } from '../../src-shared/nn/returns';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

const f = (a: number[]) => Float32Array.from(a);

/** Gradient of sum(w * op(x)) at x: analytic (tape) and central finite differences. */
function grads(op: (x: tf.Tensor) => tf.Tensor, x: number[], w?: number[], h = 1e-3): { analytic: number[]; numeric: number[] } {
  const weights = w ?? x.map((_, i) => 1 + 0.1 * i);
  const loss = (t: tf.Tensor) => tf.sum(tf.mul(op(t), tf.tensor(weights))) as tf.Scalar;
  const analytic = tf.tidy(() => Array.from(tf.grad(loss)(tf.tensor(x)).dataSync()));
  const numeric = x.map((_, i) => {
    const at = (d: number) =>
      tf.tidy(() => {
        const xx = x.slice();
        xx[i] += d;
        return loss(tf.tensor(xx)).dataSync()[0];
      });
    return (at(h) - at(-h)) / (2 * h);
  });
  return { analytic, numeric };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `[${i}] ${a[i]} vs ${b[i]}`).toBeLessThan(tol + tol * Math.abs(b[i]));
}

describe('GAE', () => {
  // T = 3, M = 2, time-major [t][m]. Column 0: truncated at the end (bootstrap V_3 = 4).
  // Column 1: terminates on step 1, step 2 is padding.
  const gamma = 0.9;
  const r = f([1, 0, 0, 3, 2, 0]);
  const V = f([0.5, 1, 1, 2, 2, 9, 4, 9]);
  const m = f([1, 1, 1, 1, 1, 0]);
  const term = f([0, 0, 0, 1, 0, 0]);

  it('matches hand-computed advantages and returns on a masked batch', () => {
    const { advantages, returns } = gae(r, V, m, term, 3, 2, gamma, 0.8);
    // col 0: d2 = 2 + .9*4 - 2 = 3.6; d1 = .9*2 - 1 = .8; d0 = 1 + .9 - .5 = 1.4; gl = .72
    //        A2 = 3.6, A1 = .8 + .72*3.6 = 3.392, A0 = 1.4 + .72*3.392 = 3.84224
    // col 1: A1 = 3 - 2 = 1 (terminated: no bootstrap), A0 = .8 + .72*1 = 1.52, A2 = 0 (padding)
    expectClose(advantages, [3.84224, 1.52, 3.392, 1, 3.6, 0]);
    expectClose(returns, [3.84224 + 0.5, 1.52 + 1, 3.392 + 1, 3, 5.6, 0]);
  });

  it('lambda = 1 is the discounted return minus V (bootstrapped only at truncation)', () => {
    const { advantages, returns } = gae(r, V, m, term, 3, 2, gamma, 1);
    const G = discountedReturns(r, m, 3, 2, gamma, f([4, 0]));
    const expected = Array.from(G, (g, i) => (m[i] ? g - V[i] : 0));
    expectClose(advantages, expected);
    expectClose(returns, Array.from(G, (g, i) => (m[i] ? g : 0)));
    // And by hand: col 0 returns 5.536, 5.04, 5.6; col 1: 2.7, 3.
    expectClose(returns, [5.536, 2.7, 5.04, 3, 5.6, 0]);
  });

  it('lambda = 0 is the one-step TD error', () => {
    const { advantages } = gae(r, V, m, term, 3, 2, gamma, 0);
    expectClose(advantages, [1.4, 0.8, 0.8, 1, 3.6, 0]);
  });

  it('normalises advantages over valid entries, per group', () => {
    const adv = f([1, 10, 3, 20, 0, 99]);
    const mask = f([1, 1, 1, 1, 0, 0]);
    normaliseAdvantages(adv, mask, 3, 2, 2, (c) => c);
    // group 0: {1, 3}: mean 2, std 1; group 1: {10, 20}: mean 15, std 5; masked -> 0.
    expectClose(adv, [-1 / (1 + 1e-5), -5 / (5 + 1e-5), 1 / (1 + 1e-5), 5 / (5 + 1e-5), 0, 0]);
  });
});

describe('value normalisation', () => {
  it('debiased running mean and variance, clamped variance, exact round trip', () => {
    const vn = new ValueNorm(0.5);
    expect(vn.stats()).toEqual({ mean: 0, std: Math.sqrt(1e-2) }); // before any update
    vn.update([1, 3]);
    // mean = .5 * 2 = 1, meanSq = .5 * 5 = 2.5, debias = .5 -> mu = 2, E[x^2] = 5, var = 1
    expect(vn.stats().mean).toBeCloseTo(2, 12);
    expect(vn.stats().std).toBeCloseTo(1, 12);
    expect(vn.normalise(4)).toBeCloseTo(2, 12);
    expect(vn.denormalise(vn.normalise(0.37))).toBeCloseTo(0.37, 12);
    vn.update([5, 100], [1, 0]); // masked entry ignored
    // mean = .5 + 2.5 = 3, meanSq = 1.25 + 12.5 = 13.75, debias = .75 -> mu = 4, E = 18.333, var = 2.333
    expect(vn.stats().mean).toBeCloseTo(4, 12);
    expect(vn.stats().std).toBeCloseTo(Math.sqrt(13.75 / 0.75 - 16), 12);
    const copy = new ValueNorm(0.5);
    copy.setState(vn.getState());
    expect(copy.stats()).toEqual(vn.stats());
    const flat = new ValueNorm(0.5);
    flat.update([2, 2]);
    expect(flat.stats().std).toBeCloseTo(0.1, 12); // variance 0 clamps to 1e-2
  });
});

describe('PPO losses', () => {
  beforeAll(setupTf);

  it('clipped surrogate: hand values and gradients, ratios inside/outside the clip, both signs', () => {
    const ratios = [1.1, 1.5, 0.5, 1.1, 1.5, 0.5];
    const adv = [2, 2, 2, -2, -2, -2];
    const old = [-1, -0.5, -2, -1.2, -0.1, -1.7];
    const logp = ratios.map((q, i) => old[i] + Math.log(q));
    // min(r A, clip(r, .8, 1.2) A)
    const expected = [2.2, 2.4, 1.0, -2.2, -3.0, -1.6];
    // d/dlogp = r A where the unclipped term is the minimum, 0 where the clipped one is.
    const expectedGrad = [2.2, 0, 1.0, -2.2, -3.0, 0];
    const { surrogate, ratio } = clippedSurrogate(tf, tf.tensor(logp), tf.tensor(old), tf.tensor(adv), 0.2);
    expectClose(surrogate.dataSync(), expected);
    expectClose(ratio.dataSync(), ratios);
    surrogate.dispose();
    ratio.dispose();
    const op = (x: tf.Tensor) => clippedSurrogate(tf, x, tf.tensor(old), tf.tensor(adv), 0.2).surrogate;
    const g = grads(op, logp, [1, 1, 1, 1, 1, 1]);
    expectClose(g.analytic, expectedGrad, 1e-4);
    expectClose(g.numeric, expectedGrad, 2e-2);
  });

  it('huber: quadratic inside delta, linear outside, squared error for delta 0', () => {
    const e = tf.tensor([0.5, -3, 1, 2.5]);
    expectClose(huber(tf, e, 1).dataSync(), [0.125, 2.5, 0.5, 2]);
    expectClose(huber(tf, e, 10).dataSync(), [0.125, 4.5, 0.5, 3.125]);
    expectClose(huber(tf, e, 0).dataSync(), [0.125, 4.5, 0.5, 3.125]);
    e.dispose();
    const g = grads((x) => huber(tf, x, 1), [0.5, -3, 0.2, 2.5]);
    // d/de: e inside, delta * sign(e) outside (times the weights 1, 1.1, 1.2, 1.3).
    expectClose(g.analytic, [0.5, -1.1, 0.24, 1.3]);
    expectClose(g.numeric, g.analytic, 1e-2);
  });

  it('clipped value loss: max(huber(R - V), huber(R - V_clip)) with hand values and gradients', () => {
    // Rows: clipped branch wins (V moved too far up), inside the clip range, plain branch wins
    // (V moved down, away from the target), target below.
    const v = [1.0, 0.6, 0.0, 2.0];
    const vOld = [0.5, 0.5, 0.5, 0.0];
    const target = [2, 2, 2, 0];
    // 1: plain .5*1^2 = .5; V_clip = .7 -> .5*1.3^2 = .845 -> .845, no gradient through V
    // 2: V_clip = V -> .5*1.4^2 = .98, grad -(R - V) = -1.4
    // 3: plain .5*4 = 2; V_clip = .3 -> 1.445 -> 2, grad -2
    // 4: plain 2; V_clip = .2 -> .02 -> 2, grad V - R = 2
    const out = valueLossElements(tf, tf.tensor(v), tf.tensor(vOld), tf.tensor(target), 0.2, 10);
    expectClose(out.dataSync(), [0.845, 0.98, 2, 2]);
    out.dispose();
    const g = grads((x) => valueLossElements(tf, x, tf.tensor(vOld), tf.tensor(target), 0.2, 10), v, [1, 1, 1, 1]);
    expectClose(g.analytic, [0, -1.4, -2, 2], 1e-5);
    expectClose(g.numeric, [0, -1.4, -2, 2], 1e-2);
    // Without clipping it is the plain Huber loss.
    const plain = valueLossElements(tf, tf.tensor(v), tf.tensor(vOld), tf.tensor(target), 0, 10);
    expectClose(plain.dataSync(), [0.5, 0.98, 2, 2]);
    plain.dispose();
  });

  it('relu-composed min, max, clamp and abs: values and gradients vs finite differences', () => {
    const x = [-2, -0.3, 0.4, 1.7, 3];
    const b = tf.tensor([0.1, 0.1, 0.5, 1, 5]);
    expectClose(minimum(tf, tf.tensor(x), b).dataSync(), [-2, -0.3, 0.4, 1, 3]);
    expectClose(maximum(tf, tf.tensor(x), b).dataSync(), [0.1, 0.1, 0.5, 1.7, 5]);
    expectClose(clampRange(tf, tf.tensor(x), -0.5, 1).dataSync(), [-0.5, -0.3, 0.4, 1, 1]);
    expectClose(absolute(tf, tf.tensor(x)).dataSync(), [2, 0.3, 0.4, 1.7, 3]);
    for (const op of [
      (t: tf.Tensor) => minimum(tf, t, b),
      (t: tf.Tensor) => maximum(tf, t, b),
      (t: tf.Tensor) => clampRange(tf, t, -0.5, 1),
      (t: tf.Tensor) => absolute(tf, t),
      (t: tf.Tensor) => valueLossElements(tf, t, b, tf.tensor([1, -1, 2, 0, 3]), 0.2, 1),
    ]) {
      const g = grads(op, x);
      expectClose(g.analytic, g.numeric, 1e-2);
    }
    b.dispose();
  });
});

describe('gradient clipping per group', () => {
  beforeAll(setupTf);

  it('measures and clips each group separately', () => {
    const g = {
      w: tf.tensor([3, 0, 0.3, 0], [2, 2, 1]),
      b: tf.tensor([4, 0.4], [2]),
    };
    const before = tf.memory().numTensors;
    const norms = clipByGroupNorm(tf, g, 2, 1);
    expectClose(norms, [5, 0.5]);
    expectClose(g.w.dataSync(), [3 / (5 + 1e-6), 0, 0.3, 0]);
    expectClose(g.b.dataSync(), [4 / (5 + 1e-6), 0.4]);
    expect(tf.memory().numTensors).toBe(before); // replaced, old ones disposed
    const measureOnly = clipByGroupNorm(tf, g, 2, 0);
    expectClose(measureOnly, [1, 0.5], 1e-5);
    g.w.dispose();
    g.b.dispose();
  });
});

describe('orthogonal initialisation', () => {
  it('has orthonormal columns (tall) or rows (wide), scaled by the gain, and is seed-determined', () => {
    for (const [rows, cols, gain] of [
      [7, 3, 2],
      [3, 7, 1],
      [4, 4, 0.01],
    ]) {
      const w = orthogonal(new Rng(3), rows, cols, gain);
      const n = Math.min(rows, cols);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          if (rows >= cols) for (let r = 0; r < rows; r++) dot += w[r * cols + i] * w[r * cols + j];
          else for (let c = 0; c < cols; c++) dot += w[i * cols + c] * w[j * cols + c];
          expect(dot).toBeCloseTo(i === j ? gain * gain : 0, 10);
        }
      }
      expect(Array.from(orthogonal(new Rng(3), rows, cols, gain))).toEqual(Array.from(w));
    }
  });
});

describe('convolution as im2col + dense', () => {
  beforeAll(setupTf);

  it('extracts k x k patches of an [x][y][c] image in [px][py] order', () => {
    const img = Array.from({ length: 16 }, (_, i) => i); // 4x4x1, value = x * 4 + y
    expect(patchCount(4, 4, 3)).toBe(4);
    const out = new Float32Array(4 * 9);
    expect(im2col(img, 0, 4, 4, 1, 3, out, 0)).toBe(36);
    expect(Array.from(out)).toEqual([
      0, 1, 2, 4, 5, 6, 8, 9, 10, 1, 2, 3, 5, 6, 7, 9, 10, 11, 4, 5, 6, 8, 9, 10, 12, 13, 14, 5, 6, 7, 9, 10, 11, 13, 14, 15,
    ]);
    // A kernel as large as the image: one patch, the image itself (scaled).
    const view = Array.from({ length: 27 }, (_, i) => i);
    const one = new Float32Array(27);
    expect(patchCount(3, 3, 3)).toBe(1);
    im2col(view, 0, 3, 3, 3, 3, one, 0, 0.5);
    expect(Array.from(one)).toEqual(view.map((v) => v * 0.5));
    expect(() => patchCount(2, 4, 3)).toThrow(/does not fit/);
  });

  it('concatDiff: values of tf.concat, gradients split back to the inputs (finite differences)', () => {
    const other = tf.tensor([[5, 6, 7]]);
    const op = (x: tf.Tensor) => tf.square(concatDiff(tf, [tf.reshape(x, [1, 2]), other], 1));
    expectClose(op(tf.tensor([1, 2])).dataSync(), [1, 4, 25, 36, 49]);
    const g = grads((x) => tf.reshape(op(x), [5]), [1, 2], [1, 2, 3, 4, 5]);
    expectClose(g.analytic, [2, 8]);
    expectClose(g.numeric, [2, 8], 1e-2);
    // Three inputs along the middle axis.
    const a = tf.ones([2, 1, 2]);
    const b = tf.zeros([2, 3, 2]);
    const c = concatDiff(tf, [a, b, a], 1);
    expect(c.shape).toEqual([2, 5, 2]);
    expect(maxAbsDiff(c.dataSync(), tf.concat([a, b, a], 1).dataSync())).toBe(0);
    for (const t of [other, a, b, c]) t.dispose();
  });
});
