/**
 * Chart x-axis choices and tick labels shared by the run and compare charts.
 *
 * `relative` is wall time since the run's first point, in seconds (TensorBoard's "relative"):
 * the host has no such axis, so the renderer asks for `wall` and subtracts the origin. A chart
 * whose points share one x gets an explicit window instead of ECharts' default, which for a
 * time axis with one point spans about two days.
 */
import type { XAxis } from '../../src-shared/api';
import { fmtClock } from './format';

export type ChartX = XAxis | 'relative';
export const CHART_X: readonly ChartX[] = ['episode', 'step', 'relative', 'wall'];

/** A training round is what the host's `episode` axis counts (one update per round). */
export const X_LABEL: Record<ChartX, string> = {
  episode: 'rounds',
  step: 'env steps',
  relative: 'relative time',
  wall: 'wall time',
};

export function parseChartX(v: string | undefined): ChartX {
  return CHART_X.includes(v as ChartX) ? (v as ChartX) : 'episode';
}

/** The axis to ask the host for. */
export function hostAxis(x: ChartX): XAxis {
  return x === 'relative' ? 'wall' : x;
}

/**
 * A tick label: enough significant digits that distinct ticks never print alike ("0.025" and
 * "0.03", not "0.03" twice), without float noise (0.30000000000000004 prints "0.3").
 */
export function fmtTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return trimExp(v.toExponential(3));
  return String(Number(v.toPrecision(6)));
}

function trimExp(s: string): string {
  return s.replace(/\.?0+e/, 'e');
}

/**
 * Formatters made once: `toLocaleString` builds a new Intl formatter on every call, and ECharts
 * formats each tick label several times per chart update (fmtX was the top self-time function
 * of the renderer's own code in `bench --ui`'s profile while runs stream).
 */
const INT_FMT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** The options `toLocaleTimeString()` uses by default, in the page's locale. */
const TIME_FMT = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: 'numeric', second: 'numeric' });

/** Label of an x value in the given axis units (relative: seconds; wall: epoch ms). */
export function fmtX(v: number, x: ChartX): string {
  if (x === 'relative') return fmtClock(v);
  if (x === 'wall') return TIME_FMT.format(new Date(v));
  return INT_FMT.format(Math.round(v));
}

/**
 * An explicit [min, max] where the data alone gives a degenerate axis (no or one distinct x),
 * else undefined (ECharts' dataMin/dataMax).
 */
export function degenerateWindow(xs: readonly number[], x: ChartX): { min: number; max: number } | undefined {
  if (xs.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of xs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi > lo) return undefined;
  const half = x === 'wall' ? 30_000 : x === 'relative' ? 30 : 1;
  return { min: x === 'wall' ? lo - half : Math.max(0, lo - half), max: hi + half };
}
