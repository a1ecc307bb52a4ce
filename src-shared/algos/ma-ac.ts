/**
 * MA-AC: fully decentralised actor-critic with networked agents (Zhang, Yang, Liu, Zhang and
 * Başar, ICML 2018), as the F2A2 paper runs it as a baseline (shared/specs/f2a2.md §4.4; no
 * official code exists, so this is rebuilt from the paper's Algorithm 1 as the spec describes).
 *
 * Per agent i: an actor pi^i(a^i | o^i) (softmax over its discrete actions) and its own critic
 * Q(o, a; w^i) -> scalar on the joint observation and the joint one-hot action (the same
 * architecture for every agent, 2 x 128), trained on agent i's OWN reward. One update
 * iteration, for each agent i in index order, on its own minibatch:
 *   1. critic TD step: delta^i = r^i + gamma (1 - term) Q(o', a'; w^i_target) - Q(o, a; w^i),
 *      with a' the next joint action sampled from the agents' current policies (the joint
 *      policy is "available through communication", F2A2 Table 2); loss mean(delta^2);
 *   2. actor step on the local counterfactual advantage, with the critic just updated:
 *      A^i = Q(o, a; w^i) - sum_b pi^i(b | o^i) Q(o, (b, a^-i); w^i) (|A^i| critic evaluations),
 *      loss -mean(log pi^i(a^i | o^i) sg(A^i));
 * then 3. consensus on the critic parameters over the communication graph:
 *      w^i <- sum_j c(i, j) w^j with Metropolis weights c(i, j) = 1 / (1 + max(deg_i, deg_j)),
 *      c(i, i) = 1 - the rest (algos/consensus/primal-dual.ts in `averaging` mode; the graph and
 *      the exchange schedule are consensus/graph.ts and schedule.ts, F2A2's §2.5-2.6 knobs);
 * and 4. soft target-critic updates (after the consensus, as F2A2's iteration orders it).
 * Actors are never exchanged.
 *
 * The off-policy plumbing is MADDPG's (maddpg-trainer.ts): its lock-step rollout, replay of
 * joint transitions (executed one-hot actions), update cadence, checkpoints and evaluation
 * policy. Acting samples pi^i exactly (Gumbel-max of the actor's logits).
 *
 * DESIGN CHOICES (f2a2.md §4.4), each an option:
 *   option          default (F2A2 appendix G as read)       alternative (closer to Zhang et al.)
 *   objective       discounted, gamma 0.99                  average-reward: delta = r - mu^i +
 *                                                            Q(o', a') - Q(o, a), with mu^i a
 *                                                            running mean of r^i (muLr)
 *   data            replay: minibatches of 1024 from 1e6     recent: the most recent 1024
 *                                                            transitions as the batch
 *                                                            (onPolicyRecent1024)
 *   targetCritic    on, tau 0.005                           off: bootstrap from w^i itself
 *   topology        full, every update iteration            none | ring-plus(edgeFraction),
 *                                                            exchanges every N(mean, std) updates
 * Where the spec is silent, Cairn chose: the actor step uses the critic after its TD step
 * (Gauss-Seidel, as F2A2's 5.4a/b); global-norm clipping 0.5 for actors (MAAC's policies) and
 * 10 for critics; LeakyReLU (0.01) hidden layers, as the spec says; critics start from
 * independent draws (consensus brings them together); events within one iteration are
 * synchronous (primal-dual.ts). Discrete actions only.
 *
 * Communication accounting (f2a2.md §2.7; stats `comm/*`, cumulative): consensus messages, one
 * per (receiver, sender) pair per event, each carrying the P critic parameters
 * (`comm/params_per_message`); plus, per env step, the joint-action exchange that lets every
 * critic see the others' actions: n (n - 1) messages, each agent's one-hot action to every other
 * agent (scalars: (n - 1) x sum of the action sizes). `comm/total_scalars` adds both, for the
 * F2A2 / MA-AC ratio at equal env steps. `consensus/residual` (and `_before`) is the critics'
 * disagreement after (before) the round's last consensus iteration; `commgraph/*` the graph in
 * use (consensus/graph-stats.ts) for the run view.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { clipByGlobalNorm } from '../nn/clip';
import { DenseNet } from '../nn/dense-net';
import { gumbelNoise } from '../nn/gumbel';
import type { Optimizer } from '../nn/optim';
import type { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import { Rng, deriveSeed } from '../rng';
import { MASKED_LOGIT } from './core/action-codec';
import { counter } from './core/checkpoint';
import { envProblems, type EnvNeeds } from './core/compat';
import { softUpdate } from './core/target';
import { CommGraph, type Topology } from './consensus/graph';
import { addGraphStats } from './consensus/graph-stats';
import { PrimalDualConsensus } from './consensus/primal-dual';
import { ExchangeSchedule } from './consensus/schedule';
import { ddpgFamilySchema, MaddpgPolicy, MaddpgTrainer, type Batch, type DdpgVariant } from './maddpg-trainer';
import type { AlgoEntry, RoundResult, TrainContext } from './types';

/** Stream tag of the communication graph and exchange schedule (ASCII "maac"). */
const COMM_STREAM = 0x6d616163;

