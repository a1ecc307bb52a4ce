import { beforeAll, describe, expect, it } from 'vitest';
import { ippoEntry, ippoSchema } from '../../src-shared/algos/ippo';
import { resolve } from '../../src-shared/config/schema';
import { manitokanEntry } from '../../src-shared/envs/manitokan';
import { Rng } from '../../src-shared/rng';
import { build, episodeSummary, setupTf, tf } from './helpers';

/** Small, fast settings for mechanics tests (1 epoch instead of 15). */
const ENV = { episodeLimit: 20, obsLastAction: true, obsDoorFlag: true, obsKeyFlag: true };
const SMALL = { numEnvs: 3, env: ENV, algo: { epochs: 1 } };
/** The released code's IPPO values (the manitokan-ippo-released-code preset's algo part). */
const RELEASED = {
  gaeLambda: 0.95,
  criticInput: 'joint-obs',
  minibatches: 5,
  valueNorm: true,
  hiddenDim: 128,
  activation: 'gelu',
  actorGradClip: 10,
  criticGradClip: 1,
  inputScale: 1 / 255,
  actorObservation: 'joint-with-last-action',
};
const STATS = [
  'losses/policy',
  'losses/value',
  'losses/entropy',
  'charts/approx_kl',
  'charts/clip_frac',
  'charts/value_mean',
  'charts/grad_norm',
  'charts/grad_norm_critic',
];

