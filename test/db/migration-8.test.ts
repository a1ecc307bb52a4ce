/**
 * Migration 8 renames episodes.return_total to "return": a file made by migrations 1-7 (the
 * real runner, stopped at 7) with episodes written as the code of that version wrote them
 * upgrades with every row and value kept, and reads back through the store.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src-main/db/connection';
import { migrate, SCHEMA_VERSION } from '../../src-main/db/migrations';
import { Store } from '../../src-main/db/store';
import { cleanup, RawDb, sampleConfig, tempDir } from './helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const columns = async (raw: RawDb) => (await raw.all<{ name: string }>('PRAGMA table_info(episodes)')).map((c) => c.name);

describe('migration 8: episodes.return', () => {
  it('keeps every stored episode of a version-7 file and reads it back under the new name', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(8);
    const file = path.join(dir, 'v7.db');
    const conn = await Connection.open(file, { readonly: false, busyTimeoutMs: 5000 });
    expect(await migrate(conn, undefined, 7)).toEqual({ from: 0, to: 7 });
    await conn.close();

    const raw = new RawDb(file);
    expect(await raw.get('PRAGMA user_version')).toEqual({ user_version: 7 });
    expect(await columns(raw)).toContain('return_total');
    const cfg = JSON.stringify(sampleConfig()).replace(/'/g, "''");
    // The rows as the version-7 statements wrote them: NULL for a non-finite return, a replay blob.
    await raw.exec(`
      INSERT INTO runs (name, env_id, algo_id, config, seed, host, created_at, updated_at, episodes_total)
        VALUES ('old', 'manitokan', 'pg', '${cfg}', 3, 'h', 1, 1, 10);
      INSERT INTO episodes (run_id, idx, round, env_index, length, return_total, success, "values", has_replay, replay)
        VALUES (1, 0, 0, 0, 12, 0.25, 0, '[0.25,0]', 0, NULL),
               (1, 1, 0, 1, 30, -1.5, 1, '[-1.5,1]', 0, NULL),
               (1, 2, 1, 0, 7, NULL, NULL, '[null,null]', 0, NULL);`);
    const before = await raw.all('SELECT run_id, idx, round, env_index, length, return_total AS r, success, "values" FROM episodes ORDER BY idx');
    await raw.close();

    const store = await Store.open(file);
    expect(store.migratedFrom).toBe(7);
    const rows = await store.listEpisodes(1);
    expect(rows.map((e) => [e.idx, e.round, e.envIndex, e.length, e.return, e.success, e.values])).toEqual([
      [0, 0, 0, 12, 0.25, 0, [0.25, 0]],
      [1, 0, 1, 30, -1.5, 1, [-1.5, 1]],
      [2, 1, 0, 7, NaN, NaN, [null, null]],
    ]);
    // New rows go into the renamed column.
    await store.appendEpisodes(1, [{ idx: 3, round: 2, envIndex: 0, length: 5, return: 2.75, success: 1, values: [2.75, 1] }]);
    expect((await store.listEpisodes(1)).at(-1)!.return).toBe(2.75);
    await store.close();

    const check = new RawDb(file);
    expect(await check.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
    expect(await check.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    const cols = await columns(check);
    expect(cols).toContain('return');
    expect(cols).not.toContain('return_total');
    const after = await check.all('SELECT run_id, idx, round, env_index, length, "return" AS r, success, "values" FROM episodes WHERE idx < 3 ORDER BY idx');
    expect(after).toEqual(before);
    // The indexes on episodes survive the rename.
    const idx = (await check.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'episodes' AND sql IS NOT NULL ORDER BY name")).map((r) => r.name);
    expect(idx).toEqual(['episodes_round', 'episodes_with_replay']);
    await check.close();
  });

  it('is applied once: running the migrations again on an upgraded file changes nothing', async () => {
    const file = path.join(dir, 'again.db');
    const conn = await Connection.open(file, { readonly: false, busyTimeoutMs: 5000 });
    expect(await migrate(conn)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(await migrate(conn)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    // Asking for an older version never goes back.
    expect(await migrate(conn, undefined, 7)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    await conn.close();
    const raw = new RawDb(file);
    expect(await columns(raw)).toContain('return');
    await raw.close();
  });
});