export const maAcSchema = {
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Units of the two hidden layers of actors and critics (F2A2 appendix G: 128).' },
  lrActor: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'Adam learning rate of the actors (F2A2 appendix G: 1e-3).' },
  lrCritic: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'Adam learning rate of the critics (F2A2 appendix G: 1e-3).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount of the discounted objective (F2A2 appendix G: 0.99).' },
  objective: {
    type: 'enum',
    default: 'discounted',
    values: ['discounted', 'average-reward'],
    doc: "discounted (F2A2's setting) or average-reward: delta = r - mu + Q' - Q with mu a running mean of the agent's reward (Zhang et al.'s original form).",
  },
  muLr: { type: 'float', default: 0.01, min: 0, max: 1, doc: 'Step of the running average-reward estimate mu (average-reward only).', when: { field: 'objective', is: 'average-reward' } },
  data: {
    type: 'enum',
    default: 'replay',
    values: ['replay', 'recent'],
    doc: "replay: minibatches drawn from the replay (F2A2 appendix G); recent: the most recent `batchSize` transitions are the batch (onPolicyRecent1024, closer to Zhang et al.'s online algorithm).",
  },
  batchSize: { type: 'int', default: 1024, min: 1, max: 1_000_000, doc: 'Minibatch (replay) or window (recent) per agent and update (F2A2 appendix G: 1024).' },
  bufferSize: { type: 'int', default: 1_000_000, min: 1, max: 10_000_000, doc: 'Replay capacity in joint transitions (F2A2 appendix G: 1e6).' },
  updateEvery: { type: 'int', default: 25, min: 1, max: 1_000_000, doc: 'Env transitions between update iterations (F2A2 appendix G: 4 per 100 steps = one every 25).' },
  warmup: { type: 'int', default: 0, min: 0, max: 10_000_000, doc: 'Transitions stored before the first update; 0 = batchSize (the MAAC code starts at 1024 = one batch).' },
  targetCritic: { type: 'bool', default: true, doc: 'A soft-updated target critic per agent for the TD target (off: bootstrap from the critic itself).' },
  tau: { type: 'float', default: 0.005, min: 0, max: 1, doc: 'Soft target rate (F2A2 appendix G: 0.005).', when: { field: 'targetCritic', is: true } },
  actorGradClip: { type: 'float', default: 0.5, min: 0, doc: 'Global-norm clip of actor gradients, 0 = none (MAAC policies: 0.5; paper silent).' },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm clip of critic gradients, 0 = none (paper silent).' },
  sharedSample: { type: 'bool', default: false, doc: 'One minibatch for all agents per update (default: each agent draws its own).' },
  topology: {
    type: 'enum',
    default: 'full',
    values: ['full', 'ring-plus', 'none'],
    doc: 'Communication graph of the critic consensus: complete, a random ring plus edgeFraction of the other pairs redrawn every update (F2A2 Table 4), or no edges.',
  },
  edgeFraction: { type: 'float', default: 1, min: 0, max: 1, doc: 'ring-plus: fraction of the non-ring pairs added each update iteration.', when: { field: 'topology', is: 'ring-plus' } },
  directed: { type: 'bool', default: false, doc: 'ring-plus: a directed ring and arcs instead of undirected edges.', when: { field: 'topology', is: 'ring-plus' } },
  exchangeMean: {
    type: 'float',
    default: 1,
    min: 0,
    max: 1e9,
    doc: 'Mean of the update iterations between an agent\'s consensus events, N(mean, std) (F2A2 Table 5); 1 = every update; 0 = never (the "N(inf, 0)" column).',
  },
  exchangeStd: { type: 'float', default: 0, min: 0, max: 1e9, doc: 'Second parameter of N(mean, std), a standard deviation (F2A2 Table 5).' },
  secondParamIsVariance: { type: 'bool', default: false, doc: "Read exchangeStd as a variance (the paper's wording) instead of a standard deviation." },
  weights: { type: 'enum', default: 'metropolis', values: ['metropolis', 'uniform'], doc: 'Consensus weights: Metropolis 1 / (1 + max(deg_i, deg_j)) (Zhang et al.) or uniform over the closed neighbourhood.' },
} as const satisfies Schema;

