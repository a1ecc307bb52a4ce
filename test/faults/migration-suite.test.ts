/**
 * Migration suite: a database of every earlier schema version (1 .. current-1) is opened
 * read-only (refused with one line, file untouched, no backup) and read-write (upgraded after
 * a backup that is itself a readable database at the old version, every row kept). A current
 * file gets no backup.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src-main/db/migrations';
import { Store, StoreError } from '../../src-main/db/store';
import { RawDb } from '../db/helpers';
import { tmpDir } from '../helpers/cli';
import { databaseAtVersion } from './schema-fixtures';

const dir = tmpDir('cairn-migrate-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const versions = Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1);

describe('migration suite', () => {
  it.each(versions)('version %i: read-only open refuses and changes nothing; read-write open backs up, upgrades, keeps every row', async (v) => {
    const file = path.join(dir, `v${v}.db`);
    await databaseAtVersion(file, v);
    const before = sha(file);

    const ro = await Store.open(file, { readonly: true }).catch((e: unknown) => e);
    expect(ro).toBeInstanceOf(StoreError);
    expect((ro as StoreError).code).toBe('OLDER_SCHEMA');
    expect((ro as Error).message).toBe(
      `Cannot open run history ${file} read-only: its schema version ${v} is older than ${SCHEMA_VERSION}; open it once read-write (any cairn command that writes) to upgrade it`,
    );
    expect(sha(file)).toBe(before);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith(`v${v}.`) && n.includes('backup'))).toEqual([]);

    const store = await Store.open(file);
    const backup = path.join(dir, `v${v}.v${v}-backup.db`);
    expect(store.backupFile).toBe(backup);
    expect(store.migratedFrom).toBe(v);
    const run = (await store.getRun(1))!;
    expect(run).toMatchObject({ name: `run v${v}`, seed: 7, status: 'done', episodesDone: 3, runnerHost: null, heartbeatAt: null });
    expect(Array.from((await store.metricSeries(1, 'return_total')).value)).toEqual([0.25, 0.5, 0.75]);
    expect(await store.episodeCount(1)).toBe(2);
    expect(await store.listCheckpoints(1)).toHaveLength(1);
    await store.close();

    // The backup is the file as it was: same version, same rows, byte-for-byte the same content.
    const b = new RawDb(backup);
    expect(await b.get('PRAGMA user_version')).toEqual({ user_version: v });
    expect(await b.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    expect(await b.get('SELECT count(*) AS n FROM metrics')).toEqual({ n: 3 });
    await b.close();
    // A second open of the upgraded file takes no further backup.
    const again = await Store.open(file);
    expect(again.backupFile).toBeNull();
    await again.close();
    expect(fs.readdirSync(dir).filter((n) => n.startsWith(`v${v}.v`))).toEqual([`v${v}.v${v}-backup.db`]);
  });

  it('never overwrites an earlier backup', async () => {
    const file = path.join(dir, 'twice.db');
    await databaseAtVersion(file, 1);
    fs.writeFileSync(path.join(dir, 'twice.v1-backup.db'), 'an older backup');
    const store = await Store.open(file);
    expect(store.backupFile).toBe(path.join(dir, 'twice.v1-backup-2.db'));
    await store.close();
    expect(fs.readFileSync(path.join(dir, 'twice.v1-backup.db'), 'utf8')).toBe('an older backup');
  });
});
