/**
 * F2A2's reproductions (config/repro-f2a2.ts) and presets (algos/f2a2-presets.ts): every variant
 * names a registered preset that resolves, the F2A2 variants vary exactly the knob of their
 * table column, and the paper's reference cells point at variants that exist.
 */
import { describe, expect, it } from 'vitest';
import { getRepro } from '../../src-shared/config/repro';
import { getPreset } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { f2a2Presets, f2a2Tasks } from '../../src-shared/algos/f2a2-presets';

const resolved = (r: string) =>
  getRepro(r)!.variants.map((v) => {
    const p = getPreset(v.preset);
    expect(p, v.preset).toBeDefined();
    const cfg = resolveExperiment({ env: { ...p!.config.env }, algo: { ...p!.config.algo, ...v.overrides?.algo, ...v.budgetOverrides?.small?.algo }, train: { ...p!.config.train } });
    return { label: v.label, cfg };
  });

describe('F2A2 reproductions', () => {
  it('has presets per task and instantiation on both particle tasks', () => {
    expect(f2a2Tasks().map((t) => t.env)).toEqual(['treasure-collection', 'rover-tower']);
    expect(f2a2Presets().map((p) => p.name)).toEqual(['treasure-collection-f2a2-ddpg', 'treasure-collection-f2a2-td3', 'treasure-collection-f2a2-sac', 'rover-tower-f2a2-ddpg', 'rover-tower-f2a2-td3', 'rover-tower-f2a2-sac']);
    for (const p of f2a2Presets()) {
      const cfg = resolveExperiment(p.config);
      expect(cfg.algo.id).toBe('f2a2');
      expect(cfg.train).toMatchObject({ episodes: 4167, numEnvs: 12 });
    }
  });

  it('Table 4 varies only the topology, Table 5 only the exchange schedule', () => {
    const t4 = resolved('f2a2-table4').filter((v) => v.label.startsWith('ctc F2A2'));
    expect(t4.map((v) => [v.cfg.algo.topology, v.cfg.algo.edgeFraction])).toEqual([
      ['none', 1],
      ['ring-plus', 0.2],
      ['ring-plus', 0.4],
      ['ring-plus', 0.6],
      ['ring-plus', 0.8],
      ['full', 1],
    ]);
    // The paper's instantiation (spec §6.2), at the small budget's sizes with MAAC's 4 attention heads.
    for (const v of t4) expect(v.cfg.algo).toMatchObject({ instantiation: 'sac', exchangeMean: 1, exchangeStd: 0, hiddenDim: 64, attendHeads: 4, temperature: 0.01 });
    const t5 = resolved('f2a2-table5').filter((v) => v.label.startsWith('rt F2A2'));
    expect(t5.map((v) => [v.cfg.algo.exchangeMean, v.cfg.algo.exchangeStd])).toEqual([
      [0, 0],
      [2000, 1000],
      [200, 100],
      [20, 10],
      [8, 4],
      [1, 0],
    ]);
    for (const v of t5) expect(v.cfg.algo).toMatchObject({ topology: 'full', instantiation: 'sac' });
    const f8 = resolved('f2a2-fig8').filter((v) => v.label.startsWith('ctc F2A2'));
    expect(f8.map((v) => [v.label, v.cfg.algo.joint, v.cfg.algo.moa])).toEqual([
      ['ctc F2A2', true, 'on'],
      ['ctc F2A2 w/o JOINT', false, 'on'],
      ['ctc F2A2 w/o MOA', true, 'off'],
    ]);
    for (const v of f8) expect(v.cfg.algo.instantiation).toBe('sac');
  });

  it('keeps the tables reachable on F2A2-TD3 under their own names, varying the same knobs', () => {
    const sac = resolved('f2a2-table4').filter((v) => v.label.includes('F2A2'));
    const td3 = resolved('f2a2-table4-td3').filter((v) => v.label.includes('F2A2'));
    expect(td3.map((v) => v.label)).toEqual(sac.map((v) => v.label));
    for (const [k, v] of td3.entries()) {
      expect(v.cfg.algo.instantiation).toBe('td3');
      expect([v.cfg.algo.topology, v.cfg.algo.edgeFraction]).toEqual([sac[k].cfg.algo.topology, sac[k].cfg.algo.edgeFraction]);
    }
    expect(resolved('f2a2-table5-td3').filter((v) => v.label.includes('F2A2')).every((v) => v.cfg.algo.instantiation === 'td3')).toBe(true);
    expect(getRepro('f2a2-table4-td3')!.reference!.caption).toContain('F2A2-TD3');
    // Fig. 5 has every instantiation; every variant of every F2A2 reproduction resolves (throws otherwise).
    const f5 = resolved('f2a2-fig5');
    expect(f5.filter((v) => v.label.startsWith('rt F2A2-')).map((v) => v.label)).toEqual(['rt F2A2-DDPG', 'rt F2A2-TD3', 'rt F2A2-SAC', 'rt F2A2-COMA']);
    expect(f5.find((v) => v.label === 'rt F2A2-SAC')!.cfg.algo.instantiation).toBe('sac');
  });

  it("prints the paper's tables against variants that exist", () => {
    for (const name of ['f2a2-table4', 'f2a2-table5']) {
      const r = getRepro(name)!;
      const labels = new Set(r.variants.map((v) => v.label));
      expect(r.reference!.rows.map((x) => x.label)).toEqual(['ctc', 'rt']);
      for (const row of r.reference!.rows) {
        expect(row.cells).toHaveLength(7);
        for (const c of row.cells) {
          expect(c).not.toBeNull();
          expect(labels.has(c!.variant)).toBe(true);
          expect(c!.key).toBe('mean_return');
        }
      }
      // The full-communication cell is the same number in both tables (paper).
      expect(r.reference!.rows[0].cells[6]!.paper).toBe(147);
      // The caption names what ran: F2A2-SAC against MAAC, as in the paper.
      expect(r.reference!.caption).toMatch(/F2A2-SAC and MAAC \(paper: F2A2-SAC and MAAC/);
      expect(r.variants.filter((v) => v.label.includes(' F2A2 ')).every((v) => v.preset.endsWith('-f2a2-sac'))).toBe(true);
    }
    expect(getRepro('f2a2-fig5')!.variants.map((v) => v.label)).toEqual(expect.arrayContaining(['ctc F2A2-DDPG', 'ctc F2A2-TD3', 'rt F2A2-DDPG', 'rt MADDPG']));
  });

  it('Fig. 5 prints the communication cost of every F2A2 variant against MA-AC, per task (spec §6.6)', () => {
    const r = getRepro('f2a2-fig5')!;
    const labels = new Set(r.variants.map((v) => v.label));
    const groups = r.communication!.groups;
    expect(groups.map((g) => g.baseline)).toEqual(['ctc MA-AC', 'rt MA-AC']);
    for (const g of groups) {
      const task = g.baseline.split(' ')[0];
      expect(g.variants).toEqual(expect.arrayContaining([`${task} F2A2-DDPG`, `${task} F2A2-TD3`, `${task} F2A2-SAC`, `${task} F2A2-COMA`]));
      // Only the decentralised learners, only this task's, and every one a variant that runs.
      for (const v of [g.baseline, ...g.variants]) expect(labels.has(v), v).toBe(true);
      expect(g.variants.every((v) => v.startsWith(`${task} F2A2`))).toBe(true);
    }
  });

  it('Fig. 8 on Cooperative Navigation varies one knob per F2A2 line, and its medium budget cuts F2A2 and MAAC alike', () => {
    const r = getRepro('f2a2-fig8-cn')!;
    expect(r.budgets.medium).toEqual({ episodes: 90, seeds: 3, numEnvs: 12 });
    const at = (budget: 'small' | 'medium') =>
      r.variants.map((v) => {
        const p = getPreset(v.preset)!;
        expect(p, v.preset).toBeDefined();
        return { label: v.label, cfg: resolveExperiment({ env: { ...p.config.env }, algo: { ...p.config.algo, ...v.overrides?.algo, ...v.budgetOverrides?.[budget]?.algo }, train: { ...p.config.train } }) };
      });
    const medium = at('medium');
    expect(medium.map((v) => [v.label, v.cfg.algo.id, v.cfg.algo.joint, v.cfg.algo.moa, v.cfg.algo.jointTerms])).toEqual([
      ['F2A2', 'f2a2', true, 'on', 'both'],
      ['F2A2 w/o JOINT', 'f2a2', false, 'on', 'both'],
      ['F2A2 w/o MOA', 'f2a2', true, 'off', 'both'],
      ['F2A2 joint critic only', 'f2a2', true, 'on', 'critic'],
      ['F2A2 joint actor only', 'f2a2', true, 'on', 'actor'],
      ['MAAC', 'maac', undefined, undefined, undefined],
    ]);
    // One task for every line: the paper's N = 3 navigation, and the same minibatch for F2A2 and MAAC.
    for (const v of medium) {
      expect(v.cfg.env).toMatchObject({ id: 'spread', numAgents: 3, episodeLimit: 25 });
      expect(v.cfg.algo.batchSize).toBe(128);
    }
    for (const v of medium.filter((x) => x.cfg.algo.id === 'f2a2')) expect(v.cfg.algo).toMatchObject({ instantiation: 'sac', moaModel: 'impromptu', temperature: 0.01, alpha1: 1, alpha2: 1 });
    // The paper budget runs the preset as it is (appendix G sizes, full MOA).
    const sac = resolveExperiment(getPreset('spread-f2a2-sac')!.config);
    expect(sac.algo).toMatchObject({ instantiation: 'sac', batchSize: 1024, moaModel: 'full', jointTerms: 'both' });
    for (const v of at('small')) expect(v.cfg.algo.batchSize).toBe(128);
    expect(r.reference!.rows[0].cells.map((c) => c!.variant)).toEqual(r.variants.map((v) => v.label));
    expect(r.convergence).toEqual({ key: 'return_total' });
  });
});
