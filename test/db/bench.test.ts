/** The ingest benchmark the CLI's `bench` command calls. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { benchIngest } from '../../src-main/db/bench';
import { Store } from '../../src-main/db/store';
import { cleanup, tempDir } from './helpers';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

describe('benchIngest', () => {
  it('writes the requested points into a run and reports a rate', async () => {
    const file = path.join(dir, 'bench.db');
    const r = await benchIngest(file, 25_000);
    expect(r.points).toBe(25_000);
    expect(r.pointsPerSecond).toBeGreaterThan(0);
    expect(r.pointsPerSecond).toBeCloseTo(r.points / r.seconds, 3);
    const store = await Store.open(file, { readonly: true });
    try {
      const { rows } = await store.listRuns();
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe('done');
      const keys = await store.metricKeys(rows[0].id);
      expect(keys).toHaveLength(20);
      let n = 0;
      for (const k of keys) n += (await store.metricSeries(rows[0].id, k)).value.length;
      expect(n).toBe(25_000);
    } finally {
      await store.close();
    }
  });
});
