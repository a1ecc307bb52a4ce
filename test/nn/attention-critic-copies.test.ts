/**
 * nn/attention-critic-copies.ts: C copies of MAAC's attention critic as one batched network must
 * compute, per copy c, what the per-copy network (nn/attention-critic.ts, `agents: [c]`) computes
 * on copy c's minibatch: Q of every own action, the gathered Q, the logit regulariser, the
 * BatchNorm running estimates, and the parameter gradients of copy c's loss (agents with
 * different observation and action sizes, so the padding is exercised). Also the per-copy clip.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionCritic } from '../../src-shared/nn/attention-critic';
import { AttentionCriticCopies, clipPerCopy, copyMatMul } from '../../src-shared/nn/attention-critic-copies';
import { clipByGlobalNorm } from '../../src-shared/nn/clip';
import { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { Rng } from '../../src-shared/rng';
import { maxAbsDiff as maxDiff, setupTf, tf } from './tf-setup';

const maxAbsDiff = (a: Tensor, b: Tensor) => maxDiff(a.dataSync() as Float32Array, b.dataSync() as Float32Array);

const OBS = [3, 2, 4];
const ACT = [2, 3, 2];
const N = 3;
const K = 6;

function batch(rng: Rng): { obs: Tensor[]; act: Tensor[] } {
  const obs = OBS.map((s) => tf.tensor2d(Float32Array.from({ length: K * s }, () => rng.normal()), [K, s]));
  const act = ACT.map((s) => {
    const a = new Float32Array(K * s);
    for (let k = 0; k < K; k++) a[k * s + rng.int(s)] = 1;
    return tf.tensor2d(a, [K, s]);
  });
  return { obs, act };
}

const pad = (t: Tensor, to: number) => tf.pad(t, [[0, 0], [0, to - (t.shape[1] as number)]]);

/** The stacked inputs of copies whose minibatches are `bs` (copy c: bs[c]). */
function stacked(bs: { obs: Tensor[]; act: Tensor[] }[]) {
  return {
    obs: OBS.map((_, j) => tf.stack(bs.map((b) => b.obs[j]))),
    act: ACT.map((_, j) => tf.stack(bs.map((b) => b.act[j]))),
    ownObs: tf.stack(bs.map((b, c) => pad(b.obs[c], 4))),
    ownAct: tf.stack(bs.map((b, c) => pad(b.act[c], 3))),
  };
}

/** Copy c's slice of a stacked gradient, as the per-copy parameter's shape [rows, cols] (leading rows/cols). */
function slice(g: Float32Array, c: number, rows: number, cols: number, R: number, Cc: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(g.subarray((c * R + r) * Cc, (c * R + r) * Cc + cols), r * cols);
  return out;
}

