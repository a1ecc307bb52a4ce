/**
 * The Workbench API over a real SQLite file and a real Runner (worker processes training tiny
 * `manitokan-random` runs): launch and events, config validation with every field error,
 * downsampling of a synthetic 1M-point series, comparison bands, tags, notes, delete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../src-shared/api';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { ApiError, errorBody } from '../../src-main/service/api-errors';
import { coalesceEvents } from '../../src-main/service/events';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { tmpDir } from '../helpers/cli';
import { waitForRuns } from './wait';

const dir = tmpDir('cairn-wb-');
let store: Store;
let runner: Runner;
let wb: Workbench;
const events: WorkbenchEvent[] = [];

beforeAll(async () => {
  store = await Store.open(path.join(dir, 'wb.db'));
  runner = new Runner({ store, maxParallel: 2, backend: 'wasm' });
  wb = createWorkbench({ store, runner, host: 'http', backend: 'wasm', version: '0.0.0-test' });
  wb.subscribe((e) => events.push(e));
});

afterAll(async () => {
  await wb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a rejection');
}

const tiny = { train: { episodes: 20, numEnvs: 4, replayEvery: 5, checkpointEvery: 10 } };

describe('workbench: configs', () => {
  it('lists presets and schemas', async () => {
    const presets = await wb.listPresets();
    expect(presets.map((p) => p.name)).toContain('manitokan-random');
    const schemas = await wb.getSchemas();
    expect(schemas.envs.map((e) => e.id)).toContain('manitokan');
    expect(schemas.algos.map((a) => a.id)).toContain('random');
    expect(schemas.train.episodes.type).toBe('int');
  });

  it('resolves a preset with overrides and diffs against the preset', async () => {
    const r = await wb.resolveConfig({ preset: 'manitokan-random', overrides: tiny });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.train.episodes).toBe(20);
    expect(r.diff.map((d) => d.key)).toContain('train.episodes');
    const d = r.diff.find((x) => x.key === 'train.numEnvs')!;
    expect(d.value).toBe(4);
  });

  it('returns every field error at once, naming fields and allowed values', async () => {
    const r = await wb.resolveConfig({
      preset: 'manitokan-random',
      overrides: { env: { nope: 1 }, train: { episodes: -3, numEnvs: 'many', checkpointEvery: 1.5 } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const fields = r.errors.map((e) => e.field).sort();
    expect(fields).toEqual(['env.nope', 'train.checkpointEvery', 'train.episodes', 'train.numEnvs']);
    const ep = r.errors.find((e) => e.field === 'train.episodes')!;
    expect(ep.message).toMatch(/integer in \[1, 10000000\]/);
    expect(r.errors.find((e) => e.field === 'env.nope')!.message).toMatch(/allowed keys are/);
  });

  it('names unknown presets, envs and algorithms', async () => {
    const r = await wb.resolveConfig({ preset: 'no-such', overrides: { algo: { id: 'zzz' } } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field)).toEqual(['preset', 'algo.id']);
    expect(r.errors[0].message).toMatch(/manitokan-random/);
  });

  it('launch refuses bad input with the field', async () => {
    const e1 = await rejection(wb.launch({ preset: 'manitokan-random', seeds: [] }));
    expect(e1.body).toMatchObject({ kind: 'input', field: 'seeds' });
    const e2 = await rejection(wb.launch({ preset: 'manitokan-random', overrides: { train: { episodes: 0 } }, seeds: [1] }));
    expect(e2.body).toMatchObject({ kind: 'input', field: 'train.episodes' });
    const e3 = await rejection(wb.getRun('x' as unknown as number));
    expect(e3.body).toMatchObject({ kind: 'input', field: 'id' });
  });
});

describe('workbench: runs', () => {
  let ids: number[] = [];
  let experimentId = 0;

  it('launches one run per seed, streams events and records the runs', async () => {
    events.length = 0;
    const res = await wb.launch({ preset: 'manitokan-random', overrides: tiny, seeds: [1, 2], name: 'wb test' });
    ids = res.runIds;
    experimentId = res.experimentId;
    expect(ids).toHaveLength(2);
    await waitForRuns(wb, ids);
    for (const id of ids) {
      const run = (await wb.getRun(id))!;
      expect(run.status).toBe('done');
      expect(run.experimentId).toBe(experimentId);
      expect(run.episodesDone).toBe(20);
    }
    const types = new Set(events.map((e) => e.type));
    for (const t of ['runs-changed', 'status', 'progress', 'metrics', 'episodes', 'live']) expect(types).toContain(t);
    const done = events.filter((e) => e.type === 'status' && e.status === 'done').map((e) => (e as { runId: number }).runId);
    expect(done.sort()).toEqual([...ids].sort());
    const list = await wb.listRuns({ experimentId, orderBy: 'id' });
    expect(list.total).toBe(2);
    expect(list.rows.map((r) => r.id)).toEqual(ids);
    const exps = await wb.listExperiments();
    expect(exps.find((e) => e.id === experimentId)!.runIds).toEqual(ids);
  });

  it('serves metric keys, series, episodes and replays', async () => {
    const keys = await wb.metricKeys(ids[0]);
    expect(keys).toContain('collective_success');
    const s = await wb.metricSeries({ runId: ids[0], key: 'return_total' });
    expect(s.total).toBe(20);
    expect(s.x).toHaveLength(20);
    expect(s.downsampled).toBe(false);
    const z = await wb.metricSeries({ runId: ids[0], key: 'return_total', from: 5, to: 9 });
    expect(z.x[0]).toBeGreaterThanOrEqual(5);
    expect(z.x[z.x.length - 1]).toBeLessThanOrEqual(9);
    const eps = await wb.listEpisodes(ids[0], { withReplay: true, limit: 50 });
    expect(eps.total).toBeGreaterThan(0);
    expect(eps.rows.every((e) => e.hasReplay)).toBe(true);
    const all = await wb.listEpisodes(ids[0], { limit: 10 });
    expect(all.total).toBe(80);
    expect(all.rows).toHaveLength(10);
    const replay = await wb.getReplay(ids[0], eps.rows[0].idx);
    expect(replay?.envId).toBe('manitokan');
    expect(await wb.getReplay(ids[0], 999_999)).toBeNull();
  });

  it('compares two seeds: one group with a band, summary and no config diff', async () => {
    const c = await wb.compare({ runIds: ids, key: 'return_total', groupBy: 'experiment' });
    expect(c.groups).toHaveLength(1);
    const g = c.groups[0];
    expect(g.runIds).toEqual(ids);
    expect(g.x.length).toBeGreaterThan(1);
    for (let i = 0; i < g.x.length; i++) {
      expect(g.lo[i]).toBeLessThanOrEqual(g.mean[i] + 1e-9);
      expect(g.hi[i]).toBeGreaterThanOrEqual(g.mean[i] - 1e-9);
    }
    // Two seeds that differ somewhere give a band of non-zero width somewhere.
    expect(g.hi.some((h, i) => h - g.lo[i] > 0)).toBe(true);
    expect(c.runs).toHaveLength(2);
    expect(c.summary).toHaveLength(1);
    expect(c.summary[0].n).toBe(2);
    expect(c.summary[0].ciLo!).toBeLessThanOrEqual(c.summary[0].mean!);
    expect(c.configDiff).toEqual([]);
    const again = await wb.compare({ runIds: ids, key: 'return_total', groupBy: 'experiment' });
    expect(again).toEqual(c);
    const perRun = await wb.compare({ runIds: ids, key: 'return_total', groupBy: 'run', smoothing: 3 });
    expect(perRun.groups).toHaveLength(2);
  });

  it('series of a live run grow without duplicates under concurrent requests', async () => {
    const res = await wb.launch({ preset: 'manitokan-random', overrides: { train: { episodes: 150, numEnvs: 2 } }, seeds: [11] });
    const id = res.runIds[0];
    let polls = 0;
    for (;;) {
      const run = (await wb.getRun(id))!;
      const all = await Promise.all(Array.from({ length: 4 }, () => wb.metricSeries({ runId: id, key: 'return_total', maxPoints: 100_000 })));
      for (const s of all) {
        for (let i = 1; i < s.x.length; i++) expect(s.x[i]).toBeGreaterThan(s.x[i - 1]);
        expect(s.total).toBe(s.x.length);
      }
      polls++;
      if (run.status !== 'queued' && run.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(polls).toBeGreaterThan(1);
    const final = await wb.metricSeries({ runId: id, key: 'return_total', maxPoints: 100_000 });
    expect(final.total).toBe(150);
    expect(final.x).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });

  it('stops and resumes a run', async () => {
    const res = await wb.launch({ preset: 'manitokan-random', overrides: { train: { episodes: 100_000, numEnvs: 2, checkpointEvery: 5 } }, seeds: [7] });
    const id = res.runIds[0];
    const t0 = Date.now();
    while ((await wb.getRun(id))!.episodesDone < 3 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    await wb.stopRun(id);
    await waitForRuns(wb, [id]);
    expect((await wb.getRun(id))!.status).toBe('stopped');
    const e = await rejection(wb.stopRun(id));
    expect(e.body.kind).toBe('input');
    await wb.resumeRun(id);
    const t1 = Date.now();
    while ((await wb.getRun(id))!.status !== 'running' && Date.now() - t1 < 30_000) await new Promise((r) => setTimeout(r, 50));
    await wb.stopRun(id);
    await waitForRuns(wb, [id]);
    expect((await wb.getRun(id))!.status).toBe('stopped');
    const del = await rejection(wb.deleteRun(999_999));
    expect(del.body.kind).toBe('not-found');
  });

  it('tags, notes and delete (with checkpoint files)', async () => {
    const id = ids[1];
    await wb.setTags(id, [' b ', 'a', 'a', '']);
    await wb.setNotes(id, 'hello');
    const run = (await wb.getRun(id))!;
    expect(run.tags).toEqual(['a', 'b']);
    expect(run.notes).toBe('hello');
    expect((await wb.listRuns({ tag: 'b' })).rows.map((r) => r.id)).toEqual([id]);
    const ckpts = await store.listCheckpoints(id);
    expect(ckpts.length).toBeGreaterThan(0);
    for (const c of ckpts) expect(fs.existsSync(c.path)).toBe(true);
    await wb.deleteRun(id);
    expect(await wb.getRun(id)).toBeNull();
    for (const c of ckpts) expect(fs.existsSync(c.path)).toBe(false);
  });
});

describe('workbench: a 1,000,000-point series', () => {
  let runId = 0;
  const N = 1_000_000;
  const SPIKE = 777_777;

  beforeAll(async () => {
    const config = (await wb.resolveConfig({ preset: 'manitokan-random' })) as unknown as { ok: true; config: never };
    runId = await store.createRun({ name: 'big', config: config.config, seed: 0, episodesTotal: N, host: 'test', metricKeys: [] });
    const chunk = 100_000;
    for (let s = 0; s < N; s += chunk) {
      const pts = [];
      for (let i = s; i < s + chunk; i++) pts.push({ key: 'loss', step: i * 10, episode: i, wallTime: i * 0.001, value: i === SPIKE ? 1e6 : Math.sin(i / 1000) });
      await store.appendMetrics(runId, pts);
    }
    await store.updateRun(runId, { status: 'done', episodesDone: N });
  }, 120_000);

  it('downsamples the full view keeping the spike, then answers zooms from the cache', async () => {
    const full = await wb.metricSeries({ runId, key: 'loss', maxPoints: 1000 });
    expect(full.total).toBe(N);
    expect(full.downsampled).toBe(true);
    expect(full.x.length).toBeLessThanOrEqual(1000);
    expect(Math.max(...full.y)).toBe(1e6);
    expect(full.x[0]).toBe(0);
    expect(full.x[full.x.length - 1]).toBe(N - 1);

    // Zooms answer from the cached series (their speed is measured by `npm run bench -- --ui`).
    const reads = spyReads();
    for (let k = 0; k < 10; k++) {
      const from = 100_000 + k * 50_000;
      const z = await wb.metricSeries({ runId, key: 'loss', from, to: from + 200_000, maxPoints: 1000 });
      expect(z.total).toBe(200_001);
      expect(z.x[0]).toBe(from);
    }
    expect(reads.calls).toEqual([]);
    reads.restore();
    const zs = await wb.metricSeries({ runId, key: 'loss', from: 700_000, to: 800_000, maxPoints: 500 });
    expect(Math.max(...zs.y)).toBe(1e6);
    const st = await wb.metricSeries({ runId, key: 'loss', x: 'step', from: 5000, to: 5100 });
    expect(st.x).toEqual([5000, 5010, 5020, 5030, 5040, 5050, 5060, 5070, 5080, 5090, 5100]);
  });

  it('a cold zoomed request reads only its episode range', async () => {
    const other = await createWorkbenchFresh();
    const reads = spyReads();
    const z = await other.metricSeries({ runId, key: 'loss', from: 500_000, to: 510_000, maxPoints: 1000 });
    reads.restore();
    expect(z.total).toBe(10_001);
    expect(reads.calls).toEqual([{ fromEpisode: 500_000, toEpisode: 510_000 }]);
  });
});

/** Record the episode ranges the store is asked for (the SQLite reads behind a series request). */
function spyReads(): { calls: unknown[]; restore(): void } {
  const calls: unknown[] = [];
  const orig = store.metricSeries.bind(store);
  store.metricSeries = (async (id: number, key: string, range?: { fromEpisode?: number; toEpisode?: number }) => {
    calls.push(range ?? {});
    return orig(id, key, range);
  }) as typeof store.metricSeries;
  return { calls, restore: () => void (store.metricSeries = orig) };
}

