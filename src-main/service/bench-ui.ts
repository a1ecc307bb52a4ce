/**
 * UI responsiveness benchmark (for `npm run bench`): latency of the Workbench API calls the
 * charts and the history view make, on a temporary database.
 *   series_*: metricSeries on one 1,000,000-point series (maxPoints 1000): the first full view
 *             (reads SQLite), a full view again (cached), zooms to 10% of the x-range (cached),
 *             and cold zooms to 1% and 10% (a fresh API: only the episode range is read).
 *   runs_*:   listRuns pages of 100 over 10,000 runs: first, middle and last page, newest
 *             first, and a search; with chosen columns (a config field, metric summaries)
 *             sorted by one and filtered by two; experiments_list_ms: listExperiments.
 * Times are milliseconds (median of the repeats).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { Store } from '../db/store';
import { Runner } from '../runner/runner';
import { createWorkbench, type Workbench } from './workbench';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn: () => Promise<unknown>, repeats = 1): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

function api(store: Store): Workbench {
  const runner = new Runner({ store, maxParallel: 1 });
  runner.close();
  return createWorkbench({ store, runner, host: 'http', backend: 'cpu', version: 'bench' });
}

export async function benchUi(opts: { points?: number; runs?: number; log?: (s: string) => void } = {}): Promise<Record<string, number>> {
  const N = opts.points ?? 1_000_000;
  const R = opts.runs ?? 10_000;
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-ui-'));
  const store = await Store.open(path.join(dir, 'bench.db'));
  const out: Record<string, number> = {};
  try {
    const config = resolveExperiment({});
    log(`bench ui: writing a ${N.toLocaleString('en')}-point series`);
    const runId = await store.createRun({ name: 'big', config, seed: 0, episodesTotal: N, host: 'bench', metricKeys: [] });
    const chunk = 100_000;
    for (let s = 0; s < N; s += chunk) {
      const pts = [];
      for (let i = s; i < Math.min(N, s + chunk); i++) {
        pts.push({ key: 'loss', step: i * 32, episode: i, wallTime: i * 0.01, value: Math.sin(i / 5000) + (i % 9973 === 0 ? 5 : 0) });
      }
      await store.appendMetrics(runId, pts);
    }
    await store.updateRun(runId, { status: 'done', episodesDone: N });

    const wb = api(store);
    const q = (from?: number, to?: number) => wb.metricSeries({ runId, key: 'loss', from, to, maxPoints: 1000 });
    out.series_full_cold_ms = await time(() => q());
    out.series_full_warm_ms = await time(() => q(), 5);
    let k = 0;
    out.series_zoom10_warm_ms = await time(() => {
      const from = ((k++ * 0.07) % 0.9) * N;
      return q(from, from + N * 0.1);
    }, 21);
    out.series_zoom1_cold_ms = await time(() => api(store).metricSeries({ runId, key: 'loss', from: N * 0.5, to: N * 0.51, maxPoints: 1000 }), 5);
    out.series_zoom10_cold_ms = await time(() => api(store).metricSeries({ runId, key: 'loss', from: N * 0.3, to: N * 0.4, maxPoints: 1000 }), 3);

    log(`bench ui: creating ${R.toLocaleString('en')} runs`);
    const expId = await store.createExperiment({ name: 'bench' });
    for (let i = 0; i < R; i++) {
      // Varied learning rates and one return point each: the history's chosen columns sort and filter on them.
      const cfg = { ...config, algo: { ...config.algo, lr: ((i * 7919) % 1000) * 1e-6 } };
      const id = await store.createRun({ experimentId: expId, name: `bench run ${i}`, config: cfg, seed: i, episodesTotal: 100, host: 'bench', metricKeys: [] });
      await store.appendMetrics(id, [{ key: 'ret', step: 1, episode: 1, wallTime: 1, value: ((i * 104729) % 1000) / 1000 }]);
    }
    const page = (offset: number, extra: Record<string, unknown> = {}) =>
      wb.listRuns({ orderBy: 'created_at', desc: true, limit: 100, offset, ...extra });
    out.runs_page_first_ms = await time(() => page(0), 9);
    out.runs_page_middle_ms = await time(() => page(Math.floor(R / 2)), 9);
    out.runs_page_last_ms = await time(() => page(R - 100), 9);
    out.runs_search_ms = await time(() => page(0, { search: 'run 99' }), 9);
    out.runs_total = (await page(0)).total;
    // Chosen columns (a config field and metric summaries), sorted by a summary, then filtered: all in SQL.
    const columns = ['config:algo.lr', 'metric:final:ret', 'metric:mean:ret'];
    out.runs_columns_sorted_first_ms = await time(() => page(0, { columns, sortColumn: 'metric:final:ret' }), 9);
    out.runs_columns_sorted_last_ms = await time(() => page(R - 100, { columns, sortColumn: 'config:algo.lr' }), 9);
    out.runs_columns_filtered_ms = await time(
      () =>
        page(0, {
          columns,
          sortColumn: 'metric:final:ret',
          columnFilters: [
            { column: 'metric:final:ret', op: '>', value: 0.5 },
            { column: 'config:algo.lr', op: '<', value: 5e-4 },
          ],
        }),
      9,
    );
    out.experiments_list_ms = await time(() => wb.listExperiments(), 3);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const key of Object.keys(out)) out[key] = Math.round(out[key] * 100) / 100;
  return out;
}
