/** Runs: database records <-> domain rows, and listRuns queries -> SQL fragments. */
import type { ExperimentConfig } from '../../../../src-shared/config/experiment';
import type { MetricSpec } from '../../../../src-shared/metrics';
import { fromJson, toJson } from '../../codec';
import {
  RUN_ORDERS,
  RUN_STATUSES,
  type ListRunsQuery,
  type NewRun,
  type RunPatch,
  type RunRow,
  type RunStatus,
} from '../../types';
import { checkFinite, checkInt, checkOptionalInt, checkOptionalString, checkString, invalid } from '../../validate';
import { RUN_FILTERS, RUN_ORDER, RUN_PATCH_COLUMNS } from './statements';
import { checkColumns, columnSql, filterSql, MAX_FILTERS, type ColumnSql } from './columns';

export interface RunRecord {
  id: number;
  experiment_id: number | null;
  name: string;
  preset: string | null;
  env_id: string;
  algo_id: string;
  config: string;
  seed: number;
  status: RunStatus;
  backend: string | null;
  host: string;
  runner_pid: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
  episodes_total: number;
  episodes_done: number;
  env_steps: number;
  error: string | null;
  summary: string | null;
  stop_requested: number;
  notes: string;
  metric_keys: string;
  metric_specs: string;
  variant: string | null;
  runner_host: string | null;
  runner_start: string | null;
  heartbeat_at: number | null;
  tags: string;
}

export function toRunRow(r: RunRecord): RunRow {
  return {
    id: r.id,
    experimentId: r.experiment_id,
    name: r.name,
    preset: r.preset,
    envId: r.env_id,
    algoId: r.algo_id,
    config: JSON.parse(r.config) as ExperimentConfig,
    seed: r.seed,
    status: r.status,
    backend: r.backend,
    host: r.host,
    runnerPid: r.runner_pid,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    updatedAt: r.updated_at,
    episodesTotal: r.episodes_total,
    episodesDone: r.episodes_done,
    envSteps: r.env_steps,
    error: r.error,
    summary: fromJson<Record<string, number | null>>(r.summary),
    stopRequested: r.stop_requested === 1,
    notes: r.notes,
    metricKeys: JSON.parse(r.metric_keys) as string[],
    metricSpecs: JSON.parse(r.metric_specs) as MetricSpec[],
    variant: r.variant,
    runnerHost: r.runner_host,
    runnerStart: r.runner_start,
    heartbeatAt: r.heartbeat_at,
    tags: JSON.parse(r.tags) as string[],
  };
}

const ROLES = ['success', 'return'];

function checkMetricSpecs(file: string, what: string, v: unknown): MetricSpec[] {
  if (!Array.isArray(v)) throw invalid(file, `${what} must be an array of metric declarations`);
  for (const [i, m] of v.entries()) {
    const o = m as Record<string, unknown>;
    if (!o || typeof o !== 'object' || typeof o.key !== 'string' || typeof o.title !== 'string') {
      throw invalid(file, `${what}[${i}] must be { key: string, title: string, ... }`);
    }
    if (o.role !== undefined && !ROLES.includes(o.role as string)) throw invalid(file, `${what}[${i}].role must be one of ${ROLES.join(', ')}`);
  }
  return v as MetricSpec[];
}

function checkStringArray(file: string, what: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalid(file, `${what} must be an array of strings`);
  return v as string[];
}

/** Parameters of INSERT_RUN, checked. */
export function runInsertParams(file: string, r: NewRun, now: number): unknown[] {
  const what = 'createRun';
  const config = r?.config;
  if (!config || typeof config !== 'object' || !config.env || !config.algo || !config.train) {
    throw invalid(file, `${what}: config must be a resolved ExperimentConfig { env, algo, train }`);
  }
  return [
    checkOptionalInt(file, `${what}: experimentId`, r.experimentId, 1),
    checkString(file, `${what}: name`, r.name, { nonEmpty: true }),
    checkOptionalString(file, `${what}: preset`, r.preset),
    checkString(file, `${what}: config.env.id`, config.env.id, { nonEmpty: true }),
    checkString(file, `${what}: config.algo.id`, config.algo.id, { nonEmpty: true }),
    toJson(config),
    checkInt(file, `${what}: seed`, r.seed),
    checkString(file, `${what}: host`, r.host),
    now,
    now,
    checkInt(file, `${what}: episodesTotal`, r.episodesTotal, 0),
    toJson(checkStringArray(file, `${what}: metricKeys`, r.metricKeys)),
    toJson(checkMetricSpecs(file, `${what}: metricSpecs`, r.metricSpecs ?? [])),
    checkOptionalString(file, `${what}: variant`, r.variant),
  ];
}

