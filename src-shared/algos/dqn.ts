/**
 * Independent DQN as DRIMA runs it on the matrix games (shared/specs/drima.md §1.8, §4; base:
 * PARL's DQN): one Q-network per agent, Q_i(o_i, .), MLP 64-64 ReLU, no parameter sharing.
 * The reward each agent learns from is `env.rewards`, which the reward-interaction wrapper
 * (`train.interaction`) makes d (Ind/Dri/naive) or the summed R (Ctde, not in the paper's
 * figures); the learner does not know which.
 *
 * Update (PARL DQN): MSE between Q(o, a) and r + gamma (1 - terminated) max_a' Q_target(o', a')
 * over available a', Adam, one update every `trainEvery` env steps once the buffer holds
 * `warmup` transitions, a hard target copy every `targetUpdateSteps` updates (core/target.ts).
 * A time-limit cut bootstraps (terminated = 0).
 *
 * The trainer also runs IQL (algos/iql.ts) through a `DqnVariant`: a variant may share ONE
 * Q-network over every learner agent (then a transition is one agent's, stored on its own, and
 * an agent that leaves the episode early, `VecEnv.agentAlive`, ends its own transition chain there),
 * bring its own network (the convolutional trunk) and anneal epsilon over episodes.
 *
 * Defaults (drima.md §1.8; PARL where it has one): lr 5e-4 (PARL), gamma 0.9 (Cairn: a single
 * state makes gamma a constant offset), batch 64, buffer 20,000 (smaller than PARL's 200,000
 * because d is non-stationary), update every 5 env steps after 200 transitions (PARL), target
 * copy every 200 updates (PARL). Exploration, Cairn's choice that matters (§1.8): epsilon
 * linear from 1.0 to 0.05 over `epsilonSteps` env steps (20,000 = 40% of the spec's 50,000),
 * then held; PARL's 0.1 start leaves the outcome to the random initial greedy action.
 * The reward stored is the one handed over at collection time (the spec's default; its
 * `recomputeD` option is not offered). One env step = one copy stepping once.
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import { learnerAgents } from '../envs/spaces';
import type { EnvSpec, VecEnv } from '../envs/types';
import type { Rng } from '../rng';
import { argmaxMasked } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { Mlp } from '../nn/mlp';
import type { Tensor } from '../nn/tf';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tf } from '../nn/tf';
import { envProblems } from './core/compat';
import { counter, loadLearner, saveLearner } from './core/checkpoint';
import { LockstepRollout } from './core/rollout';
import { TargetSchedule } from './core/target';
import { TransitionBuffer } from './core/transition-buffer';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

export const dqnSchema = {
  lr: { type: 'float', default: 5e-4, min: 0, doc: 'Adam learning rate (PARL DQN: 5e-4).' },
  gamma: { type: 'float', default: 0.9, min: 0, max: 1, doc: 'Discount (drima.md: 0.9 on matrix games).' },
  batchSize: { type: 'int', default: 64, min: 1, max: 65536, doc: 'Transitions per update (drima.md: 64).' },
  bufferSize: { type: 'int', default: 20_000, min: 1, max: 10_000_000, doc: 'Replay capacity in transitions (drima.md: 20,000).' },
  warmup: { type: 'int', default: 200, min: 0, doc: 'Transitions stored before the first update (PARL: 200).' },
  trainEvery: { type: 'int', default: 5, min: 1, doc: 'Env steps between updates (PARL: 5).' },
  targetUpdateSteps: { type: 'int', default: 200, min: 1, doc: 'Updates between hard target copies (PARL: 200).' },
  epsilonStart: { type: 'float', default: 1, min: 0, max: 1, doc: 'Initial exploration rate (drima.md: 1.0).' },
  epsilonEnd: { type: 'float', default: 0.05, min: 0, max: 1, doc: 'Final exploration rate (drima.md: 0.05).' },
  epsilonSteps: { type: 'int', default: 20_000, min: 1, doc: 'Env steps of the linear epsilon decay (drima.md: 40% of training; 20,000 of 50,000).' },
  gradClip: { type: 'float', default: 0, min: 0, doc: 'Global-norm gradient clip, 0 = none (drima.md: none).' },
  hiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Width of both hidden layers (drima.md: 64-64 ReLU).' },
} as const satisfies Schema;

type DqnConfig = Values<typeof dqnSchema>;

const NEEDS = { actions: 'discrete', controllers: ['learner', 'script'] } as const;

/** The Q-function a variant brings: grouped rows [G, R, O] -> [G, R, A]. */
export interface QFunction {
  readonly params: ParamSet;
  /** No gradient (acting, targets). */
  infer(x: Tensor): Tensor;
  /** On the tape (the loss). */
  forward(x: Tensor): Tensor;
}

