/**
 * F2A2 (Li, Jin, Wang, Yan, Zha; JMLR 24, 2023): fully decentralised actor-critic. Every agent
 * trains its own actor and its own copy of a shared centralised critic on the *joint*
 * actor-critic objective (alpha1 actor term + alpha2 critic term, descended by both the critic
 * and the actor step), corrects off-policy samples with truncated importance ratios, models the
 * other agents' actions (MOA, f2a2-moa.ts) instead of reading their policies, and keeps the
 * critic copies together by primal-dual consensus over a communication graph
 * (algos/consensus/). Spec: shared/specs/f2a2.md; paper §4-6, appendices D-H.
 * No F2A2 code was ever released (spec "Sources"): everything below is the paper's text and the
 * spec's design choices; there is therefore no `released-code` preset.
 *
 * Instantiations (`instantiation`):
 * - 'ddpg' (F2A2-DDPG, Prop 4, §1.5): hard straight-through Gumbel-softmax actor, one shared
 *   critic Q(o, a, onehot(i)) whose copy agent i holds (w_sh = the whole critic). Surrogate of
 *   agent i on its own minibatch, reward form (spec §0):
 *     L = mean[-a1 sg(rho) Q(o,a) - a1 Q(o,a^) + a2 (Q(o,a) - y)^2 + a2 sg(rhobar) (Q(o,a^) - y)^2]
 *   rho = min(epsIS, pi/pi0) at the stored own action, rhobar = min(epsIS, pi0/pi) at the
 *   resampled own action a^i; a^ = (a^i, a~^-i from agent i's MOA). Its phi-gradient is the
 *   critic step, its psi-gradient (through a^i only) the actor step (Gauss-Seidel: the actor
 *   step recomputes L with the updated critic, same minibatch and Gumbel noise).
 *   y = r^i + gamma (1 - term) Qbar(o', (onehot argmax pibar^i(o'^i), a~'^-i)).
 * - 'td3' (F2A2-TD3, Prop 5, §1.6): twin shared critics (both in w_sh), clipped double target,
 *   the actor term on Q1 only, target-policy smoothing on the target policy's logits, the actor
 *   step every d_i iterations.
 * - 'sac' (F2A2-SAC, Prop 6, §1.7): in f2a2-sac.ts (its header has the surrogate and choices),
 *   on this trainer's replay, ratios, MOA and consensus; w_sh = the attention extractors of
 *   both MAAC critics. F2A2-ISAC (battle) is the separate learner `f2a2-isac` (f2a2-isac.ts).
 *
 * Defaults: the paper's appendix G for MPE where it speaks (hidden 128, Adam 1e-3, tau 0.005,
 * gamma 0.99, batch 1024, buffer 1e6, 4 update iterations per 100 env steps, epsIS 1), MAAC's
 * code where G is silent (updates start at 1024 stored steps, per-agent reward standardisation
 * by running statistics), the spec's choices where both are silent:
 *
 *   option            default (paper / spec choice)          alternative
 *   alpha1, alpha2    1, 1 (paper gives none, §1.12)         any; sweep alpha2/alpha1 in {0.1,1,10}
 *   joint             true                                   false = "w/o JOINT" (BCGD, §1.11)
 *   moa               'on' (others from agent i's MOA)       'off' = "w/o MOA": others' true current
 *                                                            policies, sampled (§3.5)
 *   moaOthers         'sample' (one-hot sample)              'probs' (predicted distribution)
 *   moaModel          'full': character + mental + natural   'impromptu': the impromptu net alone
 *                     nets combined with the impromptu net   (bit-identical to f2a2 before the full
 *                     (paper §5.2, Fig. 3; f2a2-moa-natural) model; much cheaper, bench --ab-moa)
 *   strictEstimation  false (buffer terms: stored actions)   true: MOA samples there too
 *   topology          'full'                                 'none', 'ring-plus' (+ edgeFraction)
 *   exchangeMean/Std  1 / 0 (every iteration)                N(mean, std); mean 0 = never
 *   beta, consensusEta 0.5, 1 (paper: none, §7.1)           consensusMode 'averaging'
 *   policyDelay       2 (TD3; paper gives none)              perAgentJitter: d_i in {1,2,3}
 *   targetNoise/Clip  0.2 / 0.5 on logits (TD3)              sigma_i in [0.1, 0.3] with jitter
 *   actionSample      'hard' (straight-through, §1.5)        'soft' (openai/maddpg's soft sample)
 *
 * Cairn's choices beyond the spec: hidden layers are ReLU without LayerNorm (the DDPG-family
 * nets of Cairn's MADDPG, so that F2A2-DDPG and its MADDPG baseline differ only in training; the
 * MAAC fork used LeakyReLU and input BatchNorm); the consensus terms act only at exchange events
 * (§2.4); all critic copies (and their targets) start from one common draw (§2.2); events of one
 * iteration are synchronous (consensus/primal-dual.ts). The behaviour distribution pi0 of every
 * agent is stored with each transition (§1.2): softmax of the logits, the exact distribution of
 * a hard Gumbel-max sample.
 *
 * Logged: losses per agent, `f2a2/rho`, `f2a2/rhobar`, `f2a2/delta` (critic 1 at the buffer
 * action), `f2a2/coef` (a1 - 2 a2 delta^ rhobar, spec §1.12), `moa/loss`, `moa/accuracy`, and per
 * round `consensus/residual` (mean squared distance of the critic copies from their mean),
 * `consensus/messages`, `consensus/scalars` (cumulative, §2.7), `consensus/events`,
 * `consensus/edges`; `commgraph/*`, the graph in use, for the run view (consensus/graph-stats.ts).
 */
