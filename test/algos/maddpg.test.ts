/** DDPG / MADDPG (algos/maddpg-trainer.ts): critic inputs, per-team critics, updates, learning. */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import type { AlgoEntry } from '../../src-shared/algos/types';
import type { EnvEntry } from '../../src-shared/envs/types';
import { ddpgEntry } from '../../src-shared/algos/ddpg';
import { maddpgEntry } from '../../src-shared/algos/maddpg';
import { matrixGameEntry } from '../../src-shared/envs/matrix-game';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

function make(algo: AlgoEntry, env: EnvEntry, envCfg: Values, algoCfg: Values, B = 4, seed = 1) {
  const envConfig = resolve('env', env.schema, envCfg);
  const e = env.create(envConfig, { numEnvs: B, autoReset: false });
  const trainer = algo.createTrainer({ tf, env: e, envConfig, config: resolve('algo', algo.schema, algoCfg), seed, rng: new Rng(seed, 7) });
  return { env: e, trainer };
}

const TINY = { hiddenDim: 16, batchSize: 16, updateEvery: 8, warmup: 16 };

describe('DDPG and MADDPG', () => {
  beforeAll(setupTf);

  it('MADDPG critics see every observation and action vector, DDPG critics their own', async () => {
    for (const [algo, width] of [
      [maddpgEntry, 3 * 18 + 3 * 5],
      [ddpgEntry, 18 + 5],
    ] as const) {
      const { trainer } = make(algo, spreadEntry, { episodeLimit: 8 }, TINY);
      const ck = await trainer.save();
      expect(ck.tensors['critic/0/net/0/weight'].shape).toEqual([width, 16]);
      expect(ck.tensors['actor/2/net/2/weight'].shape).toEqual([16, 5]);
      expect(ck.tensors['critic/1/net/0/ln_gain'].shape).toEqual([16]);
      trainer.dispose();
    }
  });

  it('teamCritics picks the critic per team, and a wrong list is refused naming the field', () => {
    expect(() => make(maddpgEntry, spreadEntry, {}, { ...TINY, teamCritics: [0, 1] })).toThrow(/algo\.teamCritics: expected 1 values of 0 \(local\) or 1/);
    const { trainer } = make(maddpgEntry, spreadEntry, {}, { ...TINY, teamCritics: [0] });
    return trainer.save().then((ck) => {
      expect(ck.tensors['critic/0/net/0/weight'].shape[0]).toBe(18 + 5);
      trainer.dispose();
    });
  });

  it('updates run every updateEvery transitions after the warm-up, with finite losses; soft boxes get MPE soft vectors', async () => {
    const { trainer } = make(maddpgEntry, spreadEntry, { episodeLimit: 8, actions: 'continuous' }, { ...TINY, boxPolicy: 'gumbel-softmax' });
    const r1 = await trainer.round(); // 32 transitions: updates at 16, 24, 32
    expect(r1.stats['charts/updates']).toBe(3);
    expect(r1.stats['charts/buffer_size']).toBe(32);
    for (let j = 0; j < 3; j++) {
      expect(Number.isFinite(r1.stats[`losses/critic_${j}`])).toBe(true);
      expect(Number.isFinite(r1.stats[`losses/actor_${j}`])).toBe(true);
    }
    const replay = (await trainer.save()).tensors['replay/act'].data;
    // Stored soft action vectors: each agent's 5 entries sum to 1.
    for (let k = 0; k < 15; k += 5) expect(replay.slice(k, k + 5).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    trainer.dispose();
  });

  it('MADDPG learns the cooperative optimum of a one-shot 2x2 common-payoff game (seeded)', async () => {
    const env = { game: 'custom', actionsPerPlayer: [2, 2], payoffs: [0, 0, 0, 1], episodeLimit: 1, terminal: true };
    const { trainer } = make(maddpgEntry, matrixGameEntry, env, { hiddenDim: 16, batchSize: 32, updateEvery: 4, warmup: 32 }, 8, 3);
    let last = 0;
    for (let r = 0; r < 60; r++) {
      const res = await trainer.round();
      if (r >= 50) last += res.episodes.reduce((s, e) => s + (e.metrics.optimum_rate ?? 0), 0) / res.episodes.length / 10;
    }
    expect(last).toBeGreaterThan(0.8);
    trainer.dispose();
  });
});
