/**
 * Databases of every earlier schema version, built by running the migrations up to version k
 * (no binary fixtures): each holds one experiment, one finished run, metric points, episodes
 * and a checkpoint row, written with the columns that version had.
 */
import { migrations } from '../../src-main/db/migrations';
import { RawDb, sampleConfig } from '../db/helpers';

export async function databaseAtVersion(file: string, version: number): Promise<void> {
  const raw = new RawDb(file);
  await raw.exec('PRAGMA journal_mode = WAL');
  for (const m of migrations.slice(0, version)) await raw.exec(`BEGIN; ${m.up}; PRAGMA user_version = ${m.version}; COMMIT;`);
  const cfg = JSON.stringify(sampleConfig()).replace(/'/g, "''");
  await raw.exec(`
    BEGIN;
    INSERT INTO experiments (name, created_at) VALUES ('exp v${version}', 1);
    INSERT INTO runs (experiment_id, name, env_id, algo_id, config, seed, status, host, created_at, updated_at,
                      episodes_total, episodes_done, metric_keys)
      VALUES (1, 'run v${version}', 'manitokan', 'pg', '${cfg}', 7, 'done', 'h', 1, 2, 100, 3, '["return_total"]');
    INSERT INTO metric_keys (name) VALUES ('return_total');
    INSERT INTO metrics (run_id, key_id, step, episode, wall_time, value) VALUES (1, 1, 10, 1, 1.5, 0.25), (1, 1, 20, 2, 2.5, 0.5), (1, 1, 30, 3, 3.5, 0.75);
    INSERT INTO episodes (run_id, idx, round, env_index, length, return_total, success, "values")
      VALUES (1, 0, 1, 0, 9, 0.25, 0, '[0.25]'), (1, 1, 2, 0, 8, 0.5, 1, '[0.5]');
    INSERT INTO checkpoints (run_id, "update", episode, env_steps, path, created_at, bytes) VALUES (1, 3, 3, 30, '/nonexistent/round-3.ckpt', 2, 10);
    COMMIT;`);
  // Close cleanly (checkpoints the WAL into the file), as a released Cairn left it.
  await raw.close();
}