import { ConfigError, typedValues, type Schema } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { DenseNet } from '../nn/dense-net';
import { gumbelNoise, gumbelSoftmax } from '../nn/gumbel';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor } from '../nn/tf';
import { Rng } from '../rng';
import { CommGraph, type Topology } from './consensus/graph';
import { addGraphStats } from './consensus/graph-stats';
import { PrimalDualConsensus } from './consensus/primal-dual';
import { ExchangeSchedule } from './consensus/schedule';
import { MASKED_LOGIT } from './core/action-codec';
import { counter } from './core/checkpoint';
import { envProblems } from './core/compat';
import { softUpdate } from './core/target';
import { MoaBank } from './f2a2-moa';
import { MOA_PREV_FIELD, moaNaturalSchema, NaturalMoa } from './f2a2-moa-natural';
import { f2a2SacSchema, sacTrainerClass } from './f2a2-sac';
import { ddpgFamilySchema, denseOptions, MaddpgPolicy, MaddpgTrainer, type Batch, type DdpgVariant, type Net } from './maddpg-trainer';
import type { AlgoEntry, Checkpoint, RoundResult, TrainContext } from './types';

// The DDPG-family fields F2A2 does not offer: its critics are always centralised over discrete
// one-hot actions, and the replay always holds the executed one-hot (spec §1.4).
const { critic: _c, teamCritics: _t, boxPolicy: _b, explorationNoise: _e, storeAction: _s, sharedSample: _ss, ...base } = ddpgFamilySchema;

export const f2a2Schema = {
  ...base,
  hiddenDim: { ...base.hiddenDim, default: 128, doc: 'Units of each of the two hidden layers of actors and critics (paper G: 128).' },
  layerNorm: { ...base.layerNorm, default: false, doc: 'LayerNorm on hidden pre-activations (paper: none).' },
  lrActor: { ...base.lrActor, default: 1e-3, doc: 'Adam learning rate beta_psi of the actors (paper G, MPE: 1e-3).' },
  lrCritic: { ...base.lrCritic, default: 1e-3, doc: 'Adam learning rate beta_phi of the critics (paper G, MPE: 1e-3).' },
  gamma: { ...base.gamma, default: 0.99, doc: 'Discount (paper G: 0.99).' },
  tau: { ...base.tau, default: 0.005, doc: 'Soft target update rate (paper G: 0.005; MAAC code: 0.001).' },
  batchSize: { ...base.batchSize, default: 1024, doc: 'Minibatch per agent and update iteration (paper G: 1024).' },
  updateEvery: { ...base.updateEvery, default: 100, doc: 'Env transitions (over all copies) between update cycles (paper G: 100).' },
  warmup: { ...base.warmup, default: 1024, doc: 'Stored transitions before the first update (MAAC code: 1024); 0 = batchSize x episode limit.' },
  clipMode: { ...base.clipMode, default: 'global', doc: "Gradient clipping: one norm over each network (maddpg-pytorch's clip_grad_norm 0.5) or per tensor." },
  instantiation: { type: 'enum', default: 'ddpg', values: ['ddpg', 'td3', 'sac'], doc: 'F2A2-DDPG (Prop 4, one shared critic), F2A2-TD3 (Prop 5, twin critics, delayed actor, target smoothing) or F2A2-SAC (Prop 6, twin MAAC attention critics, softmax policies; f2a2-sac.ts).' },
  updateIters: { type: 'int', default: 4, min: 1, max: 1000, doc: 'Update iterations per cycle of updateEvery transitions (paper G: 4 per 100 env steps).' },
  alpha1: { type: 'float', default: 1, min: 0, max: 1000, doc: 'Weight of the actor term of the joint objective (paper: no value; spec §1.12: 1).' },
  alpha2: { type: 'float', default: 1, min: 0, max: 1000, doc: 'Weight of the critic (TD) term of the joint objective (paper: no value; spec §1.12: 1).' },
  epsIS: { type: 'float', default: 1, min: 1e-6, max: 1e6, doc: 'Truncation of the importance ratios rho and rhobar (paper: 1 in all experiments).' },
  joint: { type: 'bool', default: true, doc: 'Joint training (both steps descend one objective). false = the "w/o JOINT" ablation (BCGD, Fig. 8): TD-only critic, plain actor.' },
  moa: { type: 'enum', default: 'on', values: ['on', 'off'], doc: "Others' actions in resampled and target terms from agent i's MOA models (on), or from the others' true current policies, sampled ('off' = the \"w/o MOA\" ablation, Fig. 8)." },
  moaOthers: { type: 'enum', default: 'sample', values: ['sample', 'probs'], doc: 'MOA prediction used as an action: a one-hot sample (spec default) or the predicted distribution.' },
  strictEstimation: { type: 'bool', default: false, doc: "Also replace the others' stored actions in the buffer terms by MOA samples (spec §1.4 option)." },
  moaHidden: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Hidden units of each MOA prediction net (paper G: 128).' },
  moaFifo: { type: 'int', default: 1200, min: 1, max: 1_000_000, doc: 'MOA training data: the most recent joint steps, all in one minibatch (paper G: 1200).' },
  moaLr: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'Adam learning rate of the MOA nets (paper: the RL rate, 1e-3).' },
  ...moaNaturalSchema,
  topology: { type: 'enum', default: 'full', values: ['full', 'none', 'ring-plus'], doc: "Communication graph (paper §6.4): complete, no edges (Table 4's 0), or a random ring plus a fraction of the other pairs redrawn each iteration." },
  edgeFraction: { type: 'float', default: 1, min: 0, max: 1, doc: "ring-plus: fraction of the non-ring pairs added each iteration (Table 4's 20..100%)." },
  directed: { type: 'bool', default: false, doc: 'ring-plus: directed arcs instead of undirected edges (spec §2.5 on the 3m column).' },
  exchangeMean: { type: 'float', default: 1, min: 0, max: 1e9, doc: 'Mean interval, in update iterations, between an agent\'s consensus events (Table 5\'s N(mean, std)); 0 = never (N(inf, 0)).' },
  exchangeStd: { type: 'float', default: 0, min: 0, max: 1e9, doc: 'Second parameter of the exchange interval N(mean, std).' },
  secondParamIsVariance: { type: 'bool', default: false, doc: "Read exchangeStd as a variance (the paper's wording) instead of a standard deviation (its table)." },
  beta: { type: 'float', default: 0.5, min: 1e-6, max: 1e3, doc: 'Dual penalty beta of the augmented Lagrangian (paper: none given; spec §7.1: 0.5).' },
  consensusEta: { type: 'float', default: 1, min: 1e-6, max: 1e3, doc: 'Step eta_c of the proximal primal consensus step (spec §2.4: 1).' },
  consensusWeights: { type: 'enum', default: 'uniform', values: ['uniform', 'metropolis'], doc: 'Averaging weights over the closed neighbourhood (spec §2.4).' },
  consensusMode: { type: 'enum', default: 'primal-dual', values: ['primal-dual', 'averaging'], doc: 'Primal-dual consensus (eq. 5.4) or plain parameter averaging (for comparison).' },
  policyDelay: { type: 'int', default: 2, min: 1, max: 100, doc: 'TD3: critic iterations per actor step d_i (paper: none given).' },
  targetNoise: { type: 'float', default: 0.2, min: 0, max: 10, doc: "TD3: std of the Gaussian noise on the target policy's logits." },
  targetNoiseClip: { type: 'float', default: 0.5, min: 0, max: 10, doc: 'TD3: clip of that noise.' },
  perAgentJitter: { type: 'bool', default: false, doc: 'TD3: each agent draws its own delay in {1,2,3} and noise std in [0.1, 0.3] (the paper says they differ per agent).' },
  rewardNorm: { type: 'bool', default: true, doc: "Standardise each agent's training rewards by running mean and std of its stored rewards (MAAC code's buffer)." },
  actionSample: { type: 'enum', default: 'hard', values: ['hard', 'soft'], doc: "Own resampled action: hard straight-through Gumbel-softmax (maddpg-pytorch, spec §1.5) or the soft sample." },
  ...f2a2SacSchema,
} as const satisfies Schema;

