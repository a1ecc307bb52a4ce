/**
 * The replay renderers that ship with Cairn, by kind: the generic view (any env), the 2-D
 * world (every particle env), the cell grid (Push-Box, Secret Room), the payoff table (matrix
 * games) and Manitokan's grid. A new env
 * names one of these kinds in its replay meta, or registers its own here.
 */
import { GENERIC_KIND, registerReplayRenderer, registerStructuralKind } from './registry';
import World2dFrame from './world2d/World2dFrame.vue';
import { isWorldReplay, worldEntities } from './world2d/world-read';
import Grid2dFrame from './grid2d/Grid2dFrame.vue';
import { gridMarkers, gridMeta } from './grid2d/grid-read';
import MatrixFrame from './matrix/MatrixFrame.vue';
import MatrixPanel from './matrix/MatrixPanel.vue';
import { isMatrixReplay } from './matrix/matrix-read';
import GenericFrame from './generic/GenericFrame.vue';
import GenericPanel from './generic/GenericPanel.vue';
import ManitokanFrame from './manitokan/ManitokanFrame.vue';
import ManitokanPanel from './manitokan/ManitokanPanel.vue';
import { manitokanMarkers } from './manitokan-timeline';
import BattleFrame from './battle/BattleFrame.vue';
import { battleMeta, isBattleReplay } from './battle/battle-read';
import { battleMarkers } from './battle/battle-draw';
import { agentColor } from './manitokan/draw';
import type { ManitokanReplayMeta } from '../../../src-shared/envs/manitokan-replay';

export function registerBuiltinReplayRenderers(): void {
  registerReplayRenderer(GENERIC_KIND, GenericFrame, { panel: GenericPanel });
  // The 2-D world's side panel is the generic per-agent view: actions, rewards, returns.
  registerReplayRenderer('world2d', World2dFrame, {
    panel: GenericFrame,
    agentColors: (r) => worldEntities(r).filter((e) => e.kind === 'agent').map((e) => e.color),
  });
  registerStructuralKind('world2d', isWorldReplay);
  // Cell grids (Push-Box, Secret Room): tiles, doors, objects and agents from the env's meta.
  registerReplayRenderer('grid2d', Grid2dFrame, {
    panel: GenericFrame,
    markers: gridMarkers,
    markerKinds: ['door', 'reward'],
    agentColors: (r) => gridMeta(r).agents.map((a) => a.color),
  });
  registerReplayRenderer('matrix', MatrixFrame, { panel: MatrixPanel });
  registerStructuralKind('matrix', isMatrixReplay);
  // Casualties per step rather than the generic per-agent reward markers (see battleMarkers).
  registerReplayRenderer('battle', BattleFrame, {
    markers: (r) => battleMarkers(r, battleMeta(r)),
    markerKinds: ['kill'],
    agentColors: (r) => {
      const m = battleMeta(r);
      return Array.from({ length: 2 * m.armySize }, (_, i) => m.teamColors[i < m.armySize ? 0 : 1]);
    },
  });
  registerStructuralKind('battle', isBattleReplay);
  registerReplayRenderer('manitokan', ManitokanFrame, {
    panel: ManitokanPanel,
    markers: manitokanMarkers,
    markerKinds: ['pickup', 'drop', 'door', 'reward'],
    agentColors: (r) => {
      const meta = r.meta as Partial<ManitokanReplayMeta>;
      return Array.from({ length: Number(meta.numAgents ?? 0) }, (_, i) => agentColor(meta, i));
    },
  });
}
