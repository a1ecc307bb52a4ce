/**
 * F2A2 Fig. 7 on the MAgent battle (shared/specs/f2a2.md §6.4): reward curves per army size
 * and the time to convergence (spec's metric, src-main/report/convergence.ts), for army sizes
 * {12, 32, 64, 128, 256} per side (spec §5 DESIGN CHOICE).
 *
 * Two reproductions:
 * - `f2a2-fig7-opponent`: stage 1 of the figure's set-up alone, the IQL opponent trained by
 *   self-play at each army size (spec §4.5: 2000 self-play episodes), with its own convergence;
 * - `f2a2-fig7`: the figure. Stage 1 as above, then stage 2 (`opponentFrom`, cmd-repro runs it
 *   when stage 1 has ended): per army size and seed, F2A2-ISAC (red, f2a2-isac.ts) against the
 *   frozen checkpoint of that seed's stage-1 run (blue, epsilon 0.05). Its convergence rows for
 *   the F2A2-ISAC variants answer Fig. 7b (does the time grow with the number of agents?); the
 *   curves of red_return per variant are Fig. 7a.
 *
 * F2A2-ISAC at `small`: the same 50-step battles and 12 rounds, an update iteration (4 copies x
 * 128 rows) every 2048 stored agent transitions, a replay of 20,000 over the copies.
 *
 * Budgets: `paper` = 10 seeds x 2000 rounds of one battle, rounds capped at 550 steps;
 * `small` = 1 seed x 12 rounds of 50-step battles, epsilon annealed over 6 episodes and one
 * update per 1024 agent transitions (so 256 vs 256 does ~25 updates a round) and a replay of
 * 20,000 agent transitions (~200 MB, also the checkpoint's size, instead of growing to GBs): a pipeline check
 * that finishes in minutes per army size on an idle machine, not a convergence measurement.
 *
 * One army size alone (a repro runs every size): the same two stages with `cairn train`, e.g.
 * for 64 vs 64 (the "battle run of 64 vs 64 end to end with reports"; its measured run
 * is in docs/design.md, F2A2 section):
 *   cairn train --preset battle-iql-selfplay-64 --rounds R --set env.episodeLimit=L ...
 *   cairn train --preset battle-f2a2-isac-64 --set train.opponentRun=<that run> --rounds R ...
 *   cairn export <run> --format html|pdf --out FILE
 */
import type { Budget, Repro, ReproVariant } from './repro';
import { BATTLE_ARMY_SIZES } from '../envs/battle-presets';
import { F2A2_BATTLE_SIZES } from '../algos/f2a2-presets';

const PAPER: Budget = { episodes: 2000, seeds: 10, numEnvs: 1 };
const SMALL: Budget = { episodes: 12, seeds: 1, numEnvs: 1 };
const SMALL_OVERRIDES = { env: { episodeLimit: 50 }, algo: { epsilonEpisodes: 6, trainEvery: 1024, warmup: 1024, bufferSize: 20_000 } };

const iqlLabel = (k: number) => `IQL ${k} vs ${k}`;

function variants(): ReproVariant[] {
  return BATTLE_ARMY_SIZES.map((k) => ({ label: iqlLabel(k), preset: `battle-iql-selfplay-${k}`, budgetOverrides: { small: SMALL_OVERRIDES } }));
}

const SMALL_ISAC = { env: { episodeLimit: 50 }, algo: { trainEvery: 2048, warmup: 1024, bufferSize: 20_000 } };

function isacVariants(): ReproVariant[] {
  return F2A2_BATTLE_SIZES.map((k) => ({ label: `F2A2-ISAC ${k} vs ${k}`, preset: `battle-f2a2-isac-${k}`, opponentFrom: iqlLabel(k), budgetOverrides: { small: SMALL_ISAC } }));
}

const KEYS = ['red_return', 'blue_return', 'red_win', 'red_kills', 'blue_kills', 'episode_length'];

export const f2a2BattleRepros: Repro[] = [
  {
    name: 'f2a2-fig7-opponent',
    figure: 'F2A2 Fig. 7 (set-up: the IQL opponent)',
    title: 'Battle at 12 to 256 agents per side: IQL self-play reward curves and time to convergence',
    description:
      'The parameter-shared IQL opponent of F2A2 §6.3 (spec §4.5) trained by self-play at each army size. Fig. 7 claims (for F2A2-ISAC) that the curves have a similar shape and that the time to convergence does not grow much with the number of agents; the report prints that time per army size. The figure itself (F2A2-ISAC against this opponent) is the f2a2-fig7 reproduction.',
    variants: variants(),
    keys: KEYS,
    budgets: { paper: PAPER, small: SMALL },
    convergence: { key: 'red_return' },
  },
  {
    name: 'f2a2-fig7',
    figure: 'F2A2 Fig. 7',
    title: 'Battle at 12 to 256 agents per side: F2A2-ISAC against the frozen IQL opponent, reward curves and time to convergence',
    description:
      "Stage 1: the IQL opponent by self-play per army size (spec §4.5). Stage 2: F2A2-ISAC (red) per army size against that seed's frozen stage-1 checkpoint (blue). Paper (Fig. 7): the reward curves have a similar shape across army sizes and the time to convergence does not grow much with the number of agents; the report prints that time (spec §6.4: first epoch where the 10-point moving average reaches 95% of the final plateau) per variant.",
    variants: [...variants(), ...isacVariants()],
    keys: KEYS,
    budgets: { paper: PAPER, small: SMALL },
    convergence: { key: 'red_return' },
  },
];
