/**
 * CLI fuzz suite (issue 12): seeded commands built from the real tables, run through the real
 * entry (`main` + the error reporting of bin/cairn.mjs) in one batch process
 * (`cli-harness.ts`), against a database that holds runs.
 *
 * - Flags: every command's option table as `parse` receives it (the harness runs each
 *   `--help` in-process and reads it), so a new flag is fuzzed without being listed here; the
 *   help text's placeholder (`--seeds K`, `--db PATH`) picks the value family.
 * - `--set`: every field of every registered env, learner and the train schema, with values
 *   the field refuses (wrong type, out of range, `0x10`, `1e-400`, unknown and prototype keys).
 * Commands that start long work (train, resume, eval, repro, sweep, serve, bench) always get one
 * certainly-bad argument, so each must refuse before starting; quick commands also get valid
 * mixes. Asserted: no stack trace in any output, exit 0 or 2 only, exit 2 is one line naming
 * what is wrong, and the database is intact with every row (integrity_check, row counts).
 * Not fuzzed: `delete --yes` and deleting existing runs (deleting is their purpose), PDF
 * export (headless Chromium costs seconds; test/report covers it), paths outside the test's
 * own folder (the suite may run as root).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainSchema } from '../../src-shared/config/experiment';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import type { FieldSpec, Schema } from '../../src-shared/config/schema';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { ROOT, tmpDir } from '../helpers/cli';
import type { CaseResult } from './cli-harness';
import { BAD_INTS, databaseFacts, hasStackTrace, ODD_STRINGS, Pick, seedDatabase } from './fuzz-data';

const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? 12);
const CASES = Number(process.env.CAIRN_FUZZ_CLI_CASES ?? 220);
const SET_CASES = Number(process.env.CAIRN_FUZZ_SET_CASES ?? 110);
const LONG = new Set(['train', 'resume', 'eval', 'repro', 'sweep', 'serve', 'bench']);

const dir = tmpDir('cairn-cli-fuzz-');
const DB = path.join(dir, 'fuzz.db');
const HARNESS = path.join(__dirname, 'cli-harness.ts');

interface Table {
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
  help: string;
}
interface Case {
  argv: string[];
  /** The case holds something certainly invalid: it must exit 2. */
  bad: boolean;
  /** Names one of which the one-line error must mention. */
  names: string[];
  limitMs?: number;
}

function harness(args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', HARNESS, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CAIRN_BACKEND: 'cpu', CI: 'true' } });
  if (r.status !== 0) {
    const current = `${args[args.length - 1]}.current`;
    const stuck = fs.existsSync(current) ? `; stuck on: cairn ${(JSON.parse(fs.readFileSync(current, 'utf8')) as string[]).join(' ').slice(0, 500)}` : '';
    throw new Error(`cli-harness ${args[0]} failed (${r.status ?? r.signal})${stuck}:\n${r.stderr}\n${r.stdout}`);
  }
}

/** Placeholder of a flag in the help text (`--seeds K` -> K), or ''. */
function placeholder(help: string, flag: string): string {
  const m = new RegExp(`--${flag}[ =]([A-Za-z][A-Za-z.|:_-]*(=value)?)`).exec(help);
  return m ? m[1] : '';
}

/** Positional placeholders of the command's usage line (`show ID`, `env check PATH`). */
function positionals(cmd: string, help: string): string[] {
  const usage = new RegExp(`Usage: cairn ${cmd}((?: (?!\\[|--)\\S+)*)`).exec(help);
  return usage ? usage[1].trim().split(/\s+/).filter((t) => t !== '' && !t.startsWith('-')) : [];
}

let tables: Record<string, Table>;
let runIds: number[] = [];
let before: Awaited<ReturnType<typeof databaseFacts>>;
let results: CaseResult[] = [];
let cases: Case[] = [];

