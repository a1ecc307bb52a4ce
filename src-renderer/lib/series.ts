/**
 * Helpers for metric series held as parallel x/y arrays (never mutated in place: stores
 * replace them, so Vue and ECharts see a new object).
 */
import type { XAxis } from '../../src-shared/api';

export interface XY {
  x: number[];
  y: number[];
}

/** x of a live metric point in the chosen axis units (wall time in epoch ms). */
export function pointX(p: { step: number; episode: number; wallTime: number }, axis: XAxis): number {
  return axis === 'step' ? p.step : axis === 'wall' ? p.wallTime : p.episode;
}

/**
 * Wall-time values as epoch milliseconds: hosts may send seconds; anything below 1e11 (year
 * 1973 in ms) is taken as seconds.
 */
export function wallToMs(x: number[]): number[] {
  return x.length > 0 && Math.abs(x[x.length - 1]) < 1e11 ? x.map((v) => v * 1000) : x;
}

/** New arrays with points appended, keeping x sorted (points older than the last are dropped). */
export function appendXY(s: XY, xs: readonly number[], ys: readonly number[]): XY {
  const x = s.x.slice();
  const y = s.y.slice();
  let last = x.length ? x[x.length - 1] : -Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] < last) continue;
    x.push(xs[i]);
    y.push(ys[i]);
    last = xs[i];
  }
  return { x, y };
}

/**
 * The overview (whole series, coarse) with the detailed points of [from, to] spliced in: the
 * chart keeps the full extent for its zoom slider while the visible window has full detail.
 */
export function spliceRange(overview: XY, detail: XY, from: number, to: number): XY {
  const x: number[] = [];
  const y: number[] = [];
  let i = 0;
  for (; i < overview.x.length && overview.x[i] < from; i++) {
    x.push(overview.x[i]);
    y.push(overview.y[i]);
  }
  for (let j = 0; j < detail.x.length; j++) {
    if (detail.x[j] < from || detail.x[j] > to) continue;
    x.push(detail.x[j]);
    y.push(detail.y[j]);
  }
  for (; i < overview.x.length; i++) {
    if (overview.x[i] <= to) continue;
    x.push(overview.x[i]);
    y.push(overview.y[i]);
  }
  return { x, y };
}

/** [x, y] pairs for ECharts. */
export function pairs(x: readonly number[], y: readonly number[]): [number, number][] {
  const n = Math.min(x.length, y.length);
  const out = new Array<[number, number]>(n);
  for (let i = 0; i < n; i++) out[i] = [x[i], y[i]];
  return out;
}
