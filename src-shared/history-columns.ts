/**
 * Chosen columns of the run history (as MLflow and W&B offer): any resolved config field
 * (`config:algo.lr`, `config:env.numAgents`) or a summary of a metric over the run's rounds
 * (`metric:final:<key>`, also mean, max and min). The host computes, sorts and filters them in
 * SQL (listRuns), so the renderer never loads all runs; ids are plain strings so they travel in
 * queries, URLs and settings unchanged.
 */

export const SUMMARY_AGGS = ['final', 'mean', 'max', 'min'] as const;
export type SummaryAgg = (typeof SUMMARY_AGGS)[number];

export const AGG_TITLES: Record<SummaryAgg, string> = {
  final: 'final',
  mean: 'mean',
  max: 'max',
  min: 'min',
};

export type HistoryColumn = { kind: 'config'; path: string } | { kind: 'metric'; agg: SummaryAgg; key: string };

/** A config path: section, then a field name (nested fields are not part of the schema). */
const CONFIG_PATH = /^(env|algo|train)\.[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_KEY = 200;

/** Filter operators; `contains` matches text case-insensitively. */
export const FILTER_OPS = ['<', '<=', '>', '>=', '=', '!=', 'contains'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface ColumnFilter {
  column: string;
  op: FilterOp;
  value: number | string | boolean;
}

/** Parse a column id; a string is the reason it is not one. */
export function parseColumn(id: unknown): HistoryColumn | string {
  if (typeof id !== 'string') return 'expected a column id such as "config:algo.lr" or "metric:final:<metric key>"';
  if (id.startsWith('config:')) {
    const path = id.slice('config:'.length);
    return CONFIG_PATH.test(path) ? { kind: 'config', path } : `config column "${path}": expected env.<field>, algo.<field> or train.<field>`;
  }
  if (id.startsWith('metric:')) {
    const rest = id.slice('metric:'.length);
    const colon = rest.indexOf(':');
    const agg = rest.slice(0, colon) as SummaryAgg;
    const key = rest.slice(colon + 1);
    if (colon < 0 || !SUMMARY_AGGS.includes(agg)) return `metric column "${id}": expected metric:<${SUMMARY_AGGS.join('|')}>:<metric key>`;
    if (key === '' || key.length > MAX_KEY) return `metric column "${id}": the metric key must have 1 to ${MAX_KEY} characters`;
    return { kind: 'metric', agg, key };
  }
  return `unknown column "${id}": expected config:<section.field> or metric:<${SUMMARY_AGGS.join('|')}>:<metric key>`;
}

export function columnId(c: HistoryColumn): string {
  return c.kind === 'config' ? `config:${c.path}` : `metric:${c.agg}:${c.key}`;
}

/** Header text: the field path, or "key (final)". */
export function columnLabel(c: HistoryColumn): string {
  return c.kind === 'config' ? c.path : `${c.key} (${AGG_TITLES[c.agg]})`;
}

/**
 * A filter as typed in a column's filter box: `>0.5`, `<= 3`, `!=pg`, `=true`, a bare number
 * (equals) or bare text (contains). Null for an empty box.
 */
export function parseFilterText(column: string, text: string): ColumnFilter | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^(<=|>=|!=|<|>|=)\s*(.*)$/.exec(t);
  const op = (m ? m[1] : null) as FilterOp | null;
  const raw = (m ? m[2] : t).trim();
  const value = literal(raw);
  if (op) return { column, op, value };
  return typeof value === 'number' || typeof value === 'boolean' ? { column, op: '=', value } : { column, op: 'contains', value: raw };
}

function literal(raw: string): number | string | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) {
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
  }
  return raw;
}

/** The filter as its box shows it. */
export function filterText(f: ColumnFilter): string {
  if (f.op === 'contains') return String(f.value);
  return `${f.op}${String(f.value)}`;
}
