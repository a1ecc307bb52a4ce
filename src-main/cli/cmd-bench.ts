/**
 * `npm run bench`: throughput of the hot paths, each beside a baseline measured in the same
 * run so numbers are comparable across machines as ratios.
 *   env:    every registered env, batched (B=256, random legal actions) vs one copy at a time
 *           (B=1) (service/bench-registry.ts).
 *   train:  every learner's training env-steps/s on its default preset (32 envs, or the preset's fewer; episodes cut at 100 steps) vs the
 *           random-policy trainer on the same envs (the rollout loop without learning).
 *   ingest: batched SQLite metric ingest vs one INSERT per point in a transaction.
 *   ui:     Workbench API latency on a 1M-point series and a 10,000-run history (`--ui`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { benchAgentSteps, benchEnvs, benchLearners, learnerFigures, type Measure } from '../service/bench-registry';
import { saveBenchFigures } from '../service/bench-results';
import { backendChoice, initBackend } from '../backend/select';
import { benchIngest } from '../db/bench';
import { numFlag, parse } from './args';
import { VS_FLAGS, VS_HELP, benchVsCommand, checkVsFlags } from '../bench/vs-command';

async function perRowIngest(file: string, points: number): Promise<number> {
  const db = new sqlite3.Database(file);
  const run = (sql: string, p: unknown[] = []) =>
    new Promise<void>((res, rej) => db.run(sql, p, (e) => (e ? rej(e) : res())));
  await run('PRAGMA journal_mode=WAL');
  await run('CREATE TABLE m (run_id INTEGER, key_id INTEGER, step INTEGER, episode INTEGER, wall_time REAL, value REAL)');
  await run('CREATE INDEX m_idx ON m (run_id, key_id, episode)');
  const t0 = performance.now();
  await run('BEGIN');
  const stmt = db.prepare('INSERT INTO m VALUES (?, ?, ?, ?, ?, ?)');
  await Promise.all(
    Array.from({ length: points }, (_, i) =>
      new Promise<void>((res, rej) => stmt.run([1, i % 20, i * 32, Math.floor(i / 20), Date.now(), Math.sin(i)], (e: Error | null) => (e ? rej(e) : res()))),
    ),
  );
  await new Promise<void>((res) => stmt.finalize(() => res()));
  await run('COMMIT');
  const dt = performance.now() - t0;
  await new Promise<void>((res) => db.close(() => res()));
  return (points * 1000) / dt;
}

export async function bench(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, backend: { type: 'string' }, seconds: { type: 'string' }, ui: { type: 'boolean' }, ...VS_FLAGS });
  if (values.help) {
    return void process.stdout.write(
      'Usage: cairn bench [--json] [--backend NAME] [--seconds S] [--ui]\n\nThroughput of the env, of every algorithm\'s training and of SQLite ingest, each with a baseline ratio;\n--ui adds Workbench API latencies (1M-point series, 10,000 runs).\n' + VS_HELP,
    );
  }
  // Every flag checked before anything is measured: a bad one must not cost minutes first.
  const secs = numFlag('seconds', values.seconds, 3, 0, 3600);
  checkVsFlags(values);
  const log = (s: string) => process.stderr.write(s + '\n');
  const backend = (await initBackend(backendChoice(values.backend))).name;
  if (values['vs-pytorch'] || values.profile || values.rss || values['ab-kernels'] || values['ab-ppo'] || values['ab-ppo-host'] || values['ab-threads'] || values['ab-moa']) return benchVsCommand(values, backend, log);

  const envs = benchEnvs(secs, log);
  const agentSteps = benchAgentSteps(secs, log);
  const trained = await benchLearners(secs, backend, log);
  // Kept for the new-experiment form's run-time estimate.
  try {
    log(`train: figures saved to ${saveBenchFigures(learnerFigures(trained, backend, Date.now()))}`);
  } catch (err) {
    log(`train: figures not saved (${(err as Error).message})`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
  log('ingest: batched ...');
  const ingest = (await benchIngest(path.join(dir, 'a.db'), 400_000)).pointsPerSecond;
  log('ingest: baseline one INSERT per point ...');
  const ingest1 = await perRowIngest(path.join(dir, 'b.db'), 100_000);
  fs.rmSync(dir, { recursive: true, force: true });

  let ui: Record<string, number> | null = null;
  let browserUi: Awaited<ReturnType<typeof import('../service/bench-ui-browser').benchUiBrowser>> | null = null;
  if (values.ui) {
    log('ui: Workbench API latencies (1M points, 10,000 runs) ...');
    const { benchUi } = await import('../service/bench-ui');
    ui = await benchUi({ log });
    log('ui: main-thread responsiveness in Chromium while two runs stream ...');
    const { benchUiBrowser } = await import('../service/bench-ui-browser');
    browserUi = await benchUiBrowser({ backend, log });
  }

  const rows: Measure[] = [
    ...envs,
    ...agentSteps,
    ...trained,
    { name: 'SQLite ingest points/s', value: ingest, baseline: ingest1, baselineName: 'row-by-row', target: 200_000 },
  ];
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
  process.stdout.write(`\nbackend ${backend}, ${os.cpus().length} cores, node ${process.version}\n`);
  process.stdout.write(`${'measure'.padEnd(58)} ${'value'.padStart(9)} ${'baseline'.padStart(9)}  ratio   target\n`);
  for (const { name, value: v, baseline: b, baselineName: bname, target } of rows) {
    const t = target === null ? '' : `${v >= target ? 'met' : 'below'} ${fmt(target)}`;
    process.stdout.write(`${name.padEnd(58)} ${fmt(v).padStart(9)} ${fmt(b).padStart(9)}  ${(v / b).toFixed(2)}x vs ${bname}  ${t}\n`);
  }
  // The ALITA and F2A2 issues ask for every learner's speed next to PG's: the same figures,
  // divided by PG's (each on its own default preset, so envs differ: a ratio of throughput,
  // not of work per step).
  const pg = trained.find((t) => t.algo === 'pg');
  const vsPg = pg ? trained.map((t) => ({ algo: t.algo, preset: t.preset, value: t.value, ratio: t.value / pg.value })) : [];
  if (pg) {
    process.stdout.write(`\nTraining env-steps/s next to PG's (${fmt(pg.value)} on ${pg.preset})\n`);
    for (const r of vsPg) process.stdout.write(`  ${r.algo.padEnd(22)} ${fmt(r.value).padStart(9)}  ${r.ratio.toFixed(2)}x PG  (${r.preset})\n`);
  }
  if (ui) {
    process.stdout.write('\nWorkbench API latency (ms, median)\n');
    for (const [k, v] of Object.entries(ui)) process.stdout.write(`  ${k.padEnd(40)} ${v.toFixed(1)}\n`);
  }
  if (browserUi) {
    process.stdout.write('\nWorkbench in Chromium: main thread per interaction while two runs stream (Event Timing, ms)\n');
    if ('skipped' in browserUi) process.stdout.write(`  skipped: ${browserUi.skipped}\n`);
    else {
      const b = browserUi;
      const ratio = (v: number, base: number) => (base > 0 ? `${(v / base).toFixed(2)}x vs idle` : '');
      process.stdout.write(`  interactions                             ${b.interactions} per pass, load ${b.load_start.toFixed(1)} -> ${b.load_end.toFixed(1)} (1-min average; figures scale with it)\n`);
      process.stdout.write(`  interaction p95                          ${b.interaction_p95_ms.toFixed(1)}  (idle ${b.idle_interaction_p95_ms.toFixed(1)}, ${ratio(b.interaction_p95_ms, b.idle_interaction_p95_ms)})  target < 100\n`);
      process.stdout.write(`  interaction max                          ${b.interaction_max_ms.toFixed(1)}  (idle ${b.idle_interaction_max_ms.toFixed(1)}, ${ratio(b.interaction_max_ms, b.idle_interaction_max_ms)})\n`);
      process.stdout.write(`  long tasks while streaming               ${b.longtask_count}, max ${b.longtask_max_ms.toFixed(1)}  (idle max ${b.idle_longtask_max_ms.toFixed(1)})\n`);
      process.stdout.write('  per interaction while streaming (worst event = input delay + processing + presentation; longest long task in its window):\n');
      for (const [label, r] of Object.entries(b.by_interaction)) {
        const split = `(${r.worst_input_delay_ms.toFixed(0)} + ${r.worst_processing_ms.toFixed(0)} + ${r.worst_presentation_ms.toFixed(0)})`;
        const over = r.event_max_ms >= 100 || r.longtask_max_ms >= 100 ? '  over 100' : '';
        process.stdout.write(`    ${label.padEnd(16)} x${String(r.count).padEnd(3)} event ${r.event_max_ms.toFixed(1).padStart(6)} ${split.padEnd(16)} long task ${r.longtask_max_ms.toFixed(1).padStart(6)}${over}\n`);
      }
    }
  }
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        env_steps_per_s_by_env: Object.fromEntries(envs.map((e) => [e.envId, Math.round(e.value)])),
        env_steps_per_s_b1_by_env: Object.fromEntries(envs.map((e) => [e.envId, Math.round(e.baseline)])),
        agent_steps_per_s: Object.fromEntries(agentSteps.map((e) => [e.name, Math.round(e.value)])),
        train_by_preset: Object.fromEntries(trained.map((t) => [t.preset, Math.round(t.value)])),
        random_policy_by_preset: Object.fromEntries(trained.map((t) => [t.preset, Math.round(t.baseline)])),
        train_vs_pg_by_algo: Object.fromEntries(vsPg.map((r) => [r.algo, Number(r.ratio.toFixed(3))])),
        ingest_points_per_s: Math.round(ingest),
        ingest_row_by_row_points_per_s: Math.round(ingest1),
        ...(ui ? { ui_ms: ui } : {}),
        ...(browserUi ? { ui_browser: browserUi } : {}),
        backend,
      }) + '\n',
    );
  }
}

