/** Report files (HTML, PDF, LaTeX, CSV, JSON) for runs, experiments and comparisons. */
import os from 'node:os';
import type { HostInfo, ReportFile, ReportFormat, ReportRequest, ReportSmoothing } from '../../src-shared/api';
import type { Store } from '../db/store';
import type { RunRow } from '../db/types';
import { exportRun, exportRuns } from '../report/export';
import { renderHtml } from '../report/html';
import { renderLatex } from '../report/latex';
import { htmlToPdfChromium } from '../report/pdf';
import { buildReportData, type ReportContext } from '../report/report';
import { ApiError, errorBody, input, notFound } from './api-errors';
import { id, optEnum, REPORT_FORMATS, reqObj } from './api-input';
import { reportLimitProblem, unique } from '../../src-shared/report-limits';
import { ReportThread } from '../report/report-thread';
import { SeriesService } from './series';

const MIME: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  latex: 'application/x-tex; charset=utf-8',
};
const EXT: Record<ReportFormat, string> = { html: 'html', pdf: 'pdf', csv: 'csv', json: 'json', latex: 'tex' };

/** Names of all experiments, by id. */
export async function experimentNames(store: Store): Promise<Map<number, string>> {
  return new Map((await store.listExperiments()).map((e) => [e.id, e.name]));
}

/** Report context over a store (shared by the workbench and `cairn export`). */
export function reportContext(store: Store, series: SeriesService, info: () => Promise<HostInfo>, thread?: ReportThread): ReportContext {
  return {
    info,
    ...(thread ? { render: (data, format) => thread.run('render', { data, format }) } : {}),
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
    async sweepValues(runs) {
      const out = new Map<number, Record<string, unknown> | null>();
      for (const eid of new Set(runs.map((r) => r.experimentId).filter((e): e is number => e !== null))) {
        for (const r of await store.sweepRuns(eid)) out.set(r.id, r.values);
      }
      return out;
    },
    compare: async (runs, key, x, groupBy, plan) =>
      series.compare(runs, await experimentNames(store), { key, x, groupBy, maxPoints: 400, smoothing: plan.window, ema: plan.ema }),
  };
}

/**
 * `exportReport` without a runner, for `cairn export`: the same files the UI produces.
 * PDF uses headless Chromium.
 */
export async function exportReportFromStore(store: Store, req: ReportRequest, version: string): Promise<ReportFile> {
  const info = async (): Promise<HostInfo> => ({
    version,
    host: 'http',
    dbFile: store.file,
    backend: '-',
    cores: os.availableParallelism(),
    maxParallel: 0,
  });
  const thread = new ReportThread();
  const series = new SeriesService(store, undefined, thread);
  try {
    return await buildReport(store, reportContext(store, series, info, thread), req, (html) => htmlToPdfChromium(html));
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError(errorBody(err));
  } finally {
    await thread.close();
  }
}

/** The request's smoothing, checked (the field and the allowed values on a bad one). */
function reportSmoothing(v: unknown): ReportSmoothing | undefined {
  if (v === undefined || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof v !== 'object' || Array.isArray(v)) throw input('smoothing', 'expected {method: "none" | "ema" | "window", ...}');
  if (o.method === 'none') return { method: 'none' };
  if (o.method === 'ema') {
    if (typeof o.weight !== 'number' || !(o.weight >= 0 && o.weight < 1)) throw input('smoothing.weight', 'expected a number in [0, 1)');
    return { method: 'ema', weight: o.weight };
  }
  if (o.method === 'window') {
    if (!Number.isInteger(o.points) || (o.points as number) < 0 || (o.points as number) > 100_000) throw input('smoothing.points', 'expected an integer in [0, 100000]');
    return { method: 'window', points: o.points as number };
  }
  throw input('smoothing.method', 'expected one of none, ema, window');
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
  let keys: string[] | undefined;
  if (r.keys !== undefined && r.keys !== null) {
    if (!Array.isArray(r.keys) || r.keys.some((k) => typeof k !== 'string' || k === '')) throw input('keys', 'expected an array of metric names');
    keys = unique(r.keys as string[]);
  }
  // Caps before any per-id work (the same caps the CLI and the UI apply), then duplicates out:
  // a repeated run id would be read twice and counted as one more seed.
  const limit = reportLimitProblem({ kind, ids: r.ids, keys });
  if (limit) throw input(limit.field, limit.detail);
  const ids = unique(r.ids.map((v, i) => id(`ids[${i}]`, v)));
  if (kind === 'run' && ids.length !== 1) throw input('ids', 'a run report takes exactly one run id');
  const stem = `cairn-${kind}-${ids.join('-')}`.slice(0, 80);
  const file = (data: Buffer): ReportFile => ({ filename: `${stem}.${EXT[format]}`, mime: MIME[format], base64: data.toString('base64') });

  if (format === 'csv' || format === 'json') {
    const runs = kind === 'experiment' ? await ctx.experimentRuns(ids) : await ctx.runs(ids);
    if (kind === 'run') return file(await exportRun(store, runs[0].id, format));
    return file(await exportRuns(store, runs.map((x) => x.id), format));
  }
  const smoothing = reportSmoothing(r.smoothing);
  const data = await buildReportData(ctx, { kind, ids, keys, smoothing });
  const render = (f: 'html' | 'latex') => (ctx.render ? ctx.render(data, f) : Promise.resolve(f === 'latex' ? renderLatex(data) : renderHtml(data)));
  if (format === 'latex') return file(Buffer.from(await render('latex')));
  const html = await render('html');
  if (format === 'html') return file(Buffer.from(html));
  return file(await pdf(html));
}