async function createWorkbenchFresh(): Promise<Workbench> {
  // A second API over the same store (its own empty series cache); never closed: it shares the store.
  const r2 = new Runner({ store, maxParallel: 1, backend: 'wasm' });
  r2.close();
  return createWorkbench({ store, runner: r2, host: 'http', backend: 'wasm', version: 't' });
}

describe('errors and event coalescing', () => {
  it('maps errors to bodies', () => {
    expect(errorBody(new Error('boom'))).toEqual({ kind: 'internal', message: 'boom' });
    const se = Object.assign(new Error('x missing'), { name: 'StoreError', code: 'NOT_FOUND' });
    expect(errorBody(se).kind).toBe('not-found');
  });

  it('coalesces metrics per run to one delivery per interval, status at once', async () => {
    const got: WorkbenchEvent[][] = [];
    const sink = coalesceEvents((evs) => got.push(evs), 50);
    const pt = (v: number) => ({ key: 'k', step: v, episode: v, wallTime: v, value: v });
    for (let i = 0; i < 100; i++) sink.push({ type: 'metrics', runId: 1, points: [pt(i)] });
    sink.push({ type: 'progress', runId: 1, round: 1, total: 9, envSteps: 1, latest: {} });
    sink.push({ type: 'progress', runId: 1, round: 2, total: 9, envSteps: 2, latest: {} });
    expect(got).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(got).toHaveLength(1);
    const batch = got[0];
    expect(batch).toHaveLength(2);
    expect(batch[0].type === 'metrics' && batch[0].points.length).toBe(100);
    expect(batch[1].type === 'progress' && batch[1].round).toBe(2);
    sink.push({ type: 'metrics', runId: 1, points: [pt(1)] });
    sink.push({ type: 'status', runId: 1, status: 'done' });
    expect(got).toHaveLength(2);
    expect(got[1].map((e) => e.type)).toEqual(['metrics', 'status']);
    sink.close();
  });
});
