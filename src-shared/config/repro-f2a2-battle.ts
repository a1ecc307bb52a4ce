/**
 * F2A2 Fig. 7 on the MAgent battle (shared/specs/f2a2.md §6.4): reward curves per army size
 * and the time to convergence (spec's metric, src-main/report/convergence.ts), for army sizes
 * {12, 32, 64, 128, 256} per side (spec §5 DESIGN CHOICE).
 *
 * Two reproductions:
 * - `f2a2-fig7-opponent`: stage 1 of the figure's set-up alone, the IQL opponent trained by
 *   self-play at each army size (spec §4.5: 2000 self-play episodes), with its own convergence;
 * - `f2a2-fig7`: the figure. Stage 1 as above, then stage 2 (`opponentFrom`, cmd-repro runs it
 *   when stage 1 has ended, or from an earlier experiment's stage 1 with `--stage1 E`): per army
 *   size and seed, F2A2-ISAC (blue, f2a2-isac.ts) against the frozen checkpoint of that seed's
 *   stage-1 run driving red (epsilon 0.05). Its convergence rows for the F2A2-ISAC variants
 *   (on blue_return, the learner's) answer Fig. 7b (does the time grow with the number of
 *   agents?); the curves of blue_return per F2A2-ISAC variant are Fig. 7a.
 * The opponent is trained by self-play and then frozen, as the paper does ("fixed to IQL after
 * 2000 self-play training rounds", spec §4.5); it is not trained alongside F2A2-ISAC.
 *
 * Budgets: `paper` = 10 seeds x 2000 rounds of one battle, rounds capped at 550 steps, the
 * presets' settings (IQL: target copy every 1000 updates, one update per 128 agent
 * transitions). `small` = 1 seed x 40 rounds of 300-step battles. What a small stage 1 needs
 * to give an opponent that fights (measured at 12 vs 12, docs/design.md F2A2 section; before,
 * a 64 vs 64 run at 40 x 100 steps learned to stand still, one kill in 40 battles):
 * - target copies that happen: the spec's copy every 1000 updates is ~200 copies in the
 *   paper's budget, but the old small stage 1 made ~500 updates in all, so its target network
 *   stayed the random initial one and Q learned only the immediate reward, where every attack
 *   at an empty cell costs 0.1 and nothing is ever worth walking to. Small: a copy every 100
 *   updates (the measured run had made 6 when the first kills came, round 10; 12 by round 31);
 * - battles long enough to meet: the armies start 8 cells apart (spec's gap 3 each side of the
 *   centre) and a view reaches 6, so random play at 12 vs 12 lands ~10 hits on an enemy in a
 *   100-step battle and ~50 in 300 steps (~100 in 550); 300 steps (the paper's are 550);
 * - epsilon annealed over the first half (spec §4.5), 20 of 40 rounds, and one update per
 *   8 K stored agent transitions (a quarter of an update per env step at any army size, so
 *   every size does the same ~75 updates a round; 96 at 12 vs 12 = each transition drawn about
 *   1.3 times), a replay of 60,000 agent transitions (~600 MB, the checkpoint's size too).
 * F2A2-ISAC at `small`: 40 rounds of 100-step battles (against an opponent that fights, the
 * battle is decided by then: red's army is mostly dead), one update iteration (4 copies x 128
 * rows, ~18 IQL updates of arithmetic) per 10 K stored red transitions (at most 10 a round;
 * ~3 measured, red dying early), a replay of 20,000.
 * At small, 12 vs 12 stage 1 takes ~30 min wall on the shared 2-core machine at load 15-28
 * (31 rounds: 23 min wall, 4 min 13 s CPU) and stage 2 ~25 min (30 rounds at load 23-36);
 * larger armies add acting and env steps (64 vs 64 about 2-3x per round).
 *
 * `medium` (f2a2-fig7 only) = the two army sizes the issue asks for, 12 and 64 per side, 1 seed,
 * stage 1 exactly as at `small` (both sizes' kill curves converged there, rounds 28 and 30),
 * stage 2 for 60 rounds instead of 40 at `small`'s battles and cadence (100 steps, one update
 * iteration per 10 K stored red transitions: at most 10 a round, so up to 600 iterations).
 * Why 60: the 30-round `small`-style stage 2 at 12 vs 12 made 92 iterations and was still
 * rising (-1.18 -> -0.56, no kills, the policy moving only after ~50 iterations); a few hundred
 * iterations are what a plateau needs. An iteration costs ~2.3 CPU-s since wt-11b2 (3.3
 * before; bench/isac-iteration.ts), whatever the army size, so 60 rounds are ~25 CPU-min per
 * size. Measured wall time (wt-11b2, load 15-21 on the shared 2 cores, the two workers of a
 * stage sharing one scheduler group at ~0.15-0.2 core each): stage 1 at 12 vs 12 44 min, at
 * 64 vs 64 ~3.8 min a round in rounds 1-12 (~2 h 30 min for 40); stage 2 at 12 vs 12 ~1.7
 * min a round once alone (~10 iterations a round, ~2.6 CPU-s each with acting and env).
 * What medium reached there: docs/design.md, "F2A2 Fig. 7 at 12 and 64 per side" (F2A2-ISAC
 * as red, no contact) and "F2A2 Fig. 7b: a stage 2 where the armies engage" (as blue, issue-11b3:
 * 12 vs 12 converges by the spec's metric at round 38 of 60, 129 iterations, to a blue that
 * stops attacking and kills nobody; 64 vs 64 ~11 min a round at load 15-20, not run through).
 * On wasm-blas the whole medium run takes ~41 min (docs/design.md, "F2A2 Fig. 7 `medium` on
 * wasm-blas"): F2A2-ISAC's 64 vs 64 return stays flat over 583 iterations, and the report's
 * convergence table marks it flat instead of printing a time.
 *
 * Why F2A2-ISAC plays blue, against the frozen net driving red (issue-11b3). The spec gives
 * the opponent's behaviour only as "fixed to IQL ... acts greedily (epsilon 0.05)" and says
 * nothing of sides; MAgent's two armies are symmetric except that our moves are processed red
 * first (spec §7.3, group order), so red takes contested cells and wins self-play. The one
 * shared IQL net (position features x/width are not mirrored) then plays two roles, measured
 * on the 12 vs 12 stage-1 checkpoint (40 rounds, 3 battles each, 300 steps): driving blue
 * against a red that stays put, it retreats to the far wall (blue's mean x 25 -> 28 of a
 * 24-cell map plus border; no contact in 300 steps, epsilon 0.05 or 0.3); against a red that
 * walks right without attacking it kills all 12 in ~40 steps; against uniformly random red it
 * kills 6 a battle, first contact at step 56-185. Driving red against a blue that stays put,
 * it advances, meets blue at step 5 and kills all 12 in ~55 steps. So with F2A2-ISAC as red
 * the frozen blue waits at its wall and only punishes an approach, and not attacking and
 * keeping away is a local optimum: -0.005 a step, the -0.50 a battle plateau of wt-11b2's
 * medium run (no contact in rounds 12-26, then drift). With F2A2-ISAC as blue, every battle
 * is a fight from step 5: the learning signal (hits +0.1 net, kills +5, -0.1 per miss) comes
 * in every battle. Directions measured and not taken: 300-step battles with F2A2-ISAC red
 * (random red reaches the waiting blue in every battle, but only by chance, late, and is
 * killed 6 of 12 with no kill: the reward for approaching is the price of being hit), and a
 * higher frozen epsilon (0.3 changes nothing above). The frozen net playing red is the army
 * of the self-play winner, i.e. the stronger of the two roles the paper's "IQL after 2000
 * self-play rounds" could mean. Stage-2 battles stay at 100 steps: a fight is over in ~40-55.
 *
 * One army size alone (a repro runs every size): the same two stages with `cairn train`, e.g.
 * for 12 vs 12 (commands and figures in docs/design.md, F2A2 section):
 *   cairn train --preset battle-iql-selfplay-12 --rounds 40 --set env.episodeLimit=300 \
 *     --set algo.epsilonEpisodes=20 --set algo.trainEvery=96 --set algo.targetUpdateSteps=100 ...
 *   cairn train --preset battle-f2a2-isac-12 --set train.opponentRun=<that run> \
 *     --set train.opponentTeam=0 --rounds R ...
 *   cairn export <run> --format html|pdf --out FILE
 * An earlier, weaker opponent (issue 11): `--set train.opponentRound=N` plays the stage-1
 * checkpoint of round N instead of the latest (a round the run kept: every
 * train.checkpointEvery and its last); `cairn repro f2a2-fig7 --opponent-round N` does the same
 * for every second-stage run (with `--stage1 E` to reuse a first stage that kept round N).
 */
