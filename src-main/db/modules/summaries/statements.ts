/**
 * SQL of `run_metric_summary` (migration 7): per run and metric key, the count, sum, min, max
 * and last value of its finite points, kept up to date as points are stored so the history
 * can show, sort and filter "final / mean / max / min of a metric" over 10,000 runs without
 * reading their series.
 */

/** The finite values only: ±Infinity would make every mean and comparison meaningless. */
const FINITE = 'abs(value) <= 1.7976931348623157e308';

/**
 * Fold one batch's per-key aggregates into the table. Parameters: ?1 run id, ?2 JSON list of
 * `[key_id, n, sum m,e, min m,e, max m,e, last episode m,e, last m,e]` (numbers as the
 * mantissa/exponent pairs of `realParts`, so min, max and last round-trip exactly).
 * The last value is the one at the highest round; a tie goes to the later batch.
 */
export const UPSERT_SUMMARIES = `
  INSERT INTO run_metric_summary (run_id, key_id, n, total, min, max, last_episode, last)
  SELECT ?1, value->>0, value->>1,
         (value->>2) * pow(2, value->>3), (value->>4) * pow(2, value->>5), (value->>6) * pow(2, value->>7),
         (value->>8) * pow(2, value->>9), (value->>10) * pow(2, value->>11)
  FROM json_each(?2) WHERE true
  ON CONFLICT (run_id, key_id) DO UPDATE SET
    n = n + excluded.n,
    total = total + excluded.total,
    min = min(min, excluded.min),
    max = max(max, excluded.max),
    last = CASE WHEN excluded.last_episode >= last_episode THEN excluded.last ELSE last END,
    last_episode = max(last_episode, excluded.last_episode)`;

/** Parameter: run id. */
export const DELETE_RUN_SUMMARIES = 'DELETE FROM run_metric_summary WHERE run_id = ?';

/**
 * Recompute one run's summaries from its stored points (after points were deleted: a resume
 * truncates the rounds after its checkpoint). Parameter: run id. The same computation as
 * migration 7's backfill.
 */
export const RECOMPUTE_RUN_SUMMARIES = `
  INSERT INTO run_metric_summary (run_id, key_id, n, total, min, max, last_episode, last)
  SELECT g.run_id, g.key_id, g.n, g.total, g.mn, g.mx,
         (SELECT m.episode FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND ${FINITE.replace(/value/g, 'm.value')}
          ORDER BY m.episode DESC, m.rowid DESC LIMIT 1),
         (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND ${FINITE.replace(/value/g, 'm.value')}
          ORDER BY m.episode DESC, m.rowid DESC LIMIT 1)
  FROM (SELECT run_id, key_id, count(*) AS n, sum(value) AS total, min(value) AS mn, max(value) AS mx
        FROM metrics WHERE run_id = ? AND ${FINITE} GROUP BY run_id, key_id) g`;

/** Metric keys some run has a summary for (the history's column picker offers these). */
export const SELECT_SUMMARY_KEYS = `
  SELECT k.name FROM metric_keys k
  WHERE EXISTS (SELECT 1 FROM run_metric_summary s WHERE s.key_id = k.id)
  ORDER BY k.name`;

/** The SQL value of one aggregate of a run's key (`?` = the key name), for listRuns columns. */
export const SUMMARY_AGGREGATES = {
  final: 's.last',
  mean: 's.total / s.n',
  max: 's.max',
  min: 's.min',
} as const;

export type SummaryAggregate = keyof typeof SUMMARY_AGGREGATES;

/** A correlated subquery for listRuns: one aggregate of the row's run for the key bound to `?`. */
export function summaryExpr(agg: SummaryAggregate): string {
  return `(SELECT ${SUMMARY_AGGREGATES[agg]} FROM run_metric_summary s
           WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = ?))`;
}
