/**
 * The sparse grid tasks' rules on hand-built boards: Push-Box (two-agent pushes, blocked
 * pushes, clamping, scoring and respawn, the code's observation timing, end on reward) and
 * Secret Room (walls and doors, the large-room switch opens every door, a room switch only its
 * own, doors closing after doorOpenSteps, success and termination, both observation forms).
 */
import { describe, expect, it } from 'vitest';
import { pushBoxEntry } from '../../src-shared/envs/push-box';
import { secretRoomBoard, secretRoomEntry } from '../../src-shared/envs/secret-room';
import type { VecEnv } from '../../src-shared/envs/types';

type Saved = Record<string, number[]>;

/** Overwrite copy b's saved fields (arrays of per-copy values, `stride` values each). */
function set(env: VecEnv, b: number, fields: Record<string, number[]>): void {
  const s = env.getState() as Saved;
  for (const [k, v] of Object.entries(fields)) v.forEach((x, j) => (s[k][b * v.length + j] = x));
  env.setState(s);
}
const get = (env: VecEnv, k: string) => (env.getState() as Saved)[k];

/** Hot indices of a one-hot observation row split into blocks of `size`. */
function hot(env: VecEnv, b: number, i: number, size: number): number[] {
  const O = env.spec.obsSize;
  const row = env.obs.subarray((b * env.spec.numAgents + i) * O, (b * env.spec.numAgents + i + 1) * O);
  const out: number[] = [];
  for (let k = 0; k + size <= env.spec.agents[i].obsSize; k += size) out.push(row.subarray(k, k + size).indexOf(1));
  return out;
}

const UP = 0;
const RIGHT = 1;
const DOWN = 2;
const LEFT = 3;
const STAY = 4;

describe('push-box', () => {
  it('starts both agents at (1, 1) with the box in [4, 12)^2; observation 6 x 15 one-hots, the same for both', () => {
    const env = pushBoxEntry.create({}, { numEnvs: 64 });
    env.reset(3);
    expect(env.spec.obsSize).toBe(90);
    const br = get(env, 'boxRow');
    const bc = get(env, 'boxCol');
    for (let b = 0; b < 64; b++) {
      expect(br[b]).toBeGreaterThanOrEqual(4);
      expect(br[b]).toBeLessThan(12);
      expect(bc[b]).toBeGreaterThanOrEqual(4);
      expect(bc[b]).toBeLessThan(12);
      expect(hot(env, b, 0, 15)).toEqual([1, 1, 1, 1, br[b], bc[b]]);
      expect(hot(env, b, 1, 15)).toEqual(hot(env, b, 0, 15));
    }
  });

  it('one agent cannot move the box; two pushing the same way move it one cell and follow it', () => {
    const env = pushBoxEntry.create({}, { numEnvs: 1 });
    set(env, 0, { agentRow: [5, 6], agentCol: [4, 5], boxRow: [5], boxCol: [5], seenRow: [5], seenCol: [5] });
    env.step(Int32Array.from([RIGHT, STAY])); // agent 0 pushes alone: nothing moves, it stays put
    expect([get(env, 'boxRow')[0], get(env, 'boxCol')[0]]).toEqual([5, 5]);
    expect([get(env, 'agentRow')[0], get(env, 'agentCol')[0]]).toEqual([5, 4]);
    set(env, 0, { agentRow: [5, 5], agentCol: [4, 4] });
    env.step(Int32Array.from([RIGHT, RIGHT]));
    expect([get(env, 'boxRow')[0], get(env, 'boxCol')[0]]).toEqual([5, 6]);
    expect(get(env, 'agentCol')).toEqual([5, 5]);
    expect(hot(env, 0, 0, 15)).toEqual([5, 5, 5, 5, 5, 6]);
    // Pushes in opposite directions along one axis cancel; different axes do not add up.
    set(env, 0, { agentRow: [5, 5], agentCol: [5, 7], boxRow: [5], boxCol: [6] });
    env.step(Int32Array.from([RIGHT, LEFT]));
    expect(get(env, 'boxCol')[0]).toBe(6);
    set(env, 0, { agentRow: [4, 5], agentCol: [6, 5] });
    env.step(Int32Array.from([DOWN, RIGHT]));
    expect([get(env, 'boxRow')[0], get(env, 'boxCol')[0]]).toEqual([5, 6]);
    expect(env.rewards[0]).toBe(0);
  });

  it('pushes work along columns too; agents are clamped into [1, size - 2]', () => {
    const env = pushBoxEntry.create({}, { numEnvs: 1 });
    set(env, 0, { agentRow: [6, 6], agentCol: [5, 5], boxRow: [5], boxCol: [5] });
    env.step(Int32Array.from([UP, UP]));
    expect(get(env, 'boxRow')[0]).toBe(4);
    expect(get(env, 'agentRow')).toEqual([5, 5]);
    set(env, 0, { agentRow: [1, 13], agentCol: [1, 13] });
    env.step(Int32Array.from([UP, RIGHT]));
    expect(get(env, 'agentRow')).toEqual([1, 13]);
    expect(get(env, 'agentCol')).toEqual([1, 13]);
  });

  it('a box pushed into the wall scores 1000 to both and respawns; the episode goes on', () => {
    const env = pushBoxEntry.create({}, { numEnvs: 1 });
    set(env, 0, { agentRow: [2, 2], agentCol: [5, 5], boxRow: [1], boxCol: [5] });
    env.step(Int32Array.from([UP, UP]));
    expect(Array.from(env.rewards)).toEqual([1000, 1000]);
    expect(env.dones[0]).toBe(0);
    const [r, c] = [get(env, 'boxRow')[0], get(env, 'boxCol')[0]];
    expect(r >= 4 && r < 12 && c >= 4 && c < 12).toBe(true);
    expect(hot(env, 0, 0, 15).slice(4)).toEqual([r, c]); // 'current': the respawned box
    expect(get(env, 'agentRow')).toEqual([1, 1]); // the pushers followed into the box's old cell
    for (let t = 1; t < 300; t++) env.step(Int32Array.from([STAY, STAY]));
    const m = env.drainEpisodes()[0].metrics;
    expect(m).toMatchObject({ team_performance: 1000, success: 1, scores: 1, box_moves: 1, episode_length: 300 });
  });

  it("'code' observation shows the box on the wall for the scoring step; endOnReward terminates", () => {
    const env = pushBoxEntry.create({ boxObservation: 'code', endOnReward: true }, { numEnvs: 1, autoReset: false });
    set(env, 0, { agentRow: [5, 5], agentCol: [2, 2], boxRow: [5], boxCol: [1] });
    env.step(Int32Array.from([LEFT, LEFT]));
    expect(hot(env, 0, 0, 15).slice(4)).toEqual([5, 0]);
    expect(env.dones[0]).toBe(1);
    expect(env.truncated[0]).toBe(0);
    expect(env.drainEpisodes()[0].metrics.team_performance).toBe(1000);
  });

  it('the replay draws the ring as the scoring wall and marks where the box hit it', () => {
    const env = pushBoxEntry.create({ episodeLimit: 2 }, { numEnvs: 1 });
    set(env, 0, { agentRow: [2, 2], agentCol: [5, 5], boxRow: [1], boxCol: [5] });
    env.setRecording(0, true); // after setState, which drops a recording in progress
    env.step(Int32Array.from([UP, UP]));
    env.step(Int32Array.from([STAY, STAY]));
    const r = env.drainEpisodes()[0].replay!;
    expect(r.meta).toMatchObject({ renderer: 'grid2d', rows: 15, cols: 15 });
    expect((r.meta.tileMap as number[]).filter((v) => v === 1)).toHaveLength(4 * 14);
    expect(r.columns.object_pos.slice(4, 8).slice(2)).toEqual([0, 5]); // frame 1: the hit marker at the wall
    expect(r.columns.object_pos.slice(8, 12).slice(2)).toEqual([-1, -1]);
  });
});