function expectFinite(stats: Record<string, number>): void {
  for (const [k, v] of Object.entries(stats)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
}

describe('IPPO trainer', () => {
  beforeAll(setupTf);

  it('schema defaults are the paper values (Table 2: no GAE, disjoint own-observation critics)', () => {
    expect(resolve('algo', ippoSchema, {})).toMatchObject({
      lr: 1e-5,
      criticLr: 1e-5,
      gamma: 0.99,
      gaeLambda: 1,
      clip: 0.2,
      entropyCoef: 1e-4,
      valueCoef: 1,
      huberDelta: 10,
      epochs: 15,
      minibatches: 1,
      chunkLength: 10,
      actorGradClip: 10,
      criticGradClip: 10,
      hiddenDim: 64,
      activation: 'relu',
      outputGain: 0.01,
      criticInput: 'own-obs',
      valueNorm: false,
    });
    expect('actorSharing' in ippoSchema).toBe(false); // always one actor per agent
  });

  it('one round at the paper settings: every stat, B episodes, the env steps taken, a near-uniform start', async () => {
    const { trainer } = build(ippoEntry, { numEnvs: 3, env: ENV });
    const r = await trainer.round();
    expect(r.episodes.length).toBe(3);
    expect(r.envSteps).toBe(r.episodes.reduce((s, e) => s + (e.metrics.episode_length ?? 0), 0));
    expect(Object.keys(r.stats).sort()).toEqual([...STATS].sort());
    expectFinite(r.stats);
    expect(r.stats['losses/entropy']).toBeGreaterThan(1.3);
    expect(r.stats['losses/entropy']).toBeLessThan(Math.log(6) + 1e-6);
    expect(r.stats['charts/approx_kl']).toBeLessThan(1e-3);
    trainer.dispose();
  });

  it('builds Table 2 networks per agent: actors on the own observation + last action, critics on the own env observation', async () => {
    const { trainer } = build(ippoEntry, SMALL);
    const shapes = Object.fromEntries(Object.entries((await trainer.save()).tensors).map(([k, t]) => [k, t.shape]));
    expect(shapes['actor/conv/weight']).toEqual([2, 27, 32]);
    expect(shapes['actor/fc1/weight']).toEqual([2, 32 + 6 + 6, 64]); // flags + last action
    expect(shapes['actor/gru/weight_hh']).toEqual([2, 64, 192]);
    expect(shapes['actor/head/weight']).toEqual([2, 64, 6]);
    expect(shapes['critic/conv/weight']).toEqual([2, 27, 32]);
    expect(shapes['critic/fc1/weight']).toEqual([2, 32 + 6, 64]); // flags only: no last action
    expect(shapes['critic/head/weight']).toEqual([2, 64, 1]);
    trainer.dispose();
    const rel = build(ippoEntry, { ...SMALL, algo: { ...RELEASED, epochs: 1 } });
    const s2 = Object.fromEntries(Object.entries((await rel.trainer.save()).tensors).map(([k, t]) => [k, t.shape]));
    expect(s2['actor/conv/weight']).toEqual([2, 54, 64]); // hidden 128: CNN 64 channels
    expect(s2['critic/conv/weight']).toEqual([2, 54, 64]); // centralised V: both observations
    expect(s2['critic/fc1/weight']).toEqual([2, 64 + 12, 128]);
    rel.trainer.dispose();
  });

  it("agents are independent: agent 0's networks after an update do not depend on agent 1's rewards", async () => {
    // Individual rewards only, so agent 0's reward stream is the same in both runs; the first
    // round's actions do not depend on rewards, so both runs see the same episodes.
    const run = async (r1: number) => {
      const { trainer } = build(ippoEntry, {
        numEnvs: 4,
        env: { ...ENV, episodeLimit: 60, rewardMode: 'individual-only', individualReward: [0.5, r1] },
        algo: { epochs: 1, lr: 1e-3, criticLr: 1e-3, minibatches: 2 },
        seed: 12, // a seed where agent 1 opens its door in the first round
      });
      const r = await trainer.round();
      const t = (await trainer.save()).tensors;
      trainer.dispose();
      return { t, agent1Doors: r.episodes.reduce((s, e) => s + (e.metrics.door_opened_1 ?? 0), 0) };
    };
    const { t: a, agent1Doors } = await run(0.5);
    expect(agent1Doors).toBeGreaterThan(0); // agent 1 was rewarded at least once
    const { t: b } = await run(7);
    let agent1Differs = false;
    for (const [k, t] of Object.entries(a)) {
      if (k.startsWith('optim/')) continue;
      const half = t.data.length / 2;
      expect(Array.from(b[k].data.subarray(0, half)), k).toEqual(Array.from(t.data.subarray(0, half)));
      if (Array.from(b[k].data.subarray(half)).some((v, i) => v !== t.data[half + i])) agent1Differs = true;
    }
    expect(agent1Differs).toBe(true);
  });

  it.each([
    ['paper defaults', {}],
    ['chunks of 3 (not dividing the episode), other inputs', { chunkLength: 3, criticInput: 'joint-obs' }],
  ])('the first epoch reproduces the rollout exactly: stored chunk-start states, row layout (%s)', async (_name, algo) => {
    // One epoch, one minibatch: every ratio is computed before any update, so it must be 1, and
    // the training values must equal the rollout values: with a tiny clip range the clipped value
    // loss equals the plain one only if |V - V_old| < 1e-6. A large lr makes later rounds differ.
    const losses: number[][] = [];
    for (const valueClip of [true, false]) {
      const { trainer } = build(ippoEntry, { ...SMALL, algo: { ...algo, epochs: 1, lr: 1e-2, criticLr: 1e-2, clip: 1e-6, valueClip } });
      const out: number[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await trainer.round();
        expect(r.stats['charts/approx_kl']).toBeLessThan(1e-6);
        expect(r.stats['charts/clip_frac']).toBe(0);
        out.push(r.stats['losses/value']);
      }
      losses.push(out);
      trainer.dispose();
    }
    for (let i = 0; i < 2; i++) expect(losses[0][i]).toBeCloseTo(losses[1][i], 7);
  });

  it.each([
    ['paper defaults', {}],
    ['released code (hidden 16, 2 minibatches)', { ...RELEASED, hiddenDim: 16, minibatches: 2 }],
  ])('save -> load in a fresh trainer -> next round identical (%s)', async (_name, algo) => {
    const cfg = { ...SMALL, algo: { ...SMALL.algo, ...algo, lr: 1e-3, criticLr: 1e-3 } };
    const a = build(ippoEntry, { ...cfg, seed: 11 });
    await a.trainer.round();
    await a.trainer.round();
    const ckpt = structuredClone(await a.trainer.save());
    const next = await a.trainer.round();
    const after = await a.trainer.save();
    const b = build(ippoEntry, { ...cfg, seed: 999 });
    b.trainer.load(ckpt);
    const resumed = await b.trainer.round();
    expect(JSON.stringify(resumed.stats)).toBe(JSON.stringify(next.stats));
    expect(episodeSummary(resumed.episodes)).toBe(episodeSummary(next.episodes));
    const after2 = await b.trainer.save();
    expect(JSON.stringify(after2.extra.valueNorms)).toBe(JSON.stringify(after.extra.valueNorms));
    for (const [k, t] of Object.entries(after.tensors)) expect(Array.from(after2.tensors[k].data), k).toEqual(Array.from(t.data));
    a.trainer.dispose();
    b.trainer.dispose();
  });

  it.each([
    ['gaeLambda=0.95', { gaeLambda: 0.95 }],
    ['criticInput=joint-obs', { criticInput: 'joint-obs' }],
    ['minibatches=5', { minibatches: 5 }],
    ['valueNorm (per agent)', { valueNorm: true }],
    ['hiddenDim=128, activation=gelu', { hiddenDim: 128, activation: 'gelu' }],
    ['criticGradClip=1', { criticGradClip: 1 }],
    ['inputScale=1/255', { inputScale: 1 / 255 }],
    ['actorObservation=joint', { actorObservation: 'joint' }],
    ['valueClip off, advantageNorm off', { valueClip: false, advantageNorm: false }],
    ['App. E.4 randomised lrs', { lr: 1e-6, criticLr: 1e-3 }],
    ['released-code values', RELEASED],
  ])('option %s runs a round with finite stats', async (_name, algo) => {
    const { trainer } = build(ippoEntry, { ...SMALL, algo: { ...SMALL.algo, ...algo } });
    expectFinite((await trainer.round()).stats);
    trainer.dispose();
  });

  it('the evaluation policy loads the actors from a checkpoint and acts on available actions', async () => {
    const { trainer } = build(ippoEntry, SMALL);
    await trainer.round();
    const ckpt = await trainer.save();
    trainer.dispose();
    const envConfig = resolve('env', manitokanEntry.schema, ENV);
    const env = manitokanEntry.create(envConfig, { numEnvs: 3, autoReset: false });
    const policy = ippoEntry.createPolicy({ tf, spec: env.spec, numEnvs: 3, config: resolve('algo', ippoSchema, {}), rng: new Rng(1), checkpoint: ckpt });
    env.reset(7);
    const actions = new Int32Array(6);
    const before = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) {
      policy.act(env, actions, t % 2 === 1);
      for (let i = 0; i < 6; i++) expect(env.actionMask[i * 6 + actions[i]]).toBe(1);
      env.step(actions);
    }
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
  });
});
