/**
 * One-click reproductions of DRIMA's figures (shared/specs/drima.md §5): each is one experiment
 * whose variants are `drima-*` presets (base learner x interaction variant) over the same seeds,
 * and whose `outcome` says per run which equilibrium it settled in (matrix games) or where it
 * ended (particle tasks), and whether that is the figure's target.
 *
 * Budgets (Cairn's choice; the paper gives no counts): matrix games `paper` = 2,000 rounds of one
 * 25-step segment (the spec's 2,000 segments = 50,000 steps, so DQN's epsilon decay of 20,000
 * steps is its 40%), `small` = 250 rounds of 4 segments; particle tasks `paper` = 3,125 rounds
 * of 8 episodes (25,000 episodes), `small` = 150 rounds of 8. 5 seeds (paper), 3 (small: a
 * quick look on a shared laptop, as the other reproductions' small budgets).
 * Fig. 3 runs -Ind and -Dri (what the figure most likely shows, drima.md §2.1); -Dri-naive
 * has its presets (`drima-<game>-<base>-dri-naive`) and is in Fig. 4/7's variants.
 */
import { defaults, type Values } from './schema';
import type { Budget, Repro, ReproVariant } from './repro';
import { DRIMA_BASES, DRIMA_TASKS, drimaPresetName, type DrimaVariant } from './drima-presets';
import { matrixGameEntry } from '../envs/matrix-game';

/** A run's verdict for the report: what it ended at and whether that is the figure's target. */
export interface RunOutcome {
  readonly label: string;
  readonly reached: boolean;
}

const MATRIX_PAPER: Budget = { episodes: 2000, seeds: 5, numEnvs: 1 };
const MATRIX_SMALL: Budget = { episodes: 250, seeds: 3, numEnvs: 4 };
const PARTICLE_PAPER: Budget = { episodes: 3125, seeds: 5, numEnvs: 8 };
const PARTICLE_SMALL: Budget = { episodes: 150, seeds: 3, numEnvs: 8 };

const LABEL: Record<DrimaVariant, string> = { ind: 'Ind', dri: 'Dri', 'dri-naive': 'Dri-naive', ctde: 'Ctde' };

function variants(taskKeys: readonly string[], bases: readonly string[], vs: readonly DrimaVariant[]): ReproVariant[] {
  const out: ReproVariant[] = [];
  for (const key of taskKeys) {
    const task = DRIMA_TASKS.find((t) => t.key === key)!;
    for (const b of bases) {
      const base = DRIMA_BASES.find((x) => x.key === b);
      if (!base || !base.on(task)) continue;
      for (const v of vs) {
        out.push({ label: `${taskKeys.length > 1 ? `${task.key} ` : ''}${base.title}-${LABEL[v]}`, preset: drimaPresetName(task, base, v) });
      }
    }
  }
  return out;
}

/**
 * Matrix games: the joint action each player plays on more than 80% of the final steps (the
 * summary's last-10% mean of the env's action frequencies), else "mixed"; the target is the
 * cooperative optimum (`optimum_rate` above 0.8).
 */
export function matrixOutcome(envConfig: Values, final: Record<string, number>): RunOutcome {
  const spec = matrixGameEntry.spec({ ...defaults(matrixGameEntry.schema), ...envConfig });
  const picks = spec.agents.map((a, i) => {
    const names = a.action.kind === 'discrete' ? a.action.names : [];
    const k = names.findIndex((_, x) => (final[`action_freq_${i}_${x}`] ?? 0) > 0.8);
    return k < 0 ? null : names[k];
  });
  const label = picks.every((p) => p !== null) ? `(${picks.join(', ')})` : 'mixed';
  const per = final.reward_per_step;
  return { label: `${label}, total ${per === undefined ? 'n/a' : per.toFixed(1)}/step`, reached: (final.optimum_rate ?? 0) > 0.8 };
}

