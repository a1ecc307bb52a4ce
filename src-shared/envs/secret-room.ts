/**
 * Sparse Secret Room (ALITA §4.1, Table 1; the EITI/EDTI code's `ThreePass`, environments.md
 * §5.2 and alita.md §7.2): a size x size grid (25) split by a wall into one large room on the
 * left, where two agents start, and three small rooms on the right, each behind a door. A
 * switch in the large room opens all three doors; a switch inside each small room opens its
 * own. The team succeeds when both agents stand in the target room.
 *
 * Board (cells (row, col), 0..size-1, s3 = floor(size/3), cm = floor(size/2)): walls on the
 * whole column cm and, for columns >= cm, on rows s3 and 2 s3; small room m spans rows
 * [0, s3), (s3, 2 s3), (2 s3, size) right of cm. Door m opens the column-cm cells of rows
 * d_m - 1 and d_m, d_m = floor(size/6 (2m + 1)) (4, 12, 20 at 25). Switches:
 * L0 = (floor(0.8 size), floor(0.2 size)) in the large room, R_m = (floor(size/6),
 * floor(size/2), floor(5 size/6))[m] by floor(0.8 size) in room m ((20, 5); (4, 20), (12, 20),
 * (20, 20) at 25). No outer walls: moves are clamped into the grid.
 *
 * Actions Discrete(4): 0 up, 1 right, 2 down, 3 left; a move into a wall (or a closed door) is
 * ignored. A step, as the code does it: (1) the agents move, one after the other; (2) each open
 * door that has been open for `doorOpenSteps` (doi, 8) counted steps closes, the others count one
 * more step; (3) each closed door m opens (count 0) when an agent stands on L0 or on R_m. An
 * agent standing in a doorway when it closes stays there and can step out. No agent-agent
 * collision. Reward: `successReward` (1000) to both agents when both are in the target room, and
 * the episode ends (a termination); otherwise 0. Time limit 300 steps (a truncation). Reset:
 * doors closed, agents uniform in the large room (column uniform in [0, cm), then row in
 * [0, size)), or both at (0, 0) with `fixStart`.
 *
 * Paper vs EITI code:
 * | aspect | paper | EITI code | here |
 * |---|---|---|---|
 * | observation | "(x, y) locations of all agents and binary variables to indicate if doors are open" | one-hot row and column of both agents only (4 size = 100) | paper: 100 + 3 door bits = 103 (default); `observation: code` gives 100 (released-code preset) |
 * | target room | "one of the three small rooms" | room 0 (top right), fixed | `targetRoom`, default 0; `randomTarget` draws it per episode and appends its one-hot to observation and state |
 * | door timing | silent | doi from `--doi`, default 8 | 8 (UNVERIFIED which value the paper ran) |
 * | start | "in the large room" | uniform in the left half; `--fix_start`: (0, 0) | uniform; `fixStart` |
 * | horizon, actions | silent | 300 steps, 4 moves | code |
 * Both agents see the same vector, as in the code. The global state is the paper's vector
 * (one-hots and door bits) whatever `observation` says, plus the target one-hot with
 * `randomTarget`.
 *
 * Metrics (ALITA Table 1): `success` = 1 when the episode ended with both agents in the target
 * room (Table 1's "avg success rate" is its mean); `team_performance` = one agent's return;
 * `doors_opened` = door openings during the episode (how often the team found a switch);
 * `episode_length`.
 *
 * Replays: the grid layout of grid-replay.ts, with the walls, the switches (the large room's
 * and the small rooms'), the target room tinted and the three doors as toggles (open/closed
 * per frame).
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { VecEnvBase, type ReplayRecorder } from './base';
import type { GridReplayMeta } from './grid-replay';
import { agent, buildSpec, discrete, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec, ObsBlock } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "srom"). */
const ENV_STREAM = 0x73726f6d;
const N = 2;
const DOORS = 3;
export const SECRET_ROOM_ACTIONS = ['up', 'right', 'down', 'left'] as const;
const DR = [-1, 0, 1, 0];
const DC = [0, 1, 0, -1];