export function checkStatus(file: string, what: string, v: unknown): RunStatus {
  if (!RUN_STATUSES.includes(v as RunStatus)) {
    throw invalid(file, `${what} must be one of ${RUN_STATUSES.join(', ')}, got ${String(v)}`);
  }
  return v as RunStatus;
}

function checkSummary(file: string, v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(file, 'updateRun: summary must be an object of numbers or null');
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== null && typeof x !== 'number') throw invalid(file, `updateRun: summary.${k} must be a number or null`);
  }
  return toJson(v);
}

/** The columns and values an updateRun patch writes, checked. Unknown fields are an error. */
export function runPatchColumns(file: string, patch: Partial<RunPatch>): { columns: string[]; params: unknown[] } {
  const columns: string[] = [];
  const params: unknown[] = [];
  const what = (f: string) => `updateRun: ${f}`;
  for (const [field, value] of Object.entries(patch ?? {})) {
    if (value === undefined) continue;
    const column = RUN_PATCH_COLUMNS[field as keyof RunPatch];
    if (!column) throw invalid(file, `${what(field)} is not a field updateRun can change`);
    let v: unknown;
    switch (field as keyof RunPatch) {
      case 'status':
        v = checkStatus(file, what(field), value);
        break;
      case 'backend':
      case 'error':
      case 'runnerHost':
      case 'runnerStart':
        v = checkOptionalString(file, what(field), value);
        break;
      case 'notes':
        v = checkString(file, what(field), value);
        break;
      case 'name':
        v = checkString(file, what(field), value, { nonEmpty: true });
        break;
      case 'runnerPid':
      case 'heartbeatAt':
      case 'startedAt':
      case 'endedAt':
        v = checkOptionalInt(file, what(field), value, 0);
        break;
      case 'episodesDone':
      case 'envSteps':
      case 'episodesTotal':
        v = checkInt(file, what(field), value, 0);
        break;
      case 'summary':
        v = checkSummary(file, value);
        break;
      case 'metricKeys':
        v = toJson(checkStringArray(file, what(field), value));
        break;
      case 'metricSpecs':
        v = toJson(checkMetricSpecs(file, what(field), value));
        break;
      case 'stopRequested':
        if (typeof value !== 'boolean') throw invalid(file, `${what(field)} must be a boolean`);
        v = value ? 1 : 0;
        break;
    }
    columns.push(column);
    params.push(v);
  }
  return { columns, params };
}

/** `%text%` for LIKE, with the wildcards in `text` escaped (ESCAPE '\'). */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface RunListSql {
  where: string;
  whereParams: unknown[];
  orderBy: string;
  orderParams: unknown[];
  limit: number;
  offset: number;
  /** Extra result columns (`, expr AS c0, ...`; metric summaries) and their parameters, bound first. */
  select: string;
  selectParams: unknown[];
  /** The query's chosen columns in order; metric ones are read back from `c<i>`. */
  columns: ColumnSql[];
}

