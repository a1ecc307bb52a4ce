/**
 * F2A2 Fig. 7's reproductions (config/repro-f2a2-battle.ts): every variant resolves, stage 2
 * names stage-1 variants of the same army size, and the small budget's stage 1 is one where
 * IQL can learn more than the immediate reward: its target network is copied many times, and
 * the epsilon decay ends at half the rounds (spec §4.5). The old small budget (~500 updates in
 * all against a copy every 1000) kept the random initial target for the whole run.
 */
import { describe, expect, it } from 'vitest';
import { budgetVariants, getRepro, reproBudget } from '../../src-shared/config/repro';
import { reproSweep } from '../../src-shared/config/sweep-repro';
import { planSweep } from '../../src-main/service/sweep';
import { getPreset } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { MEDIUM_ISAC_ROUNDS, SMALL_ROUNDS, smallIql, smallIsac } from '../../src-shared/config/repro-f2a2-battle';

function smallConfigs(name: string) {
  const rep = getRepro(name)!;
  expect(rep, name).toBeDefined();
  return rep.variants.map((v) => {
    const p = getPreset(v.preset);
    expect(p, v.preset).toBeDefined();
    const extra = v.budgetOverrides?.small;
    const cfg = resolveExperiment({
      env: { ...p!.config.env, ...extra?.env },
      algo: { ...p!.config.algo, ...extra?.algo },
      train: { ...p!.config.train, ...v.overrides?.train, episodes: rep.budgets.small.episodes, ...(v.opponentFrom ? { opponentRun: 1 } : {}) },
    });
    return { v, cfg };
  });
}

describe('F2A2 Fig. 7 reproductions', () => {
  it('stage 1 at small copies its target network at least 10 times and anneals epsilon over half the rounds', () => {
    const rows = smallConfigs('f2a2-fig7-opponent');
    expect(rows.map((r) => r.cfg.env.armySize)).toEqual([12, 32, 64, 128, 256]);
    for (const { v, cfg } of rows) {
      expect(cfg.algo.id, v.label).toBe('iql');
      expect(cfg.train.episodes).toBe(SMALL_ROUNDS);
      // Upper bound on agent transitions: every battle runs to its step cap with every agent alive.
      const transitions = Number(cfg.train.episodes) * Number(cfg.env.episodeLimit) * 2 * Number(cfg.env.armySize);
      // Battles end early once the armies fight; half the cap still leaves 10 copies.
      const updates = (0.5 * transitions) / Number(cfg.algo.trainEvery);
      expect(updates / Number(cfg.algo.targetUpdateSteps), v.label).toBeGreaterThanOrEqual(10);
      expect(Number(cfg.algo.epsilonEpisodes), v.label).toBe(Number(cfg.train.episodes) / 2);
      // The battle must be long enough for armies 8 cells apart to meet under random play.
      expect(Number(cfg.env.episodeLimit), v.label).toBeGreaterThanOrEqual(300);
    }
  });

  it('stage 2 runs F2A2-ISAC per army size against the stage-1 variant of the same size', () => {
    const rows = smallConfigs('f2a2-fig7');
    const stage1 = new Map(rows.filter((r) => !r.v.opponentFrom).map((r) => [r.v.label, r.cfg]));
    const stage2 = rows.filter((r) => r.v.opponentFrom);
    expect(stage2.length).toBe(5);
    for (const { v, cfg } of stage2) {
      const opp = stage1.get(v.opponentFrom!);
      expect(opp, v.label).toBeDefined();
      expect(cfg.algo.id).toBe('f2a2-isac');
      expect(cfg.train.opponent).toBe('frozen');
      // The frozen stage-1 net drives red (it advances there; driving blue it waits at its wall),
      // F2A2-ISAC learns blue, and Fig. 7b's convergence is on the learner's curve.
      expect(cfg.train.opponentTeam, v.label).toBe(0);
      expect(v.convergenceKey, v.label).toBe('blue_return');
      expect(getRepro('f2a2-fig7')!.keys).toContain(v.convergenceKey);
      expect(cfg.env.armySize, v.label).toBe(opp!.env.armySize);
      // At least one update iteration per round at the step cap, with every red agent alive.
      expect(Number(cfg.env.episodeLimit) * Number(cfg.env.armySize), v.label).toBeGreaterThanOrEqual(Number(cfg.algo.trainEvery));
    }
  });

  it('medium runs 12 and 64 per side: stage 1 as at small, stage 2 for its own rounds unless --rounds is given', () => {
    const rep = getRepro('f2a2-fig7')!;
    const { budget } = reproBudget(rep, 'medium');
    const vs = budgetVariants(rep, budget);
    expect(vs.map((v) => v.label).sort()).toEqual(['F2A2-ISAC 12 vs 12', 'F2A2-ISAC 64 vs 64', 'IQL 12 vs 12', 'IQL 64 vs 64']);
    const plan = planSweep(reproSweep({ ...rep, variants: vs.map((v) => (v.opponentFrom ? { ...v, overrides: { train: { opponentRun: 1 } } } : v)) }, 'medium', budget, [1]));
    for (const c of plan.cells) {
      const k = Number(c.config.env.armySize);
      const stage2 = c.label.startsWith('F2A2-ISAC');
      expect(c.config.train.episodes, c.label).toBe(stage2 ? MEDIUM_ISAC_ROUNDS : SMALL_ROUNDS);
      expect(c.config.algo, c.label).toMatchObject((stage2 ? smallIsac(k) : smallIql(k)).algo);
      expect(c.config.env.episodeLimit, c.label).toBe((stage2 ? smallIsac(k) : smallIql(k)).env.episodeLimit);
    }
    expect(MEDIUM_ISAC_ROUNDS).toBeGreaterThan(SMALL_ROUNDS);
    // --rounds wins over a variant's rounds at a budget, as over the budget's own.
    const given = planSweep(reproSweep({ ...rep, variants: vs.filter((v) => !v.opponentFrom) }, 'medium', { ...budget, episodes: 3 }, [1], true));
    for (const c of given.cells) expect(c.config.train.episodes).toBe(3);
    expect(() => reproBudget(getRepro('fig9')!, 'medium')).toThrow(/--budget: fig9 offers paper, small; got "medium"/);
    expect(() => budgetVariants(rep, { ...budget, variants: ['IQL 13 vs 13'] })).toThrow(/budget names variant "IQL 13 vs 13"/);
  });
});
