import { beforeAll, describe, expect, it } from 'vitest';
import { concatDiff } from '../../src-shared/nn/conv';
import { GRUCell } from '../../src-shared/nn/gru';
import { ParamSet } from '../../src-shared/nn/params';
import { gruChunks, layerNormLast, layerNormWeights } from '../../src-shared/nn/ppo-gru';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

function rand(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng.float() - 1));
}

/** Reference: the same chunks through GRUCell.step on the tape, rows [group][step][sequence]. */
function reference(cell: GRUCell, e: tf.Tensor, h0: Float32Array, G: number, L: number, S: number): tf.Tensor {
  const H = cell.hiddenSize;
  return tf.tidy(() => {
    const xs = L === 1 ? [e] : tf.split(e, L, 1);
    let h: tf.Tensor = tf.tensor3d(h0, [G, S, H]);
    const out: tf.Tensor[] = [];
    for (let k = 0; k < L; k++) {
      h = cell.step(xs[k], h);
      out.push(h);
    }
    return concatDiff(tf, out, 1);
  });
}

describe('gruChunks (chunked GRU from stored initial states)', () => {
  beforeAll(setupTf);

  it.each([
    [1, 3, 4, 5, 6],
    [2, 4, 3, 4, 5],
    [3, 1, 2, 3, 4],
  ])('G=%i L=%i S=%i in=%i H=%i: values and every gradient match the tape through GRUCell.step', (G, L, S, I, H) => {
    const rng = new Rng(7, G * 100 + L);
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'gru', { inputSize: I, hiddenSize: H, groups: G }, rng);
    const eData = rand(rng, G * L * S * I);
    const h0 = rand(rng, G * S * H, 0.8);
    const w = tf.tensor3d(rand(rng, G * L * S * H), [G, L * S, H]); // weights of a linear loss
    const e = tf.variable(tf.tensor3d(eData, [G, L * S, I]));
    const before = tf.memory().numTensors;

    const fused = tf.tidy(() => gruChunks(tf, cell, e, h0, L, S).dataSync() as Float32Array);
    const ref = tf.tidy(() => reference(cell, e, h0, G, L, S).dataSync() as Float32Array);
    expect(maxAbsDiff(fused, ref)).toBeLessThan(1e-5);

    const vars = [...params.variables(), e];
    const gradsOf = (f: () => tf.Tensor) =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), w)) as tf.Scalar, vars);
        return vars.map((v) => Array.from(grads[v.name].dataSync()));
      });
    const gf = gradsOf(() => gruChunks(tf, cell, e, h0, L, S));
    const gr = gradsOf(() => reference(cell, e, h0, G, L, S));
    vars.forEach((v, i) => expect(maxAbsDiff(gf[i], gr[i]), v.name).toBeLessThan(1e-4));
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    e.dispose();
    params.dispose();
  });

  it("per-group LayerNorm slices reproduce GRUCell.output, values and gradients", () => {
    const G = 2;
    const H = 5;
    const rng = new Rng(9);
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'gru', { inputSize: 3, hiddenSize: H, groups: G, layerNorm: true }, rng);
    cell.lnWeight!.assign(tf.tensor1d(rand(rng, G * H)));
    cell.lnBias!.assign(tf.tensor1d(rand(rng, G * H)));
    const h = tf.tensor3d(rand(rng, G * 4 * H, 2), [G, 4, H]);
    const w = tf.tensor3d(rand(rng, G * 4 * H), [G, 4, H]);
    const mine = () =>
      concatDiff(
        tf,
        [0, 1].map((g) => {
          const ln = layerNormWeights(tf, cell, g)!;
          return layerNormLast(tf, tf.slice(h, [g, 0, 0], [1, 4, H]), ln.gain, ln.bias);
        }),
        0,
      );
    expect(maxAbsDiff(tf.tidy(() => mine().dataSync()), tf.tidy(() => cell.output(h).dataSync()))).toBeLessThan(1e-5);
    const gradsOf = (f: () => tf.Tensor) =>
      tf.tidy(() => {
        const { grads } = params.grads(() => tf.sum(tf.mul(f(), w)) as tf.Scalar);
        return ['gru/ln_weight', 'gru/ln_bias'].map((k) => Array.from(grads[k].dataSync()));
      });
    const a = gradsOf(mine);
    const b = gradsOf(() => cell.output(h));
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(a[i], b[i])).toBeLessThan(1e-5);
    h.dispose();
    w.dispose();
    params.dispose();
  });

  it('rejects inputs of the wrong shape', () => {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'gru', { inputSize: 3, hiddenSize: 4 }, new Rng(1));
    const e = tf.zeros([1, 6, 3]);
    expect(() => gruChunks(tf, cell, e, new Float32Array(4 * 3), 2, 4)).toThrow(/does not match/);
    expect(() => gruChunks(tf, cell, e, new Float32Array(5), 2, 3)).toThrow(/h0 must hold 12/);
    e.dispose();
    params.dispose();
  });
});

describe('per-group weights (the IPPO 64 vs 64 wasm crash)', () => {
  beforeAll(setupTf);

  // Slicing each group's weights out of the [G, in, 3H] variables put G FULL-size padded
  // gradients on the tape (quadratic in G): with 128 per-agent networks that overran the wasm
  // heap ("memory access out of bounds"). The backward pass must now hold O(G) parameter
  // copies, not G of them per parameter.
  it('the backward pass of 48 groups holds a bounded multiple of the parameters, not one copy per group', () => {
    const G = 48;
    const I = 96;
    const H = 16;
    const rng = new Rng(3, 1);
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'gru', { inputSize: I, hiddenSize: H, groups: G }, rng);
    const e = tf.tensor3d(rand(rng, G * 2 * I), [G, 2, I]);
    const h0 = rand(rng, G * 2 * H, 0.5);
    const paramBytes = params.size() * 4;
    const eng = tf.engine() as unknown as { runKernelFunc: (...a: unknown[]) => unknown; state: { numBytes: number } };
    const orig = eng.runKernelFunc.bind(eng);
    const base = tf.memory().numBytes;
    let peak = 0;
    eng.runKernelFunc = (...a: unknown[]) => {
      const r = orig(...a);
      peak = Math.max(peak, eng.state.numBytes - base);
      return r;
    };
    try {
      const { grads } = params.grads(() => tf.sum(gruChunks(tf, cell, e, h0, 1, 2)) as never);
      for (const g of Object.values(grads)) g.dispose();
    } finally {
      eng.runKernelFunc = orig;
    }
    e.dispose();
    params.dispose();
    // Measured: 9.5x the parameters with the split, 293x with per-group slices.
    expect(peak).toBeLessThan(40 * paramBytes);
  });
});