export type F2a2Config = ReturnType<typeof parseF2a2>;

export function parseF2a2(values: Readonly<Record<string, unknown>>) {
  return typedValues('algo', f2a2Schema, values);
}

export const F2A2_VARIANT: DdpgVariant = { id: 'f2a2', schema: f2a2Schema };

export function f2a2Problems(spec: EnvSpec): string[] {
  return envProblems({ actions: 'discrete' }, spec);
}

/** Everything of one agent's update that both steps share (disposed after the actor step). */
export interface F2a2Inputs {
  readonly i: number;
  readonly K: number;
  /** Joint actions of the buffer terms (stored, or MOA for the others with strictEstimation). */
  readonly aBuf: Tensor[];
  /** Others' actions of the resampled terms (own slot: the fixed resampled one-hot). */
  readonly aHat: Tensor[];
  /** Gumbel noise of the own resample [K, A_i], reused by the actor step. */
  readonly g: Tensor;
  readonly y: Tensor; //      [K, 1]
  readonly rho: Tensor; //    [K, 1]
  readonly rhoBar: Tensor; // [K, 1]
  readonly id: Tensor; //     [K, N] onehot(i)
}


const JITTER_STREAM = 7_301;
const MOA_MAX_AGENTS = 64;

export class F2a2Trainer extends MaddpgTrainer {
  readonly f: F2a2Config;
  /** TD3's second critic per agent (empty for DDPG). */
  protected readonly critics2: Net[] = [];
  protected readonly critic2Targets: Net[] = [];
  protected readonly critic2Opts: Optimizer[] = [];
  readonly moaBank: MoaBank | null;
  /** Character, mental and natural nets (moaModel 'full'; f2a2-moa-natural.ts). */
  readonly moaNatural: NaturalMoa | null;
  graph: CommGraph;
  readonly schedule: ExchangeSchedule;
  readonly consensus: PrimalDualConsensus;
  /** Per-agent policy delay and target noise std (TD3). */
  delays: number[];
  sigmas: number[];
  /** Update iterations so far (TD3's delay counts them). */
  iters = 0;
  /** Running reward statistics per agent (count, mean, M2; Welford). */
  private readonly rstat: Float64Array;
  private curPi0: Float32Array | null = null;
  private readonly fire: Uint8Array;
  protected readonly sharedP: number;

