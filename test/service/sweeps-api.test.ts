/**
 * The Workbench API's sweep methods over a real SQLite file: the plan and its time estimate
 * before launch, bad input naming the field, progress of a recorded sweep, and what collect
 * and cancel refuse. (Sweeps that train, locally and on Slurm, are in test/sweep/.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { planSweep, recordSweep } from '../../src-main/service/sweep';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-sweeps-api-');
let store: Store;
let runner: Runner;
let wb: Workbench;

beforeAll(async () => {
  store = await Store.open(path.join(dir, 'wb.db'));
  runner = new Runner({ store, maxParallel: 2, backend: 'wasm' });
  wb = createWorkbench({ store, runner, host: 'http', backend: 'wasm', version: '0.0.0-test' });
});
afterAll(async () => {
  await wb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const spec = { preset: 'manitokan-pg', overrides: { train: { episodes: 10, numEnvs: 4 } }, axes: [{ key: 'algo.lr', values: [1e-3, 3e-3, 1e-2] }], seeds: 2 };

describe('sweeps in the Workbench API', () => {
  it('plans cells x seeds before launch; the time is unknown until a run of that algorithm and env has been timed here', async () => {
    const p = await wb.planSweep({ spec });
    expect(p.cells.map((c) => c.label)).toEqual(['algo.lr=0.001', 'algo.lr=0.003', 'algo.lr=0.01']);
    expect(p).toMatchObject({ seeds: [1, 2], runs: 6, episodes: 6 * 10 * 4, estimatedSeconds: null });
    expect(p.estimateBasis).toMatch(/no finished pg\/manitokan run on this machine/);

    // A finished run: 20 rounds of 4 envs in 8 s is 0.1 s per episode.
    const config = buildConfig({ preset: 'manitokan-pg', overrides: { train: { episodes: 20, numEnvs: 4 } } });
    const id = await store.createRun({ name: 'timed', config, seed: 1, episodesTotal: 20, host: os.hostname(), metricKeys: [] });
    await store.updateRun(id, { status: 'done', startedAt: 1_000_000, endedAt: 1_008_000, episodesDone: 20 });
    const q = await wb.planSweep({ spec });
    // 240 episodes x 0.1 s over 2 workers.
    expect(q.estimatedSeconds).toBeCloseTo(12, 6);
    expect(q.estimateBasis).toMatch(/from 1 finished pg\/manitokan run on this machine, 2 at once/);
  });

  it('names the field of bad input', async () => {
    await expect(wb.planSweep({ spec: { ...spec, axes: [{ key: 'algo.lr', values: [1e-3, 5] }] } })).rejects.toMatchObject({
      body: { kind: 'input', field: 'algo.lr', message: expect.stringMatching(/algo\.lr: expected a number in \[0, 1\] \(in sweep cell "algo\.lr=5"\), got 5/) },
    });
    await expect(wb.planSweep({ spec: { ...spec, seeds: 0 } })).rejects.toMatchObject({ body: { kind: 'input', field: 'sweep.seeds' } });
    await expect(wb.launchSweep({ spec, executor: 'slurm', slurm: { dir: 'relative' } })).rejects.toMatchObject({ body: { kind: 'input', field: 'slurm.dir' } });
  });

  it('lists a sweep with its axes and progress over its runs', async () => {
    const plan = planSweep(spec);
    const rec = await recordSweep(store, plan, { executor: 'slurm', location: '/nowhere', state: 'submitted' });
    await store.updateRun(rec.runIds[0], { status: 'done', episodesDone: 10 });
    await store.updateRun(rec.runIds[1], { status: 'running', episodesDone: 4 });
    const s = (await wb.listSweeps()).find((x) => x.id === rec.sweepId)!;
    expect(s).toMatchObject({
      executor: 'slurm',
      state: 'submitted',
      axes: ['algo.lr'],
      runIds: rec.runIds,
      counts: { done: 1, running: 1, queued: 4, failed: 0, stopped: 0 },
      roundsDone: 14,
      roundsTotal: 60,
    });
    const runs = await wb.listRuns({ experimentId: rec.experimentId, orderBy: 'id' });
    expect(runs.rows.map((r) => r.variant)).toEqual(['algo.lr=0.001', 'algo.lr=0.001', 'algo.lr=0.003', 'algo.lr=0.003', 'algo.lr=0.01', 'algo.lr=0.01']);
    expect((await store.sweepRuns(rec.experimentId)).map((r) => r.origin)).toEqual(rec.runIds.map((_, i) => `${rec.uid}/task-${i}`));
    // Not submitted (no job id): nothing to cancel on the cluster.
    await expect(wb.cancelSweep(rec.sweepId)).rejects.toThrow(/not a submitted Slurm sweep/);
    await expect(wb.collectSweep(999)).rejects.toMatchObject({ body: { kind: 'not-found' } });
  });
});
