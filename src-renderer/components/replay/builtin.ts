/**
 * The replay renderers that ship with Cairn, by kind: the generic view (any env), the 2-D
 * world (every particle env), the payoff table (matrix games) and Manitokan's grid. A new env
 * names one of these kinds in its replay meta, or registers its own here.
 */
import { GENERIC_KIND, registerReplayRenderer } from './registry';
import GenericFrame from './generic/GenericFrame.vue';
import GenericPanel from './generic/GenericPanel.vue';
import ManitokanFrame from './manitokan/ManitokanFrame.vue';
import ManitokanPanel from './manitokan/ManitokanPanel.vue';
import { manitokanMarkers } from './manitokan-timeline';
import { agentColor } from './manitokan/draw';
import type { ManitokanReplayMeta } from '../../../src-shared/envs/manitokan-replay';

export function registerBuiltinReplayRenderers(): void {
  registerReplayRenderer(GENERIC_KIND, GenericFrame, { panel: GenericPanel });
  registerReplayRenderer('manitokan', ManitokanFrame, {
    panel: ManitokanPanel,
    markers: manitokanMarkers,
    agentColors: (r) => {
      const meta = r.meta as Partial<ManitokanReplayMeta>;
      return Array.from({ length: Number(meta.numAgents ?? 0) }, (_, i) => agentColor(meta, i));
    },
  });
}
