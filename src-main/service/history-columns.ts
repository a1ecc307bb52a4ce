/**
 * The history's chosen columns on the service side: checking a listRuns query's columns,
 * sort column and filters (errors name the field, as every API input does), and the
 * catalogue the column picker offers: the config fields of the envs and learners the history
 * holds (from their schemas) and the metric keys some run has summaries for.
 */
import type { HistoryColumnCatalogue, RunQuery } from '../../src-shared/api';
import { trainSchema } from '../../src-shared/config/experiment';
import { FILTER_OPS, parseColumn, type ColumnFilter } from '../../src-shared/history-columns';
import { getAlgo, getEnv } from '../../src-shared/registry';
import type { Store } from '../db/store';
import { MAX_COLUMNS, MAX_FILTERS } from '../db/modules/runs/columns';
import { input } from './api-errors';
import { isObj } from './api-input';

function checkId(field: string, v: unknown): string {
  const c = parseColumn(v);
  if (typeof c === 'string') throw input(field, c);
  return v as string;
}

/** The column part of a listRuns query, checked. */
export function checkColumnQuery(r: Record<string, unknown>): Pick<RunQuery, 'columns' | 'sortColumn' | 'columnFilters'> {
  const out: Pick<RunQuery, 'columns' | 'sortColumn' | 'columnFilters'> = {};
  if (r.columns !== undefined && r.columns !== null) {
    if (!Array.isArray(r.columns) || r.columns.length > MAX_COLUMNS) throw input('columns', `expected an array of at most ${MAX_COLUMNS} column ids`);
    out.columns = r.columns.map((c, i) => checkId(`columns[${i}]`, c));
  }
  if (r.sortColumn !== undefined && r.sortColumn !== null) out.sortColumn = checkId('sortColumn', r.sortColumn);
  if (r.columnFilters !== undefined && r.columnFilters !== null) {
    if (!Array.isArray(r.columnFilters) || r.columnFilters.length > MAX_FILTERS) {
      throw input('columnFilters', `expected an array of at most ${MAX_FILTERS} {column, op, value} filters`);
    }
    out.columnFilters = r.columnFilters.map((f, i): ColumnFilter => {
      const field = `columnFilters[${i}]`;
      if (!isObj(f)) throw input(field, 'expected {column, op, value}');
      const column = checkId(`${field}.column`, f.column);
      if (!FILTER_OPS.includes(f.op as ColumnFilter['op'])) throw input(`${field}.op`, `expected one of ${FILTER_OPS.join(', ')}, got ${JSON.stringify(f.op)}`);
      const v = f.value;
      const ok = (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 500);
      if (!ok) throw input(`${field}.value`, 'expected a finite number, true, false or text of at most 500 characters');
      return { column, op: f.op as ColumnFilter['op'], value: v as ColumnFilter['value'] };
    });
  }
  return out;
}

/** What the column picker offers for this history. */
export async function historyColumnCatalogue(store: Store): Promise<HistoryColumnCatalogue> {
  const [kinds, metricKeys] = await Promise.all([store.runKinds(), store.summaryKeys()]);
  const config = new Map<string, { path: string; doc: string; sources: string[] }>();
  const add = (section: string, schema: Record<string, { doc: string }>, source: string) => {
    for (const [name, spec] of Object.entries(schema)) {
      const path = `${section}.${name}`;
      const c = config.get(path);
      if (c) c.sources.push(source);
      else config.set(path, { path, doc: spec.doc, sources: [source] });
    }
  };
  add('train', trainSchema, 'training');
  for (const envId of [...new Set(kinds.map((k) => k.envId))].sort()) {
    const e = getEnv(envId);
    if (e) add('env', e.schema, envId);
  }
  for (const algoId of [...new Set(kinds.map((k) => k.algoId))].sort()) {
    const a = getAlgo(algoId);
    if (a) add('algo', a.schema, algoId);
  }
  // Episode metrics (no prefix) before the learners' prefixed stats (losses/..., charts/...).
  const metrics = [...metricKeys].sort((a, b) => Number(a.includes('/')) - Number(b.includes('/')) || a.localeCompare(b));
  return { config: [...config.values()], metrics };
}
