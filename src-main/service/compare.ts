/**
 * compare(): each run on a common x grid, runs grouped by (experiment, variant) with the mean
 * and a seeded 95% bootstrap band over seeds, each seed's final 10% summarised (mean, IQM, CI),
 * and the config fields that differ.
 */
import type { CompareGroup, CompareRequest, CompareResult, SeriesData, SummaryRow } from '../../src-shared/api';
import { diffExperiment, type ExperimentConfig } from '../../src-shared/config/experiment';
import { bootstrapBand, bootstrapCI } from '../../src-shared/stats/bootstrap';
import { toGrid } from '../../src-shared/stats/downsample';
import { iqm } from '../../src-shared/stats/iqm';
import { ema, movingAverage } from '../../src-shared/stats/smooth';
import type { RunRow } from '../db/types';
import { REPORT_BOOTSTRAP } from '../report/report';
import { axisOf, type SeriesService } from './series';

/** What a comparison computes from, once read: `ema` (a weight in (0, 1)), when given, replaces the moving average (reports of a run page). */
export type CompareOptions = Required<Omit<CompareRequest, 'runIds'>> & { ema?: number };

/** One run's series of the compared metric on the chosen x axis. */
export interface RawSeries {
  run: RunRow;
  x: Float64Array;
  y: Float64Array;
}

/** Read each run's series of `req.key` (the I/O half of a comparison; the rest is `compareSeries`). */
export async function readCompareSeries(series: Pick<SeriesService, 'full'>, runs: RunRow[], req: Pick<CompareOptions, 'key' | 'x'>): Promise<RawSeries[]> {
  const raw: RawSeries[] = [];
  for (const run of runs) {
    const s = await series.full(run, req.key);
    // Copies: the cached arrays may be longer than the series and keep growing.
    raw.push({ run, x: axisOf(s, req.x).slice(), y: s.value.slice() });
  }
  return raw;
}

/** Every run on a common grid, grouped, with bands, summaries and the config diff (reads, then computes here). */
export async function compareRuns(
  series: Pick<SeriesService, 'full'>,
  runs: RunRow[],
  experimentNames: Map<number, string>,
  req: CompareOptions,
): Promise<CompareResult> {
  return compareSeries(await readCompareSeries(series, runs, req), experimentNames, req);
}

/**
 * The CPU half of a comparison: grid, smoothing, seeded bootstrap bands and summaries. Pure,
 * so the report thread (`report/report-thread.ts`) runs it off the main thread.
 */
export function compareSeries(raw: RawSeries[], experimentNames: Map<number, string>, req: CompareOptions): CompareResult {
  const runs = raw.map((r) => r.run);
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
    const y = req.ema !== undefined && req.ema > 0 ? ema(r.y, req.ema) : req.smoothing > 1 ? movingAverage(r.y, req.smoothing) : r.y;
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