export type MaAcConfig = Values<typeof maAcSchema>;

const MA_AC_NEEDS: EnvNeeds = { actions: 'discrete' };

export const MA_AC_VARIANT: DdpgVariant = { id: 'ma-ac', schema: maAcSchema };

/**
 * Local counterfactual advantage of agent i under critic `critic` (f2a2.md §4.4):
 * qAll[k, b] = Q(o_k, (b, a^-i_k)) for every action b of agent i, and
 * adv[k] = Q(o_k, a_k) - sum_b probs[k, b] qAll[k, b] = sum_b (onehot(a^i_k)_b - probs[k, b]) qAll[k, b]
 * (`act[i]` must be one-hot). `obs`/`act` are per agent [K, .]; returns tensors the caller disposes.
 */
export function counterfactualAdvantage(tf: Tf, critic: DenseNet, obs: readonly Tensor[], act: readonly Tensor[], i: number, probs: Tensor): { qAll: Tensor; adv: Tensor } {
  return tf.tidy(() => {
    const K = obs[0].shape[0] as number;
    const D = act[i].shape[1] as number;
    const rep = (t: Tensor) => tf.tile(t, [D, 1]);
    // Row b * K + k holds copy k with agent i's action replaced by b.
    const alt = tf.reshape(tf.tile(tf.expandDims(tf.eye(D), 1), [1, K, 1]), [D * K, D]);
    const acts = act.map((a, m) => (m === i ? alt : rep(a)));
    const q = critic.forward(tf.concat([...obs.map(rep), ...acts], 1));
    const qAll = tf.transpose(tf.reshape(q, [D, K]));
    const adv = tf.sum(tf.mul(tf.sub(act[i], probs), qAll), 1, true);
    return { qAll, adv };
  }) as unknown as { qAll: Tensor; adv: Tensor };
}

export class MaAcTrainer extends MaddpgTrainer {
  readonly maCfg: MaAcConfig;
  readonly graph: CommGraph;
  readonly consensus: PrimalDualConsensus;
  readonly schedule: ExchangeSchedule | null;
  /** Parameters per critic (the size of one consensus message). */
  readonly P: number;
  private readonly commRng: Rng;
  private readonly fire: Uint8Array;
  private readonly copies: Float32Array;
  private readonly names: string[];
  /** [N] running average-reward estimates. */
  private readonly mu: Float64Array;
  /** Cumulative joint-action messages and their scalars (per env step, §2.7). */
  private actionMessages = 0;
  private actionScalars = 0;
  /** Disagreement of the critics (mean squared distance from their mean) right before and after the last exchange. */
  private residualBefore = 0;
  private lastResidual = 0;