/** Tile indices of the replay (1-based into TILES). */
const TILE = { wall: 1, doorClosed: 2, doorOpen: 3, switchAll: 4, switchRoom: 5, target: 6 } as const;
const TILES = [
  { name: 'wall', color: '#8d93a0' },
  { name: 'door (closed)', color: '#9c755f' },
  { name: 'door (open)', color: '#e8d5c4' },
  { name: 'switch: opens every door', color: '#edc948' },
  { name: "switch: opens its room's door", color: '#f28e2b' },
  { name: 'target room', color: '#d4ecd9' },
];
const AGENT_COLORS = ['#4e79a7', '#b07aa1'];

export const secretRoomSchema = {
  size: { type: 'int', default: 25, min: 12, max: 64, doc: 'Side of the grid in cells (ALITA: 25).' },
  episodeLimit: { type: 'int', default: 300, min: 1, max: 100_000, doc: 'Steps per episode (the EITI code: 300; the paper is silent); a time limit.' },
  doorOpenSteps: { type: 'int', default: 8, min: 0, max: 100_000, doc: 'Steps a door stays open once its switch is left (the code\'s doi, default 8; UNVERIFIED for the paper).' },
  targetRoom: { type: 'int', default: 0, min: 0, max: 2, doc: 'The small room both agents must reach: 0 top, 1 middle, 2 bottom (the code: 0).' },
  randomTarget: {
    type: 'bool',
    default: false,
    doc: 'Draw the target room uniformly each episode (one reading of the paper\'s "one of the three small rooms") instead of targetRoom; its one-hot is appended to the observation and the state.',
  },
  observation: {
    type: 'enum',
    default: 'paper',
    values: ['paper', 'code'],
    doc: "paper: one-hot rows and columns of both agents plus 3 door-open bits (4 size + 3); code: the EITI code's one-hots only (4 size).",
  },
  fixStart: { type: 'bool', default: false, doc: 'Start both agents at (0, 0) (the code\'s --fix_start); off: uniform in the large room (the code\'s default).' },
  successReward: { type: 'float', default: 1000, min: 0, max: 1e9, doc: 'Reward to both agents when both are in the target room (the code: 1000).' },
} as const satisfies Schema;

export type SecretRoomConfig = Values<typeof secretRoomSchema>;

function parse(config: Values): SecretRoomConfig {
  const c = typedValues('env', secretRoomSchema, config);
  if (!Number.isInteger(c.targetRoom) || c.targetRoom < 0 || c.targetRoom > 2) throw new ConfigError('env.targetRoom', 'one of 0, 1, 2', c.targetRoom);
  return c;
}

/** The board's static geometry for a size. */
export interface SecretRoomBoard {
  readonly size: number;
  /** Wall column and the two wall rows of the right half. */
  readonly cm: number;
  readonly s3: number;
  /** [size*size] 1 = wall when its door (if any) is closed. */
  readonly wall: Uint8Array;
  /** [size*size] door index of a doorway cell, -1 elsewhere. */
  readonly doorOf: Int8Array;
  /** Door centre rows d_m. */
  readonly doorRows: readonly number[];
  /** Switches [row, col]: 0 = L0 (every door), 1 + m = R_m (door m). */
  readonly switches: readonly (readonly [number, number])[];
}

