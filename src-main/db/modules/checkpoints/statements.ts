/** SQL of the `checkpoints` table. */

const COLUMNS = 'id, run_id, "update", episode, env_steps, path, created_at, bytes';

export const INSERT_CHECKPOINT = `
  INSERT INTO checkpoints (run_id, "update", episode, env_steps, path, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)`;

export const SELECT_LATEST_CHECKPOINT = `SELECT ${COLUMNS} FROM checkpoints WHERE run_id = ? ORDER BY "update" DESC, id DESC LIMIT 1`;

export const SELECT_CHECKPOINTS = `SELECT ${COLUMNS} FROM checkpoints WHERE run_id = ? ORDER BY "update", id`;

export const SELECT_CHECKPOINT_PATHS = 'SELECT path FROM checkpoints WHERE run_id = ? ORDER BY id';

/** Parameters: run id, last episode kept. */
export const CHECKPOINTS_AFTER = 'SELECT path FROM checkpoints WHERE run_id = ? AND episode > ? ORDER BY id';

/** Parameters: run id, last episode kept. */
export const DELETE_CHECKPOINTS_AFTER = 'DELETE FROM checkpoints WHERE run_id = ? AND episode > ?';