describe('AttentionCriticCopies', () => {
  beforeAll(setupTf);

  it('each copy computes the per-copy network on its own minibatch: values, gradients, BatchNorm estimates', () => {
    const H = 8;
    const from = new AttentionCritic(tf, new ParamSet(tf, true), new ParamSet(tf, false), 'q', { obsSizes: OBS, actSizes: ACT }, new Rng(3), { hidden: H, heads: 2, attendReg: 0.1 });
    const copies = new AttentionCriticCopies(tf, 'q', from, true);
    const rng = new Rng(9);
    const bs = Array.from({ length: N }, () => batch(rng));
    const x = stacked(bs);
    const wts = tf.tensor3d(Float32Array.from({ length: N * K }, () => rng.normal()), [N, K, 1]);
    // Copy c's loss: sum_k w_k q_k + reg_c; the stacked loss sums the copies.
    const cg = copies.params.grads(() =>
      tf.tidy(() => {
        const f = copies.forward(x.obs, x.act, x.ownObs, x.ownAct, { updateStats: false });
        return tf.add(tf.sum(tf.mul(f.q, wts)), tf.sum(f.reg));
      }) as never,
    ).grads;
    const f = copies.forward(x.obs, x.act, x.ownObs, x.ownAct);
    const allQ = f.allQ.arraySync() as number[][][];
    const q = f.q.arraySync() as number[][][];
    const reg = f.reg.dataSync();
    let checked = 0;
    for (let c = 0; c < N; c++) {
      const ref = from.forward(bs[c].obs, bs[c].act, { agents: [c] });
      expect(maxAbsDiff(tf.tensor2d(allQ[c].map((r) => r.slice(0, ACT[c]))), ref.allQ[0])).toBeLessThan(1e-5);
      for (const r of allQ[c]) for (const v of r.slice(ACT[c])) expect(v).toBe(0);
      expect(maxAbsDiff(tf.tensor2d(q[c]), ref.q[0])).toBeLessThan(1e-5);
      expect(Math.abs(reg[c] - ref.reg[0].dataSync()[0])).toBeLessThan(1e-6);
      const w = tf.reshape(tf.slice(wts, [c, 0, 0], [1, K, 1]), [K, 1]);
      const rg = from.params.grads(() =>
        tf.tidy(() => {
          const r = from.forward(bs[c].obs, bs[c].act, { agents: [c], updateStats: false });
          return tf.add(tf.sum(tf.mul(r.q[0], w)), r.reg[0]);
        }) as never,
      ).grads;
      const pairs: [string, string, number, number, number, number][] = [
        ...OBS.flatMap((o, j): [string, string, number, number, number, number][] => [
          [`q/sa_enc/${j}/weight`, `q/sa_enc/${j}/weight`, o + ACT[j], H, o + ACT[j], H],
          [`q/sa_enc/${j}/bias`, `q/sa_enc/${j}/bias`, 1, H, 1, H],
        ]),
        [`q/s_enc/${c}/weight`, 'q/s_enc/weight', OBS[c], H, 4, H],
        [`q/s_enc/${c}/bias`, 'q/s_enc/bias', 1, H, 1, H],
        ['q/key/weight', 'q/key/weight', H, H, H, H],
        ['q/selector/weight', 'q/selector/weight', H, H, H, H],
        ['q/value/weight', 'q/value/weight', H, H, H, H],
        ['q/value/bias', 'q/value/bias', 1, H, 1, H],
        [`q/q/${c}/0/weight`, 'q/q/0/weight', 2 * H, H, 2 * H, H],
        [`q/q/${c}/1/weight`, 'q/q/1/weight', H, ACT[c], H, 3],
        [`q/q/${c}/1/bias`, 'q/q/1/bias', 1, ACT[c], 1, 3],
      ];
      for (const [rn, cn, rows, cols, R, Cc] of pairs) {
        const want = rg[rn].dataSync() as Float32Array;
        const got = slice(cg[cn].dataSync() as Float32Array, c, rows, cols, R, Cc);
        let scale = 1e-6;
        for (const v of want) scale = Math.max(scale, Math.abs(v));
        for (let m = 0; m < want.length; m++) expect(Math.abs(got[m] - want[m]), `${cn} copy ${c}`).toBeLessThan(1e-5 * Math.max(1, scale));
        checked++;
      }
      // Running estimates: one training forward moved both by the same rule.
      const st = (name: string) => Array.from(copies.stats.get(name).dataSync() as Float32Array);
      const rs = (name: string) => Array.from(from.stats.get(name).dataSync() as Float32Array);
      expect(st('q/s_enc/bn/running_mean').slice(c * 4, c * 4 + OBS[c]).map((v, m) => Math.abs(v - rs(`q/s_enc/${c}/bn/running_mean`)[m]))).toEqual(Array(OBS[c]).fill(expect.closeTo(0, 5)));
      tf.dispose([...ref.allQ, ...ref.q, ...ref.reg, ref.attention, w, ...Object.values(rg)]);
    }
    expect(checked).toBe(N * (2 * N + 9));
    tf.dispose([...Object.values(cg), f.allQ, f.q, f.reg, wts, ...x.obs, ...x.act, x.ownObs, x.ownAct, ...bs.flatMap((b) => [...b.obs, ...b.act])]);
    copies.disposeConstants();
  });

  it('clipPerCopy scales each copy as clip_grad_norm_ would scale that copy alone', () => {
    const rng = new Rng(4);
    const g = { a: tf.tensor3d(Float32Array.from({ length: 3 * 2 * 2 }, () => 5 * rng.normal()), [3, 2, 2]), b: tf.tensor3d(Float32Array.from({ length: 3 * 1 * 2 }, () => 0.01 * rng.normal()), [3, 1, 2]) };
    // Copy 2 small enough to stay unclipped.
    const small = tf.mul(g.a, tf.tensor3d([1, 1, 1e-4], [3, 1, 1]));
    g.a.dispose();
    const grads: Record<string, Tensor> = { a: small, b: g.b };
    const per = [0, 1, 2].map((c) => ({ a: tf.slice(grads.a, [c, 0, 0], [1, -1, -1]), b: tf.slice(grads.b, [c, 0, 0], [1, -1, -1]) }));
    clipPerCopy(tf, grads, 1);
    for (let c = 0; c < 3; c++) {
      const one: Record<string, Tensor> = { ...per[c] };
      clipByGlobalNorm(tf, one, 1);
      expect(maxAbsDiff(tf.slice(grads.a, [c, 0, 0], [1, -1, -1]), one.a)).toBeLessThan(1e-6);
      expect(maxAbsDiff(tf.slice(grads.b, [c, 0, 0], [1, -1, -1]), one.b)).toBeLessThan(1e-7);
    }
  });
  it('copyMatMul is bit for bit the per-copy 2D matmuls, values and gradients', () => {
    const rng = new Rng(11);
    const [C, R, I, O] = [3, 37, 19, 23];
    const a = tf.tensor3d(Float32Array.from({ length: C * R * I }, () => rng.normal()), [C, R, I]);
    const b = tf.variable(tf.tensor3d(Float32Array.from({ length: C * I * O }, () => rng.normal()), [C, I, O]));
    const w = tf.tensor3d(Float32Array.from({ length: C * R * O }, () => rng.normal()), [C, R, O]);
    // The form copyMatMul had before (2D reshapes around each copy's matmul): the reference.
    const perCopy = (x: Tensor, y: Tensor) =>
      tf.concat([...Array(C).keys()].map((c) => tf.reshape(tf.matMul(tf.reshape(tf.slice(x, [c, 0, 0], [1, R, I]), [R, I]), tf.reshape(tf.slice(y, [c, 0, 0], [1, I, O]), [I, O])), [1, R, O])), 0);
    const got = tf.variableGrads(() => tf.sum(tf.mul(copyMatMul(tf, a, b), w)), [b]);
    const want = tf.variableGrads(() => tf.sum(tf.mul(perCopy(a, b), w)), [b]);
    expect(Array.from(copyMatMul(tf, a, b).dataSync())).toEqual(Array.from(perCopy(a, b).dataSync()));
    expect(Array.from(got.grads[b.name].dataSync())).toEqual(Array.from(want.grads[b.name].dataSync()));
    // Not trivially equal: the product is not symmetric in the copies.
    expect(maxAbsDiff(tf.slice(copyMatMul(tf, a, b), [0, 0, 0], [1, -1, -1]), tf.slice(copyMatMul(tf, a, b), [1, 0, 0], [1, -1, -1]))).toBeGreaterThan(0.1);
    tf.dispose([a, b, w, got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
  });

  it('updateStats moves the BatchNorm running estimates exactly as a training forward does', () => {
    const mk = () => new AttentionCritic(tf, new ParamSet(tf, true), new ParamSet(tf, false), 'q', { obsSizes: OBS, actSizes: ACT }, new Rng(3), { hidden: 8, heads: 2, attendReg: 0.1 });
    const fa = mk();
    const fb = mk();
    const one = new AttentionCriticCopies(tf, 'q', fa, true);
    const two = new AttentionCriticCopies(tf, 'q', fb, true);
    const rng = new Rng(12);
    const xs = [stacked(Array.from({ length: N }, () => batch(rng))), stacked(Array.from({ length: N }, () => batch(rng)))];
    for (const x of xs) {
      const f = one.forward(x.obs, x.act, x.ownObs, x.ownAct);
      tf.dispose([f.allQ, f.q, f.reg]);
      two.updateStats(x.obs, x.act, x.ownObs);
    }
    const names = one.stats.names();
    expect(names.length).toBe(2 * N + 2);
    for (const k of names) {
      expect(Array.from(two.stats.get(k).dataSync()), k).toEqual(Array.from(one.stats.get(k).dataSync()));
      // Moved from the initial estimates (0 means, 1 variances).
      expect(Array.from(one.stats.get(k).dataSync()).some((v) => v !== 0 && v !== 1), k).toBe(true);
    }
    one.disposeConstants();
    two.disposeConstants();
  });
});