export function secretRoomBoard(size: number): SecretRoomBoard {
  const cm = Math.floor(size / 2);
  const s3 = Math.floor(size / 3);
  const wall = new Uint8Array(size * size);
  const doorOf = new Int8Array(size * size).fill(-1);
  for (let r = 0; r < size; r++) wall[r * size + cm] = 1;
  for (let c = cm; c < size; c++) {
    wall[s3 * size + c] = 1;
    wall[2 * s3 * size + c] = 1;
  }
  // Same float expressions as the code's int(...) so every size gives the code's cells.
  const doorRows = [0, 1, 2].map((m) => Math.trunc((size / 6) * (m * 2 + 1)));
  doorRows.forEach((d, m) => {
    doorOf[(d - 1) * size + cm] = m;
    doorOf[d * size + cm] = m;
  });
  const c8 = Math.trunc(size * 0.8);
  const switches: [number, number][] = [
    [Math.trunc(size * 0.8), Math.trunc(size * 0.2)],
    [Math.trunc(size / 6), c8],
    [Math.trunc(size / 2), c8],
    [Math.trunc((size / 6) * 5), c8],
  ];
  return { size, cm, s3, wall, doorOf, doorRows, switches };
}

/** True when (r, c) lies in small room m (right of the wall, between its wall rows). */
export function inRoom(board: SecretRoomBoard, m: number, r: number, c: number): boolean {
  if (c <= board.cm) return false;
  const s3 = board.s3;
  return m === 0 ? r < s3 : m === 1 ? r > s3 && r < 2 * s3 : r > 2 * s3;
}

