/**
 * `algo.updateThreads: 'auto'`: the host's decision (cores x live runs x load -> threads) on
 * hand-built cases, and the runner with real worker processes: it tells each run its choice,
 * logs it with its reasons, changes it between rounds when a run ends, and the results equal a
 * run on one thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { decideUpdateThreads, loadAverage, ownLoadOf, type UpdateThreadsInput } from '../../src-main/runner/update-threads';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { tmpDir } from '../helpers/cli';

describe('decideUpdateThreads', () => {
  const base: UpdateThreadsInput = { cores: 2, liveRuns: 1, otherHelpers: 0, load: undefined, current: 1 };
  const cases: [string, Partial<UpdateThreadsInput>, 1 | 2][] = [
    ['one run on an idle 2-core machine: a core is free', { load: 0.1 }, 2],
    ['two runs on 2 cores (--seeds 2): none free', { liveRuns: 2, load: 0.1 }, 1],
    ['one run just started, 2 cores, load 1: someone else keeps a core busy', { load: 1, ownLoad: 0 }, 1],
    ['one run a while in, 2 cores, load 1: that is the run itself', { load: 1, ownLoad: 0.99 }, 2],
    ['one run, 2 cores, the loaded machine of the measurements (load 10)', { load: 10 }, 1],
    ['a single core', { cores: 1, load: 0 }, 1],
    ['4 cores, 2 runs, the other run has a helper: the last core is free', { cores: 4, liveRuns: 2, otherHelpers: 1, load: 0 }, 2],
    ['4 cores, 3 runs, another run has a helper: none free', { cores: 4, liveRuns: 3, otherHelpers: 1, load: 0 }, 1],
    ['no load average (Windows): cores and runs alone', { cores: 2, liveRuns: 1, load: undefined }, 2],
    // Our own runs' share of the load is not counted as someone else's.
    ['load 1.6 from our run and its helper alone keeps the helper', { load: 1.6, current: 2 }, 2],
    ['load 2.0 on 2 cores from one run without a helper: 1.0 from elsewhere, none free', { load: 2.0 }, 1],
    // Hysteresis: on at >= 0.75 spare core, off below 0.4.
    ['0.8 spare (a desktop with some background load): a helper', { load: 1.2 }, 2],
    ['0.7 spare: a run without a helper does not take one', { load: 1.3 }, 1],
    ['0.5 spare: a run with a helper keeps it', { load: 2.5, current: 2 }, 2],
    ['0.3 spare: a run with a helper gives it up', { load: 2.7, current: 2 }, 1],
  ];
  for (const [name, over, want] of cases) {
    it(name, () => {
      const c = decideUpdateThreads({ ...base, ...over });
      expect(c.threads, c.why).toBe(want);
    });
  }

  it('says why in the log line: cores, runs, other helpers, load and spare', () => {
    const c = decideUpdateThreads({ cores: 4, liveRuns: 2, otherHelpers: 1, load: 3.5, current: 1 });
    expect(c.why).toBe('auto: 4 cores, 2 runs here, 1 helper of other runs, load 3.5, 0.5 of it from other processes: 0.5 spare');
    expect(c.spare).toBeCloseTo(0.5, 12);
    expect(decideUpdateThreads({ ...base, load: undefined }).why).toBe('auto: 2 cores, 1 run here, no load average: 1.0 spare');
  });

  it("our threads' share of the load average grows with their age (one-minute time constant)", () => {
    expect(ownLoadOf([])).toBe(0);
    expect(ownLoadOf([0])).toBe(0);
    expect(ownLoadOf([60])).toBeCloseTo(1 - Math.exp(-1), 12);
    expect(ownLoadOf([600, 600])).toBeCloseTo(2, 3);
  });

  it('Windows reports a zero load average: left out there', () => {
    expect(loadAverage([0, 0, 0], 'win32')).toBeUndefined();
    expect(loadAverage([1.5, 1, 1], 'linux')).toBe(1.5);
  });
});

const dir = tmpDir('cairn-threads-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function createRun(store: Store, sets: string[], seed: number, preset = 'manitokan-mappo-history'): Promise<number> {
  const config = buildConfig({ preset, sets });
  const { id: envId, ...envValues } = config.env;
  return store.createRun({
    name: `threads s${seed}`,
    preset,
    config,
    seed,
    episodesTotal: Number(config.train.episodes),
    host: 'test',
    metricKeys: [...getEnv(envId)!.spec(envValues).metricKeys],
  });
}

const threadLines = async (store: Store, id: number) =>
  (await store.runLog(id)).map((l) => l.message).filter((m) => m.startsWith('critic on a helper thread'));

/**
 * Every metric series of a run but the timing ones, and its episodes. Not whether an episode
 * kept its replay: a stopped run keeps its last round's, a finished one need not.
 */
