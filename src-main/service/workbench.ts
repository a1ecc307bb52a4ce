/**
 * The Workbench API object shared by both hosts (Electron IPC, HTTP + WebSocket): each method
 * checks its JSON arguments and calls the store, the runner or one of the concern modules
 * beside this file (series and compare, config resolution, reports, events). Every method
 * throws ApiError (api-errors.ts), whatever failed below. The workbench owns the store and the
 * runner it is given: close() stops runs cleanly (they checkpoint and end as "stopped") and
 * closes the database.
 */
import os from 'node:os';
import path from 'node:path';
import {
  API_METHODS,
  type CompareRequest,
  type EpisodeInfo,
  type ExperimentInfo,
  type HostInfo,
  type LaunchRequest,
  type PresetInfo,
  type ReportRequest,
  type RunQuery,
  type SchemaCatalogue,
  type SeriesRequest,
  type WorkbenchApi,
  type WorkbenchEvent,
} from '../../src-shared/api';
import { trainSchema, type PartialExperiment } from '../../src-shared/config/experiment';
import { listPresets } from '../../src-shared/config/presets';
import type { Replay } from '../../src-shared/envs/types';
import { listAlgos, listEnvs } from '../../src-shared/registry';
import { INTERACTION_STAT_GROUP } from '../../src-shared/envs/reward-interaction';
import type { Store } from '../db/store';
import type { RunRow } from '../db/types';
import { htmlToPdfChromium } from '../report/pdf';
import { ReportThread } from '../report/report-thread';
import { compareLimitProblem, unique } from '../../src-shared/report-limits';
import type { Runner, RunnerEvent } from '../runner/runner';
import { runnerAlive } from '../runner/liveness';
import { deleteRunAndFiles, DeleteRefused } from './delete-run';
import { ApiError, errorBody, input, notFound } from './api-errors';
import { id, optBool, optEnum, optInt, optNum, optStr, ORDERS, reqObj, STATUSES, X_AXES } from './api-input';
import { loadEnvModule } from './env-module';
import { launch as launchRuns } from './launch';
import { buildReport, experimentNames, reportContext } from './reports';
import { resolveConfigAll } from './resolve-config';
import { toRunInfo } from './run-info';
import { checkColumnQuery, historyColumnCatalogue } from './history-columns';
import { loadBenchFigures } from './bench-results';
import { SeriesService } from './series';
import { sweepApi } from './sweeps-api';


export interface WorkbenchOptions {
  store: Store;
  runner: Runner;
  host: 'electron' | 'http';
  /** Backend choice given to the runner (auto, tensorflow, wasm, cpu ...). */
  backend: string;
  version: string;
  /** HTML -> PDF (Electron: printToPDF); default: headless Chromium. */
  pdf?: (html: string) => Promise<Buffer>;
  /** The built report worker (desktop app); default: its source through tsx. */
  reportWorkerFile?: string;
  /**
   * The desktop app's native file dialog for env modules (resolves to the chosen path, or null
   * when cancelled). Absent: `openEnvModule` is refused (the HTTP host never has one).
   */
  chooseEnvModule?: () => Promise<string | null>;
}

export type Workbench = WorkbenchApi & {
  subscribe(fn: (e: WorkbenchEvent) => void): () => void;
  close(): Promise<void>;
};

