/**
 * Reading an env's declared metrics (see `MetricSpec`). Consumers ask for a role or for the
 * headline list; they never name an env's metric.
 */
import type { MetricRole, MetricSpec } from './envs/types';

export type { MetricRole, MetricSpec };

/** The metric playing `role` (success measure, team return), if the env declares one. */
export function metricByRole(metrics: readonly MetricSpec[], role: MetricRole): MetricSpec | undefined {
  return metrics.find((m) => m.role === role);
}

/** Metrics shown by default: the role metrics first (success, then return), then the other headlines. */
export function headlineMetrics(metrics: readonly MetricSpec[]): MetricSpec[] {
  const order = (m: MetricSpec) => (m.role === 'success' ? 0 : m.role === 'return' ? 1 : 2);
  return metrics.filter((m) => m.role != null || m.headline).sort((a, b) => order(a) - order(b));
}

/** Specs for metric keys that have no declaration (runs stored before metrics were declared). */
export function undeclaredMetrics(keys: readonly string[]): MetricSpec[] {
  return keys.map((key) => ({ key, title: key }));
}
