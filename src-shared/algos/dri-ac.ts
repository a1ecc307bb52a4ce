/**
 * DRIMA's Algorithm 1 (App. C; shared/specs/drima.md §1.5): the reference actor-critic, one
 * per agent, updated after every env step, without TensorFlow.
 *
 * Per agent i and step t, with d the reward the env hands over (the reward-interaction wrapper
 * makes it the differential reward of the run's mode; the learner does not know which):
 *   delta = d + gamma (1 - terminated) V(o') - V(o)        (Algorithm 1: gamma = 1)
 *   omega += alpha_t delta grad V(o)                        (critic, faster time scale)
 *   theta += beta_t delta grad log pi(a | o)                (actor, slower time scale)
 * The average-reward tracker of Algorithm 1 line 6 is the wrapper's (`train.interaction*`),
 * so this file holds only the actor-critic.
 *
 * Parameterisation (Cairn's choice; the paper leaves it open): linear in the observation,
 * logits = theta_i^T o and V = omega_i . o. On a constant observation ([1], DRIMA's single-state
 * games) this is exactly one logit vector and one scalar critic per agent (the paper's tabular
 * case, where V(o') - V(o) = 0 and delta = d, Eqn. 4); on one-hot observations it is a table
 * per state; on other features it is linear function approximation.
 *
 * Step sizes (drima.md §1.6, the paper gives none): constant alpha = beta = 0.01 (default), or
 * `schedule = paper`: alpha_t = 0.05 / (1 + t/1000)^0.6, beta_t = 0.05 / (1 + t/1000)^0.9,
 * which satisfy the paper's Assumption 2 (t counts this learner's steps).
 * With B copies, every live copy's transition is one update, applied in copy order.
 * Parameters start at zero: uniform policies, as the spec's prototype runs.
 * Parameters are float64 and checkpointed exactly (as JSON in the checkpoint's extra; the
 * tensors hold float32 copies for inspection).
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import { learnerAgents } from '../envs/spaces';
import type { EnvSpec, VecEnv } from '../envs/types';
import { argmaxMasked, maskedProbs, sampleIndex } from '../nn/categorical';
import { envProblems } from './core/compat';
import { counter, loadLearner, saveLearner } from './core/checkpoint';
import { LockstepRollout } from './core/rollout';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

export const driAcSchema = {
  alpha: { type: 'float', default: 0.01, min: 0, doc: 'Critic step size alpha (constant schedule; drima.md §1.6: 0.01).' },
  beta: { type: 'float', default: 0.01, min: 0, doc: 'Actor step size beta (constant schedule; drima.md §1.6: 0.01, or 0.002 for strict two time scales).' },
  schedule: {
    type: 'enum',
    default: 'constant',
    values: ['constant', 'paper'],
    doc: "constant: alpha and beta as set; paper: alpha_t = 0.05/(1+t/1000)^0.6, beta_t = 0.05/(1+t/1000)^0.9 (satisfies the paper's Assumption 2).",
  },
  gamma: { type: 'float', default: 1, min: 0, max: 1, doc: "Discount of V(o') in the TD error (Algorithm 1's average-reward form: 1)." },
} as const satisfies Schema;

type DriAcConfig = Values<typeof driAcSchema>;

const NEEDS = { actions: 'discrete', controllers: ['learner', 'script'] } as const;

/** Per learner agent: linear actor [obs x A] and critic [obs], float64. */
class LinearAc {
  readonly agents: number[];
  readonly O: number;
  readonly A: number;
  readonly theta: Float64Array;
  readonly omega: Float64Array;

  constructor(spec: EnvSpec) {
    this.agents = learnerAgents(spec);
    this.O = spec.obsSize;
    this.A = spec.numActions;
    this.theta = new Float64Array(this.agents.length * this.O * this.A);
    this.omega = new Float64Array(this.agents.length * this.O);
  }

