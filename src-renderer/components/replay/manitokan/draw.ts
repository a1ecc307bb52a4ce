/**
 * Drawing one Manitokan frame on a 2D canvas from the replay columns (layout documented in
 * src-shared/envs/manitokan-replay.ts): floor and border walls, each agent's 3x3 view region
 * (cells it sees tinted in its colour, occluded ones faintly), doors in their owner's colour
 * (an opened door leaves a dashed outline), the key, and agents as triangles pointing along
 * their heading, the carrier wearing a key badge.
 */
import type { Replay } from '../../../../src-shared/envs/types';
import type { ManitokanReplayMeta } from '../../../../src-shared/envs/manitokan-replay';
import { EVENT_BITS } from '../../../../src-shared/envs/manitokan-replay';
import { VIEW_CELLS, VIEW_DX, VIEW_DY } from '../../../../src-shared/envs/manitokan-observe';

/** Agent / door colours by index (purple, yellow, orange, cyan), as the env names them. */
export const AGENT_COLORS = ['#8b5cf6', '#e3b008', '#f07c1e', '#15b8cf'];
export const KEY_COLOR = '#2f6fde';
export const COLOR_BY_NAME: Record<string, string> = {
  red: '#e04848',
  green: '#3aa55d',
  blue: KEY_COLOR,
  purple: AGENT_COLORS[0],
  yellow: AGENT_COLORS[1],
  grey: '#8a8f99',
  orange: AGENT_COLORS[2],
  cyan: AGENT_COLORS[3],
  magenta: '#d0459e',
};

export function agentColor(meta: Partial<ManitokanReplayMeta>, i: number): string {
  const name = meta.doorColors?.[i];
  return (name && COLOR_BY_NAME[name]) || AGENT_COLORS[i % AGENT_COLORS.length];
}

export interface FrameState {
  agents: { x: number; y: number; dir: number }[];
  carrier: number;
  key: { x: number; y: number } | null;
  doorOpen: boolean[];
  /** view[i][k]: code of agent i's view cell k (0 = unseen). */
  view: number[][];
  /** Event bits of the step that led to this frame (per agent), 0 at frame 0. */
  events: number[];
}

/** The state at frame f (0..steps), read from the columns. */
export function frameState(replay: Replay, f: number): FrameState {
  const meta = replay.meta as unknown as ManitokanReplayMeta;
  const c = replay.columns;
  const N = meta.numAgents;
  const agents = [];
  const doorOpen = [];
  const view: number[][] = [];
  const events: number[] = [];
  for (let i = 0; i < N; i++) {
    agents.push({ x: c.agent_x[f * N + i], y: c.agent_y[f * N + i], dir: c.agent_dir[f * N + i] });
    doorOpen.push(!!c.door_open?.[f * N + i]);
    const base = (f * N + i) * VIEW_CELLS;
    view.push(c.view ? c.view.slice(base, base + VIEW_CELLS) : []);
    events.push(f > 0 ? (c.event?.[(f - 1) * N + i] ?? 0) : 0);
  }
  const kx = c.key_x?.[f] ?? -1;
  const ky = c.key_y?.[f] ?? -1;
  return { agents, carrier: c.carrier?.[f] ?? -1, key: kx >= 0 && ky >= 0 ? { x: kx, y: ky } : null, doorOpen, view, events };
}

export interface DrawTheme {
  floor: string;
  grid: string;
  wall: string;
  text: string;
}

/** Cell size and offsets that fit the grid into w x h CSS pixels. */
export function layout(meta: { width: number; height: number }, w: number, h: number): { cell: number; ox: number; oy: number } {
  const cell = Math.max(4, Math.floor(Math.min(w / meta.width, h / meta.height)));
  return { cell, ox: Math.floor((w - cell * meta.width) / 2), oy: Math.floor((h - cell * meta.height) / 2) };
}

function keyGlyph(ctx: CanvasRenderingContext2D, cx: number, cy: number, s: number, color: string): void {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = Math.max(1.5, s * 0.12);
  ctx.lineCap = 'round';
  const r = s * 0.2;
  ctx.beginPath();
  ctx.arc(cx - s * 0.18, cy, r, 0, Math.PI * 2);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(cx - s * 0.18 + r, cy);
  ctx.lineTo(cx + s * 0.34, cy);
  ctx.moveTo(cx + s * 0.2, cy);
  ctx.lineTo(cx + s * 0.2, cy + s * 0.16);
  ctx.moveTo(cx + s * 0.32, cy);
  ctx.lineTo(cx + s * 0.32, cy + s * 0.12);
  ctx.stroke();
  ctx.restore();
}

