/** Reproductions: every variant resolves, and `cairn repro` runs a set end to end with its report. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRepros } from '../../src-shared/config/repro';
import { buildConfig } from '../../src-main/service/launch';
import { cli, lastJson, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-repro-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('reproduction catalogue', () => {
  it.each(listRepros().map((r) => [r.name]))('%s: every variant is a valid config with distinct labels', (name) => {
    const rep = listRepros().find((r) => r.name === name)!;
    expect(new Set(rep.variants.map((v) => v.label)).size).toBe(rep.variants.length);
    // A second-stage variant gets its opponent run id at launch: any id stands in for it here.
    for (const v of rep.variants) {
      if (v.opponentFrom) expect(rep.variants.some((u) => u.label === v.opponentFrom && !u.opponentFrom), `${v.label}: opponentFrom`).toBe(true);
      expect(() => buildConfig(v.opponentFrom ? { ...v, overrides: { ...v.overrides, train: { ...v.overrides?.train, opponentRun: 1 } } } : v)).not.toThrow();
    }
    expect(rep.budgets.small.episodes).toBeLessThan(rep.budgets.paper.episodes);
  });

  it('variants differ from each other in their resolved config', () => {
    for (const rep of listRepros()) {
      const configs = rep.variants.map((v) => JSON.stringify(buildConfig(v.opponentFrom ? { ...v, overrides: { ...v.overrides, train: { ...v.overrides?.train, opponentRun: 1 } } } : v)));
      expect(new Set(configs).size, rep.name).toBe(configs.length);
    }
  });
});

describe('cairn repro', () => {
  it('--list names every reproduction', async () => {
    const r = await cli(['repro', '--list']);
    expect(r.code).toBe(0);
    for (const rep of listRepros()) expect(r.stdout).toMatch(new RegExp(`^${rep.name}\\s`, 'm'));
  });

  it('an unknown name exits 2 naming the allowed ones', async () => {
    const r = await cli(['repro', 'fig99', '--db', path.join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NAME: expected one of fig2, fig4/);
  });

  it('a budget the reproduction does not offer exits 2 naming the ones it does', async () => {
    const r = await cli(['repro', 'fig9', '--budget', 'medium', '--db', path.join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--budget: fig9 offers paper, small; got "medium"/);
    expect((await cli(['repro', '--help'])).stdout).toMatch(/--budget B\s+paper .*small .*medium/s);
  });

  it('--stage1 exits 2 when the experiment is not one of this reproduction or the reproduction has one stage', async () => {
    const db = path.join(dir, 'stage1.db');
    const none = await cli(['repro', 'f2a2-fig7', '--budget', 'medium', '--stage1', '7', '--db', db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--stage1: experiment 7 is not a run of repro f2a2-fig7 in /);
    const single = await cli(['repro', 'fig14', '--stage1', '1', '--db', db]);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--stage1: fig14 has no second stage/);
    expect((await cli(['repro', '--help'])).stdout).toMatch(/--stage1 E\s+reproductions with a second stage/);
  });

  it('--opponent-round exits 2, before launching anything, without a second stage or when the first stage will not keep that round', async () => {
    const db = path.join(dir, 'opponent-round.db');
    const single = await cli(['repro', 'fig14', '--opponent-round', '5', '--db', db]);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--opponent-round: fig14 has no second stage/);
    const bad = await cli(['repro', 'f2a2-fig7', '--budget', 'small', '--opponent-round', '-1', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--opponent-round: expected an integer in \[0, /);
    // small: 40 first-stage rounds with a checkpoint every 100, so only the last is kept.
    const early = await cli(['repro', 'f2a2-fig7', '--budget', 'small', '--opponent-round', '7', '--db', db]);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/--opponent-round: the first-stage runs of "IQL 12 vs 12" will keep checkpoints at rounds 40 \(every train\.checkpointEvery = 100 and the last\); got 7/);
    expect(early.stderr).not.toMatch(/experiment \d+:/);
    expect((await cli(['repro', '--help'])).stdout).toMatch(/--opponent-round N\s+reproductions with a second stage/);
  });

  it('runs every variant x seed as one experiment and writes the report beside the database', async () => {
    const db = path.join(dir, 'repro.db');
    const r = await cli(['repro', 'fig14', '--budget', 'small', '--episodes', '4', '--seeds', '2', '--envs', '2', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.runs).toHaveLength(3 * 2);
    expect(out.runs.every((x: { status: string }) => x.status === 'done')).toBe(true);
    expect(out.report).toBe(path.join(dir, 'reports', `repro-fig14-experiment-${out.experimentId}.html`));
    const html = fs.readFileSync(out.report, 'utf8');
    for (const label of ['both rewards', 'individual only', 'collective only']) expect(html).toContain(`${label} (n=2)`);
    expect(html).toContain('variance of collective_success across seeds');
    const show = lastJson((await cli(['show', String(out.runs[0].id), '--db', db, '--json'])).stdout);
    expect(show.variant).toBe('both rewards');
    expect(show.config.train).toMatchObject({ episodes: 4, numEnvs: 2 });
  });
});
