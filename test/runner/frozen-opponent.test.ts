/**
 * The frozen-checkpoint opponent (train.opponent = frozen) with real worker processes and a
 * real SQLite file: an IQL self-play run on a small battle leaves a checkpoint; a second run
 * trains red against blue driven by that checkpoint; the worker fails a run with a message
 * naming train.opponentRun when the run or its checkpoint is missing or does not fit.
 *
 * train.opponentRound (issue 11): the latest checkpoint by default, an earlier round when
 * asked (the run's log names run, round and file, and the play is that round's: identical to
 * asking for it explicitly, different from the latest's), a round the run has no checkpoint
 * of fails the run listing the rounds it has, and a resumed run keeps the round it started
 * against when a newer checkpoint has appeared meanwhile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { readCheckpointFile } from '../../src-main/runner/checkpoint-file';
import { ConfigError, fieldApplies } from '../../src-shared/config/schema';
import { trainSchema } from '../../src-shared/config/experiment';
import { chooseOpponentCheckpoint } from '../../src-shared/envs/frozen-opponent';
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

async function runAll(store: Store, ids: number[], workerEnv?: Record<string, string>): Promise<void> {
  const runner = new Runner({ store, maxParallel: 1, backend: 'wasm', workerEnv });
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

/** The run's log lines that say which frozen checkpoint played. */
async function opponentLines(store: Store, id: number): Promise<string[]> {
  return (await store.runLog(id)).map((l) => l.message).filter((m) => m.startsWith('frozen opponent:'));
}

/** Every stored replay of a run (copy 0, every round with train.replayEvery = 1), as JSON. */
async function replays(store: Store, id: number): Promise<string[]> {
  const out: string[] = [];
  for (const e of await store.listEpisodes(id, { withReplay: true })) out.push(JSON.stringify(await store.getReplay(id, e.idx)));
  return out;
}

