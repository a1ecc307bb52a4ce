/**
 * Manitokan ("hidden gifts") task, Malenfant & Richards 2025 (arXiv 2505.20579), vectorised.
 *
 * N agents in a walled square grid (side = interiorSize + N; 6x6 with a 4x4 interior for the
 * paper's N = 2). One key, N locked doors, door i owned by agent i. An agent opens its own door
 * by toggling it while carrying the key: the door disappears, the agent gets its individual
 * reward r_i and keeps the key. The next agent can only open its door if the key is dropped
 * for it, and nothing in anyone's observation says so: the drop is a "hidden gift". When the
 * last door opens the episode ends and every agent gets the collective reward sum_j r_j.
 * Rules, encodings and layout follow shared/specs/environments.md §1-2 (written from the
 * released code, `sfw3r43gegya/Manitokan` at 99ffe1e); the paper's text wins where they differ.
 *
 * Layout (fresh every episode, from the copy's own RNG stream, never re-seeded between episodes;
 * draws in this order): border walls; split = uniform int in [2, W); each agent i in order by
 * rejection sampling x in [0, split), y in [0, H) over empty cells without an agent, then its
 * direction in 0..3; door i for i = 0..N-1 and then the key by rejection sampling over the whole
 * grid (empty cells without agents); then, with agentOrder = random, the episode's permutation.
 * Actions 0 left, 1 right, 2 forward, 3 pickup, 4 drop, 5 toggle act one agent at a time in the
 * episode's agent order, each on the current grid (fronts are the pre-step fronts, which is the
 * same thing here since only agent i moves agent i). Agents are not grid objects: they never
 * block each other, may share a cell, and a key may be dropped onto a cell where an agent stands.
 *
 * Observation row per agent: the 3x3 egocentric MiniGrid view (27 raw integers as float32,
 * `obs[(vx*3 + vy)*3 + c]`, agent at (1, 2), MiniGrid occlusion, cells outside the grid read as
 * walls; behind the border ring they are always occluded, so they show as unseen), then when on: door flag (3 x 23 if own door opened else 3 x 37), key flag (3 x 53 if
 * carrying else 3 x 59), last-action one-hot (6, zeros at an episode's first observation). The
 * last-action block is agent-side history, so `spec.envObsSize = obsSize - 6` when it is on.
 * Global state: full-grid encoding W*H*3 ([x][y][c], walls included, no agents), then x, y of
 * each agent, then each agent's direction (114 values for N = 2).
 *
 * Paper text vs released code, and what Cairn does (option: default / alternative):
 * - Episode length: paper T = 150; yaml 300.                      `episodeLimit`: 150.
 * - Other agents in the view: paper "the key, the doors and the other agents are all visible";
 *   code never draws agents.                                       `showOtherAgents`: true / false.
 *   When drawn: (10, that agent's door colour, its direction) over the cell's object, only in
 *   visible cells; agents never occlude; the viewer itself is never drawn, but another agent on
 *   its cell is; if several agents share a visible cell the highest index is shown.
 * - Individual reward: paper r^i; code p = 0.5 (a per-agent list).  `individualReward`: [0.5]
 *   broadcast to every agent, or one value per agent.
 * - Reward parts: paper both; code only_immediate / only_sparse.   `rewardMode`: both /
 *   individual-only (no collective) / collective-only (no r_i; the payout stays sum_j r_j).
 * - Door/key inputs (paper §3.2): code completion_signal/key_signal. `obsDoorFlag`, `obsKeyFlag`: off.
 * - Last action (paper §3.3): code appends it in the controller.  `obsLastAction`: off.
 * - Agent order: paper/code fixed [0..N-1]; App. E.3 alternates or randomises the first mover.
 *   `agentOrder`: fixed / alternating (first mover = episode index mod N, then cyclic) / random
 *   (a uniform permutation per episode).
 * - Action pruning (App. M.3, code): drop/toggle masked when not carrying. `pruneActions`: true /
 *   false (mask all ones; those actions are then no-ops).
 * - Oracle (App. E.6): paper +1 once for the first drop after opening; code +2*p_i on a
 *   successful drop after opening, once (and it also clears the agent's door-open flag, which
 *   flips its door flag back to "closed": not reproduced). `oracleDropReward`: 0 (paper 1), paid
 *   once per agent per episode, on its first successful drop after its own door opened.
 * - Holding-key punishment (App. E.6): paper -0.5 "each step" an agent holds the key after its
 *   door opened (figure caption says -1); code -0.5 only on steps where it executes toggle while
 *   holding the key after opening, including the opening step itself. `holdingKeyPenalty`: 0
 *   (paper 0.5), `holdingKeyPenaltyMode`: every-step / toggle-only.
 * - Termination: paper all doors; code any two doors (same for N = 2). `terminateOn`: all-doors
 *   / two-doors. The collective payout is sum_j r_j * opened_j as in the code, which is sum_j r_j
 *   whenever all doors are open.
 * - Injection reward (App. E.6): applied by the learner, not here.
 *
 * Where both are silent, Cairn chose:
 * - every-step punishment: charged on each step that *starts* with agent i holding the key and
 *   its door already open (not on the opening step; yes on the step it drops the key).
 * - first_reward_step: 0-based index of the step (0 = the episode's first step) on which any
 *   agent first got a non-zero reward of any kind (penalties and oracle included); null if none.
 *   (The code logs an average over 0.5-reward steps instead; not reproduced.)
 * - collective_success: 1 when the episode ended by the door condition (the collective reward was
 *   due, even under individual-only); with terminateOn = all-doors that is "all doors opened".
 *   (The code's logged success is "agent 0's return >= 1.5"; not reproduced.)
 * - A time-limit step that also opens the last door counts as termination (truncated = 0).
 * - Key drops, two definitions (both declared metrics):
 *   key_drops: successful drops (the key lands on the empty front cell), all agents: the paper's
 *   words ("key drop rate ... cumulative key drops summed across a single episode", Fig. 3a
 *   caption) read literally. key_drop_choices (and key_drop_choices_i): steps on which an agent
 *   CHOSE drop while holding the key, whether or not the front cell was free: what the released
 *   code logs as training_keys_dropped_for_agent_i (specs §5), i.e. what Fig. 3a and Fig. 8
 *   actually plot (their curves are the code's logs). Unlike the code, steps after an episode
 *   ended do not count (finished copies are not stepped).
 * - key_drops_nonzero: key_drops of an episode with at least one drop, else null, so its mean
 *   over a round is Fig. 3b's "non-zero key drop rate" as its caption defines it ("averaged
 *   between parallel episodes that had key drops"). Section 3.1's text describes another
 *   filter ("the rate at which keys were dropped if they were picked up"): recorded as
 *   key_drops_picked_up (key_drops of an episode in which the key was picked up, else null).
 * - collective_residual_i (App. E.3, Fig. 9): (r^c - r^i) r^i with r^c the collective reward
 *   agent i received in the episode and r^i its individual (door) reward: 0.25 when both doors
 *   opened (default rewards), -0.25 when only its own did, 0 otherwise. The paper does not name
 *   E.3's learner; Cairn's fig9 reproduction uses PG with action history (the learner of every
 *   other PG appendix figure). Oracle and penalty rewards are not part of r^i or r^c.
 * - return_normalised (App. E.6-E.7, Fig. 15a "percentage of cumulative reward"): the mean over
 *   agents of return_i / max_i, max_i = r^i (if paid) + sum_j r_j (if the collective is paid)
 *   + the oracle reward: the released code's normalized_training_reward (/1.5 by default,
 *   specs §5). Mean rather than sum over agents (unverified in the code) keeps it a fraction.
 * - agent_distance: mean over the episode's steps of the mean pairwise Euclidean distance between
 *   agents' cells, measured after each step. Returns are summed in double precision.
 * - RNG: copy b draws from `new Rng(deriveSeed(seed, ENV_STREAM), b)`, so an algorithm's
 *   `new Rng(seed)` never shares a stream with copy 0.
 *
 * Replays: see manitokan-replay.ts for the columns (positions, headings, carrier, key, doors,
 * compact view codes, actions, rewards, event bits) and `replayObservation`.
 */
