/**
 * F2A2 Fig. 7's reproductions (config/repro-f2a2-battle.ts): every variant resolves, stage 2
 * names stage-1 variants of the same army size, and the small budget's stage 1 is one where
 * IQL can learn more than the immediate reward: its target network is copied many times, and
 * the epsilon decay ends at half the rounds (spec §4.5). The old small budget (~500 updates in
 * all against a copy every 1000) kept the random initial target for the whole run.
 */
import { describe, expect, it } from 'vitest';
import { getRepro } from '../../src-shared/config/repro';
import { getPreset } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { SMALL_ROUNDS } from '../../src-shared/config/repro-f2a2-battle';

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
      train: { ...p!.config.train, episodes: rep.budgets.small.episodes, ...(v.opponentFrom ? { opponentRun: 1 } : {}) },
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
      expect(cfg.env.armySize, v.label).toBe(opp!.env.armySize);
      // At least one update iteration per round at the step cap, with every red agent alive.
      expect(Number(cfg.env.episodeLimit) * Number(cfg.env.armySize), v.label).toBeGreaterThanOrEqual(Number(cfg.algo.trainEvery));
    }
  });
});
