/**
 * Reading a 2-D world replay (every particle env; layout in src-shared/envs/particle-world.ts):
 * `pos`/`vel` columns of (steps+1)*E*2 values (entities: agents first, then landmarks), an
 * optional `comm` column of (steps+1)*N*dimC, and `meta.entities[e] = { name, kind, size,
 * color [r, g, b] in 0..1 }`.
 * Optional, declared by the env (never inferred from its id): `entities[e].viewRadius` (a disc
 * the entity sees within, drawn around it), `entities[e].trail` (draw its path even when it is
 * a landmark, e.g. a scripted prey), `meta.arena` (half-width of walls at +-arena: drawn, and
 * the camera holds them) and a `present` column of (steps+1)*E flags (0: the entity has left
 * the scene at that frame and is not drawn).
 */
import type { Replay } from '../../../../src-shared/envs/types';

export interface WorldEntity {
  name: string;
  kind: 'agent' | 'landmark';
  size: number;
  color: string;
  /** Radius of the entity's view disc, 0 when it declares none. */
  viewRadius: number;
  /** Whether its trail is drawn (agents always). */
  trail: boolean;
}

interface EntityMeta {
  name?: unknown;
  kind?: unknown;
  size?: unknown;
  color?: unknown;
  viewRadius?: unknown;
  trail?: unknown;
}

/** CSS colour from an env's [r, g, b] in 0..1 (or a CSS string as is). */
export function cssColor(c: unknown, fallback: string): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length >= 3) {
    const [r, g, b] = c.map((v) => Math.round(Math.max(0, Math.min(1, Number(v))) * 255));
    return `rgb(${r}, ${g}, ${b})`;
  }
  return fallback;
}

export function worldEntities(replay: Replay): WorldEntity[] {
  const list = ((replay.meta as { entities?: EntityMeta[] }).entities ?? []) as EntityMeta[];
  return list.map((e, i) => ({
    name: typeof e.name === 'string' ? e.name : `entity ${i}`,
    kind: e.kind === 'landmark' ? 'landmark' : 'agent',
    size: typeof e.size === 'number' && e.size > 0 ? e.size : 0.05,
    color: cssColor(e.color, e.kind === 'landmark' ? '#999999' : '#4e79a7'),
    viewRadius: typeof e.viewRadius === 'number' && e.viewRadius > 0 ? e.viewRadius : 0,
    trail: e.kind !== 'landmark' || e.trail === true,
  }));
}

/** Whether entity e is in the scene at frame f (the optional `present` column; default yes). */
export function isPresent(replay: Replay, E: number, f: number, e: number): boolean {
  const c = replay.columns.present;
  if (!c) return true;
  return c[Math.min(f, replay.steps) * E + e] !== 0;
}

/** Half-width of the arena's walls, when the env declares them. */
export function arenaHalfWidth(replay: Replay): number | null {
  const a = (replay.meta as { arena?: unknown }).arena;
  return typeof a === 'number' && a > 0 ? a : null;
}

/** True when a replay has what the 2-D world view draws (entities with positions). */
export function isWorldReplay(replay: Replay): boolean {
  return Array.isArray((replay.meta as { entities?: unknown }).entities) && Array.isArray(replay.columns.pos);
}

/** Entity e's (x, y) at frame f; also for `vel`. */
export function entityXY(replay: Replay, column: 'pos' | 'vel', E: number, f: number, e: number): [number, number] {
  const c = replay.columns[column] ?? [];
  const k = (Math.min(f, replay.steps) * E + e) * 2;
  return [c[k] ?? 0, c[k + 1] ?? 0];
}

/** Agent i's communication vector at frame f, or null when the env records no channel. */
export function messageAt(replay: Replay, N: number, f: number, i: number): number[] | null {
  const c = replay.columns.comm;
  if (!c || N === 0) return null;
  const dim = Math.round(c.length / ((replay.steps + 1) * N));
  if (dim <= 0) return null;
  const k = (Math.min(f, replay.steps) * N + i) * dim;
  return c.slice(k, k + dim);
}

/** A square box holding every entity over the whole episode (so the camera does not jump). */
export function worldBounds(replay: Replay, entities: readonly WorldEntity[]): { x0: number; y0: number; size: number } {
  const E = entities.length;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const arena = arenaHalfWidth(replay);
  if (arena !== null) {
    x0 = y0 = -arena;
    x1 = y1 = arena;
  }
  for (let f = 0; f <= replay.steps; f++) {
    for (let e = 0; e < E; e++) {
      if (!isPresent(replay, E, f, e)) continue;
      const [x, y] = entityXY(replay, 'pos', E, f, e);
      const r = entities[e].size;
      x0 = Math.min(x0, x - r);
      y0 = Math.min(y0, y - r);
      x1 = Math.max(x1, x + r);
      y1 = Math.max(y1, y + r);
    }
  }
  if (!Number.isFinite(x0)) return { x0: -1, y0: -1, size: 2 };
  const size = Math.max(x1 - x0, y1 - y0, 0.5) * 1.1;
  return { x0: (x0 + x1) / 2 - size / 2, y0: (y0 + y1) / 2 - size / 2, size };
}