  /** Logits of learner k on the observation at obs[off..off+O) into out[0..A). */
  logits(k: number, obs: ArrayLike<number>, off: number, out: Float64Array): void {
    const { O, A, theta } = this;
    out.fill(0);
    for (let x = 0; x < O; x++) {
      const v = obs[off + x];
      if (v === 0) continue;
      const w = (k * O + x) * A;
      for (let a = 0; a < A; a++) out[a] += v * theta[w + a];
    }
  }

  value(k: number, obs: ArrayLike<number>, off: number): number {
    let s = 0;
    for (let x = 0; x < this.O; x++) s += obs[off + x] * this.omega[k * this.O + x];
    return s;
  }

  toRecords(): Checkpoint['tensors'] {
    const L = this.agents.length;
    return {
      'ac/theta': { shape: [L, this.O, this.A], data: Float32Array.from(this.theta) },
      'ac/omega': { shape: [L, this.O], data: Float32Array.from(this.omega) },
    };
  }

  /** Exact values from a checkpoint's extra (`thetaExact`, `omegaExact`). */
  load(extra: Record<string, unknown>): void {
    const t = extra.thetaExact;
    const w = extra.omegaExact;
    if (!Array.isArray(t) || t.length !== this.theta.length || !Array.isArray(w) || w.length !== this.omega.length) {
      throw new Error(`dri-ac: checkpoint parameters do not fit ${this.agents.length} agents x ${this.O} observations x ${this.A} actions`);
    }
    this.theta.set(t as number[]);
    this.omega.set(w as number[]);
  }
}

class DriAcTrainer implements Trainer {
  private readonly cfg: DriAcConfig;
  private readonly rollout: LockstepRollout;
  private readonly net: LinearAc;
  private t = 0;
  /** [B, N, O] observations the actions were taken on. */
  private readonly prevObs: Float32Array;
  private readonly probs: Float64Array;
  private readonly logit: Float64Array;
  /** [B, L, A] probabilities of the taken step (for the score function). */
  private readonly stepProbs: Float64Array;

  constructor(private readonly ctx: TrainContext) {
    this.cfg = typedValues('algo', driAcSchema, ctx.config);
    this.rollout = new LockstepRollout(ctx.env, ctx.seed);
    this.net = new LinearAc(ctx.env.spec);
    const { numEnvs: B } = ctx.env;
    const { numAgents: N, obsSize: O, numActions: A } = ctx.env.spec;
    this.prevObs = new Float32Array(B * N * O);
    this.probs = new Float64Array(A);
    this.logit = new Float64Array(A);
    this.stepProbs = new Float64Array(B * this.net.agents.length * A);
  }

  private rates(): [number, number] {
    if (this.cfg.schedule === 'paper') {
      const s = 1 + this.t / 1000;
      return [0.05 / s ** 0.6, 0.05 / s ** 0.9];
    }
    return [this.cfg.alpha, this.cfg.beta];
  }