  constructor(ctx: TrainContext, variant: DdpgVariant = F2A2_VARIANT) {
    // The fields F2A2 fixes (see the schema): the base trainer reads them from the config.
    // rewardNorm: F2A2 standardises by its own running statistics (trainingReward); the base
    // trainer's batch-time standardisation on top of it would standardise twice.
    super({ ...ctx, config: { ...ctx.config, critic: 'centralised', teamCritics: [-1], storeAction: 'onehot', sharedSample: false, rewardNorm: false } }, variant);
    this.f = parseF2a2(ctx.config);
    const f = this.f;
    const { tf, rng } = ctx;
    const problems = f2a2Problems(this.spec);
    if (problems.length > 0) throw new ConfigError('algo.id', `an env whose agents all act in discrete spaces and are learned (${problems.join('; ')})`, 'f2a2');
    // One MLP per ordered pair: quadratic in the agents (F2A2-ISAC, the large-scale form, has no MOA).
    if (f.moa === 'on' && this.N > MOA_MAX_AGENTS) throw new ConfigError('algo.moa', `'off' with more than ${MOA_MAX_AGENTS} agents (${this.N} agents would need ${this.N * (this.N - 1)} MOA networks)`, f.moa);
    this.initCritics(rng);
    const jit = new Rng(ctx.seed, JITTER_STREAM);
    this.delays = this.spec.agents.map(() => (f.perAgentJitter ? 1 + jit.int(3) : f.policyDelay));
    this.sigmas = this.spec.agents.map(() => (f.perAgentJitter ? 0.1 + 0.2 * jit.float() : f.targetNoise));
    this.moaBank =
      f.moa === 'on'
        ? new MoaBank(tf, { n: this.N, obsSizes: this.lay.obsSizes, actSizes: this.lay.codecs.map((c) => c.dim), hidden: f.moaHidden }, f.moaLr, rng)
        : null;
    this.moaNatural = this.moaBank && f.moaModel === 'full' ? new NaturalMoa(tf, this.lay, f, ctx.env, ctx.seed, rng) : null;
    this.graph = new CommGraph(this.N, { topology: f.topology as Topology, edgeFraction: f.edgeFraction, directed: f.directed }, rng);
    this.schedule = new ExchangeSchedule(this.N, { mean: f.exchangeMean === 0 ? Infinity : f.exchangeMean, std: f.exchangeStd, secondParamIsVariance: f.secondParamIsVariance }, rng);
    this.sharedP = this.sharedSize();
    this.consensus = new PrimalDualConsensus(this.N, this.sharedP, { beta: f.beta, eta: f.consensusEta, weights: f.consensusWeights, mode: f.consensusMode });
    this.consensus.init(this.gatherShared());
    this.fire = new Uint8Array(this.N);
    this.rstat = new Float64Array(this.N * 3);
  }

  // ---- networks -----------------------------------------------------------------------------

  /** One common draw for every copy of the shared critic(s) and their targets (spec §2.2); TD3's second critics. */
  protected initCritics(rng: Rng): void {
    const { tf, f } = this;
    for (let i = 1; i < this.N; i++) this.critics[i].params.copyFrom(this.critics[0].params);
    for (let i = 0; i < this.N; i++) this.criticTargets[i].params.copyFrom(this.critics[0].params);
    if (f.instantiation === 'td3') {
      for (let i = 0; i < this.N; i++) {
        const c2 = this.buildCritic(i, rng, true);
        if (i > 0) c2.params.copyFrom(this.critics2[0].params);
        const t2 = this.buildCritic(i, rng, false);
        t2.params.copyFrom(c2.params);
        this.critics2.push(c2);
        this.critic2Targets.push(t2);
        this.critic2Opts.push(new Adam(tf, c2.params, { lr: f.lrCritic }));
      }
    }
  }

  /** Shared critic: [o_1..o_N, a_1..a_N, onehot(i)] -> hidden -> hidden -> 1. */
  protected override buildCritic(_i: number, rng: Rng, trainable: boolean): Net {
    const params = new ParamSet(this.tf, trainable);
    const stats = new ParamSet(this.tf, false);
    const inDim = this.lay.obsTotal + this.lay.actTotal + this.N;
    const net = new DenseNet(this.tf, params, 'net', [inDim, this.cfg.hiddenDim, this.cfg.hiddenDim, 1], rng, denseOptions(this.cfg, stats));
    return { params, net, stats };
  }

  /** Q of critic `c` (0: Q1, 1: Q2) of agent i, online or target. */
  q(i: number, c: 0 | 1, obs: readonly Tensor[], act: readonly Tensor[], id: Tensor, target = false): Tensor {
    const nets = c === 0 ? (target ? this.criticTargets : this.critics) : target ? this.critic2Targets : this.critics2;
    return this.tf.tidy(() => nets[i].net.forward(this.tf.concat([...obs, ...act, id], 1)));
  }

  /** The parameter sets agent i shares through consensus (w_sh, spec §2.1): its critic copies. */
  sharedSets(i: number): ParamSet[] {
    return this.f?.instantiation === 'td3' || this.critics2.length > 0 ? [this.critics[i].params, this.critics2[i].params] : [this.critics[i].params];
  }

  /** The named parameters of agent i that consensus exchanges (DDPG/TD3: every tensor of its critic copies). */
  protected sharedEntries(i: number): [ParamSet, string[]][] {
    return this.sharedSets(i).map((set) => [set, set.names()]);
  }

  /** Scalars of one agent's shared copy (P). */
  protected sharedSize(): number {
    return this.sharedEntries(0).reduce((s, [set, names]) => s + names.reduce((t, n) => t + set.get(n).size, 0), 0);
  }

  /** Every agent's shared copy, flattened: [N, P]. */
  gatherShared(): Float32Array {
    const out = new Float32Array(this.N * this.sharedP);
    for (let i = 0; i < this.N; i++) {
      let o = i * this.sharedP;
      for (const [set, names] of this.sharedEntries(i)) {
        for (const name of names) {
          const d = set.get(name).dataSync() as Float32Array;
          out.set(d, o);
          o += d.length;
        }
      }
    }
    return out;
  }

