/**
 * The Workbench API implementation shared by both hosts (Electron IPC, HTTP + WebSocket).
 *
 * - Inputs arrive as JSON from a page, so every method checks its arguments and throws
 *   {@link ApiError}s whose body names the field (`kind: 'input'`), or says what is missing
 *   (`'not-found'`); store, runner and config errors are mapped the same way (`errorBody`).
 * - Metric series are downsampled here, per request, in typed arrays (min/max buckets keep
 *   spikes). Series of finished runs are cached whole (LRU by bytes), so pan and zoom on a
 *   million points answer in a few milliseconds; a cold zoom reads only its episode range
 *   from SQLite; a running run's cached series is topped up from its last cached episode.
 * - compare() puts each run on a common x grid, groups runs by experiment with the mean and
 *   a seeded 95% bootstrap band over seeds, and summarises each seed's final 10%.
 * - The workbench owns the store and the runner it is given: close() stops runs cleanly
 *   (they checkpoint and end as "stopped") and closes the database.
 */
import { runMetricSpecs } from './run-metrics';
import fs from 'node:fs';
import os from 'node:os';
import {
  API_METHODS,
  type ApiErrorBody,
  type CompareGroup,
  type CompareRequest,
  type CompareResult,
  type EpisodeInfo,
  type ExperimentInfo,
  type FieldError,
  type HostInfo,
  type LaunchRequest,
  type PresetInfo,
  type ReportFile,
  type ReportFormat,
  type ReportRequest,
  type ResolveResult,
  type RunInfo,
  type RunQuery,
  type SchemaCatalogue,
  type SeriesData,
  type SeriesRequest,
  type SummaryRow,
  type WorkbenchApi,
  type WorkbenchEvent,
  type XAxis,
} from '../../src-shared/api';
import {
  diffExperiment,
  mergeExperiment,
  resolveExperiment,
  trainSchema,
  type ExperimentConfig,
  type PartialExperiment,
} from '../../src-shared/config/experiment';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import type { Replay } from '../../src-shared/envs/types';
import { coerceField, ConfigError, type Schema } from '../../src-shared/config/schema';
import { getAlgo, getEnv, listAlgos, listEnvs } from '../../src-shared/registry';
import { bootstrapBand, bootstrapCI } from '../../src-shared/stats/bootstrap';
import { minMaxDownsample, rangeIndices, toGrid } from '../../src-shared/stats/downsample';
import { iqm } from '../../src-shared/stats/iqm';
import { movingAverage } from '../../src-shared/stats/smooth';
import { checkpointDir } from '../db/paths';
import type { Store } from '../db/store';
import type { MetricSeries, RunRow } from '../db/types';
import { exportRun, exportRuns } from '../report/export';
import { buildReportData, REPORT_BOOTSTRAP, ReportInputError, type ReportContext } from '../report/report';
import { renderHtml } from '../report/html';
import { renderLatex } from '../report/latex';
import { htmlToPdfChromium } from '../report/pdf';
import { isAlive, removeFiles, RunnerError, type Runner, type RunnerEvent } from '../runner/runner';
import { launch as launchRuns } from './launch';

// ---- errors --------------------------------------------------------------------------------

/** An error with the body both transports carry. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
  }
}

const input = (field: string, message: string) => new ApiError({ kind: 'input', field, message: `${field}: ${message}` });
const notFound = (message: string) => new ApiError({ kind: 'not-found', message });

/** Map anything thrown below the API to the error body the hosts send. */
export function errorBody(err: unknown): ApiErrorBody {
  if (err instanceof ApiError) return err.body;
  if (err instanceof ConfigError || err instanceof ReportInputError) return { kind: 'input', field: err.field, message: err.message };
  if (err instanceof RunnerError) {
    return { kind: /no such run/.test(err.message) ? 'not-found' : 'input', message: err.message };
  }
  if (err instanceof Error && err.name === 'StoreError') {
    const code = (err as Error & { code?: string }).code;
    if (code === 'NOT_FOUND') return { kind: 'not-found', message: err.message };
    if (code === 'INVALID' || code === 'CONFLICT') return { kind: 'input', message: err.message };
    return { kind: 'internal', message: err.message };
  }
  return { kind: 'internal', message: err instanceof Error ? err.message.split('\n')[0] : String(err) };
}