export function createWorkbench(opts: WorkbenchOptions): Workbench {
  const { store, runner } = opts;
  // Comparisons and reports compute in their own thread: this one keeps answering meanwhile.
  const thread = new ReportThread({ workerFile: opts.reportWorkerFile });
  const series = new SeriesService(store, undefined, thread);
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  const emit = (e: WorkbenchEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // One broken subscriber must not starve the others.
      }
    }
  };
  const onRunner = (e: RunnerEvent) => {
    // A resumed run's rows after its checkpoint are deleted and recomputed.
    if (e.type === 'status' && e.status === 'queued') series.invalidate(e.runId);
    emit(e as WorkbenchEvent);
  };
  runner.on('event', onRunner);

  const requireRun = async (field: string, v: unknown): Promise<RunRow> => {
    const rid = id(field, v);
    const r = await store.getRun(rid);
    if (!r) throw notFound(`run ${rid} does not exist`);
    return r;
  };

  const info = async (): Promise<HostInfo> => ({
    version: opts.version,
    host: opts.host,
    dbFile: store.file,
    backend: opts.backend,
    cores: os.availableParallelism(),
    maxParallel: runner.maxParallel,
    capabilities: opts.chooseEnvModule ? ['openEnvModule'] : [],
  });
  const ctx = reportContext(store, series, info, thread);
  const sweeps = sweepApi({ store, runner, invalidate: (runId) => series.invalidate(runId), changed: () => emit({ type: 'runs-changed' }) });

  const api: Workbench = {
    info,

    async listPresets(): Promise<PresetInfo[]> {
      return listPresets().map((p) => ({
        name: p.name,
        title: p.title,
        description: p.description ?? '',
        ...(p.paper ? { paper: p.paper } : {}),
        config: p.config,
      }));
    },

    async getSchemas(): Promise<SchemaCatalogue> {
      return {
        envs: listEnvs().map((e) => ({ id: e.id, title: e.title, schema: e.schema })),
        algos: listAlgos().map((a) => ({ id: a.id, title: a.title, schema: a.schema, ...(a.envs ? { envs: a.envs } : {}), ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) })),
        train: trainSchema,
        loopDiagnostics: [INTERACTION_STAT_GROUP],
      };
    },

    async resolveConfig(req) {
      const r = req === undefined || req === null ? {} : reqObj('req', req);
      return resolveConfigAll(r);
    },

    async launch(req: LaunchRequest) {
      const r = reqObj('req', req);
      if (!Array.isArray(r.seeds)) throw input('seeds', 'expected an array of integer seeds');
      const seeds = r.seeds.map((s) => {
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 2 ** 31 - 1) {
          throw input('seeds', `expected integers in [0, 2147483647], got ${JSON.stringify(s)}`);
        }
        return s;
      });
      if (seeds.length === 0) throw input('seeds', 'at least one seed');
      if (seeds.length > 1000) throw input('seeds', 'at most 1000 seeds per launch');
      if (new Set(seeds).size !== seeds.length) throw input('seeds', 'seeds must be distinct');
      const name = optStr('name', r.name, 200);
      const resolved = resolveConfigAll({ preset: r.preset, overrides: r.overrides });
      if (!resolved.ok) {
        throw new ApiError({
          kind: 'input',
          field: resolved.errors[0].field,
          message: resolved.errors.map((e) => e.message).join('; '),
        });
      }
      const launched = await launchRuns(store, runner, {
        preset: typeof r.preset === 'string' && r.preset !== '' ? r.preset : undefined,
        overrides: (r.overrides ?? {}) as PartialExperiment,
        seeds,
        name: name?.trim() ? name.trim() : undefined,
      });
      emit({ type: 'runs-changed' });
      return { experimentId: launched.experimentId, runIds: launched.runs.map((x) => x.id) };
    },

    async listRuns(q: RunQuery) {
      const r = q === undefined || q === null ? {} : reqObj('q', q);
      let status: string[] | undefined;
      if (r.status !== undefined && r.status !== null) {
        if (!Array.isArray(r.status)) throw input('status', `expected an array of ${STATUSES.join(', ')}`);
        status = r.status.map((s) => optEnum('status', s, STATUSES)!);
      }
      const { rows, total } = await store.listRuns({
        status,
        envId: optStr('envId', r.envId, 200),
        algoId: optStr('algoId', r.algoId, 200),
        tag: optStr('tag', r.tag, 200),
        search: optStr('search', r.search, 500),
        experimentId: r.experimentId === undefined || r.experimentId === null ? undefined : id('experimentId', r.experimentId),
        since: optNum('since', r.since),
        until: optNum('until', r.until),
        orderBy: optEnum('orderBy', r.orderBy, ORDERS),
        desc: optBool('desc', r.desc),
        limit: optInt('limit', r.limit, 1, 10_000) ?? 100,
        offset: optInt('offset', r.offset, 0, Number.MAX_SAFE_INTEGER) ?? 0,
        ...checkColumnQuery(r),
      });
      return { rows: rows.map(toRunInfo), total };
    },

    async historyColumns() {
      return historyColumnCatalogue(store);
    },

    async benchFigures() {
      return loadBenchFigures();
    },

    async getRun(runId: number) {
      const r = await store.getRun(id('id', runId));
      return r ? toRunInfo(r) : null;
    },

    async stopRun(runId: number) {
      const run = await requireRun('id', runId);
      if (run.status !== 'running' && run.status !== 'queued') {
        throw input('id', `run ${run.id} is ${run.status}; only queued or running runs can be stopped`);
      }
      if (run.status === 'running' && run.runnerPid && run.runnerPid !== process.pid && !runnerAlive(run)) {
        // Its runner died: nothing would answer a stop request.
        await store.updateRun(run.id, { status: 'stopped', runnerPid: null, endedAt: Date.now() });
        emit({ type: 'status', runId: run.id, status: 'stopped' });
        return;
      }
      await runner.stop(run.id);
    },

    async resumeRun(runId: number) {
      const run = await requireRun('id', runId);
      if (run.status === 'done') throw input('id', `run ${run.id} is done; nothing to resume`);
      if (run.status === 'queued') throw input('id', `run ${run.id} is already queued`);
      series.invalidate(run.id);
      await runner.resume(run.id);
    },

    async deleteRun(runId: number) {
      const run = await requireRun('id', runId);
      try {
        // Only the run's own checkpoint files: the paths in a shared database are not trusted.
        await deleteRunAndFiles(store, run.id, { ownPid: process.pid });
      } catch (err) {
        if (err instanceof DeleteRefused) throw input('id', err.message);
        throw err;
      }
      series.invalidate(run.id);
      emit({ type: 'runs-changed' });
    },

    async setTags(runId: number, tags: string[]) {
      const run = await requireRun('id', runId);
      if (!Array.isArray(tags)) throw input('tags', 'expected an array of strings');
      const clean = new Set<string>();
      for (const t of tags) {
        if (typeof t !== 'string') throw input('tags', 'expected an array of strings');
        const s = t.trim();
        if (s.length > 64) throw input('tags', `tag ${JSON.stringify(s.slice(0, 20))}... is longer than 64 characters`);
        if (s) clean.add(s);
      }
      if (clean.size > 100) throw input('tags', 'at most 100 tags per run');
      await store.setTags(run.id, [...clean].sort());
      emit({ type: 'runs-changed' });
    },

    async setNotes(runId: number, notes: string) {
      const run = await requireRun('id', runId);
      const n = optStr('notes', notes, 100_000);
      if (n === undefined) throw input('notes', 'expected a string');
      await store.updateRun(run.id, { notes: n });
      emit({ type: 'runs-changed' });
    },

    async listExperiments(): Promise<ExperimentInfo[]> {
      const exps = await store.listExperiments();
      const { rows } = await store.listRuns({ orderBy: 'id', limit: 1_000_000 });
      const byExp = new Map<number, number[]>();
      for (const r of rows) {
        if (r.experimentId === null) continue;
        if (!byExp.has(r.experimentId)) byExp.set(r.experimentId, []);
        byExp.get(r.experimentId)!.push(r.id);
      }
      return exps.map((e) => ({ id: e.id, name: e.name, preset: e.preset, createdAt: e.createdAt, notes: e.notes, runIds: byExp.get(e.id) ?? [] }));
    },

    async metricKeys(runId: number) {
      const run = await requireRun('runId', runId);
      return store.metricKeys(run.id);
    },

    async runLog(runId: number, limit?: number) {
      const run = await requireRun('runId', runId);
      return store.runLog(run.id, optInt('limit', limit, 1, 100_000) ?? 1000);
    },

    async metricSeries(req: SeriesRequest) {
      const r = reqObj('req', req);
      const run = await requireRun('runId', r.runId);
      if (typeof r.key !== 'string' || r.key === '') throw input('key', 'expected a metric name');
      const x = optEnum('x', r.x, X_AXES) ?? 'episode';
      const from = optNum('from', r.from);
      const to = optNum('to', r.to);
      if (from !== undefined && to !== undefined && from > to) throw input('from', `must not exceed to (${from} > ${to})`);
      const maxPoints = optInt('maxPoints', r.maxPoints, 2, 200_000) ?? 2000;
      return series.series(run, { key: r.key, x, from, to, maxPoints });
    },

    async compare(req: CompareRequest) {
      const r = reqObj('req', req);
      if (!Array.isArray(r.runIds) || r.runIds.length === 0) throw input('runIds', 'expected a non-empty array of run ids');
      const limit = compareLimitProblem(r.runIds);
      if (limit) throw input(limit.field, limit.detail);
      // A repeated id would count as one more seed in the band and the summary.
      const runIds = unique(r.runIds.map((v, i) => id(`runIds[${i}]`, v)));
      const runs: RunRow[] = [];
      for (const rid of runIds) runs.push(await requireRun('runIds', rid));
      if (typeof r.key !== 'string' || r.key === '') throw input('key', 'expected a metric name');
      return series.compare(runs, await experimentNames(store), {
        key: r.key,
        x: optEnum('x', r.x, X_AXES) ?? 'episode',
        groupBy: optEnum('groupBy', r.groupBy, ['experiment', 'run'] as const) ?? 'experiment',
        maxPoints: optInt('maxPoints', r.maxPoints, 2, 20_000) ?? 500,
        smoothing: optInt('smoothing', r.smoothing, 0, 100_000) ?? 0,
      });
    },

    async listEpisodes(runId: number, q) {
      const run = await requireRun('runId', runId);
      const r = q === undefined || q === null ? {} : reqObj('q', q);
      const withReplay = optBool('withReplay', r.withReplay);
      const limit = optInt('limit', r.limit, 1, 10_000) ?? 100;
      const offset = optInt('offset', r.offset, 0, Number.MAX_SAFE_INTEGER) ?? 0;
      const desc = optBool('desc', r.desc);
      const rows = await store.listEpisodes(run.id, { withReplay, limit, offset, desc });
      // The store counts all episodes; with a replay filter, count the (replay-less) rows.
      const total = withReplay ? (await store.listEpisodes(run.id, { withReplay: true })).length : await store.episodeCount(run.id);
      const num = (v: number) => (Number.isFinite(v) ? v : (null as unknown as number));
      const out: EpisodeInfo[] = rows.map((e) => ({
        idx: e.idx,
        round: e.round,
        envIndex: e.envIndex,
        length: e.length,
        return: num(e.return),
        success: num(e.success),
        values: e.values,
        hasReplay: e.hasReplay,
      }));
      return { rows: out, total };
    },

    async getReplay(runId: number, idx: number) {
      const run = await requireRun('runId', runId);
      const i = optInt('idx', idx, 0, Number.MAX_SAFE_INTEGER);
      if (i === undefined) throw input('idx', 'expected an episode index');
      return ((await store.getReplay(run.id, i)) as Replay | undefined) ?? null;
    },

    async exportReport(req: ReportRequest) {
      return buildReport(store, ctx, req, opts.pdf ?? ((html) => htmlToPdfChromium(html)));
    },

    ...sweeps.methods,

    async openEnvModule(...args: unknown[]) {
      if (!opts.chooseEnvModule) throw input('openEnvModule', 'only the desktop app loads env modules (through its file dialog); on the command line: cairn train --env-module PATH');
      // The file comes from the dialog the user answers, never from the caller.
      if (args.length > 0) throw input('args', 'openEnvModule takes no arguments: the file is chosen in the dialog');
      const file = await opts.chooseEnvModule();
      if (file === null) return null;
      const entry = await loadEnvModule(file, 'file');
      return { envId: entry.id, title: entry.title, path: path.resolve(file) };
    },

    subscribe(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },

    async close() {
      sweeps.close();
      await thread.close();
      runner.off('event', onRunner);
      try {
        await runner.shutdown();
      } finally {
        listeners.clear();
        await store.close();
      }
    },
  };

  // Every API method throws ApiError (the hosts read `body`), whatever failed below.
  for (const m of API_METHODS) {
    const fn = api[m] as (...a: unknown[]) => Promise<unknown>;
    (api as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
      try {
        return await fn.apply(api, args);
      } catch (err) {
        throw err instanceof ApiError ? err : new ApiError(errorBody(err));
      }
    };
  }
  return api;
}

