/**
 * Repeated normal-form (matrix) games, vectorised: N players, player i picks one of A_i actions
 * (the players' action sets may differ), and each player's reward is its entry of the payoff
 * table at the joint action. A game is only data: its players, their action names and the
 * payoff table. shared/specs/environments.md §6 and shared/specs/drima.md §2.
 *
 * Payoff tables: the joint action is a mixed-radix index, player 0 slowest,
 * j = ((a_0 * A_1) + a_1) * A_2 + ... ; `payoffs[j * N + i]` is player i's reward. A custom game
 * (`game = custom`) gives `actionsPerPlayer` and `payoffs` in this order, either N values per
 * joint action or one (a common-payoff game).
 *
 * Built-in games:
 * - prisoners-dilemma: DRIMA Fig. 1, C = 0, D = 1: CC (10,10), CD (0,18), DC (18,0), DD (2,2).
 * - maintain: Bi-AC's 3x3 general-sum game (environments.md §6.1, DRIMA Table 1): rows A, B, C
 *   (player 0), columns X, Y, Z (player 1); optimum A-X (20,15), NEs B-Y (10,5) and C-Z (5,10).
 * - escape: the common-payoff 3x3 candidate of environments.md §6.1 (UNVERIFIED against the
 *   Bi-AC paper): NE (0,0) = 15, optimum (2,2) = 30.
 * - meet-covid: DRIMA App. B.1's three-player game. The paper's table is an image that could not
 *   be found: only (F,F,F) = (7,7,6) is the paper's, every other entry is the GUESSED
 *   reconstruction of drima.md §2.4, built here from its generating rules (students Gus and
 *   Henry choose Henry's room R, classroom C or cornfield F; Scooter chooses R or F).
 * - hunting-saddle: DRIMA Table 2, attacker x interceptor, {approach, avoid}: (15,-5), (5,0),
 *   (0,-5), (0,0); the saddle NE is (approach, avoid), the optimum (approach, approach).
 * - collection-saddle: DRIMA Table 3, green x purple, {approach, leave}: (10,5), (20,0), (0,10),
 *   (0,0); the saddle NE is (approach, approach), the optimum (approach, leave).
 *
 * Protocol (drima.md §2.1, where the paper is silent, these are the spec's design choices):
 * - `observation = constant` (default): every player sees [1] (DRIMA's single-state continuing
 *   game). `previous-joint-action`: a one-hot over 1 + J values, index 0 = the episode's first
 *   step, 1 + j = last step's joint action j (the LOLA-style iterated protocol of
 *   environments.md §6.2, an option). The global state is the same vector.
 * - `episodeLimit` steps per episode (default 25 = DRIMA's logging/update segment; 1 = one-shot).
 *   By default a game never terminates: the limit is a truncation of a continuing game, so
 *   learners bootstrap. `terminal = true` makes the last step a true termination (Bi-AC's
 *   one-shot game is "done" after its step).
 *
 * Metrics per episode: the frequency with which each player played each action (so their mean
 * over a round is the empirical action probability, and a chart over training shows the
 * policies), each player's return, the total return, the total reward per step (DRIMA's "total
 * reward" axis), and `optimum_rate`, the fraction of steps at a cooperative optimum (a joint
 * action with the largest payoff sum; ties all count).
 *
 * Replays: no per-frame state. Step columns (t = 0..steps-1): `action` (t*N + i, player i's
 * action), `reward` (t*N + i), `joint` (t, the joint index j). `meta`: game, players (names),
 * actionNames (per player), numActions (per player), payoffs (the table above), optimum (joint
 * indices), observation, episodeLimit, end.
 */
