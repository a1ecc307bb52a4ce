/**
 * Report export over a real database with real tiny runs (two seeds of one experiment and a
 * third run of another): self-contained HTML with inline SVG and the summary numbers, a
 * structurally valid booktabs LaTeX table with escaped labels, CSV/JSON content, and a PDF
 * printed by headless Chromium (skipped with a message where there is none).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult, ReportFile } from '../../src-shared/api';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { exportReportFromStore } from '../../src-main/service/reports';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { fmtNum } from '../../src-main/report/html';
import { findChromium } from '../../src-main/report/pdf';
import { tmpDir } from '../helpers/cli';
import { waitForRuns } from '../service/wait';

const dir = tmpDir('cairn-report-');
let store: Store;
let wb: Workbench;
let runner: Runner;
let exp: { experimentId: number; runIds: number[] };
let other: { experimentId: number; runIds: number[] };
const NAME = 'A&B_50% {x} #1';

const text = (f: ReportFile) => Buffer.from(f.base64, 'base64').toString('utf8');

beforeAll(async () => {
  store = await Store.open(path.join(dir, 'report.db'));
  runner = new Runner({ store, maxParallel: 3, backend: 'wasm' });
  wb = createWorkbench({ store, runner, host: 'http', backend: 'wasm', version: '0.0.0-test' });
  exp = await wb.launch({ preset: 'manitokan-random', overrides: { train: { episodes: 20, numEnvs: 4 } }, seeds: [1, 2], name: NAME });
  other = await wb.launch({ preset: 'manitokan-random', overrides: { train: { episodes: 30, numEnvs: 2 } }, seeds: [3], name: 'other' });
  await waitForRuns(wb, [...exp.runIds, ...other.runIds]);
});

afterAll(async () => {
  await wb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('html report', () => {
  let html = '';
  let cmp: CompareResult;

  beforeAll(async () => {
    const f = await wb.exportReport({ kind: 'experiment', ids: [exp.experimentId], format: 'html', keys: ['return_total', 'collective_success'] });
    expect(f.mime).toMatch(/^text\/html/);
    expect(f.filename).toBe(`cairn-experiment-${exp.experimentId}.html`);
    html = text(f);
    cmp = await wb.compare({ runIds: exp.runIds, key: 'return_total', groupBy: 'experiment', maxPoints: 400 });
  });

  it('is one self-contained file: inline SVG charts with a CI band, no scripts, no external requests', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // Two learning curves, plus the variance of collective_success across seeds (Fig. 6c).
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).toContain('variance of collective_success across seeds');
    expect(html).toContain('class="band"');
    expect(html).toContain('class="line"');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link /i);
    expect(html).not.toMatch(/\s(src|href)=/i);
    // The only URL is the SVG namespace (an identifier, never fetched).
    const urls = (html.match(/https?:\/\/[^\s"'<>)]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
    expect(urls).toEqual([]);
    expect(html).toContain("default-src 'none'");
  });

  it('shows the summary statistics with CIs, configs, runs and versions', () => {
    const s = cmp.summary[0];
    expect(s.n).toBe(2);
    expect(html).toContain(fmtNum(s.mean));
    expect(html).toContain(`[${fmtNum(s.ciLo)}, ${fmtNum(s.ciHi)}]`);
    expect(html).toContain(fmtNum(s.iqm));
    expect(html).toContain('Final-10% mean');
    expect(html).toContain('IQM');
    expect(html).toContain('A&amp;B_50% {x} #1');
    expect(html).toContain('train.numEnvs');
    expect(html).toContain('wasm');
    expect(html).toContain('0.0.0-test');
    expect(html).toContain(process.version);
    for (const id of exp.runIds) expect(html).toContain(`<td class="num">${id}</td>`);
  });

  it('a comparison report shows the config diff between experiments', async () => {
    const f = await wb.exportReport({ kind: 'compare', ids: [...exp.runIds, ...other.runIds], format: 'html', keys: ['return_total'] });
    const h = text(f);
    expect(h).toContain('Fields that differ between runs');
    expect(h).toMatch(/train\.episodes/);
    expect((h.match(/class="band"/g) ?? []).length).toBeGreaterThanOrEqual(1);
  });

  it('a run report with the default (headline) metrics', async () => {
    const f = await wb.exportReport({ kind: 'run', ids: [exp.runIds[0]], format: 'html' });
    const h = text(f);
    expect(h).toContain('collective_success');
    expect(h).toContain('return_total');
    expect(h).not.toContain('class="band"');
  });

  it('refuses bad requests with the field', async () => {
    await expect(wb.exportReport({ kind: 'run', ids: [1, 2], format: 'html' })).rejects.toMatchObject({ body: { field: 'ids' } });
    await expect(wb.exportReport({ kind: 'run', ids: [1], format: 'docx' as never })).rejects.toMatchObject({ body: { field: 'format' } });
    await expect(wb.exportReport({ kind: 'run', ids: [99_999], format: 'html' })).rejects.toMatchObject({ body: { kind: 'not-found' } });
    await expect(wb.exportReport({ kind: 'run', ids: [exp.runIds[0]], format: 'latex', keys: ['nope'] })).rejects.toMatchObject({
      body: { kind: 'input', field: 'keys' },
    });
  });
});

describe('latex report', () => {
  it('is a booktabs table whose rows have as many cells as columns, with escaped labels', async () => {
    const f = await wb.exportReport({ kind: 'compare', ids: [...exp.runIds, ...other.runIds], format: 'latex', keys: ['return_total', 'collective_success'] });
    expect(f.filename).toMatch(/\.tex$/);
    const tex = text(f);
    const begin = tex.indexOf('\\begin{tabular}{');
    const end = tex.indexOf('\\end{tabular}');
    expect(begin).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(begin);
    const spec = /\\begin\{tabular\}\{([lcr]+)\}/.exec(tex)![1];
    const body = tex.slice(begin, end);
    for (const rule of ['\\toprule', '\\midrule', '\\bottomrule']) expect(body).toContain(rule);
    const rows = body
      .split('\n')
      .slice(1)
      .filter((l) => !/^\\(toprule|midrule|bottomrule)/.test(l) && l.trim() !== '');
    expect(rows.length).toBe(1 + 2 * 2); // header + 2 metrics x 2 groups
    for (const r of rows) {
      expect(r.trimEnd().endsWith('\\\\')).toBe(true);
      const cells = r.replace(/\\\\\s*$/, '').split(/(?<!\\)&/);
      expect(cells.length).toBe(spec.length);
    }
    // Braces balance; labels escaped.
    let depth = 0;
    for (let i = 0; i < tex.length; i++) {
      if (tex[i] === '\\') {
        i++;
        continue;
      }
      if (tex[i] === '{') depth++;
      if (tex[i] === '}') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    expect(tex).toContain('A\\&B\\_50\\% \\{x\\} \\#1');
    expect(tex).toContain('return\\_total');
    expect(tex).toMatch(/\$-?\d+\.\d+\^\{\+\d+\.\d+\}_\{-\d+\.\d+\}\$/);
  });
});

describe('csv and json', () => {
  it('a run as CSV: a header and one row per stored point', async () => {
    const id = exp.runIds[0];
    const csv = text(await wb.exportReport({ kind: 'run', ids: [id], format: 'csv' }));
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('run_id,seed,key,episode,step,wall_time,value');
    let points = 0;
    for (const k of await wb.metricKeys(id)) points += (await wb.metricSeries({ runId: id, key: k, maxPoints: 100_000 })).total;
    expect(lines.length - 1).toBe(points);
    expect(lines.slice(1).every((l) => l.startsWith(`${id},1,`))).toBe(true);
  });

  it('an experiment as CSV and JSON covers every seed', async () => {
    const csv = text(await wb.exportReport({ kind: 'experiment', ids: [exp.experimentId], format: 'csv' }));
    const runIds = new Set(csv.trim().split('\n').slice(1).map((l) => Number(l.split(',')[0])));
    expect([...runIds].sort()).toEqual([...exp.runIds].sort());
    const json = JSON.parse(text(await wb.exportReport({ kind: 'experiment', ids: [exp.experimentId], format: 'json' })));
    expect(json.runs.map((r: { run: { id: number } }) => r.run.id)).toEqual(exp.runIds);
    expect(json.runs[0].series.return_total.value).toHaveLength(20);
    expect(json.runs[0].episodes).toHaveLength(80);
  });

  it('the CLI-side export gives the same HTML without a runner', async () => {
    const f = await exportReportFromStore(store, { kind: 'run', ids: [exp.runIds[1]], format: 'latex' }, '9.9.9');
    expect(text(f)).toContain('Cairn 9.9.9');
  });
});

describe('pdf report', () => {
  const chromium = findChromium();
  (chromium ? it : it.skip)(
    chromium ? `prints with ${chromium}` : 'skipped: no Chromium found (apt-get install chromium, or set CAIRN_CHROMIUM)',
    async () => {
      const f = await wb.exportReport({ kind: 'experiment', ids: [exp.experimentId], format: 'pdf', keys: ['return_total'] });
      expect(f.mime).toBe('application/pdf');
      const buf = Buffer.from(f.base64, 'base64');
      expect(buf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(buf.length).toBeGreaterThan(5000);
    },
  );
});

describe('a report matches the screen it was exported from (issue 14, item 2)', () => {
  const html = async (smoothing?: Parameters<Workbench['exportReport']>[0]['smoothing']) =>
    text(await wb.exportReport({ kind: 'experiment', ids: [exp.experimentId], format: 'html', keys: ['return_total'], smoothing }));
  const paths = (h: string) => (h.match(/<polyline class="line"[^>]*>/g) ?? []).join('\n');

  it('carries the chosen metrics and the screen’s smoothing, and says so', async () => {
    const ema = await html({ method: 'ema', weight: 0.6 });
    expect(ema).toContain('Metrics: <code>return_total</code> (as chosen on screen)');
    expect(ema).toContain('exponential moving average of weight 0.6 (as on the run page)');
    expect(ema).not.toContain('2% of its rounds');
    const raw = await html({ method: 'none' });
    expect(raw).toContain('no smoothing');
    const win = await html({ method: 'window', points: 5 });
    expect(win).toContain('moving average over 5 points (as on the compare page)');
    // The curves really differ with the smoothing.
    expect(paths(ema)).not.toBe(paths(raw));
    expect(paths(win)).not.toBe(paths(raw));
    // Without a choice (cairn export): the 2% default, stated.
    expect(await html()).toContain('2% of its rounds');
  });

  it('names a bad smoothing field and the allowed values', async () => {
    await expect(
      wb.exportReport({ kind: 'run', ids: [exp.runIds[0]], format: 'html', smoothing: { method: 'ema', weight: 1.5 } }),
    ).rejects.toMatchObject({ body: { field: 'smoothing.weight', kind: 'input' } });
  });

  it('its runs table keeps each start time on one line (minutes, UTC in the header)', async () => {
    const h = await html();
    expect(h).toContain('<th>Started (UTC)</th>');
    const started = [...h.matchAll(/<td class="nw">(\d{4}-\d\d-\d\d \d\d:\d\d)<\/td>/g)].map((m) => m[1]);
    expect(started.length).toBe(exp.runIds.length);
    expect(h).toContain('td.nw{white-space:nowrap}');
  });
});
