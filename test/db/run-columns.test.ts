/**
 * History columns on a real SQLite file: metric summaries kept as points arrive (and rebuilt
 * after a truncation), backfilled by migration 7 for runs stored before it, and listRuns'
 * chosen columns, sort and filters computed in SQL.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { databaseAtVersion } from '../faults/schema-fixtures';
import { addRun, cleanup, sampleConfig, tempDir } from './helpers';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = tempDir();
  store = await Store.open(path.join(dir, 'cols.db'));
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

const pts = (key: string, values: number[], from = 1) => values.map((value, i) => ({ key, step: (from + i) * 10, episode: from + i, wallTime: from + i, value }));

describe('run metric summaries', () => {
  it('keeps final, mean, max and min of the finite points as batches arrive, and rebuilds them after a truncation', async () => {
    const id = await addRun(store);
    await store.appendMetrics(id, [...pts('ret', [1, 5]), ...pts('loss', [0.5, Infinity])]);
    await store.appendRound(id, { metrics: pts('ret', [3, -2], 3), episodes: [], progress: { episodesDone: 4 } });
    const cols = ['metric:final:ret', 'metric:mean:ret', 'metric:max:ret', 'metric:min:ret', 'metric:final:loss', 'metric:mean:nothing'];
    const { rows } = await store.listRuns({ columns: cols });
    expect(rows[0].columns).toEqual({
      'metric:final:ret': -2,
      'metric:mean:ret': 7 / 4,
      'metric:max:ret': 5,
      'metric:min:ret': -2,
      'metric:final:loss': 0.5,
      'metric:mean:nothing': null,
    });
    await store.truncateAfter(id, 2);
    const after = (await store.listRuns({ columns: cols.slice(0, 4) })).rows[0].columns;
    expect(after).toEqual({ 'metric:final:ret': 5, 'metric:mean:ret': 3, 'metric:max:ret': 5, 'metric:min:ret': 1 });
    expect(await store.summaryKeys()).toEqual(['loss', 'ret']);
  });

  it('migration 7 backfills the summaries of runs stored before it', async () => {
    await store.close();
    const file = path.join(dir, 'v6.db');
    await databaseAtVersion(file, 6);
    store = await Store.open(file);
    const { rows } = await store.listRuns({ columns: ['metric:final:return_total', 'metric:mean:return_total', 'metric:min:return_total'] });
    expect(rows[0].columns).toEqual({ 'metric:final:return_total': 0.75, 'metric:mean:return_total': 0.5, 'metric:min:return_total': 0.25 });
    // Config fields too: the flattened copy the column sort and filters read.
    const lr = await store.listRuns({ columns: ['config:algo.lr'], columnFilters: [{ column: 'config:algo.lr', op: '=', value: 0.0003 }] });
    expect(lr.total).toBe(1);
    expect(lr.rows[0].columns).toEqual({ 'config:algo.lr': 0.0003 });
    // Nothing stored was lost on the way.
    expect((await store.metricSeries(1, 'return_total')).value).toEqual(new Float64Array([0.25, 0.5, 0.75]));
  });
});

describe('listRuns columns', () => {
  async function three(): Promise<number[]> {
    const ids: number[] = [];
    for (const [lr, ret] of [
      [0.001, 3],
      [0.01, 1],
      [0.0003, 2],
    ]) {
      const config = sampleConfig();
      config.algo.lr = lr;
      const id = await addRun(store, { config });
      await store.appendMetrics(id, pts('ret', [0, ret]));
      ids.push(id);
    }
    ids.push(await addRun(store)); // no points: sorts last, fails every filter
    return ids;
  }

  it('returns config fields and metric summaries, sorts by either (missing values last) and pages', async () => {
    const [a, b, c, d] = await three();
    const q = { columns: ['config:algo.lr', 'metric:final:ret', 'config:env.nope'] };
    const { rows } = await store.listRuns({ ...q, sortColumn: 'metric:final:ret', desc: true });
    expect(rows.map((r) => r.id)).toEqual([a, c, b, d]);
    expect(rows[0].columns).toEqual({ 'config:algo.lr': 0.001, 'metric:final:ret': 3, 'config:env.nope': null });
    // d keeps the sample config's lr (0.0003): a tie with c, broken by id.
    expect((await store.listRuns({ ...q, sortColumn: 'config:algo.lr' })).rows.map((r) => r.id)).toEqual([c, d, a, b]);
    const page = await store.listRuns({ ...q, sortColumn: 'metric:final:ret', limit: 2, offset: 2 });
    expect(page.rows.map((r) => r.id)).toEqual([a, d]);
    expect(page.total).toBe(4);
  });

  it('filters by any column, counting only the matches', async () => {
    const [a, b, c] = await three();
    const gt = await store.listRuns({ columnFilters: [{ column: 'metric:final:ret', op: '>=', value: 2 }] });
    expect(gt.rows.map((r) => r.id).sort()).toEqual([a, c].sort());
    expect(gt.total).toBe(2);
    const ne = await store.listRuns({ columnFilters: [{ column: 'config:algo.lr', op: '!=', value: 0.01 }] });
    expect(ne.total).toBe(3); // every run has an lr; only b's is 0.01
    const both = await store.listRuns({
      columnFilters: [
        { column: 'config:algo.lr', op: '<', value: 0.005 },
        { column: 'metric:max:ret', op: '<', value: 3 },
      ],
    });
    expect(both.rows.map((r) => r.id)).toEqual([c]);
    const text = await store.listRuns({ columnFilters: [{ column: 'config:algo.lr', op: 'contains', value: '0.01' }] });
    expect(text.rows.map((r) => r.id)).toEqual([b]);
  });

  it('refuses malformed columns and filters naming the field', async () => {
    await expect(store.listRuns({ columns: ['config:algo.lr; DROP TABLE runs'] })).rejects.toThrow(/listRuns: columns: config column/);
    await expect(store.listRuns({ sortColumn: 'metric:best:ret' })).rejects.toThrow(/sortColumn: metric column/);
    await expect(store.listRuns({ columnFilters: [{ column: 'config:algo.lr', op: 'LIKE' as '=', value: 1 }] })).rejects.toThrow(/op must be one of/);
  });
});
