/**
 * Replay renderers, keyed by renderer kind. An env declares the kind its replays are drawn
 * with (`replay.meta.renderer`: 'world2d' for every particle env, 'matrix' for the matrix
 * games, or its own), so envs that share a picture share a renderer; replays that name no kind
 * (those stored before kinds existed) use their env id. A kind nobody registered falls back to
 * the generic view, which shows any env from the columns every env records, so no replay is
 * ever left without a picture.
 *
 * A renderer is a component drawing one frame (props `{ replay, frame }`), optionally a side
 * panel with the same props, the timeline markers of an episode, and the agents' colours.
 */
import { markRaw, type Component } from 'vue';
import type { Replay } from '../../../src-shared/envs/types';
import type { ReplayMarker } from './markers';
import { replayAgents } from './generic/replay-read';

/** Props every replay frame component and side panel receive. */
export interface ReplayFrameProps {
  replay: Replay;
  /** 0..replay.steps (0 = the reset state). */
  frame: number;
}

export interface ReplayRendererExtras {
  panel?: Component;
  markers?: (replay: Replay) => ReplayMarker[];
  /** Colour of each agent (timeline markers); default: from the replay's meta. */
  agentColors?: (replay: Replay) => string[];
}

export interface ReplayRenderer {
  kind: string;
  component: Component;
  panel?: Component;
  markers: (replay: Replay) => ReplayMarker[];
  agentColors: (replay: Replay) => string[];
}

/** The kind every replay can be drawn with. */
export const GENERIC_KIND = 'generic';

const renderers = new Map<string, ReplayRenderer>();

export function registerReplayRenderer(kind: string, component: Component, extras: ReplayRendererExtras = {}): void {
  renderers.set(kind, {
    kind,
    component: markRaw(component),
    panel: extras.panel ? markRaw(extras.panel) : undefined,
    markers: extras.markers ?? genericMarkers,
    agentColors: extras.agentColors ?? ((r) => replayAgents(r).map((a) => a.color)),
  });
}

/** The renderer kind a replay asks for: `meta.renderer`, else its env id. */
export function replayKind(replay: Replay): string {
  const k = (replay.meta as { renderer?: unknown }).renderer;
  return typeof k === 'string' && k !== '' ? k : replay.envId;
}

/** The renderer for a replay: its kind's, else the generic one (undefined only if none is registered). */
export function getReplayRenderer(replay: Replay): ReplayRenderer | undefined {
  return renderers.get(replayKind(replay)) ?? renderers.get(GENERIC_KIND);
}

export function registeredReplayKinds(): string[] {
  return [...renderers.keys()];
}

/** Markers for envs without their own: non-zero entries of a `reward` step column, if any. */
export function genericMarkers(replay: Replay): ReplayMarker[] {
  const rw = replay.columns.reward;
  if (!rw || replay.steps <= 0) return [];
  const agents = replayAgents(replay);
  const n = Math.max(1, Math.round(rw.length / replay.steps));
  const out: ReplayMarker[] = [];
  for (let t = 0; t < replay.steps; t++) {
    for (let i = 0; i < n; i++) {
      const r = rw[t * n + i];
      if (r) out.push({ step: t, frame: t + 1, agent: i, kind: 'reward', value: r, label: `${agents[i]?.name ?? `agent ${i}`} reward ${+r.toFixed(3)}` });
    }
  }
  return out;
}