  scatterShared(copies: Float32Array): void {
    const tf = this.tf;
    for (let i = 0; i < this.N; i++) {
      let o = i * this.sharedP;
      for (const [set, names] of this.sharedEntries(i)) {
        for (const name of names) {
          const v = set.get(name);
          const t = tf.tensor(copies.slice(o, o + v.size), v.shape, 'float32');
          v.assign(t);
          t.dispose();
          o += v.size;
        }
      }
    }
  }

  // ---- hooks of the base trainer ------------------------------------------------------------

  protected override extraBufferWidths(): Record<string, number> {
    // Called before the fields are set: the config is read again here.
    const c = parseF2a2(this.ctx.config);
    return { pi0: this.lay.actTotal, ...(c.moa === 'on' && c.moaModel === 'full' ? { [MOA_PREV_FIELD]: 1 } : {}) };
  }

  protected override onActorOutput(i: number, raw: Float32Array, B: number): void {
    const { lay, N, A } = this;
    const T = lay.actTotal;
    this.curPi0 ??= new Float32Array(this.B * T);
    const mask = this.ctx.env.actionMask;
    const D = lay.codecs[i].dim;
    for (let b = 0; b < B; b++) {
      let max = -Infinity;
      for (let k = 0; k < D; k++) if (mask[(b * N + i) * A + k]) max = Math.max(max, raw[b * D + k]);
      let s = 0;
      const o = b * T + lay.actOff[i];
      for (let k = 0; k < D; k++) {
        const e = mask[(b * N + i) * A + k] ? Math.exp(raw[b * D + k] - max) : 0;
        this.curPi0[o + k] = e;
        s += e;
      }
      for (let k = 0; k < D; k++) this.curPi0[o + k] = s > 0 ? this.curPi0[o + k] / s : 1 / D;
    }
  }

  protected override extraRows(): Record<string, ArrayLike<number>> {
    const rows: Record<string, ArrayLike<number>> = { pi0: this.curPi0 ?? new Float32Array(this.B * this.lay.actTotal) };
    if (this.moaNatural) rows[MOA_PREV_FIELD] = this.moaNatural.links.row();
    return rows;
  }

  protected override beforeEpisodes(): void {
    this.moaNatural?.links.reset();
  }

  protected override afterStore(t: number, valid: Uint8Array): void {
    this.moaNatural?.links.afterStore(this.buffer, valid);
    const r = this.ctx.env.rewards;
    const st = this.rstat;
    for (let b = 0; b < valid.length; b++) {
      if (!valid[b]) continue;
      for (let i = 0; i < this.N; i++) {
        const x = r[b * this.N + i];
        const n = ++st[i * 3];
        const d = x - st[i * 3 + 1];
        st[i * 3 + 1] += d / n;
        st[i * 3 + 2] += d * (x - st[i * 3 + 1]);
      }
    }
    void t;
  }

  protected override trainingReward(j: number, b: Batch): Tensor {
    const tf = this.tf;
    const r = tf.slice(b.rew, [0, j], [b.K, 1]);
    if (!this.f.rewardNorm) return r;
    const n = this.rstat[j * 3];
    const mean = this.rstat[j * 3 + 1];
    const sd = n > 1 ? Math.sqrt(this.rstat[j * 3 + 2] / (n - 1)) : 0;
    const out = tf.tidy(() => tf.div(tf.sub(r, mean), sd > 1e-8 ? sd : 1));
    r.dispose();
    return out;
  }

  // ---- one agent's update -------------------------------------------------------------------

