/** Checkpoints: statements run in transactions. */
import type { Connection } from '../../connection';
import { requireRun } from '../runs/db-helper';
import type { CheckpointRecord } from './mapping';
import { INSERT_CHECKPOINT, SELECT_CHECKPOINTS, SELECT_LATEST_CHECKPOINT } from './statements';

export function insertCheckpoint(conn: Connection, runId: number, params: unknown[]): Promise<void> {
  return conn.write(async (tx) => {
    await requireRun(tx, conn.file, runId);
    await tx.run(INSERT_CHECKPOINT, params);
  });
}

export function queryLatestCheckpoint(conn: Connection, runId: number): Promise<CheckpointRecord | undefined> {
  return conn.read((tx) => tx.get<CheckpointRecord>(SELECT_LATEST_CHECKPOINT, [runId]));
}

export function queryCheckpoints(conn: Connection, runId: number): Promise<CheckpointRecord[]> {
  return conn.read((tx) => tx.all<CheckpointRecord>(SELECT_CHECKPOINTS, [runId]));
}
