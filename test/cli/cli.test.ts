/**
 * The real CLI binary end to end: every command, the exit-code-2 paths, and what a training
 * run leaves in the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, tmpDir } from '../helpers/cli';

const dir = tmpDir();
const db = path.join(dir, 'cli.db');
const env = { CAIRN_DB: db };

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('help', () => {
  it('the top level and every command print help and exit 0', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['train', 'eval', 'runs', 'show', 'stop', 'resume', 'export', 'presets', 'serve', 'bench']) {
      expect(top.stdout).toContain(c);
      const r = await cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(/Usage: cairn/);
    }
  });
});

describe('bad input exits 2 with one line naming the field', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"; one of train/],
    ['unknown preset', ['train', '--preset', 'nope'], /preset: expected one of .*manitokan-pg-history/],
    ['missing preset', ['train'], /--preset: required \(or --env-module PATH\); one of/],
    ['unknown key', ['train', '--preset', 'manitokan-random', '--set', 'env.bogus=1'], /env\.bogus: unknown key; allowed keys are .*episodeLimit/],
    ['wrong type', ['train', '--preset', 'manitokan-random', '--set', 'env.episodeLimit=abc'], /env\.episodeLimit: expected an integer/],
    ['out of range', ['train', '--preset', 'manitokan-random', '--set', 'env.numAgents=9'], /env\.numAgents: expected an integer in \[2, 4\], got "9"/],
    ['bad enum', ['train', '--preset', 'manitokan-random', '--set', 'env.agentOrder=sideways'], /env\.agentOrder: expected one of fixed, alternating, random/],
    ['bad section', ['train', '--preset', 'manitokan-random', '--set', 'foo=1'], /--set foo: a key starting with env\., algo\. or train\./],
    ['bad episodes', ['train', '--preset', 'manitokan-random', '--episodes', '0'], /--episodes: expected an integer in \[1,/],
    ['unknown flag', ['train', '--preset', 'manitokan-random', '--frob'], /Unknown option '--frob'/],
    ['bad backend', ['train', '--preset', 'manitokan-random', '--backend', 'tpu'], /backend: expected one of auto, tensorflow-gpu, tensorflow, wasm-blas, wasm, cpu/],
    ['unknown env', ['eval', '--env', 'atari', '--episodes', '5'], /--env: expected one of manitokan/],
    ['bad policy', ['eval', '--policy', 'greedy-bot', '--episodes', '5'], /--policy: expected random or run:ID/],
    ['missing database (read commands never create one)', ['show', '999'], /read-only: the file does not exist/],
    ['bad run id', ['show', 'abc'], /ID: expected a positive integer run id/],
    ['bad export format', ['export', '1', '--format', 'xls', '--out', '/tmp/x'], /--format: expected one of csv, json/],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const r = await cli(args, env);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
      expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    });
  }

  it('an unreadable database (a directory) exits 2 naming the file', async () => {
    const r = await cli(['runs', '--db', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(dir);
  });

  it('a file that is not a database exits 2', async () => {
    const f = path.join(dir, 'not-a-db.db');
    fs.writeFileSync(f, 'hello, this is plain text and no SQLite header'.repeat(100));
    const r = await cli(['runs', '--db', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not-a-db\.db/);
  });

  it('a locked database exits 2 saying it is locked', async () => {
    const f = path.join(dir, 'locked.db');
    await cli(['runs', '--db', f]); // create and migrate
    const holder = new sqlite3.Database(f);
    const exec = (sql: string) => new Promise<void>((res, rej) => holder.exec(sql, (e) => (e ? rej(e) : res())));
    await exec('PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS hold(x);');
    try {
      const r = await cli(['train', '--preset', 'manitokan-random', '--episodes', '1', '--db', f], { CAIRN_BUSY_TIMEOUT_MS: '300' });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/locked/i);
    } finally {
      await exec('ROLLBACK');
      await new Promise<void>((res) => holder.close(() => res()));
    }
  });
});

describe('train, runs, show, export, eval', () => {
  let runs: { id: number; seed: number; status: string; summary: Record<string, number | null> }[];

  beforeAll(async () => {
    const r = await cli(['train', '--preset', 'manitokan-random', '--seeds', '2', '--episodes', '30', '--envs', '4', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    runs = lastJson(r.stdout).runs;
  });

  it('train --json ends with one JSON line holding each run and its final-10% summary', () => {
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.seed)).toEqual([1, 2]);
    for (const r of runs) {
      expect(r.status).toBe('done');
      for (const k of ['collective_success', 'return_total', 'key_drops', 'episode_length', 'agent_distance', 'door_opened_0', 'key_pickups_1']) {
        expect(r.summary, k).toHaveProperty(k);
      }
      expect(r.summary.collective_success).toBeGreaterThanOrEqual(0);
      expect(r.summary.collective_success).toBeLessThanOrEqual(1);
    }
  });

  it('leaves runs, metric points and episodes in the database', async () => {
    const conn = new sqlite3.Database(db, sqlite3.OPEN_READONLY);
    const get = (sql: string, p: unknown[]) => new Promise<any>((res, rej) => conn.get(sql, p, (e, row) => (e ? rej(e) : res(row))));
    try {
      for (const r of runs) {
        const run = await get('SELECT status, backend, episodes_done FROM runs WHERE id = ?', [r.id]);
        expect(run).toMatchObject({ status: 'done', episodes_done: 30 });
        expect(run.backend).toBeTruthy();
        const eps = await get('SELECT COUNT(*) AS n FROM episodes WHERE run_id = ?', [r.id]);
        expect(eps.n).toBe(30 * 4);
        const pts = await get(
          'SELECT COUNT(*) AS n FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND k.name = ?',
          [r.id, 'collective_success'],
        );
        expect(pts.n).toBe(30);
        const replays = await get('SELECT COUNT(*) AS n FROM episodes WHERE run_id = ? AND replay IS NOT NULL', [r.id]);
        expect(replays.n).toBe(3); // rounds 10, 20, 30 (replayEvery 10; the last is always kept)
      }
    } finally {
      await new Promise<void>((res) => conn.close(() => res()));
    }
  });

  it('runs --json lists them; runs prints a table', async () => {
    const j = await cli(['runs', '--json'], env);
    expect(j.code).toBe(0);
    const ids = lastJson(j.stdout).runs.map((r: { id: number }) => r.id);
    expect(ids).toEqual(expect.arrayContaining(runs.map((r) => r.id)));
    const t = await cli(['runs'], env);
    expect(t.stdout).toMatch(/id\s+name\s+env\s+algo/);
    expect(t.stdout).toContain('manitokan-random');
  });

  it('show prints the run and --json its record', async () => {
    const t = await cli(['show', String(runs[0].id)], env);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/status\s+done/);
    const j = lastJson((await cli(['show', String(runs[0].id), '--json'], env)).stdout);
    expect(j).toMatchObject({ id: runs[0].id, seed: 1, status: 'done', episodesDone: 30 });
    expect(j.config.env.id).toBe('manitokan');
  });

  it('export writes CSV and JSON with every point', async () => {
    const csv = path.join(dir, 'run.csv');
    const r = await cli(['export', String(runs[0].id), '--format', 'csv', '--out', csv], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('run_id,seed,key,episode,step,wall_time,value');
    expect(lines.filter((l) => l.split(',')[2] === 'collective_success')).toHaveLength(30);
    const json = path.join(dir, 'run.json');
    expect((await cli(['export', String(runs[0].id), '--format', 'json', '--out', json], env)).code).toBe(0);
    const data = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(data.series.collective_success.value).toHaveLength(30);
    expect(data.episodes).toHaveLength(120);
  });

  it('eval of the random policy is deterministic per seed and counts episodes, not rounds', async () => {
    const args = ['eval', '--env', 'manitokan', '--policy', 'random', '--episodes', '300', '--seed', '3', '--envs', '16', '--json'];
    const a = lastJson((await cli(args, env)).stdout);
    const b = lastJson((await cli(args, env)).stdout);
    expect(a.episodes).toBe(300);
    expect(a).toEqual(b);
    expect(a.collective_success).toBeGreaterThan(0);
    expect(a.collective_success).toBeLessThan(0.5);
    const c = lastJson((await cli([...args.slice(0, -3), '--seed', '4', '--json'], env)).stdout);
    expect(c.return_total).not.toBe(a.return_total);
  });

  it('eval --set changes the env (a longer episode limit opens more doors)', async () => {
    const base = ['eval', '--policy', 'random', '--episodes', '400', '--seed', '1', '--json'];
    const short = lastJson((await cli([...base, '--set', 'env.episodeLimit=20'], env)).stdout);
    const long = lastJson((await cli([...base, '--set', 'env.episodeLimit=300'], env)).stdout);
    expect(short.episode_length).toBeLessThanOrEqual(20);
    expect(long.collective_success).toBeGreaterThan(short.collective_success);
  });

  it('presets lists the paper presets', async () => {
    const r = await cli(['presets'], env);
    for (const p of ['manitokan-pg', 'manitokan-pg-doorkey', 'manitokan-pg-history', 'manitokan-pg-released-code', 'manitokan-pg-doorkey-released-code', 'manitokan-pg-history-released-code', 'manitokan-random']) {
      expect(r.stdout).toMatch(new RegExp(`^${p}\\s`, 'm'));
    }
  });
});

describe('stop, resume and evaluating a trained policy', () => {
  it('a stopped PG run resumes from its checkpoint and finishes with every round once', async () => {
    const { startCli } = await import('../helpers/cli');
    const child = startCli(
      ['train', '--preset', 'manitokan-pg-history', '--episodes', '600', '--envs', '4', '--set', 'train.checkpointEvery=25', '--set', 'env.episodeLimit=40', '--json'],
      env,
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const m = await new Promise<RegExpMatchArray>((res, rej) => {
      const t = setInterval(() => {
        const mm = stderr.match(/experiment \d+: 1 run\(s\) \[(\d+)\]/);
        if (mm) {
          clearInterval(t);
          res(mm);
        }
      }, 100);
      setTimeout(() => rej(new Error('train did not start: ' + stderr)), 60_000);
    });
    const id = m[1];
    // Once it is training, stop it from another process.
    const conn = new sqlite3.Database(db, sqlite3.OPEN_READONLY);
    const get = (sql: string, p: unknown[]) => new Promise<any>((res, rej) => conn.get(sql, p, (e, row) => (e ? rej(e) : res(row))));
    for (let i = 0; i < 600; i++) {
      const r = await get('SELECT episodes_done AS n FROM runs WHERE id = ?', [id]).catch(() => ({ n: 0 }));
      if (r?.n > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const s = await cli(['stop', id], env);
    expect(s.code, s.stderr).toBe(0);
    const exit = await new Promise<number | null>((res) => child.on('exit', res));
    expect(exit).toBe(0);
    const stopped = lastJson((await cli(['show', id, '--json'], env)).stdout);
    expect(stopped.status).toBe('stopped');
    expect(stopped.episodesDone).toBeLessThan(600);
    expect(stopped.episodesDone).toBeGreaterThan(0);
    expect(stopped.checkpoints.length).toBeGreaterThan(0);

    const r = await cli(['resume', id, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resuming run ${id} from round ${stopped.episodesDone}`));
    const done = lastJson((await cli(['show', id, '--json'], env)).stdout);
    expect(done.status).toBe('done');
    expect(done.episodesDone).toBe(600);
    const rounds = await get(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT episode) AS d FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND k.name = ?',
      [id, 'collective_success'],
    );
    expect(rounds).toEqual({ n: 600, d: 600 });
    const eps = await get('SELECT COUNT(*) AS n FROM episodes WHERE run_id = ?', [id]);
    expect(eps.n).toBe(2400);
    await new Promise<void>((res) => conn.close(() => res()));

    const ev = await cli(['eval', '--policy', `run:${id}`, '--episodes', '64', '--seed', '1', '--json'], env);
    expect(ev.code, ev.stderr).toBe(0);
    const e = lastJson(ev.stdout);
    expect(e.episodes).toBe(64);
    expect(e.backend).toBe('wasm');
    const g = lastJson((await cli(['eval', '--policy', `run:${id}`, '--episodes', '64', '--seed', '1', '--greedy', '--json'], env)).stdout);
    expect(g.greedy).toBe(true);
    expect(g.episode_length).toBeGreaterThan(0);

    expect((await cli(['resume', id], env)).code).toBe(2); // already done
    expect((await cli(['stop', id], env)).code).toBe(2); // not running
  });
});
