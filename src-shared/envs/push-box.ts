/**
 * Sparse Push-Box (ALITA §4.1, Table 1; the EITI/EDTI code's `PushBall`, environments.md §5.1
 * and alita.md §7.1): two agents must push a heavy box into a wall of a size x size room; it
 * moves one cell only when both push it the same way in the same step.
 *
 * Board: cells (row, col), 0..size-1. Agents live in [1, size-2]^2 (their moves are clamped
 * there, so they never enter the outer ring); the box can be pushed into the ring, and a box
 * on the ring scores. Both agents start at (1, 1) (they may share a cell); the box spawns
 * uniformly in [spawnLow, spawnHigh)^2 (row then column), redrawn while it lands on an agent.
 *
 * Actions Discrete(5): 0 up (row - 1), 1 right (col + 1), 2 down (row + 1), 3 left
 * (col - 1), 4 stay. A step, as the code does it:
 * 1. each agent's target is its cell moved by its action, clamped into [1, size-2]; an agent
 *    not on the box whose target is the box's cell pushes in its action's direction;
 * 2. the box moves -1 row when (up pushes - down pushes) >= 2, +1 row when (down - up) >= 2,
 *    and likewise along columns (left/right): both agents must push alike. The move is
 *    cancelled when the new cell holds an agent (before the agents move);
 * 3. each agent moves to its target, except one whose target is the box's (new) cell, which
 *    stays (so pushers follow the box into its old cell);
 * 4. the box scores `wallReward` (1000) to both agents for each boundary it touches (row 0,
 *    col 0, row size-1, col size-1) and respawns at once by the spawn rule (avoiding the
 *    agents). The episode goes on (several scores per episode are possible) until the time
 *    limit, 300 steps, a truncation; `endOnReward` ends it at the first score instead.
 *
 * Paper vs EITI code (the paper states the room, the agents, the box, 300 steps, the reward of
 * 1000 "to the wall" and the two-agent push; everything else is the code's):
 * | aspect | paper | EITI code | here |
 * |---|---|---|---|
 * | after a score | silent | box respawns, episode continues | code; `endOnReward` |
 * | observation of the scoring step | silent | computed before the respawn: the box is seen on the wall for one step | `boxObservation`: 'current' (default, the observation shows the state the next action acts on) or 'code' (released-code preset) |
 * | start, spawn, actions | silent | agents at (1, 1), box in [4, 12)^2, 5 actions | code |
 * | size | 15 | `--size` (default 30) | 15 |
 *
 * Observation (the same for both agents, as the code; the paper: "both can observe the
 * coordinates of their teammate and the location of the box"): one-hots of length size of
 * agent 0's row and column, agent 1's row and column, the box's row and column (6 size = 90).
 * The global state is the same vector. Each agent's discrete state (`discreteState`, for EITI/EDTI
 * counts) is the code's info['state']: its own row and column and the box's row and column.
 *
 * Metrics (ALITA Table 1): `team_performance` = the episode's extrinsic return of one agent
 * (both receive the same; Table 1's "team performance" is its mean); `success` = 1 when the box
 * reached a wall at least once (Cairn's choice: the table reports no success for Push-Box);
 * `scores` = walls reached; `box_moves`; `episode_length`.
 *
 * Replays: the grid layout of grid-replay.ts; the ring is drawn as the scoring wall; object 0 is
 * the box, object 1 marks where the box hit the wall on a scoring step (absent otherwise).
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { VecEnvBase, type ReplayRecorder } from './base';
import type { GridReplayMeta } from './grid-replay';
import { agent, buildSpec, discrete, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "pbox"). */
const ENV_STREAM = 0x70626f78;
const N = 2;
export const PUSH_BOX_ACTIONS = ['up', 'right', 'down', 'left', 'stay'] as const;
/** Row and column change of each action. */
const DR = [-1, 0, 1, 0, 0];
const DC = [0, 1, 0, -1, 0];

const COLORS = { wall: '#8d93a0', box: '#b5651d', scored: '#e15759', agents: ['#4e79a7', '#59a14f'] };

