/**
 * Time to convergence of a training curve (F2A2 spec §6.4, Fig. 7b, DESIGN CHOICE there): the
 * first epoch (round) at which the 10-point moving average of the episode reward reaches 95%
 * of its final plateau, the plateau being the mean of the last 10% of points. Reported in
 * rounds and in wall-clock seconds from the run's first point.
 *
 * "95% of the plateau" is read as 95% of the way from the curve's start (its first moving
 * average) to the plateau: identical to the spec's wording for a curve that starts at 0, and
 * still meaningful for battle returns, which start negative (a literal 0.95 x plateau is above
 * a negative plateau, so a rising curve would cross it late or never). A curve whose plateau
 * equals its start converges at its first point.
 */
import type { MetricSeries } from '../db/types';
import { escapeXml } from './svg';
import { fmtNum } from './html';

export const CONVERGENCE_WINDOW = 10;
export const CONVERGENCE_FRACTION = 0.95;

export interface Convergence {
  /** Round (the series' episode column) of the first crossing. */
  readonly epoch: number;
  /** Seconds from the first point to the crossing. */
  readonly seconds: number;
  readonly plateau: number;
  readonly start: number;
}

/** The moving average over the last `w` points (fewer at the start). */
export function movingAverage(xs: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(xs.length);
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    if (i >= w) s -= xs[i - w];
    out[i] = s / Math.min(i + 1, w);
  }
  return out;
}

/** Convergence of one run's series; null with fewer than `window` points. */
export function convergenceTime(series: MetricSeries, window = CONVERGENCE_WINDOW, fraction = CONVERGENCE_FRACTION): Convergence | null {
  const n = series.value.length;
  if (n < window) return null;
  const ma = movingAverage(series.value, window);
  const tail = Math.max(1, Math.ceil(n / 10));
  let plateau = 0;
  for (let i = n - tail; i < n; i++) plateau += series.value[i];
  plateau /= tail;
  const start = ma[window - 1];
  const target = start + fraction * (plateau - start);
  const up = plateau >= start;
  for (let i = window - 1; i < n; i++) {
    if (up ? ma[i] >= target : ma[i] <= target) {
      return { epoch: series.episode[i], seconds: (series.wallTime[i] - series.wallTime[0]) / 1000, plateau, start };
    }
  }
  // The moving average lags the plateau's raw mean; the last point is the latest it can be.
  return { epoch: series.episode[n - 1], seconds: (series.wallTime[n - 1] - series.wallTime[0]) / 1000, plateau, start };
}

export interface ConvergenceRow {
  readonly variant: string;
  /** Per finished seed. */
  readonly runs: readonly Convergence[];
}

function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function summary(r: ConvergenceRow): { epoch: number | null; seconds: number | null; plateau: number | null; n: number } {
  return { epoch: mean(r.runs.map((c) => c.epoch)), seconds: mean(r.runs.map((c) => c.seconds)), plateau: mean(r.runs.map((c) => c.plateau)), n: r.runs.length };
}

export function convergenceText(key: string, rows: readonly ConvergenceRow[]): string {
  const lines = [`Time to convergence (${key}: first round where the ${CONVERGENCE_WINDOW}-point moving average is ${CONVERGENCE_FRACTION * 100}% of the way to the last-10% plateau; mean over seeds)`];
  const w = Math.max(24, ...rows.map((r) => r.variant.length));
  lines.push(`${'variant'.padEnd(w)} ${'rounds'.padStart(8)} ${'seconds'.padStart(9)} ${'plateau'.padStart(9)} seeds`);
  for (const r of rows) {
    const s = summary(r);
    lines.push(`${r.variant.padEnd(w)} ${fmtNum(s.epoch).padStart(8)} ${fmtNum(s.seconds).padStart(9)} ${fmtNum(s.plateau).padStart(9)} ${s.n}`);
  }
  return lines.join('\n') + '\n';
}

export function convergenceHtml(key: string, rows: readonly ConvergenceRow[]): string {
  const body = rows
    .map((r) => {
      const s = summary(r);
      return `<tr><td>${escapeXml(r.variant)}</td><td>${fmtNum(s.epoch)}</td><td>${fmtNum(s.seconds)}</td><td>${fmtNum(s.plateau)}</td><td>${s.n}</td></tr>`;
    })
    .join('');
  return (
    `<section class="convergence"><h2>Time to convergence</h2><p>${escapeXml(key)}: the first round at which the ${CONVERGENCE_WINDOW}-point moving average ` +
    `is ${CONVERGENCE_FRACTION * 100}% of the way from its start to the plateau (mean of the last 10% of rounds); mean over seeds. F2A2 Fig. 7b: it should not grow much with the army size.</p>` +
    `<table><thead><tr><th>variant</th><th>rounds</th><th>seconds</th><th>plateau</th><th>seeds</th></tr></thead><tbody>${body}</tbody></table></section>`
  );
}
