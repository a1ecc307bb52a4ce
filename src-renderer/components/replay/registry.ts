/**
 * Replay renderers, one per environment id. An environment that records replays registers a
 * component drawing one frame (props `{ replay, frame }`), optionally a side panel with the
 * same props, and a function listing the timeline markers of an episode. The viewer looks the
 * renderer up by `replay.envId`, so a new environment adds its own without touching the viewer.
 */
import { markRaw, type Component } from 'vue';
import type { Replay } from '../../../src-shared/envs/types';
import type { ReplayMarker } from './markers';

/** Props every replay frame component and side panel receive. */
export interface ReplayFrameProps {
  replay: Replay;
  /** 0..replay.steps (0 = the reset state). */
  frame: number;
}

export interface ReplayRenderer {
  component: Component;
  panel?: Component;
  markers?: (replay: Replay) => ReplayMarker[];
}

const renderers = new Map<string, ReplayRenderer>();

export function registerReplayRenderer(
  envId: string,
  component: Component,
  extras: { panel?: Component; markers?: (replay: Replay) => ReplayMarker[] } = {},
): void {
  renderers.set(envId, {
    component: markRaw(component),
    panel: extras.panel ? markRaw(extras.panel) : undefined,
    markers: extras.markers,
  });
}

export function getReplayRenderer(envId: string): ReplayRenderer | undefined {
  return renderers.get(envId);
}

export function registeredReplayEnvs(): string[] {
  return [...renderers.keys()];
}

/** Markers for envs without their own: non-zero entries of a `reward` step column, if any. */
export function genericMarkers(replay: Replay): ReplayMarker[] {
  const rw = replay.columns.reward;
  if (!rw || replay.steps <= 0) return [];
  const n = Math.max(1, Math.round(rw.length / replay.steps));
  const out: ReplayMarker[] = [];
  for (let t = 0; t < replay.steps; t++) {
    for (let i = 0; i < n; i++) {
      const r = rw[t * n + i];
      if (r) out.push({ step: t, frame: t + 1, agent: i, kind: 'reward', value: r, label: `agent ${i} reward ${r}` });
    }
  }
  return out;
}
