/**
 * Issue 12, item 13: `compare` and `exportReport` remove duplicate ids and keys, refuse more
 * than the shared caps with the field, the cap and what was sent (workbench, HTTP host, CLI),
 * and compute in the report thread, so the host answers other requests while a large report
 * builds. Runs are synthetic rows of a real SQLite file (no training needed).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPORT_LIMITS } from '../../src-shared/report-limits';
import { Store } from '../../src-main/db/store';
import { startHttpHost, type HttpHost } from '../../src-main/hosts/http';
import { ReportThread } from '../../src-main/report/report-thread';
import { Runner } from '../../src-main/runner/runner';
import { ApiError } from '../../src-main/service/api-errors';
import { SeriesService } from '../../src-main/service/series';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { cli, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-report-limits-');
const dbFile = path.join(dir, 'limits.db');
let store: Store;
let wb: Workbench;
let host: HttpHost;
let small: number[] = [];
let big: number[] = [];

/** `n` finished runs of one experiment, each with `points` points of metric `loss`. */
async function makeRuns(n: number, points: number, name: string): Promise<number[]> {
  const resolved = await wb.resolveConfig({ preset: 'manitokan-random' });
  if (!resolved.ok) throw new Error('preset');
  const experimentId = await store.createExperiment({ name, preset: null });
  const ids: number[] = [];
  for (let r = 0; r < n; r++) {
    const id = await store.createRun({ experimentId, name: `${name} s${r}`, config: resolved.config, seed: r, episodesTotal: points, host: 'test', metricKeys: ['loss'] });
    const pts = [];
    for (let i = 0; i < points; i++) pts.push({ key: 'loss', step: i, episode: i, wallTime: i, value: Math.sin(i / 50 + r) + r * 0.01 });
    await store.appendMetrics(id, pts);
    await store.updateRun(id, { status: 'done', episodesDone: points });
    ids.push(id);
  }
  return ids;
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a rejection');
}

