import { getPreset } from '../../src-shared/config/presets';
import { beforeAll, describe, expect, it } from 'vitest';
import { mappoEntry, mappoSchema } from '../../src-shared/algos/mappo';
import { resolve } from '../../src-shared/config/schema';
import { manitokanEntry } from '../../src-shared/envs/manitokan';
import { Rng } from '../../src-shared/rng';
import { build, episodeSummary, setupTf, tf } from './helpers';

/** Small, fast settings for mechanics tests (1 epoch instead of 15). */
const ENV = { episodeLimit: 20, obsLastAction: true, obsDoorFlag: true, obsKeyFlag: true };
const SMALL = { numEnvs: 3, env: ENV, algo: { epochs: 1 } };
/** The released code's MAPPO values: the manitokan-mappo-released-code preset's algo part. */
const { id: _mappoId, ...RELEASED } = getPreset('manitokan-mappo-released-code')!.config.algo!;
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

describe('MAPPO trainer', () => {
  beforeAll(setupTf);

  it('schema defaults are the paper values (Table 1)', () => {
    expect(resolve('algo', mappoSchema, {})).toMatchObject({
      lr: 1e-5,
      criticLr: 1e-5,
      gamma: 0.99,
      gaeLambda: 0.95,
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
      actorSharing: 'shared',
      criticInput: 'state',
      valueNorm: false,
    });
  });

  it('one round at the paper settings: every stat, B episodes, the env steps taken, a near-uniform start', async () => {
    const { trainer } = build(mappoEntry, { numEnvs: 3, env: ENV });
    const r = await trainer.round();
    expect(r.episodes.length).toBe(3);
    expect(r.envSteps).toBe(r.episodes.reduce((s, e) => s + (e.metrics.episode_length ?? 0), 0));
    expect(Object.keys(r.stats).sort()).toEqual([...STATS].sort());
    expectFinite(r.stats);
    // Output gain 0.01: the first policy is close to uniform over 4-6 available actions.
    expect(r.stats['losses/entropy']).toBeGreaterThan(1.3);
    expect(r.stats['losses/entropy']).toBeLessThan(Math.log(6) + 1e-6);
    // lr 1e-5: the policy barely moves in one round.
    expect(r.stats['charts/approx_kl']).toBeLessThan(1e-3);
    expect(r.stats['charts/clip_frac']).toBe(0);
    trainer.dispose();
  });

  it('builds Table 1 networks: CNN on the view (1 patch) and on the 6x6 state (16 patches), 32 -> 64 -> 64, GRU 64 + LayerNorm, heads 6 and 1', async () => {
    const { trainer } = build(mappoEntry, { ...SMALL, env: { episodeLimit: 20 } });
    const shapes = Object.fromEntries(Object.entries((await trainer.save()).tensors).map(([k, t]) => [k, t.shape]));
    expect(shapes['actor/conv/weight']).toEqual([1, 27, 32]);
    expect(shapes['actor/fc1/weight']).toEqual([1, 32, 64]);
    expect(shapes['actor/fc2/weight']).toEqual([1, 64, 64]);
    expect(shapes['actor/gru/weight_ih']).toEqual([1, 64, 192]);
    expect(shapes['actor/gru/ln_weight']).toEqual([64]);
    expect(shapes['actor/head/weight']).toEqual([1, 64, 6]);
    expect(shapes['critic/conv/weight']).toEqual([1, 27, 32]);
    expect(shapes['critic/fc1/weight']).toEqual([1, 16 * 32 + 6, 64]); // 16 patches + positions, directions
    expect(shapes['critic/head/weight']).toEqual([1, 64, 1]);
    // Orthogonal head with gain 0.01: columns orthogonal, norm 0.01.
    const head = (await trainer.save()).tensors['actor/head/weight'].data;
    let n0 = 0;
    let d01 = 0;
    for (let i = 0; i < 64; i++) {
      n0 += head[i * 6] ** 2;
      d01 += head[i * 6] * head[i * 6 + 1];
    }
    expect(Math.sqrt(n0)).toBeCloseTo(0.01, 6);
    expect(Math.abs(d01)).toBeLessThan(1e-9);
    trainer.dispose();
    // Released-code shapes: per-agent actors on the joint observation, critic on joint obs.
    const rel = build(mappoEntry, { ...SMALL, algo: { ...RELEASED, epochs: 1 } });
    const s2 = Object.fromEntries(Object.entries((await rel.trainer.save()).tensors).map(([k, t]) => [k, t.shape]));
    expect(s2['actor/conv/weight']).toEqual([2, 54, 32]);
    expect(s2['actor/fc1/weight']).toEqual([2, 32 + 12 + 6, 64]); // both agents' flags + own last action
    expect(s2['critic/conv/weight']).toEqual([1, 54, 32]);
    expect(s2['critic/fc1/weight']).toEqual([1, 32 + 12, 64]);
    rel.trainer.dispose();
    // The joint-observation quirk only applies when the last action is observed.
    const noHist = build(mappoEntry, { ...SMALL, env: { episodeLimit: 20 }, algo: { ...RELEASED, epochs: 1 } });
    const s3 = Object.fromEntries(Object.entries((await noHist.trainer.save()).tensors).map(([k, t]) => [k, t.shape]));
    expect(s3['actor/conv/weight']).toEqual([2, 27, 32]);
    expect(s3['actor/fc1/weight']).toEqual([2, 32, 64]);
    noHist.trainer.dispose();
  });

  it.each([
    ['paper defaults', {}],
    ['chunks of 3 (not dividing the episode), other inputs', { chunkLength: 3, actorSharing: 'per-agent', actorObservation: 'joint' }],
  ])('the first epoch reproduces the rollout exactly: stored chunk-start states, row layout (%s)', async (_name, algo) => {
    // One epoch, one minibatch: every ratio is computed before any update, so it must be 1, and
    // the training values must equal the rollout values: with a tiny clip range the clipped value
    // loss equals the plain one only if |V - V_old| < 1e-6. A large lr makes later rounds differ.
    const losses: number[][] = [];
    for (const valueClip of [true, false]) {
      const { trainer } = build(mappoEntry, { ...SMALL, algo: { ...algo, epochs: 1, lr: 1e-2, criticLr: 1e-2, clip: 1e-6, valueClip } });
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
    ['released code (2 minibatches)', { ...RELEASED, minibatches: 2 }],
  ])('save -> load in a fresh trainer -> next round identical (%s)', async (_name, algo) => {
    const cfg = { ...SMALL, algo: { ...SMALL.algo, ...algo, lr: 1e-3, criticLr: 1e-3 } };
    const a = build(mappoEntry, { ...cfg, seed: 11 });
    await a.trainer.round();
    await a.trainer.round();
    const ckpt = structuredClone(await a.trainer.save());
    const next = await a.trainer.round();
    const after = await a.trainer.save();
    // A fresh trainer with another construction seed: everything must come from the checkpoint.
    const b = build(mappoEntry, { ...cfg, seed: 999 });
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

  it('rejects a checkpoint of another algorithm', async () => {
    const { trainer } = build(mappoEntry, SMALL);
    const ckpt = await trainer.save();
    expect(() => trainer.load({ ...ckpt, extra: { ...ckpt.extra, algo: 'ippo' } })).toThrow(/mappo/i);
    trainer.dispose();
  });

  it.each([
    ['actorSharing=per-agent', { actorSharing: 'per-agent' }],
    ['criticInput=joint-obs', { criticInput: 'joint-obs' }],
    ['gaeLambda=1', { gaeLambda: 1 }],
    ['minibatches=5', { minibatches: 5 }],
    ['valueNorm', { valueNorm: true }],
    ['activation=gelu', { activation: 'gelu' }],
    ['grad clips 1', { actorGradClip: 1, criticGradClip: 1 }],
    ['grad clips off', { actorGradClip: 0, criticGradClip: 0 }],
    ['inputScale=1/255', { inputScale: 1 / 255 }],
    ['actorObservation=joint', { actorObservation: 'joint' }],
    ['valueClip off, huberDelta 0 (squared error)', { valueClip: false, huberDelta: 0 }],
    ['advantageNorm off', { advantageNorm: false }],
    ['chunkLength=3, hiddenDim=16', { chunkLength: 3, hiddenDim: 16 }],
    ['App. E.4 randomised lrs', { lr: 1e-6, criticLr: 1e-3 }],
    ['released-code values', RELEASED],
  ])('option %s runs a round with finite stats', async (_name, algo) => {
    const { trainer } = build(mappoEntry, { ...SMALL, algo: { ...SMALL.algo, ...algo } });
    expectFinite((await trainer.round()).stats);
    trainer.dispose();
  });

  it('runs without flags or last action, and with 300-step episodes cut early by the env', async () => {
    const { trainer } = build(mappoEntry, { numEnvs: 2, env: { episodeLimit: 12 }, algo: { epochs: 1 } });
    const r = await trainer.round();
    expectFinite(r.stats);
    expect(r.episodes.length).toBe(2);
    trainer.dispose();
  });

  it('the evaluation policy loads the actor from a checkpoint and acts on available actions', async () => {
    const { trainer } = build(mappoEntry, { ...SMALL, algo: { ...SMALL.algo, ...RELEASED } });
    await trainer.round();
    const ckpt = await trainer.save();
    trainer.dispose();
    const envConfig = resolve('env', manitokanEntry.schema, ENV);
    const env = manitokanEntry.create(envConfig, { numEnvs: 3, autoReset: false });
    const policy = mappoEntry.createPolicy({
      tf,
      spec: env.spec,
      numEnvs: 3,
      config: resolve('algo', mappoSchema, RELEASED),
      rng: new Rng(1),
      checkpoint: ckpt,
    });
    env.reset(7);
    const actions = new Int32Array(6);
    const before = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) {
      policy.act(env, actions, t % 2 === 0);
      for (let i = 0; i < 6; i++) expect(env.actionMask[i * 6 + actions[i]]).toBe(1);
      env.step(actions);
    }
    for (let b = 0; b < 3; b++) policy.resetCopy(b);
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
  });
});
