/**
 * F2A2 (algos/f2a2.ts, algos/f2a2-moa.ts; shared/specs/f2a2.md): per-agent gradients of the
 * DDPG and TD3 instantiations against finite differences and against the propositions'
 * closed forms (Props 4-5 in reward form), the MOA loss on a hand case, the consensus wiring
 * (disagreement contracts, the mean is kept), and checkpoints of the state F2A2 adds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { f2a2Entry, f2a2Schema, F2a2Trainer, type F2a2Inputs } from '../../src-shared/algos/f2a2';
import { MoaBank } from '../../src-shared/algos/f2a2-moa';
import { PrimalDualConsensus } from '../../src-shared/algos/consensus/primal-dual';
import type { Batch } from '../../src-shared/algos/maddpg-trainer';
import type { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { episodeSummary, setupTf, tf } from './helpers';
import { checkFiniteDiff, expectSameGrads, grads, value } from './finite-diff';

/** Exposes the protected parts the tests look at. */
class Probe extends F2a2Trainer {
  batch(): Batch {
    return this.sampleBatch(0);
  }
  drop(b: Batch): void {
    this.disposeBatch(b);
  }
  criticSet(i: number, c: 0 | 1): ParamSet {
    return (c === 0 ? this.critics : this.critics2)[i].params;
  }
  actorSet(i: number): ParamSet {
    return this.actors[i].params;
  }
  actorNet(i: number) {
    return this.actors[i].net;
  }
}

const TINY = { hiddenDim: 6, moaHidden: 6, batchSize: 5, warmup: 1, updateEvery: 1_000_000, moaFifo: 16 };
// The full MOA (f2a2-moa-natural.ts) at test sizes; its own tests are in f2a2-moa-natural.test.ts.
Object.assign(TINY, { moaCharTrajectories: 4, moaCharSubset: 2, moaNaturalBatch: 8, moaGruHidden: 4, moaNaturalHidden: 6 });

function make(algo: Values, opts: { seed?: number; agents?: number; B?: number } = {}) {
  const seed = opts.seed ?? 1;
  const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: 6, numAgents: opts.agents ?? 3 });
  const env = spreadEntry.create(envConfig, { numEnvs: opts.B ?? 2, autoReset: false });
  const trainer = new Probe({ tf, env, envConfig, config: resolve('algo', f2a2Schema, { ...TINY, ...algo }), seed, rng: new Rng(seed, 11) });
  return { env, trainer };
}

/** The per-sample coefficients of a critic's Q at the buffer and resampled actions (Prop 4/5, reward form). */
function criticCoefs(t: Probe, x: F2a2Inputs, b: Batch, c: 0 | 1, a1: number, a2: number) {
  return tf.tidy(() => {
    const d = tf.sub(t.q(x.i, c, b.obs, x.aBuf, x.id), x.y);
    const dh = tf.sub(t.q(x.i, c, b.obs, x.aHat, x.id), x.y);
    const K = x.K;
    const cA = c === 0 ? tf.div(tf.add(tf.mul(x.rho, -a1), tf.mul(d, 2 * a2)), K) : tf.div(tf.mul(d, 2 * a2), K);
    const cH = c === 0 ? tf.div(tf.add(-a1, tf.mul(tf.mul(dh, x.rhoBar), 2 * a2)), K) : tf.div(tf.mul(tf.mul(dh, x.rhoBar), 2 * a2), K);
    return [cA, cH];
  });
}