// ---- argument checks (JSON from a page) ----------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function reqObj(field: string, v: unknown): Record<string, unknown> {
  if (!isObj(v)) throw input(field, 'expected an object');
  return v;
}
function id(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw input(field, `expected a positive integer id, got ${JSON.stringify(v)}`);
  return v;
}
function optInt(field: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw input(field, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}
function optNum(field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw input(field, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}
function optStr(field: string, v: unknown, max = 10_000): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw input(field, `expected a string of at most ${max} characters`);
  return v;
}
function optEnum<T extends string>(field: string, v: unknown, values: readonly T[]): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) throw input(field, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
function optBool(field: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw input(field, 'expected true or false');
  return v;
}

const X_AXES: readonly XAxis[] = ['episode', 'step', 'wall'];
const REPORT_FORMATS: readonly ReportFormat[] = ['html', 'pdf', 'csv', 'json', 'latex'];
const STATUSES = ['queued', 'running', 'stopped', 'done', 'failed'] as const;
const ORDERS = ['id', 'created_at', 'started_at', 'status', 'name', 'duration'] as const;

// ---- events --------------------------------------------------------------------------------

export interface EventSink {
  push(e: WorkbenchEvent): void;
  flush(): void;
  close(): void;
}

/**
 * Coalesce events for one receiver (a WebSocket client, the Electron windows) into at most one
 * delivery per `intervalMs`: a run's metric points and episodes are concatenated, its progress
 * and live replay keep only the latest, `runs-changed` is sent once. A status change flushes
 * at once (after what was pending, so a chart has every point before "done").
 */
export function coalesceEvents(deliver: (events: WorkbenchEvent[]) => void, intervalMs = 100): EventSink {
  let pending: WorkbenchEvent[] = [];
  const slots = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  let closed = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending.length === 0) return;
    const out = pending;
    pending = [];
    slots.clear();
    last = Date.now();
    deliver(out);
  };
  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(flush, Math.max(0, last + intervalMs - Date.now()));
  };
  return {
    push(e) {
      if (closed) return;
      if (e.type === 'status') {
        pending.push(e);
        flush();
        return;
      }
      const slotKey = e.type === 'runs-changed' ? e.type : `${e.type}:${e.runId}`;
      const at = slots.get(slotKey);
      if (at === undefined) {
        slots.set(slotKey, pending.length);
        pending.push(e.type === 'metrics' ? { ...e, points: [...e.points] } : e.type === 'episodes' ? { ...e, episodes: [...e.episodes] } : e);
      } else {
        const prev = pending[at];
        // Loops, not push(...x): a spread of a huge batch would overflow the stack.
        if (e.type === 'metrics' && prev.type === 'metrics') for (const p of e.points) prev.points.push(p);
        else if (e.type === 'episodes' && prev.type === 'episodes') for (const x of e.episodes) prev.episodes.push(x);
        else if (e.type !== 'runs-changed') pending[at] = e;
      }
      schedule();
    },
    flush,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      pending = [];
    },
  };
}

// ---- series cache --------------------------------------------------------------------------

interface CachedSeries {
  series: MetricSeries;
  /** Number of valid points (arrays may have spare capacity). */
  n: number;
  bytes: number;
  lastEpisode: number;
  /** The run was finished when loaded: nothing more will arrive. */
  final: boolean;
}

const emptySeries = (): MetricSeries => ({
  step: new Float64Array(0),
  episode: new Float64Array(0),
  wallTime: new Float64Array(0),
  value: new Float64Array(0),
});

function axisOf(s: MetricSeries, x: XAxis): Float64Array {
  return x === 'step' ? s.step : x === 'wall' ? s.wallTime : s.episode;
}