  async round(): Promise<RoundResult> {
    const { env, rng } = this.ctx;
    const ro = this.rollout;
    const net = this.net;
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const B = env.numEnvs;
    const L = net.agents.length;
    let absDelta = 0;
    let entropy = 0;
    let updates = 0;
    ro.begin();
    const res = ro.run({
      act: (t) => {
        this.prevObs.set(env.obs);
        for (let b = 0; b < B; b++) {
          if (!ro.valid[t * B + b]) continue;
          net.agents.forEach((i, k) => {
            const row = b * N + i;
            net.logits(k, env.obs, row * O, this.logit);
            maskedProbs(this.logit, 0, env.actionMask, row * A, A, 0, this.probs, 0);
            this.stepProbs.set(this.probs, (b * L + k) * A);
            ro.actions[row] = sampleIndex(this.probs, 0, A, rng);
            for (let a = 0; a < A; a++) if (this.probs[a] > 0) entropy -= this.probs[a] * Math.log(this.probs[a]);
          });
        }
      },
      observe: (t) => {
        const gamma = this.cfg.gamma;
        for (let b = 0; b < B; b++) {
          if (!ro.valid[t * B + b]) continue;
          const term = env.dones[b] && !env.truncated[b] ? 1 : 0;
          const [alpha, beta] = this.rates();
          for (let k = 0; k < L; k++) {
            const i = net.agents[k];
            const row = b * N + i;
            const o = row * O;
            const d = env.rewards[row];
            const v = net.value(k, this.prevObs, o);
            const vNext = term ? 0 : net.value(k, env.obs, o);
            const delta = d + gamma * vNext - v;
            absDelta += Math.abs(delta);
            updates++;
            const a = ro.actions[row];
            const pOff = (b * L + k) * A;
            for (let x = 0; x < O; x++) {
              const ox = this.prevObs[o + x];
              if (ox === 0) continue;
              net.omega[k * O + x] += alpha * delta * ox;
              const w = (k * O + x) * A;
              // grad of log softmax w.r.t. logit c is [c == a] - p_c (masked actions have p = 0).
              for (let c = 0; c < A; c++) net.theta[w + c] += beta * delta * ox * ((c === a ? 1 : 0) - this.stepProbs[pOff + c]);
            }
          }
          this.t++;
        }
      },
    });
    const [alpha, beta] = this.rates();
    const acted = Math.max(1, res.envSteps * L);
    return {
      episodes: res.episodes,
      envSteps: res.envSteps,
      stats: { 'losses/abs_td_error': updates > 0 ? absDelta / updates : 0, 'charts/entropy': entropy / acted, 'charts/alpha': alpha, 'charts/beta': beta },
    };
  }

  async save(): Promise<Checkpoint> {
    return saveLearner({ algo: 'dri-ac', version: 1, ctx: this.ctx, rollout: this.rollout }, { steps: this.t, thetaExact: Array.from(this.net.theta), omegaExact: Array.from(this.net.omega) }, this.net.toRecords());
  }

  load(ckpt: Checkpoint): void {
    const extra = loadLearner(ckpt, { algo: 'dri-ac', version: 1, ctx: this.ctx, rollout: this.rollout });
    this.net.load(extra);
    this.t = counter(extra, 'steps', 'dri-ac');
  }

  dispose(): void {}
}

class DriAcPolicy implements Policy {
  private readonly net: LinearAc;
  private readonly logit: Float64Array;
  private readonly probs: Float64Array;

  constructor(private readonly ctx: PolicyContext) {
    this.net = new LinearAc(ctx.spec);
    if (ctx.checkpoint) this.net.load(ctx.checkpoint.extra);
    this.logit = new Float64Array(ctx.spec.numActions);
    this.probs = new Float64Array(ctx.spec.numActions);
  }
  resetCopy(): void {}
  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    for (let b = 0; b < env.numEnvs; b++) {
      this.net.agents.forEach((i, k) => {
        const row = b * N + i;
        if (env.finished[b]) {
          actions[row] = 0;
          return;
        }
        this.net.logits(k, env.obs, row * O, this.logit);
        if (greedy) actions[row] = argmaxMasked(this.logit, 0, env.actionMask, row * A, A);
        else {
          maskedProbs(this.logit, 0, env.actionMask, row * A, A, 0, this.probs, 0);
          actions[row] = sampleIndex(this.probs, 0, A, this.ctx.rng);
        }
      });
    }
  }
  dispose(): void {}
}

export const driAcEntry: AlgoEntry = {
  id: 'dri-ac',
  title: "DRIMA Algorithm 1: per-agent linear actor-critic updated every step (tabular on DRIMA's single-state games)",
  schema: driAcSchema,
  accepts: (spec) => envProblems(NEEDS, spec),
  createTrainer: (ctx) => new DriAcTrainer(ctx),
  createPolicy: (ctx) => new DriAcPolicy(ctx),
};
