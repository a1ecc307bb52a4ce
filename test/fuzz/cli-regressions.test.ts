/**
 * The defects the CLI fuzz suite found, one case each, through the same in-process batch
 * (`cli-harness.ts`): every one now exits 2 with one line naming the flag, before any work.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from '../helpers/cli';
import type { CaseResult } from './cli-harness';
import { hasStackTrace } from './fuzz-data';

const dir = tmpDir('cairn-cli-regress-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NEW_DB = path.join(dir, 'never-created.db');
/** argv, and the start of the one line it must print. */
const CASES: [string[], string][] = [
  // Ran forever (the measuring loops never end): --seconds was Number()ed, unchecked.
  [['bench', '--seconds', 'Infinity'], 'cairn: --seconds: expected a number in [0, 3600], got "Infinity"'],
  // Ignored outside --vs-pytorch, so a typo started minutes of measuring.
  [['bench', '--reps', 'abc'], 'cairn: --reps: expected an integer in [1, 100], got "abc"'],
  // Number("") is 0 and Number("0x10") is 16: integer flags took both.
  [['train', '--preset', 'manitokan-random', '--seed', '', '--db', NEW_DB], 'cairn: --seed: expected an integer'],
  [['train', '--preset', 'manitokan-random', '--rounds', '0x10', '--db', NEW_DB], 'cairn: --rounds: expected an integer'],
  [['show', '0x10', '--db', NEW_DB], 'cairn: ID: expected a positive integer run id, got "0x10"'],
  // Past 2^53 the id was rounded and the message named another number ("run 1e+40 does not exist").
  [['stop', '9999999999999999999999999999999999999999', '--db', NEW_DB], 'cairn: ID: expected a positive integer run id, got "9999999999999999999999999999999999999999"'],
  [['eval', '--policy', 'run:0x10', '--db', NEW_DB], 'cairn: --policy: expected random or run:ID, got "run:0x10"'],
  // SQLite's "no database file name given", naming no flag.
  [['runs', '--db', ''], 'cairn: --db: expected a database file path, got ""'],
  // serve built the UI and opened (created) the database before checking --parallel.
  [['serve', '--parallel', '-Infinity', '--db', NEW_DB, '--no-open'], 'cairn: --parallel: expected an integer in [1, 256], got "-Infinity"'],
  // --list ignored every other option, bad values included.
  [['repro', '--list', '--seeds', 'abc'], 'cairn: --list: lists the reproductions and takes no other options (got --seeds)'],
];

describe('cli defects found by fuzzing', () => {
  it('each exits 2 with one line naming the flag, and creates no database', () => {
    const file = path.join(dir, 'cases.json');
    const out = path.join(dir, 'results.json');
    fs.writeFileSync(file, JSON.stringify(CASES.map(([argv]) => ({ argv, limitMs: 20_000 }))));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'cli-harness.ts'), 'run', file, out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CAIRN_BACKEND: 'cpu', CI: 'true' } });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(fs.readFileSync(out, 'utf8')) as CaseResult[];
    expect(results).toHaveLength(CASES.length);
    results.forEach((res, i) => {
      expect({ argv: res.argv, code: res.code, timeout: !!res.timeout }).toEqual({ argv: CASES[i][0], code: 2, timeout: false });
      const lines = res.stderr.split('\n').filter((l) => l !== '');
      expect(lines, res.argv.join(' ')).toHaveLength(1);
      expect(lines[0].startsWith(CASES[i][1]), `${lines[0]} should start with ${CASES[i][1]}`).toBe(true);
    });
    expect(fs.existsSync(NEW_DB)).toBe(false);
  }, 150_000);
});

describe('the fuzz suites see a stack trace', () => {
  it('in any of its shapes, and not in an ordinary message', () => {
    expect(hasStackTrace('Error: x\n    at main (/a/b/main.ts:10:5)\n')).toBe(true);
    expect(hasStackTrace('TypeError: y\n    at file:///a/b.ts:1:2')).toBe(true);
    expect(hasStackTrace('    at async Promise.all (index 0)\n    at node:internal/process/task_queues:95:5')).toBe(true);
    expect(hasStackTrace('cairn: --seed: expected an integer in [0, 10], got "at 1:2"')).toBe(false);
  });
});