/** Whether a flag (or positional, flag '') takes an integer: by its placeholder, and by name where a letter means several things. */
function isInt(kind: string, flag: string): boolean {
  const k = kind.replace(/\.\.\.$/, '');
  if (/^(N|K|B|C|ID)$/.test(k)) return true;
  if (k === 'S') return ['seed', 'sample-seed', 'seconds'].includes(flag);
  if (k === 'P') return ['parallel', 'port'].includes(flag);
  return false;
}

function value(p: Pick, kind: string, cmd: string, flag = ''): { v: string; bad: boolean } {
  const k = kind.replace(/\.\.\.$/, '');
  if (isInt(kind, flag)) {
    if (p.chance(0.6)) return { v: p.one(BAD_INTS), bad: true };
    // `delete` never names an existing run: deleting is what it is for.
    const ok = cmd === 'delete' ? ['0', '-1', '99999', '2147483647'] : ['0', '1', '2', '-1', '1e3', '+3', '2147483647', '99999999'];
    const ids = cmd === 'delete' ? [] : runIds.map(String);
    return { v: k === 'ID' ? p.one([...ids, ...ok]) : p.one(ok), bad: false };
  }
  if (/PATH|FILE|DIR|^F$/.test(k)) {
    const paths = [
      dir,
      path.join(dir, 'no', 'such', 'dir', 'x.db'),
      path.join(dir, 'plain.txt'),
      path.join(dir, 'é 日本 🙂.json'),
      path.join(dir, 'x'.repeat(300)),
      '/proc/self/cairn-fuzz.db',
      '',
      path.join(dir, 'sweep.json'),
    ];
    return { v: p.one(paths), bad: false };
  }
  if (k.includes('|')) {
    const choices = k.split('|').filter((c) => c !== 'pdf');
    if (p.chance(0.5)) return { v: p.one(choices), bad: false };
    return { v: p.one([...choices.map((c) => c.toUpperCase()), 'nope', '', 'run:abc', 'run:-1']), bad: true };
  }
  return { v: p.one([...ODD_STRINGS, 'manitokan-random', 'auto', 'wasm', 'cpu', 'local', 'slurm', 'paper', 'small', '127.0.0.1', '0.0.0.0']), bad: false };
}

/** A `--set` assignment the field refuses, from the schemas of the preset's env and learner. */
function badSet(p: Pick, preset: string): { set: string; name: string } {
  const cfg = getPreset(preset)!.config;
  const envId = cfg.env?.id ?? 'manitokan';
  const algoId = cfg.algo?.id ?? 'random';
  const sections: [string, Schema][] = [
    ['env', getEnv(String(envId))!.schema],
    ['algo', getAlgo(String(algoId))!.schema],
    ['train', trainSchema],
  ];
  const [section, schema] = p.one(sections);
  const keys = Object.keys(schema);
  if (keys.length === 0 || p.chance(0.2)) {
    const key = p.one(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'nope', 'épisode', '', 'a.b']);
    const raw = p.one([`${section}.${key}=1`, `${section}.${key}`, `=${key}`, `${key}.x=1`, `${section}..=1`]);
    return { set: raw, name: raw.includes('=') && raw.indexOf('=') > 0 ? raw.slice(0, raw.indexOf('=')) : '--set' };
  }
  const key = p.one(keys);
  const spec = schema[key] as FieldSpec;
  const bad: string[] = [];
  if (spec.type === 'int' || spec.type === 'float') {
    bad.push('abc', '0x10', '1e-400', '1e400', 'NaN', 'Infinity', '', '1_0', '١');
    if (spec.type === 'int') bad.push('1.5');
    if (spec.max !== undefined) bad.push(String(spec.max + 1), String(spec.max * 10 + 1));
    if (spec.min !== undefined) bad.push(String(spec.min - 1));
  } else if (spec.type === 'bool') bad.push('yes', '1', 'TRUE', '', 'null');
  else if (spec.type === 'enum') bad.push('nope', spec.values[0].toUpperCase() === spec.values[0] ? `${spec.values[0]}x` : spec.values[0].toUpperCase(), '');
  else bad.push('1,,2', 'a,b', '', '0x1', '1e400');
  return { set: `${section}.${key}=${p.one(bad)}`, name: `${section}.${key}` };
}

