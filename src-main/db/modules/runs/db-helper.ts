/** Runs and tags: statements run in transactions. */
import type { Connection, Tx } from '../../connection';
import { StoreError } from '../../errors';
import { CHECKPOINTS_AFTER, DELETE_CHECKPOINTS_AFTER, SELECT_CHECKPOINT_PATHS } from '../checkpoints/statements';
import { DELETE_EPISODES_AFTER } from '../episodes/statements';
import { EXPERIMENT_EXISTS } from '../experiments/statements';
import { DELETE_POINTS_AFTER } from '../metrics/statements';
import { recomputeRunSummariesIn } from '../summaries/db-helper';
import type { RunListSql, RunRecord } from './mapping';
import {
  countRunsSql,
  DELETE_RUN,
  DELETE_TAGS,
  INSERT_CONFIG_VALUES,
  INSERT_RUN,
  INSERT_TAGS,
  RUN_EXISTS,
  SELECT_RUN_KINDS,
  SELECT_RUN,
  selectRunIdsSql,
  selectRunsByIdSql,
  TOUCH_RUN,
  updateRunSql,
} from './statements';

export function notFound(file: string, what: string): StoreError {
  return new StoreError('NOT_FOUND', file, `Run history ${file}: ${what} does not exist`);
}

/** Fail with NOT_FOUND unless the run exists (inside the caller's transaction). */
export async function requireRun(tx: Tx, file: string, runId: number): Promise<void> {
  if (!(await tx.get(RUN_EXISTS, [runId]))) throw notFound(file, `run ${runId}`);
}

export function insertRun(conn: Connection, params: unknown[], experimentId: number | null): Promise<number> {
  return conn.write(async (tx) => {
    if (experimentId !== null && !(await tx.get(EXPERIMENT_EXISTS, [experimentId]))) {
      throw notFound(conn.file, `experiment ${experimentId}`);
    }
    const id = (await tx.run(INSERT_RUN, params)).lastID;
    await tx.run(INSERT_CONFIG_VALUES, [id]);
    return id;
  });
}

export function queryRun(conn: Connection, id: number): Promise<RunRecord | undefined> {
  return conn.read((tx) => tx.get<RunRecord>(SELECT_RUN, [id]));
}

/** One page and the total count, from the same snapshot. */
export function queryRuns(conn: Connection, q: RunListSql): Promise<{ records: RunRecord[]; total: number }> {
  return conn.read(async (tx) => {
    const ids = (await tx.all<{ id: number }>(selectRunIdsSql(q.where, q.orderBy), [...q.whereParams, ...q.orderParams, q.limit, q.offset])).map((r) => r.id);
    const rows = ids.length ? await tx.all<RunRecord>(selectRunsByIdSql(q.select), [...q.selectParams, JSON.stringify(ids)]) : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const records = ids.flatMap((id) => byId.get(id) ?? []);
    const total = (await tx.get<{ n: number }>(countRunsSql(q.where), q.whereParams))?.n ?? 0;
    return { records, total };
  });
}

export function updateRunColumns(conn: Connection, id: number, columns: string[], params: unknown[], now: number): Promise<void> {
  return conn.write((tx) => updateRunColumnsIn(tx, conn.file, id, columns, params, now));
}

/** updateRunColumns inside a transaction the caller holds. */
export async function updateRunColumnsIn(tx: Tx, file: string, id: number, columns: string[], params: unknown[], now: number): Promise<void> {
  const { changes } = await tx.run(updateRunSql(columns), [...params, now, id]);
  if (changes === 0) throw notFound(file, `run ${id}`);
}

export function replaceTags(conn: Connection, id: number, tags: string[], now: number): Promise<void> {
  return conn.write(async (tx) => {
    await requireRun(tx, conn.file, id);
    await tx.run(DELETE_TAGS, [id]);
    if (tags.length) await tx.run(INSERT_TAGS, [id, JSON.stringify(tags)]);
    await tx.run(TOUCH_RUN, [now, id]);
  });
}

/** Delete a run and everything under it; returns its checkpoint files for the caller to remove. */
export function deleteRunCascade(conn: Connection, id: number): Promise<string[]> {
  return conn.write(async (tx) => {
    await requireRun(tx, conn.file, id);
    const paths = (await tx.all<{ path: string }>(SELECT_CHECKPOINT_PATHS, [id])).map((r) => r.path);
    await tx.run(DELETE_RUN, [id]);
    return paths;
  });
}

/** Drop a run's metric points, episodes and checkpoints after `round`. */
export function truncateRunAfter(
  conn: Connection,
  id: number,
  round: number,
  now: number,
): Promise<{ metrics: number; episodes: number; checkpointPaths: string[] }> {
  return conn.write(async (tx) => {
    await requireRun(tx, conn.file, id);
    const metrics = (await tx.run(DELETE_POINTS_AFTER, [id, round])).changes;
    if (metrics > 0) await recomputeRunSummariesIn(tx, id);
    const episodes = (await tx.run(DELETE_EPISODES_AFTER, [id, round])).changes;
    const checkpointPaths = (await tx.all<{ path: string }>(CHECKPOINTS_AFTER, [id, round])).map((r) => r.path);
    await tx.run(DELETE_CHECKPOINTS_AFTER, [id, round]);
    await tx.run(TOUCH_RUN, [now, id]);
    return { metrics, episodes, checkpointPaths };
  });
}

export function queryRunKinds(conn: Connection): Promise<{ envId: string; algoId: string }[]> {
  return conn.read(async (tx) =>
    (await tx.all<{ env_id: string; algo_id: string }>(SELECT_RUN_KINDS, [])).map((r) => ({ envId: r.env_id, algoId: r.algo_id })),
  );
}