  constructor(ctx: TrainContext) {
    const cfg = typedValues('algo', maAcSchema, ctx.config);
    if (cfg.exchangeMean > 0 && cfg.exchangeMean < 1) throw new ConfigError('algo.exchangeMean', '0 (never) or a number of update iterations >= 1', cfg.exchangeMean);
    // MADDPG's plumbing under MA-AC's settings: centralised critic inputs, executed one-hot
    // actions in the replay, no actor-logit penalty.
    const base: Values = {
      hiddenDim: cfg.hiddenDim,
      layerNorm: false,
      activation: 'leaky-relu',
      lrActor: cfg.lrActor,
      lrCritic: cfg.lrCritic,
      gamma: cfg.gamma,
      tau: cfg.tau,
      batchSize: cfg.batchSize,
      bufferSize: cfg.bufferSize,
      updateEvery: cfg.updateEvery,
      warmup: cfg.warmup > 0 ? cfg.warmup : cfg.batchSize,
      gradClip: 0,
      critic: 'centralised',
      teamCritics: [-1],
      boxPolicy: 'gumbel-softmax',
      storeAction: 'onehot',
      actorLogitReg: 0,
      sharedSample: cfg.sharedSample,
    };
    for (const k of Object.keys(base)) if (!(k in ddpgFamilySchema)) throw new Error(`ma-ac: ${k} is not a MADDPG-family field`);
    super({ ...ctx, config: base }, MA_AC_VARIANT);
    this.maCfg = cfg;
    const N = this.N;
    this.commRng = new Rng(deriveSeed(ctx.seed, COMM_STREAM));
    this.graph = new CommGraph(N, { topology: cfg.topology as Topology, edgeFraction: cfg.edgeFraction, directed: cfg.directed }, this.commRng);
    this.schedule = cfg.exchangeMean === 0 ? null : new ExchangeSchedule(N, { mean: cfg.exchangeMean, std: cfg.exchangeStd, secondParamIsVariance: cfg.secondParamIsVariance }, this.commRng);
    this.fire = new Uint8Array(N);
    this.names = this.critics[0].params.names();
    this.P = this.critics[0].params.size();
    for (const c of this.critics) {
      if (c.params.size() !== this.P) throw new Error('ma-ac: critics differ in size (consensus needs one architecture)');
    }
    this.copies = new Float32Array(N * this.P);
    this.consensus = new PrimalDualConsensus(N, this.P, { beta: 1, eta: 1, weights: cfg.weights as 'metropolis' | 'uniform', mode: 'averaging' });
    this.readCopies();
    this.consensus.init(this.copies);
    this.mu = new Float64Array(N);
  }

  /** Flatten every critic's parameters into `copies` [N, P]. */
  readCopies(): Float32Array {
    for (let i = 0; i < this.N; i++) {
      let o = i * this.P;
      for (const name of this.names) {
        const v = this.critics[i].params.get(name).dataSync() as Float32Array;
        this.copies.set(v, o);
        o += v.length;
      }
    }
    return this.copies;
  }

  /** Write `copies` back into the critics of the agents in `which` (all by default). */
  writeCopies(which?: Uint8Array): void {
    const tf = this.tf;
    for (let i = 0; i < this.N; i++) {
      if (which && !which[i]) continue;
      let o = i * this.P;
      for (const name of this.names) {
        const v = this.critics[i].params.get(name);
        const n = v.size;
        const t = tf.tensor(this.copies.subarray(o, o + n), v.shape);
        v.assign(t);
        t.dispose();
        o += n;
      }
    }
  }

  /** Agent i's critic parameters, flattened (tests and diagnostics). */
  criticParams(i: number): ParamSet {
    return this.critics[i].params;
  }

  /**
   * One consensus iteration: redraw the graph, tick the exchange schedule, average the critics
   * of the agents whose timers fire. Returns the number of events.
   */
  consensusStep(): number {
    this.graph.redraw(this.commRng);
    if (this.schedule === null) return 0;
    if (this.schedule.tick(this.commRng, this.fire) === 0) return 0;
    this.readCopies();
    this.residualBefore = PrimalDualConsensus.residual(this.copies, this.N, this.P);
    const held = this.consensus.step(this.copies, this.graph, this.fire);
    if (held > 0) this.writeCopies(this.fire);
    this.lastResidual = PrimalDualConsensus.residual(this.copies, this.N, this.P);
    return held;
  }