function makeCase(p: Pick, cmd: string, t: Table, must?: string): Case {
  const argv = [cmd];
  // A refusal may name any input of the command (a required one the case left out, too), or
  // the file it could not open.
  const names = [cmd, 'unknown command', 'unexpected argument', 'Unexpected argument', 'Unknown option', 'ambiguous', ...Object.keys(t.options).map((f) => `--${f}`), ...positionals(cmd, t.help).map((x) => x.replace(/\.\.\.$/, ''))];
  let bad = false;
  for (const pos of positionals(cmd, t.help)) {
    if (pos === 'check') {
      argv.push(p.chance(0.85) ? 'check' : p.one(['chek', '', 'CHECK']));
      continue;
    }
    if (p.chance(0.1)) continue;
    const v = value(p, pos, cmd);
    bad ||= v.bad;
    argv.push(v.v);
    names.push(`run ${v.v}`);
    names.push(pos.replace(/\.\.\.$/, ''));
  }
  const flags = Object.keys(t.options).filter((f) => f !== 'help' && !(cmd === 'delete' && f === 'yes'));
  const flagArgs: string[] = [];
  const chosen = p.some(flags, 4);
  if (must && !chosen.includes(must)) chosen.push(must);
  for (const f of chosen) {
    const o = t.options[f];
    names.push(`--${f}`, f);
    if (o.type === 'boolean') {
      if (p.chance(0.25)) {
        flagArgs.push(`--${f}=${p.one(['yes', '1', ''])}`);
        bad = true;
      } else flagArgs.push(`--${f}`);
      continue;
    }
    for (let r = 0; r < (o.multiple ? 1 + p.int(2) : 1); r++) {
      if (f === 'set') {
        const s = badSet(p, p.one(listPresets().map((x) => x.name)));
        flagArgs.push('--set', s.set);
        names.push(s.name);
        bad = true;
        continue;
      }
      const v = value(p, placeholder(t.help, f), cmd, f);
      bad ||= v.bad;
      if (v.v.startsWith('/')) names.push(v.v);
      if (p.chance(0.3)) flagArgs.push(`--${f}=${v.v}`);
      else flagArgs.push(`--${f}`, v.v);
    }
  }
  if (LONG.has(cmd) && !bad) {
    // One certainly-bad argument: a long command must refuse before it starts.
    const intFlags = flags.filter((f) => isInt(placeholder(t.help, f), f));
    const choice = p.int(3);
    if (choice === 0 && intFlags.length) {
      const f = p.one(intFlags);
      flagArgs.push(`--${f}`, p.one(BAD_INTS.filter((x) => !x.startsWith('-'))));
      names.push(`--${f}`);
    } else if (choice === 1 && flags.includes('set')) {
      const s = badSet(p, p.one(listPresets().map((x) => x.name)));
      flagArgs.push('--set', s.set);
      names.push(s.name);
    } else {
      flagArgs.push(`--fuzz-${p.one(['x', 'ü', 'seeds2'])}`);
    }
    bad = true;
  }
  if (p.chance(0.08)) {
    // A stray token is a fault of its own (for repro it is read as the NAME): a refusal may name it first.
    const stray = p.one(['--', 'extra', '-z', '--=', '---x']);
    flagArgs.push(stray);
    names.push(stray);
  }
  // The fuzz database first, so a fuzzed --db later wins.
  const head = t.options.db ? ['--db', DB] : [];
  return { argv: [argv[0], ...head, ...argv.slice(1), ...flagArgs], bad, names };
}