/**
 * What differs between DQN (this file's entry) and its relatives:
 * - `shared`: one network for every learner agent (G = 1, rows = agents x copies) and
 *   per-agent transitions, instead of one network per agent over joint transitions;
 * - `makeQ`: the network (the 64-64 MLP here, the conv trunk for IQL);
 * - `epsilonBy`: the decay counts env steps (`epsilonSteps`) or finished episodes
 *   (`epsilonEpisodes`); `trainEvery` counts env steps, or stored agent transitions when shared.
 */
export interface DqnVariant {
  readonly id: string;
  readonly schema: Schema;
  readonly shared: boolean;
  readonly epsilonBy: 'envSteps' | 'episodes';
  makeQ(tf: Tf, spec: EnvSpec, config: Values, groups: number, rng: Rng, trainable: boolean): QFunction;
}

/** The learner agents' Q-values, batched as the variant groups them, and epsilon-greedy acting. */
class QNets {
  readonly agents: number[];
  readonly q: QFunction;
  readonly params: ParamSet;
  constructor(tf: Tf, spec: EnvSpec, variant: DqnVariant, config: Values, rng: Rng, trainable = true) {
    this.agents = learnerAgents(spec);
    this.q = variant.makeQ(tf, spec, config, variant.shared ? 1 : this.agents.length, rng, trainable);
    this.params = this.q.params;
    this.shared = variant.shared;
  }
  private readonly shared: boolean;

  /**
   * Q-values of R rows per agent given as [L, R, O] (agent-major). Shared networks see them as
   * one group of L * R rows; the flat layout, and so the output's, is the same either way.
   */
  values(tf: Tf, x: Float32Array, R: number, O: number): Float32Array {
    const L = this.agents.length;
    const shape: [number, number, number] = this.shared ? [1, L * R, O] : [L, R, O];
    const out = tf.tidy(() => this.q.infer(tf.tensor3d(x, shape)));
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return v;
  }

  /** Greedy (or epsilon-greedy) actions for env's current observations; masks in every argmax. */
  act(tf: Tf, env: VecEnv, actions: Int32Array, epsilon: number, rng: Rng): void {
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const B = env.numEnvs;
    const L = this.agents.length;
    const x = new Float32Array(L * B * O);
    this.agents.forEach((i, k) => {
      for (let b = 0; b < B; b++) x.set(env.obs.subarray((b * N + i) * O, (b * N + i + 1) * O), (k * B + b) * O);
    });
    const q = this.values(tf, x, B, O);
    this.agents.forEach((i, k) => {
      for (let b = 0; b < B; b++) {
        const row = b * N + i;
        if (env.finished[b]) {
          actions[row] = 0;
          continue;
        }
        if (epsilon > 0 && rng.float() < epsilon) {
          let n = 0;
          for (let a = 0; a < A; a++) n += env.actionMask[row * A + a];
          let pick = rng.int(Math.max(1, n));
          for (let a = 0; a < A; a++) {
            if (!env.actionMask[row * A + a]) continue;
            if (pick-- === 0) {
              actions[row] = a;
              break;
            }
          }
        } else actions[row] = argmaxMasked(q, (k * B + b) * A, env.actionMask, row * A, A);
      }
    });
  }
}

export class DqnTrainer implements Trainer {
  private readonly cfg: DqnConfig & { epsilonEpisodes?: number };
  private readonly tf: Tf;
  private readonly rollout: LockstepRollout;
  private readonly q: QNets;
  private readonly target: QNets;
  private readonly opt: Adam;
  private readonly schedule: TargetSchedule;
  private readonly buffer: TransitionBuffer;
  private envSteps = 0;
  private episodes = 0;
  private sinceUpdate = 0;
  private updates = 0;
  private readonly prevObs: Float32Array;
  private readonly prevAlive: Uint8Array;
  /** Shared variants: [B, N] 1 for the learner agents' rows. */
  private readonly learnerRow: Uint8Array;

  constructor(
    private readonly ctx: TrainContext,
    private readonly variant: DqnVariant = DQN_VARIANT,
  ) {
    const tf = (this.tf = ctx.tf);
    const cfg = (this.cfg = typedValues('algo', variant.schema, ctx.config) as DqnConfig & { epsilonEpisodes?: number });
    const spec = ctx.env.spec;
    const { numAgents: N, obsSize: O, numActions: A } = spec;
    const B = ctx.env.numEnvs;
    this.rollout = new LockstepRollout(ctx.env, ctx.seed);
    this.q = new QNets(tf, spec, variant, ctx.config, ctx.rng);
    this.target = new QNets(tf, spec, variant, ctx.config, ctx.rng, false);
    this.target.params.copyFrom(this.q.params);
    this.opt = new Adam(tf, this.q.params, { lr: cfg.lr });
    this.schedule = new TargetSchedule(tf, this.target.params, this.q.params, { kind: 'hard-steps', every: cfg.targetUpdateSteps });
    // Shared: one row per agent transition (a parameter-shared network learns from every
    // agent's experience alike, and battle-sized joint rows would not fit in memory).
    const per = variant.shared ? 1 : N;
    this.buffer = new TransitionBuffer(cfg.bufferSize, { obs: per * O, act: per, rew: per, next: per * O, nextMask: per * A, term: 1 });
    this.prevObs = new Float32Array(B * N * O);
    this.prevAlive = new Uint8Array(B * N);
    this.learnerRow = new Uint8Array(B * N);
    for (let b = 0; b < B; b++) for (const i of this.q.agents) this.learnerRow[b * N + i] = 1;
  }