import { ConfigError, coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec, ObsBlock, VecEnv } from './types';
import { agent, buildSpec, discrete, features, team } from './spaces';
import {
  ACTION_NAMES,
  A_DROP,
  A_FORWARD,
  A_LEFT,
  A_PICKUP,
  A_RIGHT,
  A_TOGGLE,
  CELL_DOOR0,
  CELL_EMPTY,
  CELL_ENC,
  CELL_KEY,
  CELL_SEE_THROUGH,
  CELL_WALL,
  DIR_DX,
  DIR_DY,
  DOOR_COLOR_IDX,
  DOOR_COLOR_NAMES,
  DOOR_FLAG_CLOSED,
  DOOR_FLAG_OPEN,
  KEY_COLOR_NAME,
  KEY_FLAG_CARRYING,
  KEY_FLAG_EMPTY,
  NUM_ACTIONS,
  OBJ,
  VIEW_CELLS,
  VIEW_DX,
  VIEW_DY,
  VIEW_SIZE,
  VIS_TABLE,
  viewCodeOf,
  viewCodeTable,
} from './manitokan-observe';
import { EVENT_BITS, EVENT_DOOR_OPENED, EVENT_DROP, EVENT_NO_EFFECT, EVENT_PICKUP, type ManitokanReplayMeta } from './manitokan-replay';
import { ReplayRecorder, VecEnvBase } from './base';

export { replayObservation } from './manitokan-replay';

// Module-local aliases of the hot tables and constants: loaders that compile modules to
// CommonJS (tsx when the caller is CommonJS, some test runners) turn imported bindings into
// property getters, which made the step loop ~10x slower in measurements.
const VDX = VIEW_DX;
const VDY = VIEW_DY;
const ENC = CELL_ENC;
const SEE = CELL_SEE_THROUGH;
const VIS = VIS_TABLE;
const DDX = DIR_DX;
const DDY = DIR_DY;
const DCOL = DOOR_COLOR_IDX;
const C_EMPTY = CELL_EMPTY;
const C_WALL = CELL_WALL;
const C_KEY = CELL_KEY;
const C_DOOR0 = CELL_DOOR0;
const NA = NUM_ACTIONS;
const NV = VIEW_CELLS;
const ACT_LEFT = A_LEFT;
const ACT_RIGHT = A_RIGHT;
const ACT_FORWARD = A_FORWARD;
const ACT_PICKUP = A_PICKUP;
const ACT_DROP = A_DROP;
const ACT_TOGGLE = A_TOGGLE;
const EV_PICKUP = EVENT_PICKUP;
const EV_DROP = EVENT_DROP;
const EV_DOOR = EVENT_DOOR_OPENED;
const EV_NONE = EVENT_NO_EFFECT;
const OBJ_AGENT = OBJ.agent;
const F_DOOR_OPEN = DOOR_FLAG_OPEN;
const F_DOOR_CLOSED = DOOR_FLAG_CLOSED;
const F_KEY_CARRY = KEY_FLAG_CARRYING;
const F_KEY_EMPTY = KEY_FLAG_EMPTY;
const VSIZE = VIEW_SIZE;

/** Stream tag mixed into the user seed for env copies (ASCII "mani"). */
export const ENV_STREAM = 0x6d616e69;

