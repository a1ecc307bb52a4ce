/** SQL of the `runs` and `run_tags` tables. */
import type { RunOrder, RunPatch } from '../../types';

export const RUN_EXISTS = 'SELECT 1 AS ok FROM runs WHERE id = ?';

/** Every column, plus the run's tags as a sorted JSON array. */
const RUN_COLUMNS = `
  r.id, r.experiment_id, r.name, r.preset, r.env_id, r.algo_id, r.config, r.seed, r.status, r.backend,
  r.host, r.runner_pid, r.created_at, r.started_at, r.ended_at, r.updated_at, r.episodes_total,
  r.episodes_done, r.env_steps, r.error, r.summary, r.stop_requested, r.notes, r.metric_keys, r.metric_specs, r.variant,
  r.runner_host, r.runner_start, r.heartbeat_at,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags`;

export const INSERT_RUN = `
  INSERT INTO runs (experiment_id, name, preset, env_id, algo_id, config, seed, status, host,
                    created_at, updated_at, episodes_total, metric_keys, metric_specs, variant)
  VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`;

export const SELECT_RUN = `SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ?`;

/** WHERE fragments of listRuns, one per filter; each `?` takes the same parameter. */
export const RUN_FILTERS = {
  status: (n: number) => `r.status IN (${Array(n).fill('?').join(', ')})`,
  envId: 'r.env_id = ?',
  algoId: 'r.algo_id = ?',
  tag: 'EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = ?)',
  /** Seven parameters: six LIKE patterns and the id. */
  search: `(r.name LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\' OR r.preset LIKE ? ESCAPE '\\'
    OR r.env_id LIKE ? ESCAPE '\\' OR r.algo_id LIKE ? ESCAPE '\\'
    OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\') OR r.id = ?)`,
  experimentId: 'r.experiment_id = ?',
  since: 'r.created_at >= ?',
  until: 'r.created_at < ?',
} as const;

/**
 * ORDER BY expressions of listRuns. `duration` takes the current time as its one parameter
 * (a running run's duration so far). Status sorts active runs first, not alphabetically.
 */
export const RUN_ORDER: Record<RunOrder, { expr: string; params: number; nullsLast?: boolean }> = {
  id: { expr: 'r.id', params: 0 },
  created_at: { expr: 'r.created_at', params: 0 },
  started_at: { expr: 'r.started_at', params: 0, nullsLast: true },
  status: {
    expr: "CASE r.status WHEN 'running' THEN 0 WHEN 'queued' THEN 1 WHEN 'stopped' THEN 2 WHEN 'failed' THEN 3 ELSE 4 END",
    params: 0,
  },
  name: { expr: 'r.name COLLATE NOCASE', params: 0 },
  duration: { expr: '(COALESCE(r.ended_at, ?) - r.started_at)', params: 1, nullsLast: true },
};

/**
 * A page of runs is read in two steps: the page's ids in order (only the sort key per run),
 * then the full rows (tags, chosen columns) of those ids alone. Sorting 10,000 runs by an
 * expression otherwise builds every run's whole row before the page is cut.
 * Parameters: where's, then orderBy's, then limit and offset.
 */
export function selectRunIdsSql(where: string, orderBy: string): string {
  return `SELECT r.id FROM runs r ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`;
}

/** The rows of a page's ids (a JSON array, the last parameter, after select's). `select`: extra `, expr AS cN` columns. */
export function selectRunsByIdSql(select = ''): string {
  return `SELECT ${RUN_COLUMNS}${select} FROM runs r WHERE r.id IN (SELECT value FROM json_each(?))`;
}

export function countRunsSql(where: string): string {
  return `SELECT count(*) AS n FROM runs r ${where}`;
}

/** The column each RunPatch field writes. */
export const RUN_PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  status: 'status',
  backend: 'backend',
  runnerPid: 'runner_pid',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  episodesDone: 'episodes_done',
  envSteps: 'env_steps',
  error: 'error',
  summary: 'summary',
  stopRequested: 'stop_requested',
  notes: 'notes',
  name: 'name',
  episodesTotal: 'episodes_total',
  metricKeys: 'metric_keys',
  metricSpecs: 'metric_specs',
  runnerHost: 'runner_host',
  runnerStart: 'runner_start',
  heartbeatAt: 'heartbeat_at',
};

/** `UPDATE runs SET <columns>, updated_at WHERE id`: parameters are the values, then now, then the id. */
export function updateRunSql(columns: string[]): string {
  return `UPDATE runs SET ${[...columns, 'updated_at'].map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
}

export const TOUCH_RUN = 'UPDATE runs SET updated_at = ? WHERE id = ?';

export const DELETE_TAGS = 'DELETE FROM run_tags WHERE run_id = ?';

/** Parameters: run id, JSON array of distinct tags. */
export const INSERT_TAGS = 'INSERT INTO run_tags (run_id, tag) SELECT ?, value FROM json_each(?)';

/** Cascades to tags, metrics, episodes and checkpoints (foreign keys ON DELETE CASCADE). */
export const DELETE_RUN = 'DELETE FROM runs WHERE id = ?';

/** The (env, learner) pairs the history holds (the column picker's config fields). */
export const SELECT_RUN_KINDS = 'SELECT DISTINCT env_id, algo_id FROM runs';

/** A new run's config fields into run_config_values (migration 7). Parameter: the run id. */
export const INSERT_CONFIG_VALUES = `
  INSERT INTO run_config_values (run_id, path, value)
  SELECT r.id, s.key || '.' || f.key, f.value
  FROM runs r, json_each(r.config) s, json_each(s.value) f
  WHERE r.id = ? AND s.key IN ('env', 'algo', 'train') AND s.type = 'object'`;
