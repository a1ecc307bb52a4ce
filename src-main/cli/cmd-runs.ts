import fs from 'node:fs';
import { listPresets } from '../../src-shared/config/presets';
import { runnerAlive } from '../runner/liveness';
import { exportRun, EXPORT_FORMATS } from '../report/export';
import { keysProblem, unique } from '../../src-shared/report-limits';
import { parse, intFlag, runIdArg } from './args';
import { openStore, runSuccessKey } from './common';
import { fmtDuration } from './progress';
import type { ReportFormat } from '../../src-shared/api';
import { UsageError } from './errors';

export const RUNS_HELP = `Usage: cairn runs [--status S] [--limit N] [--db PATH] [--json]

List runs, newest first.
`;

export async function runs(argv: string[]): Promise<void> {
  const { values } = parse(argv, { db: { type: 'string' }, json: { type: 'boolean' }, status: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return void process.stdout.write(RUNS_HELP);
  const statuses = ['queued', 'running', 'stopped', 'done', 'failed'];
  if (values.status && !statuses.includes(values.status)) {
    throw new UsageError(`--status: expected one of ${statuses.join(', ')}, got ${JSON.stringify(values.status)}`);
  }
  const limit = intFlag('limit', values.limit, 100, 1, 1_000_000);
  const store = await openStore(values.db, true);
  try {
    const { rows, total } = await store.listRuns({ status: values.status ? [values.status] : undefined, limit, orderBy: 'id', desc: true });
    if (values.json) {
      process.stdout.write(JSON.stringify({ total, runs: rows }) + '\n');
      return;
    }
    if (rows.length === 0) return void process.stdout.write(`no runs in ${store.file}\n`);
    const table = rows.map((r) => ({
      id: String(r.id),
      name: r.name,
      env: r.config.env.id,
      algo: r.config.algo.id,
      seed: String(r.seed),
      status: r.status,
      progress: `${r.episodesDone}/${r.episodesTotal}`,
      backend: r.backend ?? '-',
      started: r.startedAt ? new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ') : '-',
      duration: r.startedAt ? fmtDuration(((r.endedAt ?? Date.now()) - r.startedAt) / 1000) : '-',
      success: successText(r),
    }));
    printTable(table);
    if (total > rows.length) process.stdout.write(`(${rows.length} of ${total}; --limit for more)\n`);
  } finally {
    await store.close();
  }
}

export const SHOW_HELP = `Usage: cairn show ID [--db PATH] [--json]

Show a run: config, status, timings, backend, summary, checkpoints, latest metrics.
`;

export async function show(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { db: { type: 'string' }, json: { type: 'boolean' } }, 1);
  if (values.help) return void process.stdout.write(SHOW_HELP);
  const id = runIdArg(positionals[0]);
  const store = await openStore(values.db, true);
  try {
    const run = await store.getRun(id);
    if (!run) throw new UsageError(`run ${id} does not exist in ${store.file}`);
    const keys = await store.metricKeys(id);
    const latest: Record<string, number> = {};
    for (const k of keys) {
      const s = await store.metricSeries(id, k, { fromEpisode: Math.max(0, run.episodesDone) });
      if (s.value.length) latest[k] = s.value[s.value.length - 1];
    }
    const checkpoints = await store.listCheckpoints(id);
    const episodes = await store.episodeCount(id);
    const out = { ...run, metricSeriesKeys: keys, latest, checkpoints, episodesStored: episodes };
    if (values.json) return void process.stdout.write(JSON.stringify(out) + '\n');
    const line = (k: string, v: unknown) => process.stdout.write(`${k.padEnd(14)} ${v}\n`);
    line('run', `${run.id}  ${run.name}`);
    line('status', run.status + (run.error ? `  (${run.error})` : ''));
    line('env / algo', `${run.config.env.id} / ${run.config.algo.id}   preset ${run.preset ?? '-'}   seed ${run.seed}`);
    line('progress', `${run.episodesDone}/${run.episodesTotal} rounds, ${run.envSteps} env steps, ${episodes} episodes stored`);
    line('backend', `${run.backend ?? '-'} on ${run.host}`);
    line('started', run.startedAt ? new Date(run.startedAt).toISOString() : '-');
    line('ended', run.endedAt ? new Date(run.endedAt).toISOString() : '-');
    line('checkpoints', checkpoints.length ? `${checkpoints.length}, last at round ${checkpoints[checkpoints.length - 1].episode}` : 'none');
    process.stdout.write('summary (mean over the last 10% of episodes):\n');
    for (const [k, v] of Object.entries(run.summary ?? {})) process.stdout.write(`  ${k.padEnd(22)} ${v === null ? 'n/a' : v.toFixed(4)}\n`);
    process.stdout.write('config:\n' + JSON.stringify(run.config, null, 2) + '\n');
  } finally {
    await store.close();
  }
}

export const STOP_HELP = `Usage: cairn stop ID [--db PATH]

Ask a run to stop: it saves a checkpoint after its current round and ends as "stopped";
\`cairn resume ID\` continues it.
`;

export async function stop(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { db: { type: 'string' } }, 1);
  if (values.help) return void process.stdout.write(STOP_HELP);
  const id = runIdArg(positionals[0]);
  const store = await openStore(values.db, false, { mustExist: true });
  try {
    const run = await store.getRun(id);
    if (!run) throw new UsageError(`run ${id} does not exist in ${store.file}`);
    if (run.status !== 'running' && run.status !== 'queued') {
      throw new UsageError(`ID: run ${id} is ${run.status}; only queued or running runs can be stopped`);
    }
    if (run.runnerPid && !runnerAlive(run)) {
      // Its runner died (killed terminal, reboot): nothing will answer the request.
      await store.updateRun(id, { status: 'stopped', runnerPid: null, endedAt: Date.now() });
      process.stdout.write(`run ${id}: its process is gone; marked stopped (resume continues from the last checkpoint)\n`);
      return;
    }
    await store.updateRun(id, { stopRequested: true });
    process.stdout.write(`run ${id}: stop requested; it stops after its current round\n`);
  } finally {
    await store.close();
  }
}

