/**
 * Run export: CSV (one row per metric point, long format, what pandas and R read directly)
 * and JSON (run, config, every metric series, episode summaries).
 */
import type { Store } from '../db/store';

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function exportRun(store: Store, runId: number, format: ExportFormat): Promise<Buffer> {
  const run = await store.getRun(runId);
  if (!run) throw new Error(`run ${runId}: no such run`);
  const keys = await store.metricKeys(runId);
  const series: Record<string, { step: number[]; episode: number[]; wall_time: number[]; value: number[] }> = {};
  for (const k of keys) {
    const s = await store.metricSeries(runId, k);
    series[k] = { step: Array.from(s.step), episode: Array.from(s.episode), wall_time: Array.from(s.wallTime), value: Array.from(s.value) };
  }
  if (format === 'csv') {
    const lines = ['run_id,seed,key,episode,step,wall_time,value'];
    for (const k of keys) {
      const s = series[k];
      for (let i = 0; i < s.value.length; i++) {
        lines.push([run.id, run.seed, csvCell(k), s.episode[i], s.step[i], s.wall_time[i], s.value[i]].join(','));
      }
    }
    return Buffer.from(lines.join('\n') + '\n');
  }
  const episodes = await store.listEpisodes(runId, {});
  return Buffer.from(
    JSON.stringify({
      run,
      metric_keys: run.metricKeys,
      series,
      episodes: episodes.map((e) => ({ idx: e.idx, round: e.round, env_index: e.envIndex, values: e.values })),
    }),
  );
}
