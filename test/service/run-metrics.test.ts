/** Declared metrics per run: stored with the run, and recovered for runs stored before migration 4. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { runMetricSpecs } from '../../src-main/service/run-metrics';
import { getEnv } from '../../src-shared/registry';
import { headlineMetrics, metricByRole } from '../../src-shared/metrics';
import { cleanup, newRun, sampleConfig, tempDir } from '../db/helpers';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = tempDir();
  store = await Store.open(path.join(dir, 'cairn.db'));
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

describe('run metric declarations', () => {
  it('stores the declarations a run was created with, and the worker can replace them', async () => {
    const specs = [
      { key: 'won', title: 'Won', role: 'success' as const, headline: true },
      { key: 'ret', title: 'Return', role: 'return' as const },
    ];
    const id = await store.createRun(newRun({ metricKeys: ['won', 'ret'], metricSpecs: specs }));
    expect((await store.getRun(id))!.metricSpecs).toEqual(specs);
    await store.updateRun(id, { metricSpecs: [specs[1]] });
    expect((await store.getRun(id))!.metricSpecs).toEqual([specs[1]]);
    await expect(store.updateRun(id, { metricSpecs: [{ key: 'x', title: 'X', role: 'best' as never }] })).rejects.toThrow(/role must be one of success, return/);
  });

  it('falls back to the env registry, then to bare keys, for runs without declarations', async () => {
    const old = (await store.getRun(await store.createRun(newRun({ config: sampleConfig('manitokan', 'pg', { episodeLimit: 150 }) }))))!;
    expect(old.metricSpecs).toEqual([]);
    const specs = runMetricSpecs(old);
    const { id: _id, ...values } = old.config.env;
    expect(specs).toEqual(getEnv('manitokan')!.spec(values).metrics);
    expect(metricByRole(specs, 'success')).toBeDefined();
    expect(metricByRole(specs, 'return')).toBeDefined();
    expect(headlineMetrics(specs)[0].role).toBe('success');

    const gone = (await store.getRun(await store.createRun(newRun({ config: sampleConfig('no-such-env'), metricKeys: ['a', 'b'] }))))!;
    expect(runMetricSpecs(gone)).toEqual([{ key: 'a', title: 'a' }, { key: 'b', title: 'b' }]);
  });
});

describe('every registered env declares its metrics', () => {
  it('in metricKeys order, with at most one metric per role', async () => {
    const { listEnvs } = await import('../../src-shared/registry');
    for (const e of listEnvs()) {
      const spec = e.spec({});
      expect(spec.metrics.map((m) => m.key)).toEqual([...spec.metricKeys]);
      for (const role of ['success', 'return'] as const) expect(spec.metrics.filter((m) => m.role === role).length).toBeLessThanOrEqual(1);
    }
  });
});
