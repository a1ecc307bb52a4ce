/** Run metric summaries: a batch of points -> per-key aggregates (the UPSERT_SUMMARIES parameter). */
import { exactReal } from '../../codec';
import type { MetricPoint } from '../../types';

interface Acc {
  n: number;
  sum: number;
  min: number;
  max: number;
  lastEpisode: number;
  last: number;
}

/**
 * The JSON parameter of UPSERT_SUMMARIES for a checked batch (NaN already dropped); infinite
 * values are left out, as in the backfill. Null when no key has a finite point.
 */
export function summaryBatch(points: readonly MetricPoint[], keyIds: ReadonlyMap<string, number>): string | null {
  const acc = new Map<string, Acc>();
  for (const p of points) {
    const v = p.value;
    if (!Number.isFinite(v)) continue;
    const a = acc.get(p.key);
    if (!a) {
      acc.set(p.key, { n: 1, sum: v, min: v, max: v, lastEpisode: p.episode, last: v });
      continue;
    }
    a.n++;
    a.sum += v;
    if (v < a.min) a.min = v;
    if (v > a.max) a.max = v;
    // Points of a batch come in round order; a later point of the same round wins, as in the table.
    if (p.episode >= a.lastEpisode) {
      a.lastEpisode = p.episode;
      a.last = v;
    }
  }
  if (acc.size === 0) return null;
  const rows: string[] = [];
  for (const [key, a] of acc) {
    const id = keyIds.get(key);
    if (id === undefined) continue;
    rows.push(`[${id},${a.n},${exactReal(a.sum)},${exactReal(a.min)},${exactReal(a.max)},${exactReal(a.lastEpisode)},${exactReal(a.last)}]`);
  }
  return rows.length ? `[${rows.join(',')}]` : null;
}