export const EXPORT_HELP = `Usage: cairn export ID --format ${EXPORT_FORMATS.join('|')} --out FILE [--experiment] [--key K]... [--db PATH]

Export a run (or with --experiment, every seed of experiment ID):
  csv    one row per metric point (run_id, seed, key, episode, step, wall_time, value)
  json   run, config, every metric series, episode summaries
  html   self-contained report: charts with 95% CI bands, summary statistics, config, versions
  pdf    the HTML report printed by headless Chromium
  latex  booktabs table of the summary (mean with 95% CI, IQM)
--key chooses the charted metrics (default: the headline metrics of the env).
`;

export async function exportCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      db: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      experiment: { type: 'boolean' },
      key: { type: 'string', multiple: true },
    },
    1,
  );
  if (values.help) return void process.stdout.write(EXPORT_HELP);
  const id = runIdArg(positionals[0]);
  const format = values.format ?? 'csv';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format: expected one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (!values.out) throw new UsageError('--out: required (the file to write)');
  // The API's cap on charted metrics, checked before the database is opened; repeats count once.
  const keys = values.key ? unique(values.key) : undefined;
  const tooMany = keysProblem('--key', keys);
  if (tooMany) throw new UsageError(tooMany.message);
  const store = await openStore(values.db, true);
  try {
    let data: Buffer;
    if (!values.experiment && (format === 'csv' || format === 'json')) {
      const run = await store.getRun(id);
      if (!run) throw new UsageError(`run ${id} does not exist in ${store.file}`);
      data = await exportRun(store, id, format);
    } else {
      const { exportReportFromStore } = await import('../service/reports');
      const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      let file;
      try {
        file = await exportReportFromStore(
          store,
          { kind: values.experiment ? 'experiment' : 'run', ids: [id], format: format as ReportFormat, keys },
          pkg.version,
        );
      } catch (err) {
        const body = (err as { body?: { kind: string; message: string } }).body;
        if (body && body.kind !== 'internal') throw new UsageError(`${body.message}`);
        throw err;
      }
      data = Buffer.from(file.base64, 'base64');
    }
    try {
      fs.writeFileSync(values.out, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : code;
      throw new UsageError(`--out: cannot write ${values.out}: ${why}`);
    }
    process.stdout.write(`wrote ${values.out} (${data.length} bytes)\n`);
  } finally {
    await store.close();
  }
}

export async function presets(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write('Usage: cairn presets [--json]\n\nList experiment presets.\n');
  const list = listPresets();
  if (values.json) return void process.stdout.write(JSON.stringify(list) + '\n');
  const w = Math.max(...list.map((p) => p.name.length));
  for (const p of list) process.stdout.write(`${p.name.padEnd(w)}  ${p.title}${p.paper ? ` (${p.paper})` : ''}\n`);
}

/** The final-10% mean of the run's success measure (the metric its env declares with role 'success'). */
function successText(r: Parameters<typeof runSuccessKey>[0] & { summary: Record<string, number | null> | null }): string {
  const key = runSuccessKey(r);
  const v = key === undefined ? null : r.summary?.[key];
  return v == null ? '-' : v.toFixed(3);
}

function printTable(rows: Record<string, string>[]): void {
  const cols = Object.keys(rows[0]);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  process.stdout.write(cols.map((c, i) => c.padEnd(w[i])).join('  ') + '\n');
  for (const r of rows) process.stdout.write(cols.map((c, i) => r[c].padEnd(w[i])).join('  ') + '\n');
}