function post(method: string, args: unknown[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ args });
    const req = http.request(
      { host: '127.0.0.1', port: host.port, path: `/api/${method}`, method: 'POST', headers: { Authorization: `Bearer ${host.token}`, 'Content-Type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

beforeAll(async () => {
  store = await Store.open(dbFile);
  wb = createWorkbench({ store, runner: new Runner({ store, maxParallel: 1, backend: 'wasm' }), host: 'http', backend: 'wasm', version: '0.0.0-test' });
  host = await startHttpHost({ workbench: wb });
  small = await makeRuns(2, 50, 'small');
  // Large enough that its bootstrap takes a while, small enough to write in a second or two.
  big = await makeRuns(120, 1500, 'big');
}, 120_000);

afterAll(async () => {
  await host?.close();
  await wb?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('duplicates', () => {
  it('a repeated run id is not one more seed (compare and reports)', async () => {
    const [a, b] = small;
    const once = await wb.compare({ runIds: [a, b], key: 'loss' });
    const twice = await wb.compare({ runIds: [a, b, a, a], key: 'loss' });
    expect(twice.summary[0].n).toBe(2);
    expect(twice.groups[0].runIds).toEqual([a, b]);
    expect(twice.summary).toEqual(once.summary);
    expect(twice.groups).toEqual(once.groups);
    const f = await wb.exportReport({ kind: 'compare', ids: [a, b, a], format: 'html', keys: ['loss', 'loss'] });
    const html = Buffer.from(f.base64, 'base64').toString('utf8');
    expect(html).toContain('2 runs ·');
    expect((html.match(/<svg /g) ?? []).length).toBe(1); // one chart: the repeated key counts once
    expect(f.filename).toBe(`cairn-compare-${a}-${b}.html`);
  });
});

describe('caps (same numbers in the workbench, the HTTP host and the CLI)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

  it('refuses too many runs, experiments or keys, naming the field, the cap and what was sent', async () => {
    let e = await rejection(wb.compare({ runIds: many(REPORT_LIMITS.runs + 1), key: 'loss' }));
    expect(e.body).toMatchObject({ kind: 'input', field: 'runIds' });
    expect(e.body.message).toBe(`runIds: at most ${REPORT_LIMITS.runs} runs per comparison (sent ${REPORT_LIMITS.runs + 1} distinct)`);
    e = await rejection(wb.exportReport({ kind: 'compare', ids: many(REPORT_LIMITS.runs + 7), format: 'html' }));
    expect(e.body.message).toBe(`ids: at most ${REPORT_LIMITS.runs} runs per report (sent ${REPORT_LIMITS.runs + 7} distinct)`);
    e = await rejection(wb.exportReport({ kind: 'experiment', ids: many(REPORT_LIMITS.experiments + 1), format: 'latex' }));
    expect(e.body.message).toBe(`ids: at most ${REPORT_LIMITS.experiments} experiments per report (sent ${REPORT_LIMITS.experiments + 1} distinct)`);
    e = await rejection(wb.exportReport({ kind: 'compare', ids: small, format: 'html', keys: keys(REPORT_LIMITS.keys + 1) }));
    expect(e.body).toMatchObject({ kind: 'input', field: 'keys' });
    expect(e.body.message).toBe(`keys: at most ${REPORT_LIMITS.keys} metrics per report (sent ${REPORT_LIMITS.keys + 1} distinct)`);
    // Duplicates do not count against the cap.
    const dup = [...small, ...Array.from({ length: REPORT_LIMITS.runs + 5 }, () => small[0])];
    expect((await wb.compare({ runIds: dup, key: 'loss' })).summary[0].n).toBe(2);
  });

  it('caps the runs of an experiment report after expanding its experiments', async () => {
    const exps = (await store.listExperiments()).map((x) => x.id);
    // Pad with synthetic run rows (no points) until the experiments hold more than the cap.
    const resolved = await wb.resolveConfig({ preset: 'manitokan-random' });
    if (!resolved.ok) throw new Error('preset');
    const extra = await store.createExperiment({ name: 'padding', preset: null });
    const have = small.length + big.length;
    for (let i = have; i <= REPORT_LIMITS.runs; i++) {
      await store.createRun({ experimentId: extra, name: `pad ${i}`, config: resolved.config, seed: i, episodesTotal: 1, host: 'test', metricKeys: [] });
    }
    const e = await rejection(wb.exportReport({ kind: 'experiment', ids: [...exps, extra], format: 'latex' }));
    expect(e.body.message).toBe(`ids: at most ${REPORT_LIMITS.runs} runs per report (these experiments hold ${REPORT_LIMITS.runs + 1})`);
    await Promise.all((await store.listRuns({ experimentId: extra, limit: 1000 })).rows.map((r) => store.deleteRun(r.id)));
  });

  it('the HTTP host answers 400 with the same body', async () => {
    const res = await post('exportReport', [{ kind: 'compare', ids: small, format: 'csv', keys: keys(REPORT_LIMITS.keys + 3) }]);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ kind: 'input', field: 'keys', message: `keys: at most ${REPORT_LIMITS.keys} metrics per report (sent ${REPORT_LIMITS.keys + 3} distinct)` });
    const cmp = await post('compare', [{ runIds: many(REPORT_LIMITS.runs + 1), key: 'loss' }]);
    expect(cmp.status).toBe(400);
    expect(cmp.body.error.field).toBe('runIds');
  });

  it('the CLI refuses too many --key with one line and exit 2, before opening the database', async () => {
    const args = ['export', String(small[0]), '--format', 'html', '--out', path.join(dir, 'r.html'), '--db', path.join(dir, 'absent.db')];
    for (const k of keys(REPORT_LIMITS.keys + 1)) args.push('--key', k, '--key', k);
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cairn: --key: at most ${REPORT_LIMITS.keys} metrics per report (sent ${REPORT_LIMITS.keys + 1} distinct)\n`);
    expect(fs.existsSync(path.join(dir, 'absent.db'))).toBe(false);
  }, 60_000);
});

describe('off the main thread', () => {
  it('the host answers another request while a large report is building', async () => {
    // Warm the series cache so the report reads nothing: without the report thread its whole
    // computation would then run in one go on this thread, and the other request would wait.
    await wb.compare({ runIds: big, key: 'loss', maxPoints: 400 });
    let computing!: () => void;
    const started = new Promise<void>((r) => (computing = r));
    const original = SeriesService.prototype.compare;
    const spy = vi.spyOn(SeriesService.prototype, 'compare').mockImplementationOnce(function (this: SeriesService, ...a) {
      computing();
      return original.apply(this, a);
    });
    const order: string[] = [];
    const report = post('exportReport', [{ kind: 'compare', ids: big, format: 'html', keys: ['loss'] }]).then((r) => {
      order.push('report');
      return r;
    });
    await started;
    const info = await post('info', []).then((r) => {
      order.push('info');
      return r;
    });
    const rep = await report;
    spy.mockRestore();
    expect(info.status).toBe(200);
    expect(rep.status).toBe(200);
    expect(order).toEqual(['info', 'report']);
  }, 120_000);

  it('a thread that dies fails its jobs with the reason, and the next job starts a fresh one', async () => {
    const t = new ReportThread();
    try {
      const run = { id: 1, experimentId: null, name: 'r', variant: null, config: {} } as never;
      const job = { raw: [{ run, x: Float64Array.of(0, 1), y: Float64Array.of(1, 2) }], names: [] as [number, string][], req: { key: 'k', x: 'episode' as const, groupBy: 'run' as const, maxPoints: 10, smoothing: 0 } };
      expect((await t.run('compare', job)).groups[0].mean).toEqual([1, 2]);
      // A job the thread cannot parse (a function cannot be cloned) fails alone.
      await expect(t.run('compare', { ...job, req: { ...job.req, key: (() => 1) as never } })).rejects.toThrow();
      // A job pending when the thread dies fails with the reason; the next one gets a new thread.
      const heavy = {
        ...job,
        raw: Array.from({ length: 200 }, (_, i) => ({ run: { ...(run as object), id: i + 1 } as never, x: Float64Array.from({ length: 2000 }, (_, k) => k), y: Float64Array.from({ length: 2000 }, (_, k) => Math.sin(k + i)) })),
        req: { ...job.req, groupBy: 'experiment' as const, maxPoints: 400 },
      };
      const pending = t.run('compare', heavy);
      await (t as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await expect(pending).rejects.toThrow(/^report thread exited with code/);
      expect((await t.run('compare', job)).groups[0].mean).toEqual([1, 2]);
    } finally {
      await t.close();
    }
  }, 60_000);
});
