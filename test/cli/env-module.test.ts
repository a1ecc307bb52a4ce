/**
 * A researcher's env module through the real CLI: `cairn env check` on the worked example
 * (docs/examples/coin-guess-env.ts) and on a broken copy, `cairn envs`/`cairn algos` listing
 * it, and a training run on it whose worker loads the module, whose config records the path,
 * and whose episode rows take their return/success columns from the declared roles (the
 * example's success metric is "accuracy", not a name any code outside the module knows).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { buildConfig } from '../../src-main/service/launch';
import { cli, ROOT, tmpDir } from '../helpers/cli';

const EXAMPLE = path.join(ROOT, 'docs', 'examples', 'coin-guess-env.ts');
const dir = tmpDir('cairn-env-module-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cairn env check', () => {
  it('passes the worked example of the contract', async () => {
    const r = await cli(['env', 'check', EXAMPLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('env coin-guess');
    expect(r.stdout).toContain('all checks passed');
    expect(r.stdout).not.toContain('FAIL');
  });

  it('names what a broken env gets wrong, in plain words, and exits 2', async () => {
    // Two bugs: the coin is drawn with Math.random (not from the copy's stream), and the hint
    // of the second agent is written past the first agent's row into the padding.
    const src = fs
      .readFileSync(EXAMPLE, 'utf8')
      .replaceAll("from '../../src-shared/", "from '" + path.join(ROOT, 'src-shared') + '/')
      .replace('this.coin[b] = rng.int(2);', 'this.coin[b] = Math.random() < 0.5 ? 0 : 1;');
    const file = path.join(dir, 'broken-env.ts');
    fs.writeFileSync(file, src);
    const r = await cli(['env', 'check', file, '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; checks: { name: string; problems: string[] }[] };
    expect(out.ok).toBe(false);
    const failed = out.checks.filter((c) => c.problems.length > 0);
    expect(failed.map((c) => c.name)).toContain('the same seed and actions give the same episodes; another seed differs');
    expect(failed.flatMap((c) => c.problems).join('\n')).toMatch(/Math\.random/);
    const text = await cli(['env', 'check', file]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^ {2}FAIL {2}the same seed/m);
  });

  it('refuses a path that is not an env module, naming the argument', async () => {
    const r = await cli(['env', 'check', path.join(dir, 'missing.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cairn: PATH: expected a readable \.ts or \.js file/);
    const notEnv = path.join(dir, 'not-env.ts');
    fs.writeFileSync(notEnv, 'export const answer = 42;\n');
    const r2 = await cli(['env', 'check', notEnv]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/exports no single env entry.*its exports: answer/);
  });
});

describe('registries with a module env', () => {
  it('cairn envs --json lists every env with spaces, teams, declared metrics and presets, plus the module', async () => {
    const r = await cli(['envs', '--json', '--env-module', EXAMPLE]);
    expect(r.code).toBe(0);
    const { envs } = JSON.parse(r.stdout) as { envs: { id: string; module?: string; agents: { name: string; action: { kind: string; n?: number } }[]; teams: { name: string; controller: string }[]; metrics: { key: string; role?: string }[]; presets: string[] }[] };
    const ids = envs.map((e) => e.id);
    expect(ids).toContain('manitokan');
    expect(ids).toContain('coin-guess');
    const coin = envs.find((e) => e.id === 'coin-guess')!;
    expect(coin.module).toBe(EXAMPLE);
    expect(coin.agents.map((a) => [a.name, a.action.kind, a.action.n])).toEqual([
      ['left', 'discrete', 2],
      ['right', 'discrete', 2],
    ]);
    expect(coin.teams).toEqual([expect.objectContaining({ name: 'guessers', controller: 'learner' })]);
    expect(coin.metrics.find((m) => m.role === 'success')?.key).toBe('accuracy');
    for (const e of envs) expect(e.metrics.length).toBeGreaterThan(0);
    expect(envs.find((e) => e.id === 'manitokan')!.presets).toContain('manitokan-pg');
  });

  it('cairn algos --json lists every learner with the envs it accepts, module envs included', async () => {
    const r = await cli(['algos', '--json', '--env-module', EXAMPLE]);
    expect(r.code).toBe(0);
    const { algos } = JSON.parse(r.stdout) as { algos: { id: string; envs: string[]; presets: string[] }[] };
    const pg = algos.find((a) => a.id === 'pg')!;
    expect(pg.envs).toEqual(expect.arrayContaining(['manitokan', 'coin-guess']));
    expect(pg.presets).toContain('manitokan-pg');
  });

  it('a request naming a module this process did not load is refused, naming the field', () => {
    expect(() => buildConfig({ overrides: { envModule: EXAMPLE } })).toThrow(/^envModule: expected a module loaded with --env-module/);
  });
});

describe('training on a module env', () => {
  it('the worker loads the module, the run records its path, episode rows fill return/success from the declared roles', async () => {
    const db = path.join(dir, 'train.db');
    const r = await cli(['train', '--env-module', EXAMPLE, '--set', 'algo.id=random', '--episodes', '3', '--envs', '4', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runs } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: { id: number; status: string; summary: Record<string, number> }[] };
    expect(runs[0].status).toBe('done');
    expect(runs[0].summary.accuracy).toBeGreaterThan(0.3); // a random guesser is right about half the time
    expect(runs[0].summary.accuracy).toBeLessThan(0.7);
    const store = await Store.open(db, { readonly: true });
    try {
      const run = (await store.getRun(runs[0].id))!;
      expect(run.config.envModule).toBe(EXAMPLE);
      expect(run.config.env.id).toBe('coin-guess');
      expect(run.metricSpecs.find((m) => m.role === 'success')?.key).toBe('accuracy');
      const eps = await store.listEpisodes(run.id, { limit: 100 });
      expect(eps).toHaveLength(12);
      const acc = run.metricKeys.indexOf('accuracy');
      const ret = run.metricKeys.indexOf('return_total');
      for (const e of eps) {
        expect(e.success).toBe(e.values[acc]);
        expect(e.return).toBe(e.values[ret]);
        expect(e.length).toBe(10);
      }
    } finally {
      await store.close();
    }
  });
});
