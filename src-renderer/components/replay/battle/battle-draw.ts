/**
 * Drawing one battle frame on a 2-D canvas, and the battle's timeline moments.
 *
 * Why this shape: at 256 vs 256 a frame has up to 512 units and a few hundred attack lines.
 * Changing fillStyle/globalAlpha per unit and stroking each attack on its own made every frame
 * hundreds of canvas state changes and draw calls; here a frame is a fixed handful: units are
 * binned by army and by hit points into HP_LEVELS shades and each bin is one path of
 * rectangles filled once, and each army's attacks are one path stroked once. Columns are read
 * in place (no per-unit objects). Hit points are shown in HP_LEVELS steps of brightness, which
 * the eye could not tell apart more finely at a few pixels per cell anyway.
 */
import type { Replay } from '../../../../src-shared/envs/types';
import type { ReplayMarker } from '../markers';
import type { BattleMeta } from './battle-read';

export const HP_LEVELS = 4;

export interface BattleTheme {
  floor: string;
  wall: string;
}

/** Shade bin of a unit from its recorded hp x 10 (>= 0 while alive). */
export function hpLevel(hp10: number, maxHp: number): number {
  const f = Math.max(0, Math.min(1, hp10 / (10 * maxHp)));
  return Math.min(HP_LEVELS - 1, Math.floor(f * HP_LEVELS));
}

/** Fill opacity of a shade bin: its bin's mid-point on the old 0.3 + 0.7 hp scale. */
export function levelAlpha(level: number): number {
  return 0.3 + 0.7 * ((level + 0.5) / HP_LEVELS);
}

/** Canvas calls a frame makes, counted by the tests (paths filled or stroked). */
export interface DrawCount {
  fills: number;
  strokes: number;
}

/** Draw frame f into a view x view canvas (ctx already scaled to CSS pixels). */
export function drawBattle(ctx: CanvasRenderingContext2D, r: Replay, m: BattleMeta, f: number, view: number, theme: BattleTheme): DrawCount {
  const S = m.mapSize;
  const cell = view / S;
  const K = m.armySize;
  const N = 2 * K;
  const { x, y, hp10, action } = r.columns;
  const count: DrawCount = { fills: 0, strokes: 0 };
  ctx.globalAlpha = 1;
  ctx.fillStyle = theme.floor;
  ctx.fillRect(0, 0, view, view);
  ctx.fillStyle = theme.wall;
  ctx.fillRect(0, 0, view, cell);
  ctx.fillRect(0, view - cell, view, cell);
  ctx.fillRect(0, 0, cell, view);
  ctx.fillRect(view - cell, 0, cell, view);
  const side = Math.max(1, cell - 1);
  const o = f * N;
  for (let team = 0; team < 2; team++) {
    ctx.fillStyle = m.teamColors[team];
    for (let level = 0; level < HP_LEVELS; level++) {
      ctx.beginPath();
      let any = false;
      for (let i = team * K; i < (team + 1) * K; i++) {
        const h = hp10[o + i];
        if (h === undefined || h < 0 || hpLevel(h, m.maxHp) !== level) continue;
        ctx.rect(x[o + i] * cell + 0.5, y[o + i] * cell + 0.5, side, side);
        any = true;
      }
      if (!any) continue;
      ctx.globalAlpha = levelAlpha(level);
      ctx.fill();
      count.fills++;
    }
  }
  ctx.globalAlpha = 1;
  if (f < 1 || !action) return count;
  // Attacks of the step that led to frame f, from the attacker's cell at frame f - 1.
  const t = (f - 1) * N;
  ctx.lineWidth = Math.max(1, cell / 5);
  for (let team = 0; team < 2; team++) {
    ctx.strokeStyle = m.teamColors[team];
    ctx.beginPath();
    let any = false;
    for (let i = team * K; i < (team + 1) * K; i++) {
      if (!(hp10[t + i] >= 0)) continue;
      const off = m.attacks[action[t + i] - m.numMoves];
      if (!off) continue;
      const x0 = (x[t + i] + 0.5) * cell;
      const y0 = (y[t + i] + 0.5) * cell;
      ctx.moveTo(x0, y0);
      ctx.lineTo(x0 + off[0] * cell, y0 + off[1] * cell);
      any = true;
    }
    if (!any) continue;
    ctx.stroke();
    count.strokes++;
  }
  return count;
}

/**
 * Timeline moments of a battle: one marker per step in which units died (not the generic
 * reward markers: every living unit's -0.005 per step would put N x steps buttons, ~50,000 at
 * 256 vs 256, into the timeline's DOM). The marker's agent is the step's first casualty, so it
 * takes that army's colour.
 */
export function battleMarkers(r: Replay, m: BattleMeta): ReplayMarker[] {
  const N = 2 * m.armySize;
  const hp = r.columns.hp10;
  if (!hp) return [];
  const out: ReplayMarker[] = [];
  for (let t = 0; t < r.steps; t++) {
    let first = -1;
    const dead = [0, 0];
    for (let i = 0; i < N; i++) {
      if (hp[t * N + i] >= 0 && hp[(t + 1) * N + i] < 0) {
        if (first < 0) first = i;
        dead[i < m.armySize ? 0 : 1]++;
      }
    }
    if (first < 0) continue;
    out.push({ step: t, frame: t + 1, agent: first, kind: 'kill', value: dead[0] + dead[1], label: `${dead[0]} red, ${dead[1]} blue killed` });
  }
  return out;
}
