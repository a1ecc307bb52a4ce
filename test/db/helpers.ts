/** Shared pieces of the store tests: temp folders, a sample config, raw SQLite access. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import type { ExperimentConfig } from '../../src-shared/config/experiment';
import type { Store } from '../../src-main/db/store';
import type { NewRun } from '../../src-main/db/types';

/** A fresh temp folder; removed by `cleanup`. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-db-test-'));
}

export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function sampleConfig(envId = 'manitokan', algoId = 'pg', extra: Record<string, number> = {}): ExperimentConfig {
  return {
    env: { id: envId, episodeLimit: 300, ...extra },
    algo: { id: algoId, lr: 0.0003 },
    train: { episodes: 100, numEnvs: 4, checkpointEvery: 10, replayEvery: 5 },
  };
}

export function newRun(over: Partial<NewRun> = {}): NewRun {
  return {
    name: 'run',
    config: sampleConfig(),
    seed: 1,
    episodesTotal: 100,
    host: 'test-host',
    metricKeys: ['return', 'success', 'first_reward_step'],
    ...over,
  };
}

export async function addRun(store: Store, over: Partial<NewRun> = {}): Promise<number> {
  return store.createRun(newRun(over));
}

/** A plain node-sqlite3 connection, for looking under the store and for holding locks. */
export class RawDb {
  readonly db: sqlite3.Database;

  constructor(file: string, mode = sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE) {
    this.db = new sqlite3.Database(file, mode);
  }

  all<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => this.db.all(sql, params, (err, rows: T[]) => (err ? reject(err) : resolve(rows))));
  }

  async get<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}

/** Count rows of `table` for a run. */
export async function countRows(file: string, table: string, runId: number): Promise<number> {
  const raw = new RawDb(file, sqlite3.OPEN_READONLY);
  try {
    return (await raw.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`, [runId]))!.n;
  } finally {
    await raw.close();
  }
}
