/**
 * DRIMA's reward interaction (shared/specs/drima.md §1), as a VecEnv wrapper: the worker wraps
 * the run's env when `train.interaction` is not `off`, and the learner reads the reshaped reward
 * from `env.rewards` like any other reward. No learner knows which mode it runs in.
 *
 * Modes (the figure labels; §1.4):
 * - ind:       d_i = r_i - mu_i (centred on the agent's own tracker; `interactionIndReward =
 *              raw`: d_i = r_i);
 * - dri:       Eqn. 2: x = r_i - mu_bar, y = mean_{N^-i} r - mu_bar; if sgn x != sgn y the agent
 *              takes the neighbourhood average (i included), else its own reward; both centred
 *              on mu_bar = mean_{N^i} mu (i included);
 * - dri-naive: always the neighbourhood average, centred (no sign test);
 * - ctde:      R = sum over learning agents of r_j, raw, for every agent (`interactionCtdeCentre`:
 *              R - mu_R). The centralised critic is the learner's own option.
 *
 * Choices where the paper is silent (drima.md §1.3 defaults, each an option here):
 * - sgn is three-valued and conflicts are compared literally, so one zero and one non-zero
 *   differential trigger (`interactionZeroSign = strict`: a conflict needs x * y < 0);
 *   |x| <= `interactionSignEps` counts as 0 (default 0: exact comparison);
 * - the test uses the trackers before this step's update (`interactionMuInTest = pre`);
 * - an isolated agent (no neighbour within the radius) keeps r_i - mu_i and never triggers;
 * - trackers start at `interactionMu0` (0), move with `interactionMuRate` (0.01, Algorithm 1's
 *   alpha) towards the ORIGINAL reward (Remark 2), persist across episodes and are part of the
 *   env's checkpoint state;
 * - one tracker per (copy, agent): each of the B copies is one instance of Algorithm 1's
 *   communication, so B = 1 is exactly the paper's loop and every copy's trackers estimate
 *   the same policy-level average;
 * - `interactionCentre = false` hands the learner r~ (not r~ - mu_bar) while the trigger still
 *   uses the trackers (§7: centring adds |mu_bar| per step in terminating tasks).
 *
 * Neighbour graph (§3.2): complete when `interactionRadius` is 0, else i and j are neighbours
 * when |p_i - p_j| <= radius on the post-step positions the env publishes in
 * `VecEnv.agentPositions` (declared by `EnvSpec.positionDims`). Only agents of learner teams
 * take part; scripted agents' rewards pass through untouched.
 *
 * Statistics (`drainStats`, per round, merged into the run's points by the worker):
 * `interaction/trigger_rate` (share of learning agent-steps with a conflict), per agent
 * `interaction/trigger_rate_<i>`, `interaction/reward_<i>` (original reward per step),
 * `interaction/reshaped_<i>` (what the learner got per step), `interaction/mu_<i>` (copy 0's
 * tracker at the round's end) and `interaction/neighbours` (mean |N^i|, i included).
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { EnvSpec, VecEnv } from './types';
import { VecEnvWrapper } from './wrapper';
import type { StatGroup } from '../stat-groups';

/** The wrapper's stats (`interactionStats`), as Learner internals titles them. */
export const INTERACTION_STAT_GROUP: StatGroup = {
  prefix: 'interaction',
  title: 'Reward interaction: trigger rates, original vs reshaped reward per agent',
  doc: 'interaction/trigger_rate(_<i>), interaction/reward_<i>, interaction/reshaped_<i>, interaction/mu_<i>, interaction/neighbours',
};

export const INTERACTION_MODES = ['off', 'ind', 'ctde', 'dri', 'dri-naive'] as const;
export type InteractionMode = Exclude<(typeof INTERACTION_MODES)[number], 'off'>;