  private epsilon(): number {
    const c = this.cfg;
    const f = this.variant.epsilonBy === 'episodes' ? Math.min(1, this.episodes / (c.epsilonEpisodes ?? 1)) : Math.min(1, this.envSteps / c.epsilonSteps);
    return c.epsilonStart + (c.epsilonEnd - c.epsilonStart) * f;
  }

  async round(): Promise<RoundResult> {
    const { tf } = this;
    const env = this.ctx.env;
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const B = env.numEnvs;
    const ro = this.rollout;
    const shared = this.variant.shared;
    const term = new Float32Array(shared ? B * N : B);
    const valid = new Uint8Array(shared ? B * N : B);
    let loss = 0;
    let n = 0;
    ro.begin();
    const res = ro.run({
      act: () => {
        this.prevObs.set(env.obs);
        if (env.agentAlive) this.prevAlive.set(env.agentAlive);
        else this.prevAlive.fill(1);
        this.q.act(tf, env, ro.actions, this.epsilon(), this.ctx.rng);
      },
      observe: (t) => {
        let stored = 0;
        let live = 0;
        for (let b = 0; b < B; b++) {
          const v = ro.valid[t * B + b];
          const ended = env.dones[b] && !env.truncated[b] ? 1 : 0;
          live += v;
          if (!shared) {
            valid[b] = v;
            term[b] = ended;
            continue;
          }
          for (let i = 0; i < N; i++) {
            const r = b * N + i;
            // An agent out of play before the step has no transition; one that left during it
            // (killed) ends its own chain: no bootstrap from its zeroed row.
            valid[r] = v && this.learnerRow[r] && this.prevAlive[r] ? 1 : 0;
            term[r] = ended || (env.agentAlive !== undefined && !env.agentAlive[r]) ? 1 : 0;
            stored += valid[r];
          }
        }
        this.buffer.insert({ obs: this.prevObs, act: ro.actions, rew: env.rewards, next: env.obs, nextMask: env.actionMask, term }, valid);
        this.envSteps += live;
        this.sinceUpdate += shared ? stored : live;
        while (this.sinceUpdate >= this.cfg.trainEvery) {
          this.sinceUpdate -= this.cfg.trainEvery;
          // A warm-up longer than the buffer could never end: it is capped at the capacity.
          if (this.buffer.count < Math.max(1, Math.min(this.cfg.warmup, this.cfg.bufferSize))) continue;
          loss += this.update(N, O, A);
          n++;
        }
      },
    });
    this.episodes += res.episodes.length;
    return {
      episodes: res.episodes,
      envSteps: res.envSteps,
      stats: { 'losses/td': n > 0 ? loss / n : 0, 'charts/epsilon': this.epsilon(), 'charts/updates': this.updates, 'charts/buffer': this.buffer.count },
    };
  }