const METRICS: MetricSpec[] = [
  { key: 'success', title: 'Success', role: 'success', headline: true, description: "both agents reached the target room (ALITA Table 1 'avg success rate')" },
  { key: 'team_performance', title: 'Team performance', role: 'return', headline: true, description: "one agent's episode return, the same for both" },
  { key: 'doors_opened', title: 'Doors opened', description: 'door openings during the episode' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

function layout(size: number, doorBits: boolean, targetBits: boolean): ObsBlock[] {
  const out: ObsBlock[] = [
    features('agent 0 row (one-hot)', size),
    features('agent 0 column (one-hot)', size),
    features('agent 1 row (one-hot)', size),
    features('agent 1 column (one-hot)', size),
  ];
  if (doorBits) out.push(features('doors open', DOORS));
  if (targetBits) out.push(features('target room (one-hot)', DOORS));
  return out;
}

export function secretRoomSpec(cfg: SecretRoomConfig): EnvSpec {
  const action = discrete(SECRET_ROOM_ACTIONS);
  const obs = layout(cfg.size, cfg.observation === 'paper', cfg.randomTarget);
  const agents = [agent('agent 0', 0, action, obs), agent('agent 1', 0, action, obs)];
  return buildSpec({
    id: 'secret-room',
    agents,
    teams: [team('agents', [0, 1], { sharedReward: true })],
    stateLayout: layout(cfg.size, true, cfg.randomTarget),
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
    discreteState: [0, 1].map((i) => discreteStateOf(i, cfg.observation === 'paper', cfg.randomTarget)),
  });
}

/**
 * Agent i's discrete state for EITI/EDTI counts: its own row and column (the code's
 * info['state']), plus the door bits and the target one-hot when the observation has them, so
 * that a door opening or a new target is a new state of the agent rather than noise.
 */
function discreteStateOf(i: number, doorBits: boolean, targetBits: boolean): { block: number; read: 'onehot' | 'bits' }[] {
  const out: { block: number; read: 'onehot' | 'bits' }[] = [
    { block: 2 * i, read: 'onehot' },
    { block: 2 * i + 1, read: 'onehot' },
  ];
  if (doorBits) out.push({ block: 4, read: 'bits' });
  if (targetBits) out.push({ block: doorBits ? 5 : 4, read: 'onehot' });
  return out;
}

export class SecretRoomVecEnv extends VecEnvBase {
  readonly config: SecretRoomConfig;
  readonly board: SecretRoomBoard;
  private readonly agentRow: Int32Array;
  private readonly agentCol: Int32Array;
  /** [B, 3] door open flags and steps counted since opening. */
  private readonly doorOpen: Uint8Array;
  private readonly doorCount: Int32Array;
  private readonly doorsOpened: Int32Array;
  private readonly success: Uint8Array;
  /** [B] this episode's target room. */
  private readonly target: Int32Array;

  constructor(config: SecretRoomConfig, options: EnvOptions) {
    super(secretRoomSpec(config), options, ENV_STREAM);
    this.config = config;
    this.board = secretRoomBoard(config.size);
    const B = this.numEnvs;
    this.agentRow = new Int32Array(B * N);
    this.agentCol = new Int32Array(B * N);
    this.doorOpen = new Uint8Array(B * DOORS);
    this.doorCount = new Int32Array(B * DOORS);
    this.doorsOpened = new Int32Array(B);
    this.success = new Uint8Array(B);
    this.target = new Int32Array(B).fill(config.targetRoom);
    this.reset(0);
  }

  /** True when (r, c) blocks copy b now. */
  private blocked(b: number, r: number, c: number): boolean {
    const k = r * this.board.size + c;
    if (!this.board.wall[k]) return false;
    const d = this.board.doorOf[k];
    return d < 0 || !this.doorOpen[b * DOORS + d];
  }

  protected resetCopy(b: number, rng: Rng): void {
    const S = this.board.size;
    for (let i = 0; i < N; i++) {
      if (this.config.fixStart) {
        this.agentRow[b * N + i] = 0;
        this.agentCol[b * N + i] = 0;
      } else {
        this.agentCol[b * N + i] = rng.int(this.board.cm);
        this.agentRow[b * N + i] = rng.int(S);
      }
    }
    this.target[b] = this.config.randomTarget ? rng.int(DOORS) : this.config.targetRoom;
    this.doorOpen.fill(0, b * DOORS, (b + 1) * DOORS);
    this.doorCount.fill(0, b * DOORS, (b + 1) * DOORS);
    this.doorsOpened[b] = 0;
    this.success[b] = 0;
  }

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const S = this.board.size;
    for (let i = 0; i < N; i++) {
      const a = actions[b * N + i];
      if (!(a >= 0 && a < 4)) throw new Error(`secret-room.step: action ${a} of copy ${b}, agent ${i} is not in 0..3`);
      const r = Math.min(S - 1, Math.max(0, this.agentRow[b * N + i] + DR[a]));
      const c = Math.min(S - 1, Math.max(0, this.agentCol[b * N + i] + DC[a]));
      if (!this.blocked(b, r, c)) {
        this.agentRow[b * N + i] = r;
        this.agentCol[b * N + i] = c;
      }
    }
    for (let m = 0; m < DOORS; m++) {
      const k = b * DOORS + m;
      if (!this.doorOpen[k]) continue;
      if (this.doorCount[k] >= this.config.doorOpenSteps) {
        this.doorOpen[k] = 0;
        this.doorCount[k] = 0;
      } else this.doorCount[k]++;
    }
    const sw = this.board.switches;
    for (let m = 0; m < DOORS; m++) {
      const k = b * DOORS + m;
      if (this.doorOpen[k]) continue;
      for (let i = 0; i < N; i++) {
        const r = this.agentRow[b * N + i];
        const c = this.agentCol[b * N + i];
        if ((r === sw[0][0] && c === sw[0][1]) || (r === sw[1 + m][0] && c === sw[1 + m][1])) {
          this.doorOpen[k] = 1;
          this.doorCount[k] = 0;
          this.doorsOpened[b]++;
          break;
        }
      }
    }
    let inside = 0;
    for (let i = 0; i < N; i++) if (inRoom(this.board, this.target[b], this.agentRow[b * N + i], this.agentCol[b * N + i])) inside++;
    if (inside < N) return false;
    for (let i = 0; i < N; i++) rew[i] += this.config.successReward;
    this.success[b] = 1;
    return true;
  }

  protected observe(b: number, _full: boolean): void {
    const S = this.board.size;
    const O = this.spec.obsSize;
    const obs = this.obs;
    const o0 = b * N * O;
    obs.fill(0, o0, o0 + O);
    const st = this.state;
    const s0 = b * this.spec.stateSize;
    st.fill(0, s0, s0 + this.spec.stateSize);
    for (let i = 0; i < N; i++) {
      const r = this.agentRow[b * N + i];
      const c = this.agentCol[b * N + i];
      obs[o0 + 2 * i * S + r] = 1;
      obs[o0 + (2 * i + 1) * S + c] = 1;
      st[s0 + 2 * i * S + r] = 1;
      st[s0 + (2 * i + 1) * S + c] = 1;
    }
    const paper = this.config.observation === 'paper';
    for (let m = 0; m < DOORS; m++) {
      const open = this.doorOpen[b * DOORS + m];
      st[s0 + 4 * S + m] = open;
      if (paper) obs[o0 + 4 * S + m] = open;
    }
    if (this.config.randomTarget) {
      st[s0 + 4 * S + DOORS + this.target[b]] = 1;
      obs[o0 + 4 * S + (paper ? DOORS : 0) + this.target[b]] = 1;
    }
    obs.copyWithin(o0 + O, o0, o0 + O);
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    m.success = this.success[b];
    m.team_performance = this.episodeReturn(b, 0);
    m.doors_opened = this.doorsOpened[b];
    m.episode_length = this.stepCount[b];
  }

  protected savedArrays() {
    return { agentRow: this.agentRow, agentCol: this.agentCol, doorOpen: this.doorOpen, doorCount: this.doorCount, doorsOpened: this.doorsOpened, success: this.success, target: this.target };
  }

  protected override stateHeader(): Record<string, number> {
    return { size: this.board.size };
  }

  protected override replayMeta(b: number): Record<string, unknown> {
    const bd = this.board;
    const S = bd.size;
    const tileMap = new Array<number>(S * S).fill(0);
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const k = r * S + c;
        if (bd.wall[k]) tileMap[k] = bd.doorOf[k] >= 0 ? TILE.doorClosed : TILE.wall;
        else if (inRoom(bd, this.target[b], r, c)) tileMap[k] = TILE.target;
      }
    }
    bd.switches.forEach(([r, c], s) => (tileMap[r * S + c] = s === 0 ? TILE.switchAll : TILE.switchRoom));
    const meta: GridReplayMeta = {
      renderer: 'grid2d',
      rows: S,
      cols: S,
      tiles: TILES,
      tileMap,
      toggles: bd.doorRows.map((d, m) => ({
        name: `door ${m}`,
        cells: [
          [d - 1, bd.cm],
          [d, bd.cm],
        ],
        on: TILE.doorOpen,
        off: TILE.doorClosed,
      })),
      agents: AGENT_COLORS.map((color, i) => ({ name: `agent ${i}`, color, actionNames: [...SECRET_ROOM_ACTIONS] })),
      objects: [],
    };
    return { ...meta, targetRoom: this.target[b], episodeLimit: this.limit };
  }

  protected override replayColumns(): readonly string[] {
    return ['agent_pos', 'toggle'];
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    const a = rec.col('agent_pos');
    for (let i = 0; i < N; i++) a.push(this.agentRow[b * N + i], this.agentCol[b * N + i]);
    const t = rec.col('toggle');
    for (let m = 0; m < DOORS; m++) t.push(this.doorOpen[b * DOORS + m]);
  }
}

export const secretRoomEntry: EnvEntry = {
  id: 'secret-room',
  title: 'Sparse Secret Room (ALITA, EITI code)',
  schema: secretRoomSchema,
  // One variant covering every option (each variant is run by every learner in the contract test).
  variants: [{ name: 'small grid, code observation, random target room, doors close at once', config: { size: 12, observation: 'code', randomTarget: true, doorOpenSteps: 0, episodeLimit: 100 } }],
  spec: (config: Values) => secretRoomSpec(parse(config)),
  create: (config: Values, options: EnvOptions) => new SecretRoomVecEnv(parse(config), options),
};