/** Experiment-level fields (spread into the train section's schema). */
export const rewardInteractionSchema = {
  interaction: {
    type: 'enum',
    default: 'off',
    values: INTERACTION_MODES,
    doc: "DRIMA reward interaction wrapped around any learner: off (the env's rewards), ind (own reward centred on own average), ctde (sum of all agents' rewards), dri (conflict-triggered neighbourhood average, Eqn. 2), dri-naive (always the neighbourhood average).",
  },
  interactionRadius: {
    type: 'float',
    default: 0,
    min: 0,
    doc: 'Communication radius of the neighbour graph on post-step agent positions; 0 = complete graph (matrix games). Needs an env that declares agent positions.',
  },
  interactionZeroSign: {
    type: 'enum',
    default: 'literal',
    values: ['literal', 'strict'],
    doc: 'literal: sgn has three values and one zero differential against a non-zero one is a conflict (drima.md default); strict: a conflict needs opposite non-zero signs.',
  },
  interactionSignEps: { type: 'float', default: 0, min: 0, doc: 'Differentials with |x| <= this count as 0 in the sign test (0: exact comparison).' },
  interactionMuInTest: {
    type: 'enum',
    default: 'pre',
    values: ['pre', 'post'],
    doc: "Which trackers the sign test and centring use: before (pre, Algorithm 1's mu_t) or after this step's update.",
  },
  interactionIndReward: { type: 'enum', default: 'centred', values: ['centred', 'raw'], doc: 'ind mode: r_i - mu_i (centred, default) or r_i.' },
  interactionCentre: {
    type: 'bool',
    default: true,
    doc: 'ind/dri/dri-naive: subtract the neighbourhood average tracker from the learned reward (false: learn on r~ and keep the trackers for the trigger only).',
  },
  interactionCtdeCentre: { type: 'bool', default: false, doc: 'ctde: learn on R - mu_R (R tracked like the agents) instead of the raw sum R.' },
  interactionMuRate: { type: 'float', default: 0.01, min: 0, max: 1, doc: "Step size of the running average-reward trackers (Algorithm 1's alpha; drima.md: 0.01)." },
  interactionMu0: { type: 'float', default: 0, doc: 'Initial value of every tracker (drima.md: 0).' },
} as const satisfies Schema;

export type InteractionConfig = Values<typeof rewardInteractionSchema>;

export interface InteractOptions {
  readonly zeroSign?: 'literal' | 'strict';
  readonly signEps?: number;
  readonly indReward?: 'centred' | 'raw';
  readonly centre?: boolean;
}

export interface InteractResult {
  readonly d: number[];
  readonly conflict: boolean[];
  /** |N^i| (i included). */
  readonly neighbours: number[];
}

function sgn(x: number, eps: number): number {
  return x > eps ? 1 : x < -eps ? -1 : 0;
}

/**
 * The DRI function of drima.md §1.7 for one step: rewards r, trackers mu, adjacency adj
 * (adj[i][j]: j is a neighbour of i; the self-loop is implied and adj[i][i] is ignored).
 * ctde is not a per-neighbourhood rule: every agent gets the sum of r.
 */
export function interact(r: readonly number[], mu: readonly number[], adj: readonly (readonly boolean[])[], mode: InteractionMode, opt: InteractOptions = {}): InteractResult {
  const n = r.length;
  const d = new Array<number>(n).fill(0);
  const conflict = new Array<boolean>(n).fill(false);
  const neighbours = new Array<number>(n).fill(1);
  if (mode === 'ctde') {
    const R = r.reduce((a, b) => a + b, 0);
    return { d: d.fill(R), conflict, neighbours: neighbours.fill(n) };
  }
  const eps = opt.signEps ?? 0;
  const strict = opt.zeroSign === 'strict';
  const centre = opt.centre ?? true;
  for (let i = 0; i < n; i++) {
    if (mode === 'ind') {
      d[i] = opt.indReward === 'raw' ? r[i] : r[i] - mu[i];
      continue;
    }
    let rOthers = 0;
    let muSum = mu[i];
    let k = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || !adj[i][j]) continue;
      rOthers += r[j];
      muSum += mu[j];
      k++;
    }
    neighbours[i] = k + 1;
    if (k === 0) {
      d[i] = centre ? r[i] - mu[i] : r[i];
      continue;
    }
    const muBar = muSum / (k + 1);
    const avgAll = (rOthers + r[i]) / (k + 1);
    let take = mode === 'dri-naive';
    if (mode === 'dri') {
      const sx = sgn(r[i] - muBar, eps);
      const sy = sgn(rOthers / k - muBar, eps);
      take = strict ? sx * sy < 0 : sx !== sy;
      conflict[i] = take;
    }
    const rt = take ? avgAll : r[i];
    d[i] = centre ? rt - muBar : rt;
  }
  return { d, conflict, neighbours };
}