function sliceSeries(s: MetricSeries, n: number): MetricSeries {
  return { step: s.step.subarray(0, n), episode: s.episode.subarray(0, n), wallTime: s.wallTime.subarray(0, n), value: s.value.subarray(0, n) };
}

/**
 * Metric series access for the API: whole series of finished runs cached in memory (bounded),
 * running runs topped up from their last cached episode, cold range reads by episode.
 */
export class SeriesService {
  private readonly cache = new Map<string, CachedSeries>();
  private readonly locks = new Map<string, Promise<void>>();
  private bytes = 0;

  constructor(
    private readonly store: Store,
    /** Memory for cached series (32 bytes per point: a 1M-point series takes 32 MB). */
    private readonly budgetBytes = 256 * 1024 * 1024,
  ) {}

  /** Drop a run's cached series (deleted, resumed: rows after a checkpoint were removed). */
  invalidate(runId: number): void {
    for (const [k, v] of this.cache) {
      if (k.startsWith(`${runId}\u0000`)) {
        this.cache.delete(k);
        this.bytes -= v.bytes;
      }
    }
  }

  /** The whole series of a run's metric (cached). */
  full(run: RunRow, key: string): Promise<MetricSeries> {
    // One load or top-up per series at a time: two concurrent top-ups would append twice.
    const ck = `${run.id}\u0000${key}`;
    const prev = this.locks.get(ck) ?? Promise.resolve();
    const next = prev.then(
      () => this.fullLocked(ck, run, key),
      () => this.fullLocked(ck, run, key),
    );
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(ck, settled);
    void settled.then(() => {
      if (this.locks.get(ck) === settled) this.locks.delete(ck);
    });
    return next;
  }

  private async fullLocked(ck: string, run: RunRow, key: string): Promise<MetricSeries> {
    const active = run.status === 'running' || run.status === 'queued';
    let c = this.cache.get(ck);
    // Resumed by another process since we cached it: top it up again.
    if (c && active) c.final = false;
    if (c && c.lastEpisode > run.episodesDone && !active) {
      // Truncated behind our back (resumed elsewhere): reload.
      this.invalidate(run.id);
      c = undefined;
    }
    if (c && !c.final) {
      const tail = await this.store.metricSeries(run.id, key, c.n > 0 ? { fromEpisode: c.lastEpisode + 1 } : {});
      if (tail.value.length > 0) c = this.append(ck, c, tail);
      c.final = !active;
    }
    if (!c) {
      const s = await this.store.metricSeries(run.id, key);
      const n = s.value.length;
      c = { series: s, n, bytes: n * 32, lastEpisode: n ? s.episode[n - 1] : -Infinity, final: !active };
      this.put(ck, c);
    } else {
      // LRU: move to the end.
      this.cache.delete(ck);
      this.cache.set(ck, c);
    }
    return sliceSeries(c.series, c.n);
  }

  /** Points with from <= episode <= to, from the cache when warm, else read from SQLite. */
  async range(run: RunRow, key: string, x: XAxis, from?: number, to?: number): Promise<{ s: MetricSeries; start: number; end: number }> {
    const ck = `${run.id}\u0000${key}`;
    const warm = this.cache.has(ck);
    if (warm || (from === undefined && to === undefined) || x !== 'episode') {
      const s = await this.full(run, key);
      const [start, end] = rangeIndices(axisOf(s, x), from, to);
      return { s, start, end };
    }
    const s = await this.store.metricSeries(run.id, key, {
      fromEpisode: from === undefined ? undefined : Math.ceil(from),
      toEpisode: to === undefined ? undefined : Math.floor(to),
    });
    return { s, start: 0, end: s.value.length };
  }

