/**
 * Reading a cell-grid replay (kind 'grid2d'; layout in src-shared/envs/grid-replay.ts): the
 * board's static tiles with the toggled groups (doors) as they are at a frame, and where the
 * agents and objects stand. Everything the view shows (names, colours, sizes) comes from the
 * replay's meta, written by the env.
 */
import type { Replay } from '../../../../src-shared/envs/types';
import type { GridReplayMeta, GridTile } from '../../../../src-shared/envs/grid-replay';
import type { ReplayMarker } from '../markers';
import { genericMarkers } from '../registry';

export interface GridCell {
  row: number;
  col: number;
  tile: GridTile;
}

export interface GridPiece {
  /** Index in the meta's list (the agent index for agents). */
  index: number;
  name: string;
  color: string;
  row: number;
  col: number;
}

/** The meta with defaults for anything missing, so a malformed replay draws an empty board. */
export function gridMeta(replay: Replay): GridReplayMeta {
  const m = replay.meta as Partial<GridReplayMeta>;
  const rows = Number(m.rows) > 0 ? Number(m.rows) : 1;
  const cols = Number(m.cols) > 0 ? Number(m.cols) : 1;
  return {
    renderer: 'grid2d',
    rows,
    cols,
    tiles: Array.isArray(m.tiles) ? m.tiles : [],
    tileMap: Array.isArray(m.tileMap) ? m.tileMap : [],
    toggles: Array.isArray(m.toggles) ? m.toggles : [],
    agents: Array.isArray(m.agents) ? m.agents : [],
    objects: Array.isArray(m.objects) ? m.objects : [],
  };
}

/** Non-floor cells at frame f: the static map with each toggle group drawn in its state's tile. */
export function gridCells(replay: Replay, f: number): GridCell[] {
  const m = gridMeta(replay);
  const tiles = m.tileMap.slice(0, m.rows * m.cols);
  const D = m.toggles.length;
  const state = replay.columns.toggle ?? [];
  const t = Math.min(f, replay.steps);
  m.toggles.forEach((g, k) => {
    const on = state[t * D + k] === 1;
    for (const [r, c] of g.cells) if (r >= 0 && r < m.rows && c >= 0 && c < m.cols) tiles[r * m.cols + c] = on ? g.on : g.off;
  });
  const out: GridCell[] = [];
  tiles.forEach((v, k) => {
    const tile = v > 0 ? m.tiles[v - 1] : undefined;
    if (tile) out.push({ row: Math.floor(k / m.cols), col: k % m.cols, tile });
  });
  return out;
}

function pieces(list: readonly { name: string; color: string }[], column: number[] | undefined, steps: number, f: number): GridPiece[] {
  const n = list.length;
  const c = column ?? [];
  const t = Math.min(f, steps);
  return list.flatMap((p, i) => {
    const row = c[(t * n + i) * 2];
    const col = c[(t * n + i) * 2 + 1];
    return row === undefined || col === undefined || row < 0 || col < 0 ? [] : [{ index: i, name: p.name, color: p.color, row, col }];
  });
}

export function gridAgents(replay: Replay, f: number): GridPiece[] {
  return pieces(gridMeta(replay).agents, replay.columns.agent_pos, replay.steps, f);
}

/** Objects present at frame f (an object at -1 is absent). */
export function gridObjects(replay: Replay, f: number): GridPiece[] {
  return pieces(gridMeta(replay).objects, replay.columns.object_pos, replay.steps, f);
}

/**
 * Timeline markers of a grid episode: each toggled group switching on (a door opening; no
 * agent is credited, the env records states, not causes) and every non-zero reward.
 */
export function gridMarkers(replay: Replay): ReplayMarker[] {
  const m = gridMeta(replay);
  const D = m.toggles.length;
  const state = replay.columns.toggle ?? [];
  const out: ReplayMarker[] = [];
  for (let t = 0; t < replay.steps && D > 0; t++) {
    for (let g = 0; g < D; g++) {
      if (state[t * D + g] !== 1 && state[(t + 1) * D + g] === 1) out.push({ step: t, frame: t + 1, agent: -1, kind: 'door', label: `${m.toggles[g].name} opened` });
    }
  }
  return [...out, ...genericMarkers(replay)].sort((a, b) => a.frame - b.frame);
}
