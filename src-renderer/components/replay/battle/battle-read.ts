/**
 * Reading a battle replay (src-shared/envs/battle.ts): `x`, `y`, `hp10` columns of
 * (steps+1)*N values (hp x 10, -1 once dead), the generic `action` column (steps*N), and
 * `meta` { mapSize, armySize, maxHp, teamColors, moves, attacks }. Agents 0..K-1 are the
 * first army.
 */
import type { Replay } from '../../../../src-shared/envs/types';

export interface BattleMeta {
  mapSize: number;
  armySize: number;
  maxHp: number;
  teamColors: [string, string];
  /** Attack offsets (dx, dy) for action indices moves.length + k. */
  attacks: [number, number][];
  numMoves: number;
}

export function isBattleReplay(r: Replay): boolean {
  const m = r.meta as Record<string, unknown>;
  return typeof m.mapSize === 'number' && typeof m.armySize === 'number' && Array.isArray(r.columns.hp10) && Array.isArray(r.columns.x);
}

export function battleMeta(r: Replay): BattleMeta {
  const m = r.meta as Record<string, unknown>;
  const colors = Array.isArray(m.teamColors) ? (m.teamColors as string[]) : [];
  return {
    mapSize: Number(m.mapSize),
    armySize: Number(m.armySize),
    maxHp: Number(m.maxHp ?? 10),
    teamColors: [colors[0] ?? '#c0392b', colors[1] ?? '#2c6fbb'],
    attacks: (Array.isArray(m.attacks) ? m.attacks : []) as [number, number][],
    numMoves: Array.isArray(m.moves) ? (m.moves as unknown[]).length : 13,
  };
}

export interface BattleUnitView {
  x: number;
  y: number;
  /** hp / maxHp in [0, 1]. */
  hp: number;
  team: 0 | 1;
}

/** Alive units at frame f. */
export function unitsAt(r: Replay, m: BattleMeta, f: number): BattleUnitView[] {
  const N = 2 * m.armySize;
  const out: BattleUnitView[] = [];
  const { x, y, hp10 } = r.columns;
  for (let i = 0; i < N; i++) {
    const h = hp10[f * N + i];
    if (h === undefined || h < 0) continue;
    out.push({ x: x[f * N + i], y: y[f * N + i], hp: h / (10 * m.maxHp), team: i < m.armySize ? 0 : 1 });
  }
  return out;
}

/** Attacks of the step that led to frame f (f >= 1): attacker cell to target cell, with the attacker's team. */
export function attacksInto(r: Replay, m: BattleMeta, f: number): { x0: number; y0: number; x1: number; y1: number; team: 0 | 1 }[] {
  if (f < 1) return [];
  const N = 2 * m.armySize;
  const t = f - 1;
  const { x, y, hp10, action } = r.columns;
  const out: { x0: number; y0: number; x1: number; y1: number; team: 0 | 1 }[] = [];
  for (let i = 0; i < N; i++) {
    if (hp10[t * N + i] < 0) continue;
    const a = action[t * N + i] - m.numMoves;
    const off = m.attacks[a];
    if (a < 0 || !off) continue;
    const x0 = x[t * N + i];
    const y0 = y[t * N + i];
    out.push({ x0, y0, x1: x0 + off[0], y1: y0 + off[1], team: i < m.armySize ? 0 : 1 });
  }
  return out;
}

/** Alive counts per army at frame f. */
export function aliveAt(r: Replay, m: BattleMeta, f: number): [number, number] {
  const N = 2 * m.armySize;
  const c: [number, number] = [0, 0];
  for (let i = 0; i < N; i++) if (r.columns.hp10[f * N + i] >= 0) c[i < m.armySize ? 0 : 1]++;
  return c;
}
