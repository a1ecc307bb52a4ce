/**
 * listRuns' chosen columns (src-shared/history-columns.ts) as SQL: a config field from
 * `run_config_values`, a metric summary from `run_metric_summary` (both migration 7). Every
 * user-given part (path, key, filter value) is a bound parameter, never spliced into the SQL.
 */
import { FILTER_OPS, parseColumn, type ColumnFilter, type HistoryColumn } from '../../../../src-shared/history-columns';
import { invalid } from '../../validate';
import { summaryExpr } from '../summaries/statements';

export interface ColumnSql {
  id: string;
  column: HistoryColumn;
  expr: string;
  params: unknown[];
}

/** At most this many extra columns per query: each is a subquery per row on the page. */
export const MAX_COLUMNS = 24;
export const MAX_FILTERS = 24;

export function columnSql(file: string, what: string, id: unknown): ColumnSql {
  const c = parseColumn(id);
  if (typeof c === 'string') throw invalid(file, `${what}: ${c}`);
  // Config fields from their flattened copy (an index probe per row), not by parsing each config's JSON.
  if (c.kind === 'config') {
    return { id: id as string, column: c, expr: '(SELECT v.value FROM run_config_values v WHERE v.run_id = r.id AND v.path = ?)', params: [c.path] };
  }
  return { id: id as string, column: c, expr: summaryExpr(c.agg), params: [c.key] };
}

export function checkColumns(file: string, what: string, ids: unknown): ColumnSql[] {
  if (!Array.isArray(ids)) throw invalid(file, `${what} must be an array of column ids`);
  if (ids.length > MAX_COLUMNS) throw invalid(file, `${what}: at most ${MAX_COLUMNS} columns, got ${ids.length}`);
  const seen = new Set<string>();
  const out: ColumnSql[] = [];
  for (const id of ids) {
    const c = columnSql(file, what, id);
    if (!seen.has(c.id)) (seen.add(c.id), out.push(c));
  }
  return out;
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One filter as a WHERE condition and its parameters. */
export function filterSql(file: string, what: string, f: unknown): { cond: string; params: unknown[] } {
  if (!f || typeof f !== 'object') throw invalid(file, `${what} must be {column, op, value}`);
  const { column, op, value } = f as ColumnFilter;
  const c = columnSql(file, `${what}.column`, column);
  if (!FILTER_OPS.includes(op)) throw invalid(file, `${what}.op must be one of ${FILTER_OPS.join(', ')}, got ${JSON.stringify(op)}`);
  if (!(typeof value === 'string' && value.length <= 500) && !(typeof value === 'number' && Number.isFinite(value)) && typeof value !== 'boolean') {
    throw invalid(file, `${what}.value must be a finite number, true, false or text of at most 500 characters`);
  }
  if (op === 'contains') return { cond: `CAST(${c.expr} AS TEXT) LIKE ? ESCAPE '\\' COLLATE NOCASE`, params: [...c.params, likePattern(String(value))] };
  // JSON booleans read back as 1 and 0.
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  const sqlOp = op === '!=' ? 'IS NOT' : op;
  // A run without the value (NULL) fails every filter, including != (IS NOT would keep it).
  return { cond: `(${c.expr} IS NOT NULL AND ${c.expr} ${sqlOp} ?)`, params: [...c.params, ...c.params, v] };
}
