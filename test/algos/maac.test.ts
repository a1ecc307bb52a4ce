/** MAAC (algos/maac.ts): networks and checkpoint layout, the soft target forms, no tensor leak per update. */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { maacEntry, maacSoftTarget, MaacTrainer } from '../../src-shared/algos/maac';
import { maddpgEntry } from '../../src-shared/algos/maddpg';
import { TransitionBuffer } from '../../src-shared/algos/core/transition-buffer';
import { f2a2BaselinePresets } from '../../src-shared/algos/f2a2-baseline-presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { getAlgo, getEnv } from '../../src-shared/registry';
import type { AlgoEntry } from '../../src-shared/algos/types';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

function make(algoCfg: Values, B = 3, seed = 1, envCfg: Values = { episodeLimit: 8 }, entry: AlgoEntry = maacEntry) {
  const envConfig = resolve('env', spreadEntry.schema, envCfg);
  const env = spreadEntry.create(envConfig, { numEnvs: B, autoReset: false });
  const trainer = entry.createTrainer({ tf, env, envConfig, config: resolve('algo', entry.schema, algoCfg), seed, rng: new Rng(seed, 7) }) as MaacTrainer;
  return { env, trainer };
}

const TINY = { hiddenDim: 16, criticHiddenDim: 16, batchSize: 16, updateEvery: 8, warmup: 16 };