  /** Batch of the most recent `batchSize` transitions (data: recent). */
  private recentBatch(): Batch {
    const buf = this.buffer;
    const K = Math.min(this.maCfg.batchSize, buf.count);
    const fields: Record<string, Float32Array> = {};
    const index = new Int32Array(K);
    for (let k = 0; k < K; k++) index[k] = (buf.nextSlot - 1 - k + buf.capacity) % buf.capacity;
    for (const [name, w] of Object.entries(buf.widths)) {
      const f = new Float32Array(K * w);
      for (let k = 0; k < K; k++) f.set(buf.row(name, index[k]), k * w);
      fields[name] = f;
    }
    return this.batchFrom(fields, index, K);
  }

  private drawBatch(): Batch {
    return this.maCfg.data === 'recent' ? this.recentBatch() : this.sampleBatch(0);
  }

  /** Masked logits of agent m's actor on `obs`. */
  private logits(m: number, obs: Tensor, mask: Tensor | null): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const raw = this.actors[m].net.forward(obs);
      return mask ? tf.add(raw, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : raw;
    });
  }

  /** One-hot samples of every agent's current policy at the next observations. */
  private nextActions(b: Batch): Tensor[] {
    const tf = this.tf;
    return this.lay.codecs.map((c, m) =>
      tf.tidy(() => {
        const g = tf.tensor2d(gumbelNoise(this.ctx.rng, b.K * c.dim), [b.K, c.dim]);
        const idx = tf.argMax(tf.add(this.logits(m, b.nobs[m], b.nmask[m]), g), 1);
        return tf.cast(tf.oneHot(idx as never, c.dim), 'float32');
      }),
    );
  }

  private step(params: ParamSet, opt: Optimizer, clip: number, loss: () => Tensor): number {
    const { value, grads } = params.grads(loss as never);
    if (clip > 0) clipByGlobalNorm(this.tf, grads, clip);
    opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    return value;
  }

  protected override update(): void {
    const tf = this.tf;
    const c = this.maCfg;
    const avg = c.objective === 'average-reward';
    const shared = c.sharedSample ? this.drawBatch() : null;
    for (let j = 0; j < this.N; j++) {
      const b = shared ?? this.drawBatch();
      const next = this.nextActions(b);
      const bootstrap = (c.targetCritic ? this.criticTargets : this.critics)[j].net;
      const r = tf.slice(b.rew, [0, j], [b.K, 1]);
      if (avg) {
        const m = tf.mean(r);
        const mean = (m.dataSync() as Float32Array)[0];
        m.dispose();
        this.mu[j] += c.muLr * (mean - this.mu[j]);
      }
      const y = tf.tidy(() => {
        const qn = bootstrap.forward(this.criticInput(j, b.nobs, next, true));
        // The average-reward form has no discount and no terminal cut-off (a continuing task).
        return avg ? tf.add(tf.sub(r, this.mu[j]), qn) : tf.add(r, tf.mul(tf.mul(tf.sub(1, b.term), c.gamma), qn));
      });
      const xIn = this.criticInput(j, b.obs, b.act, true);
      const critic = this.critics[j].net;
      const lc = this.step(this.critics[j].params, this.criticOpts[j], c.criticGradClip, () => tf.mean(tf.square(tf.sub(critic.forward(xIn), y))));
      xIn.dispose();
      y.dispose();
      r.dispose();
      next.forEach((t) => t.dispose());
      // Advantage under the updated critic, held constant in the actor's loss.
      const probs = tf.tidy(() => tf.softmax(this.logits(j, b.obs[j], b.mask[j])));
      const { qAll, adv } = counterfactualAdvantage(tf, critic, b.obs, b.act, j, probs);
      probs.dispose();
      qAll.dispose();
      const la = this.step(this.actors[j].params, this.actorOpts[j], c.actorGradClip, () => {
        const logp = tf.sum(tf.mul(tf.logSoftmax(this.logits(j, b.obs[j], b.mask[j])), b.act[j]), 1, true);
        return tf.neg(tf.mean(tf.mul(logp, adv)));
      });
      const advAbsT = tf.tidy(() => tf.mean(tf.abs(adv)));
      const advAbs = (advAbsT.dataSync() as Float32Array)[0];
      advAbsT.dispose();
      adv.dispose();
      this.stats.add(`losses/critic_${j}`, lc);
      this.stats.add(`losses/actor_${j}`, la);
      this.stats.add('charts/advantage_abs', advAbs);
      if (avg) this.stats.add(`charts/mu_${j}`, this.mu[j]);
      if (!shared) this.disposeBatch(b);
    }
    if (shared) this.disposeBatch(shared);
    const events = this.consensusStep();
    this.stats.add('charts/consensus_events_per_update', events);
    if (c.targetCritic) for (let j = 0; j < this.N; j++) softUpdate(tf, this.criticTargets[j].params, this.critics[j].params, c.tau);
    this.updates++;
  }

  override async round(): Promise<RoundResult> {
    const res = await super.round();
    const N = this.N;
    const dims = this.lay.codecs.reduce((s, k) => s + k.dim, 0);
    this.actionMessages += res.envSteps * N * (N - 1);
    this.actionScalars += res.envSteps * (N - 1) * dims;
    const cons = this.consensus;
    const stats = res.stats;
    stats['comm/params_per_message'] = this.P;
    stats['comm/consensus_events'] = cons.events;
    stats['comm/consensus_messages'] = cons.messages;
    stats['comm/consensus_scalars'] = cons.scalars;
    stats['comm/action_messages'] = this.actionMessages;
    stats['comm/action_scalars'] = this.actionScalars;
    stats['comm/total_scalars'] = cons.scalars + this.actionScalars;
    // Under `consensus/` (F2A2's names): the declared group the run view titles.
    stats['consensus/residual'] = this.lastResidual;
    stats['consensus/residual_before'] = this.residualBefore;
    stats['consensus/edges'] = this.graph.edgeCount();
    addGraphStats(this.graph, stats);
    return res;
  }

  protected override extraState(): Record<string, unknown> {
    return {
      consensus: this.consensus.getState(),
      schedule: this.schedule ? this.schedule.getState() : null,
      commRng: this.commRng.getState(),
      mu: Array.from(this.mu),
      actionMessages: this.actionMessages,
      actionScalars: this.actionScalars,
      lastResidual: this.lastResidual,
      residualBefore: this.residualBefore,
    };
  }

  protected override loadExtraState(e: Record<string, unknown>): void {
    this.consensus.setState(e.consensus as Record<string, unknown>);
    if (this.schedule) this.schedule.setState(e.schedule as number[]);
    this.commRng.setState(e.commRng as number[]);
    const mu = e.mu as number[];
    if (!Array.isArray(mu) || mu.length !== this.N) throw new Error('ma-ac: checkpoint field "mu" is missing or has the wrong length');
    this.mu.set(mu);
    this.actionMessages = counter(e, 'actionMessages', 'ma-ac');
    this.actionScalars = counter(e, 'actionScalars', 'ma-ac');
    this.lastResidual = counter(e, 'lastResidual', 'ma-ac');
    this.residualBefore = counter(e, 'residualBefore', 'ma-ac');
  }
}

