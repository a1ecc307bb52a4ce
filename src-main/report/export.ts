/**
 * Data export: CSV (one row per metric point, long format, what pandas and R read directly)
 * and JSON (run, config, every metric series, episode summaries), for one run or several.
 * The report formats (html, pdf, latex) are built in `report.ts` and rendered by `html.ts`,
 * `latex.ts` and `pdf.ts`; `EXPORT_FORMATS` lists every format `cairn export` accepts.
 */
import type { Store } from '../db/store';

export const EXPORT_FORMATS = ['csv', 'json', 'html', 'pdf', 'latex'] as const;
export type ReportExportFormat = (typeof EXPORT_FORMATS)[number];
/** The data formats (`exportRun`, `exportRuns`). */
export type ExportFormat = 'csv' | 'json';

const CSV_HEADER = 'run_id,seed,key,episode,step,wall_time,value';

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function runData(store: Store, runId: number) {
  const run = await store.getRun(runId);
  if (!run) throw new Error(`run ${runId}: no such run`);
  const keys = await store.metricKeys(runId);
  const series: Record<string, { step: number[]; episode: number[]; wall_time: number[]; value: number[] }> = {};
  for (const k of keys) {
    const s = await store.metricSeries(runId, k);
    series[k] = { step: Array.from(s.step), episode: Array.from(s.episode), wall_time: Array.from(s.wallTime), value: Array.from(s.value) };
  }
  return { run, keys, series };
}

function csvLines(d: Awaited<ReturnType<typeof runData>>, lines: string[]): void {
  for (const k of d.keys) {
    const s = d.series[k];
    for (let i = 0; i < s.value.length; i++) {
      lines.push([d.run.id, d.run.seed, csvCell(k), s.episode[i], s.step[i], s.wall_time[i], s.value[i]].join(','));
    }
  }
}

async function runJson(store: Store, d: Awaited<ReturnType<typeof runData>>) {
  const episodes = await store.listEpisodes(d.run.id, {});
  return {
    run: d.run,
    metric_keys: d.run.metricKeys,
    series: d.series,
    episodes: episodes.map((e) => ({ idx: e.idx, round: e.round, env_index: e.envIndex, values: e.values })),
  };
}

export async function exportRun(store: Store, runId: number, format: ExportFormat): Promise<Buffer> {
  const d = await runData(store, runId);
  if (format === 'csv') {
    const lines = [CSV_HEADER];
    csvLines(d, lines);
    return Buffer.from(lines.join('\n') + '\n');
  }
  return Buffer.from(JSON.stringify(await runJson(store, d)));
}

/** Several runs: CSV rows of all runs under one header; JSON `{ runs: [<exportRun json>...] }`. */
export async function exportRuns(store: Store, runIds: number[], format: ExportFormat): Promise<Buffer> {
  if (format === 'csv') {
    const lines = [CSV_HEADER];
    for (const id of runIds) csvLines(await runData(store, id), lines);
    return Buffer.from(lines.join('\n') + '\n');
  }
  const runs = [];
  for (const id of runIds) runs.push(await runJson(store, await runData(store, id)));
  return Buffer.from(JSON.stringify({ runs }));
}