  private append(ck: string, c: CachedSeries, tail: MetricSeries): CachedSeries {
    const need = c.n + tail.value.length;
    let s = c.series;
    if (need > s.value.length) {
      const cap = Math.max(need, Math.ceil(s.value.length * 1.5), 1024);
      const grow = (a: Float64Array) => {
        const b = new Float64Array(cap);
        b.set(a.subarray(0, c.n));
        return b;
      };
      s = { step: grow(s.step), episode: grow(s.episode), wallTime: grow(s.wallTime), value: grow(s.value) };
      this.bytes += cap * 32 - c.bytes;
      c.bytes = cap * 32;
    }
    s.step.set(tail.step, c.n);
    s.episode.set(tail.episode, c.n);
    s.wallTime.set(tail.wallTime, c.n);
    s.value.set(tail.value, c.n);
    c.series = s;
    c.n = need;
    c.lastEpisode = tail.episode[tail.episode.length - 1];
    this.cache.delete(ck);
    this.cache.set(ck, c);
    this.evict();
    return c;
  }

  private put(ck: string, c: CachedSeries): void {
    const old = this.cache.get(ck);
    if (old) this.bytes -= old.bytes;
    this.cache.set(ck, c);
    this.bytes += c.bytes;
    this.evict();
  }

  private evict(): void {
    for (const [k, v] of this.cache) {
      if (this.bytes <= this.budgetBytes || this.cache.size <= 1) break;
      this.cache.delete(k);
      this.bytes -= v.bytes;
    }
  }

  /** SeriesRequest -> downsampled SeriesData. */
  async series(run: RunRow, req: { key: string; x: XAxis; from?: number; to?: number; maxPoints: number }): Promise<SeriesData> {
    const { s, start, end } = await this.range(run, req.key, req.x, req.from, req.to);
    const xs = axisOf(s, req.x);
    const total = end - start;
    const d = minMaxDownsample(xs, s.value, req.maxPoints, start, end);
    return { runId: run.id, key: req.key, x: Array.from(d.x), y: Array.from(d.y), total, downsampled: d.x.length < total };
  }

  /** Every run on a common grid, grouped, with bands, summaries and the config diff. */
  async compare(runs: RunRow[], experimentNames: Map<number, string>, req: Required<Omit<CompareRequest, 'runIds'>>): Promise<CompareResult> {
    const raw: { run: RunRow; x: Float64Array; y: Float64Array }[] = [];
    for (const run of runs) {
      const s = await this.full(run, req.key);
      raw.push({ run, x: axisOf(s, req.x), y: s.value });
    }
    // Common grid over the union of the runs' x-ranges; no finer than the longest series.
    let x0 = Infinity;
    let x1 = -Infinity;
    let longest = 0;
    for (const r of raw) {
      if (r.x.length === 0) continue;
      x0 = Math.min(x0, r.x[0]);
      x1 = Math.max(x1, r.x[r.x.length - 1]);
      longest = Math.max(longest, r.x.length);
    }
    const G = Number.isFinite(x0) ? (x1 > x0 ? Math.max(2, Math.min(req.maxPoints, longest)) : 1) : 0;
    const grid = new Float64Array(G);
    for (let i = 0; i < G; i++) grid[i] = G === 1 ? x0 : x0 + ((x1 - x0) * i) / (G - 1);

    const gridded = raw.map((r) => {
      const y = req.smoothing > 1 ? movingAverage(r.y, req.smoothing) : r.y;
      return toGrid(r.x, y, grid);
    });
    const seriesOut: SeriesData[] = raw.map((r, i) => {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let g = 0; g < G; g++) {
        if (Number.isFinite(gridded[i][g])) {
          xs.push(grid[g]);
          ys.push(gridded[i][g]);
        }
      }
      return { runId: r.run.id, key: req.key, x: xs, y: ys, total: r.x.length, downsampled: r.x.length > G };
    });

