/**
 * Resume validates checkpoints in the runner before touching the database: a damaged newest
 * checkpoint falls back to the newest intact one (and says which), the result is identical to
 * an uninterrupted run, and when no checkpoint is intact nothing is deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { CheckpointError } from '../../src-main/runner/checkpoint-file';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-resume-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SETS = ['train.episodes=14', 'train.numEnvs=2', 'train.checkpointEvery=4', 'env.episodeLimit=20'];

async function createRun(store: Store, seed: number): Promise<number> {
  const config = buildConfig({ preset: 'manitokan-pg', sets: SETS });
  const { id: envId, ...envValues } = config.env;
  return store.createRun({
    name: `s${seed}`,
    preset: 'manitokan-pg',
    config,
    seed,
    episodesTotal: Number(config.train.episodes),
    host: 'test',
    metricKeys: [...getEnv(envId)!.spec(envValues).metricKeys],
  });
}

async function allSeries(store: Store, id: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const k of await store.metricKeys(id)) {
    if (k.startsWith('charts/')) continue; // throughput, not a result
    out[k] = Array.from((await store.metricSeries(id, k)).value);
  }
  return out;
}

describe('resume fallback', () => {
  it('skips a damaged newest checkpoint, resumes from the newest intact one, and matches an uninterrupted run', async () => {
    const store = await Store.open(path.join(dir, 'fallback.db'));
    const ref = await createRun(store, 3);
    const crashed = await createRun(store, 3);
    const first = new Runner({ store, maxParallel: 2, backend: 'wasm', workerEnv: { CAIRN_FAULT: `exit:13:${crashed}` } });
    first.enqueue(ref);
    first.enqueue(crashed);
    await first.idle();
    first.close();
    expect((await store.getRun(crashed))!.status).toBe('failed');
    const ckpts = await store.listCheckpoints(crashed);
    expect(ckpts.map((c) => c.episode)).toEqual([4, 8, 12]);
    // Cut the newest at a 4-byte boundary, as the trial did.
    const newest = ckpts[2].path;
    const size = fs.statSync(newest).size;
    fs.truncateSync(newest, size - 8);

    const again = new Runner({ store, maxParallel: 1, backend: 'wasm' });
    const res = await again.resume(crashed);
    expect(res.fromRound).toBe(8);
    expect(res.checkpoint).toBe(ckpts[1].path);
    expect(res.skipped).toEqual([{ path: newest, round: 12, why: expect.stringMatching(/damaged \(checksum mismatch\)/) }]);
    await again.idle();
    again.close();
    const run = (await store.getRun(crashed))!;
    expect(run.status).toBe('done');
    expect(await allSeries(store, crashed)).toEqual(await allSeries(store, ref));
    const log = (await store.runLog(crashed)).map((l) => `${l.level} ${l.message}`);
    expect(log).toContainEqual(expect.stringMatching(/^warn skipping checkpoint \S+round-00000012\.ckpt: damaged/));
    await store.close();
  });

  it('with no intact checkpoint, refuses with the file named and deletes nothing', async () => {
    const store = await Store.open(path.join(dir, 'none.db'));
    const id = await createRun(store, 5);
    const first = new Runner({ store, maxParallel: 1, backend: 'wasm', workerEnv: { CAIRN_FAULT: `exit:9:${id}` } });
    first.enqueue(id);
    await first.idle();
    first.close();
    const ckpts = await store.listCheckpoints(id);
    expect(ckpts).toHaveLength(2);
    fs.rmSync(ckpts[1].path);
    fs.writeFileSync(ckpts[0].path, 'garbage');
    const before = { run: await store.getRun(id), eps: await store.episodeCount(id), ck: await store.listCheckpoints(id) };
    const again = new Runner({ store, maxParallel: 1, backend: 'wasm' });
    const err = await again.resume(id).catch((e: unknown) => e);
    again.close();
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toContain(ckpts[1].path);
    expect((err as Error).message).toMatch(/the file is missing.*nothing was changed/);
    expect(await store.episodeCount(id)).toBe(before.eps);
    expect(await store.listCheckpoints(id)).toEqual(before.ck);
    expect((await store.getRun(id))!.status).toBe('failed');
    await store.close();
  });
});
