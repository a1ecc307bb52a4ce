/**
 * API fuzz suite (issue 12): seeded request bodies against a live `cairn serve` (a real child
 * process on a database that holds runs), for every method of `API_METHODS` (the one list
 * the hosts serve, so a new method is fuzzed without being listed here):
 * malformed JSON, wrong shapes, wrong types per argument, huge and unicode strings,
 * prototype keys, deep nesting, and mutations of a valid call (one field at a time).
 * Asserted: no 5xx, every answer is the JSON envelope with a one-line message and no stack
 * trace, the server stays up, and afterwards the database is intact with every row.
 * Calls that would legitimately change data (a valid launch, deleting an existing run,
 * tagging) are not generated: launch and sweep bodies always carry one bad field, and ids of
 * existing runs go only to methods that read.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type ApiMethod } from '../../src-shared/api';
import { startCli, tmpDir } from '../helpers/cli';
import { databaseFacts, hasStackTrace, ODD_STRINGS, Pick, seedDatabase } from './fuzz-data';

const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? 12);
const CASES = Number(process.env.CAIRN_FUZZ_API_CASES ?? 420);
const dir = tmpDir('cairn-api-fuzz-');
const DB = path.join(dir, 'fuzz.db');

let child: ChildProcess;
let base = '';
let token = '';
let runIds: number[] = [];
let experimentId = 0;
let before: Awaited<ReturnType<typeof databaseFacts>>;

/** Methods that change stored data when their arguments are valid: never given existing ids. */
const WRITES = new Set<ApiMethod>(['deleteRun', 'setTags', 'setNotes', 'stopRun', 'resumeRun', 'cancelSweep', 'collectSweep']);
/** Methods that start work when valid: every generated body carries one certainly-bad field. */
const STARTS = new Set<ApiMethod>(['launch', 'launchSweep']);

/** A valid (or nearly valid) call per method, to mutate one field at a time. */
function template(m: ApiMethod): unknown[] {
  const run = runIds[0];
  switch (m) {
    case 'resolveConfig':
      return [{ preset: 'manitokan-random', overrides: { train: { episodes: 5 } } }];
    case 'launch':
      return [{ preset: 'manitokan-random', overrides: { train: { episodes: 2 } }, seeds: [1], name: 'x' }];
    case 'listRuns':
      return [{ status: ['done'], limit: 5, orderBy: 'id', desc: true, search: 'kept' }];
    case 'getRun':
    case 'metricKeys':
    case 'runLog':
      return [run];
    case 'metricSeries':
      return [{ runId: run, key: 'return_total', x: 'episode', maxPoints: 50, from: 0, to: 10 }];
    case 'compare':
      return [{ runIds: runIds, key: 'return_total', groupBy: 'experiment', maxPoints: 50, smoothing: 2 }];
    case 'listEpisodes':
      return [run, { limit: 5, offset: 0, desc: true, withReplay: false }];
    case 'getReplay':
      return [run, 0];
    case 'exportReport':
      return [{ kind: 'compare', ids: runIds, format: 'csv', keys: ['return_total'], smoothing: { method: 'ema', weight: 0.5 } }];
    case 'planSweep':
    case 'launchSweep':
      return [{ spec: { preset: 'manitokan-random', axes: [{ key: 'train.numEnvs', values: [1, 2] }], seeds: 1 }, executor: 'local' }];
    case 'setTags':
      return [999_999, ['a', 'b']];
    case 'setNotes':
      return [999_999, 'notes'];
    case 'deleteRun':
    case 'stopRun':
    case 'resumeRun':
    case 'cancelSweep':
    case 'collectSweep':
      return [999_999];
    default:
      return [];
  }
}

const SCALARS: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, '', '1', 'return_total', ...ODD_STRINGS, [], {}, [null], [[1]], { __proto__: { polluted: 1 } }];

function garbage(p: Pick, depth = 0): unknown {
  const r = p.int(10);
  if (depth > 2 || r < 6) return p.one(SCALARS);
  if (r < 8) return Array.from({ length: p.int(4) }, () => garbage(p, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of p.some(['__proto__', 'constructor', 'prototype', 'toString', 'runIds', 'ids', 'key', 'kind', 'format', 'seeds', 'preset', 'overrides', 'spec', 'limit', 'x'], 4)) o[k] = garbage(p, depth + 1);
  return o;
}

/** One field of a (possibly nested) object replaced, removed, or a prototype key added. */
function mutate(p: Pick, v: unknown): unknown {
  if (v === null || typeof v !== 'object') return garbage(p);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(v) ? [...v] : { ...(v as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const what = p.int(4);
  if (what === 0 || keys.length === 0) {
    // Prototype keys as own JSON keys (JSON.parse makes them own properties).
    (copy as Record<string, unknown>)[p.one(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])] = garbage(p);
  } else if (what === 1) delete (copy as Record<string, unknown>)[p.one(keys)];
  else {
    const k = p.one(keys);
    const cur = (copy as Record<string, unknown>)[k];
    (copy as Record<string, unknown>)[k] = p.chance(0.5) ? mutate(p, cur) : garbage(p);
  }
  return copy;
}

/** Replace existing run and experiment ids with absent ones (for methods that write). */
function noExistingIds(v: unknown): unknown {
  if (typeof v === 'number' && (runIds.includes(v) || v === experimentId)) return 999_999;
  if (Array.isArray(v)) return Array.from(v, noExistingIds);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, noExistingIds(x)]));
  return v;
}

