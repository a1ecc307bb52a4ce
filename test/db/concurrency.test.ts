/** Several connections on one file: WAL readers during writes, and lock contention. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src-main/db/store';
import { episodeBatch, metricBatch, type Workload } from './fixtures/workload';
import { addRun, cleanup, RawDb, tempDir } from './helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readerScript = fileURLToPath(new URL('./fixtures/reader.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = path.join(dir, 'cairn.db');
});
afterEach(() => cleanup(dir));

describe('concurrent access', () => {
  it('a reader in another process sees whole batches while a writer appends many', async () => {
    const store = await Store.open(file);
    try {
      const runId = await addRun(store);
      const w: Workload = { runId, keys: 20, roundsPerBatch: 50, envs: 4, batches: 40, deadlineMs: 60_000 };
      const child = spawn(process.execPath, ['--import', 'tsx', readerScript, file, JSON.stringify(w)], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 30_000;
      while (!out.includes('ready\n')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`reader did not start: ${err}`);
        await sleep(20);
      }

      for (let b = 0; b < w.batches; b++) {
        await store.appendMetrics(runId, metricBatch(w, b));
        await store.appendEpisodes(runId, episodeBatch(w, b));
        await store.updateRun(runId, { episodesDone: (b + 1) * w.roundsPerBatch });
        await sleep(5);
      }
      expect(await exited, err).toBe(0);
      const report = JSON.parse(out.trim().split('\n').pop()!) as { reads: number; partial: number; done: boolean; errors: string[] };
      expect(report.errors).toEqual([]);
      expect(report.done).toBe(true);
      // The reader really overlapped the writes: it saw the run part-written.
      expect(report.partial).toBeGreaterThan(0);
      expect(await store.episodeCount(runId)).toBe(w.batches * w.roundsPerBatch * w.envs);
    } finally {
      await store.close();
    }
  });

  it('a write blocked by another connection past the busy timeout fails with a clear LOCKED error', async () => {
    const store = await Store.open(file, { busyTimeoutMs: 200 });
    const locker = new RawDb(file);
    try {
      await store.createExperiment({ name: 'before' });
      await locker.exec("BEGIN EXCLUSIVE; INSERT INTO experiments (name, created_at) VALUES ('locker', 0);");
      const t0 = Date.now();
      const err = await store.createExperiment({ name: 'blocked' }).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
      expect(err).toBeInstanceOf(StoreError);
      const e = err as StoreError;
      expect(e.code).toBe('LOCKED');
      expect(e.file).toBe(file);
      expect(e.message).toBe(
        `Run history ${file}: the database is locked by another connection (still locked after waiting 200 ms); ` +
          'another Cairn process is probably writing to it, try again when it is done',
      );
      expect((e.cause as { code?: string }).code).toBe('SQLITE_BUSY');

      // WAL: reading goes on while another connection writes, and sees only committed rows.
      expect((await store.listExperiments()).map((x) => x.name)).toEqual(['before']);

      await locker.exec('ROLLBACK');
      await store.createExperiment({ name: 'after' });
      expect((await store.listExperiments()).map((x) => x.name)).toEqual(['before', 'after']);
    } finally {
      await locker.close();
      await store.close();
    }
  });

  it('a write waits out a short lock instead of failing', async () => {
    const store = await Store.open(file);
    const locker = new RawDb(file);
    try {
      const runId = await addRun(store);
      await locker.exec("BEGIN IMMEDIATE; UPDATE runs SET notes = 'held' WHERE id = 1;");
      const release = sleep(300).then(() => locker.exec('COMMIT'));
      const t0 = Date.now();
      await store.appendMetrics(runId, [{ key: 'k', step: 1, episode: 1, wallTime: 1, value: 1 }]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      await release;
      expect((await store.getRun(runId))!.notes).toBe('held');
      expect(Array.from((await store.metricSeries(runId, 'k')).value)).toEqual([1]);
    } finally {
      await locker.close();
      await store.close();
    }
  });
});
