/**
 * F2A2-SAC (algos/f2a2-sac.ts; shared/specs/f2a2.md §1.7, Prop 6): per-agent gradients of the
 * critic and actor surrogates against finite differences and against Prop 6's closed form in
 * reward form (with the counterfactual baseline computed by evaluating Q1 at every own action),
 * the consensus part (only the attention extractors move), training and checkpoints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { f2a2Schema, F2a2SacTrainer } from '../../src-shared/algos/f2a2';
import { PrimalDualConsensus } from '../../src-shared/algos/consensus/primal-dual';
import type { Batch } from '../../src-shared/algos/maddpg-trainer';
import type { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { episodeSummary, setupTf, tf } from './helpers';
import { checkFiniteDiff, expectSameGrads, grads } from './finite-diff';

class Probe extends F2a2SacTrainer {
  batch(): Batch {
    return this.sampleBatch(0);
  }
  /** One minibatch per agent, as an iteration draws them. */
  batches(): Batch[] {
    return Array.from({ length: this.N }, () => this.sampleBatch(0));
  }
  drop(b: Batch): void {
    this.disposeBatch(b);
  }
  actorSet(i: number): ParamSet {
    return this.actors[i].params;
  }
  actorNet(i: number) {
    return this.actors[i].net;
  }
  stored(): number {
    return this.buffer.count;
  }
  storedRew(row: number): Float32Array {
    return this.buffer.row('rew', row);
  }
  reward(i: number, b: Batch): Tensor {
    return this.trainingReward(i, b);
  }
}

const TINY = { instantiation: 'sac', hiddenDim: 8, attendHeads: 2, moaHidden: 6, batchSize: 5, warmup: 1, updateEvery: 1_000_000, moaFifo: 16 };

function make(algo: Values = {}, opts: { seed?: number; agents?: number } = {}) {
  const seed = opts.seed ?? 1;
  const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: 6, numAgents: opts.agents ?? 3 });
  const env = spreadEntry.create(envConfig, { numEnvs: 2, autoReset: false });
  return new Probe({ tf, env, envConfig, config: resolve('algo', f2a2Schema, { ...TINY, ...algo }), seed, rng: new Rng(seed, 11) });
}