describe('train.opponentRound', () => {
  it('is a config error without a frozen opponent, and shows in the form only with one', () => {
    expect(() => buildConfig({ preset: 'battle-iql-selfplay-12', sets: ['train.opponentRound=3'] })).toThrow(/train\.opponentRound: expected 0 unless train\.opponent = frozen/);
    expect(() => buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: ['train.opponentRun=1', 'train.opponentRound=-1'] })).toThrow(/train\.opponentRound/);
    expect(() => buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: ['train.opponentRun=1', 'train.opponentRound=abc'] })).toThrow(/train\.opponentRound/);
    expect(buildConfig({ preset: 'battle-iql-vs-frozen-12', sets: ['train.opponentRun=1', 'train.opponentRound=20'] }).train.opponentRound).toBe(20);
    expect(buildConfig({ preset: 'battle-iql-selfplay-12', sets: [] }).train.opponentRound).toBe(0);
    for (const f of ['opponentRun', 'opponentRound', 'opponentTeam']) {
      expect(fieldApplies(trainSchema, { opponent: 'self-play' }, f), f).toBe(false);
      expect(fieldApplies(trainSchema, { opponent: 'frozen' }, f), f).toBe(true);
    }
  });

  it('picks the checkpoint of the asked round, the latest for 0, or the pinned one; a missing round lists the ones kept', () => {
    const ck = [2, 4, 6].map((round) => ({ round, path: `/c/round-${round}.ckpt` }));
    expect(chooseOpponentCheckpoint(7, ck, 0)).toEqual({ round: 6, path: '/c/round-6.ckpt', latest: true });
    expect(chooseOpponentCheckpoint(7, ck, 4)).toEqual({ round: 4, path: '/c/round-4.ckpt', latest: false });
    expect(chooseOpponentCheckpoint(7, ck, 6)).toEqual({ round: 6, path: '/c/round-6.ckpt', latest: true });
    // A resume plays what the run started against, whatever the config's round or the latest now.
    expect(chooseOpponentCheckpoint(7, ck, 0, 2).round).toBe(2);
    expect(() => chooseOpponentCheckpoint(7, ck, 3)).toThrow('train.opponentRound = 3: run 7 has no checkpoint at round 3; its checkpoints are at rounds 2, 4, 6');
    expect(() => chooseOpponentCheckpoint(7, ck, 0, 5)).toThrow(/train\.opponentRound: this run played against round 5 of run 7 before it was resumed.*rounds 2, 4, 6/);
    expect(() => chooseOpponentCheckpoint(7, [], 3)).toThrow('train.opponentRound = 3: run 7 has no checkpoint at round 3; it has no checkpoint yet');
    expect(() => chooseOpponentCheckpoint(7, [], 0)).toThrow(/train\.opponentRun = 7: that run has no checkpoint yet/);
    const many = Array.from({ length: 40 }, (_, i) => ({ round: 10 * (i + 1), path: `/c/${i}` }));
    expect(() => chooseOpponentCheckpoint(7, many, 15)).toThrow('rounds 10, 20, 30, 40, 50, 60, ..., 350, 360, 370, 380, 390, 400 (40 in all)');
  });

  it('plays the asked round, logs it, fails a missing one, and keeps it across a resume', async () => {
    const store = await Store.open(path.join(dir, 'round.db'));
    // Checkpoints at rounds 2, 4 and 6, with updates in between so that the nets differ.
    const selfPlay = await create(store, 'battle-iql-selfplay-12', [...SMALL, 'train.episodes=6', 'train.checkpointEvery=2']);
    await runAll(store, [selfPlay]);
    const kept = await store.listCheckpoints(selfPlay);
    expect(kept.map((c) => c.episode)).toEqual([2, 4, 6]);
    const head = (p: string) => Array.from(readCheckpointFile(p).tensors['q/q/head/weight'].data);
    expect(head(kept[0].path)).not.toEqual(head(kept[2].path));

    const vs = (round: number | null, seed = 2) => create(store, 'battle-iql-vs-frozen-12', [...SMALL, 'train.replayEvery=1', `train.opponentRun=${selfPlay}`, ...(round === null ? [] : [`train.opponentRound=${round}`])], seed);
    const latest = await vs(null);
    const six = await vs(6);
    const early = await vs(2);
    const missing = await vs(3);
    await runAll(store, [latest, six, early, missing]);
    for (const id of [latest, six, early]) expect((await store.getRun(id))!.status).toBe('done');

    expect(await opponentLines(store, latest)).toEqual([`frozen opponent: run ${selfPlay}, round 6 (its latest), checkpoint ${kept[2].path}`]);
    expect(await opponentLines(store, six)).toEqual([`frozen opponent: run ${selfPlay}, round 6 (train.opponentRound), checkpoint ${kept[2].path}`]);
    expect(await opponentLines(store, early)).toEqual([`frozen opponent: run ${selfPlay}, round 2 (train.opponentRound), checkpoint ${kept[0].path}`]);
    // The learner's own checkpoints record what it played (what a resume keeps).
    const played = async (id: number) => (readCheckpointFile((await store.latestCheckpoint(id))!.path).extra.cairn as { opponent?: unknown }).opponent;
    expect(await played(early)).toEqual({ run: selfPlay, round: 2 });
    expect(await played(latest)).toEqual({ run: selfPlay, round: 6 });
    // The round decides the play: round 6 asked by number is the latest's play to the step;
    // round 2's net moves blue otherwise.
    const latestPlay = await replays(store, latest);
    expect(latestPlay).toHaveLength(3);
    expect(await replays(store, six)).toEqual(latestPlay);
    expect(await replays(store, early)).not.toEqual(latestPlay);

    const failed = (await store.getRun(missing))!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`train.opponentRound = 3: run ${selfPlay} has no checkpoint at round 3; its checkpoints are at rounds 2, 4, 6`);
    expect(failed.episodesDone).toBe(0);

    // Resume: a run against the latest (round 6) crashes after round 3 with its checkpoint of
    // round 2; a newer checkpoint of the opponent run then appears (round 8, holding round 2's
    // net). The resumed run must go on against round 6, exactly as an uninterrupted one.
    const sets = [...SMALL, 'train.episodes=4', 'train.checkpointEvery=2', `train.opponentRun=${selfPlay}`];
    const whole = await create(store, 'battle-iql-vs-frozen-12', sets, 5);
    const crashed = await create(store, 'battle-iql-vs-frozen-12', sets, 5);
    await runAll(store, [whole, crashed], { CAIRN_FAULT: `throw:3:${crashed}` });
    expect((await store.getRun(crashed))!.status).toBe('failed');
    const newer = path.join(path.dirname(kept[0].path), 'round-00000008.ckpt');
    fs.copyFileSync(kept[0].path, newer);
    await store.addCheckpoint({ runId: selfPlay, update: 8, episode: 8, envSteps: 0, path: newer, bytes: fs.statSync(newer).size });
    const runner = new Runner({ store, maxParallel: 1, backend: 'wasm' });
    expect((await runner.resume(crashed)).fromRound).toBe(2);
    await runner.idle();
    runner.close();
    expect((await store.getRun(crashed))!.status).toBe('done');
    expect(await opponentLines(store, crashed)).toEqual([
      `frozen opponent: run ${selfPlay}, round 6 (its latest), checkpoint ${kept[2].path}`,
      `frozen opponent: run ${selfPlay}, round 6 (the round this run played before its resume), checkpoint ${kept[2].path}`,
    ]);
    const ret = async (id: number) => Array.from((await store.metricSeries(id, 'red_return')).value);
    expect(await ret(crashed)).toEqual(await ret(whole));
    expect(await played(crashed)).toEqual({ run: selfPlay, round: 6 });
    // A new run now plays the newer latest.
    const after = await create(store, 'battle-iql-vs-frozen-12', sets, 5);
    await runAll(store, [after]);
    expect(await opponentLines(store, after)).toEqual([`frozen opponent: run ${selfPlay}, round 8 (its latest), checkpoint ${newer}`]);
    await store.close();
  }, 600_000);
});