export const manitokanSchema = {
  numAgents: { type: 'int', default: 2, min: 2, max: 4, doc: 'Number of agents N (paper: 2). Each owns one door; there is one key.' },
  interiorSize: {
    type: 'int',
    default: 4,
    min: 2,
    max: 16,
    doc: 'Grid size parameter: the full grid side is interiorSize + N with a wall border (paper: 4, i.e. a 6x6 grid with a 4x4 interior for N = 2).',
  },
  episodeLimit: {
    type: 'int',
    default: 150,
    min: 1,
    max: 100_000,
    doc: 'Time limit T in steps (paper: 150; released code: 300). Reaching it ends the episode as truncated.',
  },
  individualReward: {
    type: 'floatList',
    default: [0.5],
    doc: 'Individual reward r_i for opening your own door: one value for every agent, or one per agent. The collective reward is the sum of the r_i.',
  },
  rewardMode: {
    type: 'enum',
    default: 'both',
    values: ['both', 'individual-only', 'collective-only'],
    doc: 'Which rewards are paid (App. E.6 dissociation): both (paper), individual-only (no collective), collective-only (no r_i; the collective payout stays sum r_j).',
  },
  obsDoorFlag: {
    type: 'bool',
    default: false,
    doc: 'Append 3 copies of 23 (own door opened) or 37 to the observation (paper §3.2; code completion_signal).',
  },
  obsKeyFlag: {
    type: 'bool',
    default: false,
    doc: 'Append 3 copies of 53 (carrying the key) or 59 to the observation (paper §3.2; code key_signal).',
  },
  obsLastAction: {
    type: 'bool',
    default: false,
    doc: "Append the one-hot of the agent's own previous action (6; zeros at an episode's first step) (paper §3.3). Critics read only the env part.",
  },
  showOtherAgents: {
    type: 'bool',
    default: true,
    doc: 'Draw other agents in the view as MiniGrid agents (paper text: other agents are visible). Off reproduces the released code, which never draws agents.',
  },
  agentOrder: {
    type: 'enum',
    default: 'fixed',
    values: ['fixed', 'alternating', 'random'],
    doc: 'Order in which agents act within a step: fixed 0..N-1 (paper, code); alternating first mover between episodes; random permutation per episode (App. E.3).',
  },
  pruneActions: {
    type: 'bool',
    default: true,
    doc: 'Mask drop and toggle when not carrying the key (App. M.3, released code). Off: all actions available (those are then no-ops).',
  },
  oracleDropReward: {
    type: 'float',
    default: 0,
    min: 0,
    doc: 'App. E.6 oracle: reward paid once to an agent for its first successful key drop after its own door opened (paper: 1; 0 = off).',
  },
  holdingKeyPenalty: {
    type: 'float',
    default: 0,
    min: 0,
    doc: 'App. E.6 punishment subtracted while an agent holds the key after its door opened (paper: 0.5; 0 = off). See holdingKeyPenaltyMode.',
  },
  holdingKeyPenaltyMode: {
    type: 'enum',
    default: 'every-step',
    values: ['every-step', 'toggle-only'],
    doc: 'every-step (paper text): each step that starts with the agent holding the key after its door opened; toggle-only (released code): only steps where it toggles while holding the key after opening, including the opening step.',
    when: { field: 'holdingKeyPenalty', not: 0 },
  },
  terminateOn: {
    type: 'enum',
    default: 'all-doors',
    values: ['all-doors', 'two-doors'],
    doc: 'End the episode when all doors are open (paper) or when any two are (released code; identical for N = 2).',
  },
} as const satisfies Schema;

export type RewardMode = 'both' | 'individual-only' | 'collective-only';
export type AgentOrderMode = 'fixed' | 'alternating' | 'random';

/** Resolved, validated Manitokan options. */
export interface ManitokanConfig {
  readonly numAgents: number;
  readonly interiorSize: number;
  /** Full grid side (width = height) = interiorSize + numAgents. */
  readonly size: number;
  readonly episodeLimit: number;
  /** One value per agent. */
  readonly individualReward: readonly number[];
  readonly rewardMode: RewardMode;
  readonly obsDoorFlag: boolean;
  readonly obsKeyFlag: boolean;
  readonly obsLastAction: boolean;
  readonly showOtherAgents: boolean;
  readonly agentOrder: AgentOrderMode;
  readonly pruneActions: boolean;
  readonly oracleDropReward: number;
  readonly holdingKeyPenalty: number;
  readonly holdingKeyPenaltyMode: 'every-step' | 'toggle-only';
  readonly terminateOn: 'all-doors' | 'two-doors';
}

/**
 * Validate env values (missing keys take defaults; keys outside the schema, such as `id`, are
 * ignored) and derive the grid size. Errors name the field as `env.<key>`.
 */
export function parseManitokanConfig(config: Values): ManitokanConfig {
  const v: Values = defaults(manitokanSchema);
  for (const [k, spec] of Object.entries(manitokanSchema as Schema)) {
    if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  }
  const N = v.numAgents as number;
  const interiorSize = v.interiorSize as number;
  const size = interiorSize + N;
  const free = (size - 2) * (size - 2);
  if (free < 2 * N + 1) {
    throw new ConfigError(
      'env.interiorSize',
      `at least ${interiorSize + 1} for numAgents = ${N}: the ${size - 2}x${size - 2} interior must hold ${N} agents, ${N} doors and the key`,
      interiorSize,
    );
  }
  const r = v.individualReward as number[];
  if (r.length !== 1 && r.length !== N) {
    throw new ConfigError('env.individualReward', `one value or ${N} values (one per agent, numAgents = ${N})`, r);
  }
  return {
    numAgents: N,
    interiorSize,
    size,
    episodeLimit: v.episodeLimit as number,
    individualReward: r.length === 1 ? new Array<number>(N).fill(r[0]) : [...r],
    rewardMode: v.rewardMode as RewardMode,
    obsDoorFlag: v.obsDoorFlag as boolean,
    obsKeyFlag: v.obsKeyFlag as boolean,
    obsLastAction: v.obsLastAction as boolean,
    showOtherAgents: v.showOtherAgents as boolean,
    agentOrder: v.agentOrder as AgentOrderMode,
    pruneActions: v.pruneActions as boolean,
    oracleDropReward: v.oracleDropReward as number,
    holdingKeyPenalty: v.holdingKeyPenalty as number,
    holdingKeyPenaltyMode: v.holdingKeyPenaltyMode as 'every-step' | 'toggle-only',
    terminateOn: v.terminateOn as 'all-doors' | 'two-doors',
  };
}

/** Episode metric names for N agents, in `spec.metricKeys` order. */
export function manitokanMetricKeys(N: number): string[] {
  const per = (name: string) => Array.from({ length: N }, (_, i) => `${name}_${i}`);
  return [
    'collective_success',
    ...per('door_opened'),
    ...per('return'),
    'return_total',
    ...per('key_pickups'),
    ...per('key_drops'),
    'key_drops',
    'key_drops_nonzero',
    'key_drops_picked_up',
    ...per('key_drop_choices'),
    'key_drop_choices',
    ...per('collective_residual'),
    'return_normalised',
    'first_reward_step',
    'agent_distance',
    'episode_length',
  ];
}

