/** The replay renderers that ship with Cairn; later environments add a line here. */
import { registerReplayRenderer } from './registry';
import ManitokanFrame from './manitokan/ManitokanFrame.vue';
import ManitokanPanel from './manitokan/ManitokanPanel.vue';
import { manitokanMarkers } from './manitokan-timeline';

export function registerBuiltinReplayRenderers(): void {
  registerReplayRenderer('manitokan', ManitokanFrame, { panel: ManitokanPanel, markers: manitokanMarkers });
}