export const pushBoxSchema = {
  size: { type: 'int', default: 15, min: 6, max: 64, doc: 'Side of the square room in cells, outer ring included (ALITA: 15; the EITI code: --size, default 30).' },
  episodeLimit: { type: 'int', default: 300, min: 1, max: 100_000, doc: 'Steps per episode (ALITA and the EITI code: 300); a time limit.' },
  spawnLow: { type: 'int', default: 4, min: 1, max: 63, doc: 'The box spawns with row and column uniform in [spawnLow, spawnHigh) (EITI code: 4).' },
  spawnHigh: { type: 'int', default: 12, min: 2, max: 63, doc: 'Exclusive upper bound of the spawn range, at most size - 1 (EITI code: 12).' },
  wallReward: { type: 'float', default: 1000, min: 0, max: 1e9, doc: 'Reward to both agents per boundary the box touches (ALITA and the code: 1000).' },
  endOnReward: { type: 'bool', default: false, doc: 'End the episode (a termination) when the box reaches a wall; off: the box respawns and the episode continues (EITI code).' },
  boxObservation: {
    type: 'enum',
    default: 'current',
    values: ['current', 'code'],
    doc: "current: observations show the box where it is (respawned after a score); code: as the EITI code, the scoring step's observation still shows the box on the wall.",
  },
} as const satisfies Schema;

export type PushBoxConfig = Values<typeof pushBoxSchema>;

function parse(config: Values): PushBoxConfig {
  const c = typedValues('env', pushBoxSchema, config);
  if (c.spawnHigh > c.size - 1) throw new ConfigError('env.spawnHigh', `at most size - 1 = ${c.size - 1} (the box spawns inside the ring)`, c.spawnHigh);
  if (c.spawnLow >= c.spawnHigh) throw new ConfigError('env.spawnLow', `less than spawnHigh = ${c.spawnHigh}`, c.spawnLow);
  if ((c.spawnHigh - c.spawnLow) ** 2 < 2) throw new ConfigError('env.spawnHigh', 'a spawn range of at least 2 cells, so the box can avoid the agents', c.spawnHigh);
  return c;
}