/** A listRuns query as SQL fragments and parameters, checked. */
export function runListSql(file: string, q: ListRunsQuery, now: number): RunListSql {
  const conds: string[] = [];
  const whereParams: unknown[] = [];
  const what = (f: string) => `listRuns: ${f}`;
  if (q.status !== undefined) {
    if (!Array.isArray(q.status)) throw invalid(file, `${what('status')} must be an array of statuses`);
    const statuses = q.status.map((s) => checkStatus(file, what('status'), s));
    if (statuses.length) {
      conds.push(RUN_FILTERS.status(statuses.length));
      whereParams.push(...statuses);
    }
  }
  if (q.envId !== undefined) {
    conds.push(RUN_FILTERS.envId);
    whereParams.push(checkString(file, what('envId'), q.envId));
  }
  if (q.algoId !== undefined) {
    conds.push(RUN_FILTERS.algoId);
    whereParams.push(checkString(file, what('algoId'), q.algoId));
  }
  if (q.tag !== undefined) {
    conds.push(RUN_FILTERS.tag);
    whereParams.push(checkString(file, what('tag'), q.tag));
  }
  if (q.search !== undefined && checkString(file, what('search'), q.search).trim() !== '') {
    const text = q.search.trim();
    const pattern = likePattern(text);
    conds.push(RUN_FILTERS.search);
    whereParams.push(pattern, pattern, pattern, pattern, pattern, pattern, /^\d+$/.test(text) ? Number(text) : null);
  }
  if (q.experimentId !== undefined) {
    conds.push(RUN_FILTERS.experimentId);
    whereParams.push(checkInt(file, what('experimentId'), q.experimentId));
  }
  if (q.since !== undefined) {
    conds.push(RUN_FILTERS.since);
    whereParams.push(checkFinite(file, what('since'), q.since));
  }
  if (q.until !== undefined) {
    conds.push(RUN_FILTERS.until);
    whereParams.push(checkFinite(file, what('until'), q.until));
  }
  if (q.columnFilters !== undefined) {
    if (!Array.isArray(q.columnFilters)) throw invalid(file, `${what('columnFilters')} must be an array of {column, op, value}`);
    if (q.columnFilters.length > MAX_FILTERS) throw invalid(file, `${what('columnFilters')}: at most ${MAX_FILTERS} filters`);
    q.columnFilters.forEach((f, i) => {
      const { cond, params } = filterSql(file, what(`columnFilters[${i}]`), f);
      conds.push(cond);
      whereParams.push(...params);
    });
  }
  const columns = q.columns === undefined ? [] : checkColumns(file, what('columns'), q.columns);
  const metricCols = columns.map((c, i) => ({ c, i })).filter(({ c }) => c.column.kind === 'metric');
  const select = metricCols.map(({ c, i }) => `, ${c.expr} AS c${i}`).join('');
  const selectParams = metricCols.flatMap(({ c }) => c.params);
  const dir = q.desc ? 'DESC' : 'ASC';
  let orderBy: string;
  let orderParams: unknown[];
  if (q.sortColumn !== undefined) {
    const c = columnSql(file, what('sortColumn'), q.sortColumn);
    orderBy = `${c.expr} ${dir} NULLS LAST, r.id ${dir}`;
    orderParams = c.params;
  } else {
    const key = q.orderBy ?? 'id';
    if (!RUN_ORDERS.includes(key)) throw invalid(file, `${what('orderBy')} must be one of ${RUN_ORDERS.join(', ')}, got ${String(key)}`);
    const order = RUN_ORDER[key];
    // Ties broken by id in the same direction, so pages never overlap or skip rows.
    orderBy = `${order.expr} ${dir}${order.nullsLast ? ' NULLS LAST' : ''}${key === 'id' ? '' : `, r.id ${dir}`}`;
    orderParams = order.params ? [now] : [];
  }
  return {
    select,
    selectParams,
    columns,
    where: conds.length ? `WHERE ${conds.join(' AND ')}` : '',
    whereParams,
    orderBy,
    orderParams,
    limit: q.limit === undefined ? -1 : checkInt(file, what('limit'), q.limit, 0),
    offset: q.offset === undefined ? 0 : checkInt(file, what('offset'), q.offset, 0),
  };
}

/**
 * The chosen columns' values of one listed row: config fields from its config (booleans and
 * lists as stored), metric summaries from the query's `c<i>` results.
 */
export function rowColumns(columns: readonly ColumnSql[], rec: RunRecord, config: unknown): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  columns.forEach((c, i) => {
    if (c.column.kind === 'metric') {
      const v = (rec as unknown as Record<string, unknown>)[`c${i}`];
      out[c.id] = typeof v === 'number' ? v : null;
      return;
    }
    const [section, field] = c.column.path.split('.');
    const v = (config as Record<string, Record<string, unknown> | undefined>)[section]?.[field];
    out[c.id] = v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
  });
  return out;
}

/** Trimmed, distinct, non-empty tags, sorted. */
export function normalizeTags(file: string, tags: unknown): string[] {
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw invalid(file, 'setTags: tags must be an array of strings');
  return [...new Set((tags as string[]).map((t) => t.trim()).filter((t) => t !== ''))].sort();
}