import type { Budget, Repro, ReproVariant } from './repro';
import { BATTLE_ARMY_SIZES } from '../envs/battle-presets';
import { F2A2_BATTLE_SIZES } from '../algos/f2a2-presets';

const PAPER: Budget = { episodes: 2000, seeds: 10, numEnvs: 1 };
export const SMALL_ROUNDS = 40;
const SMALL: Budget = { episodes: SMALL_ROUNDS, seeds: 1, numEnvs: 1 };
export const SMALL_STEPS = 300;
/** Stage 1 at `small` for army size k (see the header). */
export const smallIql = (k: number) => ({
  env: { episodeLimit: SMALL_STEPS },
  algo: { epsilonEpisodes: SMALL_ROUNDS / 2, trainEvery: 8 * k, targetUpdateSteps: 100, warmup: 1280, bufferSize: 60_000 },
});

const iqlLabel = (k: number) => `IQL ${k} vs ${k}`;

function variants(): ReproVariant[] {
  return BATTLE_ARMY_SIZES.map((k) => ({ label: iqlLabel(k), preset: `battle-iql-selfplay-${k}`, budgetOverrides: { small: smallIql(k), medium: smallIql(k) } }));
}

/** A battle against a stage-1 opponent that fights is decided in about 100 steps. */
export const SMALL_ISAC_STEPS = 100;
/** Stage 2 at `small` for army size k (see the header). */
export const smallIsac = (k: number) => ({ env: { episodeLimit: SMALL_ISAC_STEPS }, algo: { trainEvery: 10 * k, warmup: 1280, bufferSize: 20_000 } });

