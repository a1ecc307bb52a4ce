/** Episodes: batched inserts inside one transaction, listing and replay reads. */
import type { Connection, Tx } from '../../connection';
import { StoreError } from '../../errors';
import { requireRun } from '../runs/db-helper';
import { EPISODES_PER_STATEMENT, type EpisodeRecord } from './mapping';
import {
  COUNT_EPISODES,
  EPISODE_PARAMS,
  insertEpisodesSql,
  SELECT_EXISTING_IDX,
  SELECT_REPLAY,
  selectEpisodesSql,
} from './statements';

/** Insert episodes in one transaction; refuses (CONFLICT) to overwrite a stored episode. */
export function insertEpisodes(conn: Connection, runId: number, idx: number[], rows: unknown[][]): Promise<void> {
  return conn.write((tx) => insertEpisodesIn(tx, conn.file, runId, idx, rows));
}

/** insertEpisodes inside a transaction the caller holds. */
export async function insertEpisodesIn(tx: Tx, file: string, runId: number, idx: number[], rows: unknown[][]): Promise<void> {
  {
    await requireRun(tx, file, runId);
    const taken = await tx.all<{ idx: number }>(SELECT_EXISTING_IDX, [runId, JSON.stringify(idx)]);
    if (taken.length) {
      throw new StoreError(
        'CONFLICT',
        file,
        `Run history ${file}: run ${runId} already has episode${taken.length > 1 ? 's' : ''} ` +
          `${taken.map((r) => r.idx).join(', ')}; nothing from this batch was written`,
      );
    }
    for (let i = 0; i < rows.length; i += EPISODES_PER_STATEMENT) {
      const chunk = rows.slice(i, i + EPISODES_PER_STATEMENT);
      const params: unknown[] = [runId];
      for (const r of chunk) params.push(...r);
      if (params.length !== 1 + chunk.length * EPISODE_PARAMS) throw new Error('episode parameter count mismatch');
      await tx.runCached(insertEpisodesSql(chunk.length), params);
    }
  }
}

export function queryEpisodes(
  conn: Connection,
  runId: number,
  q: { withReplay: boolean; rounds?: [number, number]; desc: boolean; limit: number; offset: number },
): Promise<EpisodeRecord[]> {
  const sql = selectEpisodesSql({ withReplay: q.withReplay, rounds: !!q.rounds, desc: q.desc });
  return conn.read((tx) => tx.all<EpisodeRecord>(sql, [runId, ...(q.rounds ?? []), q.limit, q.offset]));
}

export function queryReplay(conn: Connection, runId: number, idx: number): Promise<Buffer | null | undefined> {
  return conn.read(async (tx) => (await tx.get<{ replay: Buffer | null }>(SELECT_REPLAY, [runId, idx]))?.replay);
}

export function countEpisodes(conn: Connection, runId: number): Promise<number> {
  return conn.read(async (tx) => (await tx.get<{ n: number }>(COUNT_EPISODES, [runId]))?.n ?? 0);
}