/** The declared metrics (titles, roles, headlines) for N agents, in `manitokanMetricKeys` order. */
export function manitokanMetrics(N: number): MetricSpec[] {
  const lower = new Set(['key_drops', 'key_drops_nonzero', 'key_drops_picked_up', 'key_drop_choices', 'first_reward_step', 'episode_length']);
  const known: Record<string, Omit<MetricSpec, 'key'>> = {
    collective_success: { title: 'Collective success', role: 'success', headline: true, description: 'the episode ended by the door condition (the collective reward was due)' },
    return_total: { title: 'Return (all agents)', role: 'return', headline: true, description: 'sum over agents of the episode return' },
    key_drops: { title: 'Key drops', headline: true, description: 'successful key drops per episode, all agents' },
    key_drops_nonzero: { title: 'Key drops (episodes with drops)', description: "key drops in episodes with at least one drop, else null (Fig. 3b caption's non-zero key drop rate)" },
    key_drops_picked_up: { title: 'Key drops (key picked up)', description: 'key drops in episodes where the key was picked up, else null (section 3.1 text)' },
    key_drop_choices: {
      title: 'Key drop choices',
      description: "steps on which an agent chose drop while holding the key, successful or not (released code's logged key drops: Figs. 3a, 8)",
    },
    return_normalised: { title: 'Normalised return', description: "mean over agents of the return divided by the agent's maximum (1.5 by default; Fig. 15a)" },
    first_reward_step: { title: 'First reward step', description: 'step of the first non-zero reward, else null' },
    agent_distance: { title: 'Agent distance', description: 'mean pairwise distance between agents over the episode' },
    episode_length: { title: 'Episode length', description: 'steps taken' },
  };
  const perAgent: Record<string, string> = {
    door_opened: 'Door opened',
    return: 'Return',
    key_pickups: 'Key pickups',
    key_drops: 'Key drops',
    key_drop_choices: 'Key drop choices',
    collective_residual: 'Collective success residual',
  };
  return manitokanMetricKeys(N).map((key) => {
    const k = known[key];
    if (k) return { key, ...k, ...(lower.has(key) ? { higherIsBetter: false } : {}) };
    const m = /^(.*)_(\d+)$/.exec(key);
    const title = m && perAgent[m[1]] ? `${perAgent[m[1]]}, agent ${m[2]}` : key;
    const extra = m && m[1] === 'collective_residual' ? { description: '(r^c - r^i) r^i of the episode (App. E.3, Fig. 9)' } : {};
    return { key, title, ...extra, ...(m && (m[1] === 'key_drops' || m[1] === 'key_drop_choices') ? { higherIsBetter: false } : {}) };
  });
}

export function manitokanSpec(cfg: ManitokanConfig): EnvSpec {
  const N = cfg.numAgents;
  const layout: ObsBlock[] = [{ kind: 'planes', name: '3x3 egocentric view (object, colour, state)', width: 3, height: 3, channels: 3, order: 'xyc' }];
  if (cfg.obsDoorFlag) layout.push(features('own door opened flag (3 x 23 or 37)', 3));
  if (cfg.obsKeyFlag) layout.push(features('carrying-key flag (3 x 53 or 59)', 3));
  if (cfg.obsLastAction) layout.push(features('own last action (one-hot)', NA, 'history'));
  const actions = discrete(ACTION_NAMES);
  const agents = Array.from({ length: N }, (_, i) => agent(`agent ${i}`, 0, actions, layout));
  return buildSpec({
    id: 'manitokan',
    agents,
    teams: [team('agents', agents.map((_, i) => i))],
    stateLayout: [
      { kind: 'planes', name: 'full grid (object, colour, state), no agents', width: cfg.size, height: cfg.size, channels: 3, order: 'xyc' },
      features('agent cells (x, y per agent)', 2 * N),
      features('agent headings', N),
    ],
    episodeLimit: cfg.episodeLimit,
    metricKeys: manitokanMetricKeys(N),
    metrics: manitokanMetrics(N),
  });
}

/** Layout for `setLayoutForTest` (test-only). */
export interface TestLayout {
  /** One entry per agent. Cells must be inside the grid and not walls/doors/key. */
  agents: readonly { x: number; y: number; dir: number }[];
  /** One entry per agent; null = that door is already opened (removed) at the start. */
  doors: readonly ({ x: number; y: number } | null)[];
  /** Key cell, or null when `carrier` holds it. */
  key: { x: number; y: number } | null;
  /** Agent carrying the key (requires key: null). */
  carrier?: number;
  /** Extra interior walls (not in the real task; lets tests build occlusion patterns). */
  walls?: readonly { x: number; y: number }[];
  /** Override the episode's agent order. */
  order?: readonly number[];
}

/** Frame columns of a Manitokan replay, in order (manitokan-replay.ts documents them). */
const REPLAY_FRAME_COLUMNS = ['agent_x', 'agent_y', 'agent_dir', 'carrier', 'key_x', 'key_y', 'door_open', 'view'] as const;

export class ManitokanVecEnv extends VecEnvBase {
  readonly config: ManitokanConfig;

  private readonly S: number;
  private readonly cells: number;
  private readonly obsSize: number;
  private readonly stateSize: number;
  private readonly r: Float64Array;
  private readonly needOpen: number;
  private readonly payIndividual: boolean;
  private readonly payCollective: boolean;
  private readonly penaltyEvery: number;
  private readonly penaltyToggle: number;
  private readonly oracle: number;
  /** [N] an agent's largest episode return (without penalties): Fig. 15a's normaliser (0 -> 1). */
  private readonly maxReturn: Float64Array;
  private readonly prune: boolean;
  private readonly drawAgents: boolean;
  private readonly doorFlag: boolean;
  private readonly keyFlag: boolean;
  private readonly lastActFlag: boolean;

  // Per-copy dynamic state. Grid: [B, S, S] cell codes, index b*S*S + y*S + x.
  private readonly grid: Uint8Array;
  /**
   * Copy of the grid with a 2-cell wall margin ([B, P, P], P = S + 4, cell (x, y) at
   * (y+2)*P + x+2) so the 3x3 view reads need no bounds checks; rebuilt from `grid` by
   * `refreshCopy`, kept in sync by `setCell`.
   */
  private readonly vgrid: Uint8Array;
  private readonly P: number;
  /** `vOff[d*9 + k]`: offset in `vgrid` of view cell k for heading d. */
  private readonly vOff: Int32Array;
  private readonly ax: Int32Array;
  private readonly ay: Int32Array;
  private readonly adir: Int32Array;
  /** [B] agent carrying the key, -1 none. */
  private readonly carrier: Int32Array;
  /** [B] key cell y*S + x, -1 while carried. */
  private readonly keyPos: Int32Array;
  /** [B, N] door cell at the episode start (kept after the door is removed). */
  private readonly doorPos: Int32Array;
  private readonly opened: Uint8Array;
  private readonly numOpened: Int32Array;
  /** [B, N] this episode's resolution order. */
  private readonly order: Int32Array;
  /** [B, N] previous action, -1 at an episode's start. */
  private readonly lastAction: Int32Array;
  private readonly oraclePaid: Uint8Array;
  // Current-episode metric accumulators (the returns are the base's).
  private readonly pickups: Int32Array;
  private readonly drops: Int32Array;
  /** [B, N] drop actions chosen while holding the key (released code's count). */
  private readonly dropChoices: Int32Array;
  private readonly firstReward: Int32Array;
  private readonly distSum: Float64Array;