export function drawFrame(ctx: CanvasRenderingContext2D, replay: Replay, f: number, w: number, h: number, theme: DrawTheme): void {
  const meta = replay.meta as unknown as ManitokanReplayMeta;
  const st = frameState(replay, f);
  const { cell, ox, oy } = layout(meta, w, h);
  const X = (x: number) => ox + x * cell;
  const Y = (y: number) => oy + y * cell;
  ctx.clearRect(0, 0, w, h);

  // Floor and grid.
  ctx.fillStyle = theme.floor;
  ctx.fillRect(X(0), Y(0), cell * meta.width, cell * meta.height);
  ctx.strokeStyle = theme.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = 0; x <= meta.width; x++) {
    ctx.moveTo(X(x) + 0.5, Y(0));
    ctx.lineTo(X(x) + 0.5, Y(meta.height));
  }
  for (let y = 0; y <= meta.height; y++) {
    ctx.moveTo(X(0), Y(y) + 0.5);
    ctx.lineTo(X(meta.width), Y(y) + 0.5);
  }
  ctx.stroke();

  // Walls: the outer ring (Manitokan has no interior walls).
  ctx.fillStyle = theme.wall;
  for (let x = 0; x < meta.width; x++) {
    for (let y = 0; y < meta.height; y++) {
      if (x === 0 || y === 0 || x === meta.width - 1 || y === meta.height - 1) ctx.fillRect(X(x), Y(y), cell, cell);
    }
  }

  // View regions: seen cells tinted, occluded cells barely.
  st.agents.forEach((a, i) => {
    const color = agentColor(meta, i);
    for (let k = 0; k < VIEW_CELLS; k++) {
      const wx = a.x + VIEW_DX[a.dir * VIEW_CELLS + k];
      const wy = a.y + VIEW_DY[a.dir * VIEW_CELLS + k];
      if (wx < 0 || wy < 0 || wx >= meta.width || wy >= meta.height) continue;
      const seen = st.view[i].length ? st.view[i][k] !== 0 : true;
      ctx.globalAlpha = seen ? 0.2 : 0.06;
      ctx.fillStyle = color;
      ctx.fillRect(X(wx) + 1, Y(wy) + 1, cell - 1, cell - 1);
    }
    ctx.globalAlpha = 1;
  });

  // Doors.
  for (const d of meta.doors) {
    const color = agentColor(meta, d.owner);
    const pad = Math.max(2, cell * 0.08);
    if (!st.doorOpen[d.owner]) {
      ctx.fillStyle = color;
      ctx.fillRect(X(d.x) + pad, Y(d.y) + pad, cell - 2 * pad, cell - 2 * pad);
      ctx.strokeStyle = 'rgba(0,0,0,0.35)';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(X(d.x) + pad, Y(d.y) + pad, cell - 2 * pad, cell - 2 * pad);
      // Keyhole.
      ctx.fillStyle = 'rgba(0,0,0,0.45)';
      ctx.beginPath();
      ctx.arc(X(d.x) + cell / 2, Y(d.y) + cell * 0.44, cell * 0.08, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillRect(X(d.x) + cell / 2 - cell * 0.035, Y(d.y) + cell * 0.44, cell * 0.07, cell * 0.18);
    } else {
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.strokeRect(X(d.x) + pad, Y(d.y) + pad, cell - 2 * pad, cell - 2 * pad);
      ctx.setLineDash([]);
    }
  }

  // The key on the floor (with a halo the frame after a drop: the gift).
  if (st.key) {
    const dropped = st.events.some((e) => e & EVENT_BITS.drop);
    if (dropped) {
      ctx.strokeStyle = KEY_COLOR;
      ctx.globalAlpha = 0.55;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(X(st.key.x) + cell / 2, Y(st.key.y) + cell / 2, cell * 0.46, 0, Math.PI * 2);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    keyGlyph(ctx, X(st.key.x) + cell / 2, Y(st.key.y) + cell / 2, cell, KEY_COLOR);
  }

  // Agents: triangles pointing along the heading (0 right, 1 down, 2 left, 3 up).
  st.agents.forEach((a, i) => {
    const color = agentColor(meta, i);
    const cx = X(a.x) + cell / 2;
    const cy = Y(a.y) + cell / 2;
    const ang = (a.dir * Math.PI) / 2;
    const r = cell * 0.36;
    ctx.save();
    ctx.translate(cx, cy);
    ctx.rotate(ang);
    ctx.beginPath();
    ctx.moveTo(r, 0);
    ctx.lineTo(-r * 0.75, -r * 0.8);
    ctx.lineTo(-r * 0.45, 0);
    ctx.lineTo(-r * 0.75, r * 0.8);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = 'rgba(0,0,0,0.45)';
    ctx.stroke();
    ctx.restore();
    // Index label.
    ctx.fillStyle = theme.text;
    ctx.font = `600 ${Math.max(9, Math.round(cell * 0.24))}px system-ui, sans-serif`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(String(i), X(a.x) + 2, Y(a.y) + 1);
    if (st.carrier === i) {
      // Badge: a blue disc with a key, top-right of the cell.
      const bx = X(a.x) + cell * 0.78;
      const by = Y(a.y) + cell * 0.22;
      ctx.fillStyle = '#ffffff';
      ctx.beginPath();
      ctx.arc(bx, by, cell * 0.2, 0, Math.PI * 2);
      ctx.fill();
      ctx.strokeStyle = KEY_COLOR;
      ctx.lineWidth = 1.5;
      ctx.stroke();
      keyGlyph(ctx, bx, by, cell * 0.36, KEY_COLOR);
    }
  });
}
