/** Metrics: points -> JSON batches (exact numbers), rows -> typed-array series. */
import { exactReal, realParts, type RealParts } from '../../codec';
import type { MetricPoint, MetricSeries } from '../../types';
import { invalid } from '../../validate';

/** Points per INSERT statement: large enough to amortise the thread hop, small enough to overlap JS and SQLite. */
export const POINTS_PER_STATEMENT = 5000;

export interface SeriesRecord {
  step: number;
  episode: number;
  wall_time: number;
  value: number;
}

/**
 * Check a batch and drop the points without a value (null, undefined or NaN: the metric had
 * nothing this round). Throws INVALID naming the first bad point.
 */
export function checkPoints(file: string, runId: number, points: unknown): { kept: MetricPoint[]; keys: string[] } {
  if (!Array.isArray(points)) throw invalid(file, `appendMetrics(run ${runId}): points must be an array`);
  const kept: MetricPoint[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as MetricPoint;
    const bad = (why: string) => invalid(file, `appendMetrics(run ${runId}): point ${i}${typeof p?.key === 'string' ? ` (${p.key})` : ''} ${why}`);
    if (!p || typeof p !== 'object') throw bad('is not an object');
    if (typeof p.key !== 'string' || p.key === '') throw bad('needs a non-empty string key');
    if (typeof p.step !== 'number' || !Number.isFinite(p.step)) throw bad(`has step ${String(p.step)}, not a finite number`);
    if (typeof p.episode !== 'number' || !Number.isFinite(p.episode)) throw bad(`has episode ${String(p.episode)}, not a finite number`);
    if (typeof p.wallTime !== 'number' || !Number.isFinite(p.wallTime)) throw bad(`has wallTime ${String(p.wallTime)}, not a finite number`);
    const v = p.value as unknown;
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) continue;
    if (typeof v !== 'number') throw bad(`has value ${String(v)}, not a number`);
    kept.push(p);
    keys.add(p.key);
  }
  return { kept, keys: [...keys] };
}

/** The JSON parameters of INSERT_POINTS for `points`, built lazily one statement at a time. */
export function* pointBatches(points: readonly MetricPoint[], keyIds: ReadonlyMap<string, number>): Generator<string> {
  const parts: RealParts = { m: 0, e: 0 };
  let i = 0;
  while (i < points.length) {
    const end = Math.min(points.length, i + POINTS_PER_STATEMENT);
    let s = '[';
    while (i < end) {
      const q = points[i];
      let j = i + 1;
      while (j < end && points[j].step === q.step && points[j].episode === q.episode && points[j].wallTime === q.wallTime) j++;
      let keys = '';
      let mantissas = '';
      let exponents = '';
      for (let t = i; t < j; t++) {
        const p = points[t];
        realParts(p.value, parts);
        const sep = t > i ? ',' : '';
        keys += sep + keyIds.get(p.key);
        mantissas += sep + parts.m;
        exponents += sep + parts.e;
      }
      if (s.length > 1) s += ',';
      s += `[${exactReal(q.step)},${exactReal(q.episode)},${exactReal(q.wallTime)},[${keys}],[${mantissas}],[${exponents}]]`;
      i = j;
    }
    yield s + ']';
  }
}

export function toSeries(rows: SeriesRecord[]): MetricSeries {
  const n = rows.length;
  const out: MetricSeries = {
    step: new Float64Array(n),
    episode: new Float64Array(n),
    wallTime: new Float64Array(n),
    value: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    out.step[i] = r.step;
    out.episode[i] = r.episode;
    out.wallTime[i] = r.wall_time;
    out.value[i] = r.value;
  }
  return out;
}
