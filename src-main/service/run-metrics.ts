/**
 * A run's declared metrics. Runs record their env's declarations when created (migration 4);
 * runs stored before that get them from the env registry for the run's config, and a run whose
 * env is no longer known gets bare keys, so old databases keep working.
 */
import { getEnv } from '../../src-shared/registry';
import { undeclaredMetrics, type MetricSpec } from '../../src-shared/metrics';
import type { RunRow } from '../db/types';

export function runMetricSpecs(r: Pick<RunRow, 'metricSpecs' | 'metricKeys' | 'config'>): MetricSpec[] {
  if (r.metricSpecs.length > 0) return r.metricSpecs;
  const { id, ...values } = r.config.env;
  const entry = getEnv(String(id));
  if (entry) {
    try {
      return [...entry.spec(values).metrics];
    } catch {
      // A config an older Cairn accepted and this one no longer does: fall through to keys.
    }
  }
  return undeclaredMetrics(r.metricKeys);
}
