/** Sweeps: statements run in transactions. */
import type { Connection } from '../../connection';
import type { SweepRecord } from './mapping';
import {
  INSERT_SWEEP,
  SELECT_RUN_BY_ORIGIN,
  SELECT_SWEEP,
  SELECT_SWEEP_BY_UID,
  SELECT_SWEEP_RUNS,
  SELECT_SWEEPS,
  SET_RUN_ORIGIN,
  UPDATE_SWEEP,
} from './statements';

export function insertSweep(conn: Connection, params: unknown[]): Promise<number> {
  return conn.write(async (tx) => (await tx.run(INSERT_SWEEP, params)).lastID);
}

export function querySweep(conn: Connection, id: number): Promise<SweepRecord | undefined> {
  return conn.read((tx) => tx.get<SweepRecord>(SELECT_SWEEP, [id]));
}

export function querySweepByUid(conn: Connection, uid: string): Promise<SweepRecord | undefined> {
  return conn.read((tx) => tx.get<SweepRecord>(SELECT_SWEEP_BY_UID, [uid]));
}

export function querySweeps(conn: Connection): Promise<SweepRecord[]> {
  return conn.read((tx) => tx.all<SweepRecord>(SELECT_SWEEPS));
}

export function updateSweep(conn: Connection, id: number, params: unknown[]): Promise<void> {
  return conn.write(async (tx) => {
    await tx.run(UPDATE_SWEEP, [...params, id]);
  });
}

export function setRunOrigin(conn: Connection, runId: number, origin: string | null, values: string | null): Promise<void> {
  return conn.write(async (tx) => {
    await tx.run(SET_RUN_ORIGIN, [origin, values, runId]);
  });
}

export async function queryRunByOrigin(conn: Connection, origin: string): Promise<number | undefined> {
  return (await conn.read((tx) => tx.get<{ id: number }>(SELECT_RUN_BY_ORIGIN, [origin])))?.id;
}

export function querySweepRuns(
  conn: Connection,
  experimentId: number,
): Promise<{ id: number; origin: string | null; sweep_values: string | null }[]> {
  return conn.read((tx) => tx.all(SELECT_SWEEP_RUNS, [experimentId]));
}

/** A consistent copy of the whole database in a new file (SQLite's VACUUM INTO). */
export function vacuumInto(conn: Connection, file: string): Promise<void> {
  return conn.session((tx) => tx.run('VACUUM INTO ?', [file]).then(() => undefined));
}
