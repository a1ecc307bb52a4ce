/**
 * The CLI and the UI agree (issue 14, item 4): rounds named as rounds with `--episodes` kept as
 * an alias, bounds read from the config schema, negative values answered with the allowed
 * range, no database file left by a rejected command, and no stray prefix on a missing run.
 * The seed numbering both sides share is `seedRange` from src-shared/config/limits.ts (the
 * form's side is in test/renderer/experiment-form.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tmpDir } from '../helpers/cli';
import { Store } from '../../src-main/db/store';
import { trainSchema } from '../../src-shared/config/experiment';
import { SEEDS_MAX, seedProblem, seedRange } from '../../src-shared/config/limits';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.concurrent('bad train flags: one line, exit 2, and no database file', () => {
  const max = trainSchema.episodes.max;
  const cases: [string, string[], string][] = [
    ['negative rounds', ['--rounds', '-5'], `--rounds: expected an integer in [1, ${max}], got "-5"`],
    ['negative rounds via the --episodes alias', ['--episodes', '-5'], `--episodes: expected an integer in [1, ${max}], got "-5"`],
    ['too many seeds', ['--seeds', String(SEEDS_MAX + 1)], `--seeds: expected an integer in [1, ${SEEDS_MAX}], got "${SEEDS_MAX + 1}"`],
    ['a bad --set', ['--set', 'env.bogus=1'], 'env.bogus: unknown key'],
  ];
  for (const [name, flags, message] of cases) {
    it(name, async () => {
      const db = path.join(dir, `${name.replace(/\W+/g, '-')}.db`);
      const r = await cli(['train', '--preset', 'manitokan-random', ...flags, '--db', db]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
      expect(fs.existsSync(db), 'the rejected command created the database').toBe(false);
    });
  }
});

describe('cairn show of a missing run', () => {
  it('says so without a stray "ID:" prefix', async () => {
    const db = path.join(dir, 'show.db');
    await (await Store.open(db)).close();
    const r = await cli(['show', '99', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`cairn: run 99 does not exist in ${db}`);
  });
});

describe('seed numbering shared by the CLI and the form', () => {
  it('K seeds from S are S..S+K-1; the checks name the field', () => {
    expect(seedRange(1, 2)).toEqual([1, 2]);
    expect(seedProblem(2, 1)).toBeNull();
    expect(seedProblem(2, 2.5)?.field).toBe('firstSeed');
    expect(seedProblem(0, 1)?.field).toBe('seeds');
    expect(seedProblem(SEEDS_MAX + 1, 1)?.message).toBe(`seeds: expected an integer in [1, ${SEEDS_MAX}]`);
  });
});

describe('cairn sweep --set on a preset', () => {
  // `--set` edits the sweep's overrides, which hold no learner id: the field must be looked
  // up in the base preset's learner, not in an empty schema.
  it('accepts a field of the preset learner and stores it on every run', async () => {
    const db = path.join(dir, 'sweep-set.db');
    const r = await cli(['sweep', '--preset', 'manitokan-pg', '--set', 'algo.lr=0.00123', '--axis', 'algo.entropyCoef=0,0.01', '--seeds', '1', '--rounds', '1', '--envs', '2', '--parallel', '1', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: { id: number }[] };
    expect(out.runs).toHaveLength(2);
    const store = await Store.open(db);
    try {
      for (const run of out.runs) expect((await store.getRun(run.id))?.config.algo.lr).toBe(0.00123);
    } finally {
      await store.close();
    }
  });
  it('names the field and the learner\'s keys when it is unknown', async () => {
    const r = await cli(['sweep', '--preset', 'manitokan-pg', '--set', 'algo.lrx=1', '--axis', 'algo.entropyCoef=0,0.01', '--seeds', '1', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('algo.lrx: unknown key; allowed keys are lr, ');
  });
});
