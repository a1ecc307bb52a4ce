import { beforeAll, describe, expect, it } from 'vitest';
import { Linear, Mlp, gelu, groupedLinear, linearInfer } from '../../src-shared/nn/mlp';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

describe('gelu', () => {
  beforeAll(setupTf);

  it('is the exact erf GELU 0.5 x (1 + erf(x / sqrt 2))', () => {
    // Reference values from math.erf in double precision.
    const xs = [-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3];
    const ref = [
      -0.00404969409489031, -0.04550026389635842, -0.15865525393145707, -0.15426876936299344, 0, 0.34573123063700656,
      0.8413447460685429, 1.9544997361036416, 2.99595030590511,
    ];
    const out = tf.tidy(() => gelu(tf, tf.tensor(xs)).dataSync());
    expect(maxAbsDiff(out, ref)).toBeLessThan(2e-6);
    // The tanh approximation differs by ~1e-4 around |x| = 2: make sure we are not using it.
    const approx = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    expect(Math.abs(out[1] - approx(-2))).toBeGreaterThan(2e-5);
  });

  it('has gradient Phi(x) + x phi(x)', () => {
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(gelu(tf, x)))(tf.tensor([1, -1])).dataSync());
    expect(Math.abs(g[0] - 1.0833154705876864)).toBeLessThan(1e-5);
    expect(Math.abs(g[1] - (1 - 1.0833154705876864))).toBeLessThan(1e-5);
  });
});

describe('Linear / Mlp', () => {
  beforeAll(setupTf);

  it('uses PyTorch default init bounds 1/sqrt(fan_in)', () => {
    const params = new ParamSet(tf);
    const l = new Linear(tf, params, 'l', 9, 50, 1, new Rng(1));
    for (const v of [l.weight, l.bias]) {
      const m = Math.max(...Array.from(v.dataSync(), Math.abs));
      expect(m).toBeLessThanOrEqual(1 / 3);
      expect(m).toBeGreaterThan(0.3);
    }
    params.dispose();
  });

  it('computes x W + b with relu, and groups are independent networks', () => {
    const params = new ParamSet(tf);
    const mlp = new Mlp(tf, params, 'm', [2, 3, 1], 'relu', 2, new Rng(2));
    const x = tf.tensor3d([[[1, -2]], [[0.5, 0.25]]]); // group 0 row, group 1 row
    const y = tf.tidy(() => mlp.forward(x).dataSync());
    // Hand computation per group from the stored weights.
    const w0 = mlp.layers[0].weight.dataSync();
    const b0 = mlp.layers[0].bias.dataSync();
    const w1 = mlp.layers[1].weight.dataSync();
    const b1 = mlp.layers[1].bias.dataSync();
    const xs = [[1, -2], [0.5, 0.25]];
    for (let g = 0; g < 2; g++) {
      let out = b1[g];
      for (let j = 0; j < 3; j++) {
        const hid = Math.max(0, xs[g][0] * w0[g * 6 + j] + xs[g][1] * w0[g * 6 + 3 + j] + b0[g * 3 + j]);
        out += hid * w1[g * 3 + j];
      }
      expect(Math.abs(y[g] - out)).toBeLessThan(1e-6);
    }
    x.dispose();
    params.dispose();
  });

  it.each([
    [1, 'relu'],
    [1, 'gelu'],
    [2, 'linear'],
    [2, 'relu'],
  ] as const)('groupedLinear gradients equal the plain-op tape (G=%i, %s); linearInfer gives the same values', (G, act) => {
    const rng = new Rng(12);
    const R = 5;
    const I = 3;
    const O = 4;
    const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const xv = r(G * R * I);
    const wv = r(G * I * O);
    const bv = r(G * O);
    const up = r(G * R * O);
    const run = (fused: boolean) =>
      tf.tidy(() => {
        const x = tf.variable(tf.tensor3d(xv, [G, R, I]));
        const w = tf.variable(tf.tensor3d(wv, [G, I, O]));
        const b = tf.variable(tf.tensor1d(bv));
        const { value, grads } = tf.variableGrads(() => {
          const y = fused
            ? groupedLinear(tf, x, w, b, act)
            : (() => {
                const z = tf.add(tf.matMul(x, w), tf.reshape(b, [G, 1, O]));
                return act === 'relu' ? tf.relu(z) : act === 'gelu' ? gelu(tf, z) : z;
              })();
          return tf.sum(tf.mul(y, tf.tensor3d(up, [G, R, O]))) as tf.Scalar;
        }, [x, w, b]);
        const out = [value, grads[x.name], grads[w.name], grads[b.name]].map((t) => Array.from(t.dataSync()));
        const inf = Array.from(linearInfer(tf, x, w, b, act).dataSync());
        const ref = Array.from((fused ? groupedLinear(tf, x, w, b, act) : linearInfer(tf, x, w, b, act)).dataSync());
        [x, w, b].forEach((v) => v.dispose());
        return { out, inf, ref };
      });
    const a = run(true);
    const p = run(false);
    for (let i = 0; i < a.out.length; i++) expect(maxAbsDiff(a.out[i], p.out[i]), `part ${i}`).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.inf, a.ref)).toBeLessThan(1e-6);
  });
});
