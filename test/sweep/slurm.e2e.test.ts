/**
 * Sweeps on a real one-node Slurm cluster (started here, stopped after) through the real CLI:
 * the same sweep locally and on Slurm (submitted and collected over ssh, through a throwaway
 * sshd on loopback) gives identical runs; a task requeued mid-run resumes from its checkpoint;
 * faults are clear messages with nothing collected lost. Skipped, saying why, where Slurm or
 * sshd cannot start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { Store } from '../../src-main/db/store';
import { BIN, cli, lastJson, tmpDir } from '../helpers/cli';
import { startCluster, type Cluster } from './slurm-cluster';
import { startSshd, type Sshd } from './sshd';

const dir = tmpDir('cairn-sweep-e2e-');
let cluster: Cluster | string = 'not started';
let sshd: Sshd | string = 'not started';

beforeAll(async () => {
  cluster = await startCluster();
  if (typeof cluster === 'string') {
    process.stderr.write(`\n[sweep e2e] skipping the Slurm tests: ${cluster}\n`);
    return;
  }
  sshd = await startSshd(cluster.env);
  if (typeof sshd === 'string') process.stderr.write(`\n[sweep e2e] skipping the ssh test: ${sshd}\n`);
}, 90_000);

afterAll(async () => {
  if (typeof sshd !== 'string') await sshd.stop();
  if (typeof cluster !== 'string') await cluster.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function needCluster(ctx: TestContext): Cluster {
  if (typeof cluster === 'string') ctx.skip(`Slurm cannot start here: ${cluster}`);
  return cluster as Cluster;
}

/** Timing, not training: differs between any two runs. */
const TIMING = new Set(['charts/env_steps_per_s']);

const SWEEP = ['--preset', 'manitokan-pg', '--axis', 'algo.lr=1e-3,3e-3', '--seeds', '2', '--episodes', '3', '--envs', '4', '--set', 'train.replayEvery=1'];

interface RunData {
  key: string;
  rounds: number;
  status: string;
  metrics: Record<string, number[]>;
  episodes: unknown[];
  replays: unknown[];
}

/** Everything a run recorded that must not depend on where it ran, by (variant, seed). */
async function dump(db: string): Promise<Map<string, RunData>> {
  const store = await Store.open(db, { readonly: true });
  try {
    const out = new Map<string, RunData>();
    for (const r of (await store.listRuns({})).rows) {
      const metrics: Record<string, number[]> = {};
      for (const k of await store.metricKeys(r.id)) {
        if (!TIMING.has(k)) metrics[k] = Array.from((await store.metricSeries(r.id, k)).value);
      }
      const eps = await store.listEpisodes(r.id);
      const replays = [];
      for (const e of eps) if (e.hasReplay) replays.push(await store.getReplay(r.id, e.idx));
      const key = `${JSON.stringify(r.config.algo)} s${r.seed}`;
      out.set(key, { key, rounds: r.episodesDone, status: r.status, metrics, episodes: eps.map(({ runId: _r, ...e }) => e), replays });
    }
    return out;
  } finally {
    await store.close();
  }
}

function expectSame(a: Map<string, RunData>, b: Map<string, RunData>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, ra] of a) {
    const rb = b.get(k)!;
    expect(rb.status, k).toBe('done');
    expect(rb.rounds, k).toBe(ra.rounds);
    expect(Object.keys(rb.metrics).sort(), k).toEqual(Object.keys(ra.metrics).sort());
    for (const m of Object.keys(ra.metrics)) expect(rb.metrics[m], `${k} ${m}`).toEqual(ra.metrics[m]);
    expect(rb.episodes, k).toEqual(ra.episodes);
    expect(rb.replays.length, k).toBeGreaterThan(0);
    expect(rb.replays, k).toEqual(ra.replays);
  }
}

