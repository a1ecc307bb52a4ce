/**
 * F2A2-COMA (algos/f2a2-coma.ts; shared/specs/f2a2.md §1.8, paper Prop 3): per-agent critic and
 * actor gradients against finite differences and Prop 3's closed form (reward form), the
 * counterfactual baseline and TD(0) target recomputed on the CPU, w/o JOINT, the window and its
 * reward standardisation, acting with the epsilon-bounded softmax, the consensus wiring and
 * checkpoints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { f2a2ComaEntry, f2a2ComaSchema, F2a2ComaTrainer, standardiseColumns } from '../../src-shared/algos/f2a2-coma';
import type { Batch } from '../../src-shared/algos/maddpg-trainer';
import type { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { getPreset } from '../../src-shared/config/presets';
import { getRepro } from '../../src-shared/config/repro';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { episodeSummary, setupTf, tf } from './helpers';
import { checkFiniteDiff, expectSameGrads, grads, value } from './finite-diff';

class Probe extends F2a2ComaTrainer {
  drop(b: Batch): void {
    this.disposeBatch(b);
  }
  criticSet(i: number): ParamSet {
    return this.critics[i].params;
  }
  actorSet(i: number): ParamSet {
    return this.actors[i].params;
  }
  targetSet(i: number): ParamSet {
    return this.criticTargets[i].params;
  }
  stored(): number {
    return this.buffer.count;
  }
}

// No updates while the window fills (updateEvery huge): the tests call the pieces themselves.
const TINY = { hiddenDim: 6, moaHidden: 6, bufferSize: 12, updateEvery: 1_000_000, moaFifo: 16 };

function make(algo: Values, opts: { seed?: number; agents?: number } = {}) {
  const seed = opts.seed ?? 1;
  const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: 6, numAgents: opts.agents ?? 3 });
  const env = spreadEntry.create(envConfig, { numEnvs: 2, autoReset: false });
  const trainer = new Probe({ tf, env, envConfig, config: resolve('algo', f2a2ComaSchema, { ...TINY, ...algo }), seed, rng: new Rng(seed, 11) });
  return { env, trainer };
}

const arr = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

describe('F2A2-COMA', () => {
  beforeAll(setupTf);

  it("critic gradients match finite differences and Prop 3's (a1 + 2 a2 delta) dQ, reward form", async () => {
    const [a1, a2] = [0.7, 1.3];
    const { trainer: t } = make({ alpha1: a1, alpha2: a2 });
    await t.round();
    expect(t.stored()).toBe(12);
    const eps = t.epsilon();
    const b = t.recentBatch();
    const x = t.prepareComa(1, b, eps);
    const set = t.criticSet(1);
    const tape = grads(set, () => t.criticLossComa(x, b));
    expect(checkFiniteDiff(set, () => t.criticLossComa(x, b), tape)).toBeGreaterThan(0);
    // Closed form: sum_k (-a1 + 2 a2 delta_k) / K * dQ_k, the coefficient held fixed.
    const Qk = () => tf.sum(tf.mul(t.qAll(1, b.obs, x.acts, x.id), b.act[1]), -1, true);
    const c = tf.tidy(() => tf.div(tf.add(-a1, tf.mul(tf.sub(Qk(), x.y), 2 * a2)), b.K));
    expectSameGrads(tape, grads(set, () => tf.sum(tf.mul(c, Qk()))));
    c.dispose();
    t.disposeComa(x, b);
    t.drop(b);
    t.dispose();
  });

  it('actor gradients match finite differences and mean[(-a1 (Q - B) + a2 delta^2) dlog pi(a)]; B is the counterfactual baseline', async () => {
    const [a1, a2] = [0.7, 1.3];
    const { trainer: t } = make({ alpha1: a1, alpha2: a2, epsilonStart: 0.3, epsilonFinish: 0.3 });
    await t.round();
    const eps = t.epsilon();
    expect(eps).toBeCloseTo(0.3, 6);
    const b = t.recentBatch();
    const i = 2;
    const x = t.prepareComa(i, b, eps);
    const { coef, adv, base, delta } = t.actorCoef(x, b, eps);
    // CPU recomputation: pi_eps = (1 - eps) softmax + eps / A (spread: no masked actions),
    // B = sum_b pi(b) Q[b], A = Q[a] - B, coef = -a1 A + a2 (Q[a] - y)^2.
    const K = b.K;
    const q = arr(t.qAll(i, b.obs, x.acts, x.id));
    const logits = arr(tf.tidy(() => (t as unknown as { actors: { net: { forward(o: Tensor): Tensor } }[] }).actors[i].net.forward(b.obs[i])));
    const act = arr(b.act[i]);
    const y = arr(x.y);
    const D = 5;
    for (let k = 0; k < K; k++) {
      const l = logits.slice(k * D, k * D + D);
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp(v - m));
      const z = e.reduce((s, v) => s + v, 0);
      const pi = e.map((v) => (1 - eps) * (v / z) + eps / D);
      const qk = q.slice(k * D, k * D + D);
      const B = pi.reduce((s, p, u) => s + p * qk[u], 0);
      const a = act.slice(k * D, k * D + D).indexOf(1);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(arr(base)[k]).toBeCloseTo(B, 4);
      expect(arr(adv)[k]).toBeCloseTo(qk[a] - B, 4);
      expect(arr(delta)[k]).toBeCloseTo(qk[a] - y[k], 4);
      expect(arr(coef)[k]).toBeCloseTo(-a1 * (qk[a] - B) + a2 * (qk[a] - y[k]) ** 2, 3);
    }
    const set = t.actorSet(i);
    const loss = () => t.actorLossComa(x, b, coef, eps);
    const tape = grads(set, loss);
    expect(checkFiniteDiff(set, loss, tape)).toBeGreaterThan(0);
    // Closed form through the log-softmax: d/dlogits of sum_k c_k log pi(a_k) / K.
    const closed = grads(set, () =>
      tf.tidy(() => {
        const lg = (t as unknown as { actors: { net: { forward(o: Tensor): Tensor } }[] }).actors[i].net.forward(b.obs[i]);
        const p = tf.add(tf.mul(tf.softmax(lg), 1 - eps), eps / D);
        return tf.div(tf.sum(tf.mul(coef, tf.sum(tf.mul(tf.log(p), b.act[i]), -1, true))), K);
      }) as never,
    );
    expectSameGrads(tape, closed);
    for (const v of [coef, adv, base, delta]) v.dispose();
    t.disposeComa(x, b);
    t.drop(b);
    t.dispose();
  });

  it('w/o JOINT: critic a2 delta^2 only, actor coefficient -a1 (Q - B) only', async () => {
    const [a1, a2] = [0.5, 2];
    const { trainer: t } = make({ joint: false, alpha1: a1, alpha2: a2 });
    await t.round();
    const eps = t.epsilon();
    const b = t.recentBatch();
    const x = t.prepareComa(0, b, eps);
    const Qk = () => tf.sum(tf.mul(t.qAll(0, b.obs, x.acts, x.id), b.act[0]), -1, true);
    expect(value(() => t.criticLossComa(x, b))).toBeCloseTo(value(() => tf.mul(tf.mean(tf.square(tf.sub(Qk(), x.y))), a2)), 5);
    const { coef, adv, base, delta } = t.actorCoef(x, b, eps);
    const want = arr(adv).map((v) => -a1 * v);
    arr(coef).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    for (const v of [coef, adv, base, delta]) v.dispose();
    t.disposeComa(x, b);
    t.drop(b);
    t.dispose();
  });

  it("the critic never sees the agent's own action; the TD(0) target is the window-standardised reward at gamma 0", async () => {
    const { trainer: t } = make({ gamma: 0 });
    await t.round();
    const b = t.recentBatch();
    const x = t.prepareComa(1, b, t.epsilon());
    expect(arr(x.acts[1]).every((v) => v === 0)).toBe(true);
    expect(arr(x.acts[0])).toEqual(arr(b.act[0])); // the others' stored actions (strictEstimation off)
    const y = arr(x.y);
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const sd = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length);
    expect(mean).toBeCloseTo(0, 4);
    expect(sd).toBeCloseTo(1, 3);
    t.disposeComa(x, b);
    t.drop(b);
    t.dispose();
    const z = Float32Array.from([1, 5, 3, 5, 5, 5]);
    standardiseColumns(z, 3, 2);
    expect(Array.from(z).map((v) => +v.toFixed(4))).toEqual([-1.2247, 0, 0, 0, 1.2247, 0]);
  });

  it('the window is the most recent bufferSize steps, newest first; acting is the bounded softmax and stores one-hots', async () => {
    const { trainer: t } = make({ bufferSize: 5, moa: 'off' });
    await t.round(); // 12 transitions into a buffer of max(5, 0)
    expect(t.stored()).toBe(5);
    const b = t.recentBatch();
    expect(b.K).toBe(5);
    const ck = await t.save();
    const rows = ck.tensors['replay/act'];
    // Every stored action block is a one-hot.
    for (let r = 0; r < 5; r++) for (let j = 0; j < 3; j++) expect(Array.from(rows.data.slice(r * 15 + j * 5, r * 15 + j * 5 + 5)).reduce((s, v) => s + v, 0)).toBe(1);
    t.drop(b);
    t.dispose();
  });

  it('training: copies drift apart without communication and stay together with it; stats are logged; epsilon anneals', async () => {
    const res: Record<string, number> = {};
    for (const topology of ['none', 'full'] as const) {
      const { trainer: t } = make({ topology, updateEvery: 4, updateIters: 2, epsilonAnnealSteps: 24 });
      let last: Record<string, number> = {};
      for (let k = 0; k < 2; k++) last = (await t.round()).stats;
      expect(last['charts/update_iters']).toBeGreaterThan(0);
      for (const key of ['f2a2/delta', 'charts/advantage_mean', 'charts/counterfactual_baseline', 'moa/loss', 'moa/accuracy', 'losses/critic_0', 'losses/actor_2']) expect(Number.isFinite(last[key]), key).toBe(true);
      expect(last['charts/epsilon']).toBeCloseTo(0.01, 6);
      res[topology] = last['consensus/residual'];
      t.dispose();
    }
    expect(res.none).toBeGreaterThan(0);
    expect(res.full).toBeLessThan(res.none / 2);
  });

  it('hard target copies every targetCopyEvery iterations instead of soft updates', async () => {
    const { trainer: t } = make({ targetCopyEvery: 2 });
    await t.round();
    const b = t.recentBatch();
    const eps = t.epsilon();
    const name = t.targetSet(0).names()[0];
    const t0 = arr(t.targetSet(0).get(name));
    t.comaIteration(b, eps);
    expect(arr(t.targetSet(0).get(name))).toEqual(t0);
    t.comaIteration(b, eps);
    expect(arr(t.targetSet(0).get(name))).toEqual(arr(t.criticSet(0).get(name)));
    t.drop(b);
    t.dispose();
  });

  it('a checkpoint round trip resumes exactly (epsilon clock, consensus, MOA, replay)', async () => {
    const algo = { topology: 'ring-plus', edgeFraction: 0.5, exchangeMean: 2, exchangeStd: 1, updateEvery: 4, epsilonAnnealSteps: 100 };
    const a = make(algo, { seed: 1, agents: 4 }).trainer;
    await a.round();
    const ck = await a.save();
    const b = make(algo, { seed: 2, agents: 4 }).trainer;
    b.load(ck);
    expect(b.tEnv).toBe(a.tEnv);
    const ra = await a.round();
    const rb = await b.round();
    expect(episodeSummary(rb.episodes)).toBe(episodeSummary(ra.episodes));
    expect(rb.stats).toEqual(ra.stats);
    expect(Array.from(b.consensus.lambda)).toEqual(Array.from(a.consensus.lambda));
    a.dispose();
    b.dispose();
  });

  it('refuses box-action envs and bad options naming the field; presets exist for both MPE tasks', () => {
    const envConfig = resolve('env', spreadEntry.schema, { actions: 'continuous' });
    expect(f2a2ComaEntry.accepts(spreadEntry.spec(envConfig)).join(' ')).toMatch(/box space/);
    expect(() => make({ topology: 'star' })).toThrow(/algo\.topology/);
    const envConfig2 = resolve('env', spreadEntry.schema, { episodeLimit: 6 });
    const env = spreadEntry.create(envConfig2, { numEnvs: 2, autoReset: false });
    const config = resolve('algo', f2a2ComaSchema, { ...TINY, epsilonStart: 0.1, epsilonFinish: 0.2 });
    expect(() => f2a2ComaEntry.createTrainer({ tf, env, envConfig: envConfig2, config, seed: 1, rng: new Rng(1, 1) })).toThrow(/algo\.epsilonFinish/);
    for (const env of ['treasure-collection', 'rover-tower']) expect(getPreset(`${env}-f2a2-coma`)?.config.algo?.id).toBe('f2a2-coma');
  });

  it('Fig. 5 runs F2A2-COMA next to COMA on both tasks; its small budget fills the window', () => {
    const r = getRepro('f2a2-fig5')!;
    for (const key of ['ctc', 'rt']) {
      const v = r.variants.find((x) => x.label === `${key} F2A2-COMA`);
      expect(v?.preset).toBe(key === 'ctc' ? 'treasure-collection-f2a2-coma' : 'rover-tower-f2a2-coma');
      expect(r.variants.some((x) => x.label === `${key} COMA`)).toBe(true);
      const small = v!.budgetOverrides!.small!.algo as Record<string, number>;
      // RT's small run: episodes x copies x 25 steps >= the window.
      expect(r.budgets.small.episodes * r.budgets.small.numEnvs * 25).toBeGreaterThanOrEqual(small.bufferSize);
      const exp = resolveExperiment(getPreset(v!.preset)!.config);
      expect(exp.algo.id).toBe('f2a2-coma');
    }
  });
});
