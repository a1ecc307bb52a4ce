/** Upgrading a file written by an older Cairn keeps every row and adds the new columns. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, migrations, SCHEMA_VERSION } from '../../src-main/db/migrations';
import { Store } from '../../src-main/db/store';
import { cleanup, RawDb, sampleConfig, tempDir } from './helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

describe('migrations', () => {
  it('a version-1 file with a run migrates to the current version with its data intact', async () => {
    const file = path.join(dir, 'v1.db');
    const raw = new RawDb(file);
    await raw.exec(`BEGIN; ${migrations[0].up}; PRAGMA user_version = 1; COMMIT;`);
    await raw.exec(
      `INSERT INTO runs (name, env_id, algo_id, config, seed, host, created_at, updated_at, episodes_total)
       VALUES ('old run', 'manitokan', 'pg', '${JSON.stringify(sampleConfig())}', 3, 'h', 1, 1, 100)`,
    );
    await raw.close();

    const store = await Store.open(file);
    const run = await store.getRun(1);
    expect(run).toMatchObject({ name: 'old run', seed: 3, status: 'queued', variant: null });
    const id = await store.createRun({
      name: 'new',
      config: sampleConfig(),
      seed: 1,
      episodesTotal: 10,
      host: 'h',
      metricKeys: [],
      variant: 'self-correction',
    });
    expect((await store.getRun(id))!.variant).toBe('self-correction');
    await store.close();

    const check = new RawDb(file);
    expect((await check.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect((await check.get<{ application_id: number }>('PRAGMA application_id'))!.application_id).toBe(APPLICATION_ID);
    await check.close();
  });
});

describe('run log', () => {
  it('appends lines, returns the newest ones oldest first, and goes with its run', async () => {
    const store = await Store.open(path.join(dir, 'log.db'));
    const id = await store.createRun({ name: 'r', config: sampleConfig(), seed: 1, episodesTotal: 1, host: 'h', metricKeys: [] });
    await store.appendLog(id, [
      { time: 1, level: 'info', message: 'one' },
      { time: 2, level: 'warn', message: 'two' },
      { time: 3, level: 'error', message: 'three' },
    ]);
    expect(await store.runLog(id)).toEqual([
      { time: 1, level: 'info', message: 'one' },
      { time: 2, level: 'warn', message: 'two' },
      { time: 3, level: 'error', message: 'three' },
    ]);
    expect((await store.runLog(id, 2)).map((l) => l.message)).toEqual(['two', 'three']);
    await expect(store.appendLog(id + 1, [{ time: 1, level: 'info', message: 'x' }])).rejects.toThrow(/run/);
    await store.deleteRun(id);
    expect(await store.runLog(id)).toEqual([]);
    await store.close();
  });
});
