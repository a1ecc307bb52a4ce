/** Run metric summaries: folded in with each batch of points, recomputed after a truncation. */
import type { Connection, Tx } from '../../connection';
import { DELETE_RUN_SUMMARIES, RECOMPUTE_RUN_SUMMARIES, SELECT_SUMMARY_KEYS, UPSERT_SUMMARIES } from './statements';

/** Fold a batch's aggregates (summaryBatch) into the run's summaries, inside the caller's transaction. */
export async function upsertSummariesIn(tx: Tx, runId: number, batch: string | null): Promise<void> {
  if (batch !== null) await tx.runCached(UPSERT_SUMMARIES, [runId, batch]);
}

/** Rebuild one run's summaries from its stored points (after some were deleted). */
export async function recomputeRunSummariesIn(tx: Tx, runId: number): Promise<void> {
  await tx.run(DELETE_RUN_SUMMARIES, [runId]);
  await tx.run(RECOMPUTE_RUN_SUMMARIES, [runId]);
}

/** Metric keys with a summary in some run. */
export function querySummaryKeys(conn: Connection): Promise<string[]> {
  return conn.read(async (tx) => (await tx.all<{ name: string }>(SELECT_SUMMARY_KEYS)).map((r) => r.name));
}
