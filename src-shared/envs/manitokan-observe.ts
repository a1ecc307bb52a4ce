/**
 * Manitokan observation tables: cell codes, the MiniGrid encoding, the 3x3 egocentric view
 * geometry and the occlusion rule, all precomputed once so the env's hot path is table lookups.
 *
 * Grid cells are stored as small codes (see `CELL_*`); `CELL_ENC` maps a code to the MiniGrid
 * triple (object index, colour index, state) of environments.md §1.5/§2. Agents are not grid
 * objects: they are drawn over the view afterwards (when `showOtherAgents` is on).
 *
 * View geometry (spec §1.5): view cell (vx, vy), vx, vy in {0,1,2}, shows world cell
 * `pos + f*(2 - vy) + r*(vx - 1)` with f the direction vector and r = (-fy, fx) the right vector;
 * the agent sits at (1, 2). The observation is flattened `obs[(vx*3 + vy)*3 + c]`, so view index
 * k = vx*3 + vy and the agent's own cell is k = 5 (values 15..17).
 */

/** Cell codes of the grid arrays. Doors are `CELL_DOOR0 + owner`; an opened door is removed. */
export const CELL_EMPTY = 0;
export const CELL_WALL = 1;
export const CELL_KEY = 2;
export const CELL_DOOR0 = 3;
/** Most agents supported (four door colours). */
export const MAX_AGENTS = 4;

/** MiniGrid OBJECT_TO_IDX (Manitokan's copy). */
export const OBJ = { unseen: 0, empty: 1, wall: 2, floor: 3, door: 4, key: 5, ball: 6, box: 7, goal: 8, lava: 9, agent: 10 } as const;
/** Manitokan's COLOR_TO_IDX (MiniGrid's six plus orange, cyan, magenta). */
export const COLOR = { red: 0, green: 1, blue: 2, purple: 3, yellow: 4, grey: 5, orange: 6, cyan: 7, magenta: 8 } as const;
/** Door state indices (STATE_TO_IDX). */
export const DOOR_STATE = { open: 0, closed: 1, locked: 2 } as const;

/** Door i (and agent i, when agents are drawn) has colour `DOOR_COLOR_NAMES[i]`. */
export const DOOR_COLOR_NAMES = ['purple', 'yellow', 'orange', 'cyan'] as const;
export const DOOR_COLOR_IDX: readonly number[] = DOOR_COLOR_NAMES.map((c) => COLOR[c]);
export const KEY_COLOR_NAME = 'blue';

export const ACTION_NAMES = ['left', 'right', 'forward', 'pickup', 'drop', 'toggle'] as const;
export const NUM_ACTIONS = 6;
export const A_LEFT = 0;
export const A_RIGHT = 1;
export const A_FORWARD = 2;
export const A_PICKUP = 3;
export const A_DROP = 4;
export const A_TOGGLE = 5;

/** Extra observation values from the released code (`completion_signal`, `key_signal`). */
export const DOOR_FLAG_OPEN = 23;
export const DOOR_FLAG_CLOSED = 37;
export const KEY_FLAG_CARRYING = 53;
export const KEY_FLAG_EMPTY = 59;

/** Direction vectors: 0 right (+x), 1 down (+y), 2 left (-x), 3 up (-y). */
export const DIR_DX = Int32Array.of(1, 0, -1, 0);
export const DIR_DY = Int32Array.of(0, 1, 0, -1);

export const VIEW_CELLS = 9;
export const VIEW_SIZE = VIEW_CELLS * 3;
/** View index of the agent's own cell (vx = 1, vy = 2). */
export const VIEW_SELF = 5;

/** Number of cell codes in use (walls, empty, key, four doors). */
const NUM_CODES = CELL_DOOR0 + MAX_AGENTS;

/** `CELL_ENC[code*3 + c]`: MiniGrid encoding of a visible cell with that code. */
export const CELL_ENC: Float32Array = (() => {
  const t = new Float32Array(NUM_CODES * 3);
  const put = (code: number, o: number, c: number, s: number) => {
    t[code * 3] = o;
    t[code * 3 + 1] = c;
    t[code * 3 + 2] = s;
  };
  put(CELL_EMPTY, OBJ.empty, 0, 0);
  put(CELL_WALL, OBJ.wall, COLOR.grey, 0);
  put(CELL_KEY, OBJ.key, COLOR.blue, 0);
  for (let i = 0; i < MAX_AGENTS; i++) put(CELL_DOOR0 + i, OBJ.door, DOOR_COLOR_IDX[i], DOOR_STATE.locked);
  return t;
})();

