/**
 * Presets of the MAgent battle (battle.ts) at the F2A2 paper's army sizes (f2a2.md §5: 12, 32,
 * 64, 128, 256 per side, Cairn's choice of the sizes between 12 and 256) and the 625 transfer
 * size, with geek-ai's ~550-step round cap and the minimap on.
 *
 * Learner: parameter-shared IPPO in self-play (both armies act through the one shared actor;
 * each agent sees its own army in the "own" channels, so one policy serves both sides, as in
 * geek-ai's train_battle.py self-play). The paper's learner on this env, F2A2-ISAC against a
 * frozen IQL opponent, is not in Cairn yet (docs/design.md, "F2A2 (issue 11)"); these presets
 * make the env trainable and measurable end to end meanwhile. Few copies per round: one copy
 * of 256 vs 256 is already 512 agent rows per step.
 */
import type { Preset } from '../config/presets';

const SIZES = [12, 32, 64, 128, 256, 625];

export const battlePresets: Preset[] = SIZES.map((k) => ({
  name: `battle-${k}-ippo`,
  title: `Battle ${k} vs ${k}, IPPO self-play`,
  description: `MAgent battle, two armies of ${k} "small" agents (hp 10, move radius 2, attack the 8 neighbours), 13x13 views with the minimap, rounds capped at 550 steps; parameter-shared IPPO driving both armies.${k === 625 ? ' The F2A2 transfer size (a policy trained at 256 is what the paper tests here).' : ''}`,
  paper: 'F2A2 §6.3, Fig. 7 (army sizes); MAgent battle config',
  config: { env: { id: 'battle', armySize: k, episodeLimit: 550 }, algo: { id: 'ippo' }, train: { episodes: 2000, numEnvs: k >= 128 ? 1 : 2 } },
}));