    // Groups: by experiment (runs without one stand alone), or one per run.
    const order: string[] = [];
    const members = new Map<string, number[]>();
    raw.forEach((r, i) => {
      // A reproduction puts several variants in one experiment: group by (experiment, variant).
      const gk =
        req.groupBy === 'experiment' && r.run.experimentId !== null ? `e${r.run.experimentId}|${r.run.variant ?? ''}` : `r${r.run.id}`;
      if (!members.has(gk)) {
        members.set(gk, []);
        order.push(gk);
      }
      members.get(gk)!.push(i);
    });
    // Within one experiment (a reproduction), the variant alone names a group.
    const oneExperiment = new Set(raw.map((r) => r.run.experimentId)).size === 1;
    const groupLabel = (names: Map<number, string>, run: { experimentId: number | null; variant: string | null }) =>
      oneExperiment && run.variant ? run.variant : experimentLabel(names, run);
    const nameCount = new Map<string, number>();
    for (const gk of order) {
      const first = raw[members.get(gk)![0]].run;
      const nm = gk.startsWith('e') ? groupLabel(experimentNames, first) : first.name;
      nameCount.set(nm, (nameCount.get(nm) ?? 0) + 1);
    }
    const groups: CompareGroup[] = [];
    const summary: SummaryRow[] = [];
    for (const gk of order) {
      const idx = members.get(gk)!;
      const first = raw[idx[0]].run;
      const isExp = gk.startsWith('e');
      let label = isExp ? groupLabel(experimentNames, first) : first.name;
      if ((nameCount.get(label) ?? 0) > 1) label += isExp ? ` (experiment ${first.experimentId})` : ` (run ${first.id})`;
      const band = bootstrapBand(
        idx.map((i) => gridded[i]),
        { resamples: REPORT_BOOTSTRAP.bandResamples, seed: REPORT_BOOTSTRAP.seed },
      );
      const g: CompareGroup = {
        label,
        experimentId: isExp ? first.experimentId : null,
        variant: isExp ? first.variant : null,
        runIds: idx.map((i) => raw[i].run.id),
        x: [],
        mean: [],
        lo: [],
        hi: [],
        sd: [],
      };
      for (let k = 0; k < G; k++) {
        if (band.n[k] === 0) continue;
        g.x.push(grid[k]);
        g.mean.push(band.mean[k]);
        g.lo.push(band.lo[k]);
        g.hi.push(band.hi[k]);
        g.sd.push(seedSd(idx.map((i) => gridded[i][k])));
      }
      groups.push(g);
      // Summary over seeds of each seed's final-10% mean (raw points, not smoothed).
      const finals: number[] = [];
      for (const i of idx) {
        const v = finalMean(raw[i].y);
        if (v !== null) finals.push(v);
      }
      const ci = bootstrapCI(finals, { resamples: REPORT_BOOTSTRAP.resamples, seed: REPORT_BOOTSTRAP.seed });
      const fin = (v: number) => (Number.isFinite(v) ? v : null);
      summary.push({
        label,
        runIds: g.runIds,
        key: req.key,
        mean: fin(ci.estimate),
        iqm: fin(iqm(finals)),
        ciLo: fin(ci.lo),
        ciHi: fin(ci.hi),
        n: finals.length,
      });
    }
    return { key: req.key, groups, runs: seriesOut, summary, configDiff: configDiff(runs) };
  }
}

function experimentLabel(experimentNames: Map<number, string>, run: { experimentId: number | null; variant: string | null }): string {
  const name = experimentNames.get(run.experimentId!) ?? `experiment ${run.experimentId}`;
  return run.variant ? `${name} · ${run.variant}` : name;
}