/** 1 where light passes (MiniGrid `see_behind`): empty and key yes; walls and locked doors no. */
export const CELL_SEE_THROUGH: Uint8Array = (() => {
  const t = new Uint8Array(NUM_CODES);
  t[CELL_EMPTY] = 1;
  t[CELL_KEY] = 1;
  return t;
})();

/**
 * `VIEW_DX[d*9 + k]`, `VIEW_DY[d*9 + k]`: world offset of view index k = vx*3 + vy for an agent
 * facing d.
 */
export const VIEW_DX = new Int32Array(4 * VIEW_CELLS);
export const VIEW_DY = new Int32Array(4 * VIEW_CELLS);
for (let d = 0; d < 4; d++) {
  const fx = DIR_DX[d];
  const fy = DIR_DY[d];
  const rx = -fy;
  const ry = fx;
  for (let vx = 0; vx < 3; vx++) {
    for (let vy = 0; vy < 3; vy++) {
      const k = vx * 3 + vy;
      VIEW_DX[d * VIEW_CELLS + k] = fx * (2 - vy) + rx * (vx - 1);
      VIEW_DY[d * VIEW_CELLS + k] = fy * (2 - vy) + ry * (vx - 1);
    }
  }
}

/**
 * MiniGrid's `process_vis` on the 3x3 view, written out literally. `seeThrough` has bit k set
 * when view cell k (= vx*3 + vy) lets light through; returns the visibility mask as bits.
 * Kept as the reference implementation behind `VIS_TABLE` (and tested against it).
 */
export function processVis(seeThrough: number): number {
  const mask = [false, false, false, false, false, false, false, false, false];
  const at = (i: number, j: number) => i * 3 + j;
  const see = (i: number, j: number) => ((seeThrough >> at(i, j)) & 1) === 1;
  mask[at(1, 2)] = true;
  for (let j = 2; j >= 0; j--) {
    for (let i = 0; i <= 1; i++) {
      if (!mask[at(i, j)] || !see(i, j)) continue;
      mask[at(i + 1, j)] = true;
      if (j > 0) {
        mask[at(i + 1, j - 1)] = true;
        mask[at(i, j - 1)] = true;
      }
    }
    for (let i = 2; i >= 1; i--) {
      if (!mask[at(i, j)] || !see(i, j)) continue;
      mask[at(i - 1, j)] = true;
      if (j > 0) {
        mask[at(i - 1, j - 1)] = true;
        mask[at(i, j - 1)] = true;
      }
    }
  }
  let bits = 0;
  for (let k = 0; k < 9; k++) if (mask[k]) bits |= 1 << k;
  return bits;
}

/** `VIS_TABLE[seeThroughBits]` = `processVis(seeThroughBits)` for all 512 patterns. */
export const VIS_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(512);
  for (let s = 0; s < 512; s++) t[s] = processVis(s);
  return t;
})();

/**
 * Compact per-cell codes for replays (`view` column): one small int per view cell instead of
 * three observation values. 0 unseen, 1 empty, 2 wall, 3 key, 4+i locked door of agent i,
 * 4+N + 4*j + d agent j facing d. `viewCodeTable(N)[code]` gives the [object, colour, state].
 */
export function viewCodeTable(numAgents: number): number[][] {
  const t: number[][] = [
    [OBJ.unseen, 0, 0],
    [OBJ.empty, 0, 0],
    [OBJ.wall, COLOR.grey, 0],
    [OBJ.key, COLOR.blue, 0],
  ];
  for (let i = 0; i < numAgents; i++) t.push([OBJ.door, DOOR_COLOR_IDX[i], DOOR_STATE.locked]);
  for (let j = 0; j < numAgents; j++) for (let d = 0; d < 4; d++) t.push([OBJ.agent, DOOR_COLOR_IDX[j], d]);
  return t;
}

/** Inverse of `viewCodeTable` for one observed triple (throws on a triple the env never emits). */
export function viewCodeOf(numAgents: number, o: number, c: number, s: number): number {
  switch (o) {
    case OBJ.unseen:
      return 0;
    case OBJ.empty:
      return 1;
    case OBJ.wall:
      return 2;
    case OBJ.key:
      return 3;
    case OBJ.door: {
      const owner = DOOR_COLOR_IDX.indexOf(c);
      if (owner >= 0 && owner < numAgents) return 4 + owner;
      break;
    }
    case OBJ.agent: {
      const j = DOOR_COLOR_IDX.indexOf(c);
      if (j >= 0 && j < numAgents) return 4 + numAgents + 4 * j + s;
      break;
    }
  }
  throw new Error(`manitokan: unexpected view triple (${o}, ${c}, ${s})`);
}