/** Particle tasks: the final group reward (and the task's count); the target is a positive group reward. */
export function particleOutcome(final: Record<string, number>): RunOutcome {
  const g = final.group_reward;
  const extra = final.all_hit !== undefined ? `, hit rate ${final.all_hit.toFixed(2)}` : final.match_count !== undefined ? `, match count ${final.match_count.toFixed(2)}` : '';
  return { label: `group reward ${g === undefined ? 'n/a' : g.toFixed(2)}${extra}`, reached: (g ?? -Infinity) > 0 };
}

/** The verdict of one run of a DRIMA reproduction, from its env config and final summary. */
export function drimaOutcome(env: { id: string } & Values, final: Record<string, number>): RunOutcome {
  return env.id === 'matrix-game' ? matrixOutcome(env, final) : particleOutcome(final);
}

const MATRIX_KEYS = ['reward_per_step', 'optimum_rate', 'interaction/trigger_rate', 'action_freq_0_0', 'action_freq_1_0'];
const PARTICLE_KEYS = ['group_reward', 'all_hit', 'prey_hit', 'match_count', 'interaction/trigger_rate', 'interaction/neighbours'];

export const DRIMA_REPROS: readonly Repro[] = [
  {
    name: 'drima-fig3',
    figure: 'DRIMA Fig. 3',
    title: "Prisoner's Dilemma and Maintain: every base learner, -Ind vs -Dri (and -Dri-naive)",
    description:
      "Total reward per step of DQN, A2C and Algorithm 1's actor-critic (DDPG once it is registered), each -Ind and -Dri. Paper: every -Dri reaches the optimum (PD 20, Maintain 35; DQN noisy), every -Ind the poor equilibrium (PD 4, Maintain 15); naive comparable to Dri.",
    variants: variants(['pd', 'maintain'], ['ac', 'dqn', 'a2c', 'ddpg'], ['ind', 'dri']),
    keys: MATRIX_KEYS,
    budgets: { paper: MATRIX_PAPER, small: MATRIX_SMALL },
    outcome: drimaOutcome,
  },
  {
    name: 'drima-fig6',
    figure: 'DRIMA Fig. 6',
    title: 'Three-player "meet during COVID" game (reconstructed table): -Ind vs -Dri',
    description:
      'Total reward per step of each base learner on the reconstructed 3-player table (only (F,F,F) = (7,7,6) is the paper\'s). Paper: -Dri reaches (F,F,F), total 20; -Ind lands on the optimum or the inferior equilibrium (C,C,R), total 13, depending on the seed.',
    variants: variants(['covid'], ['ac', 'dqn', 'a2c', 'ddpg'], ['ind', 'dri']),
    keys: MATRIX_KEYS,
    budgets: { paper: { ...MATRIX_PAPER, episodes: 2400 }, small: MATRIX_SMALL },
    outcome: drimaOutcome,
  },
  {
    name: 'drima-fig4',
    figure: 'DRIMA Fig. 4(b), (c), (e), (f)',
    title: 'Cooperative Hunting I and Cooperative Collection: A2C (and DDPG) in all four variants',
    description:
      'Group reward (and hit rate, match count) per variant. Paper: CH-I -Dri positive, -Ind about 0, A2C-Ctde positive, DDPG-Ctde fails, naive below Dri; CC DDPG-Dri highest in reward and match count, A2C poor in every variant.',
    variants: variants(['ch1', 'cc'], ['a2c', 'ddpg'], ['ind', 'dri', 'dri-naive', 'ctde']),
    keys: PARTICLE_KEYS,
    budgets: { paper: PARTICLE_PAPER, small: PARTICLE_SMALL },
    outcome: drimaOutcome,
  },
  {
    name: 'drima-fig7',
    figure: 'DRIMA Fig. 7(c), (d)',
    title: 'Cooperative Hunting II: A2C (and DDPG) in all four variants',
    description: 'Group reward and prey hit per variant. Paper: -Dri highest, -Ind positive, -Ctde lowest, naive below Dri.',
    variants: variants(['ch2'], ['a2c', 'ddpg'], ['ind', 'dri', 'dri-naive', 'ctde']),
    keys: PARTICLE_KEYS,
    budgets: { paper: PARTICLE_PAPER, small: PARTICLE_SMALL },
    outcome: drimaOutcome,
  },
];
