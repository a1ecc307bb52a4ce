/**
 * Per-round metric points: the mean of each episode metric over the round's episodes (nulls
 * skipped, so a metric that is null in some episodes averages the episodes that have it), plus the
 * learner's statistics. One point per key per round, as the paper logs per 32-episode batch.
 */
import type { EpisodeRecord } from '../../src-shared/envs/types';
import type { MetricOut } from './protocol';

export function roundMeans(metricKeys: readonly string[], episodes: readonly EpisodeRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of metricKeys) {
    let sum = 0;
    let n = 0;
    for (const ep of episodes) {
      const v = ep.metrics[key];
      if (v !== null && v !== undefined && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    if (n > 0) out[key] = sum / n;
  }
  return out;
}

export function roundPoints(
  metricKeys: readonly string[],
  episodes: readonly EpisodeRecord[],
  stats: Record<string, number>,
  at: { step: number; episode: number; wallTime: number },
): MetricOut[] {
  const points: MetricOut[] = [];
  const push = (key: string, value: number) => {
    if (Number.isFinite(value)) points.push({ key, value, ...at });
  };
  for (const [k, v] of Object.entries(roundMeans(metricKeys, episodes))) push(k, v);
  for (const [k, v] of Object.entries(stats)) push(k, v);
  return points;
}