/** Stage 2's rounds at `medium` (see the header). */
export const MEDIUM_ISAC_ROUNDS = 60;
/** Stage 2 at `medium` for army size k: `small`'s battles and cadence, for more rounds. */
export const mediumIsac = (k: number) => ({ ...smallIsac(k), train: { episodes: MEDIUM_ISAC_ROUNDS } });

const isacLabel = (k: number) => `F2A2-ISAC ${k} vs ${k}`;

function isacVariants(): ReproVariant[] {
  return F2A2_BATTLE_SIZES.map((k) => ({
    label: isacLabel(k),
    preset: `battle-f2a2-isac-${k}`,
    opponentFrom: iqlLabel(k),
    // The frozen stage-1 net drives red, F2A2-ISAC learns blue (see the header).
    overrides: { train: { opponentTeam: 0 } },
    convergenceKey: 'blue_return',
    budgetOverrides: { small: smallIsac(k), medium: mediumIsac(k) },
  }));
}

/** The army sizes run at `medium`: the smallest and the 64 per side. */
export const MEDIUM_SIZES = [12, 64];
const MEDIUM: Budget = { episodes: SMALL_ROUNDS, seeds: 1, numEnvs: 1, variants: MEDIUM_SIZES.flatMap((k) => [iqlLabel(k), isacLabel(k)]) };

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
      "Stage 1: the IQL opponent by self-play per army size (spec §4.5). Stage 2: F2A2-ISAC (blue) per army size against that seed's frozen stage-1 checkpoint driving red, the army that advances (red moves first and wins self-play; driving blue the same net waits at its wall). Paper (Fig. 7): the reward curves have a similar shape across army sizes and the time to convergence does not grow much with the number of agents; the report prints that time (spec §6.4: first epoch where the 10-point moving average reaches 95% of the final plateau) per variant, on blue_return for F2A2-ISAC.",
    variants: [...variants(), ...isacVariants()],
    keys: KEYS,
    budgets: { paper: PAPER, small: SMALL, medium: MEDIUM },
    convergence: { key: 'red_return' },
  },
];