describe('secret-room', () => {
  const board = secretRoomBoard(25);

  it('the board of the code at size 25: walls, doorways, switches', () => {
    expect([board.cm, board.s3]).toEqual([12, 8]);
    expect(board.doorRows).toEqual([4, 12, 20]);
    expect(board.switches).toEqual([
      [20, 5],
      [4, 20],
      [12, 20],
      [20, 20],
    ]);
    const doorways = [];
    for (let r = 0; r < 25; r++) if (board.doorOf[r * 25 + 12] >= 0) doorways.push([r, board.doorOf[r * 25 + 12]]);
    expect(doorways).toEqual([
      [3, 0],
      [4, 0],
      [11, 1],
      [12, 1],
      [19, 2],
      [20, 2],
    ]);
    expect(board.wall[8 * 25 + 20]).toBe(1);
    expect(board.wall[8 * 25 + 11]).toBe(0);
  });

  it('walls block; the large-room switch opens every door; doors close doorOpenSteps steps after', () => {
    const env = secretRoomEntry.create({ doorOpenSteps: 2 }, { numEnvs: 1 });
    expect(env.spec.obsSize).toBe(103);
    set(env, 0, { agentRow: [4, 0], agentCol: [11, 0] });
    env.step(Int32Array.from([RIGHT, UP])); // into the closed door: stays
    expect(get(env, 'agentCol')[0]).toBe(11);
    set(env, 0, { agentRow: [20, 0], agentCol: [4, 0] });
    env.step(Int32Array.from([RIGHT, UP])); // agent 0 steps on L0 = (20, 5)
    expect(get(env, 'doorOpen')).toEqual([1, 1, 1]);
    expect(hot(env, 0, 0, 25).slice(0, 4)).toEqual([20, 5, 0, 0]);
    expect(Array.from(env.obs.subarray(100, 103))).toEqual([1, 1, 1]);
    // Leave the switch: the doors count 1, 2, then close on the third step.
    env.step(Int32Array.from([LEFT, UP]));
    env.step(Int32Array.from([LEFT, UP]));
    expect(get(env, 'doorOpen')).toEqual([1, 1, 1]);
    env.step(Int32Array.from([LEFT, UP]));
    expect(get(env, 'doorOpen')).toEqual([0, 0, 0]);
    expect(Array.from(env.obs.subarray(100, 103))).toEqual([0, 0, 0]);
    // Through an open doorway: (4, 11) -> (4, 12) -> (4, 13).
    set(env, 0, { agentRow: [4, 0], agentCol: [11, 0], doorOpen: [1, 0, 0], doorCount: [0, 0, 0] });
    env.step(Int32Array.from([RIGHT, UP]));
    env.step(Int32Array.from([RIGHT, UP]));
    expect(get(env, 'agentCol')[0]).toBe(13);
  });

  it("a small room's switch opens only its own door", () => {
    const env = secretRoomEntry.create({}, { numEnvs: 1 });
    set(env, 0, { agentRow: [12, 0], agentCol: [19, 0], doorOpen: [0, 0, 0] });
    env.step(Int32Array.from([RIGHT, UP]));
    expect(get(env, 'doorOpen')).toEqual([0, 1, 0]);
  });

  it('both agents in the target room: 1000 each and the episode terminates; one alone scores nothing', () => {
    const env = secretRoomEntry.create({}, { numEnvs: 1, autoReset: false });
    set(env, 0, { agentRow: [2, 12], agentCol: [14, 14] });
    env.step(Int32Array.from([UP, UP])); // agent 1 at (11, 14) is in room 1
    expect(Array.from(env.rewards)).toEqual([0, 0]);
    set(env, 0, { agentRow: [2, 7], agentCol: [14, 14] });
    env.step(Int32Array.from([UP, UP])); // (1, 14) and (6, 14): both in room 0
    expect(Array.from(env.rewards)).toEqual([1000, 1000]);
    expect(env.dones[0]).toBe(1);
    expect(env.truncated[0]).toBe(0);
    const m = env.drainEpisodes()[0].metrics;
    expect(m).toMatchObject({ success: 1, team_performance: 1000, episode_length: 2 });
  });

  it("the code's observation has no door bits; fixStart puts both at (0, 0); another target room", () => {
    const env = secretRoomEntry.create({ observation: 'code', fixStart: true, targetRoom: 2 }, { numEnvs: 2 });
    env.reset(5);
    expect(env.spec.obsSize).toBe(100);
    expect(env.spec.stateSize).toBe(103);
    expect(hot(env, 1, 1, 25)).toEqual([0, 0, 0, 0]);
    set(env, 0, { agentRow: [18, 23], agentCol: [14, 20] });
    env.step(Int32Array.from([DOWN, UP, UP, UP]));
    expect(env.rewards[0]).toBe(1000);
  });

  it('randomTarget: a room per episode, seen as a one-hot after the door bits, and the one that pays', () => {
    const env = secretRoomEntry.create({ randomTarget: true }, { numEnvs: 64, autoReset: false });
    env.reset(2);
    expect(env.spec.obsSize).toBe(106);
    expect(env.spec.stateSize).toBe(106);
    const target = get(env, 'target');
    expect(new Set(target)).toEqual(new Set([0, 1, 2]));
    const O = env.spec.obsSize;
    for (let b = 0; b < 64; b++) expect(Array.from(env.obs.subarray(b * 2 * O + 103, b * 2 * O + 106))).toEqual([0, 1, 2].map((m) => (m === target[b] ? 1 : 0)));
    const b = target.indexOf(2);
    const other = target.indexOf(0);
    set(env, b, { agentRow: [18, 23], agentCol: [14, 20] });
    set(env, other, { agentRow: [18, 23], agentCol: [14, 20] });
    env.step(new Int32Array(128).fill(UP));
    expect(env.rewards[2 * b]).toBe(1000);
    expect(env.rewards[2 * other]).toBe(0);
  });

  it('random starts lie in the large room, and the replay toggles the doors', () => {
    const env = secretRoomEntry.create({ episodeLimit: 3 }, { numEnvs: 32 });
    env.reset(9);
    const cols = get(env, 'agentCol');
    expect(cols.every((c) => c >= 0 && c < 12)).toBe(true);
    set(env, 0, { agentRow: [20, 0], agentCol: [4, 0] });
    env.setRecording(0, true);
    for (let t = 0; t < 3; t++) env.step(new Int32Array(64).fill(RIGHT));
    const r = env.drainEpisodes().find((e) => e.envIndex === 0)!.replay!;
    expect(r.meta).toMatchObject({ renderer: 'grid2d', rows: 25, cols: 25, targetRoom: 0 });
    expect(r.columns.toggle).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(r.columns.agent_pos.slice(0, 2)).toEqual([20, 4]);
  });
});