/** Checkpoint state of the wrapper (the inner env's under `inner`). */
interface WrapperState {
  readonly interaction: 1;
  readonly inner: unknown;
  readonly mu: number[];
  readonly muR: number[];
}

/**
 * The wrapped env: every buffer and method is the inner env's, except `rewards` (the reshaped
 * ones) and the checkpoint state (inner state plus the trackers).
 */
export class RewardInteractionEnv extends VecEnvWrapper {
  readonly rewards: Float32Array;
  readonly mode: InteractionMode;
  /** [B, N] trackers mu (float64); only learning agents' entries move. */
  readonly mu: Float64Array;
  /** [B] tracker of the summed reward (ctde with centring). */
  readonly muR: Float64Array;

  private readonly cfg: InteractionConfig;
  private readonly learners: Int32Array;
  private readonly wasFinished: Uint8Array;
  private readonly rBuf: number[];
  private readonly muBuf: number[];
  private readonly adj: boolean[][];
  // Round statistics.
  private agentSteps = 0;
  private triggers = 0;
  private neighbourSum = 0;
  private readonly trigPer: Float64Array;
  private readonly rSum: Float64Array;
  private readonly dSum: Float64Array;
  private readonly stepsPer: Float64Array;

  constructor(inner: VecEnv, config: Values) {
    super(inner);
    const cfg = (this.cfg = typedValues('train', rewardInteractionSchema, config));
    if (cfg.interaction === 'off') throw new Error('RewardInteractionEnv: interaction is off (the worker does not wrap then)');
    this.mode = cfg.interaction;
    const spec = inner.spec;
    if (cfg.interactionRadius > 0 && !(spec.positionDims && spec.positionDims > 0)) {
      throw new ConfigError('train.interactionRadius', `0 (a complete graph) for env ${spec.id}, which declares no agent positions`, cfg.interactionRadius);
    }
    const learned = spec.teams.filter((t) => t.controller === 'learner').flatMap((t) => [...t.agents]);
    this.learners = Int32Array.from(learned.sort((a, b) => a - b));
    const B = inner.numEnvs;
    const N = spec.numAgents;
    const L = this.learners.length;
    this.rewards = new Float32Array(B * N);
    this.mu = new Float64Array(B * N).fill(cfg.interactionMu0);
    this.muR = new Float64Array(B).fill(cfg.interactionMu0);
    this.wasFinished = new Uint8Array(B);
    this.rBuf = new Array<number>(L).fill(0);
    this.muBuf = new Array<number>(L).fill(0);
    this.adj = Array.from({ length: L }, () => new Array<boolean>(L).fill(true));
    this.trigPer = new Float64Array(N);
    this.rSum = new Float64Array(N);
    this.dSum = new Float64Array(N);
    this.stepsPer = new Float64Array(N);
  }

  get spec(): EnvSpec {
    return this.inner.spec;
  }
  override reset(seed: number): void {
    this.inner.reset(seed);
    this.rewards.fill(0);
  }

  override step(actions: Int32Array, boxActions?: Float32Array): void {
    const B = this.numEnvs;
    this.wasFinished.set(this.inner.finished);
    this.inner.step(actions, boxActions);
    this.rewards.set(this.inner.rewards);
    for (let b = 0; b < B; b++) if (!this.wasFinished[b]) this.reshape(b);
  }