  private update(N: number, O: number, A: number): number {
    const { tf, cfg } = this;
    const K = cfg.batchSize;
    const shared = this.variant.shared;
    const agents = this.q.agents;
    // Shared: K agent transitions, one group; else K joint transitions seen by L groups.
    const L = shared ? 1 : agents.length;
    const per = shared ? 1 : N;
    const slot = (k: number) => (shared ? 0 : agents[k]);
    const { fields } = this.buffer.sample(K, this.ctx.rng);
    const x = new Float32Array(L * K * O);
    const nx = new Float32Array(L * K * O);
    for (let k = 0; k < L; k++) {
      const i = slot(k);
      for (let r = 0; r < K; r++) {
        x.set(fields.obs.subarray((r * per + i) * O, (r * per + i + 1) * O), (k * K + r) * O);
        nx.set(fields.next.subarray((r * per + i) * O, (r * per + i + 1) * O), (k * K + r) * O);
      }
    }
    const shape: [number, number, number] = [L, K, O];
    const qNext = tf.tidy(() => this.target.q.infer(tf.tensor3d(nx, shape)));
    const qn = qNext.dataSync() as Float32Array;
    qNext.dispose();
    const y = new Float32Array(L * K);
    const hot = new Float32Array(L * K * A);
    for (let k = 0; k < L; k++) {
      const i = slot(k);
      for (let r = 0; r < K; r++) {
        let best = -Infinity;
        for (let a = 0; a < A; a++) if (fields.nextMask[(r * per + i) * A + a]) best = Math.max(best, qn[(k * K + r) * A + a]);
        if (best === -Infinity) best = 0;
        y[k * K + r] = fields.rew[r * per + i] + cfg.gamma * (1 - fields.term[r]) * best;
        hot[(k * K + r) * A + fields.act[r * per + i]] = 1;
      }
    }
    const xs = tf.tensor3d(x, shape);
    const ys = tf.tensor2d(y, [L, K]);
    const hs = tf.tensor3d(hot, [L, K, A]);
    const { value, grads } = this.q.params.grads(() => {
      const qa = tf.sum(tf.mul(this.q.q.forward(xs), hs), -1);
      return tf.mean(tf.square(tf.sub(qa, ys))) as never;
    });
    if (cfg.gradClip > 0) clipByGlobalNorm(tf, grads, cfg.gradClip);
    this.opt.step(grads);
    for (const g of [...Object.values(grads), xs, ys, hs]) g.dispose();
    this.updates++;
    this.schedule.countSteps(1);
    // Checked after every update: a hard copy exactly every targetUpdateSteps updates.
    this.schedule.endRound();
    return value;
  }

  private parts() {
    return { algo: this.variant.id, version: 1, ctx: this.ctx, rollout: this.rollout, params: { 'q/': this.q.params, 'target/': this.target.params }, optimisers: { q: this.opt } };
  }

  async save(): Promise<Checkpoint> {
    const rec = this.buffer.toRecords();
    const counters = { envStepsSeen: this.envSteps, episodesSeen: this.episodes, sinceUpdate: this.sinceUpdate, updates: this.updates, replay: rec.meta, ...this.schedule.getState() };
    return saveLearner(this.parts(), counters, rec.tensors);
  }

  load(ckpt: Checkpoint): void {
    const id = this.variant.id;
    const e = loadLearner(ckpt, this.parts());
    this.envSteps = counter(e, 'envStepsSeen', id);
    // Checkpoints written before episodes were counted: DQN never read the count.
    this.episodes = e.episodesSeen === undefined && this.variant.epsilonBy === 'envSteps' ? 0 : counter(e, 'episodesSeen', id);
    this.sinceUpdate = counter(e, 'sinceUpdate', id);
    this.updates = counter(e, 'updates', id);
    this.buffer.fromRecords(ckpt.tensors, e.replay as { next: number; size: number });
    this.schedule.setState(e, id);
  }

  dispose(): void {
    this.opt.dispose();
    this.q.params.dispose();
    this.target.params.dispose();
  }
}

export class DqnPolicy implements Policy {
  private readonly q: QNets;
  private readonly epsilonEnd: number;
  constructor(
    private readonly ctx: PolicyContext,
    variant: DqnVariant = DQN_VARIANT,
  ) {
    this.epsilonEnd = Number(typedValues('algo', variant.schema, ctx.config).epsilonEnd);
    this.q = new QNets(ctx.tf, ctx.spec, variant, ctx.config, ctx.rng);
    if (ctx.checkpoint) this.q.params.loadRecords(ctx.checkpoint.tensors, 'q/');
  }
  resetCopy(): void {}
  /** Greedy: argmax Q; otherwise the final exploration rate of the config (0.05 by default). */
  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    this.q.act(this.ctx.tf, env, actions, greedy ? 0 : this.epsilonEnd, this.ctx.rng);
  }
  dispose(): void {
    this.q.params.dispose();
  }
}

export const DQN_VARIANT: DqnVariant = {
  id: 'dqn',
  schema: dqnSchema,
  shared: false,
  epsilonBy: 'envSteps',
  makeQ(tf, spec, config, groups, rng, trainable) {
    const hidden = typedValues('algo', dqnSchema, config).hiddenDim;
    const params = new ParamSet(tf, trainable);
    const net = new Mlp(tf, params, 'q', [spec.obsSize, hidden, hidden, spec.numActions], 'relu', groups, rng);
    return { params, infer: (x) => net.infer(x), forward: (x) => net.forward(x, false) };
  },
};

export const dqnEntry: AlgoEntry = {
  id: 'dqn',
  title: 'Independent DQN: one Q-network per agent, replay, hard target copies (DRIMA §1.8, PARL DQN)',
  schema: dqnSchema,
  accepts: (spec) => envProblems(NEEDS, spec),
  createTrainer: (ctx) => new DqnTrainer(ctx),
  createPolicy: (ctx) => new DqnPolicy(ctx),
};
