/**
 * `cairn delete`: asks first, deletes the rows and only the run's own checkpoint files. A
 * doctored database whose checkpoint rows name other files (outside the folder, or a symlink
 * inside it) deletes none of them. Also: commands on existing runs never create a database.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { checkpointDir } from '../../src-main/db/paths';
import { addRun } from '../db/helpers';
import { BIN, cli, ROOT, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-delete-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cliWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('cairn delete', () => {
  it('asks, then removes the run and its own checkpoint files but never a file a doctored row names', async () => {
    const db = path.join(dir, 'doctored.db');
    const store = await Store.open(db);
    const id = await addRun(store);
    await store.updateRun(id, { status: 'done' });
    const ck = checkpointDir(db, id);
    fs.mkdirSync(ck, { recursive: true });
    const own = path.join(ck, 'round-00000010.ckpt');
    fs.writeFileSync(own, 'x');
    const victim = path.join(dir, 'precious.txt');
    fs.writeFileSync(victim, 'do not delete');
    const link = path.join(ck, 'round-00000020.ckpt');
    fs.symlinkSync(victim, link);
    const sneaky = path.join(ck, '..', '..', '..', 'precious.txt'); // resolves to the victim
    for (const [i, p] of [own, victim, link, sneaky].entries()) {
      await store.addCheckpoint({ runId: id, update: i, episode: i, envSteps: i, path: p, bytes: 1 });
    }
    const keep = await addRun(store);
    await store.close();

    const no = await cliWithInput(['delete', String(id), '--db', db], 'n\n');
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/Delete run \d+ \(run, done\) with their metrics, episodes and checkpoint files\? \[y\/N\] cairn: not deleted/);
    expect(fs.existsSync(own)).toBe(true);

    const yes = await cliWithInput(['delete', String(id), '--db', db], 'y\n');
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toBe(`deleted run ${id} (1 checkpoint files)\n`);
    expect(yes.stderr).toContain(`left ${victim} alone: outside the run's checkpoint folder`);
    expect(yes.stderr).toContain(`left ${link} alone: outside the run's checkpoint folder`);
    expect(fs.readFileSync(victim, 'utf8')).toBe('do not delete');
    expect(fs.existsSync(own)).toBe(false);
    const after = await Store.open(db, { readonly: true });
    expect(await after.getRun(id)).toBeUndefined();
    expect(await after.getRun(keep)).toBeDefined();
    await after.close();
  });

  it('--yes skips the question; unknown ids and running runs exit 2 with one line', async () => {
    const db = path.join(dir, 'yes.db');
    const store = await Store.open(db);
    const a = await addRun(store);
    const b = await addRun(store);
    await store.updateRun(a, { status: 'stopped' });
    await store.updateRun(b, { status: 'running', runnerPid: process.pid });
    await store.close();
    const missing = await cli(['delete', '999', '--yes', '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`cairn: ID: run 999 does not exist in ${db}\n`);
    const running = await cli(['delete', String(b), '--yes', '--db', db]);
    expect(running.code).toBe(2);
    expect(running.stderr).toBe(`cairn: ID: run ${b} is running; stop it before deleting it\n`);
    const ok = await cli(['delete', String(a), '--yes', '--db', db]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`deleted run ${a} (0 checkpoint files)\n`);
  });

  it.each([['resume'], ['delete']])('`cairn %s` on a mistyped --db exits 2 and creates nothing', async (cmd) => {
    const db = path.join(dir, 'typo', 'cairm.db');
    const res = await cli([cmd, '1', '--db', db, ...(cmd === 'delete' ? ['--yes'] : [])]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`cairn: Cannot open run history ${db}: the file does not exist (check --db or CAIRN_DB)\n`);
    expect(fs.existsSync(path.dirname(db))).toBe(false);
  });
});