  private reshape(b: number): void {
    const N = this.spec.numAgents;
    const L = this.learners;
    const nL = L.length;
    const raw = this.inner.rewards;
    const cfg = this.cfg;
    const alpha = cfg.interactionMuRate;
    const r = this.rBuf;
    const mu = this.muBuf;
    for (let k = 0; k < nL; k++) r[k] = raw[b * N + L[k]];
    const post = cfg.interactionMuInTest === 'post';
    const update = () => {
      for (let k = 0; k < nL; k++) {
        const o = b * N + L[k];
        this.mu[o] += alpha * (r[k] - this.mu[o]);
      }
    };
    if (post) update();
    for (let k = 0; k < nL; k++) mu[k] = this.mu[b * N + L[k]];
    if (cfg.interactionRadius > 0) this.buildGraph(b);
    let res: InteractResult;
    if (this.mode === 'ctde') {
      const R = r.reduce((a, x) => a + x, 0);
      const muR = this.muR[b];
      const dR = cfg.interactionCtdeCentre ? R - muR : R;
      this.muR[b] = muR + alpha * (R - muR);
      res = { d: new Array<number>(nL).fill(dR), conflict: new Array<boolean>(nL).fill(false), neighbours: new Array<number>(nL).fill(nL) };
    } else {
      res = interact(r, mu, this.adj, this.mode, {
        zeroSign: cfg.interactionZeroSign,
        signEps: cfg.interactionSignEps,
        indReward: cfg.interactionIndReward,
        centre: cfg.interactionCentre,
      });
    }
    if (!post) update();
    for (let k = 0; k < nL; k++) {
      const i = L[k];
      this.rewards[b * N + i] = res.d[k];
      this.rSum[i] += r[k];
      this.dSum[i] += res.d[k];
      this.stepsPer[i]++;
      if (res.conflict[k]) {
        this.trigPer[i]++;
        this.triggers++;
      }
      this.neighbourSum += res.neighbours[k];
      this.agentSteps++;
    }
  }

  /** Radius graph of copy b from the env's post-step positions. */
  private buildGraph(b: number): void {
    const pos = this.inner.agentPositions;
    const D = this.spec.positionDims ?? 0;
    if (!pos) throw new Error(`${this.spec.id}: declares positionDims but publishes no agentPositions`);
    const N = this.spec.numAgents;
    const L = this.learners;
    const r2 = this.cfg.interactionRadius ** 2;
    for (let x = 0; x < L.length; x++) {
      for (let y = x + 1; y < L.length; y++) {
        let s = 0;
        for (let c = 0; c < D; c++) {
          const dd = pos[(b * N + L[x]) * D + c] - pos[(b * N + L[y]) * D + c];
          s += dd * dd;
        }
        const near = s <= r2;
        this.adj[x][y] = near;
        this.adj[y][x] = near;
      }
    }
  }

  /** The round's interaction statistics (then cleared). */
  drainStats(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.agentSteps === 0) return out;
    const N = this.spec.numAgents;
    if (this.mode === 'dri') out['interaction/trigger_rate'] = this.triggers / this.agentSteps;
    out['interaction/neighbours'] = this.neighbourSum / this.agentSteps;
    for (const i of this.learners) {
      const n = this.stepsPer[i];
      if (n === 0) continue;
      if (this.mode === 'dri') out[`interaction/trigger_rate_${i}`] = this.trigPer[i] / n;
      out[`interaction/reward_${i}`] = this.rSum[i] / n;
      out[`interaction/reshaped_${i}`] = this.dSum[i] / n;
      out[`interaction/mu_${i}`] = this.mode === 'ctde' ? this.muR[0] : this.mu[i];
    }
    this.agentSteps = this.triggers = this.neighbourSum = 0;
    for (const a of [this.trigPer, this.rSum, this.dSum, this.stepsPer]) a.fill(0, 0, N);
    return out;
  }

  override getState(): unknown {
    const s: WrapperState = { interaction: 1, inner: this.inner.getState(), mu: Array.from(this.mu), muR: Array.from(this.muR) };
    return s;
  }

  override setState(raw: unknown): void {
    const s = raw as WrapperState;
    if (!s || s.interaction !== 1 || !Array.isArray(s.mu) || s.mu.length !== this.mu.length || !Array.isArray(s.muR) || s.muR.length !== this.muR.length) {
      throw new Error(`${this.spec.id}.setState: the checkpoint holds no reward-interaction trackers for ${this.numEnvs} copies x ${this.spec.numAgents} agents (was it saved with train.interaction = off?)`);
    }
    this.inner.setState(s.inner);
    this.mu.set(s.mu);
    this.muR.set(s.muR);
  }
}

/** The env a run trains on: the env itself, or the env wrapped in the interaction module. */
export function withRewardInteraction(env: VecEnv, train: Values): VecEnv {
  const mode = train.interaction ?? 'off';
  return mode === 'off' ? env : new RewardInteractionEnv(env, train);
}

/** Statistics of a wrapped env for this round (none for an unwrapped one). */
export function interactionStats(env: VecEnv): Record<string, number> {
  return env instanceof RewardInteractionEnv ? env.drainStats() : {};
}