describe('MAAC', () => {
  beforeAll(setupTf);

  it('updates hold no tensors: the count after the first update round stays put', async () => {
    const { trainer } = make(TINY);
    await trainer.round();
    await trainer.round();
    const n0 = tf.memory().numTensors;
    const upd = (trainer as unknown as { update(): void; setTraining(on: boolean): void });
    upd.setTraining(true);
    upd.update();
    const n1 = tf.memory().numTensors;
    upd.update();
    expect(tf.memory().numTensors).toBe(n1);
    expect(n1).toBe(n0);
    trainer.dispose();
  });

  it('soft target forms on a hand case: paper keeps the entropy inside the discount and done mask, code outside', () => {
    const r = tf.tensor2d([1, 2], [2, 1]);
    const term = tf.tensor2d([0, 1], [2, 1]);
    const q = tf.tensor2d([10, 10], [2, 1]);
    const logpi = tf.tensor2d([-2, -2], [2, 1]);
    // paper: 1 + 0.9 (10 + 0.5 * 2) = 10.9; terminal: 2.  code: 1 + 9 + 1 = 11; terminal: 2 + 1 = 3.
    expect(Array.from(maacSoftTarget(tf, r, term, q, logpi, 0.9, 0.5, 'paper').dataSync())).toEqual([expect.closeTo(10.9, 5), expect.closeTo(2, 6)]);
    expect(Array.from(maacSoftTarget(tf, r, term, q, logpi, 0.9, 0.5, 'code').dataSync())).toEqual([expect.closeTo(11, 5), expect.closeTo(3, 6)]);
  });

  it('checkpoint holds policies, their BatchNorm running estimates and one attention critic; a bad head count names the field', async () => {
    const { trainer } = make(TINY);
    await trainer.round();
    const ck = await trainer.save();
    expect(ck.tensors['actor/0/net/0/weight'].shape).toEqual([18, 16]);
    expect(ck.tensors['actorStats/1/net/in_bn/running_mean'].shape).toEqual([18]);
    expect(ck.tensors['attnCritic/critic/key/weight'].shape).toEqual([16, 16]);
    expect(ck.tensors['attnCritic/critic/q/2/1/weight'].shape).toEqual([16, 5]);
    expect(ck.tensors['attnCriticStats/critic/sa_enc/0/bn/running_var'].shape).toEqual([23]);
    expect(Object.keys(ck.tensors).some((k) => k.startsWith('critic/'))).toBe(false);
    // the policies' running mean moved away from its start (0) during the updates
    expect(Math.max(...Array.from(ck.tensors['actorStats/0/net/in_bn/running_mean'].data, Math.abs))).toBeGreaterThan(0);
    trainer.dispose();
    expect(() => make({ ...TINY, criticHiddenDim: 10, attendHeads: 4 })).toThrow(/algo\.criticHiddenDim/);
  });

  it("the replay's running reward statistics follow the stored rows, evictions included", () => {
    const buf = new TransitionBuffer(3, { rew: 2 }, ['rew']);
    const rows = [[1, 10], [2, 20], [3, 30], [7, -5]];
    for (const r of rows) buf.insert({ rew: r }, [1]);
    const { mean, std } = buf.fieldStats('rew');
    // rows 2, 3, 7 | 20, 30, -5
    expect(mean[0]).toBeCloseTo(4, 9);
    expect(std[0]).toBeCloseTo(Math.sqrt((4 + 1 + 9) / 3), 9);
    expect(mean[1]).toBeCloseTo(15, 9);
    const rec = buf.toRecords();
    const back = new TransitionBuffer(3, { rew: 2 }, ['rew']);
    back.fromRecords(rec.tensors, rec.meta);
    expect(back.fieldStats('rew').std[1]).toBeCloseTo(std[1], 9);
    expect(() => new TransitionBuffer(3, { rew: 2 }).fieldStats('rew')).toThrow(/not tracked/);
  });

  it('MADDPG with input BatchNorm resumes bit-identically from a checkpoint, and its policy reads the running estimates', async () => {
    const cfg = { hiddenDim: 16, batchSize: 16, updateEvery: 8, warmup: 16, inputBatchNorm: true, activation: 'leaky-relu', init: 'torch', gumbelHard: true, targetActions: 'greedy', othersInActorLoss: 'current-greedy', targetOrder: 'after-all', rewardNorm: true, storeAction: 'onehot', updatesPerCycle: 2 };
    const a = make(cfg, 3, 1, { episodeLimit: 8 }, maddpgEntry);
    await a.trainer.round();
    await a.trainer.round();
    const ck = structuredClone(await a.trainer.save());
    expect(ck.tensors['criticStats/0/net/in_bn/running_mean'].shape).toEqual([3 * 18 + 3 * 5]);
    const r1 = await a.trainer.round();
    const b = make(cfg, 3, 99, { episodeLimit: 8 }, maddpgEntry);
    b.trainer.load(ck);
    const r2 = await b.trainer.round();
    expect(JSON.stringify(r2.stats)).toBe(JSON.stringify(r1.stats));
    const wa = (await a.trainer.save()).tensors;
    const wb = (await b.trainer.save()).tensors;
    expect(Array.from(wb['actorStats/2/net/in_bn/running_var'].data)).toEqual(Array.from(wa['actorStats/2/net/in_bn/running_var'].data));
    expect(Array.from(wb['critic/1/net/0/weight'].data)).toEqual(Array.from(wa['critic/1/net/0/weight'].data));
    const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: 8 });
    const env = spreadEntry.create(envConfig, { numEnvs: 2, autoReset: false });
    const pol = maddpgEntry.createPolicy({ tf, spec: env.spec, config: resolve('algo', maddpgEntry.schema, cfg), checkpoint: { tensors: wa, extra: {} }, rng: new Rng(3), numEnvs: 2 } as never);
    env.reset(5);
    const acts = new Int32Array(2 * 3);
    const n0 = tf.memory().numTensors;
    pol.act(env, acts, true);
    expect(tf.memory().numTensors).toBe(n0);
    expect(Array.from(acts).every((x) => x >= 0 && x < 5)).toBe(true);
    for (const t of [a, b]) t.trainer.dispose();
    pol.dispose();
  });

  it('every F2A2 baseline preset resolves; the spread ones run a round with updates at tiny sizes', async () => {
    expect(f2a2BaselinePresets.map((p) => p.name)).toEqual(
      ['treasure-collection', 'rover-tower', 'spread'].flatMap((e) => [`${e}-maac`, `${e}-maac-released-code`, `f2a2-${e}-maddpg`, `f2a2-${e}-coma`]),
    );
    for (const p of f2a2BaselinePresets) {
      const cfg = resolveExperiment(p.config);
      expect(cfg.train.numEnvs).toBe(12);
      expect(getAlgo(cfg.algo.id as string)!.accepts(getEnv(cfg.env.id as string)!.spec(cfg.env))).toEqual([]);
    }
    const rt = resolveExperiment(f2a2BaselinePresets.find((p) => p.name === 'f2a2-rover-tower-coma')!.config);
    expect(rt.algo).toMatchObject({ bufferSize: 41, batchSize: 41, updatesPerRound: 12, optimizer: 'adam', tdLambda: 0.8 });
    for (const name of ['spread-maac', 'f2a2-spread-maddpg', 'f2a2-spread-coma']) {
      const p = f2a2BaselinePresets.find((x) => x.name === name)!;
      const full = resolveExperiment(p.config);
      const entry = getAlgo(full.algo.id as string)!;
      const small = { ...full.algo, hiddenDim: 8, criticHiddenDim: 8, batchSize: 8, warmup: 8, updateEvery: 8, bufferSize: full.algo.id === 'coma' ? 2 : 64, updatesPerRound: 2 };
      const known = Object.fromEntries(Object.entries(small).filter(([k]) => k in entry.schema));
      const { trainer } = make(resolve('algo', entry.schema, known), 2, 1, { episodeLimit: 8 }, entry);
      const r = await trainer.round();
      const r2 = await trainer.round();
      for (const v of [...Object.values(r.stats), ...Object.values(r2.stats)]) expect(Number.isFinite(v), name).toBe(true);
      expect(Object.keys(r2.stats).some((k) => k.startsWith('losses/')), name).toBe(true);
      trainer.dispose();
    }
  });
});