/** Sample standard deviation over seeds at one x (NaN where fewer than two seeds have a value). */
export function seedSd(values: number[]): number {
  const v = values.filter(Number.isFinite);
  if (v.length < 2) return NaN;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

/** Mean of the last 10% of a series' finite points (at least one), or null. */
export function finalMean(y: ArrayLike<number>): number | null {
  const n = y.length;
  if (n === 0) return null;
  const k = Math.max(1, Math.ceil(n * 0.1));
  let s = 0;
  let c = 0;
  for (let i = n - k; i < n; i++) {
    if (Number.isFinite(y[i])) {
      s += y[i];
      c++;
    }
  }
  return c > 0 ? s / c : null;
}

/** Fields whose value differs between any two of the runs' configs, with each run's value. */
export function configDiff(runs: { id: number; config: ExperimentConfig }[]): CompareResult['configDiff'] {
  if (runs.length < 2) return [];
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of runs.slice(1)) {
    for (const d of diffExperiment(runs[0].config, r.config)) {
      if (!seen.has(d.key)) {
        seen.add(d.key);
        keys.push(d.key);
      }
    }
  }
  return keys.map((key) => {
    const [section, field] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
    const values: Record<number, unknown> = {};
    for (const r of runs) values[r.id] = (r.config[section as 'env' | 'algo' | 'train'] as Record<string, unknown>)[field] ?? null;
    return { key, values };
  });
}

// ---- config resolution ---------------------------------------------------------------------

/** Validate preset + overrides, collecting every field error (not just the first). */
export function resolveConfigAll(req: { preset?: unknown; overrides?: unknown }): ResolveResult {
  const errors: FieldError[] = [];
  const push = (e: unknown) => {
    if (e instanceof ConfigError) errors.push({ field: e.field, message: e.message });
    else errors.push({ field: 'config', message: e instanceof Error ? e.message : String(e) });
  };
  let base: PartialExperiment = {};
  if (req.preset !== undefined && req.preset !== null && req.preset !== '') {
    const p = typeof req.preset === 'string' ? getPreset(req.preset) : undefined;
    if (!p) push(new ConfigError('preset', `one of ${listPresets().map((x) => x.name).join(', ')}`, req.preset));
    else base = p.config;
  }
  let overrides: PartialExperiment = {};
  if (req.overrides !== undefined && req.overrides !== null) {
    if (!isObj(req.overrides)) push(new ConfigError('overrides', 'an object { env?, algo?, train? }', req.overrides));
    else {
      for (const [k, v] of Object.entries(req.overrides)) {
        if (k !== 'env' && k !== 'algo' && k !== 'train') push(new ConfigError(k, 'unknown section; allowed are env, algo, train'));
        else if (v !== undefined && v !== null && !isObj(v)) push(new ConfigError(k, 'an object of fields', v));
      }
      overrides = Object.fromEntries(
        Object.entries(req.overrides).filter(([k, v]) => ['env', 'algo', 'train'].includes(k) && isObj(v)),
      ) as PartialExperiment;
    }
  }
  const merged = mergeExperiment(base, overrides);
  const envId = merged.env?.id ?? 'manitokan';
  const algoId = merged.algo?.id ?? 'random';
  const env = typeof envId === 'string' ? getEnv(envId) : undefined;
  const algo = typeof algoId === 'string' ? getAlgo(algoId) : undefined;
  if (!env) push(new ConfigError('env.id', `one of ${listEnvs().map((e) => e.id).join(', ')}`, envId));
  if (!algo) push(new ConfigError('algo.id', `one of ${listAlgos().map((a) => a.id).join(', ')}`, algoId));
  if (env && algo?.envs && !algo.envs.includes(env.id)) {
    push(new ConfigError('algo.id', `an algorithm that supports env ${env.id} (${listAlgos().filter((a) => !a.envs || a.envs.includes(env.id)).map((a) => a.id).join(', ')})`, algoId));
  }
  const check = (section: 'env' | 'algo' | 'train', schema: Schema | undefined, given: Record<string, unknown> | undefined) => {
    if (!schema) return;
    for (const [k, v] of Object.entries(given ?? {})) {
      if (k === 'id' && section !== 'train') continue;
      const spec = schema[k];
      if (!spec) {
        push(new ConfigError(`${section}.${k}`, `unknown key; allowed keys are ${Object.keys(schema).join(', ')}`));
        continue;
      }
      try {
        coerceField(`${section}.${k}`, spec, v);
      } catch (e) {
        push(e);
      }
    }
  };
  check('env', env?.schema, merged.env);
  check('algo', algo?.schema, merged.algo);
  check('train', trainSchema, merged.train);
  if (errors.length > 0) return { ok: false, errors };
  let config: ExperimentConfig;
  try {
    config = resolveExperiment(merged);
  } catch (e) {
    push(e);
    return { ok: false, errors };
  }
  // Diff against the preset (or the defaults of the chosen env and algorithm).
  let reference: ExperimentConfig;
  try {
    reference = resolveExperiment(base.env || base.algo || base.train ? base : { env: { id: config.env.id }, algo: { id: config.algo.id } });
  } catch {
    reference = resolveExperiment({ env: { id: config.env.id }, algo: { id: config.algo.id } });
  }
  const diff = diffExperiment(reference, config).map((d) => ({ key: d.key, preset: d.a ?? null, value: d.b ?? null }));
  return { ok: true, config, diff };
}

