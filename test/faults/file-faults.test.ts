/**
 * File-fault suite: damaged and unusual database and checkpoint files through the real CLI.
 * Each case has its exit code, its one-line message naming the file, and the file left
 * byte-for-byte untouched.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../../src-main/db/paths';
import { Store } from '../../src-main/db/store';
import { writeCheckpointFile } from '../../src-main/runner/checkpoint-file';
import { addRun } from '../db/helpers';
import { BIN, cli, ROOT, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-faults-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** A closed database with one run and enough metric points to span many pages. */
async function populated(file: string): Promise<number> {
  const store = await Store.open(file);
  const id = await addRun(store);
  await store.updateRun(id, { status: 'failed' });
  const points = Array.from({ length: 6000 }, (_, i) => ({ key: `k${i % 3}`, step: i, episode: i, wallTime: i, value: i / 7 }));
  await store.appendMetrics(id, points);
  await store.close();
  return id;
}

describe('file-fault suite', () => {
  it('a damaged database: write commands refuse with exit 2 and one line, the file untouched', async () => {
    const file = path.join(dir, 'damaged.db');
    await populated(file);
    const fd = fs.openSync(file, 'r+');
    const size = fs.fstatSync(fd).size;
    // Garbage over a page in the middle (index and table pages), the header left intact.
    fs.writeSync(fd, Buffer.alloc(4096, 0x55), 0, 4096, Math.floor(size / 4096 / 2) * 4096);
    fs.closeSync(fd);
    const before = sha(file);
    const r = await cli(['stop', '1', '--db', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^cairn: Cannot write to run history ${file}: the database is damaged \\(quick_check: [^\\n]+\\); nothing was written; [^\\n]+\\n$`));
    expect(sha(file)).toBe(before);
  });

  it('a file that is not a database, and a --db under /proc: exit 2, one line, no hang', async () => {
    const file = path.join(dir, 'notes.db');
    fs.writeFileSync(file, 'my notes, not a database '.repeat(100));
    const before = sha(file);
    const r = await cli(['resume', '1', '--db', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cairn: Cannot open run history ${file}: the file is not a SQLite database\n`);
    expect(sha(file)).toBe(before);
    const p = await cli(['train', '--preset', 'manitokan-random', '--db', '/proc/cairn-test/x/cairn.db'], {}, 60_000);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/^cairn: Cannot open run history \/proc\/cairn-test\/x\/cairn\.db: cannot create its folder \/proc\/cairn-test\/x \(\w+\)\n$/);
  });

  it('damaged checkpoints: resume exits 2 naming the file and changes nothing', async () => {
    const file = path.join(dir, 'ckpt.db');
    const store = await Store.open(file);
    const id = await addRun(store);
    await store.updateRun(id, { status: 'failed', episodesDone: 20 });
    const ck = checkpointDir(file, id);
    const sample = { tensors: { w: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } }, extra: { cairn: { round: 10, envSteps: 100, episodeIdx: 40 } } };
    const paths = [10, 20].map((round) => path.join(ck, `round-${String(round).padStart(8, '0')}.ckpt`));
    for (const [i, p] of paths.entries()) {
      writeCheckpointFile(p, { ...sample, extra: { cairn: { ...sample.extra.cairn, round: (i + 1) * 10 } } });
      await store.addCheckpoint({ runId: id, update: (i + 1) * 10, episode: (i + 1) * 10, envSteps: 0, path: p, bytes: 1 });
    }
    await store.appendEpisodes(id, [{ idx: 0, round: 15, envIndex: 0, length: 3, return: 0, success: 0, values: [0, 0, 0] }]);
    await store.close();
    fs.truncateSync(paths[1], fs.statSync(paths[1]).size - 4); // cut at a 4-byte boundary
    const b = Buffer.from(fs.readFileSync(paths[0]));
    b[40] ^= 1; // one flipped bit
    fs.writeFileSync(paths[0], b);
    const before = paths.map(sha);
    const r = await cli(['resume', String(id), '--db', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `cairn: checkpoint ${paths[1]}: damaged (checksum mismatch); it cannot be resumed from, and none of the run's 2 checkpoint(s) is intact; nothing was changed\n`,
    );
    expect(paths.map(sha)).toEqual(before);
    const after = await Store.open(file, { readonly: true });
    expect((await after.getRun(id))!.status).toBe('failed');
    expect(await after.episodeCount(id)).toBe(1);
    expect(await after.listCheckpoints(id)).toHaveLength(2);
    await after.close();
  });

  it('a database in a folder this user cannot write is still readable (immutable read-only open)', async () => {
    const ro = path.join(dir, 'shared');
    fs.mkdirSync(ro);
    const file = path.join(ro, 'colleague.db');
    await populated(file);
    const asRoot = process.getuid?.() === 0;
    // As root, permissions do not bind: run the CLI as `nobody`, who may read but not write here.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(ro, 0o755);
    fs.chmodSync(file, 0o644);
    if (!asRoot) fs.chmodSync(ro, 0o555);
    const before = sha(file);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const args = [BIN, 'runs', '--json', '--db', file];
      const child = asRoot
        ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { cwd: ROOT, env: { ...process.env, HOME: '/tmp' } })
        : spawn(process.execPath, args, { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    if (!asRoot) fs.chmodSync(ro, 0o755);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 1, runs: [{ id: 1, status: 'failed' }] });
    expect(sha(file)).toBe(before);
    expect(fs.readdirSync(ro)).toEqual(['colleague.db']);
  });

  it('export --out to a bad path: exit 2 and a sentence', async () => {
    const file = path.join(dir, 'export.db');
    await populated(file);
    const out = path.join(dir, 'no-such-folder', 'run.csv');
    const r = await cli(['export', '1', '--format', 'csv', '--out', out, '--db', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cairn: --out: cannot write ${out}: its folder does not exist\n`);
  });
});
