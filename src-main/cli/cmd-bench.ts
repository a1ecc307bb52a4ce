/**
 * `npm run bench`: throughput of the hot paths, each beside a baseline measured in the same
 * run so numbers are comparable across machines as ratios.
 *   env:    batched Manitokan steps (B=256, observations computed, random legal actions)
 *           vs the same env stepped one copy at a time (B=1).
 *   train:  each algorithm's training env-steps/s (32 envs x 2 agents, its `-history` preset)
 *           vs the random-policy trainer on the same envs (the rollout loop without learning).
 *   ingest: batched SQLite metric ingest vs one INSERT per point in a transaction.
 *   ui:     Workbench API latency on a 1M-point series and a 10,000-run history (`--ui`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sqlite3 from 'sqlite3';
import { getAlgo, getEnv, listAlgos } from '../../src-shared/registry';
import { resolve } from '../../src-shared/config/schema';
import { getPreset } from '../../src-shared/config/presets';
import { Rng } from '../../src-shared/rng';
import type { VecEnv } from '../../src-shared/envs/types';
import { backendChoice, initBackend } from '../backend/select';
import { benchIngest } from '../db/bench';
import { parse } from './args';

function randomLegal(env: VecEnv, actions: Int32Array, rng: Rng): void {
  const A = env.spec.numActions;
  const rows = actions.length;
  for (let r = 0; r < rows; r++) {
    const base = r * A;
    let n = 0;
    for (let a = 0; a < A; a++) n += env.actionMask[base + a];
    let k = rng.int(n);
    for (let a = 0; a < A; a++) {
      if (env.actionMask[base + a] && k-- === 0) {
        actions[r] = a;
        break;
      }
    }
  }
}

function envStepsPerSecond(numEnvs: number, seconds: number): number {
  const entry = getEnv('manitokan')!;
  const env = entry.create(resolve('env', entry.schema, {}), { numEnvs, autoReset: true });
  const rng = new Rng(1, 99);
  const actions = new Int32Array(numEnvs * env.spec.numAgents);
  env.reset(1);
  let steps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 200; i++) {
      randomLegal(env, actions, rng);
      env.step(actions);
      env.drainEpisodes();
    }
    steps += 200 * numEnvs;
    t = performance.now();
  }
  return (steps * 1000) / (t - t0);
}

async function trainStepsPerSecond(preset: string, algoId: string, seconds: number): Promise<number> {
  const p = getPreset(preset)!;
  const envEntry = getEnv('manitokan')!;
  const algo = getAlgo(algoId)!;
  const { id: _e, ...envRaw } = p.config.env ?? {};
  const { id: _a, ...algoRaw } = p.config.algo ?? {};
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, algoId === p.config.algo?.id ? algoRaw : {});
  const env = envEntry.create(envConfig, { numEnvs: 32, autoReset: false });
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  await trainer.round(); // warm-up: variable creation, kernel compilation
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) steps += (await trainer.round()).envSteps;
  const dt = performance.now() - t0;
  trainer.dispose();
  return (steps * 1000) / dt;
}

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

/** Algorithms to time, with the preset each is timed on (their action-history setting). */
function trainedAlgos(): { id: string; preset: string }[] {
  const out: { id: string; preset: string }[] = [];
  for (const a of listAlgos()) {
    if (a.id === 'random') continue;
    const preset = `manitokan-${a.id}-history`;
    if (getPreset(preset)) out.push({ id: a.id, preset });
  }
  for (const extra of ['manitokan-pg-history-self-correction']) {
    if (getPreset(extra)) out.push({ id: 'pg', preset: extra });
  }
  return out;
}

export async function bench(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, backend: { type: 'string' }, seconds: { type: 'string' }, ui: { type: 'boolean' } });
  if (values.help) {
    return void process.stdout.write(
      'Usage: cairn bench [--json] [--backend NAME] [--seconds S] [--ui]\n\nThroughput of the env, of every algorithm\'s training and of SQLite ingest, each with a baseline ratio;\n--ui adds Workbench API latencies (1M-point series, 10,000 runs).\n',
    );
  }
  const secs = values.seconds ? Number(values.seconds) : 3;
  const log = (s: string) => process.stderr.write(s + '\n');
  const backend = (await initBackend(backendChoice(values.backend))).name;

  log('env: batched B=256 ...');
  const env = envStepsPerSecond(256, secs);
  log('env: baseline B=1 ...');
  const env1 = envStepsPerSecond(1, secs);
  const trained: { id: string; preset: string; sps: number }[] = [];
  for (const a of trainedAlgos()) {
    log(`train: ${a.id} (${a.preset}) on ${backend} ...`);
    trained.push({ ...a, sps: await trainStepsPerSecond(a.preset, a.id, secs * 2) });
  }
  const trainPg = trained.find((t) => t.preset === 'manitokan-pg-history')!.sps;
  log('train: baseline random policy ...');
  const trainRandom = await trainStepsPerSecond('manitokan-pg-history', 'random', secs);
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

  const rows: [string, number, number, string, number | null][] = [
    ['manitokan env-steps/s (B=256)', env, env1, 'B=1', 2_000_000],
    ...trained.map(
      (t): [string, number, number, string, number | null] => [
        `${t.preset} training env-steps/s`,
        t.sps,
        trainRandom,
        'random policy',
        t.preset === 'manitokan-pg-history' ? 20_000 : null,
      ],
    ),
    ['SQLite ingest points/s', ingest, ingest1, 'row-by-row', 200_000],
  ];
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
  process.stdout.write(`\nbackend ${backend}, ${os.cpus().length} cores, node ${process.version}\n`);
  process.stdout.write(`${'measure'.padEnd(58)} ${'value'.padStart(9)} ${'baseline'.padStart(9)}  ratio   target\n`);
  for (const [name, v, b, bname, target] of rows) {
    const t = target === null ? '' : `${v >= target ? 'met' : 'below'} ${fmt(target)}`;
    process.stdout.write(`${name.padEnd(58)} ${fmt(v).padStart(9)} ${fmt(b).padStart(9)}  ${(v / b).toFixed(2)}x vs ${bname}  ${t}\n`);
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
      process.stdout.write(`  interactions                             ${b.interactions} per pass\n`);
      process.stdout.write(`  interaction p95                          ${b.interaction_p95_ms.toFixed(1)}  (idle ${b.idle_interaction_p95_ms.toFixed(1)}, ${ratio(b.interaction_p95_ms, b.idle_interaction_p95_ms)})  target < 100\n`);
      process.stdout.write(`  interaction max                          ${b.interaction_max_ms.toFixed(1)}  (idle ${b.idle_interaction_max_ms.toFixed(1)}, ${ratio(b.interaction_max_ms, b.idle_interaction_max_ms)})\n`);
      process.stdout.write(`  long tasks while streaming               ${b.longtask_count}, max ${b.longtask_max_ms.toFixed(1)}  (idle max ${b.idle_longtask_max_ms.toFixed(1)})\n`);
    }
  }
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        env_steps_per_s: Math.round(env),
        env_steps_per_s_b1: Math.round(env1),
        train_env_steps_per_s: Math.round(trainPg),
        random_policy_env_steps_per_s: Math.round(trainRandom),
        ingest_points_per_s: Math.round(ingest),
        ingest_row_by_row_points_per_s: Math.round(ingest1),
        train_by_preset: Object.fromEntries(trained.map((t) => [t.preset, Math.round(t.sps)])),
        ...(ui ? { ui_ms: ui } : {}),
        ...(browserUi ? { ui_browser: browserUi } : {}),
        backend,
      }) + '\n',
    );
  }
}
