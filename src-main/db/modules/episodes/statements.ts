/** SQL of the `episodes` table. */

const LIST_COLUMNS = 'run_id, idx, round, env_index, length, "return", success, "values", has_replay';

/** Values per episode row in insertEpisodesSql (after the shared ?1 run id). */
export const EPISODE_PARAMS = 9;

/** Multi-row insert of `n` episodes: parameters are the run id, then EPISODE_PARAMS per row. */
export function insertEpisodesSql(n: number): string {
  const row = `(?1, ${Array(EPISODE_PARAMS).fill('?').join(', ')})`;
  return `INSERT INTO episodes (run_id, idx, round, env_index, length, "return", success, "values", has_replay, replay)
    VALUES ${Array(n).fill(row).join(', ')}`;
}

/** Parameters: run id, JSON array of idx. */
export const SELECT_EXISTING_IDX = `
  SELECT idx FROM episodes WHERE run_id = ? AND idx IN (SELECT value FROM json_each(?)) ORDER BY idx LIMIT 5`;

/** Parameters: run id, [from round, to round,] limit, offset. Without the replay blob. */
export function selectEpisodesSql(q: { withReplay: boolean; rounds: boolean; desc: boolean }): string {
  return `SELECT ${LIST_COLUMNS} FROM episodes
    WHERE run_id = ?${q.withReplay ? ' AND has_replay = 1' : ''}${q.rounds ? ' AND round >= ? AND round <= ?' : ''}
    ORDER BY idx ${q.desc ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`;
}

export const SELECT_REPLAY = 'SELECT replay FROM episodes WHERE run_id = ? AND idx = ?';

export const COUNT_EPISODES = 'SELECT count(*) AS n FROM episodes WHERE run_id = ?';

/** Parameters: run id, last round kept. */
export const DELETE_EPISODES_AFTER = 'DELETE FROM episodes WHERE run_id = ? AND round > ?';