  // Scratch (no allocation per step).
  private readonly ev: Int32Array;
  private readonly codes: Int32Array;

  constructor(config: ManitokanConfig, options: EnvOptions) {
    super(manitokanSpec(config), options, ENV_STREAM);
    const B = this.numEnvs;
    this.config = config;
    const N = this.N;
    const S = (this.S = config.size);
    this.cells = S * S;
    this.obsSize = this.spec.obsSize;
    this.stateSize = this.spec.stateSize;
    this.r = Float64Array.from(config.individualReward);
    this.needOpen = config.terminateOn === 'two-doors' ? Math.min(2, N) : N;
    this.payIndividual = config.rewardMode !== 'collective-only';
    this.payCollective = config.rewardMode !== 'individual-only';
    const pen = config.holdingKeyPenalty;
    this.penaltyEvery = config.holdingKeyPenaltyMode === 'every-step' ? pen : 0;
    this.penaltyToggle = config.holdingKeyPenaltyMode === 'toggle-only' ? pen : 0;
    this.oracle = config.oracleDropReward;
    let rSum = 0;
    for (const v of this.r) rSum += v;
    this.maxReturn = this.r.map((ri) => (this.payIndividual ? ri : 0) + (this.payCollective ? rSum : 0) + this.oracle || 1);
    this.prune = config.pruneActions;
    this.drawAgents = config.showOtherAgents;
    this.doorFlag = config.obsDoorFlag;
    this.keyFlag = config.obsKeyFlag;
    this.lastActFlag = config.obsLastAction;


    this.grid = new Uint8Array(B * this.cells);
    const P = (this.P = S + 4);
    this.vgrid = new Uint8Array(B * P * P).fill(C_WALL);
    this.vOff = new Int32Array(4 * NV);
    for (let k = 0; k < 4 * NV; k++) this.vOff[k] = VDY[k] * P + VDX[k];
    this.ax = new Int32Array(B * N);
    this.ay = new Int32Array(B * N);
    this.adir = new Int32Array(B * N);
    this.carrier = new Int32Array(B);
    this.keyPos = new Int32Array(B);
    this.doorPos = new Int32Array(B * N);
    this.opened = new Uint8Array(B * N);
    this.numOpened = new Int32Array(B);
    this.order = new Int32Array(B * N);
    this.lastAction = new Int32Array(B * N);
    this.oraclePaid = new Uint8Array(B * N);
    this.pickups = new Int32Array(B * N);
    this.drops = new Int32Array(B * N);
    this.dropChoices = new Int32Array(B * N);
    this.firstReward = new Int32Array(B);
    this.distSum = new Float64Array(B);
    this.ev = new Int32Array(N);
    this.codes = new Int32Array(NV);
    this.reset(0);
  }

  // ------------------------------------------------------------------ episodes