function maAcProblems(spec: EnvSpec): string[] {
  return envProblems(MA_AC_NEEDS, spec);
}

/** The evaluation policy is MADDPG's actors, read with MA-AC's sizes. */
function policyConfig(config: Values): Values {
  const cfg = typedValues('algo', maAcSchema, config);
  if (!(cfg.hiddenDim >= 1)) throw new ConfigError('algo.hiddenDim', 'an integer >= 1', cfg.hiddenDim);
  return { hiddenDim: cfg.hiddenDim, layerNorm: false, boxPolicy: 'gumbel-softmax' };
}

export const maAcEntry: AlgoEntry = {
  id: 'ma-ac',
  title: 'MA-AC: networked actor-critic, per-agent critics averaged by consensus (Zhang et al. 2018; F2A2 baseline)',
  schema: maAcSchema,
  accepts: maAcProblems,
  createTrainer: (ctx) => new MaAcTrainer(ctx),
  createPolicy: (ctx) => new MaddpgPolicy({ ...ctx, config: policyConfig(ctx.config) }),
  diagnostics: [
    { prefix: 'consensus', title: 'Consensus', doc: "Disagreement of the agents' critics (mean squared distance from their mean) after and before each round's last consensus iteration, and the edges of the last graph." },
    { prefix: 'comm', title: 'Communication', doc: 'Consensus and joint-action messages and scalars, cumulative (spec §2.7).' },
  ],
};
