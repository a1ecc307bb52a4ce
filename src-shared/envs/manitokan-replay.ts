/**
 * Manitokan replays: the per-episode recorder the env fills while recording is on, and
 * `replayObservation`, which rebuilds any agent's exact observation row from the columns.
 *
 * Frames t = 0..steps (t = 0 is the reset state, frame t+1 the state after step t); step
 * columns t = 0..steps-1. N = numAgents. All columns are flat number arrays:
 *
 * | column      | length            | index           | meaning                                              |
 * |-------------|-------------------|-----------------|------------------------------------------------------|
 * | agent_x     | (steps+1)*N       | t*N + i         | agent i's cell x (column; +x is right)               |
 * | agent_y     | (steps+1)*N       | t*N + i         | agent i's cell y (row; +y is down)                   |
 * | agent_dir   | (steps+1)*N       | t*N + i         | heading: 0 right, 1 down, 2 left, 3 up               |
 * | carrier     | steps+1           | t               | agent carrying the key, -1 none                      |
 * | key_x/key_y | steps+1           | t               | key cell, -1 while carried                           |
 * | door_open   | (steps+1)*N       | t*N + i         | 1 once door i has been opened (it is then gone)      |
 * | view        | (steps+1)*N*9     | (t*N + i)*9 + k | agent i's 3x3 view as codes (meta.viewCodes), k = vx*3+vy |
 * | action      | steps*N           | t*N + i         | action agent i chose at step t                       |
 * | reward      | steps*N           | t*N + i         | reward agent i received at step t                    |
 * | event       | steps*N           | t*N + i         | bits (meta.eventBits): 1 picked up the key, 2 dropped it on the floor, 4 opened its door, 8 action had no effect |
 *
 * The `view` codes (0 unseen, 1 empty, 2 wall, 3 key, 4+i door of agent i, 4+N+4j+d agent j
 * facing d) decode through `meta.viewCodes` to the observation triples; with the door/key flags
 * (from `door_open`, `carrier`) and the last-action one-hot (from `action` of the previous step)
 * they rebuild the observation exactly (`replayObservation`). The raw observation values are not
 * stored: they would take ~4x the space (a 150-step episode stays near 12 KB of JSON this way).
 *
 * `meta`: width, height, numAgents, walls ('border': the outer ring is the only wall; there are
 * no interior walls), doors [{x, y, owner}] at the episode start, doorColors (names),
 * doorColorIdx, keyColor, actionNames, agentOrder (this episode's resolution order), obsSize,
 * envObsSize, obsLayout {view, doorFlag, keyFlag, lastAction}, showOtherAgents, viewCodes,
 * eventBits, individualReward (per agent), episodeLimit, end ('terminated' | 'truncated').
 */
import type { Replay } from './types';
import {
  DOOR_FLAG_CLOSED,
  DOOR_FLAG_OPEN,
  KEY_FLAG_CARRYING,
  KEY_FLAG_EMPTY,
  VIEW_CELLS,
  VIEW_SIZE,
} from './manitokan-observe';

export const EVENT_PICKUP = 1;
export const EVENT_DROP = 2;
export const EVENT_DOOR_OPENED = 4;
export const EVENT_NO_EFFECT = 8;
export const EVENT_BITS = { pickup: EVENT_PICKUP, drop: EVENT_DROP, doorOpened: EVENT_DOOR_OPENED, noEffect: EVENT_NO_EFFECT } as const;

export interface ManitokanReplayMeta {
  width: number;
  height: number;
  numAgents: number;
  walls: 'border';
  doors: { x: number; y: number; owner: number }[];
  doorColors: string[];
  doorColorIdx: number[];
  keyColor: string;
  actionNames: string[];
  agentOrder: number[];
  obsSize: number;
  envObsSize: number;
  obsLayout: { view: number; doorFlag: boolean; keyFlag: boolean; lastAction: boolean };
  showOtherAgents: boolean;
  viewCodes: number[][];
  eventBits: typeof EVENT_BITS;
  individualReward: number[];
  episodeLimit: number;
  end?: 'terminated' | 'truncated';
}

/** Rebuild agent i's observation row at frame t (0..steps) from a Manitokan replay. */
export function replayObservation(replay: Replay, t: number, i: number): Float32Array {
  const meta = replay.meta as unknown as ManitokanReplayMeta;
  const c = replay.columns;
  const N = meta.numAgents;
  if (t < 0 || t > replay.steps || i < 0 || i >= N) throw new Error(`replayObservation: frame ${t}, agent ${i} out of range`);
  const out = new Float32Array(meta.obsSize);
  const base = (t * N + i) * VIEW_CELLS;
  for (let k = 0; k < VIEW_CELLS; k++) {
    const triple = meta.viewCodes[c.view[base + k]];
    out[k * 3] = triple[0];
    out[k * 3 + 1] = triple[1];
    out[k * 3 + 2] = triple[2];
  }
  let off = VIEW_SIZE;
  if (meta.obsLayout.doorFlag) {
    out.fill(c.door_open[t * N + i] ? DOOR_FLAG_OPEN : DOOR_FLAG_CLOSED, off, off + 3);
    off += 3;
  }
  if (meta.obsLayout.keyFlag) {
    out.fill(c.carrier[t] === i ? KEY_FLAG_CARRYING : KEY_FLAG_EMPTY, off, off + 3);
    off += 3;
  }
  if (meta.obsLayout.lastAction && t > 0) out[off + c.action[(t - 1) * N + i]] = 1;
  return out;
}
