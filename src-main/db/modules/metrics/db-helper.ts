/** Metrics: batched inserts inside one transaction, and series reads. */
import type { Connection, RunResult, Tx } from '../../connection';
import { requireRun } from '../runs/db-helper';
import { upsertSummariesIn } from '../summaries/db-helper';
import type { SeriesRecord } from './mapping';
import { INSERT_KEYS, INSERT_POINTS, SELECT_KEY_ID, SELECT_KEY_IDS, SELECT_RUN_KEYS, SELECT_SERIES } from './statements';

/**
 * Insert a run's points in one transaction: all of them or none.
 * @param known key ids already known to exist (a cache; ids never change once assigned)
 * @param batches JSON parameters of INSERT_POINTS, given the ids of every key
 * @param summaries the batch's per-key aggregates (UPSERT_SUMMARIES), folded into the run's
 *   metric summaries in the same transaction
 * @returns the ids of keys that were not in `known`, valid once this resolves (committed)
 */
export function insertPoints(
  conn: Connection,
  runId: number,
  keys: readonly string[],
  known: ReadonlyMap<string, number>,
  batches: (ids: ReadonlyMap<string, number>) => Iterable<string>,
  summaries: (ids: ReadonlyMap<string, number>) => string | null,
): Promise<Map<string, number>> {
  return conn.write((tx) => insertPointsIn(tx, conn.file, runId, keys, known, batches, summaries));
}

/** insertPoints inside a transaction the caller holds (with other writes of the same round). */
export async function insertPointsIn(
  tx: Tx,
  file: string,
  runId: number,
  keys: readonly string[],
  known: ReadonlyMap<string, number>,
  batches: (ids: ReadonlyMap<string, number>) => Iterable<string>,
  summaries: (ids: ReadonlyMap<string, number>) => string | null,
): Promise<Map<string, number>> {
  {
    await requireRun(tx, file, runId);
    const added = new Map<string, number>();
    const missing = keys.filter((k) => !known.has(k));
    if (missing.length) {
      const json = JSON.stringify(missing);
      await tx.run(INSERT_KEYS, [json]);
      for (const r of await tx.all<{ id: number; name: string }>(SELECT_KEY_IDS, [json])) added.set(r.name, r.id);
    }
    const ids = added.size ? new Map([...known, ...added]) : known;
    // Build batch i+1 while SQLite executes batch i; never two statements at once.
    let pending: Promise<RunResult> | undefined;
    try {
      for (const batch of batches(ids)) {
        if (pending) await pending;
        pending = tx.runCached(INSERT_POINTS, [runId, batch]);
      }
      if (pending) await pending;
    } catch (err) {
      await pending?.catch(() => undefined);
      throw err;
    }
    await upsertSummariesIn(tx, runId, summaries(ids));
    return added;
  }
}

export function queryRunKeys(conn: Connection, runId: number): Promise<string[]> {
  return conn.read(async (tx) => (await tx.all<{ name: string }>(SELECT_RUN_KEYS, [runId])).map((r) => r.name));
}

export function querySeries(conn: Connection, runId: number, key: string, from: number, to: number): Promise<SeriesRecord[]> {
  return conn.read(async (tx) => {
    const k = await tx.get<{ id: number }>(SELECT_KEY_ID, [key]);
    return k ? tx.allCached<SeriesRecord>(SELECT_SERIES, [runId, k.id, from, to]) : [];
  });
}