  /** Draw a fresh layout for copy b (the base then publishes its first observation). */
  protected resetCopy(b: number, rng: Rng): void {
    const N = this.N;
    const S = this.S;
    const g = this.grid;
    const gOff = b * this.cells;
    const aOff = b * N;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        g[gOff + y * S + x] = x === 0 || y === 0 || x === S - 1 || y === S - 1 ? C_WALL : C_EMPTY;
      }
    }
    const split = rng.range(2, S);
    for (let i = 0; i < N; i++) {
      for (;;) {
        const x = rng.int(split);
        const y = rng.int(S);
        if (g[gOff + y * S + x] !== C_EMPTY || this.agentAt(b, x, y, i)) continue;
        this.ax[aOff + i] = x;
        this.ay[aOff + i] = y;
        break;
      }
      this.adir[aOff + i] = rng.int(4);
    }
    for (let i = 0; i <= N; i++) {
      // i < N: door of agent i; i = N: the key.
      for (;;) {
        const x = rng.int(S);
        const y = rng.int(S);
        const c = y * S + x;
        if (g[gOff + c] !== C_EMPTY || this.agentAt(b, x, y, N)) continue;
        if (i < N) {
          g[gOff + c] = C_DOOR0 + i;
          this.doorPos[aOff + i] = c;
        } else {
          g[gOff + c] = C_KEY;
          this.keyPos[b] = c;
        }
        break;
      }
    }
    const mode = this.config.agentOrder;
    if (mode === 'random') {
      for (let i = 0; i < N; i++) this.order[aOff + i] = i;
      for (let i = N - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = this.order[aOff + i];
        this.order[aOff + i] = this.order[aOff + j];
        this.order[aOff + j] = t;
      }
    } else {
      const first = mode === 'alternating' ? this.episodeIndex[b] % N : 0;
      for (let k = 0; k < N; k++) this.order[aOff + k] = (first + k) % N;
    }
    this.carrier[b] = -1;
    for (let i = 0; i < N; i++) this.opened[aOff + i] = 0;
    this.zeroCounters(b);
  }

  /** Zero the env's per-episode counters of copy b. */
  private zeroCounters(b: number): void {
    const N = this.N;
    const aOff = b * N;
    let opened = 0;
    for (let i = 0; i < N; i++) {
      opened += this.opened[aOff + i];
      this.lastAction[aOff + i] = -1;
      this.oraclePaid[aOff + i] = 0;
      this.pickups[aOff + i] = 0;
      this.drops[aOff + i] = 0;
      this.dropChoices[aOff + i] = 0;
    }
    this.numOpened[b] = opened;
    this.firstReward[b] = -1;
    this.distSum[b] = 0;
  }

  private agentAt(b: number, x: number, y: number, upTo: number): boolean {
    const aOff = b * this.N;
    for (let j = 0; j < upTo; j++) if (this.ax[aOff + j] === x && this.ay[aOff + j] === y) return true;
    return false;
  }

  // ------------------------------------------------------------------ step

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const N = this.N;
    const aOff = b * N;
    const S = this.S;
    const g = this.grid;
    const gOff = b * this.cells;
    const ax = this.ax;
    const ay = this.ay;
    const adir = this.adir;
    const opened = this.opened;
    const ev = this.ev;
    for (let i = 0; i < N; i++) ev[i] = 0;
    let carrier = this.carrier[b];
    if (this.penaltyEvery !== 0 && carrier >= 0 && opened[aOff + carrier] === 1) rew[carrier] -= this.penaltyEvery;

    for (let k = 0; k < N; k++) {
      const i = this.order[aOff + k];
      const p = aOff + i;
      const a = actions[p];
      const d = adir[p];
      const fx = ax[p] + DDX[d];
      const fy = ay[p] + DDY[d];
      // Agents stay inside the border, so the front cell is always on the grid.
      const front = fy * S + fx;
      const cell = g[gOff + front];
      let e = 0;
      switch (a) {
        case ACT_LEFT:
          adir[p] = (d + 3) & 3;
          break;
        case ACT_RIGHT:
          adir[p] = (d + 1) & 3;
          break;
        case ACT_FORWARD:
          if (cell === C_EMPTY) {
            ax[p] = fx;
            ay[p] = fy;
          } else e = EV_NONE;
          break;
        case ACT_PICKUP:
          // The only pickable object is the key; if it is on the grid nobody carries it.
          if (cell === C_KEY) {
            this.setCell(b, front, C_EMPTY);
            carrier = i;
            this.keyPos[b] = -1;
            this.pickups[p]++;
            e = EV_PICKUP;
          } else e = EV_NONE;
          break;
        case ACT_DROP:
          if (carrier === i) this.dropChoices[p]++;
          if (carrier === i && cell === C_EMPTY) {
            this.setCell(b, front, C_KEY);
            carrier = -1;
            this.keyPos[b] = front;
            this.drops[p]++;
            e = EV_DROP;
            if (this.oracle !== 0 && opened[p] === 1 && this.oraclePaid[p] === 0) {
              rew[i] += this.oracle;
              this.oraclePaid[p] = 1;
            }
          } else e = EV_NONE;
          break;
        case ACT_TOGGLE:
          if (carrier === i && cell === C_DOOR0 + i) {
            this.setCell(b, front, C_EMPTY);
            opened[p] = 1;
            this.numOpened[b]++;
            if (this.payIndividual) rew[i] += this.r[i];
            e = EV_DOOR;
          } else e = EV_NONE;
          if (this.penaltyToggle !== 0 && carrier === i && opened[p] === 1) rew[i] -= this.penaltyToggle;
          break;
        default:
          throw new Error(`manitokan.step: action ${a} of copy ${b}, agent ${i} is not in 0..${NA - 1}`);
      }
      ev[i] = e;
    }
    this.carrier[b] = carrier;

    const t = this.stepCount[b];
    const terminated = this.numOpened[b] >= this.needOpen;
    if (terminated && this.payCollective) {
      let c = 0;
      for (let j = 0; j < N; j++) if (opened[aOff + j] === 1) c += this.r[j];
      for (let i = 0; i < N; i++) rew[i] += c;
    }

    let any = false;
    for (let i = 0; i < N; i++) {
      if (rew[i] !== 0) any = true;
      this.lastAction[aOff + i] = actions[aOff + i];
    }
    if (any && this.firstReward[b] < 0) this.firstReward[b] = t;

    let dist = 0;
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const dx = ax[aOff + i] - ax[aOff + j];
        const dy = ay[aOff + i] - ay[aOff + j];
        dist += Math.sqrt(dx * dx + dy * dy);
      }
    }
    this.distSum[b] += dist / ((N * (N - 1)) / 2);
    return terminated;
  }

  protected episodeMetrics(b: number, terminated: boolean, m: Record<string, number | null>): void {
    const N = this.N;
    const aOff = b * N;
    m.collective_success = terminated ? 1 : 0;
    for (let i = 0; i < N; i++) m[`door_opened_${i}`] = this.opened[aOff + i];
    let total = 0;
    for (let i = 0; i < N; i++) {
      m[`return_${i}`] = this.ret[aOff + i];
      total += this.ret[aOff + i];
    }
    m.return_total = total;
    for (let i = 0; i < N; i++) m[`key_pickups_${i}`] = this.pickups[aOff + i];
    let drops = 0;
    for (let i = 0; i < N; i++) {
      m[`key_drops_${i}`] = this.drops[aOff + i];
      drops += this.drops[aOff + i];
    }
    m.key_drops = drops;
    let pickups = 0;
    for (let i = 0; i < N; i++) pickups += this.pickups[aOff + i];
    m.key_drops_nonzero = drops > 0 ? drops : null;
    m.key_drops_picked_up = pickups > 0 ? drops : null;
    let choices = 0;
    for (let i = 0; i < N; i++) {
      m[`key_drop_choices_${i}`] = this.dropChoices[aOff + i];
      choices += this.dropChoices[aOff + i];
    }
    m.key_drop_choices = choices;
    // Residual and normalised return from the reward parts (see the header).
    let collective = 0;
    if (terminated && this.payCollective) for (let j = 0; j < N; j++) if (this.opened[aOff + j] === 1) collective += this.r[j];
    let norm = 0;
    for (let i = 0; i < N; i++) {
      const ri = this.payIndividual && this.opened[aOff + i] === 1 ? this.r[i] : 0;
      m[`collective_residual_${i}`] = (collective - ri) * ri;
      norm += this.ret[aOff + i] / this.maxReturn[i];
    }
    m.return_normalised = norm / N;
    m.first_reward_step = this.firstReward[b] >= 0 ? this.firstReward[b] : null;
    const len = this.stepCount[b];
    m.agent_distance = len > 0 ? this.distSum[b] / len : 0;
    m.episode_length = len;
  }

  // ------------------------------------------------------------------ observation, mask, state

  protected observe(b: number, full: boolean): void {
    if (full) this.refreshCopy(b);
    else {
      this.writeMask(b);
      this.writeObs(b);
      this.writeStateAgents(b);
    }
  }

  /** Recompute every buffer of copy b that derives from its dynamic state. */
  private refreshCopy(b: number): void {
    const g = this.grid;
    const gOff = b * this.cells;
    const S = this.S;
    const P = this.P;
    const vOff = b * P * P;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) this.vgrid[vOff + (y + 2) * P + x + 2] = g[gOff + y * S + x];
    this.writeMask(b);
    this.writeObs(b);
    const st = this.state;
    const sOff = b * this.stateSize;
    for (let x = 0; x < S; x++) {
      for (let y = 0; y < S; y++) {
        const e = g[gOff + y * S + x] * 3;
        const o = sOff + (x * S + y) * 3;
        st[o] = ENC[e];
        st[o + 1] = ENC[e + 1];
        st[o + 2] = ENC[e + 2];
      }
    }
    this.writeStateAgents(b);
  }

  /** Change one grid cell (cell = y*S + x) of copy b and its padded copy and state encoding. */
  private setCell(b: number, cell: number, code: number): void {
    const S = this.S;
    const x = cell % S;
    const y = (cell - x) / S;
    this.grid[b * this.cells + cell] = code;
    this.vgrid[b * this.P * this.P + (y + 2) * this.P + x + 2] = code;
    const e = code * 3;
    const o = b * this.stateSize + (x * S + y) * 3;
    this.state[o] = ENC[e];
    this.state[o + 1] = ENC[e + 1];
    this.state[o + 2] = ENC[e + 2];
  }

  private writeStateAgents(b: number): void {
    const N = this.N;
    const aOff = b * N;
    const o = b * this.stateSize + this.cells * 3;
    const st = this.state;
    for (let i = 0; i < N; i++) {
      st[o + 2 * i] = this.ax[aOff + i];
      st[o + 2 * i + 1] = this.ay[aOff + i];
      st[o + 2 * N + i] = this.adir[aOff + i];
    }
  }

  private writeMask(b: number): void {
    if (!this.prune) return; // all ones since construction
    const N = this.N;
    const c = this.carrier[b];
    const m = this.actionMask;
    for (let i = 0; i < N; i++) {
      const o = (b * N + i) * NA;
      const v = c === i ? 1 : 0;
      m[o + ACT_DROP] = v;
      m[o + ACT_TOGGLE] = v;
    }
  }

  private writeObs(b: number): void {
    const N = this.N;
    const O = this.obsSize;
    const P = this.P;
    const vg = this.vgrid;
    const vOffs = this.vOff;
    const gOff = b * P * P;
    const ax = this.ax;
    const ay = this.ay;
    const adir = this.adir;
    const obs = this.obs;
    const codes = this.codes;
    const aOff = b * N;
    for (let i = 0; i < N; i++) {
      const p = aOff + i;
      const x = ax[p];
      const y = ay[p];
      const d = adir[p];
      const vo = d * NV;
      const at = gOff + (y + 2) * P + x + 2;
      let see = 0;
      for (let k = 0; k < NV; k++) {
        // Cells outside the grid are in the wall margin of vgrid: they read as walls.
        const c = vg[at + vOffs[vo + k]];
        codes[k] = c;
        see |= SEE[c] << k;
      }
      const vis = VIS[see];
      const base = p * O;
      for (let k = 0; k < NV; k++) {
        const o = base + k * 3;
        if ((vis >> k) & 1) {
          const e = codes[k] * 3;
          obs[o] = ENC[e];
          obs[o + 1] = ENC[e + 1];
          obs[o + 2] = ENC[e + 2];
        } else {
          obs[o] = 0;
          obs[o + 1] = 0;
          obs[o + 2] = 0;
        }
      }
      if (this.drawAgents) {
        const fx = DDX[d];
        const fy = DDY[d];
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          const dx = ax[aOff + j] - x;
          const dy = ay[aOff + j] - y;
          const vy = 2 - (dx * fx + dy * fy);
          const vx = 1 + (dy * fx - dx * fy); // right vector r = (-fy, fx)
          if (vx < 0 || vx > 2 || vy < 0 || vy > 2) continue;
          const k = vx * 3 + vy;
          if (((vis >> k) & 1) === 0) continue;
          const o = base + k * 3;
          obs[o] = OBJ_AGENT;
          obs[o + 1] = DCOL[j];
          obs[o + 2] = adir[aOff + j];
        }
      }
      let off = base + VSIZE;
      if (this.doorFlag) {
        const v = this.opened[p] === 1 ? F_DOOR_OPEN : F_DOOR_CLOSED;
        obs[off] = v;
        obs[off + 1] = v;
        obs[off + 2] = v;
        off += 3;
      }
      if (this.keyFlag) {
        const v = this.carrier[b] === i ? F_KEY_CARRY : F_KEY_EMPTY;
        obs[off] = v;
        obs[off + 1] = v;
        obs[off + 2] = v;
        off += 3;
      }
      if (this.lastActFlag) {
        for (let a = 0; a < NA; a++) obs[off + a] = 0;
        const la = this.lastAction[p];
        if (la >= 0) obs[off + la] = 1;
      }
    }
  }

  // ------------------------------------------------------------------ replays

  protected override replayColumns(): readonly string[] {
    return REPLAY_FRAME_COLUMNS;
  }

  protected override replayMeta(b: number): Record<string, unknown> {
    const N = this.N;
    const S = this.S;
    const cfg = this.config;
    const doors: { x: number; y: number; owner: number }[] = [];
    for (let i = 0; i < N; i++) {
      const c = this.doorPos[b * N + i]; // -1: opened before the episode (test layouts only)
      doors.push({ x: c < 0 ? -1 : c % S, y: c < 0 ? -1 : Math.floor(c / S), owner: i });
    }
    const meta: ManitokanReplayMeta = {
      width: S,
      height: S,
      numAgents: N,
      walls: 'border',
      doors,
      doorColors: DOOR_COLOR_NAMES.slice(0, N),
      doorColorIdx: DCOL.slice(0, N),
      keyColor: KEY_COLOR_NAME,
      actionNames: [...ACTION_NAMES],
      agentOrder: Array.from(this.order.subarray(b * N, b * N + N)),
      obsSize: this.obsSize,
      envObsSize: this.spec.envObsSize,
      obsLayout: { view: VSIZE, doorFlag: cfg.obsDoorFlag, keyFlag: cfg.obsKeyFlag, lastAction: cfg.obsLastAction },
      showOtherAgents: cfg.showOtherAgents,
      viewCodes: viewCodeTable(N),
      eventBits: EVENT_BITS,
      individualReward: [...cfg.individualReward],
      episodeLimit: cfg.episodeLimit,
    };
    return meta as unknown as Record<string, unknown>;
  }

  protected override recordStep(_b: number, rec: ReplayRecorder): void {
    const ev = rec.col('event');
    for (let i = 0; i < this.N; i++) ev.push(this.ev[i]);
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    const N = this.N;
    const S = this.S;
    const aOff = b * N;
    const agentX = rec.col('agent_x');
    const agentY = rec.col('agent_y');
    const agentDir = rec.col('agent_dir');
    const doorOpen = rec.col('door_open');
    const view = rec.col('view');
    for (let i = 0; i < N; i++) {
      agentX.push(this.ax[aOff + i]);
      agentY.push(this.ay[aOff + i]);
      agentDir.push(this.adir[aOff + i]);
      doorOpen.push(this.opened[aOff + i]);
      const o = (aOff + i) * this.obsSize;
      for (let k = 0; k < NV; k++) {
        view.push(viewCodeOf(N, this.obs[o + 3 * k], this.obs[o + 3 * k + 1], this.obs[o + 3 * k + 2]));
      }
    }
    rec.col('carrier').push(this.carrier[b]);
    const kp = this.keyPos[b];
    rec.col('key_x').push(kp < 0 ? -1 : kp % S);
    rec.col('key_y').push(kp < 0 ? -1 : Math.floor(kp / S));
  }

  // ------------------------------------------------------------------ checkpoints

  protected override stateHeader(): Record<string, number> {
    return { numAgents: this.N, size: this.S, obsSize: this.obsSize };
  }

  protected savedArrays() {
    return {
      grid: this.grid,
      ax: this.ax,
      ay: this.ay,
      adir: this.adir,
      carrier: this.carrier,
      keyPos: this.keyPos,
      doorPos: this.doorPos,
      opened: this.opened,
      numOpened: this.numOpened,
      order: this.order,
      lastAction: this.lastAction,
      oraclePaid: this.oraclePaid,
      pickups: this.pickups,
      drops: this.drops,
      dropChoices: this.dropChoices,
      firstReward: this.firstReward,
      distSum: this.distSum,
    };
  }

  /**
   * Checkpoints written before `dropChoices` existed (issue 8) still load: the counter of the
   * episode in progress restarts at 0 (only that episode's key_drop_choices is then low).
   */
  override setState(raw: unknown): void {
    const s = raw as Record<string, unknown> | null;
    if (s && typeof s === 'object' && !('dropChoices' in s)) raw = { ...s, dropChoices: new Array<number>(this.dropChoices.length).fill(0) };
    super.setState(raw);
  }

  // ------------------------------------------------------------------ inspection (tests, tools)
  /** The resolution order of copy b's current episode. */
  episodeOrder(b: number): number[] {
    return Array.from(this.order.subarray(b * this.N, b * this.N + this.N));
  }

  /** @internal Test-only: see `setLayoutForTest`. */
  _setLayout(b: number, layout: TestLayout): void {
    const N = this.N;
    const S = this.S;
    const g = this.grid;
    const gOff = b * this.cells;
    const aOff = b * N;
    const inside = (x: number, y: number) => x > 0 && y > 0 && x < S - 1 && y < S - 1;
    if (layout.agents.length !== N || layout.doors.length !== N) throw new Error(`setLayoutForTest: need ${N} agents and ${N} doors`);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        g[gOff + y * S + x] = x === 0 || y === 0 || x === S - 1 || y === S - 1 ? C_WALL : C_EMPTY;
      }
    }
    const put = (p: { x: number; y: number }, code: number, what: string) => {
      if (!inside(p.x, p.y) || g[gOff + p.y * S + p.x] !== C_EMPTY) throw new Error(`setLayoutForTest: ${what} at (${p.x}, ${p.y}) is not a free interior cell`);
      g[gOff + p.y * S + p.x] = code;
    };
    for (const w of layout.walls ?? []) put(w, C_WALL, 'wall');
    layout.doors.forEach((d, i) => {
      this.opened[aOff + i] = d ? 0 : 1;
      if (d) {
        put(d, C_DOOR0 + i, `door ${i}`);
        this.doorPos[aOff + i] = d.y * S + d.x;
      } else this.doorPos[aOff + i] = -1;
    });
    if (layout.key) {
      if (layout.carrier !== undefined && layout.carrier >= 0) throw new Error('setLayoutForTest: key on the floor and a carrier');
      put(layout.key, C_KEY, 'key');
      this.keyPos[b] = layout.key.y * S + layout.key.x;
      this.carrier[b] = -1;
    } else {
      if (layout.carrier === undefined || layout.carrier < 0 || layout.carrier >= N) throw new Error('setLayoutForTest: key: null needs a carrier');
      this.keyPos[b] = -1;
      this.carrier[b] = layout.carrier;
    }
    layout.agents.forEach((a, i) => {
      if (!inside(a.x, a.y) || g[gOff + a.y * S + a.x] === C_WALL || (g[gOff + a.y * S + a.x] >= C_DOOR0)) {
        throw new Error(`setLayoutForTest: agent ${i} at (${a.x}, ${a.y}) is not on a free interior cell`);
      }
      this.ax[aOff + i] = a.x;
      this.ay[aOff + i] = a.y;
      this.adir[aOff + i] = a.dir & 3;
    });
    if (layout.order) {
      if ([...layout.order].sort().join() !== Array.from({ length: N }, (_, i) => i).join()) throw new Error('setLayoutForTest: order must be a permutation');
      layout.order.forEach((v, k) => (this.order[aOff + k] = v));
    }
    this.finished[b] = 0;
    this.dones[b] = 0;
    this.truncated[b] = 0;
    for (let i = 0; i < N; i++) this.rewards[aOff + i] = 0;
    this.zeroCounters(b);
    this.beginEpisode(b);
  }
}

/**
 * TEST-ONLY: replace copy b's current episode by a hand-built layout (step 0, counters and
 * metric accumulators zeroed, the episode's agent order kept unless `order` is given, RNG
 * untouched; recording restarts if on). Not used by training code.
 */
export function setLayoutForTest(env: VecEnv, b: number, layout: TestLayout): void {
  if (!(env instanceof ManitokanVecEnv)) throw new Error('setLayoutForTest: not a Manitokan env');
  env._setLayout(b, layout);
}

export const manitokanEntry: EnvEntry = {
  id: 'manitokan',
  title: 'Manitokan (hidden gifts)',
  schema: manitokanSchema,
  spec: (config: Values) => manitokanSpec(parseManitokanConfig(config)),
  create: (config: Values, options: EnvOptions) => new ManitokanVecEnv(parseManitokanConfig(config), options),
};
