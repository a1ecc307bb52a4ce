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
    compare: async (runs, key, x, groupBy, plan) =>
      series.compare(runs, await experimentNames(store), { key, x, groupBy, maxPoints: 400, smoothing: plan.window, ema: plan.ema }),
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
  const smoothing = reportSmoothing(r.smoothing);
  const data = await buildReportData(ctx, { kind, ids, keys, smoothing });
  const html = renderHtml(data);
  if (format === 'html') return file(Buffer.from(html));
  if (format === 'latex') return file(Buffer.from(renderLatex(data)));
  return file(await pdf(html));
}