describe('F2A2-SAC', () => {
  beforeAll(setupTf);

  it("critic gradients (Q1 and Q2) match finite differences and Prop 6's closed form, each copy from its own agent's loss only", async () => {
    const a1 = 0.7;
    const a2 = 1.3;
    const t = make({ alpha1: a1, alpha2: a2, epsIS: 0.8, attendReg: 0 });
    await t.round();
    const bs = t.batches();
    const x = t.prepareSac(bs);
    for (const c of [0, 1]) {
      const set = t.sq[c].params;
      const tape = grads(set, () => t.sacCriticLoss(x, c));
      expect(checkFiniteDiff(set, () => t.sacCriticLoss(x, c), tape)).toBeGreaterThan(0);
      // Cost-form Prop 6 (phi_1 as TD3's): E_pi0[(a1 rho + 2 a2 d) dQ] + E_pi[(a1 + 2 a2 d^ rhobar) dQ],
      // in reward form the a1 terms flip; phi_2 has only the a2 terms.
      const [cA, cH] = tf.tidy(() => {
        const d = tf.sub(t.sacQ(c, x, x.aBuf, x.ownBuf).q, x.y);
        const dh = tf.sub(t.sacQ(c, x, x.aHat, x.ownHat).q, x.y);
        const ca = tf.add(tf.mul(d, 2 * a2), c === 0 ? tf.mul(x.rho, -a1) : 0);
        const ch = tf.add(tf.mul(tf.mul(dh, x.rhoBar), 2 * a2), c === 0 ? -a1 : 0);
        return [tf.div(ca, x.K), tf.div(ch, x.K)];
      });
      const closed = grads(set, () => tf.add(tf.sum(tf.mul(cA, t.sacQ(c, x, x.aBuf, x.ownBuf).q)), tf.sum(tf.mul(cH, t.sacQ(c, x, x.aHat, x.ownHat).q))) as never);
      expectSameGrads(tape, closed);
      tf.dispose([cA, cH]);
    }
    // Agent 1's loss moves copy 1 only (the copies are independent networks stacked on axis 0),
    // and copy 1's slice of the summed loss's gradient is exactly that.
    const N = 3;
    const one = grads(t.sq[0].params, () => tf.sum(tf.slice(t.sacCopyLosses(x, 0), [1], [1])));
    const all = grads(t.sq[0].params, () => t.sacCriticLoss(x, 0));
    let moved = 0;
    for (const [k, g] of Object.entries(one)) {
      const s = g.length / N;
      for (let m = 0; m < s; m++) {
        expect(g[m], k).toBe(0);
        expect(g[2 * s + m], k).toBe(0);
        expect(Math.abs(g[s + m] - all[k][s + m])).toBeLessThan(1e-6 * Math.max(1, Math.abs(all[k][s + m])));
        if (g[s + m] !== 0) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    t.disposeSac(x);
    for (const b of bs) t.drop(b);
    t.dispose();
  });

  // a2Baseline 'none' is Prop 6; 'counterfactual' subtracts from the a2 weight its pi-mean over the own actions.
  it.each(['none', 'counterfactual'] as const)("actor gradients match finite differences and Prop 6's score-function form with the counterfactual baseline (a2Baseline %s)", async (a2Baseline) => {
    const a1 = 0.7;
    const a2 = 1.3;
    const alpha = 0.3;
    const t = make({ alpha1: a1, alpha2: a2, temperature: alpha, actorLogitReg: 0, a2Baseline });
    await t.round();
    // One update so that pi differs from pi0 (rho, rhobar != 1).
    t.iteration();
    const bs = t.batches();
    const i = 2;
    const b = bs[i];
    const x = t.prepareSac(bs);
    const coefs = t.actorCoefs(x, bs);
    const set = t.actorSet(i);
    const tape = grads(set, () => t.sacActorLoss(x, i, b, coefs));
    expect(checkFiniteDiff(set, () => t.sacActorLoss(x, i, b, coefs), tape)).toBeGreaterThan(0);
    // Independently: B = sum_b pi(b) Q1(o, (b, a^-i)) by evaluating copy i's Q1 at each own action b.
    const D = 5;
    const K = x.K;
    const N = 3;
    const rowOf = (v: Tensor) => tf.tidy(() => tf.slice(v, [i, 0, 0], [1, K, -1]).dataSync() as Float32Array);
    const logp = tf.tidy(() => tf.logSoftmax(t.actorNet(i).forward(b.obs[i])));
    const pi = tf.exp(logp);
    const piA = pi.arraySync() as number[][];
    const qAt = (act: Tensor[], own: Tensor) => rowOf(t.sacQ(0, x, act, own).q);
    const y = rowOf(x.y);
    // sum_b pi(b) (d1_b^2 + d2_b^2), both critics evaluated at each own action b (a2Baseline 'counterfactual').
    const sqBase = new Float64Array(K);
    const adv = (acts: Tensor[], ownStack: Tensor, ownRows: Tensor, hat = false): number[] => {
      const q = qAt(acts, ownStack);
      const base = new Float64Array(K);
      for (let a = 0; a < D; a++) {
        // Every copy's agent-i slot and own action set to a; only copy i's Q is read.
        const oh = tf.tidy(() => tf.tile(tf.reshape(tf.cast(tf.oneHot(tf.fill([K], a, 'int32'), D), 'float32'), [1, K, D]), [N, 1, 1]));
        const acted = acts.map((v, j) => (j === i ? oh : v));
        const qa = qAt(acted, oh);
        const q2a = hat ? rowOf(t.sacQ(1, x, acted, oh).q) : null;
        for (let k = 0; k < K; k++) {
          base[k] += piA[k][a] * qa[k];
          if (q2a) sqBase[k] += piA[k][a] * ((qa[k] - y[k]) ** 2 + (q2a[k] - y[k]) ** 2);
        }
        oh.dispose();
      }
      const own = ownRows.arraySync() as number[][];
      const lp = logp.arraySync() as number[][];
      return Array.from({ length: K }, (_, k) => q[k] - alpha * lp[k][own[k].indexOf(1)] - base[k]);
    };
    const Abuf = adv(x.aBuf, x.ownBuf, x.ownBufRows[i]);
    const Ahat = adv(x.aHat, x.ownHat, x.ownHatRows[i], true);
    const qh1 = qAt(x.aHat, x.ownHat);
    const qh2 = rowOf(t.sacQ(1, x, x.aHat, x.ownHat).q);
    const sub = a2Baseline === 'counterfactual' ? sqBase : new Float64Array(K);
    expect(sqBase.every((v) => v > 0)).toBe(true);
    const rho = rowOf(x.rho);
    const rb = rowOf(x.rhoBar);
    // Reward form of Prop 6's psi-gradient: descend -a1 rho l(a) A - a1 l(a^) A^ + a2 rhobar l(a^) (d1^2 + d2^2 [- sqBase]).
    const cBuf = tf.tensor2d(Abuf.map((v, k) => (-a1 * rho[k] * v) / K), [K, 1]);
    const cHat = tf.tensor2d(Ahat.map((v, k) => (-a1 * v + a2 * rb[k] * ((qh1[k] - y[k]) ** 2 + (qh2[k] - y[k]) ** 2 - sub[k])) / K), [K, 1]);
    const closed = grads(set, () =>
      tf.tidy(() => {
        const lp = tf.logSoftmax(t.actorNet(i).forward(b.obs[i]));
        return tf.add(tf.sum(tf.mul(tf.sum(tf.mul(lp, x.ownBufRows[i]), 1, true), cBuf)), tf.sum(tf.mul(tf.sum(tf.mul(lp, x.ownHatRows[i]), 1, true), cHat)));
      }) as never,
    );
    expectSameGrads(tape, closed);
    expect(Array.from(rho).some((v) => Math.abs(v - 1) > 1e-4) || Array.from(rb).some((v) => Math.abs(v - 1) > 1e-4)).toBe(true);
    tf.dispose([logp, pi, cBuf, cHat, ...coefs]);
    t.disposeSac(x);
    for (const bb of bs) t.drop(bb);
    t.dispose();
  });

  it('w/o JOINT: the critic sees only a2 (Q - y)^2 and the actor only -a1 l(a^) A^', async () => {
    const t = make({ joint: false, alpha1: 0.5, alpha2: 2, attendReg: 0 });
    await t.round();
    const bs = t.batches();
    const x = t.prepareSac(bs);
    const got = tf.tidy(() => t.sacCopyLosses(x, 1).dataSync() as Float32Array);
    const want = tf.tidy(() => tf.mul(tf.mean(tf.square(tf.sub(t.sacQ(1, x, x.aBuf, x.ownBuf).q, x.y)), [1, 2]), 2).dataSync() as Float32Array);
    expect(got.length).toBe(3);
    got.forEach((v, c) => expect(v).toBeCloseTo(want[c], 5));
    const [cBuf, cHat] = t.actorCoefs(x, bs);
    expect(Math.max(...Array.from(cBuf.dataSync()).map(Math.abs))).toBe(0);
    expect(Math.max(...Array.from(cHat.dataSync()).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([cBuf, cHat]);
    t.disposeSac(x);
    for (const b of bs) t.drop(b);
    t.dispose();
  });

  // jointTerms splits the joint objective's two cross terms (a diagnostic, docs/design.md issue-11s).
  it("jointTerms 'critic' drops only the actor's a2 term, 'actor' only the critic's a1 and resampled terms", async () => {
    const a1 = 0.5;
    const a2 = 2;
    const t = make({ alpha1: a1, alpha2: a2, attendReg: 0 });
    await t.round();
    t.iteration();
    const bs = t.batches();
    const x = t.prepareSac(bs);
    const cfg = t.sac as { jointTerms: string };
    const read = (terms: string) => {
      cfg.jointTerms = terms;
      const crit = [0, 1].map((c) => Array.from(tf.tidy(() => t.sacCopyLosses(x, c).dataSync() as Float32Array)));
      const coefs = t.actorCoefs(x, bs);
      const [cBuf, cHat] = coefs.map((v) => Array.from(v.dataSync() as Float32Array));
      tf.dispose(coefs);
      return { crit, cBuf, cHat };
    };
    const both = read('both');
    const critic = read('critic');
    const actor = read('actor');
    cfg.jointTerms = 'both';
    const td = [0, 1].map((c) => Array.from(tf.tidy(() => tf.mul(tf.mean(tf.square(tf.sub(t.sacQ(c, x, x.aBuf, x.ownBuf).q, x.y)), [1, 2]), a2).dataSync() as Float32Array)));
    // 'critic': the critic steps of Prop 6, the actor's buffer term, and -a1 A^ alone on l(a^).
    const close = (got: number[], want: number[]) => got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    [0, 1].forEach((c) => close(critic.crit[c], both.crit[c]));
    close(critic.cBuf, both.cBuf);
    const noJoint = (() => {
      (t.f as { joint: boolean }).joint = false;
      const coefs = t.actorCoefs(x, bs);
      const v = Array.from(coefs[1].dataSync() as Float32Array);
      tf.dispose(coefs);
      (t.f as { joint: boolean }).joint = true;
      return v;
    })();
    close(critic.cHat, noJoint);
    expect(Math.max(...critic.cHat.map((v, k) => Math.abs(v - both.cHat[k])))).toBeGreaterThan(1e-3);
    // 'actor': TD-only critic steps, Prop 6's actor coefficients.
    [0, 1].forEach((c) => close(actor.crit[c], td[c]));
    expect(Math.max(...both.crit[0].map((v, k) => Math.abs(v - td[0][k])))).toBeGreaterThan(1e-3);
    close(actor.cBuf, both.cBuf);
    close(actor.cHat, both.cHat);
    t.disposeSac(x);
    for (const b of bs) t.drop(b);
    t.dispose();
  });

  it('consensus exchanges only the attention extractors of both critics (shareEncoders adds the (o, a) encoders)', () => {
    for (const shareEncoders of [false, true]) {
      const t = make({ shareEncoders, beta: 0.5, consensusEta: 1 }, { agents: 4 });
      const names = shareEncoders ? t.sq[0].sharedNames() : t.sq[0].attentionNames();
      const per = names.reduce((s, n) => s + t.sq[0].params.get(n).size / 4, 0);
      const c0 = t.gatherShared();
      expect(c0.length).toBe(4 * 2 * per);
      const r = new Rng(5);
      for (let k = 0; k < c0.length; k++) c0[k] += r.normal() * 0.1;
      t.scatterShared(c0);
      expect(Array.from(t.gatherShared())).toEqual(Array.from(c0));
      const encBefore = Float32Array.from(t.sq[0].params.get('q1/s_enc/weight').dataSync() as Float32Array);
      const res0 = PrimalDualConsensus.residual(t.gatherShared(), 4, c0.length / 4);
      t.consensusStep();
      expect(PrimalDualConsensus.residual(t.gatherShared(), 4, c0.length / 4)).toBeCloseTo(res0 / 4, 6);
      // State encoders are individual in both settings: untouched by the exchange.
      expect(Array.from(t.sq[0].params.get('q1/s_enc/weight').dataSync())).toEqual(Array.from(encBefore));
      t.dispose();
    }
  });

  it('training logs the joint-objective stats; checkpoints restore the run exactly', async () => {
    const algo = { updateEvery: 6, updateIters: 1, topology: 'ring-plus', edgeFraction: 0.5 };
    const a = make(algo, { agents: 3 });
    let last: Record<string, number> = {};
    for (let k = 0; k < 2; k++) last = (await a.round()).stats;
    for (const key of ['f2a2/rho', 'f2a2/rhobar', 'f2a2/coef', 'f2a2/delta', 'moa/loss', 'losses/critic_0', 'losses/critic2_1', 'losses/actor_2', 'consensus/residual']) expect(Number.isFinite(last[key]), key).toBe(true);
    expect(last['charts/update_iters']).toBeGreaterThan(0);
    const ck = await a.save();
    const b = make(algo, { seed: 2, agents: 3 });
    b.load(ck);
    const ra = await a.round();
    const rb = await b.round();
    expect(episodeSummary(rb.episodes)).toBe(episodeSummary(ra.episodes));
    expect(rb.stats).toEqual(ra.stats);
    // A checkpoint from before the critic copies were batched (one critic per agent under
    // sacCritic1/<i>/) is refused with a message that says so, not a missing-tensor error.
    const old = { ...ck, tensors: Object.fromEntries(Object.entries(ck.tensors).map(([k, v]) => [k.replace(/^(sacCritic\d+(?:Target)?(?:Stats)?\/)/, '$10/'), v])) };
    expect(Object.keys(old.tensors).some((k) => k.startsWith('sacCritic1/0/'))).toBe(true);
    const c = make(algo, { seed: 3, agents: 3 });
    expect(() => c.load(old)).toThrow(/before F2A2-SAC batched its per-agent critics/);
    c.dispose();
    a.dispose();
    b.dispose();
  });

  it('rewards are standardised once: batches carry the stored rewards, trainingReward applies the running statistics', async () => {
    const t = make();
    await t.round();
    const b = t.batch();
    const raw = Array.from(b.index).flatMap((r) => Array.from(t.storedRew(r)));
    expect(Array.from(b.rew.dataSync())).toEqual(raw.map((v) => expect.closeTo(v, 6)));
    // The running mean and std of every reward stored so far (all of them: nothing evicted).
    const all: number[] = [];
    expect(t.stored()).toBe(12);
    for (let r = 0; r < t.stored(); r++) all.push(t.storedRew(r)[1]);
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    const sd = Math.sqrt(all.reduce((s, v) => s + (v - mean) ** 2, 0) / (all.length - 1));
    const got = t.reward(1, b).dataSync();
    b.index.forEach((r, k) => expect(got[k]).toBeCloseTo((t.storedRew(r)[1] - mean) / sd, 4));
    t.drop(b);
    t.dispose();
  });

  it('refuses bad options, naming the field', () => {
    expect(() => make({ hiddenDim: 9, attendHeads: 2 })).toThrow(/algo\.attendHeads/);
    expect(() => make({ maacTargetForm: 'neither' })).toThrow(/algo\.maacTargetForm/);
  });
});
