/**
 * F2A2-ISAC (algos/f2a2-isac.ts; shared/specs/f2a2.md §1.10): per-copy gradients of the critic
 * and actor surrogates on a tiny battle against finite differences and against Prop 6's closed
 * form with local critics (the baseline computed by hand from Q1 and pi); the copies'
 * independence (a copy's gradient depends only on its own minibatch, clipping is per copy);
 * consensus over the copies; training and checkpoints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { clipPerCopy, f2a2IsacEntry, f2a2IsacSchema, F2a2IsacTrainer } from '../../src-shared/algos/f2a2-isac';
import { PrimalDualConsensus } from '../../src-shared/algos/consensus/primal-dual';
import { imagePatchRows } from '../../src-shared/nn/conv-trunk';
import { battleEntry } from '../../src-shared/envs/battle';
import type { Tensor } from '../../src-shared/nn/tf';
import { Rng } from '../../src-shared/rng';
import { episodeSummary, setupTf, tf } from './helpers';
import { checkFiniteDiff, expectSameGrads, grads } from './finite-diff';

const TINY = { filters: 2, hiddenDim: 4, copies: 2, batchSize: 3, warmup: 1, trainEvery: 1_000_000, bufferSize: 400 };

function make(algo: Values = {}, seed = 1, armySize = 2) {
  const envConfig = resolve('env', battleEntry.schema, { armySize, episodeLimit: 5 });
  const env = battleEntry.create(envConfig, { numEnvs: 2, autoReset: false });
  return new F2a2IsacTrainer({ tf, env, envConfig, config: resolve('algo', f2a2IsacSchema, { ...TINY, ...algo }), seed, rng: new Rng(seed, 17) });
}

describe('F2A2-ISAC', () => {
  beforeAll(setupTf);

  it("critic gradients match finite differences and Prop 6's closed form per copy (local twin critics)", async () => {
    const a1 = 0.7;
    const a2 = 1.3;
    const t = make({ alpha1: a1, alpha2: a2 });
    await t.round();
    const b = t.prepare();
    for (const c of [0, 1] as const) {
      const set = c === 0 ? t.nets.sets.q1 : t.nets.sets.q2;
      const tape = grads(set, () => t.criticLoss(b, c));
      expect(checkFiniteDiff(set, () => t.criticLoss(b, c), tape, 4)).toBeGreaterThan(0);
      const q = (a: Tensor) => tf.sum(tf.mul(t.nets.q[c].run(b.x, true), a), -1);
      const [cA, cH] = tf.tidy(() => {
        const d = tf.sub(tf.sum(tf.mul(t.nets.q[c].run(b.x, false), b.act), -1), b.y);
        const dh = tf.sub(tf.sum(tf.mul(t.nets.q[c].run(b.x, false), b.aHat), -1), b.y);
        const ca = tf.add(tf.mul(d, 2 * a2), c === 0 ? tf.mul(b.rho, -a1) : 0);
        const ch = tf.add(tf.mul(tf.mul(dh, b.rhoBar), 2 * a2), c === 0 ? -a1 : 0);
        return [tf.div(ca, b.K), tf.div(ch, b.K)];
      });
      const closed = grads(set, () => tf.add(tf.sum(tf.mul(cA, q(b.act))), tf.sum(tf.mul(cH, q(b.aHat)))) as never);
      expectSameGrads(tape, closed);
      tf.dispose([cA, cH]);
    }
    t.disposeBatch(b);
    t.dispose();
  });

  it('actor gradients match finite differences and the score-function form with the local baseline', async () => {
    const a1 = 0.7;
    const a2 = 1.3;
    const alpha = 0.3;
    const t = make({ alpha1: a1, alpha2: a2, temperature: alpha, actorLogitReg: 0, lrActor: 0.05, lrCritic: 0.05 });
    await t.round();
    t.iteration();
    const b = t.prepare();
    const coefs = t.actorCoefs(b);
    const set = t.nets.sets.actor;
    const tape = grads(set, () => t.actorLoss(b, coefs));
    expect(checkFiniteDiff(set, () => t.actorLoss(b, coefs), tape, 4)).toBeGreaterThan(0);
    // By hand, per (copy, row): B = sum_a pi(a) Q1[a] over legal a, A = Q1[a] - alpha log pi(a) - B.
    const G = b.G;
    const K = b.K;
    const A = 21;
    const logits = tf.tidy(() => t.nets.actor.run(b.x, false)).dataSync();
    const q1 = tf.tidy(() => t.nets.q[0].run(b.x, false)).dataSync();
    const q2 = tf.tidy(() => t.nets.q[1].run(b.x, false)).dataSync();
    const [mask, act, hat, y, rho, rb] = [b.mask, b.act, b.aHat, b.y, b.rho, b.rhoBar].map((v) => v.dataSync());
    const cBuf = new Float32Array(G * K);
    const cHat = new Float32Array(G * K);
    for (let r = 0; r < G * K; r++) {
      let max = -Infinity;
      for (let a = 0; a < A; a++) if (mask[r * A + a]) max = Math.max(max, logits[r * A + a]);
      let z = 0;
      for (let a = 0; a < A; a++) if (mask[r * A + a]) z += Math.exp(logits[r * A + a] - max);
      const logp = (a: number) => logits[r * A + a] - max - Math.log(z);
      let base = 0;
      for (let a = 0; a < A; a++) if (mask[r * A + a]) base += Math.exp(logp(a)) * q1[r * A + a];
      const ia = Array.from(act.subarray(r * A, (r + 1) * A)).indexOf(1);
      const ih = Array.from(hat.subarray(r * A, (r + 1) * A)).indexOf(1);
      const adv = (a: number) => q1[r * A + a] - alpha * logp(a) - base;
      cBuf[r] = (-a1 * rho[r] * adv(ia)) / K;
      cHat[r] = (-a1 * adv(ih) + a2 * rb[r] * ((q1[r * A + ih] - y[r]) ** 2 + (q2[r * A + ih] - y[r]) ** 2)) / K;
    }
    const cb = tf.tensor2d(cBuf, [G, K]);
    const ch = tf.tensor2d(cHat, [G, K]);
    const closed = grads(set, () =>
      tf.tidy(() => {
        const lp = tf.logSoftmax(tf.add(t.nets.actor.run(b.x, true), tf.mul(tf.sub(1, b.mask), -1e9)));
        return tf.add(tf.sum(tf.mul(tf.sum(tf.mul(lp, b.act), -1), cb)), tf.sum(tf.mul(tf.sum(tf.mul(lp, b.aHat), -1), ch)));
      }) as never,
    );
    expectSameGrads(tape, closed);
    tf.dispose([cb, ch, ...coefs]);
    t.disposeBatch(b);
    t.dispose();
  });

  it("copies are independent: a copy's gradient ignores the other copy's rows, and clipping is per copy", async () => {
    const t = make();
    await t.round();
    const b = t.prepare();
    const g = grads(t.nets.sets.q1, () => t.criticLoss(b, 0));
    // Perturb copy 1's targets only: copy 0's slice of every gradient is unchanged.
    const y2 = tf.tidy(() => tf.add(b.y, tf.concat([tf.zeros([1, b.K]), tf.fill([1, b.K], 3)], 0)));
    const g2 = grads(t.nets.sets.q1, () => t.criticLoss({ ...b, y: y2 }, 0));
    for (const k of Object.keys(g)) {
      const S = g[k].length / 2;
      expect(Array.from(g2[k].subarray(0, S))).toEqual(Array.from(g[k].subarray(0, S)));
      expect(Array.from(g2[k].subarray(S))).not.toEqual(Array.from(g[k].subarray(S)));
    }
    y2.dispose();
    // clipPerCopy: copy 0 [3, 4] (norm 5) -> norm 1; copy 1 [0.3, 0.4] untouched.
    const gr = { w: tf.tensor2d([3, 4, 0.3, 0.4], [2, 2]) };
    clipPerCopy(tf, gr, 2, 1);
    expect(Array.from(gr.w.dataSync())).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5), expect.closeTo(0.3, 5), expect.closeTo(0.4, 5)]);
    gr.w.dispose();
    t.disposeBatch(b);
    t.dispose();
  });

  it('consensus over the copies contracts their disagreement and keeps the mean; copies start from one draw', () => {
    const t = make({ copies: 4, beta: 0.5, consensusEta: 1 }, 1, 4);
    const c0 = t.gatherShared();
    const P = t.sharedP;
    expect(PrimalDualConsensus.residual(c0, 4, P)).toBe(0);
    const r = new Rng(3);
    for (let k = 0; k < c0.length; k++) c0[k] += r.normal() * 0.1;
    t.scatterShared(c0);
    const before = t.gatherShared();
    const res0 = PrimalDualConsensus.residual(before, 4, P);
    t.consensusStep();
    const after = t.gatherShared();
    expect(PrimalDualConsensus.residual(after, 4, P)).toBeCloseTo(res0 / 4, 6);
    for (let k = 0; k < P; k += Math.max(1, Math.floor(P / 40))) {
      let m0 = 0;
      let m1 = 0;
      for (let i = 0; i < 4; i++) {
        m0 += before[i * P + k];
        m1 += after[i * P + k];
      }
      expect(m1 / 4).toBeCloseTo(m0 / 4, 5);
    }
    expect(t.consensus.messages).toBe(12);
    t.dispose();
  });

  it('training logs the joint-objective stats; a checkpoint resumes bit-identically; bad options name the field', async () => {
    const algo = { trainEvery: 4, topology: 'ring-plus', edgeFraction: 0.5, copies: 3 };
    const a = make(algo, 1, 3);
    let last: Record<string, number> = {};
    for (let k = 0; k < 2; k++) last = (await a.round()).stats;
    for (const key of ['f2a2/rho', 'f2a2/rhobar', 'f2a2/coef', 'f2a2/delta', 'losses/critic', 'losses/critic2', 'losses/actor', 'consensus/residual']) expect(Number.isFinite(last[key]), key).toBe(true);
    expect(last['charts/update_iters']).toBeGreaterThan(0);
    // The copies' graph reaches the run view's panel: 3 copies, every drawn graph tallied.
    expect(last['commgraph/n']).toBe(3);
    expect(last['commgraph/graphs']).toBeGreaterThan(0);
    const ck = structuredClone(await a.save());
    const b = make(algo, 2, 3);
    b.load(ck);
    const ra = await a.round();
    const rb = await b.round();
    expect(episodeSummary(rb.episodes)).toBe(episodeSummary(ra.episodes));
    expect(rb.stats).toEqual(ra.stats);
    a.dispose();
    b.dispose();
    expect(() => make({ copies: 5 })).toThrow(/algo\.copies/);
    expect(() => make({ baseline: 'global' })).toThrow(/algo\.baseline/);
    expect(f2a2IsacEntry.accepts(battleEntry.spec(resolve('env', battleEntry.schema, {}))).length).toBe(0);
  });

  it('the update with shared CPU-built patches and reused forwards gives the reference bits', async () => {
    // The reference builds every network's first patches in the graph and runs the actor and Q1
    // again for the coefficients and diagnostics; the fast path must change no bit of anything.
    const algo = { trainEvery: 4, copies: 2, filters: 3, hiddenDim: 5 };
    const fast = make(algo, 3, 3);
    const ref = make(algo, 3, 3);
    ref.reference = true;
    for (let k = 0; k < 2; k++) {
      const rf = await fast.round();
      const rr = await ref.round();
      expect(rf.stats['charts/update_iters']).toBeGreaterThan(0);
      expect(rf.stats).toEqual(rr.stats);
      expect(episodeSummary(rf.episodes)).toBe(episodeSummary(rr.episodes));
    }
    for (const [k, set] of fast.nets.all().entries()) {
      for (const name of set.names()) expect(Array.from(set.get(name).dataSync()), name).toEqual(Array.from(ref.nets.all()[k].get(name).dataSync()));
    }
    // The CPU patches are the in-graph ones, value for value.
    const b = fast.prepare();
    const inGraph = fast.nets.actor.firstPatches(b.x, true);
    expect(Array.from(b.p1!.dataSync())).toEqual(Array.from(inGraph.dataSync()));
    expect(b.p1!.shape).toEqual(inGraph.shape);
    expect(imagePatchRows(b.x.dataSync() as Float32Array, b.G * b.K, fast.nets.actor.shape).length).toBe(b.p1!.size);
    inGraph.dispose();
    fast.disposeBatch(b);
    fast.dispose();
    ref.dispose();
  });
});
