/** Episodes: summary rows, compressed replays, listing. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src-main/db/store';
import type { NewEpisode } from '../../src-main/db/types';
import { addRun, cleanup, countRows, RawDb, tempDir } from './helpers';

let dir: string;
let file: string;
let store: Store;
beforeEach(async () => {
  dir = tempDir();
  file = path.join(dir, 'cairn.db');
  store = await Store.open(file);
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

/** A replay shaped like the envs' (columns of numbers per step). */
function replay(steps: number, seed: number): object {
  return {
    envId: 'manitokan',
    version: 1,
    steps,
    meta: { seed, agents: 2 },
    columns: {
      x: Array.from({ length: steps + 1 }, (_, t) => (t * 7 + seed) % 11),
      y: Array.from({ length: steps + 1 }, (_, t) => (t * 3 + seed) % 13),
      reward: Array.from({ length: steps + 1 }, (_, t) => (t % 17 === 0 ? 1 : 0)),
    },
  };
}

function episodes(round: number, numEnvs: number, withReplay: boolean): NewEpisode[] {
  return Array.from({ length: numEnvs }, (_, envIndex) => ({
    idx: round * numEnvs + envIndex,
    round,
    envIndex,
    length: 50 + envIndex,
    return: round + envIndex / 10,
    success: envIndex % 2,
    values: [round + envIndex / 10, envIndex % 2, envIndex === 0 ? null : envIndex * 3],
    replay: withReplay && envIndex === 0 ? replay(200, round) : undefined,
  }));
}

describe('episodes', () => {
  it('round-trips rows and replays, storing replays compressed', async () => {
    const run = await addRun(store);
    for (let round = 0; round < 6; round++) await store.appendEpisodes(run, episodes(round, 4, round % 2 === 0));
    expect(await store.episodeCount(run)).toBe(24);

    const rows = await store.listEpisodes(run);
    expect(rows.map((r) => r.idx)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(rows[5]).toEqual({
      runId: run,
      idx: 5,
      round: 1,
      envIndex: 1,
      length: 51,
      return: 1.1,
      success: 1,
      values: [1.1, 1, 3],
      hasReplay: false,
    });
    expect(rows[0].values).toEqual([0, 0, null]);
    expect(rows.filter((r) => r.hasReplay).map((r) => r.idx)).toEqual([0, 8, 16]);

    expect(await store.getReplay(run, 8)).toEqual(replay(200, 2));
    expect(await store.getReplay(run, 9)).toBeUndefined();
    expect(await store.getReplay(run, 999)).toBeUndefined();

    const raw = new RawDb(file);
    try {
      const r = await raw.get<{ replay: Buffer }>('SELECT replay FROM episodes WHERE run_id = ? AND idx = 8', [run]);
      const json = JSON.stringify(replay(200, 2));
      expect(r!.replay[0]).toBe(0x1f); // gzip magic
      expect(r!.replay[1]).toBe(0x8b);
      expect(r!.replay.length).toBeLessThan(json.length / 3);
    } finally {
      await raw.close();
    }
  });

  it('lists with replay only, reversed, paged and by round', async () => {
    const run = await addRun(store);
    for (let round = 0; round < 10; round++) await store.appendEpisodes(run, episodes(round, 2, round % 3 === 0));
    expect((await store.listEpisodes(run, { withReplay: true })).map((r) => r.idx)).toEqual([0, 6, 12, 18]);
    expect((await store.listEpisodes(run, { withReplay: true, desc: true, limit: 2 })).map((r) => r.idx)).toEqual([18, 12]);
    expect((await store.listEpisodes(run, { limit: 3, offset: 4 })).map((r) => r.idx)).toEqual([4, 5, 6]);
    expect((await store.listEpisodes(run, { desc: true, limit: 1 }))[0].idx).toBe(19);
    expect((await store.listEpisodes(run, { fromRound: 8 })).map((r) => r.idx)).toEqual([16, 17, 18, 19]);
    expect((await store.listEpisodes(run, { fromRound: 2, toRound: 3 })).map((r) => r.round)).toEqual([2, 2, 3, 3]);
  });

  it('refuses to overwrite stored episodes, writing nothing from the batch', async () => {
    const run = await addRun(store);
    await store.appendEpisodes(run, episodes(0, 4, true));
    const batch = [...episodes(1, 4, false), ...episodes(0, 4, false).slice(2)];
    const err = await store.appendEpisodes(run, batch).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain(`run ${run} already has episodes 2, 3`);
    expect(await store.episodeCount(run)).toBe(4);

    const dup = await store.appendEpisodes(run, [...episodes(5, 1, false), ...episodes(5, 1, false)]).catch((e) => e);
    expect(dup.code).toBe('CONFLICT');
    expect(await countRows(file, 'episodes', run)).toBe(4);
  });

  it('stores non-finite returns as NaN and checks its arguments', async () => {
    const run = await addRun(store);
    const [e] = episodes(0, 1, false);
    await store.appendEpisodes(run, [{ ...e, return: NaN, values: [NaN, Infinity, 1] }]);
    const [row] = await store.listEpisodes(run);
    expect(row.return).toBeNaN();
    expect(row.values).toEqual([null, null, 1]);

    const bad = await store.appendEpisodes(run, [{ ...e, idx: 1, round: 1.5 }]).catch((x) => x);
    expect(bad.code).toBe('INVALID');
    expect(bad.message).toContain('episode 0 round must be an integer');
    const missing = await store.appendEpisodes(run + 1, [e]).catch((x) => x);
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('writes many episodes (several statements) in one call', async () => {
    const run = await addRun(store);
    await store.appendEpisodes(run, Array.from({ length: 25 }, (_, r) => episodes(r, 32, r % 10 === 0)).flat());
    expect(await store.episodeCount(run)).toBe(800);
    expect((await store.listEpisodes(run, { withReplay: true })).map((r) => r.idx)).toEqual([0, 320, 640]);
  });
});