  protected masked(logits: Tensor, mask: Tensor | null): Tensor {
    const tf = this.tf;
    return mask ? tf.add(logits, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : logits;
  }

  /** A one-hot Gumbel-max sample of softmax(logits) per row (no gradient). */
  protected sampleOneHot(logits: Tensor): Tensor {
    const tf = this.tf;
    const [K, D] = logits.shape as [number, number];
    return tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(tf.add(logits, tf.tensor2d(gumbelNoise(this.ctx.rng, K * D), [K, D])), -1), D), 'float32'));
  }

  /**
   * Others' actions (own slot null) at `obs`: agent i's MOA models (with the full model, the
   * mental embeddings of these rows), or the others' current policies.
   */
  protected others(i: number, obs: readonly Tensor[], masks: readonly (Tensor | null)[], mental?: Tensor): (Tensor | null)[] {
    const tf = this.tf;
    const K = obs[0].shape[0] as number;
    if (this.moaBank) {
      const bank = this.moaBank;
      const noise = this.f.moaOthers === 'sample' ? gumbelNoise(this.ctx.rng, (this.N - 1) * K * bank.outDim) : null;
      if (this.moaNatural) {
        // Never fall back to the impromptu net silently: every caller must pass these rows' windows.
        if (!mental) throw new Error('f2a2: the full MOA (moaModel full) needs the mental embeddings of these rows (NaturalMoa.mentalFor)');
        return this.moaNatural.predict(i, obs, this.f.moaOthers as 'sample' | 'probs', noise, mental, bank);
      }
      return bank.predict(i, obs, this.f.moaOthers as 'sample' | 'probs', noise);
    }
    return this.lay.codecs.map((_, j) => (j === i ? null : tf.tidy(() => this.sampleOneHot(this.masked(this.actors[j].net.forward(obs[j]), masks[j])))));
  }

  /** The minibatch-level quantities of agent i's surrogate (spec §1.2-1.4). */
  prepare(i: number, b: Batch): F2a2Inputs {
    const tf = this.tf;
    const f = this.f;
    const K = b.K;
    const D = this.lay.codecs[i].dim;
    const g = tf.tensor2d(gumbelNoise(this.ctx.rng, K * D), [K, D]);
    const id = tf.tidy(() => tf.cast(tf.oneHot(tf.fill([K], i, 'int32'), this.N), 'float32'));
    const pi0All = tf.tensor2d(b.fields.pi0, [K, this.lay.actTotal]);
    const pi0 = tf.slice(pi0All, [0, this.lay.actOff[i]], [K, D]);
    pi0All.dispose();
    const logits = tf.tidy(() => this.masked(this.actors[i].net.forward(b.obs[i]), b.mask[i]));
    const pi = tf.softmax(logits);
    const own = tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(tf.add(logits, g), -1), D), 'float32'));
    const [rho, rhoBar] = tf.tidy(() => {
      const at = (p: Tensor, a: Tensor) => tf.maximum(tf.sum(tf.mul(p, a), -1, true), 1e-8);
      return [tf.minimum(tf.div(at(pi, b.act[i]), at(pi0, b.act[i])), f.epsIS), tf.minimum(tf.div(at(pi0, own), at(pi, own)), f.epsIS)];
    });
    logits.dispose();
    pi.dispose();
    pi0.dispose();
    const mental = this.moaNatural?.mentalFor(i, this.buffer, b.index);
    const oth = this.others(i, b.obs, b.mask, mental?.now);
    const aHat = oth.map((t, j) => (j === i ? own : t!));
    const aBuf = f.strictEstimation ? oth.map((t, j) => (j === i ? b.act[i] : t!)) : [...b.act];
    // Target: own next action greedy from the target actor (TD3: smoothed logits), others' from
    // the MOA (or their current policies) at o'.
    const nextOth = this.others(i, b.nobs, b.nmask, mental?.next);
    mental?.now.dispose();
    mental?.next.dispose();
    const ownNext = tf.tidy(() => {
      let lg = this.actorTargets[i].net.forward(b.nobs[i]);
      if (f.instantiation === 'td3' && this.sigmas[i] > 0) {
        const z = new Float32Array(K * D);
        for (let k = 0; k < z.length; k++) z[k] = Math.max(-f.targetNoiseClip, Math.min(f.targetNoiseClip, this.sigmas[i] * this.ctx.rng.normal()));
        lg = tf.add(lg, tf.tensor2d(z, [K, D]));
      }
      return tf.cast(tf.oneHot(tf.argMax(this.masked(lg, b.nmask[i]), -1), D), 'float32');
    });
    const next = nextOth.map((t, j) => (j === i ? ownNext : t!));
    const y = tf.tidy(() => {
      let qn = this.q(i, 0, b.nobs, next, id, true);
      if (f.instantiation === 'td3') qn = tf.minimum(qn, this.q(i, 1, b.nobs, next, id, true));
      const r = this.trainingReward(i, b);
      return tf.add(r, tf.mul(tf.mul(tf.sub(1, b.term), this.cfg.gamma), qn));
    });
    for (const t of next) t.dispose();
    return { i, K, aBuf, aHat, g, y, rho, rhoBar, id };
  }

  disposeInputs(x: F2a2Inputs, b: Batch): void {
    const own = new Set<Tensor>(b.act);
    for (const t of [...x.aBuf, ...x.aHat]) if (!own.has(t)) own.add(t) && t.dispose();
    for (const t of [x.g, x.y, x.rho, x.rhoBar, x.id]) t.dispose();
  }

  /**
   * Agent i's surrogate as the critic step sees it, for critic c (the loss is separable in Q1
   * and Q2, so each critic's step uses its own terms): joint, Q1: -a1 rho Q(a) - a1 Q(a^) +
   * a2 (Q(a) - y)^2 + a2 rhobar (Q(a^) - y)^2; joint, Q2: only the a2 terms; w/o JOINT: a2 (Q(a) - y)^2.
   */
  criticLoss(x: F2a2Inputs, b: Batch, c: 0 | 1): Tensor {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint } = this.f;
    return tf.tidy(() => {
      const qa = this.q(x.i, c, b.obs, x.aBuf, x.id);
      const td = tf.mul(tf.square(tf.sub(qa, x.y)), a2);
      if (!joint) return tf.mean(td);
      const qh = this.q(x.i, c, b.obs, x.aHat, x.id);
      let l = tf.add(td, tf.mul(tf.mul(tf.square(tf.sub(qh, x.y)), x.rhoBar), a2));
      if (c === 0) l = tf.sub(l, tf.mul(tf.add(tf.mul(x.rho, qa), qh), a1));
      return tf.mean(l);
    });
  }

  /**
   * Agent i's surrogate as the actor step sees it (gradient through its own resampled action
   * only): joint: -a1 Q1(a^) + a2 rhobar ((Q1(a^) - y)^2 [+ (Q2(a^) - y)^2]); w/o JOINT: -a1 Q1(a^);
   * plus the logit regulariser.
   */
  actorLoss(x: F2a2Inputs, b: Batch): Tensor {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint } = this.f;
    const i = x.i;
    return tf.tidy(() => {
      const raw = this.actors[i].net.forward(b.obs[i]);
      const own = gumbelSoftmax(tf, this.masked(raw, b.mask[i]), x.g, 1, this.f.actionSample === 'hard');
      const acts = x.aHat.map((t, j) => (j === i ? own : t));
      const q1 = this.q(i, 0, b.obs, acts, x.id);
      let l = tf.mul(q1, -a1);
      if (joint) {
        let sq = tf.square(tf.sub(q1, x.y));
        if (this.f.instantiation === 'td3') sq = tf.add(sq, tf.square(tf.sub(this.q(i, 1, b.obs, acts, x.id), x.y)));
        l = tf.add(l, tf.mul(tf.mul(sq, x.rhoBar), a2));
      }
      return tf.add(tf.mean(l), tf.mul(tf.mean(tf.square(raw)), this.cfg.actorLogitReg));
    });
  }

  private diagnostics(x: F2a2Inputs, b: Batch): void {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2 } = this.f;
    const [d, coef, rho, rb] = tf.tidy(() => {
      const d = tf.mean(tf.sub(this.q(x.i, 0, b.obs, x.aBuf, x.id), x.y));
      const dh = tf.sub(this.q(x.i, 0, b.obs, x.aHat, x.id), x.y);
      const coef = tf.mean(tf.sub(a1, tf.mul(tf.mul(dh, x.rhoBar), 2 * a2)));
      return [d, coef, tf.mean(x.rho), tf.mean(x.rhoBar)];
    });
    for (const [k, t] of [['f2a2/delta', d], ['f2a2/coef', coef], ['f2a2/rho', rho], ['f2a2/rhobar', rb]] as const) {
      this.stats.add(k, t.dataSync()[0]);
      t.dispose();
    }
  }

  /** One update iteration (spec §2.3): every agent's critic then actor step, consensus, MOA, targets. */
  iteration(): void {
    const tf = this.tf;
    const f = this.f;
    for (let i = 0; i < this.N; i++) {
      const b = this.sampleBatch(0);
      const x = this.prepare(i, b);
      this.diagnostics(x, b);
      const lc = this.stepNet(this.critics[i].params, this.criticOpts[i], () => this.criticLoss(x, b, 0));
      this.stats.add(`losses/critic_${i}`, lc);
      if (f.instantiation === 'td3') this.stats.add(`losses/critic2_${i}`, this.stepNet(this.critics2[i].params, this.critic2Opts[i], () => this.criticLoss(x, b, 1)));
      const due = f.instantiation !== 'td3' || (this.iters + 1) % this.delays[i] === 0;
      if (due) this.stats.add(`losses/actor_${i}`, this.stepNet(this.actors[i].params, this.actorOpts[i], () => this.actorLoss(x, b)));
      this.disposeInputs(x, b);
      this.disposeBatch(b);
    }
    this.consensusStep();
    if (this.moaBank) this.moaStep();
    for (let i = 0; i < this.N; i++) {
      softUpdate(tf, this.actorTargets[i].params, this.actors[i].params, f.tau);
      softUpdate(tf, this.criticTargets[i].params, this.critics[i].params, f.tau);
      if (f.instantiation === 'td3') softUpdate(tf, this.critic2Targets[i].params, this.critics2[i].params, f.tau);
    }
    this.iters++;
  }

  protected override update(): void {
    for (let u = 0; u < this.f.updateIters; u++) this.iteration();
    this.updates++;
    this.afterUpdate();
  }

  /** The consensus events of this iteration over this iteration's graph (spec §2.4-2.6). */
  consensusStep(): void {
    const rng = this.ctx.rng;
    this.graph.redraw(rng);
    const firing = this.schedule.tick(rng, this.fire);
    if (firing === 0 || this.graph.edgeCount() === 0) return;
    const copies = this.gatherShared();
    if (this.consensus.step(copies, this.graph, this.fire) > 0) this.scatterShared(copies);
  }

  /** One MOA step on the most recent `moaFifo` joint steps (spec §3.2-3.3). */
  protected moaStep(): void {
    const tf = this.tf;
    const bank = this.moaBank!;
    const buf = this.buffer;
    const R = Math.min(this.f.moaFifo, buf.count);
    if (R === 0) return;
    const { lay } = this;
    const obs = new Float32Array(R * lay.obsTotal);
    const act = new Float32Array(R * lay.actTotal);
    for (let k = 0; k < R; k++) {
      const r = (buf.nextSlot - 1 - k + buf.capacity) % buf.capacity;
      obs.set(buf.row('obs', r), k * lay.obsTotal);
      act.set(buf.row('act', r), k * lay.actTotal);
    }
    const O = tf.tensor2d(obs, [R, lay.obsTotal]);
    const Aj = tf.tensor2d(act, [R, lay.actTotal]);
    const os = lay.obsSizes.map((s, j) => tf.slice(O, [0, lay.obsOff[j]], [R, s]));
    const as = lay.codecs.map((c, j) => tf.slice(Aj, [0, lay.actOff[j]], [R, c.dim]));
    this.stats.add('moa/loss', bank.step(os, as) / bank.pairs.length);
    const acc = tf.tidy(() => {
      // All pairs at once ([P, R] hits, each pair's mean over its rows, then over pairs): the
      // same argmaxes and exact 0/1 sums as one pair at a time, in 7 kernels instead of 7 per pair.
      const pred = tf.argMax(bank.logits(os), -1);
      const target = as.map((a) => tf.argMax(a, -1));
      const want = tf.stack(bank.pairs.map(([, j]) => target[j]));
      return tf.mean(tf.mean(tf.cast(tf.equal(pred, want), 'float32'), 1));
    });
    this.stats.add('moa/accuracy', acc.dataSync()[0]);
    for (const t of [O, Aj, acc, ...os, ...as]) t.dispose();
    if (this.moaNatural) for (const [k, v] of Object.entries(this.moaNatural.step(buf, bank, this.ctx.rng))) this.stats.add(k, v);
  }

  override async round(): Promise<RoundResult> {
    const res = await super.round();
    const c = this.consensus;
    const stats = { ...res.stats };
    stats['consensus/residual'] = PrimalDualConsensus.residual(this.gatherShared(), this.N, this.sharedP);
    stats['consensus/messages'] = c.messages;
    stats['consensus/scalars'] = c.scalars;
    stats['consensus/events'] = c.events;
    stats['consensus/edges'] = this.graph.edgeCount();
    addGraphStats(this.graph, stats);
    stats['charts/update_iters'] = this.iters;
    if (this.moaNatural) stats['moa/char_env_steps'] = this.moaNatural.charEnvSteps;
    return { ...res, stats };
  }

  // ---- checkpoints --------------------------------------------------------------------------

  protected override extraParts(): { params: Record<string, ParamSet>; optimisers: Record<string, Optimizer> } {
    const params: Record<string, ParamSet> = {};
    const optimisers: Record<string, Optimizer> = {};
    this.critics2.forEach((c, i) => {
      params[`critic2/${i}/`] = c.params;
      params[`critic2Target/${i}/`] = this.critic2Targets[i].params;
      optimisers[`critic2_${i}`] = this.critic2Opts[i];
    });
    if (this.moaBank) {
      params['moa/'] = this.moaBank.params;
      optimisers.moa = this.moaBank.opt;
    }
    if (this.moaNatural) {
      const nat = this.moaNatural.parts();
      Object.assign(params, nat.params);
      Object.assign(optimisers, nat.optimisers);
    }
    return { params, optimisers };
  }

  protected override extraState(): Record<string, unknown> {
    return {
      iters: this.iters,
      delays: this.delays,
      sigmas: this.sigmas,
      rstat: Array.from(this.rstat),
      ring: Array.from(this.graph.ring),
      countdown: this.schedule.getState(),
      consensusCounters: { messages: this.consensus.messages, scalars: this.consensus.scalars, events: this.consensus.events },
      ...(this.moaNatural ? { moaCharSeed: this.moaNatural.charSeed } : {}),
    };
  }

  protected override loadExtraState(e: Record<string, unknown>): void {
    this.iters = counter(e, 'iters', 'f2a2');
    const arr = (k: string, n: number): number[] => {
      const v = e[k];
      if (!Array.isArray(v) || v.length !== n || v.some((x) => !Number.isFinite(Number(x)))) throw new Error(`f2a2: checkpoint field "${k}" is missing or has the wrong length`);
      return v.map(Number);
    };
    this.delays = arr('delays', this.N);
    this.sigmas = arr('sigmas', this.N);
    this.rstat.set(arr('rstat', this.N * 3));
    // A throwaway Rng: the restored run's own stream must not move while the graph is rebuilt.
    this.graph = new CommGraph(this.N, this.graph.config, new Rng(0), arr('ring', this.N));
    this.schedule.setState(arr('countdown', this.N));
    const cc = e.consensusCounters as Record<string, unknown>;
    this.consensus.messages = counter(cc ?? {}, 'messages', 'f2a2');
    this.consensus.scalars = counter(cc ?? {}, 'scalars', 'f2a2');
    this.consensus.events = counter(cc ?? {}, 'events', 'f2a2');
    if (this.moaNatural) this.moaNatural.restoreCharSeed(counter(e, 'moaCharSeed', 'f2a2'));
  }

  override async save(): Promise<Checkpoint> {
    const ck = await super.save();
    const P = this.sharedP;
    ck.tensors['consensus/lambda'] = { shape: [this.N, P], data: Float32Array.from(this.consensus.lambda) };
    ck.tensors['consensus/local'] = { shape: [this.N, P], data: Float32Array.from(this.consensus.local) };
    return ck;
  }

  override load(ckpt: Checkpoint): void {
    super.load(ckpt);
    for (const k of ['lambda', 'local'] as const) {
      const t = ckpt.tensors[`consensus/${k}`];
      if (!t || t.data.length !== this.consensus[k].length) throw new Error(`f2a2: checkpoint tensor "consensus/${k}" is missing or has the wrong size`);
      this.consensus[k].set(t.data);
    }
  }

  override dispose(): void {
    super.dispose();
    this.moaBank?.disposeConstants();
    this.moaNatural?.disposeConstants();
  }
}