import { ConfigError, coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { VecEnvBase, type ReplayRecorder } from './base';
import { agent, buildSpec, discrete, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "mtrx"). */
const ENV_STREAM = 0x6d747278;

export const matrixGameSchema = {
  game: {
    type: 'enum',
    default: 'prisoners-dilemma',
    values: ['prisoners-dilemma', 'maintain', 'escape', 'meet-covid', 'hunting-saddle', 'collection-saddle', 'custom'],
    doc: "Which payoff table: DRIMA's Prisoner's Dilemma, Bi-AC's Maintain, the Escape candidate (unverified), DRIMA's three-player game (reconstructed, only (F,F,F) is the paper's), DRIMA Table 2 (hunting saddle) or Table 3 (collection saddle), or custom (actionsPerPlayer + payoffs).",
  },
  actionsPerPlayer: {
    type: 'floatList',
    default: [2, 2],
    min: 1,
    doc: 'Custom games only: number of actions of each player (the list length is the number of players).',
    when: { field: 'game', is: 'custom' },
  },
  payoffs: {
    type: 'floatList',
    default: [],
    doc: "Custom games only: payoff table over joint actions (player 0's action slowest), N values per joint action (player i's reward at position i) or 1 (common payoff).",
    when: { field: 'game', is: 'custom' },
  },
  episodeLimit: { type: 'int', default: 25, min: 1, max: 100_000, doc: 'Steps per episode (DRIMA segments: 25; 1 = one-shot game).' },
  terminal: {
    type: 'bool',
    default: false,
    doc: "Whether the episode's last step is a true termination (a one-shot game) rather than a time-limit cut of a continuing game (DRIMA's repeated game, the default).",
  },
  observation: {
    type: 'enum',
    default: 'constant',
    values: ['constant', 'previous-joint-action'],
    doc: "constant: every player sees [1] (DRIMA's single-state game). previous-joint-action: one-hot of the last joint action (index 0 at an episode's first step), the LOLA-style iterated protocol.",
  },
} as const satisfies Schema;

interface GameDef {
  readonly title: string;
  readonly players: readonly string[];
  /** Per player, its action names. */
  readonly actions: readonly (readonly string[])[];
  /** [J * N] per joint action, each player's payoff. */
  readonly payoffs: readonly number[];
}

/** DRIMA App. B.1's reconstructed three-player game, from drima.md §2.4's generating rules. */
function meetCovid(): GameDef {
  const place = ['R', 'C', 'F'];
  const scooterPlace = ['R', 'F'];
  const pay: number[] = [];
  for (const g of place) {
    for (const h of place) {
      for (const s of scooterPlace) {
        const student = (me: string, other: string): number => {
          const scooterHere = s === me;
          if (me === other) return me === 'F' ? (scooterHere ? 7 : 4) : me === 'C' ? 5 : scooterHere ? 0 : 6;
          return me === 'F' ? (scooterHere ? 2 : 0) : me === 'C' ? 1 : scooterHere ? 0 : 1;
        };
        const present = (g === s ? 1 : 0) + (h === s ? 1 : 0);
        const scooter = s === 'F' ? [0, 2, 6][present] : present > 0 ? 5 : 3;
        pay.push(student(g, h), student(h, g), scooter);
      }
    }
  }
  return {
    title: 'Meet during COVID (3 players, reconstructed)',
    players: ['Gus', 'Henry', 'Scooter'],
    actions: [
      ["Henry's room", 'classroom', 'cornfield'],
      ["Henry's room", 'classroom', 'cornfield'],
      ["Henry's room", 'cornfield'],
    ],
    payoffs: pay,
  };
}

const GAMES: Record<string, () => GameDef> = {
  'prisoners-dilemma': () => ({
    title: "Prisoner's Dilemma",
    players: ['Red', 'Blue'],
    actions: [
      ['C', 'D'],
      ['C', 'D'],
    ],
    payoffs: [10, 10, 0, 18, 18, 0, 2, 2],
  }),
  maintain: () => ({
    title: 'Maintain',
    players: ['row', 'column'],
    actions: [
      ['A', 'B', 'C'],
      ['X', 'Y', 'Z'],
    ],
    payoffs: [20, 15, 0, 0, 0, 0, 30, 0, 10, 5, 0, 0, 0, 0, 0, 0, 5, 10],
  }),
  escape: () => ({
    title: 'Escape (unverified candidate)',
    players: ['row', 'column'],
    actions: [
      ['0', '1', '2'],
      ['0', '1', '2'],
    ],
    payoffs: [15, 15, 10, 10, 0, 0, 10, 10, 10, 10, 0, 0, 0, 0, 0, 0, 30, 30],
  }),
  'meet-covid': meetCovid,
  // DRIMA App. B.2.1 Table 2: the Cooperative Hunting saddle as a 2x2 game. Under independent
  // learning the interceptor's Avoid dominates (0 > -5): (Approach, Avoid) = (5, 0).
  'hunting-saddle': () => ({
    title: 'Hunting saddle (DRIMA Table 2)',
    players: ['attacker', 'interceptor'],
    actions: [
      ['approach', 'avoid'],
      ['approach', 'avoid'],
    ],
    payoffs: [15, -5, 5, 0, 0, -5, 0, 0],
  }),
  // DRIMA App. B.2.2 Table 3: the Cooperative Collection saddle. Purple's Approach dominates
  // (5 > 0, 10 > 0): (Approach, Approach) = (10, 5); the optimum is (Approach, Leave) = (20, 0).
  'collection-saddle': () => ({
    title: 'Collection saddle (DRIMA Table 3)',
    players: ['green', 'purple'],
    actions: [
      ['approach', 'leave'],
      ['approach', 'leave'],
    ],
    payoffs: [10, 5, 20, 0, 0, 10, 0, 0],
  }),
};

export interface MatrixGameConfig {
  readonly game: string;
  readonly def: GameDef;
  readonly episodeLimit: number;
  readonly terminal: boolean;
  readonly observation: 'constant' | 'previous-joint-action';
}

export function parseMatrixGameConfig(config: Values): MatrixGameConfig {
  const v: Values = defaults(matrixGameSchema);
  for (const [k, spec] of Object.entries(matrixGameSchema as Schema)) {
    const raw = config[k];
    // An empty payoff list is the default (no custom table); the schema's list type rejects [].
    if (raw !== undefined && !(k === 'payoffs' && Array.isArray(raw) && raw.length === 0)) v[k] = coerceField(`env.${k}`, spec, raw);
  }
  const game = v.game as string;
  let def: GameDef;
  if (game === 'custom') {
    const A = v.actionsPerPlayer as number[];
    if (A.length < 1 || A.some((a) => !Number.isInteger(a) || a < 1)) {
      throw new ConfigError('env.actionsPerPlayer', 'one integer >= 1 per player', A);
    }
    const N = A.length;
    const J = A.reduce((p, a) => p * a, 1);
    if (J > 65536) throw new ConfigError('env.actionsPerPlayer', 'at most 65536 joint actions in all', A);
    const p = v.payoffs as number[];
    if (p.length !== J * N && p.length !== J) {
      throw new ConfigError('env.payoffs', `${J * N} values (${N} per joint action) or ${J} (common payoff) for actionsPerPlayer [${A.join(', ')}]`, p);
    }
    const payoffs = p.length === J * N ? [...p] : p.flatMap((x) => new Array<number>(N).fill(x));
    def = {
      title: 'Custom matrix game',
      players: A.map((_, i) => `player ${i}`),
      actions: A.map((n) => Array.from({ length: n }, (_, k) => String(k))),
      payoffs,
    };
  } else {
    if ((v.payoffs as number[]).length > 0) throw new ConfigError('env.payoffs', `empty unless env.game is custom (game is ${game})`, v.payoffs);
    def = GAMES[game]();
  }
  return {
    game,
    def,
    episodeLimit: v.episodeLimit as number,
    terminal: v.terminal as boolean,
    observation: v.observation as 'constant' | 'previous-joint-action',
  };
}

function numJoint(def: GameDef): number {
  return def.actions.reduce((p, a) => p * a.length, 1);
}

/** Joint actions whose payoff sum is the largest. */
export function cooperativeOptima(def: GameDef): number[] {
  const N = def.players.length;
  const J = numJoint(def);
  let best = -Infinity;
  let out: number[] = [];
  for (let j = 0; j < J; j++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += def.payoffs[j * N + i];
    if (s > best) {
      best = s;
      out = [j];
    } else if (s === best) out.push(j);
  }
  return out;
}

function metrics(def: GameDef): MetricSpec[] {
  const out: MetricSpec[] = [];
  def.players.forEach((p, i) => {
    def.actions[i].forEach((name, a) => {
      out.push({ key: `action_freq_${i}_${a}`, title: `P(${p} plays ${name})`, description: `fraction of the episode's steps on which ${p} played ${name}` });
    });
  });
  def.players.forEach((p, i) => out.push({ key: `return_${i}`, title: `Return, ${p}`, description: `sum of ${p}'s payoffs over the episode` }));
  out.push({ key: 'return_total', title: 'Return (all players)', role: 'return', headline: true, description: "sum over players of the episode return" });
  out.push({ key: 'reward_per_step', title: 'Total reward per step', headline: true, description: "sum of all players' payoffs per step, averaged over the episode (DRIMA's total reward)" });
  out.push({ key: 'optimum_rate', title: 'At the cooperative optimum', role: 'success', headline: true, description: 'fraction of steps whose joint action has the largest payoff sum' });
  out.push({ key: 'episode_length', title: 'Episode length', description: 'steps taken' });
  return out;
}

export function matrixGameSpec(cfg: MatrixGameConfig): EnvSpec {
  const def = cfg.def;
  const obsSize = cfg.observation === 'constant' ? 1 : 1 + numJoint(def);
  const obsName = cfg.observation === 'constant' ? 'constant 1' : 'previous joint action (one-hot, 0 = first step)';
  const agents = def.players.map((p, i) => agent(p, 0, discrete(def.actions[i]), [features(obsName, obsSize)]));
  const m = metrics(def);
  return buildSpec({
    id: 'matrix-game',
    agents,
    teams: [team('players', agents.map((_, i) => i))],
    stateLayout: [features(obsName, obsSize)],
    episodeLimit: cfg.episodeLimit,
    metricKeys: m.map((x) => x.key),
    metrics: m,
  });
}

export class MatrixGameVecEnv extends VecEnvBase {
  readonly config: MatrixGameConfig;
  private readonly J: number;
  private readonly maxA: number;
  private readonly radix: Int32Array;
  private readonly pay: Float64Array;
  private readonly isOptimum: Uint8Array;
  private readonly oneHot: boolean;
  private readonly terminal: boolean;
  private readonly metricKeyOrder: readonly string[];

  /** [B] last joint action, -1 at an episode's start. */
  private readonly lastJoint: Int32Array;
  /** [B, N, maxA] action counts of the current episode. */
  private readonly counts: Int32Array;
  private readonly optimumSteps: Int32Array;

  constructor(config: MatrixGameConfig, options: EnvOptions) {
    super(matrixGameSpec(config), options, ENV_STREAM);
    this.config = config;
    const def = config.def;
    const N = this.N;
    const B = this.numEnvs;
    this.J = numJoint(def);
    this.maxA = this.spec.numActions;
    this.radix = Int32Array.from(def.actions.map((a) => a.length));
    this.pay = Float64Array.from(def.payoffs);
    this.isOptimum = new Uint8Array(this.J);
    for (const j of cooperativeOptima(def)) this.isOptimum[j] = 1;
    this.oneHot = config.observation !== 'constant';
    this.terminal = config.terminal;
    this.metricKeyOrder = this.spec.metricKeys;
    this.lastJoint = new Int32Array(B);
    this.counts = new Int32Array(B * N * this.maxA);
    this.optimumSteps = new Int32Array(B);
    this.reset(0);
  }

  protected resetCopy(b: number, _rng: Rng): void {
    this.lastJoint[b] = -1;
    const w = this.N * this.maxA;
    this.counts.fill(0, b * w, (b + 1) * w);
    this.optimumSteps[b] = 0;
  }

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const N = this.N;
    const aOff = b * N;
    let j = 0;
    for (let i = 0; i < N; i++) {
      const a = actions[aOff + i];
      const n = this.radix[i];
      if (!(a >= 0 && a < n)) throw new Error(`matrix-game.step: action ${a} of copy ${b}, player ${i} is not in 0..${n - 1}`);
      j = j * n + a;
      this.counts[(aOff + i) * this.maxA + a]++;
    }
    const p = this.pay;
    for (let i = 0; i < N; i++) rew[i] += p[j * N + i];
    this.optimumSteps[b] += this.isOptimum[j];
    this.lastJoint[b] = j;
    return this.terminal && this.stepCount[b] + 1 >= this.limit;
  }

  protected observe(b: number, _full: boolean): void {
    const N = this.N;
    const O = this.spec.obsSize;
    const obs = this.obs;
    const st = this.state;
    if (!this.oneHot) {
      for (let i = 0; i < N; i++) obs[(b * N + i) * O] = 1;
      st[b] = 1;
      return;
    }
    const hot = this.lastJoint[b] + 1;
    for (let i = 0; i < N; i++) {
      const o = (b * N + i) * O;
      obs.fill(0, o, o + O);
      obs[o + hot] = 1;
    }
    st.fill(0, b * O, (b + 1) * O);
    st[b * O + hot] = 1;
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const N = this.N;
    const len = this.stepCount[b];
    const keys = this.metricKeyOrder;
    let k = 0;
    for (let i = 0; i < N; i++) {
      for (let a = 0; a < this.radix[i]; a++) m[keys[k++]] = len > 0 ? this.counts[(b * N + i) * this.maxA + a] / len : 0;
    }
    let total = 0;
    for (let i = 0; i < N; i++) {
      const r = this.episodeReturn(b, i);
      m[`return_${i}`] = r;
      total += r;
    }
    m.return_total = total;
    m.reward_per_step = len > 0 ? total / len : 0;
    m.optimum_rate = len > 0 ? this.optimumSteps[b] / len : 0;
    m.episode_length = len;
  }

  protected savedArrays() {
    return { lastJoint: this.lastJoint, counts: this.counts, optimumSteps: this.optimumSteps };
  }

  protected override stateHeader(): Record<string, number> {
    return { numAgents: this.N, numJoint: this.J, obsSize: this.spec.obsSize };
  }

  protected override replayMeta(_b: number): Record<string, unknown> {
    const def = this.config.def;
    return {
      game: this.config.game,
      title: def.title,
      players: [...def.players],
      actionNames: def.actions.map((a) => [...a]),
      numActions: Array.from(this.radix),
      payoffs: [...def.payoffs],
      optimum: cooperativeOptima(def),
      observation: this.config.observation,
      episodeLimit: this.limit,
    };
  }

  protected override recordStep(b: number, rec: ReplayRecorder): void {
    rec.col('joint').push(this.lastJoint[b]);
  }
}

export const matrixGameEntry: EnvEntry = {
  id: 'matrix-game',
  title: 'Repeated matrix game',
  schema: matrixGameSchema,
  deterministic: true,
  variants: [
    { name: 'maintain, previous joint action, one-shot terminal', config: { game: 'maintain', observation: 'previous-joint-action', episodeLimit: 1, terminal: true } },
    { name: 'meet-covid (3 players, 3/3/2 actions)', config: { game: 'meet-covid', observation: 'previous-joint-action' } },
    { name: 'custom common-payoff 2x2x2', config: { game: 'custom', actionsPerPlayer: [2, 2, 2], payoffs: [1, 0, 0, 0, 0, 0, 0, 5], episodeLimit: 7 } },
  ],
  spec: (config: Values) => matrixGameSpec(parseMatrixGameConfig(config)),
  create: (config: Values, options: EnvOptions) => new MatrixGameVecEnv(parseMatrixGameConfig(config), options),
};
