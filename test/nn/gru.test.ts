import { beforeAll, describe, expect, it } from 'vitest';
import { GRUCell, GruTrace } from '../../src-shared/nn/gru';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('GRUCell', () => {
  beforeAll(setupTf);

  it('one step matches a hand computation with PyTorch gate semantics', () => {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: 1, hiddenSize: 2 }, new Rng(1));
    // Columns: r0 r1 z0 z1 n0 n1.
    const wih = [0.5, -0.3, 0.2, 0.1, -0.4, 0.6];
    const whh = [
      [0.1, 0.2, -0.1, 0.3, 0.5, -0.2], // from h0
      [-0.3, 0.4, 0.2, -0.1, 0.3, 0.7], // from h1
    ];
    const bih = [0.05, -0.05, 0.1, 0.0, -0.1, 0.2];
    const bhh = [0.0, 0.1, -0.2, 0.05, 0.3, -0.1];
    params.loadRecords({
      'g/weight_ih': { shape: [1, 1, 6], data: Float32Array.from(wih) },
      'g/weight_hh': { shape: [1, 2, 6], data: Float32Array.from(whh.flat()) },
      'g/bias_ih': { shape: [6], data: Float32Array.from(bih) },
      'g/bias_hh': { shape: [6], data: Float32Array.from(bhh) },
    });
    const x = 0.8;
    const h = [0.3, -0.6];
    const expected = [0, 1].map((j) => {
      const gh = (c: number) => h[0] * whh[0][c] + h[1] * whh[1][c] + bhh[c];
      const r = sig(x * wih[j] + bih[j] + gh(j));
      const z = sig(x * wih[2 + j] + bih[2 + j] + gh(2 + j));
      // PyTorch: r multiplies (W_hn h + b_hn), after the matmul.
      const n = Math.tanh(x * wih[4 + j] + bih[4 + j] + r * gh(4 + j));
      return (1 - z) * n + z * h[j];
    });
    const out = tf.tidy(() => cell.step(tf.tensor3d([[[x]]]), tf.tensor3d([[h]])).dataSync());
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    // Keras' reset-before-matmul variant gives a different value for these weights.
    const keras0 = (() => {
      const r = [0, 1].map((j) => sig(x * wih[j] + bih[j] + h[0] * whh[0][j] + h[1] * whh[1][j] + bhh[j]));
      const z = sig(x * wih[2] + bih[2] + h[0] * whh[0][2] + h[1] * whh[1][2] + bhh[2]);
      const n = Math.tanh(x * wih[4] + bih[4] + r[0] * h[0] * whh[0][4] + r[1] * h[1] * whh[1][4] + bhh[4]);
      return (1 - z) * n + z * h[0];
    })();
    expect(Math.abs(out[0] - keras0)).toBeGreaterThan(1e-3);
    params.dispose();
  });

  it('initialises every weight in U(-1/sqrt(H), 1/sqrt(H))', () => {
    const params = new ParamSet(tf);
    new GRUCell(tf, params, 'g', { inputSize: 5, hiddenSize: 16 }, new Rng(3));
    for (const v of params.variables()) {
      const d = v.dataSync();
      const m = Math.max(...Array.from(d, Math.abs));
      expect(m).toBeLessThanOrEqual(0.25);
      expect(m).toBeGreaterThan(0.2); // the bound is actually used
    }
    params.dispose();
  });

  it.each([1, 2])('stepRows (CPU gates) equals step, groups=%i', (G) => {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: 3, hiddenSize: 4, groups: G }, new Rng(5));
    const rng = new Rng(6);
    const rows = 6;
    const x = Float32Array.from({ length: rows * 3 }, () => rng.normal());
    const h = Float32Array.from({ length: rows * 4 }, () => rng.normal() * 0.5);
    const ref = tf.tidy(() => cell.step(tf.tensor3d(x, [G, rows / G, 3]), tf.tensor3d(h, [G, rows / G, 4])).dataSync());
    const hNext = new Float32Array(rows * 4);
    const trace = new GruTrace(2, rows, 4);
    const before = tf.memory().numTensors;
    const xt = tf.tensor3d(x, [G, rows / G, 3]);
    const out = cell.stepRows(xt, h, hNext, trace, 1);
    xt.dispose();
    expect(maxAbsDiff(hNext, ref)).toBeLessThan(1e-6);
    expect(maxAbsDiff(out.dataSync(), ref)).toBeLessThan(1e-6);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(trace.steps).toBe(2);
    expect(maxAbsDiff(trace.h.subarray(rows * 4), ref)).toBeLessThan(1e-6);
    params.dispose();
  });

  /**
   * The fused sequence op vs the tape through `step`: same hidden states, same gradients for
   * the input and all four weight tensors, with and without a rollout trace.
   */
  it.each(
    (['f64-js', 'f32-simd'] as const).flatMap((gates) =>
      [
        [1, false],
        [2, false],
        [1, true],
        [2, true],
      ].map(([G, tr]) => [G as number, tr as boolean, gates] as const),
    ),
  )('sequence (fused BPTT) matches the unrolled tape, groups=%i, trace=%s, gates=%s', (G, useTrace, gates) => {
    const N = 2;
    const T = 5;
    const B = 3;
    const I = 4;
    const H = 3;
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, groups: G, gates }, new Rng(8));
    const rng = new Rng(9);
    // e laid out [N][T][B][I]; w weights the loss sum(w * Hs).
    const e = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    const rows = N * B;
    const shape = (f: number): [number, number, number] => [G, (N * T * B) / G, f];

    let trace: GruTrace | undefined;
    if (useTrace) {
      trace = new GruTrace(T + 2, rows, H); // longer than needed: only T steps are read
      let hp = new Float32Array(rows * H);
      for (let t = 0; t < T; t++) {
        const step = new Float32Array(rows * I);
        for (let a = 0; a < N; a++) step.set(e.subarray(((a * T + t) * B) * I, ((a * T + t + 1) * B) * I), a * B * I);
        const hn = new Float32Array(rows * H);
        tf.tidy(() => cell.stepRows(tf.tensor3d(step, [G, rows / G, I]), hp, hn, trace, t));
        hp = hn;
      }
    }

    // Reference: unroll `step` on the tape, in [N][B] row order per step.
    const refLoss = (eT: tf.Tensor) =>
      tf.tidy(() => {
        const e4 = tf.reshape(eT, [N, T, B, I]);
        let h: tf.Tensor = tf.zeros([G, rows / G, H]);
        let loss: tf.Tensor = tf.scalar(0);
        const w4 = tf.reshape(tf.tensor(w), [N, T, B, H]);
        for (let t = 0; t < T; t++) {
          const xt = tf.reshape(tf.slice(e4, [0, t, 0, 0], [N, 1, B, I]), [G, rows / G, I]);
          h = cell.step(xt, h);
          const wt = tf.reshape(tf.slice(w4, [0, t, 0, 0], [N, 1, B, H]), [G, rows / G, H]);
          loss = tf.add(loss, tf.sum(tf.mul(h, wt)));
        }
        return loss as tf.Scalar;
      });
    const fusedLoss = (eT: tf.Tensor) =>
      tf.tidy(() => tf.sum(tf.mul(cell.sequence(eT, N, T, B, trace), tf.tensor(w, shape(H)))) as tf.Scalar);

    const grads = (f: (x: tf.Tensor) => tf.Scalar) =>
      tf.tidy(() => {
        const eT = tf.variable(tf.tensor(e, shape(I)));
        const { value, grads } = tf.variableGrads(() => f(eT), [eT, ...params.variables()]);
        const out = [value, grads[eT.name], ...params.variables().map((v) => grads[v.name])].map((t) =>
          Float32Array.from(t.dataSync()),
        );
        eT.dispose();
        return out;
      });
    const ref = grads(refLoss);
    const before = tf.memory().numTensors;
    const fused = grads(fusedLoss);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(fused[0][0] - ref[0][0])).toBeLessThan(1e-4);
    for (let i = 1; i < ref.length; i++) {
      const scale = Math.max(1, ...Array.from(ref[i], Math.abs));
      expect(maxAbsDiff(fused[i], ref[i]) / scale, `gradient ${i}`).toBeLessThan(1e-4);
    }
    params.dispose();
  });

  /** Value and every gradient (input, then the cell's weights) of sum(w * sequence(e)), as bytes. */
  function seqGrads(cell: GRUCell, params: ParamSet, e: Float32Array, w: Float32Array, N: number, T: number, B: number, trace?: GruTrace, inputGrad = true): Float32Array[] {
    const G = cell.groups;
    const shape = (f: number): [number, number, number] => [G, (N * T * B) / G, f];
    return tf.tidy(() => {
      const eT = tf.variable(tf.tensor(e, shape(cell.inputSize)));
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(cell.sequence(eT, N, T, B, trace, inputGrad), tf.tensor(w, shape(cell.hiddenSize)))) as tf.Scalar,
        [eT, ...params.variables()],
      );
      const out = [value, grads[eT.name], ...params.variables().map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
      eT.dispose();
      return out;
    });
  }

  /**
   * The recomputed forward (replayed episodes: COMA) and the rollout's trace (on-policy: PG)
   * must give the same bits, or the two learners' results would depend on which path ran.
   */
  it.each([
    [1, 'f64-js', 4],
    [2, 'f64-js', 4],
    [1, 'f32-simd', 4],
    [2, 'f32-simd', 6],
  ] as const)('sequence without a trace gives the same bits as with the rollout trace, groups=%i, gates=%s, H=%i', (G, gates, H) => {
    const [N, T, B, I] = [2, 7, 3, 5];
    const rows = N * B;
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, groups: G, gates }, new Rng(21));
    const rng = new Rng(22);
    const e = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    const trace = new GruTrace(T, rows, H);
    let hp = new Float32Array(rows * H);
    for (let t = 0; t < T; t++) {
      const step = new Float32Array(rows * I);
      for (let a = 0; a < N; a++) step.set(e.subarray((a * T + t) * B * I, (a * T + t + 1) * B * I), a * B * I);
      const hn = new Float32Array(rows * H);
      tf.tidy(() => cell.stepRows(tf.tensor3d(step, [G, rows / G, I]), hp, hn, trace, t));
      hp = hn;
    }
    const withTrace = seqGrads(cell, params, e, w, N, T, B, trace);
    const recomputed = seqGrads(cell, params, e, w, N, T, B);
    for (let i = 0; i < withTrace.length; i++) expect(recomputed[i], `output ${i}`).toEqual(withTrace[i]);
    params.dispose();
  });

  /**
   * The cell reuses one trace for forwards it recomputes; a second forward before the first
   * one's gradient must not overwrite the activations that gradient reads.
   */
  it.each(['f64-js', 'f32-simd'] as const)('two forwards on one tape keep their own activations, gates=%s', (gates) => {
    const [N, T, B, I, H] = [1, 6, 2, 3, 4];
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, gates }, new Rng(31));
    const rng = new Rng(32);
    const e1 = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const e2 = Float32Array.from({ length: N * T * B * I }, () => rng.normal() * 3);
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    const alone = seqGrads(cell, params, e1, w, N, T, B)[1];
    const both = tf.tidy(() => {
      const a = tf.variable(tf.tensor3d(e1, [1, N * T * B, I]));
      const b = tf.variable(tf.tensor3d(e2, [1, N * T * B, I]));
      const W = tf.tensor3d(w, [1, N * T * B, H]);
      // Both forwards run before either gradient: a's is differentiated after b's forward.
      const { grads } = tf.variableGrads(() => {
        const ya = cell.sequence(a, N, T, B);
        const yb = cell.sequence(b, N, T, B);
        return tf.add(tf.sum(tf.mul(ya, W)), tf.sum(tf.mul(yb, W))) as tf.Scalar;
      }, [a]);
      const out = Float32Array.from(grads[a.name].dataSync());
      a.dispose();
      b.dispose();
      return out;
    });
    expect(both).toEqual(alone);
    params.dispose();
  });

  it.each(['f64-js', 'f32-simd'] as const)('alternating row counts keep one own trace per count, with the same results, gates=%s', (gates) => {
    const [N, T, I, H] = [2, 5, 3, 4];
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, gates }, new Rng(33));
    const rng = new Rng(34);
    const inputs = (B: number) => [N * T * B * I, N * T * B * H].map((n) => Float32Array.from({ length: n }, () => rng.normal()));
    const [e2, w2] = inputs(2);
    const [e3, w3] = inputs(3);
    const traces = (): GruTrace[] => (cell as unknown as { ownTraces: { kept(): GruTrace[] } }).ownTraces.kept();
    const first2 = seqGrads(cell, params, e2, w2, N, T, 2);
    const tr2 = traces()[0];
    const first3 = seqGrads(cell, params, e3, w3, N, T, 3);
    expect(seqGrads(cell, params, e2, w2, N, T, 2)).toEqual(first2);
    expect(seqGrads(cell, params, e3, w3, N, T, 3)).toEqual(first3);
    // Reused, not reallocated per call (F2A2's mental cells alternate two row counts).
    expect(traces().length).toBe(2);
    expect(traces()[0]).toBe(tr2);
    params.dispose();
  });

  it.each([
    [1, 'f64-js'],
    [2, 'f32-simd'],
    [1, 'f32-simd-tfjs-matmul'],
  ] as const)('inputGrad = false: zero input gradient, the same weight gradients, groups=%i, gates=%s', (G, gates) => {
    const [N, T, B, I, H] = [2, 5, 3, 4, 8];
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, groups: G, gates }, new Rng(35));
    const rng = new Rng(36);
    const e = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    const full = seqGrads(cell, params, e, w, N, T, B);
    const noInput = seqGrads(cell, params, e, w, N, T, B, undefined, false);
    expect(noInput[1]).toEqual(new Float32Array(e.length));
    expect(full[1].some((v) => v !== 0)).toBe(true);
    for (let i = 0; i < full.length; i++) if (i !== 1) expect(noInput[i], `output ${i}`).toEqual(full[i]);
    params.dispose();
  });

  it('LayerNorm normalises the output, not the state', () => {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: 2, hiddenSize: 4, layerNorm: true }, new Rng(2));
    expect(params.names()).toContain('g/ln_weight');
    const out = tf.tidy(() => cell.output(tf.tensor3d([[[1, 2, 3, 6]]])).dataSync());
    const vals = Array.from(out);
    const mean = vals.reduce((a, b) => a + b, 0) / 4;
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(Math.abs(variance - 1)).toBeLessThan(1e-3);
    params.dispose();
  });
});