describe('cairn sweep on Slurm', () => {
  const localDb = path.join(dir, 'local.db');

  it('runs the same sweep locally and on the cluster (submitted and collected over ssh) with identical runs, metrics, episodes and replays; collect is idempotent', async (ctx) => {
    const c = needCluster(ctx);
    const slurmDb = path.join(dir, 'slurm.db');
    const folder = path.join(dir, 'sweep-a');
    // Over ssh to a throwaway sshd on loopback when one starts here, else on this machine.
    const ssh = typeof sshd === 'string' ? [] : ['--ssh', sshd.host, '--cairn', `${process.execPath} ${BIN}`];
    if (typeof sshd === 'string') process.stderr.write(`[sweep e2e] submitting without ssh: ${sshd}\n`);
    const env = typeof sshd === 'string' ? c.env : { ...c.env, ...sshd.env };
    const sub = await cli(['sweep', ...SWEEP, '--executor', 'slurm', ...ssh, '--dir', folder, '--db', slurmDb, '--json', '--time', '10:00', '--cpus-per-task', '1'], env);
    expect(sub.code, sub.stderr).toBe(0);
    const { sweepId, jobId } = lastJson(sub.stdout);
    expect(fs.readFileSync(path.join(folder, 'job.sh'), 'utf8')).toMatch(/#SBATCH --array=0-3\n[\s\S]*#SBATCH --time=10:00\n#SBATCH --cpus-per-task=1/);
    // Meanwhile, the same sweep on the local pool.
    const local = await cli(['sweep', ...SWEEP, '--db', localDb, '--json', '--parallel', '2'], c.env);
    expect(local.code, local.stderr).toBe(0);
    expect(lastJson(local.stdout).state).toBe('done');

    const col = await cli(['sweep', 'collect', String(sweepId), '--wait', '--every', '1', '--db', slurmDb, '--json'], env);
    expect(col.code, col.stderr).toBe(0);
    const rep = lastJson(col.stdout);
    expect(rep.state).toBe('done');
    expect(rep.counts.done).toBe(4);
    expect(lastJson(sub.stdout).runIds).toHaveLength(4);
    expectSame(await dump(localDb), await dump(slurmDb));

    // Again: nothing new, nothing duplicated.
    const again = await cli(['sweep', 'collect', String(sweepId), '--db', slurmDb, '--json'], env);
    expect(lastJson(again.stdout)).toMatchObject({ updated: 0, rounds: 0, state: 'done' });
    expectSame(await dump(localDb), await dump(slurmDb));

    const list = await cli(['sweep', 'list', '--db', slurmDb, '--json']);
    expect(lastJson(list.stdout)[0]).toMatchObject({ id: sweepId, executor: 'slurm', jobId: String(jobId), state: 'done' });

    // A half-written run file (a copy cut short) is reported; what was collected stays.
    fs.writeFileSync(path.join(folder, 'runs', 'task-1.db'), fs.readFileSync(path.join(folder, 'runs', 'task-1.db')).subarray(0, 3000));
    const st = JSON.parse(fs.readFileSync(path.join(folder, 'runs', 'task-1.json'), 'utf8'));
    fs.writeFileSync(path.join(folder, 'runs', 'task-1.json'), JSON.stringify({ ...st, publishedRound: 99 }) + '\n');
    const bad = await cli(['sweep', 'collect', String(sweepId), '--db', slurmDb, '--json'], env);
    expect(bad.stderr).toMatch(/task 1: run file .*task-1\.db could not be read .*kept the 3 rounds collected before/);
    expectSame(await dump(localDb), await dump(slurmDb));

    // An unreachable host: said on the sweep, nothing collected lost.
    const unreachable = await cli(['sweep', 'collect', String(sweepId), '--db', slurmDb, '--ssh', 'nosuch.invalid'], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^cairn: cannot reach nosuch\.invalid over ssh: /);
    const store = await Store.open(slurmDb, { readonly: true });
    try {
      expect((await store.getSweep(sweepId))!.message).toMatch(/cannot reach nosuch\.invalid/);
    } finally {
      await store.close();
    }
    expectSame(await dump(localDb), await dump(slurmDb));
  }, 400_000);

  it('a task requeued mid-run resumes from its checkpoint and ends identical to an uninterrupted run', async (ctx) => {
    const c = needCluster(ctx);
    const db = path.join(dir, 'requeue.db');
    const folder = path.join(dir, 'sweep-b');
    const args = ['--preset', 'manitokan-pg', '--seeds', '1', '--episodes', '24', '--envs', '2', '--set', 'train.checkpointEvery=1', '--set', 'train.replayEvery=4'];
    // The task holds after round 3 until it is signalled (the worker's stall fault; sbatch
    // passes the environment on), so the requeue lands mid-run however fast this machine is.
    const sub = await cli(['sweep', ...args, '--executor', 'slurm', '--dir', folder, '--db', db, '--json'], { ...c.env, CAIRN_FAULT: 'stall:3' });
    expect(sub.code, sub.stderr).toBe(0);
    const { sweepId, jobId } = lastJson(sub.stdout);
    const status = path.join(folder, 'runs', 'task-0.json');
    const t0 = Date.now();
    for (;;) {
      const s = fs.existsSync(status) ? JSON.parse(fs.readFileSync(status, 'utf8')) : null;
      if (s && s.publishedRound >= 2 && s.status === 'running') break;
      if (s && s.status !== 'running') throw new Error(`task ended before it could be requeued: ${JSON.stringify(s)}`);
      if (Date.now() - t0 > 90_000) throw new Error('task did not publish a checkpoint');
      await new Promise((r) => setTimeout(r, 100));
    }
    const slurmEnv = { ...process.env, ...c.env };
    execFileSync('scontrol', ['requeue', `${jobId}_0`], { env: slurmEnv });
    // Slurm holds a requeued job for about two minutes; as the cluster's admin, start it now.
    for (let i = 0; i < 50; i++) {
      const st = execFileSync('squeue', ['-h', '-r', '-j', `${jobId}_0`, '-o', '%T %r'], { env: slurmEnv, encoding: 'utf8' }).trim();
      if (st.startsWith('PENDING')) {
        // Not within the requeue's second: slurmd revoked the job's credential when it killed
        // it and refuses a launch credential of the same job id issued in the same second
        // ("Killing non-startable batch JobId=1: Job credential revoked"), which an idle, fast
        // machine reaches.
        await new Promise((r) => setTimeout(r, 1500));
        execFileSync('scontrol', ['update', `JobId=${jobId}_0`, 'StartTime=now'], { env: slurmEnv });
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const col = await cli(['sweep', 'collect', String(sweepId), '--wait', '--every', '1', '--db', db, '--json'], c.env);
    expect(col.code, col.stderr).toBe(0);
    expect(lastJson(col.stdout).state).toBe('done');
    const log = fs.readFileSync(path.join(folder, 'logs', 'task-0.out'), 'utf8');
    expect(log).toMatch(/resuming from round [1-9]/);
    // The same (config, seed) trained in one go.
    const ref = path.join(dir, 'requeue-ref.db');
    const train = await cli(['train', '--preset', 'manitokan-pg', '--seed', '1', ...args.slice(4), '--db', ref, '--json'], c.env);
    expect(train.code, train.stderr).toBe(0);
    const got = await dump(db);
    const want = await dump(ref);
    expectSame(want, got);
  }, 300_000);

  it('faults: no sbatch, a rejected submission, a task that dies: clear messages on the sweep and its runs', async (ctx) => {
    const c = needCluster(ctx);
    const db = path.join(dir, 'faults.db');
    const base = ['--preset', 'manitokan-pg', '--seeds', '1', '--episodes', '2', '--envs', '2', '--executor', 'slurm', '--db', db];
    const r1 = await cli(['sweep', ...base, '--dir', path.join(dir, 'f1')], { ...c.env, PATH: '/nonexistent' });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/^cairn: sbatch not found on this machine/);
    const r2 = await cli(['sweep', ...base, '--dir', path.join(dir, 'f2'), '--partition', 'nosuch'], c.env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^cairn: sbatch rejected the job array on this machine: .*partition/i);
    const r3 = await cli(['sweep', ...base, '--dir', path.join(dir, 'f3'), '--cairn', '/bin/false', '--json'], c.env);
    expect(r3.code, r3.stderr).toBe(0);
    const { sweepId } = lastJson(r3.stdout);
    const col = await cli(['sweep', 'collect', String(sweepId), '--wait', '--every', '1', '--db', db, '--json'], c.env);
    expect(col.code).toBe(1);
    expect(lastJson(col.stdout)).toMatchObject({ state: 'failed', counts: { failed: 1 } });

    const store = await Store.open(db, { readonly: true });
    try {
      const sweeps = await store.listSweeps();
      expect(sweeps.map((s) => s.state)).toEqual(['failed', 'failed', 'failed']);
      expect(sweeps[0].message).toMatch(/sbatch not found/);
      expect(sweeps[1].message).toMatch(/rejected/);
      expect(sweeps[2].message).toMatch(/task 0: .*FAILED/);
      const runs = (await store.listRuns({ orderBy: 'id' })).rows;
      expect(runs.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
      expect(runs[0].error).toMatch(/^not submitted: sbatch not found/);
      expect(runs[2].error).toMatch(/the scheduler reports FAILED for job \d+_0/);
    } finally {
      await store.close();
    }
  }, 200_000);
});
