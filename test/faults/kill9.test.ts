/**
 * kill -9 suite: the runner (a real `cairn train` process) and a worker are killed with
 * SIGKILL at seeded random rounds. After each kill: the database passes integrity_check, the
 * run is failed as interrupted (not "running" forever), resume redoes at most one checkpoint
 * interval and ends with exactly the metrics of an uninterrupted run of the same (config, seed).
 * Trials per kind: CAIRN_KILL_TRIALS (default 2, bounded for CI).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { failOrphans } from '../../src-main/runner/liveness';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { Rng } from '../../src-shared/rng';
import { getEnv } from '../../src-shared/registry';
import { RawDb } from '../db/helpers';
import { startCli, tmpDir } from '../helpers/cli';

const TRIALS = Math.max(1, Number(process.env.CAIRN_KILL_TRIALS ?? 2));
const ROUNDS = 24;
const EVERY = 4;
const ENVS = 2;
const SETS = [`train.episodes=${ROUNDS}`, `train.numEnvs=${ENVS}`, `train.checkpointEvery=${EVERY}`, 'env.episodeLimit=20'];
const SEED = 11;

const dir = tmpDir('cairn-kill9-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const rng = new Rng(20261202, 7);
const results = { trials: 0, failures: 0, lost: 0 };

async function series(store: Store, id: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const k of await store.metricKeys(id)) if (!k.startsWith('charts/')) out[k] = Array.from((await store.metricSeries(id, k)).value);
  return out;
}

async function createRun(store: Store): Promise<number> {
  const config = buildConfig({ preset: 'manitokan-pg', sets: SETS });
  const { id: envId, ...envValues } = config.env;
  return store.createRun({ name: 'k9', preset: 'manitokan-pg', config, seed: SEED, episodesTotal: ROUNDS, host: 'test', metricKeys: [...getEnv(envId)!.spec(envValues).metricKeys] });
}

/** Resume in-process and check the run against the reference. */
async function resumeAndCheck(file: string, id: number, reference: Record<string, number[]>): Promise<void> {
  const raw = new RawDb(file);
  expect(await raw.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
  await raw.close();
  const store = await Store.open(file);
  await failOrphans(store);
  const before = (await store.getRun(id))!;
  expect(before.status).toBe('failed');
  const runner = new Runner({ store, maxParallel: 1, backend: 'wasm' });
  const { fromRound } = await runner.resume(id);
  await runner.idle();
  runner.close();
  const log = (await store.runLog(id)).map((l) => l.message);
  const redo = log.map((l) => /(\d+) episodes recorded after that checkpoint are recomputed/.exec(l)).filter(Boolean).pop();
  const redoneRounds = redo ? Number(redo[1]) / ENVS : 0;
  expect(redoneRounds).toBeLessThanOrEqual(EVERY);
  expect(before.episodesDone - fromRound).toBeLessThanOrEqual(EVERY);
  const after = (await store.getRun(id))!;
  expect(after.status, after.error ?? '').toBe('done');
  const got = await series(store, id);
  await store.close();
  results.trials++;
  if (JSON.stringify(got) !== JSON.stringify(reference)) results.failures++;
  expect(got).toEqual(reference);
}

let reference: Record<string, number[]>;
beforeAll(async () => {
  const store = await Store.open(path.join(dir, 'reference.db'));
  const id = await createRun(store);
  const runner = new Runner({ store, maxParallel: 1, backend: 'wasm' });
  runner.enqueue(id);
  await runner.idle();
  runner.close();
  reference = await series(store, id);
  await store.close();
}, 300_000);

afterAll(() => {
  // The closing note's figures: trials, failures, data lost.
  process.stdout.write(`kill -9 suite: ${results.trials} trials, ${results.failures} failures, ${results.lost} runs with data lost\n`);
});

describe('kill -9 suite', () => {
  it.each(Array.from({ length: TRIALS }, (_, i) => i))('runner killed at a random round (trial %i)', async (trial) => {
    const file = path.join(dir, `runner-${trial}.db`);
    // Early rounds: a loaded CI machine trains a round every few seconds.
    const at = 2 + Math.floor(rng.float() * 7);
    const child = startCli(['train', '--preset', 'manitokan-pg', ...SETS.flatMap((s) => ['--set', s]), '--seed', String(SEED), '--db', file, '--parallel', '1']);
    const exited = new Promise((r) => child.on('exit', r));
    const t0 = Date.now();
    let done = 0;
    while (Date.now() - t0 < 240_000) {
      await new Promise((r) => setTimeout(r, 100));
      if (!fs.existsSync(file)) continue;
      const s = await Store.open(file, { readonly: true }).catch(() => null);
      if (!s) continue;
      done = (await s.getRun(1).catch(() => undefined))?.episodesDone ?? 0;
      await s.close();
      if (done >= at) break;
    }
    child.kill('SIGKILL');
    await exited;
    // Killed at `at`, or wherever it got to within the time bound (still a kill mid-run).
    expect(done).toBeGreaterThanOrEqual(1);
    // Its worker notices the lost parent and exits; give it a moment.
    await new Promise((r) => setTimeout(r, 500));
    const s = await Store.open(file, { readonly: true });
    expect((await s.getRun(1))!.status).toBe('running'); // until someone opens it read-write
    await s.close();
    await resumeAndCheck(file, 1, reference);
  }, 420_000);

  it.each(Array.from({ length: TRIALS }, (_, i) => i))('worker killed at a random round (trial %i)', async (trial) => {
    const file = path.join(dir, `worker-${trial}.db`);
    const at = 1 + Math.floor(rng.float() * (ROUNDS - 2));
    const store = await Store.open(file);
    const id = await createRun(store);
    const runner = new Runner({ store, maxParallel: 1, backend: 'wasm', workerEnv: { CAIRN_FAULT: `exit:${at}` } });
    runner.enqueue(id);
    await runner.idle();
    runner.close();
    const run = (await store.getRun(id))!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/signal SIGKILL/);
    await store.close();
    await resumeAndCheck(file, id, reference);
  }, 300_000);
});
