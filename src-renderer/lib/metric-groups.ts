/**
 * Metric keys as the renderer shows them: grouped by prefix (`losses/`, `charts/`, ...; the
 * env's episode metrics, which have none, first), with the run's declared metrics
 * (`RunInfo.metrics`) giving titles and the default selection. No env's metric name appears
 * here: roles and headline flags come from the run.
 */
import type { MetricSpec } from '../../src-shared/metrics';
import { headlineMetrics, metricByRole } from '../../src-shared/metrics';
import type { StatGroup } from '../../src-shared/stat-groups';

export interface MetricGroup {
  /** '' for the env's episode metrics. */
  prefix: string;
  label: string;
  keys: string[];
  /** The declaring learner's (or loop's) title and note, for declared groups. */
  title?: string;
  doc?: string;
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

/**
 * Learner internals: the learner's own stats grouped, its losses first, then the groups the
 * run's learner and loop declare (titled, in their order), then the other learner prefixes,
 * then the rest A-Z. At most `max` keys in all, taken group by group in that order, so a cap
 * cuts undeclared stats before declared diagnostics; `hidden` counts what it cut.
 */
export function learnerGroups(keys: readonly string[], declared: readonly StatGroup[], max = Infinity): { groups: MetricGroup[]; hidden: number } {
  const all = groupMetricKeys(learnerKeys(keys));
  const byPrefix = new Map(all.map((g) => [g.prefix, g]));
  const order: MetricGroup[] = [];
  const take = (g: MetricGroup | undefined, d?: StatGroup) => {
    if (!g || order.includes(g)) return;
    order.push(d ? { ...g, title: d.title, ...(d.doc ? { doc: d.doc } : {}) } : g);
  };
  take(byPrefix.get('losses'));
  for (const d of declared) take(byPrefix.get(d.prefix), d);
  for (const g of all) if (!order.some((o) => o.prefix === g.prefix)) order.push(g);
  let left = max;
  let hidden = 0;
  const groups: MetricGroup[] = [];
  for (const g of order) {
    const n = Math.max(0, Math.min(g.keys.length, left));
    hidden += g.keys.length - n;
    left -= n;
    if (n > 0) groups.push(n === g.keys.length ? g : { ...g, keys: g.keys.slice(0, n) });
  }
  return { groups, hidden };
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
