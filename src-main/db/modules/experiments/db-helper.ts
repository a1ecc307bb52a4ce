/** Experiments: statements run in transactions. */
import type { Connection } from '../../connection';
import type { ExperimentRecord } from './mapping';
import { INSERT_EXPERIMENT, SELECT_EXPERIMENT, SELECT_EXPERIMENTS } from './statements';

export async function insertExperiment(conn: Connection, params: unknown[]): Promise<number> {
  return conn.write(async (tx) => (await tx.run(INSERT_EXPERIMENT, params)).lastID);
}

export function queryExperiment(conn: Connection, id: number): Promise<ExperimentRecord | undefined> {
  return conn.read((tx) => tx.get<ExperimentRecord>(SELECT_EXPERIMENT, [id]));
}

export function queryExperiments(conn: Connection): Promise<ExperimentRecord[]> {
  return conn.read((tx) => tx.all<ExperimentRecord>(SELECT_EXPERIMENTS));
}
