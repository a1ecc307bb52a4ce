/**
 * F2A2 Fig. 7 on the MAgent battle (shared/specs/f2a2.md §6.4): reward curves per army size
 * and the time to convergence (spec's metric, src-main/report/convergence.ts), for army sizes
 * {12, 32, 64, 128, 256} per side (spec §5 DESIGN CHOICE).
 *
 * What runs: stage 1 of the figure's set-up, the IQL opponent trained by self-play at each army
 * size (spec §4.5: 2000 self-play episodes). Stage 2, F2A2-ISAC against that frozen opponent
 * (`train.opponent = frozen`), needs the F2A2-ISAC learner, which is not built yet; until it is,
 * this reproduction answers the figure's question (does the time to convergence grow with the
 * number of agents?) for the opponent's own learner, and is named for that.
 *
 * Budgets: `paper` = 10 seeds x 2000 rounds of one battle, rounds capped at 550 steps;
 * `small` = 1 seed x 12 rounds of 50-step battles, epsilon annealed over 6 episodes and one
 * update per 1024 agent transitions (so 256 vs 256 does ~25 updates a round) and a replay of
 * 20,000 agent transitions (~200 MB, also the checkpoint's size, instead of growing to GBs): a pipeline check
 * that finishes in minutes per army size on an idle machine, not a convergence measurement.
 */
import type { Budget, Repro, ReproVariant } from './repro';
import { BATTLE_ARMY_SIZES } from '../envs/battle-presets';

const PAPER: Budget = { episodes: 2000, seeds: 10, numEnvs: 1 };
const SMALL: Budget = { episodes: 12, seeds: 1, numEnvs: 1 };
const SMALL_OVERRIDES = { env: { episodeLimit: 50 }, algo: { epsilonEpisodes: 6, trainEvery: 1024, warmup: 1024, bufferSize: 20_000 } };

function variants(): ReproVariant[] {
  return BATTLE_ARMY_SIZES.map((k) => ({ label: `IQL ${k} vs ${k}`, preset: `battle-iql-selfplay-${k}`, budgetOverrides: { small: SMALL_OVERRIDES } }));
}

export const f2a2BattleRepros: Repro[] = [
  {
    name: 'f2a2-fig7-opponent',
    figure: 'F2A2 Fig. 7 (set-up: the IQL opponent)',
    title: 'Battle at 12 to 256 agents per side: IQL self-play reward curves and time to convergence',
    description:
      'The parameter-shared IQL opponent of F2A2 §6.3 (spec §4.5) trained by self-play at each army size. Fig. 7 claims (for F2A2-ISAC) that the curves have a similar shape and that the time to convergence does not grow much with the number of agents; the report prints that time per army size. F2A2-ISAC itself is not built yet.',
    variants: variants(),
    keys: ['red_return', 'blue_return', 'red_win', 'red_kills', 'blue_kills', 'episode_length'],
    budgets: { paper: PAPER, small: SMALL },
    convergence: { key: 'red_return' },
  },
];
