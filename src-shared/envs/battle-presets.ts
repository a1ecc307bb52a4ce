/**
 * Battle presets (F2A2 §5, §4.5; battle.ts): the IQL opponent trained by self-play at each
 * army size of Fig. 7 ({12, 32, 64, 128, 256} per side, the spec's DESIGN CHOICE; map size at
 * geek-ai's density), and the same learner against a frozen IQL checkpoint.
 *
 * Budget (spec §4.5): 2000 self-play episodes, epsilon 1.0 -> 0.05 over the first 1000; one
 * copy per round, as geek-ai's train_battle.py plays one battle per round; rounds capped at
 * geek-ai's ~550 steps (environments.md §7.2).
 *
 * Shorter runs (`--rounds`, the repros' `small` budget) must scale three settings with the
 * budget, or IQL learns to stand still (measured, docs/design.md F2A2 section): the target copy
 * every 1000 updates has to happen (a run of 500 updates keeps the random initial target, so Q
 * learns only the immediate reward, in which every attack at an empty cell costs 0.1 and
 * nothing is worth walking to); battles long enough for armies 8 cells apart to meet (~10
 * random hits per 100 steps at 12 vs 12, ~50 per 300); epsilon over half the rounds. The
 * 12 vs 12 run that fights: `--rounds 40 --set env.episodeLimit=300 algo.epsilonEpisodes=20
 * algo.trainEvery=96 algo.targetUpdateSteps=100` (config/repro-f2a2-battle.ts `smallIql`).
 *
 * The frozen-opponent presets need the run id of a finished self-play run:
 * `cairn train --preset battle-iql-vs-frozen-64 --set train.opponentRun=<id>`; its latest
 * checkpoint plays, or the one of an earlier round with `--set train.opponentRound=N` (a
 * weaker opponent). F2A2-ISAC, the paper's learner against that opponent, has its presets in
 * algos/f2a2-presets.ts.
 */
import type { Preset } from '../config/presets';

export const BATTLE_ARMY_SIZES = [12, 32, 64, 128, 256] as const;
const TRAIN = { episodes: 2000, numEnvs: 1 };
const ENV = (k: number) => ({ id: 'battle', armySize: k, episodeLimit: 550 });

export const battlePresets: Preset[] = [
  ...BATTLE_ARMY_SIZES.map((k) => ({
    name: `battle-iql-selfplay-${k}`,
    title: `Battle ${k} vs ${k}, IQL self-play`,
    description: `Two armies of ${k} "small" agents; one parameter-shared IQL network (the F2A2 §1.10 conv trunk) drives and learns from both: the opponent F2A2 freezes after 2000 self-play episodes (spec §4.5).`,
    paper: 'F2A2 §6.3, appendix G (the IQL opponent)',
    config: { env: ENV(k), algo: { id: 'iql' }, train: { ...TRAIN } },
  })),
  ...BATTLE_ARMY_SIZES.map((k) => ({
    name: `battle-iql-vs-frozen-${k}`,
    title: `Battle ${k} vs ${k}, IQL (red) against a frozen IQL checkpoint (blue)`,
    description: `Red learns with IQL; blue acts from the latest checkpoint of run train.opponentRun (set it to a finished battle-iql-selfplay-${k} run), epsilon 0.05 (spec §4.5).`,
    paper: 'F2A2 §6.3 (the frozen opponent)',
    config: { env: ENV(k), algo: { id: 'iql' }, train: { ...TRAIN, opponent: 'frozen' } },
  })),
];
