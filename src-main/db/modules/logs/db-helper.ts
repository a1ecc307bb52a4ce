/** A run's log: lifecycle events and worker output, one row per line. */
import type { Connection } from '../../connection';
import { requireRun } from '../runs/db-helper';

export const LOG_LEVELS = ['info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogLine {
  time: number;
  level: LogLevel;
  message: string;
}

const INSERT_LOG = 'INSERT INTO run_log (run_id, time, level, message) VALUES (?, ?, ?, ?)';
const SELECT_LOG = `SELECT time, level, message FROM (
  SELECT rowid, time, level, message FROM run_log WHERE run_id = ? ORDER BY rowid DESC LIMIT ?
) ORDER BY rowid`;

export function insertLog(conn: Connection, runId: number, lines: LogLine[]): Promise<void> {
  return conn.write(async (tx) => {
    await requireRun(tx, conn.file, runId);
    for (const l of lines) await tx.run(INSERT_LOG, [runId, l.time, l.level, l.message]);
  });
}

export function queryLog(conn: Connection, runId: number, limit: number): Promise<LogLine[]> {
  return conn.read((tx) => tx.all<LogLine>(SELECT_LOG, [runId, limit]));
}
