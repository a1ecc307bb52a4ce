/**
 * Issue 8's reproductions: Figs. 2-5 with all nine learners and random, Fig. 8 (the value-mixing
 * learners' key drops beside random's) and Fig. 10 (randomised policies), and `cairn repro fig8`
 * end to end with its report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getRepro } from '../../src-shared/config/repro';
import { buildConfig } from '../../src-main/service/launch';
import { cli, lastJson, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-repro8-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NINE = ['PG', 'IPPO', 'MAPPO', 'COMA', 'VDN', 'QMIX', 'QTRAN', 'MAVEN', 'SAF'];

describe('hidden gifts II reproductions', () => {
  it.each(['fig2', 'fig4', 'fig5'])('%s runs the nine learners and random, on its observation setting', (name) => {
    const rep = getRepro(name)!;
    expect(rep.variants.map((v) => v.label)).toEqual([...NINE, 'random']);
    const envs = rep.variants.map((v) => JSON.stringify(buildConfig(v).env));
    expect(new Set(envs).size, 'one observation setting for every variant').toBe(1);
    expect(rep.keys).toContain('key_drop_choices');
  });

  it("fig8: VDN, QMIX, QTRAN, MAVEN and random's line, on the released code's key-drop count", () => {
    const rep = getRepro('fig8')!;
    expect(rep.variants.map((v) => [v.label, buildConfig(v).algo.id])).toEqual([
      ['VDN', 'vdn'],
      ['QMIX', 'qmix'],
      ['QTRAN', 'qtran'],
      ['MAVEN', 'maven'],
      ['random', 'random'],
    ]);
    expect(rep.keys[0]).toBe('key_drop_choices');
    expect(rep.budgets.paper).toEqual({ episodes: 10_000, seeds: 10, numEnvs: 32 });
  });

  it('fig10: the randomised MAPPO, IPPO, VDN and QMIX', () => {
    const rep = getRepro('fig10')!;
    expect(rep.variants.map((v) => buildConfig(v).algo.id)).toEqual(['mappo', 'ippo', 'vdn', 'qmix', 'random']);
    const mappo = buildConfig(rep.variants[0]).algo;
    expect([mappo.lr, mappo.criticLr]).toEqual([1e-6, 1e-3]);
  });

  it('cairn repro fig8 runs end to end and writes its report', async () => {
    const db = path.join(dir, 'repro8.db');
    const r = await cli(['repro', 'fig8', '--budget', 'small', '--episodes', '2', '--seeds', '1', '--envs', '2', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.runs).toHaveLength(5);
    expect(out.runs.every((x: { status: string }) => x.status === 'done')).toBe(true);
    const html = fs.readFileSync(out.report, 'utf8');
    for (const label of ['VDN', 'QMIX', 'QTRAN', 'MAVEN', 'random']) expect(html).toContain(`<td>${label}</td>`);
    expect(html).toContain('key_drop_choices');
  }, 600_000);
});
