/**
 * Metric keys as the renderer shows them: grouped by prefix (`losses/`, `charts/`, ...; the
 * env's episode metrics, which have none, first), with the run's declared metrics
 * (`RunInfo.metrics`) giving titles and the default selection. No env's metric name appears
 * here: roles and headline flags come from the run.
 */
import type { MetricSpec } from '../../src-shared/metrics';
import { headlineMetrics, metricByRole } from '../../src-shared/metrics';

export interface MetricGroup {
  /** '' for the env's episode metrics. */
  prefix: string;
  label: string;
  keys: string[];
}

/** Prefixes whose stats are the learner's own (its losses and diagnostics), in display order. */
export const LEARNER_PREFIXES = ['losses', 'charts', 'diagnostics', 'grad', 'optim'] as const;

export function metricPrefix(key: string): string {
  const i = key.indexOf('/');
  return i > 0 ? key.slice(0, i) : '';
}

export function groupLabel(prefix: string): string {
  return prefix === '' ? 'episode metrics' : `${prefix}/`;
}

/** Keys grouped by prefix: episode metrics first, then the learner prefixes, then the rest A-Z. */
export function groupMetricKeys(keys: readonly string[]): MetricGroup[] {
  const by = new Map<string, string[]>();
  for (const k of keys) {
    const p = metricPrefix(k);
    let list = by.get(p);
    if (!list) by.set(p, (list = []));
    list.push(k);
  }
  const rank = (p: string) => (p === '' ? -1 : (LEARNER_PREFIXES as readonly string[]).indexOf(p) >= 0 ? (LEARNER_PREFIXES as readonly string[]).indexOf(p) : 100);
  return [...by.keys()]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((prefix) => ({ prefix, label: groupLabel(prefix), keys: [...by.get(prefix)!].sort() }));
}

/** The learner's own stats: anything with a prefix (the env's episode metrics have none). */
export function learnerKeys(keys: readonly string[]): string[] {
  return keys.filter((k) => metricPrefix(k) !== '');
}

const ENTROPY = /entropy/i;

/**
 * What a run page charts first: the run's headline metrics (success and return roles first),
 * then the learner's losses and entropies, at most `max` in all.
 */
export function defaultChartKeys(keys: readonly string[], declared: readonly MetricSpec[], max = 8): string[] {
  const have = new Set(keys);
  const out: string[] = [];
  const add = (k: string) => {
    if (have.has(k) && !out.includes(k) && out.length < max) out.push(k);
  };
  for (const m of headlineMetrics(declared)) add(m.key);
  const sorted = [...keys].sort();
  for (const k of sorted) if (metricPrefix(k) === 'losses' && !ENTROPY.test(k)) add(k);
  for (const k of sorted) if (ENTROPY.test(k)) add(k);
  if (out.length === 0) for (const k of sorted.slice(0, 4)) add(k);
  return out;
}

/** The key of the metric with a role, if the run declares one and has it. */
export function roleKey(declared: readonly MetricSpec[], role: 'success' | 'return'): string | null {
  return metricByRole(declared, role)?.key ?? null;
}

/** A metric's title from the declarations, else its key. */
export function metricTitle(declared: readonly MetricSpec[], key: string): string {
  return declared.find((m) => m.key === key)?.title ?? key;
}