const METRICS: MetricSpec[] = [
  { key: 'team_performance', title: 'Team performance', role: 'return', headline: true, description: "one agent's episode return, the same for both (ALITA Table 1 'team performance')" },
  { key: 'success', title: 'Box reached a wall', role: 'success', headline: true, description: 'the box reached a wall at least once in the episode' },
  { key: 'scores', title: 'Walls reached', description: 'times the box reached a wall (each scores and respawns it)' },
  { key: 'box_moves', title: 'Box moves', description: 'cells the box was pushed' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function pushBoxSpec(cfg: PushBoxConfig): EnvSpec {
  const S = cfg.size;
  const layout = [
    features('agent 0 row (one-hot)', S),
    features('agent 0 column (one-hot)', S),
    features('agent 1 row (one-hot)', S),
    features('agent 1 column (one-hot)', S),
    features('box row (one-hot)', S),
    features('box column (one-hot)', S),
  ];
  const action = discrete(PUSH_BOX_ACTIONS);
  const agents = [agent('agent 0', 0, action, layout), agent('agent 1', 0, action, layout)];
  return buildSpec({
    id: 'push-box',
    agents,
    teams: [team('agents', [0, 1], { sharedReward: true })],
    stateLayout: layout,
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
    // The EITI code's per-agent state (its info['state']): own row and column, then the box's.
    discreteState: [0, 1].map((i) => [2 * i, 2 * i + 1, 4, 5].map((block) => ({ block, read: 'onehot' as const }))),
  });
}

export class PushBoxVecEnv extends VecEnvBase {
  readonly config: PushBoxConfig;
  private readonly S: number;
  /** [B, 2] agent rows and columns. */
  private readonly agentRow: Int32Array;
  private readonly agentCol: Int32Array;
  /** [B] the box. */
  private readonly boxRow: Int32Array;
  private readonly boxCol: Int32Array;
  /** [B] where observations show the box (differs from the box only on a scoring step in 'code' mode). */
  private readonly seenRow: Int32Array;
  private readonly seenCol: Int32Array;
  /** [B] where the box hit the wall on the last step (-1: it did not), for replays. */
  private readonly hitRow: Int32Array;
  private readonly hitCol: Int32Array;
  private readonly scores: Int32Array;
  private readonly boxMoves: Int32Array;
  private readonly targetRow = new Int32Array(N);
  private readonly targetCol = new Int32Array(N);

  constructor(config: PushBoxConfig, options: EnvOptions) {
    super(pushBoxSpec(config), options, ENV_STREAM);
    this.config = config;
    this.S = config.size;
    const B = this.numEnvs;
    this.agentRow = new Int32Array(B * N);
    this.agentCol = new Int32Array(B * N);
    this.boxRow = new Int32Array(B);
    this.boxCol = new Int32Array(B);
    this.seenRow = new Int32Array(B);
    this.seenCol = new Int32Array(B);
    this.hitRow = new Int32Array(B).fill(-1);
    this.hitCol = new Int32Array(B).fill(-1);
    this.scores = new Int32Array(B);
    this.boxMoves = new Int32Array(B);
    this.reset(0);
  }

  /** Draw the box uniformly in the spawn square until it lands on no agent (row, then column). */
  private spawnBox(b: number, rng: Rng): void {
    const lo = this.config.spawnLow;
    const w = this.config.spawnHigh - lo;
    for (;;) {
      const r = lo + rng.int(w);
      const c = lo + rng.int(w);
      let free = true;
      for (let i = 0; i < N; i++) if (this.agentRow[b * N + i] === r && this.agentCol[b * N + i] === c) free = false;
      if (free) {
        this.boxRow[b] = r;
        this.boxCol[b] = c;
        return;
      }
    }
  }

  protected resetCopy(b: number, rng: Rng): void {
    for (let i = 0; i < N; i++) {
      this.agentRow[b * N + i] = 1;
      this.agentCol[b * N + i] = 1;
    }
    this.spawnBox(b, rng);
    this.seenRow[b] = this.boxRow[b];
    this.seenCol[b] = this.boxCol[b];
    this.hitRow[b] = -1;
    this.hitCol[b] = -1;
    this.scores[b] = 0;
    this.boxMoves[b] = 0;
  }

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const S = this.S;
    const ar = this.agentRow;
    const ac = this.agentCol;
    const br = this.boxRow[b];
    const bc = this.boxCol[b];
    let up = 0;
    let right = 0;
    let down = 0;
    let left = 0;
    for (let i = 0; i < N; i++) {
      const a = actions[b * N + i];
      if (!(a >= 0 && a < 5)) throw new Error(`push-box.step: action ${a} of copy ${b}, agent ${i} is not in 0..4`);
      const r = Math.min(S - 2, Math.max(1, ar[b * N + i] + DR[a]));
      const c = Math.min(S - 2, Math.max(1, ac[b * N + i] + DC[a]));
      this.targetRow[i] = r;
      this.targetCol[i] = c;
      const onBox = ar[b * N + i] === br && ac[b * N + i] === bc;
      if (!onBox && r === br && c === bc) {
        if (a === 0) up++;
        else if (a === 1) right++;
        else if (a === 2) down++;
        else if (a === 3) left++;
      }
    }
    const mr = up - down >= 2 ? -1 : down - up >= 2 ? 1 : 0;
    const mc = left - right >= 2 ? -1 : right - left >= 2 ? 1 : 0;
    const nr = br + mr;
    const nc = bc + mc;
    let moved = nr !== br || nc !== bc;
    for (let i = 0; i < N && moved; i++) if (ar[b * N + i] === nr && ac[b * N + i] === nc) moved = false;
    if (moved) {
      this.boxRow[b] = nr;
      this.boxCol[b] = nc;
      this.boxMoves[b]++;
    }
    const r1 = this.boxRow[b];
    const c1 = this.boxCol[b];
    for (let i = 0; i < N; i++) {
      const onBox = ar[b * N + i] === r1 && ac[b * N + i] === c1;
      if (!onBox && this.targetRow[i] === r1 && this.targetCol[i] === c1) continue;
      ar[b * N + i] = this.targetRow[i];
      ac[b * N + i] = this.targetCol[i];
    }
    const walls = (r1 === 0 ? 1 : 0) + (c1 === 0 ? 1 : 0) + (r1 === S - 1 ? 1 : 0) + (c1 === S - 1 ? 1 : 0);
    this.hitRow[b] = -1;
    this.hitCol[b] = -1;
    if (walls > 0) {
      const r = walls * this.config.wallReward;
      for (let i = 0; i < N; i++) rew[i] += r;
      this.scores[b]++;
      this.hitRow[b] = r1;
      this.hitCol[b] = c1;
      this.spawnBox(b, this.rngs[b]);
    }
    const stale = walls > 0 && this.config.boxObservation === 'code';
    this.seenRow[b] = stale ? r1 : this.boxRow[b];
    this.seenCol[b] = stale ? c1 : this.boxCol[b];
    return walls > 0 && this.config.endOnReward;
  }

  protected observe(b: number, _full: boolean): void {
    const S = this.S;
    const O = this.spec.obsSize;
    const obs = this.obs;
    const st = this.state;
    const o0 = b * N * O;
    obs.fill(0, o0, o0 + O);
    obs[o0 + this.agentRow[b * N]] = 1;
    obs[o0 + S + this.agentCol[b * N]] = 1;
    obs[o0 + 2 * S + this.agentRow[b * N + 1]] = 1;
    obs[o0 + 3 * S + this.agentCol[b * N + 1]] = 1;
    obs[o0 + 4 * S + this.seenRow[b]] = 1;
    obs[o0 + 5 * S + this.seenCol[b]] = 1;
    obs.copyWithin(o0 + O, o0, o0 + O);
    st.set(obs.subarray(o0, o0 + O), b * this.spec.stateSize);
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    m.team_performance = this.episodeReturn(b, 0);
    m.success = this.scores[b] > 0 ? 1 : 0;
    m.scores = this.scores[b];
    m.box_moves = this.boxMoves[b];
    m.episode_length = this.stepCount[b];
  }

  protected savedArrays() {
    return {
      agentRow: this.agentRow,
      agentCol: this.agentCol,
      boxRow: this.boxRow,
      boxCol: this.boxCol,
      seenRow: this.seenRow,
      seenCol: this.seenCol,
      hitRow: this.hitRow,
      hitCol: this.hitCol,
      scores: this.scores,
      boxMoves: this.boxMoves,
    };
  }

  protected override stateHeader(): Record<string, number> {
    return { size: this.S };
  }

  protected override replayMeta(_b: number): Record<string, unknown> {
    const S = this.S;
    const tileMap = Array.from({ length: S * S }, (_, k) => {
      const r = Math.floor(k / S);
      const c = k % S;
      return r === 0 || c === 0 || r === S - 1 || c === S - 1 ? 1 : 0;
    });
    const meta: GridReplayMeta = {
      renderer: 'grid2d',
      rows: S,
      cols: S,
      tiles: [{ name: 'wall (the box scores here)', color: COLORS.wall }],
      tileMap,
      toggles: [],
      agents: COLORS.agents.map((color, i) => ({ name: `agent ${i}`, color, actionNames: [...PUSH_BOX_ACTIONS] })),
      objects: [
        { name: 'box', color: COLORS.box },
        { name: 'box reached the wall', color: COLORS.scored },
      ],
    };
    return { ...meta, episodeLimit: this.limit };
  }

  protected override replayColumns(): readonly string[] {
    return ['agent_pos', 'object_pos'];
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    const a = rec.col('agent_pos');
    for (let i = 0; i < N; i++) a.push(this.agentRow[b * N + i], this.agentCol[b * N + i]);
    rec.col('object_pos').push(this.boxRow[b], this.boxCol[b], this.hitRow[b], this.hitCol[b]);
  }
}

export const pushBoxEntry: EnvEntry = {
  id: 'push-box',
  title: 'Sparse Push-Box (ALITA, EITI code)',
  schema: pushBoxSchema,
  variants: [{ name: 'small room, ends on reward, code observation', config: { size: 6, spawnLow: 2, spawnHigh: 4, endOnReward: true, boxObservation: 'code', episodeLimit: 60 } }],
  spec: (config: Values) => pushBoxSpec(parse(config)),
  create: (config: Values, options: EnvOptions) => new PushBoxVecEnv(parse(config), options),
};