// ---- the workbench -------------------------------------------------------------------------

export interface WorkbenchOptions {
  store: Store;
  runner: Runner;
  host: 'electron' | 'http';
  /** Backend choice given to the runner (auto, tensorflow, wasm, cpu ...). */
  backend: string;
  version: string;
  /** HTML -> PDF (Electron: printToPDF); default: headless Chromium. */
  pdf?: (html: string) => Promise<Buffer>;
}

export type Workbench = WorkbenchApi & {
  subscribe(fn: (e: WorkbenchEvent) => void): () => void;
  close(): Promise<void>;
};

function toRunInfo(r: RunRow): RunInfo {
  return {
    id: r.id,
    experimentId: r.experimentId,
    name: r.name,
    preset: r.preset,
    envId: r.envId,
    algoId: r.algoId,
    config: r.config,
    seed: r.seed,
    status: r.status,
    backend: r.backend,
    host: r.host,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    episodesTotal: r.episodesTotal,
    episodesDone: r.episodesDone,
    envSteps: r.envSteps,
    error: r.error,
    summary: r.summary,
    tags: r.tags,
    notes: r.notes,
    metricKeys: r.metricKeys,
    metrics: runMetricSpecs(r),
    variant: r.variant,
  };
}

const MIME: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  latex: 'application/x-tex; charset=utf-8',
};
const EXT: Record<ReportFormat, string> = { html: 'html', pdf: 'pdf', csv: 'csv', json: 'json', latex: 'tex' };

/** Names of all experiments, by id. */
async function experimentNames(store: Store): Promise<Map<number, string>> {
  return new Map((await store.listExperiments()).map((e) => [e.id, e.name]));
}

/** Report context over a store (shared by the workbench and `cairn export`). */
export function reportContext(store: Store, series: SeriesService, info: () => Promise<HostInfo>): ReportContext {
  return {
    info,
    async runs(ids) {
      const out: RunRow[] = [];
      for (const rid of ids) {
        const r = await store.getRun(rid);
        if (!r) throw notFound(`run ${rid} does not exist`);
        out.push(r);
      }
      return out;
    },
    async experimentRuns(ids) {
      const out: RunRow[] = [];
      for (const eid of ids) {
        const { rows } = await store.listRuns({ experimentId: eid, orderBy: 'id', limit: 100_000 });
        if (rows.length === 0) throw notFound(`experiment ${eid} has no runs (or does not exist)`);
        out.push(...rows);
      }
      return out;
    },
    experimentNames: () => experimentNames(store),
    metricKeys: (runId) => store.metricKeys(runId),
    compare: async (runs, key, x, groupBy) =>
      // Reports smooth each run with a moving average over 2% of its points (at least 1): raw
      // per-round means of 32 episodes are too noisy to read; the summary uses raw points.
      series.compare(runs, await experimentNames(store), {
        key,
        x,
        groupBy,
        maxPoints: 400,
        smoothing: Math.max(1, Math.round(Math.max(...runs.map((r) => r.episodesDone)) / 50)),
      }),
  };
}

