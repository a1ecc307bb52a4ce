/** Metric points: batched writes round-trip exactly, in order, atomically. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src-main/db/store';
import type { MetricPoint } from '../../src-main/db/types';
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

/** Deterministic doubles covering every exponent range, including the ones SQLite's own parser gets wrong. */
function awkwardDoubles(n: number): number[] {
  const out = [
    0, 1, -1, 0.1, 1 / 3, -155.2759211893122, 8.17946230414259e-301, 4.998877424141401e-303, 5e-324, -5e-324,
    2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53, 2 ** 53 + 2, 1e300, 1e21,
    Number.EPSILON, Infinity, -Infinity, 1718000000.123456,
  ];
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  while (out.length < n) {
    u[0] = next();
    u[1] = next();
    if (Number.isFinite(f[0])) out.push(f[0]);
    out.push((next() / 2 ** 32) * 1000 - 500);
  }
  return out.slice(0, n);
}

describe('metrics', () => {
  it('round-trips values, times and order exactly through batched writes', async () => {
    const run = await addRun(store);
    const values = awkwardDoubles(30_000);
    const keys = ['charts/return', 'losses/policy', 'losses/entropy'];
    const expected: Record<string, MetricPoint[]> = Object.fromEntries(keys.map((k) => [k, []]));
    // Several calls, each of several statements; rounds of 3 keys sharing step/episode/wallTime.
    let i = 0;
    for (let call = 0; call < 3; call++) {
      const batch: MetricPoint[] = [];
      for (let r = 0; r < 3334 && i < values.length; r++) {
        const episode = call * 3334 + r;
        const at = { step: episode * 7, episode, wallTime: 1718000000 + values[(i * 7) % values.length] / 1e3 };
        if (!Number.isFinite(at.wallTime)) at.wallTime = 1718000000.5;
        for (const key of keys) {
          if (i >= values.length) break;
          const p = { key, ...at, value: values[i++] };
          batch.push(p);
          expected[key].push(p);
        }
      }
      await store.appendMetrics(run, batch);
    }
    expect(await store.metricKeys(run)).toEqual([...keys].sort());
    for (const key of keys) {
      const s = await store.metricSeries(run, key);
      const exp = expected[key];
      expect(s.value.length).toBe(exp.length);
      expect(s.value).toBeInstanceOf(Float64Array);
      let bad = 0;
      for (let j = 0; j < exp.length; j++) {
        if (s.value[j] !== exp[j].value || s.wallTime[j] !== exp[j].wallTime || s.step[j] !== exp[j].step || s.episode[j] !== exp[j].episode) {
          bad++;
        }
      }
      expect(bad).toBe(0);
    }
  });

  it('keeps insertion order within an episode and sorts by episode across calls', async () => {
    const run = await addRun(store);
    const p = (episode: number, value: number, step = episode) => ({ key: 'k', step, episode, wallTime: value, value });
    await store.appendMetrics(run, [p(5, 1), p(5, 2), p(6, 3)]);
    await store.appendMetrics(run, [p(2, 4), p(5, 5, 99)]);
    const s = await store.metricSeries(run, 'k');
    expect(Array.from(s.episode)).toEqual([2, 5, 5, 5, 6]);
    expect(Array.from(s.value)).toEqual([4, 1, 2, 5, 3]);
    expect(Array.from(s.step)).toEqual([2, 5, 5, 99, 6]);
  });

  it('filters by episode range and returns empty series for unknown keys or runs', async () => {
    const run = await addRun(store);
    await store.appendMetrics(
      run,
      Array.from({ length: 10 }, (_, e) => ({ key: 'k', step: e, episode: e, wallTime: e, value: e * 1.5 })),
    );
    expect(Array.from((await store.metricSeries(run, 'k', { fromEpisode: 3, toEpisode: 5 })).value)).toEqual([4.5, 6, 7.5]);
    expect(Array.from((await store.metricSeries(run, 'k', { fromEpisode: 8 })).episode)).toEqual([8, 9]);
    expect((await store.metricSeries(run, 'nope')).value.length).toBe(0);
    expect((await store.metricSeries(run + 1, 'k')).value.length).toBe(0);
    expect(await store.metricKeys(run + 1)).toEqual([]);
  });

  it('skips points without a value and keeps runs separate', async () => {
    const a = await addRun(store);
    const b = await addRun(store);
    await store.appendMetrics(a, [
      { key: 'x', step: 1, episode: 1, wallTime: 1, value: 1 },
      { key: 'x', step: 2, episode: 2, wallTime: 2, value: NaN },
      { key: 'y', step: 2, episode: 2, wallTime: 2, value: null as unknown as number },
    ]);
    await store.appendMetrics(b, [{ key: 'x', step: 1, episode: 1, wallTime: 1, value: 42 }]);
    await store.appendMetrics(a, []);
    expect(Array.from((await store.metricSeries(a, 'x')).value)).toEqual([1]);
    expect(await store.metricKeys(a)).toEqual(['x']);
    expect(Array.from((await store.metricSeries(b, 'x')).value)).toEqual([42]);
  });

  it('writes a batch all or nothing, and names the bad point', async () => {
    const run = await addRun(store);
    const good = Array.from({ length: 100 }, (_, e) => ({ key: 'k', step: e, episode: e, wallTime: e, value: e }));
    const err = await store.appendMetrics(run, [...good, { key: 'k', step: NaN, episode: 1, wallTime: 1, value: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.code).toBe('INVALID');
    expect(err.message).toContain('point 100 (k) has step NaN');
    expect(await countRows(file, 'metrics', run)).toBe(0);

    const missing = await store.appendMetrics(run + 100, good).catch((e) => e);
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(`Run history ${file}: run ${run + 100} does not exist`);
  });

  it('reads a series through the index, without sorting', async () => {
    const raw = new RawDb(file);
    try {
      const plan = await raw.all<{ detail: string }>(
        'EXPLAIN QUERY PLAN SELECT step, episode, wall_time, value FROM metrics WHERE run_id = 1 AND key_id = 1 AND episode >= 0 AND episode <= 9 ORDER BY episode, rowid',
      );
      const text = plan.map((p) => p.detail).join(' | ');
      expect(text).toContain('metrics_run_key_episode');
      expect(text).not.toContain('TEMP B-TREE');
    } finally {
      await raw.close();
    }
  });
});
