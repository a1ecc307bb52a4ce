/** Experiments, runs, tags, checkpoints, listing and deletion. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src-main/db/store';
import type { RunRow } from '../../src-main/db/types';
import { addRun, cleanup, countRows, newRun, sampleConfig, tempDir } from './helpers';

let dir: string;
let file: string;
let store: Store;
beforeEach(async () => {
  dir = tempDir();
  file = path.join(dir, 'cairn.db');
  store = await Store.open(file);
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

const ids = (r: { rows: RunRow[] }) => r.rows.map((x) => x.id);

describe('experiments and runs', () => {
  it('creates, reads and updates a run', async () => {
    const before = Date.now();
    const exp = await store.createExperiment({ name: 'ippo x 3 seeds', preset: 'paper', notes: 'first try' });
    expect(await store.getExperiment(exp)).toMatchObject({ id: exp, name: 'ippo x 3 seeds', preset: 'paper', notes: 'first try' });
    expect((await store.listExperiments()).map((e) => e.id)).toEqual([exp]);
    expect(await store.getExperiment(exp + 1)).toBeUndefined();

    const config = sampleConfig('manitokan', 'ippo', { episodeLimit: 250 });
    const id = await store.createRun(newRun({ experimentId: exp, name: 'ippo s1', preset: 'paper', config, seed: 7, episodesTotal: 500 }));
    const run = (await store.getRun(id))!;
    expect(run).toMatchObject({
      id,
      experimentId: exp,
      name: 'ippo s1',
      preset: 'paper',
      envId: 'manitokan',
      algoId: 'ippo',
      config,
      seed: 7,
      status: 'queued',
      backend: null,
      host: 'test-host',
      runnerPid: null,
      startedAt: null,
      endedAt: null,
      episodesTotal: 500,
      episodesDone: 0,
      envSteps: 0,
      error: null,
      summary: null,
      stopRequested: false,
      notes: '',
      metricKeys: ['return', 'success', 'first_reward_step'],
      tags: [],
    });
    expect(run.createdAt).toBeGreaterThanOrEqual(before);
    expect(run.updatedAt).toBe(run.createdAt);

    await store.updateRun(id, { status: 'running', backend: 'wasm', runnerPid: 4242, startedAt: 1000, stopRequested: true });
    await store.updateRun(id, {
      episodesDone: 12,
      envSteps: 3200,
      summary: { return: 1.5, first_reward_step: null },
      notes: 'looks good',
      error: undefined,
    });
    const after = (await store.getRun(id))!;
    expect(after).toMatchObject({
      status: 'running',
      backend: 'wasm',
      runnerPid: 4242,
      startedAt: 1000,
      stopRequested: true,
      episodesDone: 12,
      envSteps: 3200,
      summary: { return: 1.5, first_reward_step: null },
      notes: 'looks good',
      error: null,
    });
    expect(after.updatedAt).toBeGreaterThanOrEqual(run.updatedAt);
    await store.updateRun(id, { status: 'failed', error: 'boom', runnerPid: null, stopRequested: false, metricKeys: ['a', 'b'] });
    expect(await store.getRun(id)).toMatchObject({ status: 'failed', error: 'boom', runnerPid: null, stopRequested: false, metricKeys: ['a', 'b'] });
  });

  it('rejects bad arguments with messages naming them', async () => {
    const id = await addRun(store);
    const cases: [() => Promise<unknown>, string, string][] = [
      [() => store.updateRun(id, { status: 'paused' as never }), 'INVALID', 'updateRun: status must be one of queued, running, stopped, done, failed'],
      [() => store.updateRun(id, { bogus: 1 } as never), 'INVALID', 'updateRun: bogus is not a field'],
      [() => store.updateRun(id + 9, { notes: 'x' }), 'NOT_FOUND', `run ${id + 9} does not exist`],
      [() => store.updateRun(id, { metricKeys: [1] as never }), 'INVALID', 'updateRun: metricKeys must be an array of strings'],
      [() => store.updateRun(id, { episodesDone: -1 }), 'INVALID', 'updateRun: episodesDone must be an integer >= 0'],
      [() => store.createRun(newRun({ name: '' })), 'INVALID', 'createRun: name must not be empty'],
      [() => store.createRun(newRun({ seed: 1.5 })), 'INVALID', 'createRun: seed must be an integer'],
      [() => store.createRun(newRun({ experimentId: 99 })), 'NOT_FOUND', 'experiment 99 does not exist'],
      [() => store.listRuns({ orderBy: 'size' as never }), 'INVALID', 'listRuns: orderBy must be one of'],
      [() => store.listRuns({ status: ['paused'] }), 'INVALID', 'listRuns: status must be one of'],
    ];
    for (const [p, code, text] of cases) {
      const err = await p().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, text).toBeInstanceOf(StoreError);
      expect((err as StoreError).code, text).toBe(code);
      expect((err as StoreError).message, text).toContain(text);
      expect((err as StoreError).message).toContain(file);
    }
  });

  it('lists runs with filters, sorting, paging and a total', async () => {
    const expA = await store.createExperiment({ name: 'a' });
    const mk = async (name: string, envId: string, algoId: string, status: RunRow['status'], started: number | null, ended: number | null) => {
      const id = await store.createRun(newRun({ name, config: sampleConfig(envId, algoId), experimentId: name.startsWith('a') ? expA : null }));
      await store.updateRun(id, { status, startedAt: started, endedAt: ended });
      return id;
    };
    const r1 = await mk('a-ppo_1', 'manitokan', 'ppo', 'done', 1000, 5000); // 4000 ms
    const r2 = await mk('a-pg', 'manitokan', 'pg', 'failed', 2000, 2500); // 500 ms
    const r3 = await mk('b-ppo', 'gridworld', 'ppo', 'running', Date.now() - 60_000, null); // ~60 s so far
    const r4 = await mk('b-random', 'gridworld', 'random', 'queued', null, null);
    const r5 = await mk('Cpg 100%', 'manitokan', 'pg', 'stopped', 3000, 3100); // 100 ms
    await store.setTags(r1, ['paper', 'baseline']);
    await store.setTags(r3, ['paper']);
    await store.updateRun(r4, { notes: 'waiting for a GPU' });

    expect(await store.listRuns()).toMatchObject({ total: 5 });
    expect(ids(await store.listRuns())).toEqual([r1, r2, r3, r4, r5]);
    expect(ids(await store.listRuns({ desc: true }))).toEqual([r5, r4, r3, r2, r1]);
    expect(ids(await store.listRuns({ status: ['done', 'failed'] }))).toEqual([r1, r2]);
    expect(ids(await store.listRuns({ status: [] }))).toHaveLength(5);
    expect(ids(await store.listRuns({ envId: 'gridworld' }))).toEqual([r3, r4]);
    expect(ids(await store.listRuns({ algoId: 'pg', envId: 'manitokan' }))).toEqual([r2, r5]);
    expect(ids(await store.listRuns({ tag: 'paper' }))).toEqual([r1, r3]);
    expect(ids(await store.listRuns({ experimentId: expA }))).toEqual([r1, r2]);
    // search: name, notes, tags, env/algo ids, case-insensitive, LIKE wildcards taken literally, run id
    expect(ids(await store.listRuns({ search: 'PPO' }))).toEqual([r1, r3]);
    expect(ids(await store.listRuns({ search: 'gpu' }))).toEqual([r4]);
    expect(ids(await store.listRuns({ search: 'basel' }))).toEqual([r1]);
    expect(ids(await store.listRuns({ search: 'grid' }))).toEqual([r3, r4]);
    expect(ids(await store.listRuns({ search: '100%' }))).toEqual([r5]);
    expect(ids(await store.listRuns({ search: 'ppo_' }))).toEqual([r1]);
    expect(ids(await store.listRuns({ search: String(r2) }))).toEqual([r2]);
    // time window on created_at
    const all = (await store.listRuns()).rows;
    expect(ids(await store.listRuns({ since: all[0].createdAt, until: all[4].createdAt + 1 }))).toHaveLength(5);
    expect(ids(await store.listRuns({ since: all[4].createdAt + 1 }))).toEqual([]);
    expect(ids(await store.listRuns({ until: all[0].createdAt }))).toEqual([]);

    // sorting
    expect(ids(await store.listRuns({ orderBy: 'duration', desc: true }))).toEqual([r3, r1, r2, r5, r4]);
    expect(ids(await store.listRuns({ orderBy: 'duration' }))).toEqual([r5, r2, r1, r3, r4]);
    expect(ids(await store.listRuns({ orderBy: 'started_at' }))).toEqual([r1, r2, r5, r3, r4]);
    expect(ids(await store.listRuns({ orderBy: 'started_at', desc: true }))).toEqual([r3, r5, r2, r1, r4]);
    expect(ids(await store.listRuns({ orderBy: 'name' }))).toEqual([r2, r1, r3, r4, r5]);
    expect(ids(await store.listRuns({ orderBy: 'status' }))).toEqual([r3, r4, r5, r2, r1]);
    expect(ids(await store.listRuns({ orderBy: 'created_at', desc: true }))).toEqual([r5, r4, r3, r2, r1]);

    // paging: total counts every match
    const page1 = await store.listRuns({ orderBy: 'name', limit: 2 });
    const page2 = await store.listRuns({ orderBy: 'name', limit: 2, offset: 2 });
    const page3 = await store.listRuns({ orderBy: 'name', limit: 2, offset: 4 });
    expect([ids(page1), ids(page2), ids(page3)]).toEqual([[r2, r1], [r3, r4], [r5]]);
    expect([page1.total, page2.total, page3.total]).toEqual([5, 5, 5]);
    expect(await store.listRuns({ status: ['done', 'failed', 'stopped'], limit: 1, desc: true })).toMatchObject({ total: 3 });
    expect((await store.listRuns({ tag: 'paper' })).rows[0].tags).toEqual(['baseline', 'paper']);
  });

  it('sets and replaces tags', async () => {
    const id = await addRun(store);
    await store.setTags(id, [' b ', 'a', 'b', '', 'c']);
    expect((await store.getRun(id))!.tags).toEqual(['a', 'b', 'c']);
    await store.setTags(id, ['z']);
    expect((await store.getRun(id))!.tags).toEqual(['z']);
    expect(ids(await store.listRuns({ tag: 'a' }))).toEqual([]);
    await store.setTags(id, []);
    expect((await store.getRun(id))!.tags).toEqual([]);
    expect((await store.setTags(id + 1, ['x']).catch((e) => e)).code).toBe('NOT_FOUND');
  });

  it('records checkpoints and finds the latest', async () => {
    const id = await addRun(store);
    expect(await store.latestCheckpoint(id)).toBeUndefined();
    await store.addCheckpoint({ runId: id, update: 10, episode: 10, envSteps: 3200, path: '/c/10.json', bytes: 100 });
    await store.addCheckpoint({ runId: id, update: 30, episode: 30, envSteps: 9600, path: '/c/30.json', bytes: 300 });
    await store.addCheckpoint({ runId: id, update: 20, episode: 20, envSteps: 6400, path: '/c/20.json', bytes: 200 });
    expect(await store.latestCheckpoint(id)).toMatchObject({ runId: id, update: 30, episode: 30, envSteps: 9600, path: '/c/30.json', bytes: 300 });
    expect((await store.listCheckpoints(id)).map((c) => c.update)).toEqual([10, 20, 30]);
    expect((await store.addCheckpoint({ runId: id + 1, update: 1, episode: 1, envSteps: 1, path: '/x', bytes: 1 }).catch((e) => e)).code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('deleting and truncating', () => {
  async function fill(id: number, rounds: number): Promise<void> {
    await store.setTags(id, ['t']);
    await store.appendMetrics(
      id,
      Array.from({ length: rounds }, (_, r) => [
        { key: 'a', step: r, episode: r, wallTime: r, value: r },
        { key: 'b', step: r, episode: r, wallTime: r, value: -r - 0.5 },
      ]).flat(),
    );
    await store.appendEpisodes(
      id,
      Array.from({ length: rounds }, (_, r) => ({
        idx: r,
        round: r,
        envIndex: 0,
        length: 5,
        return: r,
        success: 0,
        values: [r],
        replay: r % 5 === 0 ? { r } : null,
      })),
    );
    for (let u = 5; u <= rounds; u += 5) {
      await store.addCheckpoint({ runId: id, update: u, episode: u, envSteps: u * 10, path: `/ck/${id}/${u}`, bytes: 1 });
    }
  }

  it('deleteRun cascades to every table and leaves other runs alone', async () => {
    const a = await addRun(store);
    const b = await addRun(store);
    await fill(a, 20);
    await fill(b, 10);
    const { checkpointPaths } = await store.deleteRun(a);
    expect(checkpointPaths).toEqual([5, 10, 15, 20].map((u) => `/ck/${a}/${u}`));
    expect(await store.getRun(a)).toBeUndefined();
    for (const table of ['metrics', 'episodes', 'checkpoints', 'run_tags']) {
      expect(await countRows(file, table, a), table).toBe(0);
    }
    expect(await countRows(file, 'metrics', b)).toBe(20);
    expect(await countRows(file, 'episodes', b)).toBe(10);
    expect(await countRows(file, 'checkpoints', b)).toBe(2);
    expect((await store.getRun(b))!.tags).toEqual(['t']);
    expect(Array.from((await store.metricSeries(b, 'b')).value)).toEqual(Array.from({ length: 10 }, (_, r) => -r - 0.5));
    expect(await store.getReplay(b, 5)).toEqual({ r: 5 });
    expect((await store.deleteRun(a).catch((e) => e)).code).toBe('NOT_FOUND');
  });

  it('truncateAfter drops rows after a round, for resuming from a checkpoint', async () => {
    const a = await addRun(store);
    const b = await addRun(store);
    await fill(a, 20);
    await fill(b, 20);
    const out = await store.truncateAfter(a, 10);
    expect(out).toEqual({ metrics: 18, episodes: 9, checkpointPaths: [`/ck/${a}/15`, `/ck/${a}/20`] });
    expect(Array.from((await store.metricSeries(a, 'a')).episode)).toEqual(Array.from({ length: 11 }, (_, r) => r));
    expect(await store.episodeCount(a)).toBe(11);
    expect((await store.latestCheckpoint(a))!.update).toBe(10);
    expect(await store.episodeCount(b)).toBe(20);
  });
});