/**
 * `exportReport` without a runner, for `cairn export`: the same files the UI produces.
 * PDF uses headless Chromium.
 */
export async function exportReportFromStore(store: Store, req: ReportRequest, version: string): Promise<ReportFile> {
  const series = new SeriesService(store);
  const info = async (): Promise<HostInfo> => ({
    version,
    host: 'http',
    dbFile: store.file,
    backend: '-',
    cores: os.availableParallelism(),
    maxParallel: 0,
  });
  try {
    return await buildReport(store, reportContext(store, series, info), req, (html) => htmlToPdfChromium(html));
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError(errorBody(err));
  }
}

/** Build a report file (any format) for runs, experiments or a comparison. */
export async function buildReport(
  store: Store,
  ctx: ReportContext,
  req: ReportRequest,
  pdf: (html: string) => Promise<Buffer>,
): Promise<ReportFile> {
  const r = reqObj('req', req);
  const kind = optEnum('kind', r.kind, ['run', 'experiment', 'compare'] as const);
  if (!kind) throw input('kind', 'expected one of run, experiment, compare');
  const format = optEnum('format', r.format, REPORT_FORMATS);
  if (!format) throw input('format', `expected one of ${REPORT_FORMATS.join(', ')}`);
  if (!Array.isArray(r.ids) || r.ids.length === 0) throw input('ids', 'expected a non-empty array of ids');
  const ids = r.ids.map((v, i) => id(`ids[${i}]`, v));
  if (kind === 'run' && ids.length !== 1) throw input('ids', 'a run report takes exactly one run id');
  let keys: string[] | undefined;
  if (r.keys !== undefined && r.keys !== null) {
    if (!Array.isArray(r.keys) || r.keys.some((k) => typeof k !== 'string' || k === '')) throw input('keys', 'expected an array of metric names');
    keys = r.keys as string[];
  }
  const stem = `cairn-${kind}-${ids.join('-')}`.slice(0, 80);
  const file = (data: Buffer): ReportFile => ({ filename: `${stem}.${EXT[format]}`, mime: MIME[format], base64: data.toString('base64') });

  if (format === 'csv' || format === 'json') {
    const runs = kind === 'experiment' ? await ctx.experimentRuns(ids) : await ctx.runs(ids);
    if (kind === 'run') return file(await exportRun(store, runs[0].id, format));
    return file(await exportRuns(store, runs.map((x) => x.id), format));
  }
  const data = await buildReportData(ctx, { kind, ids, keys });
  const html = renderHtml(data);
  if (format === 'html') return file(Buffer.from(html));
  if (format === 'latex') return file(Buffer.from(renderLatex(data)));
  return file(await pdf(html));
}

export function createWorkbench(opts: WorkbenchOptions): Workbench {
  const { store, runner } = opts;
  const series = new SeriesService(store);
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
  });
  const ctx = reportContext(store, series, info);

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
        algos: listAlgos().map((a) => ({ id: a.id, title: a.title, schema: a.schema, ...(a.envs ? { envs: a.envs } : {}) })),
        train: trainSchema,
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
      });
      return { rows: rows.map(toRunInfo), total };
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
      if (run.status === 'running' && run.runnerPid && run.runnerPid !== process.pid && !isAlive(run.runnerPid)) {
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
      if (run.status === 'running' || run.status === 'queued') {
        throw input('id', `run ${run.id} is ${run.status}; stop it before deleting it`);
      }
      const { checkpointPaths } = await store.deleteRun(run.id);
      series.invalidate(run.id);
      removeFiles(checkpointPaths);
      fs.rmSync(checkpointDir(store.file, run.id), { recursive: true, force: true });
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
      if (r.runIds.length > 500) throw input('runIds', 'at most 500 runs per comparison');
      const runs: RunRow[] = [];
      for (let i = 0; i < r.runIds.length; i++) runs.push(await requireRun(`runIds[${i}]`, r.runIds[i]));
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
        returnTotal: num(e.returnTotal),
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

    subscribe(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },

    async close() {
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