beforeAll(async () => {
  ({ runIds } = await seedDatabase(DB));
  fs.writeFileSync(path.join(dir, 'plain.txt'), 'not a module, not json\n');
  fs.writeFileSync(path.join(dir, 'sweep.json'), '{"axes": {"env.episodeLimit": ["a", 0x10]}}'.replace('0x10', '"0x10"'));
  before = await databaseFacts(DB);
  const out = path.join(dir, 'tables.json');
  harness(['tables', out]);
  tables = JSON.parse(fs.readFileSync(out, 'utf8'));
  const p = new Pick(SEED);
  const cmds = Object.keys(tables);
  // Every flag of every command at least once, then random mixes up to CASES.
  for (const cmd of cmds) for (const f of Object.keys(tables[cmd].options)) if (f !== 'help' && !(cmd === 'delete' && f === 'yes')) cases.push(makeCase(p, cmd, tables[cmd], f));
  for (let i = cases.length; i < CASES; i++) {
    const cmd = cmds[i % cmds.length];
    cases.push(makeCase(p, cmd, tables[cmd]));
  }
  const presets = listPresets().map((x) => x.name);
  for (let i = 0; i < SET_CASES; i++) {
    const preset = p.one(presets);
    const s = badSet(p, preset);
    cases.push({ argv: ['train', '--db', DB, '--preset', preset, '--set', s.set], bad: true, names: [s.name, '--set'] });
  }
  const file = path.join(dir, 'cases.json');
  fs.writeFileSync(file, JSON.stringify(cases));
  const res = path.join(dir, 'results.json');
  harness(['run', file, res]);
  results = JSON.parse(fs.readFileSync(res, 'utf8'));
}, 600_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cli fuzz', () => {
  it('covers every command and flag, with no stack trace, exit 0 or 2, one line naming the problem', async () => {
    const failures: string[] = [];
    const show = (r: CaseResult, why: string) => `${why}: cairn ${r.argv.map((a) => JSON.stringify(a.length > 60 ? a.slice(0, 60) + '…' : a)).join(' ')} -> ${r.code}\n${(r.stderr + r.stdout).slice(0, 400)}`;
    results.forEach((r, i) => {
      const c = cases[i];
      if (r.timeout) return void failures.push(show(r, 'did not finish (started work it should have refused?)'));
      if (hasStackTrace(r.stdout) || hasStackTrace(r.stderr)) failures.push(show(r, 'stack trace'));
      if (r.code !== 0 && r.code !== 2) failures.push(show(r, `exit ${r.code}`));
      if (c.bad && r.code !== 2) failures.push(show(r, 'bad input not refused with exit 2'));
      if (r.code === 2) {
        const lines = r.stderr.split('\n').filter((l) => l !== '');
        if (lines.length !== 1 || !lines[0].startsWith('cairn: ')) failures.push(show(r, 'not one line'));
        else if (!c.names.some((n) => n !== '' && lines[0].includes(n))) failures.push(show(r, 'names nothing the case gave'));
      }
    });
    const flags = new Set<string>();
    for (const c of cases) for (const a of c.argv) if (a.startsWith('--')) flags.add(`${c.argv[0]} ${a.split('=')[0]}`);
    const all = Object.entries(tables).flatMap(([cmd, t]) => Object.keys(t.options).filter((f) => f !== 'help' && !(cmd === 'delete' && f === 'yes')).map((f) => `${cmd} --${f}`));
    const missed = all.filter((f) => !flags.has(f));
    const codes = results.reduce<Record<string, number>>((m, r) => ((m[String(r.code)] = (m[String(r.code)] ?? 0) + 1), m), {});
    console.log(`cli fuzz (seed ${SEED}): ${results.length} cases (${SET_CASES} --set), exits ${JSON.stringify(codes)}, ${all.length - missed.length}/${all.length} flags, ${failures.length} failures`);
    expect(results.length).toBe(cases.length);
    expect(failures, failures.slice(0, 12).join('\n\n')).toEqual([]);
    expect(missed).toEqual([]);
  });

  it('lost nothing: the database is intact with every row', async () => {
    const after = await databaseFacts(DB);
    expect(after.integrity).toBe('ok');
    expect(after.counts).toEqual(before.counts);
    expect(before.counts.runs).toBe(runIds.length);
  });
});
