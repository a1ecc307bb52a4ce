/** Opening, migrating and refusing files: every failure is a one-line StoreError naming the file. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, migrations, SCHEMA_VERSION } from '../../src-main/db/migrations';
import { Store, StoreError } from '../../src-main/db/store';
import { addRun, cleanup, RawDb, tempDir } from './helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

/** The StoreError `p` rejects with (fails the test if it resolves or throws something else). */
async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  const e = err as StoreError;
  expect(e.message).not.toContain('\n');
  return e;
}

describe('Store.open', () => {
  it('creates parent folders and migrates an empty file to the current schema', async () => {
    const file = path.join(dir, 'a', 'b', 'cairn.db');
    const store = await Store.open(file);
    expect(store.file).toBe(file);
    await store.close();

    const raw = new RawDb(file);
    try {
      expect((await raw.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(migrations.length);
      expect((await raw.get<{ application_id: number }>('PRAGMA application_id'))!.application_id).toBe(APPLICATION_ID);
      expect((await raw.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('wal');
      const tables = (await raw.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).map(
        (r) => r.name,
      );
      expect(tables).toEqual(['checkpoints', 'episodes', 'experiments', 'metric_keys', 'metrics', 'run_config_values', 'run_log', 'run_metric_summary', 'run_tags', 'runs', 'sweeps']);
      const indexes = (await raw.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")).map(
        (r) => r.name,
      );
      expect(indexes).toEqual(expect.arrayContaining(['metrics_run_key_episode', 'episodes_with_replay', 'checkpoints_run', 'runs_origin', 'sweeps_experiment']));
      const cascades = await raw.all<{ table: string; on_delete: string }>(
        "SELECT * FROM pragma_foreign_key_list('metrics') UNION ALL SELECT * FROM pragma_foreign_key_list('episodes') " +
          "UNION ALL SELECT * FROM pragma_foreign_key_list('checkpoints') UNION ALL SELECT * FROM pragma_foreign_key_list('run_tags')",
      );
      expect(cascades.map((c) => [c.table, c.on_delete])).toEqual(Array(4).fill(['runs', 'CASCADE']));
    } finally {
      await raw.close();
    }
  });

  it('migrates a zero-byte file', async () => {
    const file = path.join(dir, 'empty.db');
    fs.writeFileSync(file, '');
    const store = await Store.open(file);
    expect(await store.listRuns()).toEqual({ rows: [], total: 0 });
    await store.close();
  });

  it('keeps data across close and reopen, and a read-only open sees it', async () => {
    const file = path.join(dir, 'keep.db');
    const a = await Store.open(file);
    const exp = await a.createExperiment({ name: 'sweep', preset: 'paper' });
    const id = await addRun(a, { experimentId: exp, name: 'kept' });
    await a.appendMetrics(id, [{ key: 'charts/return', step: 10, episode: 1, wallTime: 1.5, value: 0.25 }]);
    await a.close();

    const b = await Store.open(file);
    expect((await b.getRun(id))!.name).toBe('kept');
    expect((await b.getExperiment(exp))!.preset).toBe('paper');
    await b.close();

    const ro = await Store.open(file, { readonly: true });
    expect(ro.readonly).toBe(true);
    expect(Array.from((await ro.metricSeries(id, 'charts/return')).value)).toEqual([0.25]);
    const e = await storeError(ro.createExperiment({ name: 'nope' }));
    expect(e.code).toBe('READONLY');
    expect(e.message).toContain(file);
    await ro.close();
  });

  it('refuses a file written by a newer Cairn, and leaves it untouched', async () => {
    const file = path.join(dir, 'newer.db');
    await (await Store.open(file)).close();
    const raw = new RawDb(file);
    await raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    await raw.close();
    for (const readonly of [false, true]) {
      const e = await storeError(Store.open(file, { readonly }));
      expect(e.code).toBe('NEWER_SCHEMA');
      expect(e.message).toContain(file);
      expect(e.message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 5} is newer`));
    }
    const check = new RawDb(file);
    expect((await check.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION + 5);
    await check.close();
  });

  it('refuses a file that is not a SQLite database, and leaves it untouched', async () => {
    const file = path.join(dir, 'notes.db');
    const text = 'These are my notes, not a database.\n'.repeat(200);
    fs.writeFileSync(file, text);
    const e = await storeError(Store.open(file));
    expect(e.code).toBe('NOT_A_DATABASE');
    expect(e.message).toBe(`Cannot open run history ${file}: the file is not a SQLite database`);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it("refuses another program's SQLite database without switching it to WAL", async () => {
    const file = path.join(dir, 'other.db');
    const raw = new RawDb(file);
    await raw.exec('CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT)');
    await raw.close();
    const e = await storeError(Store.open(file));
    expect(e.code).toBe('NOT_CAIRN');
    expect(e.message).toContain('songs');
    const check = new RawDb(file);
    expect((await check.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('delete');
    expect((await check.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(0);
    await check.close();
  });

  it('gives a clear error for paths it cannot open', async () => {
    // A folder where the file should be.
    const folder = path.join(dir, 'folder.db');
    fs.mkdirSync(folder);
    let e = await storeError(Store.open(folder));
    expect(e.code).toBe('CANT_OPEN');
    expect(e.message).toBe(`Cannot open run history ${folder}: it is a folder, not a database file`);

    // A parent "folder" that is a file.
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, 'x');
    const under = path.join(blocker, 'cairn.db');
    e = await storeError(Store.open(under));
    expect(e.code).toBe('CANT_OPEN');
    expect(e.message.startsWith(`Cannot open run history ${under}: cannot create its folder ${blocker} (`)).toBe(true);
    expect(e.message).toMatch(/\((ENOTDIR|EEXIST)\)$/);

    // Read-only open of a file that does not exist: nothing is created.
    const missing = path.join(dir, 'missing', 'cairn.db');
    e = await storeError(Store.open(missing, { readonly: true }));
    expect(e.code).toBe('NO_FILE');
    expect(e.message).toContain(missing);
    expect(fs.existsSync(path.dirname(missing))).toBe(false);

    // Read-only open of an empty file: nothing to read, and no migration allowed.
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    e = await storeError(Store.open(empty, { readonly: true }));
    expect(e.code).toBe('OLDER_SCHEMA');
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('gives a clear error for a file without read permission', async () => {
    const file = path.join(dir, 'secret.db');
    await (await Store.open(file)).close();
    fs.chmodSync(file, 0o000);
    try {
      const e = await storeError(Store.open(file));
      expect(e.code).toBe('CANT_OPEN');
      expect(e.message).toMatch(/not readable and writable .*EACCES/);
    } finally {
      fs.chmodSync(file, 0o644);
    }
  });

  it('fails calls after close with CLOSED, and close is idempotent', async () => {
    const store = await Store.open(path.join(dir, 'c.db'));
    await store.close();
    await store.close();
    const e = await storeError(store.listRuns());
    expect(e.code).toBe('CLOSED');
  });
});
