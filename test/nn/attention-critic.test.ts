/** MAAC's attention critic (nn/attention-critic.ts) and the BatchNorm it uses (nn/batch-norm.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionCritic, addWeightDecay, counterfactualBaseline, scaleGrads } from '../../src-shared/nn/attention-critic';
import { BatchNorm } from '../../src-shared/nn/batch-norm';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff, setupTf, tf } from './tf-setup';

const OBS = [3, 2, 4];
const ACT = [2, 3, 2];
const K = 6;

function batch(seed: number): { obs: tf.Tensor[]; act: tf.Tensor[] } {
  const rng = new Rng(seed);
  const obs = OBS.map((s) => tf.tensor2d(Float32Array.from({ length: K * s }, () => rng.normal()), [K, s]));
  const act = ACT.map((s) => {
    const a = new Float32Array(K * s);
    for (let k = 0; k < K; k++) a[k * s + rng.int(s)] = 1;
    return tf.tensor2d(a, [K, s]);
  });
  return { obs, act };
}

function critic(seed = 1, hidden = 8, heads = 2): { c: AttentionCritic; params: ParamSet; stats: ParamSet } {
  const params = new ParamSet(tf);
  const stats = new ParamSet(tf, false);
  const c = new AttentionCritic(tf, params, stats, 'critic', { obsSizes: OBS, actSizes: ACT }, new Rng(seed), { hidden, heads });
  return { c, params, stats };
}

describe('BatchNorm', () => {
  beforeAll(async () => {
    await setupTf();
  });

  it('training normalises with batch statistics and moves the running estimates as PyTorch (unbiased variance)', () => {
    const params = new ParamSet(tf);
    const stats = new ParamSet(tf, false);
    const bn = new BatchNorm(tf, params, stats, 'bn', 2, { affine: false });
    expect(params.names()).toEqual([]);
    const x = tf.tensor2d([1, 10, 2, 20, 3, 30, 6, 0], [4, 2]);
    const y = bn.forward(x).dataSync();
    // column 0: mean 3, biased var (4 + 1 + 0 + 9) / 4 = 3.5
    expect(y[0]).toBeCloseTo((1 - 3) / Math.sqrt(3.5 + 1e-5), 5);
    const rm = bn.runningMean.dataSync();
    const rv = bn.runningVar.dataSync();
    expect(rm[0]).toBeCloseTo(0.3, 6);
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * (14 / 3), 5);
    bn.training = false;
    const z = bn.forward(tf.tensor2d([3, 15], [1, 2])).dataSync();
    expect(z[0]).toBeCloseTo((3 - rm[0]) / Math.sqrt(rv[0] + 1e-5), 5);
    expect(() => new BatchNorm(tf, params, new ParamSet(tf), 'x', 2)).toThrow(/non-trainable/);
    bn.training = true;
    expect(() => bn.forward(tf.tensor2d([1, 2], [1, 2]))).toThrow(/more than 1 row/);
  });
});

describe('AttentionCritic', () => {
  beforeAll(async () => {
    await setupTf();
  });

  it('attention weights sum to 1 over the others and are 0 on the agent itself; a subset gives the same Q', () => {
    const { c, params, stats } = critic();
    const { obs, act } = batch(5);
    const full = c.forward(obs, act, { updateStats: false });
    const w = full.attention.arraySync() as number[][][][];
    expect(full.attention.shape).toEqual([K, 2, 3, 3]);
    for (let k = 0; k < K; k++) {
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < 3; i++) {
          expect(w[k][h][i][i]).toBe(0);
          expect(w[k][h][i].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
          for (let j = 0; j < 3; j++) if (j !== i) expect(w[k][h][i][j]).toBeGreaterThan(0);
        }
      }
    }
    full.allQ.forEach((q, i) => expect(q.shape).toEqual([K, ACT[i]]));
    // the gathered Q is the taken action's entry
    const q0 = full.q[0].dataSync();
    const all0 = full.allQ[0].arraySync() as number[][];
    const a0 = act[0].arraySync() as number[][];
    for (let k = 0; k < K; k++) expect(q0[k]).toBeCloseTo(all0[k][a0[k].indexOf(1)], 5);
    const one = c.forward(obs, act, { agents: [1], updateStats: false });
    expect(maxAbsDiff(one.allQ[0].dataSync(), full.allQ[1].dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(one.reg[0].dataSync(), full.reg[1].dataSync())).toBeLessThan(1e-7);
    // the regulariser only sees the others' logits and is positive
    expect(full.reg[0].dataSync()[0]).toBeGreaterThan(0);
    params.dispose();
    stats.dispose();
  });

  it('parameter groups: MAAC shared modules = attention extractors + (o, a) encoders; keys and selectors have no bias', () => {
    const { c, params, stats } = critic(2, 8, 2);
    expect(c.attentionNames().sort()).toEqual(['critic/key/weight', 'critic/selector/weight', 'critic/value/bias', 'critic/value/weight'].sort());
    expect(c.encoderNames()).toHaveLength(6);
    expect(c.sharedNames()).toHaveLength(10);
    // BatchNorm running estimates live in `stats`: (o, a) and state norms of 3 agents
    expect(stats.names()).toHaveLength(12);
    expect(params.names().some((n) => n.includes('running'))).toBe(false);
    params.dispose();
    stats.dispose();
  });

  it('gradient of a loss through every part (BatchNorm batch statistics, attention, heads, regulariser) matches finite differences', () => {
    const { c, params, stats } = critic(3, 8, 2);
    const { obs, act } = batch(9);
    const rng = new Rng(4);
    const wq = ACT.map((s) => tf.tensor2d(Float32Array.from({ length: K * s }, () => rng.normal()), [K, s]));
    const loss = () =>
      tf.tidy(() => {
        const f = c.forward(obs, act, { training: true, updateStats: false });
        let l: tf.Tensor = tf.scalar(0);
        f.reg.forEach((r) => (l = tf.add(l, tf.mul(r, 100))));
        f.q.forEach((q) => (l = tf.add(l, tf.mean(tf.square(q)))));
        f.allQ.forEach((q, i) => (l = tf.add(l, tf.mean(tf.mul(q, wq[i])))));
        return l as tf.Scalar;
      });
    const { grads } = params.grads(loss);
    const h = 4e-3;
    let checked = 0;
    let worst = 0;
    let kinks = 0;
    for (const name of params.names()) {
      const v = params.get(name);
      const base = Float32Array.from(v.dataSync() as Float32Array);
      const g = grads[name].dataSync();
      const gScale = Math.max(1e-3, ...Array.from(g, Math.abs));
      for (const k of [0, Math.floor(base.length / 2), base.length - 1]) {
        const eval_ = (delta: number) => {
          const p = Float32Array.from(base);
          p[k] += delta;
          v.assign(tf.tensor(p, v.shape));
          const out = loss();
          const r = out.dataSync()[0];
          out.dispose();
          return r;
        };
        const fd = (eval_(h) - eval_(-h)) / (2 * h);
        // A LeakyReLU kink inside [-h, h] makes the difference quotient depend on h: such an
        // entry tells nothing about the gradient (here 4 of ~100 entries, two hidden units), so it is counted, not compared.
        const fdSmall = (eval_(h / 4) - eval_(-h / 4)) / (h / 2);
        v.assign(tf.tensor(base, v.shape));
        if (Math.abs(fd - fdSmall) > 0.01 * gScale) {
          kinks++;
          if (process.env.GC_DEBUG) console.log("KINK", name, k, fd, fdSmall, g[k]);
          continue;
        }
        worst = Math.max(worst, Math.abs(fd - g[k]) / gScale);
        if (process.env.GC_DEBUG) console.log(name, k, fd, g[k]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(kinks).toBeLessThanOrEqual(Math.ceil(0.06 * checked));
    expect(worst).toBeLessThan(0.03);
    params.dispose();
    stats.dispose();
  });

  it('counterfactual baseline = sum_a pi(a) q(a) on a hand case; grad helpers scale and decay in place', () => {
    const b = counterfactualBaseline(tf, tf.tensor2d([1, 2, 3, -1, 0, 4], [2, 3]), tf.tensor2d([0.2, 0.3, 0.5, 0.5, 0.5, 0], [2, 3]));
    expect(Array.from(b.dataSync())).toEqual([expect.closeTo(2.3, 6), expect.closeTo(-0.5, 6)]);
    const ps = new ParamSet(tf);
    ps.add('a', [2], Float32Array.from([1, -2]));
    ps.add('b', [1], Float32Array.from([3]));
    const grads: Record<string, tf.Tensor> = { a: tf.tensor1d([1, 1]), b: tf.tensor1d([2]) };
    scaleGrads(tf, grads, ['a'], 0.5);
    addWeightDecay(tf, grads, ps, 0.1);
    expect(Array.from(grads.a.dataSync())).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.3, 6)]);
    expect(grads.b.dataSync()[0]).toBeCloseTo(2.3, 6);
    expect(() => new AttentionCritic(tf, ps, new ParamSet(tf, false), 'c', { obsSizes: [2], actSizes: [2] }, new Rng(1))).toThrow(/at least 2 agents/);
    expect(() => new AttentionCritic(tf, ps, new ParamSet(tf, false), 'c', { obsSizes: [2, 2], actSizes: [2, 2] }, new Rng(1), { hidden: 10, heads: 4 })).toThrow(/multiple of heads/);
  });

  it('training forward leaves no tensors behind besides its outputs', () => {
    const { c, params, stats } = critic(6);
    const { obs, act } = batch(2);
    const before = tf.memory().numTensors;
    const f = c.forward(obs, act);
    const outputs = f.allQ.length + f.q.length + f.reg.length + 1;
    expect(tf.memory().numTensors - before).toBe(outputs);
    tf.dispose([...f.allQ, ...f.q, ...f.reg, f.attention]);
    params.dispose();
    stats.dispose();
  });
});
