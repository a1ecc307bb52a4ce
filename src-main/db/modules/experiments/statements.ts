/** SQL of the `experiments` table. */

const COLUMNS = 'id, name, preset, created_at, notes';

export const INSERT_EXPERIMENT = 'INSERT INTO experiments (name, preset, created_at, notes) VALUES (?, ?, ?, ?)';

export const SELECT_EXPERIMENT = `SELECT ${COLUMNS} FROM experiments WHERE id = ?`;

export const SELECT_EXPERIMENTS = `SELECT ${COLUMNS} FROM experiments ORDER BY id`;

export const EXPERIMENT_EXISTS = 'SELECT 1 AS ok FROM experiments WHERE id = ?';
