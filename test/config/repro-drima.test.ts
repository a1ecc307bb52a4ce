/**
 * DRIMA's reproduction verdicts: the equilibrium a matrix-game run ended in (by its final
 * action frequencies, named by the game's own action names), the particle tasks' positive
 * group reward target, and the report section counting seeds per variant.
 */
import { describe, expect, it } from 'vitest';
import { drimaOutcome } from '../../src-shared/config/repro-drima';
import { getRepro } from '../../src-shared/config/repro';
import { outcomeHtml, outcomeLines, outcomeRows, withOutcomeSection } from '../../src-main/report/repro-outcome';
import type { RunRow } from '../../src-main/db/types';

const PD = { id: 'matrix-game', game: 'prisoners-dilemma' };

describe('DRIMA outcomes', () => {
  it('names the equilibrium each player settled on and whether it is the optimum', () => {
    const cc = drimaOutcome(PD, { action_freq_0_0: 0.97, action_freq_0_1: 0.03, action_freq_1_0: 0.95, action_freq_1_1: 0.05, optimum_rate: 0.92, reward_per_step: 19.6 });
    expect(cc).toEqual({ label: '(C, C), total 19.6/step', reached: true });
    const dd = drimaOutcome(PD, { action_freq_0_1: 0.99, action_freq_1_1: 0.98, optimum_rate: 0, reward_per_step: 4.1 });
    expect(dd).toEqual({ label: '(D, D), total 4.1/step', reached: false });
    const mixed = drimaOutcome({ id: 'matrix-game', game: 'maintain' }, { action_freq_0_0: 0.6, action_freq_0_1: 0.4, action_freq_1_0: 0.9, optimum_rate: 0.55, reward_per_step: 25 });
    expect(mixed.label.startsWith('mixed')).toBe(true);
    expect(mixed.reached).toBe(false);
    expect(drimaOutcome({ id: 'drima-hunting' }, { group_reward: 1.5, all_hit: 0.4 })).toEqual({ label: 'group reward 1.50, hit rate 0.40', reached: true });
    expect(drimaOutcome({ id: 'drima-collection' }, { group_reward: -3, match_count: 0.5 }).reached).toBe(false);
  });

  it('counts seeds per variant for the CLI and the report', () => {
    const rep = getRepro('drima-fig3')!;
    const run = (variant: string, seed: number, final: Record<string, number>, status = 'done') =>
      ({ variant, seed, status, summary: final, config: { env: PD, algo: { id: 'a2c' }, train: {} } }) as unknown as RunRow;
    const cc = { action_freq_0_0: 1, action_freq_1_0: 1, optimum_rate: 1, reward_per_step: 20 };
    const dd = { action_freq_0_1: 1, action_freq_1_1: 1, optimum_rate: 0, reward_per_step: 4 };
    const rows = outcomeRows(rep, [run('A2C-Dri', 1, cc), run('A2C-Dri', 2, cc), run('A2C-Ind', 1, dd), run('A2C-Ind', 2, {}, 'failed')]);
    expect(outcomeLines(rows)).toEqual([
      'A2C-Dri: target reached in 2/2 seeds (seed 1: (C, C), total 20.0/step; seed 2: (C, C), total 20.0/step)',
      'A2C-Ind: target reached in 0/1 seeds (seed 1: (D, D), total 4.0/step; seed 2: failed)',
    ]);
    const html = withOutcomeSection('<html><body><p>report</p></body></html>', outcomeHtml(rep, rows));
    expect(html).toMatch(/<p>report<\/p><section class="repro-outcome".*<\/section><\/body><\/html>$/s);
    expect(html).toContain('<td>A2C-Dri</td><td>2 / 2</td>');
    // Reproductions without a verdict add nothing.
    expect(outcomeRows(getRepro('fig14')!, rows.map(() => run('x', 1, cc)))).toEqual([]);
  });
});