describe('F2A2', () => {
  beforeAll(setupTf);

  for (const inst of ['ddpg', 'td3'] as const) {
    it(`F2A2-${inst.toUpperCase()}: critic gradients match finite differences and Prop ${inst === 'ddpg' ? 4 : 5}'s closed form`, async () => {
      const a1 = 0.7;
      const a2 = 1.3;
      const { trainer: t } = make({ instantiation: inst, alpha1: a1, alpha2: a2, epsIS: 0.8 });
      await t.round();
      const b = t.batch();
      const x = t.prepare(1, b);
      for (const c of inst === 'td3' ? ([0, 1] as const) : ([0] as const)) {
        const set = t.criticSet(1, c);
        const tape = grads(set, () => t.criticLoss(x, b, c));
        expect(checkFiniteDiff(set, () => t.criticLoss(x, b, c), tape)).toBeGreaterThan(0);
        const [cA, cH] = criticCoefs(t, x, b, c, a1, a2);
        const closed = grads(set, () => tf.add(tf.sum(tf.mul(cA, t.q(1, c, b.obs, x.aBuf, x.id))), tf.sum(tf.mul(cH, t.q(1, c, b.obs, x.aHat, x.id)))) as never);
        expectSameGrads(tape, closed);
        cA.dispose();
        cH.dispose();
      }
      t.disposeInputs(x, b);
      t.drop(b);
      t.dispose();
    });

    it(`F2A2-${inst.toUpperCase()}: actor gradients match finite differences and the (a1 - 2 a2 delta^ rhobar) form`, async () => {
      const a1 = 0.7;
      const a2 = 1.3;
      // The soft sample makes the actor loss smooth in psi, so finite differences apply.
      const { trainer: t } = make({ instantiation: inst, alpha1: a1, alpha2: a2, actionSample: 'soft', actorLogitReg: 0 });
      await t.round();
      const b = t.batch();
      const x = t.prepare(2, b);
      const set = t.actorSet(2);
      const tape = grads(set, () => t.actorLoss(x, b));
      expect(checkFiniteDiff(set, () => t.actorLoss(x, b), tape)).toBeGreaterThan(0);
      // Closed form: sum_k [(-a1 + 2 a2 rhobar dh1) Q1(a^(psi)) + 2 a2 rhobar dh2 Q2(a^(psi))] / K with
      // the coefficients held at the current psi.
      const soft = () => {
        const raw = t.actorNet(2).forward(b.obs[2]);
        return tf.softmax(tf.add(raw, x.g));
      };
      const acts = (own: Tensor) => x.aHat.map((a, j) => (j === 2 ? own : a));
      const coefs = tf.tidy(() => {
        const own = soft();
        const c1 = tf.div(tf.add(-a1, tf.mul(tf.mul(tf.sub(t.q(2, 0, b.obs, acts(own), x.id), x.y), x.rhoBar), 2 * a2)), x.K);
        const c2 = inst === 'td3' ? tf.div(tf.mul(tf.mul(tf.sub(t.q(2, 1, b.obs, acts(own), x.id), x.y), x.rhoBar), 2 * a2), x.K) : tf.zerosLike(c1);
        return [c1, c2];
      });
      const closed = grads(set, () =>
        tf.tidy(() => {
          const own = soft();
          let l = tf.sum(tf.mul(coefs[0], t.q(2, 0, b.obs, acts(own), x.id)));
          if (inst === 'td3') l = tf.add(l, tf.sum(tf.mul(coefs[1], t.q(2, 1, b.obs, acts(own), x.id))));
          return l;
        }) as never,
      );
      expectSameGrads(tape, closed);
      coefs.forEach((c) => c.dispose());
      t.disposeInputs(x, b);
      t.drop(b);
      t.dispose();
    });
  }

  it('w/o JOINT: the critic sees only a2 (Q - y)^2 and the actor only -a1 Q1', async () => {
    const { trainer: t } = make({ joint: false, alpha1: 0.5, alpha2: 2, actorLogitReg: 0 });
    await t.round();
    const b = t.batch();
    const x = t.prepare(0, b);
    const lc = value(() => t.criticLoss(x, b, 0));
    const want = value(() => tf.mul(tf.mean(tf.square(tf.sub(t.q(0, 0, b.obs, x.aBuf, x.id), x.y))), 2));
    expect(lc).toBeCloseTo(want, 5);
    const la = value(() => t.actorLoss(x, b));
    const wantA = value(() => {
      const own = tf.cast(tf.oneHot(tf.argMax(tf.add(t.actorNet(0).forward(b.obs[0]), x.g), -1), 5), 'float32');
      return tf.mul(tf.mean(t.q(0, 0, b.obs, x.aHat.map((a, j) => (j === 0 ? own : a)), x.id)), -0.5);
    });
    expect(la).toBeCloseTo(wantA, 5);
    t.disposeInputs(x, b);
    t.drop(b);
    t.dispose();
  });

  it('importance ratios are truncated at epsIS and equal pi/pi0 at the stored action', async () => {
    const { trainer: t } = make({ epsIS: 1 });
    await t.round();
    const b = t.batch();
    const x = t.prepare(0, b);
    const rho = x.rho.dataSync() as Float32Array;
    const rb = x.rhoBar.dataSync() as Float32Array;
    for (const v of [...rho, ...rb]) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(1 + 1e-6);
    }
    // No update has run: the current policy is the behaviour policy, so both ratios are 1.
    for (const v of [...rho, ...rb]) expect(v).toBeCloseTo(1, 4);
    t.disposeInputs(x, b);
    t.drop(b);
    t.dispose();
  });

  it('MOA: the loss is the summed cross-entropy of each pair on a hand case, and a step lowers it', () => {
    const bank = new MoaBank(tf, { n: 2, obsSizes: [1, 2], actSizes: [2, 3], hidden: 2 }, 0.05, new Rng(1));
    // Zero weights: each pair's logits are its output bias. Pair 0 = (0 models 1), pair 1 = (1 models 0).
    for (const name of bank.params.names()) {
      const v = bank.params.get(name);
      const z = tf.zerosLike(v);
      v.assign(z);
      z.dispose();
    }
    const bias = tf.tensor3d([1, 2, 3, 0.5, -0.5, 40], [2, 1, 3]);
    bank.params.get('moa/2/bias').assign(bias);
    bias.dispose();
    const obs = [tf.tensor2d([[0.3], [-1]]), tf.tensor2d([
      [1, 2],
      [0, 1],
    ])];
    const act = [tf.tensor2d([
      [1, 0],
      [0, 1],
    ]), tf.tensor2d([
      [0, 0, 1],
      [1, 0, 0],
    ])];
    const lse3 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lse2 = Math.log(Math.exp(0.5) + Math.exp(-0.5));
    // Pair 0 predicts agent 1 (3 actions): rows take actions 2 and 0. Pair 1 predicts agent 0 (2
    // actions, the padded third logit 40 is masked): rows take 0 and 1.
    const want = (lse3 - 3 + (lse3 - 1)) / 2 + (lse2 - 0.5 + (lse2 + 0.5)) / 2;
    const l0 = value(() => bank.loss(obs, act));
    expect(l0).toBeCloseTo(want, 4);
    // Predictions for observer 1: agent 0's distribution, 2 entries, the masked one dropped.
    const [p0, p1] = bank.predict(1, obs, 'probs', null);
    expect(p1).toBeNull();
    expect(Array.from(p0!.dataSync())).toEqual([expect.closeTo(Math.exp(0.5 - lse2), 5), expect.closeTo(Math.exp(-0.5 - lse2), 5), expect.closeTo(Math.exp(0.5 - lse2), 5), expect.closeTo(Math.exp(-0.5 - lse2), 5)]);
    p0!.dispose();
    for (let s = 0; s < 5; s++) bank.step(obs, act);
    expect(value(() => bank.loss(obs, act))).toBeLessThan(l0);
    for (const x of [...obs, ...act]) x.dispose();
    bank.params.dispose();
    bank.opt.dispose();
    bank.disposeConstants();
  });

  it('consensus wiring: an exchange contracts the critic copies and keeps their mean; none leaves them', () => {
    for (const [topology, mode] of [
      ['full', 'primal-dual'],
      ['full', 'averaging'],
      ['none', 'primal-dual'],
      ['ring-plus', 'primal-dual'],
    ] as const) {
      const { trainer: t } = make({ topology, consensusMode: mode, edgeFraction: 0, beta: 0.5, consensusEta: 1 }, { agents: 4 });
      const n = 4;
      const c0 = t.gatherShared();
      const P = c0.length / n;
      // Copies start equal (one common draw); push them apart.
      expect(PrimalDualConsensus.residual(c0, n, P)).toBe(0);
      const r = new Rng(5);
      for (let k = 0; k < c0.length; k++) c0[k] += r.normal() * 0.1;
      t.scatterShared(c0);
      const before = t.gatherShared();
      const res0 = PrimalDualConsensus.residual(before, n, P);
      t.consensusStep();
      const after = t.gatherShared();
      const res1 = PrimalDualConsensus.residual(after, n, P);
      if (topology === 'none') {
        expect(res1).toBe(res0);
        expect(t.consensus.messages).toBe(0);
      } else {
        // Full graph, beta eta = 0.5: every copy moves halfway to the mean (residual / 4);
        // averaging: all equal. A ring of 4 (edgeFraction 0) contracts less.
        if (topology === 'full') expect(res1).toBeCloseTo(mode === 'averaging' ? 0 : res0 / 4, 6);
        else expect(res1).toBeLessThan(res0);
        expect(t.consensus.messages).toBe(topology === 'full' ? n * (n - 1) : 2 * n);
        expect(t.consensus.scalars).toBe(t.consensus.messages * P);
        for (let k = 0; k < P; k += Math.max(1, Math.floor(P / 50))) {
          let m0 = 0;
          let m1 = 0;
          for (let i = 0; i < n; i++) {
            m0 += before[i * P + k];
            m1 += after[i * P + k];
          }
          expect(m1 / n).toBeCloseTo(m0 / n, 5);
        }
      }
      t.dispose();
    }
  });

  it('training: the copies drift apart without communication and stay together with it; stats are logged', async () => {
    const res: Record<string, number> = {};
    for (const topology of ['none', 'full'] as const) {
      const { trainer: t } = make({ topology, updateEvery: 4, updateIters: 2 });
      let last: Record<string, number> = {};
      for (let k = 0; k < 2; k++) last = (await t.round()).stats;
      expect(last['charts/update_iters']).toBeGreaterThan(0);
      for (const key of ['f2a2/rho', 'f2a2/rhobar', 'f2a2/coef', 'f2a2/delta', 'moa/loss', 'moa/accuracy', 'losses/critic_0', 'losses/actor_2']) expect(Number.isFinite(last[key])).toBe(true);
      res[topology] = last['consensus/residual'];
      expect(last['consensus/edges']).toBe(topology === 'full' ? 3 : 0);
      t.dispose();
    }
    expect(res.none).toBeGreaterThan(0);
    expect(res.full).toBeLessThan(res.none / 2);
  });

  it('checkpoints carry TD3 jitter, the ring, the exchange timers, duals and reward statistics', async () => {
    const algo = { instantiation: 'td3', topology: 'ring-plus', edgeFraction: 0.5, exchangeMean: 3, exchangeStd: 1, perAgentJitter: true, updateEvery: 4, moa: 'on' };
    const a = make(algo, { seed: 1, agents: 4 }).trainer;
    await a.round();
    const ck = await a.save();
    const b = make(algo, { seed: 2, agents: 4 }).trainer;
    b.load(ck);
    expect(b.delays).toEqual(a.delays);
    expect(Array.from(b.graph.ring)).toEqual(Array.from(a.graph.ring));
    const ra = await a.round();
    const rb = await b.round();
    expect(episodeSummary(rb.episodes)).toBe(episodeSummary(ra.episodes));
    expect(rb.stats).toEqual(ra.stats);
    expect(Array.from(b.consensus.lambda)).toEqual(Array.from(a.consensus.lambda));
    a.dispose();
    b.dispose();
  });

  it('refuses box-action envs and bad options, naming the field', () => {
    const envConfig = resolve('env', spreadEntry.schema, { actions: 'continuous' });
    expect(f2a2Entry.accepts(spreadEntry.spec(envConfig)).join(' ')).toMatch(/box space/);
    expect(() => make({ topology: 'star' })).toThrow(/algo\.topology/);
    expect(() => make({ instantiation: 'ppo' })).toThrow(/algo\.instantiation/);
  });
});