/** F2A2-SAC (f2a2-sac.ts), built on this trainer; a class factory because f2a2-sac.ts cannot import this module back. */
export const F2a2SacTrainer = sacTrainerClass(F2a2Trainer);
export type F2a2SacTrainer = InstanceType<typeof F2a2SacTrainer>;

export const f2a2Entry: AlgoEntry = {
  id: 'f2a2',
  title: 'F2A2: fully decentralised actor-critic, joint objective, primal-dual consensus, MOA (Li et al. 2023; -DDPG, -TD3, -SAC)',
  schema: f2a2Schema,
  accepts: f2a2Problems,
  createTrainer: (ctx) => (ctx.config.instantiation === 'sac' ? new F2a2SacTrainer(ctx) : new F2a2Trainer(ctx)),
  createPolicy: (ctx) => new MaddpgPolicy(ctx),
  variants: [
    { name: 'td3', config: { instantiation: 'td3' } },
    { name: 'sac', config: { instantiation: 'sac' } },
  ],
  diagnostics: [
    { prefix: 'consensus', title: 'Consensus and communication', doc: 'Disagreement of the shared critic copies, consensus events, messages and scalars sent (spec §2.7).' },
    { prefix: 'moa', title: 'Models of other agents', doc: "Cross-entropy and accuracy of each agent's predictions of the others' actions." },
    { prefix: 'f2a2', title: 'Joint objective', doc: 'Coefficients of the joint actor-critic objective and the importance ratios.' },
  ],
};
