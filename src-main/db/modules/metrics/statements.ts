/** SQL of the `metric_keys` and `metrics` tables. */

/** Parameter: JSON array of key names. */
export const INSERT_KEYS = 'INSERT OR IGNORE INTO metric_keys (name) SELECT value FROM json_each(?)';

/** Parameter: JSON array of key names. */
export const SELECT_KEY_IDS = 'SELECT id, name FROM metric_keys WHERE name IN (SELECT value FROM json_each(?))';

export const SELECT_KEY_ID = 'SELECT id FROM metric_keys WHERE name = ?';

/**
 * Insert one batch of points from a single JSON parameter (?2): one thread hop per few
 * thousand points instead of one per point. The batch is a list of groups, one per run of
 * points sharing (step, episode, wallTime) (a round's ~20 points), each
 * `[sm,se, em,ee, wm,we, [key_id...], [vm...], [ve...]]`: numbers as mantissa/exponent
 * pairs decoded as `m * pow(2, e)` (see `realParts`). Iterating the mantissas as scalars and
 * indexing the two parallel arrays costs fewer JSON extractions than one array per point:
 * each `->>` costs about as much as inserting the row.
 */
export const INSERT_POINTS = `
  WITH g AS MATERIALIZED (
    SELECT (value->>0) * pow(2, value->>1) AS step,
           (value->>2) * pow(2, value->>3) AS episode,
           (value->>4) * pow(2, value->>5) AS wall_time,
           value->'$[6]' AS keys,
           value->'$[7]' AS mantissas,
           value->'$[8]' AS exponents
    FROM json_each(?2)
  )
  INSERT INTO metrics (run_id, key_id, step, episode, wall_time, value)
  SELECT ?1, g.keys->>p.key, g.step, g.episode, g.wall_time, p.value * pow(2, g.exponents->>p.key)
  FROM g, json_each(g.mantissas) AS p`;

/** Names of the keys a run has points for; one index probe per key, not a scan of the run. */
export const SELECT_RUN_KEYS = `
  SELECT k.name FROM metric_keys k
  WHERE EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = ? AND m.key_id = k.id)
  ORDER BY k.name`;

/** Parameters: run id, key id, from episode, to episode. Served by the index, no sort. */
export const SELECT_SERIES = `
  SELECT step, episode, wall_time, value FROM metrics
  WHERE run_id = ? AND key_id = ? AND episode >= ? AND episode <= ?
  ORDER BY episode, rowid`;

/** Parameters: run id, last episode kept. */
export const DELETE_POINTS_AFTER = 'DELETE FROM metrics WHERE run_id = ? AND episode > ?';