async function results(store: Store, id: number): Promise<string> {
  const run = (await store.getRun(id))!;
  const out: unknown[] = [(await store.listEpisodes(id, {})).map(({ runId: _r, hasReplay: _h, ...e }) => e)];
  for (const key of ['losses/policy', 'losses/value', 'charts/approx_kl', 'charts/grad_norm_critic', 'charts/value_mean']) {
    out.push(key, Array.from((await store.metricSeries(id, key)).value));
  }
  return JSON.stringify([run.metricKeys, out]);
}

describe('the runner decides auto per run and changes it between rounds', () => {
  const SMALL = ['train.numEnvs=2', 'env.episodeLimit=20', 'algo.epochs=1'];

  it('two runs on 2 cores: no helper each; when the short one ends, the other takes one; results equal one thread', async () => {
    const store = await Store.open(path.join(dir, 'switch.db'));
    // 2 cores and an idle machine, whatever this one is: the decision, not the host, is tested.
    const runner = new Runner({ store, maxParallel: 2, backend: 'wasm', cores: 2, loadAverage: () => 0 });
    const short = await createRun(store, [...SMALL, 'train.episodes=1'], 1);
    // The long run is stopped once it has switched, however the two workers' start-ups fall on
    // a loaded machine: a fixed length could end before the short one does.
    const long = await createRun(store, [...SMALL, 'train.episodes=400'], 2);
    runner.enqueue(short);
    runner.enqueue(long);
    const deadline = Date.now() + 400_000;
    const tick = () => new Promise((r) => setTimeout(r, 200));
    while ((await threadLines(store, long)).length < 2 && Date.now() < deadline) await tick();
    // A few rounds on the helper thread before stopping, so the comparison covers both sides.
    const switchedAt = (await store.getRun(long))!.episodesDone;
    while ((await store.getRun(long))!.episodesDone < switchedAt + 3 && Date.now() < deadline) await tick();
    await runner.stop(long);
    await runner.idle();
    const rounds = (await store.getRun(long))!.episodesDone;
    const ref = await createRun(store, [...SMALL, `train.episodes=${rounds}`, 'algo.updateThreads=1'], 2);
    runner.enqueue(ref);
    await runner.idle();
    runner.close();
    expect((await store.getRun(short))!.status).toBe('done');
    expect((await store.getRun(long))!.status).toBe('stopped');
    expect((await store.getRun(ref))!.status).toBe('done');
    expect(await threadLines(store, short)).toEqual(['critic on a helper thread: no (auto: 2 cores, 2 runs here, load 0.0, 0.0 of it from other processes: 0.0 spare)']);
    const lines = await threadLines(store, long);
    expect(lines[0]).toBe('critic on a helper thread: no (auto: 2 cores, 2 runs here, load 0.0, 0.0 of it from other processes: 0.0 spare)');
    expect(lines[1]).toBe('critic on a helper thread: yes (auto: 2 cores, 1 run here, load 0.0, 0.0 of it from other processes: 1.0 spare), from the next round');
    expect(lines).toHaveLength(2);
    expect(await threadLines(store, ref)).toEqual(['critic on a helper thread: no (algo.updateThreads = 1)']);
    // The stored config says what was asked for, not what the host chose.
    expect((await store.getRun(long))!.config.algo.updateThreads).toBe('auto');
    const a = await results(store, long);
    expect(a).toBe(await results(store, ref));
    expect(a).toContain('losses/value');
  }, 600_000);

  it("a run whose config never uses the helper (PG with a correction term) is not planned one, nor logged as having one", async () => {
    const store = await Store.open(path.join(dir, 'pg-correction.db'));
    const runner = new Runner({ store, maxParallel: 1, backend: 'wasm', cores: 2, loadAverage: () => 0 });
    const TINY = ['train.numEnvs=2', 'env.episodeLimit=20', 'train.episodes=1'];
    const plain = await createRun(store, TINY, 1, 'manitokan-pg-history');
    const corrected = await createRun(store, [...TINY, 'algo.correction=self'], 1, 'manitokan-pg-history');
    runner.enqueue(plain);
    runner.enqueue(corrected);
    await runner.idle();
    runner.close();
    expect((await store.getRun(plain))!.status).toBe('done');
    expect((await store.getRun(corrected))!.status).toBe('done');
    expect(await threadLines(store, plain)).toEqual(['critic on a helper thread: yes (auto: 2 cores, 1 run here, load 0.0, 0.0 of it from other processes: 1.0 spare)']);
    expect(await threadLines(store, corrected)).toEqual([]);
  }, 300_000);
});