interface Case {
  method: string;
  body: string;
}

function makeCases(p: Pick): Case[] {
  const cases: Case[] = [];
  const raw = ['', '{', '{"args":', 'null', '[]', '"args"', '{"args": {}}', '{"args": null}', '{"args": "x"}', '\uFEFF{"args":[]}', '{"args":[1e999]}', '{"args":["\\ud800"]}', '{"args":[], "args":[1]}', '[' .repeat(5000) + ']'.repeat(5000), `{"args":[${'['.repeat(3000)}${']'.repeat(3000)}]}`, '{"args":[{"__proto__":{"isAdmin":true}}]}', 'x'.repeat(70_000)];
  const methods = [...API_METHODS];
  for (const m of methods) for (const body of p.some(raw, 3)) cases.push({ method: m, body });
  // Unknown and prototype method names.
  for (const m of ['constructor', '__proto__', 'toString', 'subscribe', 'close', 'info/../launch', 'Info', '']) cases.push({ method: m, body: '{"args":[]}' });
  while (cases.length < CASES) {
    const m = methods[cases.length % methods.length];
    const t = template(m);
    let args: unknown[];
    const r = p.int(10);
    if (r < 5) args = t.map((a) => (p.chance(0.6) ? mutate(p, a) : a));
    else if (r < 8) args = Array.from({ length: p.int(4) }, () => garbage(p));
    else args = [...t, ...Array.from({ length: 1 + p.int(3) }, () => garbage(p))];
    if (WRITES.has(m)) args = noExistingIds(args) as unknown[];
    if (STARTS.has(m)) {
      // A certainly-bad field: no seeds, an unknown preset, or a refused sweep executor.
      const a0 = (args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) ? { ...(args[0] as object) } : {}) as Record<string, unknown>;
      if (m === 'launch') a0[p.one(['seeds', 'preset'])] = p.one([[], 'no-such-preset-🙂', [-1]]);
      else a0.executor = p.one(['nope', 'SLURM', 3]);
      args = [a0, ...args.slice(1)];
    }
    cases.push({ method: m, body: JSON.stringify({ args }) });
  }
  // Sizes: bodies just over the host's limit (16 MiB) must get a 413, not a reset (it was, from fetch).
  for (let i = 0; i < 3; i++) cases.push({ method: 'setNotes', body: JSON.stringify({ args: [999_999, 'n'.repeat(17 * 1024 * 1024)] }) });
  return cases;
}

async function post(method: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  ({ runIds, experimentId } = await seedDatabase(DB));
  before = await databaseFacts(DB);
  const ui = path.join(dir, 'ui');
  fs.mkdirSync(ui);
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Cairn</title>');
  child = startCli(['serve', '--port', '0', '--db', DB, '--no-open', '--parallel', '1'], { CAIRN_RENDERER_DIR: ui });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const t0 = Date.now();
  while (!/\nDatabase: /.test(stdout) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
  const m = /^Cairn workbench: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([0-9a-f]{64})/.exec(stdout);
  if (!m) throw new Error(`serve did not start: ${stdout}`);
  [, base, token] = m;
}, 150_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('api fuzz against cairn serve', () => {
  it('every method: no 5xx, the JSON envelope, one-line messages, no stack trace', async () => {
    const cases = makeCases(new Pick(SEED));
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    for (const c of cases) {
      let r: { status: number; text: string };
      try {
        r = await post(c.method, c.body);
      } catch (err) {
        failures.push(`${c.method} ${c.body.slice(0, 120)}: no answer (${(err as Error).message})`);
        continue;
      }
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const what = `${c.method} ${c.body.slice(0, 160)} -> ${r.status} ${r.text.slice(0, 300)}`;
      if (r.status >= 500) failures.push(`5xx: ${what}`);
      if (c.body.length > 16 * 1024 * 1024 && r.status !== 413) failures.push(`oversized body not 413: ${what}`);
      let json: { result?: unknown; error?: { kind?: string; message?: string } };
      try {
        json = JSON.parse(r.text);
      } catch {
        failures.push(`not JSON: ${what}`);
        continue;
      }
      if (r.status === 200 && !('result' in json)) failures.push(`200 without result: ${what}`);
      if (r.status !== 200) {
        const msg = json.error?.message;
        if (typeof msg !== 'string' || msg === '' || msg.includes('\n') || !json.error?.kind) failures.push(`error envelope: ${what}`);
      }
      if (hasStackTrace(r.text)) failures.push(`stack trace: ${what}`);
    }
    // Still serving.
    expect((await post('info', '{"args":[]}')).status).toBe(200);
    if (hasStackTrace(stderr)) failures.push(`stack trace on the server's stderr: ${stderr.slice(0, 500)}`);
    console.log(`api fuzz (seed ${SEED}): ${cases.length} requests over ${API_METHODS.length} methods, statuses ${JSON.stringify(statuses)}, ${failures.length} failures`);
    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
  }, 600_000);

  it('lost nothing: after the server stops, the database is intact with every row', async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    const after = await databaseFacts(DB);
    expect(after.integrity).toBe('ok');
    expect(after.counts).toEqual(before.counts);
  }, 60_000);
});
