/**
 * The frozen-checkpoint opponent (train.opponent = frozen) with real worker processes and a
 * real SQLite file: an IQL self-play run on a small battle leaves a checkpoint; a second run
 * trains red against blue driven by that checkpoint; the worker fails a run with a message
 * naming train.opponentRun when the run or its checkpoint is missing or does not fit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { readCheckpointFile } from '../../src-main/runner/checkpoint-file';
import { ConfigError } from '../../src-shared/config/schema';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-frozen-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Two vs two, short rounds, a small network: seconds per round on wasm. */
const SMALL = ['env.armySize=2', 'env.episodeLimit=12', 'algo.hiddenDim=16', 'algo.filters=4', 'algo.batchSize=8', 'algo.warmup=8', 'algo.trainEvery=8', 'algo.epsilonEpisodes=2', 'train.episodes=3', 'train.numEnvs=2', 'train.checkpointEvery=3'];

async function create(store: Store, preset: string, sets: string[], seed = 1): Promise<number> {
  const config = buildConfig({ preset, sets });
  const { id: envId, ...envValues } = config.env;
  return store.createRun({ name: `${preset} s${seed}`, preset, config, seed, episodesTotal: Number(config.train.episodes), host: 'test', metricKeys: [...getEnv(envId)!.spec(envValues).metricKeys] });
}

async function runAll(store: Store, ids: number[]): Promise<void> {
  const runner = new Runner({ store, maxParallel: 1, backend: 'wasm' });
  for (const id of ids) runner.enqueue(id);
  await runner.idle();
  runner.close();
}

describe('frozen-checkpoint opponent', () => {
  it('refuses configs that cannot have one, naming the field', () => {
    expect(() => buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: [] })).toThrow(/train\.opponentRun/);
    expect(() => buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: ['train.opponentRun=1', 'train.opponentTeam=2'] })).toThrow(ConfigError);
    // DQN acts for learner and scripted teams only: a frozen team is not something it supports.
    expect(() => buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: ['train.opponentRun=1', 'algo.id=dqn'] })).toThrow(/frozen/);
  });

  it('drives blue from a self-play checkpoint while red learns; missing runs and checkpoints fail clearly', async () => {
    const store = await Store.open(path.join(dir, 'frozen.db'));
    const selfPlay = await create(store, 'battle-iql-selfplay-12', SMALL);
    await runAll(store, [selfPlay]);
    expect((await store.getRun(selfPlay))!.status).toBe('done');
    const ckpt = (await store.latestCheckpoint(selfPlay))!;
    expect(ckpt).toBeDefined();
    const blueWeights = readCheckpointFile(ckpt.path).tensors['q/q/head/weight'].data;

    const vs = await create(store, 'battle-iql-vs-frozen-12', [...SMALL, `train.opponentRun=${selfPlay}`], 2);
    const vsAgain = await create(store, 'battle-iql-vs-frozen-12', [...SMALL, `train.opponentRun=${selfPlay}`], 2);
    const noRun = await create(store, 'battle-iql-vs-frozen-12', [...SMALL, 'train.opponentRun=999']);
    // A run with no checkpoint yet (queued, never started).
    const idle = await create(store, 'battle-iql-selfplay-12', SMALL, 3);
    const noCkpt = await create(store, 'battle-iql-vs-frozen-12', [...SMALL, `train.opponentRun=${idle}`]);
    // Another env setting: no minimap changes the observation size.
    const misfit = await create(store, 'battle-iql-vs-frozen-12', [...SMALL, `train.opponentRun=${selfPlay}`, 'env.minimap=false']);
    await runAll(store, [vs, vsAgain, noRun, noCkpt, misfit]);

    const done = (await store.getRun(vs))!;
    expect(done.status).toBe('done');
    expect(done.episodesDone).toBe(3);
    // Same (config, seed, opponent checkpoint): the same episodes.
    const ret = async (id: number) => Array.from((await store.metricSeries(id, 'red_return')).value);
    expect(await ret(vs)).toEqual(await ret(vsAgain));
    // The learner trained red only: its own checkpoint differs from the frozen one, which the
    // runner did not touch.
    const mine = readCheckpointFile((await store.latestCheckpoint(vs))!.path).tensors['q/q/head/weight'].data;
    expect(Array.from(mine)).not.toEqual(Array.from(blueWeights));
    expect(Array.from(readCheckpointFile(ckpt.path).tensors['q/q/head/weight'].data)).toEqual(Array.from(blueWeights));

    const failure = async (id: number) => {
      const r = (await store.getRun(id))!;
      expect(r.status).toBe('failed');
      return r.error ?? '';
    };
    expect(await failure(noRun)).toMatch(/train\.opponentRun = 999: no such run/);
    expect(await failure(noCkpt)).toMatch(new RegExp(`train\\.opponentRun = ${idle}: that run has no checkpoint`));
    expect(await failure(misfit)).toMatch(/observations\/actions .* differ/);
    await store.close();
  }, 600_000);
});
