/** SQL of the `sweeps` table and the sweep columns of `runs` (migration 6). */

const COLUMNS =
  'id, uid, experiment_id, name, spec, executor, location, ssh_host, job_id, state, message, created_at, updated_at';

export const INSERT_SWEEP = `INSERT INTO sweeps (uid, experiment_id, name, spec, executor, location, ssh_host, job_id, state, message, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?)`;

export const SELECT_SWEEP = `SELECT ${COLUMNS} FROM sweeps WHERE id = ?`;

export const SELECT_SWEEP_BY_UID = `SELECT ${COLUMNS} FROM sweeps WHERE uid = ?`;

export const SELECT_SWEEPS = `SELECT ${COLUMNS} FROM sweeps ORDER BY id`;

export const UPDATE_SWEEP = 'UPDATE sweeps SET job_id = COALESCE(?, job_id), state = ?, message = ?, updated_at = ? WHERE id = ?';

export const SET_RUN_ORIGIN = 'UPDATE runs SET origin = ?, sweep_values = ? WHERE id = ?';

export const SELECT_RUN_BY_ORIGIN = 'SELECT id FROM runs WHERE origin = ?';

export const SELECT_SWEEP_RUNS = 'SELECT id, origin, sweep_values FROM runs WHERE experiment_id = ? ORDER BY id';
