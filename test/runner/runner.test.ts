/**
 * The runner with real worker processes and a real SQLite file: parallel runs, isolation of
 * failures (a throwing worker, a worker killed hard), determinism of (config, seed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner, type RunnerEvent } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-runner-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function createRuns(store: Store, preset: string, sets: string[], seeds: number[]): Promise<number[]> {
  const config = buildConfig({ preset, sets });
  const { id: envId, ...envValues } = config.env;
  const metricKeys = [...getEnv(envId)!.spec(envValues).metricKeys];
  const ids: number[] = [];
  for (const seed of seeds) {
    ids.push(
      await store.createRun({
        name: `${preset} s${seed}`,
        preset,
        config,
        seed,
        episodesTotal: Number(config.train.episodes),
        host: 'test',
        metricKeys,
      }),
    );
  }
  return ids;
}

async function series(store: Store, id: number, key: string): Promise<number[]> {
  return Array.from((await store.metricSeries(id, key)).value);
}

describe('runner', () => {
  it('runs in parallel, one worker process each, and records status, backend and progress', async () => {
    const store = await Store.open(path.join(dir, 'parallel.db'));
    const runner = new Runner({ store, maxParallel: 2, backend: 'wasm' });
    const events: RunnerEvent[] = [];
    runner.on('event', (e) => events.push(e));
    const ids = await createRuns(store, 'manitokan-random', ['train.episodes=40', 'train.numEnvs=4'], [1, 2, 3]);
    for (const id of ids) runner.enqueue(id);
    // With maxParallel 2 the third run waits in the queue.
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.getRun(ids[2]))!.status).toBe('queued');
    await runner.idle();
    runner.close();
    for (const id of ids) {
      const run = (await store.getRun(id))!;
      expect(run.status).toBe('done');
      expect(run.backend).toBe('wasm');
      expect(run.episodesDone).toBe(40);
      expect(run.startedAt).toBeGreaterThan(0);
      expect(run.endedAt).toBeGreaterThanOrEqual(run.startedAt!);
      expect(run.summary?.collective_success).not.toBeUndefined();
    }
    // Two workers were running at the same time at some point.
    let running = 0;
    let maxRunning = 0;
    for (const e of events) {
      if (e.type !== 'status') continue;
      if (e.status === 'running') running++;
      else if (e.status === 'done') running--;
      maxRunning = Math.max(maxRunning, running);
    }
    expect(maxRunning).toBe(2);
    expect(events.filter((e) => e.type === 'progress' && e.runId === ids[0])).toHaveLength(40);
    await store.close();
  });

  it('the same (config, seed) gives the same episodes; another seed differs', async () => {
    const store = await Store.open(path.join(dir, 'determinism.db'));
    const runner = new Runner({ store, maxParallel: 2, backend: 'wasm' });
    const sets = ['train.episodes=6', 'train.numEnvs=4', 'env.episodeLimit=50'];
    const [a, b] = await createRuns(store, 'manitokan-pg-history', sets, [7, 7]);
    const [c] = await createRuns(store, 'manitokan-pg-history', sets, [8]);
    for (const id of [a, b, c]) runner.enqueue(id);
    await runner.idle();
    runner.close();
    for (const key of ['return_total', 'key_pickups_0', 'agent_distance', 'losses/actor', 'losses/critic']) {
      expect(await series(store, a, key), key).toEqual(await series(store, b, key));
    }
    expect(await series(store, a, 'agent_distance')).not.toEqual(await series(store, c, 'agent_distance'));
    const ea = await store.listEpisodes(a, {});
    const eb = await store.listEpisodes(b, {});
    expect(ea.map((e) => e.values)).toEqual(eb.map((e) => e.values));
    expect(await store.getReplay(a, ea[ea.length - 1].idx)).toEqual(await store.getReplay(b, eb[eb.length - 1].idx));
    await store.close();
  });

  it('a worker that throws fails only its own run, with the error recorded', async () => {
    const store = await Store.open(path.join(dir, 'throw.db'));
    const ids = await createRuns(store, 'manitokan-random', ['train.episodes=30', 'train.numEnvs=2'], [1, 2]);
    const runner = new Runner({ store, maxParallel: 2, backend: 'wasm', workerEnv: { CAIRN_FAULT: `throw:5:${ids[0]}` } });
    for (const id of ids) runner.enqueue(id);
    await runner.idle();
    runner.close();
    const bad = (await store.getRun(ids[0]))!;
    const good = (await store.getRun(ids[1]))!;
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatch(/injected fault after round 5/);
    expect(bad.episodesDone).toBe(5); // rows up to the failure are kept
    expect(good.status).toBe('done');
    expect(good.episodesDone).toBe(30);
    await store.close();
  });

  it('a worker killed hard fails only its own run, and resume continues it', async () => {
    const store = await Store.open(path.join(dir, 'crash.db'));
    const ids = await createRuns(store, 'manitokan-random', ['train.episodes=30', 'train.numEnvs=2', 'train.checkpointEvery=4'], [1, 2]);
    const runner = new Runner({ store, maxParallel: 2, backend: 'wasm', workerEnv: { CAIRN_FAULT: `exit:10:${ids[1]}` } });
    for (const id of ids) runner.enqueue(id);
    await runner.idle();
    runner.close();
    const crashed = (await store.getRun(ids[1]))!;
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toMatch(/signal SIGKILL/);
    expect((await store.getRun(ids[0]))!.status).toBe('done');

    const again = new Runner({ store, maxParallel: 1, backend: 'wasm' });
    const { fromRound } = await again.resume(ids[1]);
    expect(fromRound).toBe(8); // last checkpoint before the crash at round 10
    await again.idle();
    again.close();
    const resumed = (await store.getRun(ids[1]))!;
    expect(resumed.status).toBe('done');
    expect(resumed.error).toBeNull();
    // The run's log tells the story: start, checkpoints, the crash, the resume, the end.
    const log = (await store.runLog(ids[1])).map((l) => `${l.level} ${l.message}`);
    expect(log).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^info training on the wasm backend from round 0 of 30$/),
        expect.stringMatching(/^info checkpoint at round 8 /),
        expect.stringMatching(/^error failed at round 10: worker exited on signal SIGKILL/),
        expect.stringMatching(/^info resume requested from checkpoint \S+round-00000008\.ckpt \(round 8\): \d+ metric points and 4 episodes recorded after that checkpoint are recomputed$/),
        expect.stringMatching(/^info training on the wasm backend from round 8 of 30$/),
        expect.stringMatching(/^info done at round 30 of 30/),
      ]),
    );
    expect(log.findIndex((l) => l.startsWith('error failed'))).toBeLessThan(log.findIndex((l) => l.startsWith('info resume requested')));
    const eps = await series(store, ids[1], 'episode_length');
    expect(eps).toHaveLength(30); // rounds 9-10 written before the crash were replaced, not duplicated
    await store.close();
  });
});
