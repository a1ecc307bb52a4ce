/**
 * Report data: what the HTML, PDF and LaTeX renderers show for a run, an experiment (all its
 * seeds) or a comparison (any runs), gathered through a small context so the workbench and
 * `cairn export` build identical reports.
 */
import { runMetricSpecs } from '../service/run-metrics';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { CompareResult, HostInfo, ReportSmoothing, RunInfo, XAxis } from '../../src-shared/api';
import { headlineMetrics, metricByRole } from '../../src-shared/metrics';
import type { RunRow } from '../db/types';
import { reportRunsProblem } from '../../src-shared/report-limits';
import { sweepGrid, type SweepGrid } from './sweep-grid';

/** Bootstrap settings of every report and comparison (seeded: the same data gives the same CIs). */
export const REPORT_BOOTSTRAP = { resamples: 10_000, bandResamples: 1000, seed: 0 } as const;

/**
 * Metrics charted when a report request names none: the headline metrics the runs' envs
 * declare (success and return first), in the first run's order, where the runs have them.
 */
export function defaultReportKeys(runs: readonly Pick<RunRow, 'metricSpecs' | 'metricKeys' | 'config'>[]): string[] {
  const keys: string[] = [];
  for (const r of runs) for (const m of headlineMetrics(runMetricSpecs(r))) if (!keys.includes(m.key)) keys.push(m.key);
  return keys;
}

/** The metric keys that are some run's success measure (the report adds their variance across seeds). */
export function successKeys(runs: readonly Pick<RunInfo, 'metrics'>[]): Set<string> {
  const out = new Set<string>();
  for (const r of runs) {
    const m = metricByRole(r.metrics, 'success');
    if (m) out.add(m.key);
  }
  return out;
}

/** A report request that cannot be satisfied as asked (the API maps it to an input error). */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface ReportContext {
  info(): Promise<HostInfo>;
  runs(ids: number[]): Promise<RunRow[]>;
  experimentRuns(experimentIds: number[]): Promise<RunRow[]>;
  experimentNames(): Promise<Map<number, string>>;
  metricKeys(runId: number): Promise<string[]>;
  compare(runs: RunRow[], key: string, x: XAxis, groupBy: 'experiment' | 'run', smoothing: SmoothingPlan): Promise<CompareResult>;
  /** The report's HTML or LaTeX text (the host renders in its report thread). */
  render?(data: ReportData, format: 'html' | 'latex'): Promise<string>;
  /** Swept values of each run of a sweep (absent or null for other runs). */
  sweepValues?(runs: RunRow[]): Promise<Map<number, Record<string, unknown> | null>>;
}

/** How a report smooths each run: a moving-average window (points) or an EMA weight, and the words for it. */
export interface SmoothingPlan {
  window: number;
  ema?: number;
  text: string;
}

/**
 * The smoothing a report applies, as requested (what the screen showed) or, when the request
 * names none (`cairn export`), a moving average over 2% of the rounds: raw per-round means of
 * 32 episodes are too noisy to read. Summaries always use raw points.
 */
export function smoothingPlan(s: ReportSmoothing | undefined, runs: readonly { episodesDone: number }[]): SmoothingPlan {
  if (!s) {
    const w = Math.max(1, Math.round(Math.max(0, ...runs.map((r) => r.episodesDone)) / 50));
    return { window: w, text: `each run smoothed with a trailing moving average over 2% of its rounds (${w} point${w === 1 ? '' : 's'})` };
  }
  if (s.method === 'none') return { window: 0, text: 'no smoothing (each point is one round’s mean)' };
  if (s.method === 'ema') {
    return { window: 0, ema: s.weight, text: `each run smoothed with a debiased exponential moving average of weight ${s.weight} (as on the run page)` };
  }
  return { window: s.points, text: `each run smoothed with a trailing moving average over ${s.points} points (as on the compare page)` };
}

export interface ReportData {
  title: string;
  kind: 'run' | 'experiment' | 'compare';
  createdAt: number;
  runs: RunInfo[];
  charts: { key: string; x: XAxis; result: CompareResult }[];
  configDiff: CompareResult['configDiff'];
  host: HostInfo & { node: string; platform: string; hostname: string; tfjs?: string };
  bootstrap: { resamples: number; seed: number };
  /** The smoothing of every chart, in words. */
  smoothing: string;
  /** Whether the charted metrics were chosen (on screen) or defaulted to the headlines. */
  keysChosen: boolean;
  /** An experiment that is a sweep over one or two keys: the first metric by swept values. */
  sweep?: SweepGrid | null;
}

function tfjsVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

export async function buildReportData(
  ctx: ReportContext,
  req: { kind: 'run' | 'experiment' | 'compare'; ids: number[]; keys?: string[]; smoothing?: ReportSmoothing },
  now = Date.now(),
): Promise<ReportData> {
  const runs = req.kind === 'experiment' ? await ctx.experimentRuns(req.ids) : await ctx.runs(req.ids);
  const tooMany = reportRunsProblem(runs.length);
  if (tooMany) throw new ReportInputError(tooMany.field, tooMany.detail);
  const names = await ctx.experimentNames();
  let keys = req.keys;
  const have = new Set<string>();
  for (const r of runs) for (const k of await ctx.metricKeys(r.id)) have.add(k);
  const unknown = (keys ?? []).filter((k) => !have.has(k));
  if (unknown.length > 0) {
    throw new ReportInputError('keys', `no run has metric ${unknown.map((k) => JSON.stringify(k)).join(', ')}; available: ${[...have].sort().join(', ') || 'none yet'}`);
  }
  if (!keys || keys.length === 0) {
    keys = defaultReportKeys(runs).filter((k) => have.has(k));
    if (keys.length === 0) keys = [...have].sort().slice(0, 3);
  }
  const groupBy = req.kind === 'run' ? 'run' : 'experiment';
  const plan = smoothingPlan(req.smoothing, runs);
  const charts = [];
  for (const key of keys) charts.push({ key, x: 'episode' as XAxis, result: await ctx.compare(runs, key, 'episode', groupBy, plan) });
  const title =
    req.kind === 'run'
      ? `Run ${runs[0].id}: ${runs[0].name}`
      : req.kind === 'experiment'
        ? req.ids.map((e) => `Experiment ${e}${names.has(e) ? `: ${names.get(e)}` : ''}`).join(', ')
        : `Comparison of runs ${runs.map((r) => r.id).join(', ')}`;
  const info = await ctx.info();
  let sweep: SweepGrid | null = null;
  if (req.kind === 'experiment' && ctx.sweepValues && charts[0]) {
    const values = await ctx.sweepValues(runs);
    sweep = sweepGrid(runs.map((r) => ({ values: values.get(r.id) ?? null, summary: r.summary })), charts[0].key);
  }
  return {
    sweep,
    title,
    kind: req.kind,
    createdAt: now,
    runs: runs.map((r) => ({ ...r, metrics: runMetricSpecs(r) })),
    charts,
    configDiff: charts[0]?.result.configDiff ?? [],
    host: { ...info, node: process.version, platform: `${process.platform} ${os.release()} ${process.arch}`, hostname: os.hostname(), tfjs: tfjsVersion() },
    bootstrap: { resamples: REPORT_BOOTSTRAP.resamples, seed: REPORT_BOOTSTRAP.seed },
    smoothing: plan.text,
    keysChosen: !!req.keys && req.keys.length > 0,
  };
}
