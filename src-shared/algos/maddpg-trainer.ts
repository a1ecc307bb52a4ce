/**
 * The deterministic-policy actor-critic trainer behind DDPG (ddpg.ts), MADDPG (maddpg.ts) and
 * ALITA (alita.ts): one actor, one critic and their targets per agent, a shared replay of joint
 * transitions, openai/maddpg's update order. The schema's defaults are ALITA appendix D where
 * it speaks and openai/maddpg (HEAD 3ceefa0) where it is silent (shared/specs/alita.md §1, §10);
 * the learner files' headers hold the paper-vs-reference tables.
 *
 * One round plays one episode in each of the B copies (LockstepRollout). Every step stores the
 * B joint transitions (observations, the stored action vectors, rewards, next observations,
 * termination: a time limit bootstraps) and, every `updateEvery` transitions once the buffer
 * holds the warm-up, runs one update: for each agent j in index order, a minibatch (its own
 * index set, as the reference), one critic step on y = r_j + gamma (1 - term) Q'_j(x', mu'(o')),
 * one actor step on -Q_j(x, a_1..mu_j(o_j)..a_N) + reg mean(logits^2), then j's soft target
 * update (so later agents see j's new targets, as the reference).
 *
 * Critic per agent (`critic`, or per team with `teamCritics`): 'centralised' sees every agent's
 * observation and action (MADDPG), 'local' its own (DDPG, the reference's `local_q_func`). This
 * is how one run pairs different learners per team (ALITA Table 4: MADDPG agents vs a DDPG
 * adversary): docs/design.md "Learners per team".
 *
 * Extension points for learners built on it (ALITA): `trainingReward` (reward reshaping at
 * update time), `actorExtraLoss` (an extra term in one agent's actor loss), `afterStore` (work
 * at every env step), `beforeEpisodes` (episode starts), `extraParts`/`extraState` (checkpoints).
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { EnvSpec, VecEnv } from '../envs/types';
import { clipByGlobalNorm, clipPerTensor } from '../nn/clip';
import { DenseNet, type DenseNetOptions } from '../nn/dense-net';
import { gumbelNoise, gumbelSoftmax } from '../nn/gumbel';
import { registerOffPolicyGradients } from '../nn/gradients-offpolicy';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { actRows, actionTensor, agentCodec, MASKED_LOGIT, type AgentCodec, type BoxPolicy } from './core/action-codec';
import { counter, loadLearner, saveLearner } from './core/checkpoint';
import { envProblems, type EnvNeeds } from './core/compat';
import { LockstepRollout } from './core/rollout';
import { softUpdate } from './core/target';
import { TransitionBuffer } from './core/transition-buffer';
import type { Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

export const ddpgFamilySchema = {
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Units of each of the two hidden layers of actors and critics (ALITA appendix D: 128; openai/maddpg: 64).' },
  layerNorm: { type: 'bool', default: true, doc: 'LayerNorm on the hidden pre-activations (ALITA appendix D; openai/maddpg: none).' },
  lrActor: { type: 'float', default: 1e-2, min: 0, max: 1, doc: 'Adam learning rate of the actors (paper silent; openai/maddpg: 1e-2).' },
  lrCritic: { type: 'float', default: 1e-2, min: 0, max: 1, doc: 'Adam learning rate of the critics (paper silent; openai/maddpg: 1e-2).' },
  gamma: { type: 'float', default: 0.95, min: 0, max: 1, doc: 'Discount (ALITA appendix D and openai/maddpg: 0.95).' },
  tau: { type: 'float', default: 0.01, min: 0, max: 1, doc: 'Soft target update rate, target <- tau online + (1 - tau) target (openai/maddpg: polyak 0.99, i.e. tau 0.01).' },
  batchSize: { type: 'int', default: 1024, min: 1, max: 1_000_000, doc: 'Minibatch per agent and update (ALITA appendix D and openai/maddpg: 1024).' },
  bufferSize: { type: 'int', default: 1_000_000, min: 1, max: 10_000_000, doc: 'Replay capacity in joint transitions (ALITA appendix D: 1e6).' },
  updateEvery: { type: 'int', default: 100, min: 1, max: 1_000_000, doc: 'Env transitions collected between updates (ALITA appendix D and openai/maddpg: 100).' },
  warmup: {
    type: 'int',
    default: 0,
    min: 0,
    max: 10_000_000,
    doc: 'Transitions in the buffer before the first update; 0 = batchSize x episode limit (openai/maddpg max_replay_buffer_len). Capped at bufferSize.',
  },
  gradClip: { type: 'float', default: 0.5, min: 0, doc: 'Gradient clipping norm, 0 = none (ALITA appendix D: 0.5).' },
  clipMode: { type: 'enum', default: 'per-tensor', values: ['per-tensor', 'global'], doc: "per-tensor: each variable's gradient to norm gradClip (openai/maddpg); global: one norm over the network." },
  actorLogitReg: { type: 'float', default: 1e-3, min: 0, doc: 'Weight of mean(actor output^2) in the actor loss (openai/maddpg: 1e-3).' },
  critic: { type: 'enum', default: 'centralised', values: ['centralised', 'local'], doc: "Critic input: every agent's observation and action (MADDPG) or the agent's own (DDPG)." },
  teamCritics: {
    type: 'floatList',
    default: [-1],
    min: -1,
    max: 1,
    doc: "Per team in the env's team order, 1 = centralised critic (MADDPG), 0 = local (DDPG); -1 (alone, the default) = every team uses `critic`. E.g. simple_adversary 0,1: a DDPG adversary against MADDPG good agents.",
  },
  boxPolicy: {
    type: 'enum',
    default: 'tanh',
    values: ['tanh', 'gumbel-softmax'],
    doc: "Box actions: tanh-squashed with Gaussian noise (DDPG), or a Gumbel-softmax soft vector (MPE's soft action interface as openai/maddpg feeds it; needs a box containing [0, 1]).",
  },
  explorationNoise: { type: 'float', default: 0.1, min: 0, max: 2, doc: 'Std of the Gaussian noise added to tanh box actions while training, in units of the half-range.' },
  storeAction: { type: 'enum', default: 'soft', values: ['soft', 'onehot'], doc: 'Discrete actions in the replay: the Gumbel-softmax vector that was sampled (critic input as in the actor loss) or the one-hot of the executed action.' },
  sharedSample: { type: 'bool', default: false, doc: 'One minibatch for all agents per update (openai/maddpg draws one index set per agent: false).' },
  // The options below default to openai/maddpg; the F2A2 presets (f2a2-presets.ts) switch them to
  // the discrete MADDPG of maddpg-pytorch / the MAAC code base that F2A2 compared against (spec §4.1).
  activation: { type: 'enum', default: 'relu', values: ['relu', 'leaky-relu'], doc: 'Hidden activation (openai/maddpg, maddpg-pytorch: relu; the MAAC code base F2A2 reused: LeakyReLU 0.01).' },
  init: { type: 'enum', default: 'glorot', values: ['glorot', 'torch'], doc: "Weights: Glorot uniform with zero biases (openai/maddpg) or PyTorch's nn.Linear default (maddpg-pytorch, MAAC)." },
  inputBatchNorm: { type: 'bool', default: false, doc: "Affine-free BatchNorm on actor and critic inputs: batch statistics in updates, running ones when acting (maddpg-pytorch's norm_in)." },
  updatesPerCycle: { type: 'int', default: 1, min: 1, max: 1000, doc: 'Updates run each time updateEvery transitions have come in, each on fresh minibatches (openai/maddpg: 1; MAAC code, F2A2 appendix G: 4).' },
  rewardNorm: { type: 'bool', default: false, doc: "Standardise each agent's sampled rewards by the mean and std of that agent's rewards in the replay (MAAC's buffer; F2A2 spec §4 for its MPE baselines)." },
  gumbelHard: { type: 'bool', default: false, doc: "Discrete actors: the actor loss feeds the critic a hard (one-hot, straight-through) Gumbel sample (maddpg-pytorch) instead of the soft one (openai/maddpg). With storeAction 'onehot', acting is hard too." },
  targetActions: { type: 'enum', default: 'sample', values: ['sample', 'greedy'], doc: 'Discrete next actions in the critic target: a fresh Gumbel-softmax sample of the target actor (openai/maddpg) or its one-hot argmax (maddpg-pytorch).' },
  othersInActorLoss: { type: 'enum', default: 'buffer', values: ['buffer', 'current-greedy'], doc: "The other agents' actions in agent j's actor loss: the stored ones (openai/maddpg) or the greedy actions of their current actors (maddpg-pytorch)." },
  targetOrder: { type: 'enum', default: 'per-agent', values: ['per-agent', 'after-all'], doc: "Soft target updates right after each agent's step (openai/maddpg) or once after every agent's step (maddpg-pytorch's update_all_targets)." },
} as const satisfies Schema;

export type DdpgFamilyConfig = Values<typeof ddpgFamilySchema>;

/**
 * MADDPG's shared-critic option (F2A2 appendix H.3, Table 8: "all agents share a centralized
 * Q-value function", phi_in = 0). Only learners whose schema lists it (maddpg.ts) offer it; the
 * trainer reads it from there, so DDPG, ALITA and F2A2 never see it.
 */
export const sharedCriticField = {
  sharedCritic: {
    type: 'bool',
    default: false,
    doc: "One centralised critic Q(o, a, onehot(i)) for all agents, trained on the sum of the agents' TD losses, one step per update (F2A2 appendix H.3 / Table 8); false = one critic per agent (Lowe et al., openai/maddpg).",
  },
} as const satisfies Schema;

/** Discrete or box agents, every team learned (the critics need every agent's action). */
export const DDPG_NEEDS: EnvNeeds = { actions: 'any' };

export function ddpgProblems(spec: EnvSpec): string[] {
  return envProblems(DDPG_NEEDS, spec);
}

export interface DdpgVariant {
  readonly id: string;
  readonly schema: Schema;
  /** Trainer settings a learner fixes whatever its config says (its schema lacks these fields). */
  readonly fixed?: Partial<DdpgFamilyConfig>;
}

/** Whether agent i's critic is centralised under this config (validates `teamCritics`). */
export function centralisedCritics(spec: EnvSpec, cfg: DdpgFamilyConfig): boolean[] {
  const tc = cfg.teamCritics;
  if (!(tc.length === 1 && tc[0] === -1)) {
    if (tc.length !== spec.teams.length || tc.some((v) => v !== 0 && v !== 1)) {
      throw new ConfigError('algo.teamCritics', `${spec.teams.length} values of 0 (local) or 1 (centralised), one per team (${spec.teams.map((t) => t.name).join(', ')})`, tc);
    }
    return spec.agents.map((a) => tc[a.team] === 1);
  }
  return spec.agents.map(() => cfg.critic === 'centralised');
}

/** Compact per-agent layout: observation and action-vector offsets in a joint row. */
export interface JointLayout {
  readonly N: number;
  readonly codecs: readonly AgentCodec[];
  readonly obsSizes: readonly number[];
  readonly obsOff: readonly number[];
  readonly obsTotal: number;
  readonly actOff: readonly number[];
  readonly actTotal: number;
}

export function jointLayout(spec: EnvSpec, boxPolicy: BoxPolicy): JointLayout {
  const N = spec.numAgents;
  const codecs = spec.agents.map((_, i) => agentCodec(spec, i, boxPolicy));
  const obsSizes = spec.agents.map((a) => a.obsSize);
  const obsOff: number[] = [];
  const actOff: number[] = [];
  let o = 0;
  let d = 0;
  for (let i = 0; i < N; i++) {
    obsOff.push(o);
    actOff.push(d);
    o += obsSizes[i];
    d += codecs[i].dim;
  }
  return { N, codecs, obsSizes, obsOff, obsTotal: o, actOff, actTotal: d };
}

/** A network with its weights and (BatchNorm) running estimates, kept apart for optimisers and checkpoints. */
export interface Net {
  params: ParamSet;
  net: DenseNet;
  /** Non-trainable running estimates of the input BatchNorm (empty without one). */
  stats: ParamSet;
}

/** DenseNet options of the family's networks under `cfg`. */
export function denseOptions(cfg: DdpgFamilyConfig, stats: ParamSet): DenseNetOptions {
  return { layerNorm: cfg.layerNorm, activation: cfg.activation, init: cfg.init, inputNorm: cfg.inputBatchNorm ? stats : undefined };
}

/** One agent's actor: DenseNet [obs] -> [hidden, hidden] -> [action dim]. */
export function buildActor(tf: Tf, lay: JointLayout, i: number, cfg: DdpgFamilyConfig, rng: Rng, trainable = true): Net {
  const params = new ParamSet(tf, trainable);
  const stats = new ParamSet(tf, false);
  const net = new DenseNet(tf, params, 'net', [lay.obsSizes[i], cfg.hiddenDim, cfg.hiddenDim, lay.codecs[i].dim], rng, denseOptions(cfg, stats));
  return { params, net, stats };
}

/**
 * The greedy action vector of actor outputs `raw` (no gradient): the one-hot argmax of the
 * (masked) logits for a discrete agent, their softmax for a soft box, tanh for a tanh box.
 */
export function greedyAction(tf: Tf, c: AgentCodec, raw: Tensor, mask: Tensor | null): Tensor {
  return tf.tidy(() => {
    if (c.kind === 'tanh') return tf.tanh(raw);
    const logits = mask ? tf.add(raw, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : raw;
    if (!c.discrete) return tf.softmax(logits);
    return tf.cast(tf.oneHot(tf.argMax(logits, -1), c.dim), 'float32');
  });
}

/** Critic input width of agent i (centralised: every observation and action). */
export function criticInDim(lay: JointLayout, i: number, centralised: boolean): number {
  return centralised ? lay.obsTotal + lay.actTotal : lay.obsSizes[i] + lay.codecs[i].dim;
}

/** A sampled minibatch as tensors (owned by the update; disposed after it). */
export interface Batch {
  readonly K: number;
  /** Row indices into the replay (for learners that look rows up again). */
  readonly index: Int32Array;
  readonly obs: Tensor[]; //  per agent [K, obsSize_i]
  readonly act: Tensor[]; //  per agent [K, dim_i] (the stored vectors)
  readonly nobs: Tensor[];
  readonly rew: Tensor; //    [K, N]
  readonly term: Tensor; //   [K, 1]
  readonly mask: (Tensor | null)[]; //  per agent [K, n] for discrete agents
  readonly nmask: (Tensor | null)[];
  /** The raw float rows, for CPU-side work. */
  readonly fields: Record<string, Float32Array>;
}

class Stats {
  private readonly acc = new Map<string, { s: number; n: number }>();
  add(k: string, v: number): void {
    const a = this.acc.get(k) ?? { s: 0, n: 0 };
    a.s += v;
    a.n += 1;
    this.acc.set(k, a);
  }
  take(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, a] of this.acc) out[k] = a.s / a.n;
    this.acc.clear();
    return out;
  }
}

export class MaddpgTrainer implements Trainer {
  protected readonly tf: Tf;
  protected readonly cfg: DdpgFamilyConfig;
  protected readonly spec: EnvSpec;
  protected readonly lay: JointLayout;
  protected readonly N: number;
  protected readonly B: number;
  protected readonly A: number;
  protected readonly central: boolean[];
  /** One critic (index 0) shared by every agent, with the agent id in its input (sharedCriticField). */
  protected readonly sharedCritic: boolean;
  protected readonly actors: Net[] = [];
  protected readonly actorTargets: Net[] = [];
  protected readonly critics: Net[] = [];
  protected readonly criticTargets: Net[] = [];
  protected readonly actorOpts: Optimizer[] = [];
  protected readonly criticOpts: Optimizer[] = [];
  protected readonly buffer: TransitionBuffer;
  protected readonly rollout: LockstepRollout;
  protected readonly stats = new Stats();
  protected readonly warmup: number;
  /** Transitions since the last update (or skipped update). */
  protected sinceUpdate = 0;
  protected updates = 0;
  // Scratch rows of the current step, copy-major.
  protected readonly curObs: Float32Array;
  protected readonly curAct: Float32Array;
  protected readonly curMask: Float32Array;
  private readonly sampleOut: Record<string, Float32Array>[] = [];

  constructor(
    protected readonly ctx: TrainContext,
    protected readonly variant: DdpgVariant,
  ) {
    const { tf, env, rng } = ctx;
    this.tf = tf;
    registerOffPolicyGradients(tf);
    this.cfg = { ...typedValues('algo', ddpgFamilySchema, ctx.config), ...variant.fixed };
    this.spec = env.spec;
    this.lay = jointLayout(this.spec, this.cfg.boxPolicy);
    this.N = this.spec.numAgents;
    this.B = env.numEnvs;
    this.A = this.spec.numActions;
    this.central = centralisedCritics(this.spec, this.cfg);
    this.sharedCritic = 'sharedCritic' in variant.schema && typedValues('algo', sharedCriticField, ctx.config).sharedCritic;
    if (this.sharedCritic && this.central.some((x) => !x)) {
      throw new ConfigError('algo.sharedCritic', 'false unless every critic is centralised (critic = centralised, teamCritics -1 or all 1): a shared critic reads every agent', true);
    }
    const c = this.cfg;
    this.createNetworks(rng);
    const widths: Record<string, number> = { obs: this.lay.obsTotal, act: this.lay.actTotal, rew: this.N, nobs: this.lay.obsTotal, term: 1 };
    if (this.A > 0) {
      widths.mask = this.N * this.A;
      widths.nmask = this.N * this.A;
    }
    Object.assign(widths, this.extraBufferWidths());
    this.buffer = new TransitionBuffer(c.bufferSize, widths, c.rewardNorm ? ['rew'] : []);
    this.warmup = Math.min(c.bufferSize, c.warmup > 0 ? c.warmup : c.batchSize * this.spec.episodeLimit);
    this.rollout = new LockstepRollout(env, ctx.seed);
    this.curObs = new Float32Array(this.B * this.lay.obsTotal);
    this.curAct = new Float32Array(this.B * this.lay.actTotal);
    this.curMask = new Float32Array(this.B * this.N * this.A);
  }

  /**
   * Build the networks (called once, from the constructor, before the replay exists): per agent
   * an actor, a critic, their targets and optimisers. Learners with other networks (MAAC's one
   * attention critic) override it; subclass fields they set here must be `declare`d.
   */
  protected createNetworks(rng: Rng): void {
    const { tf, cfg: c } = this;
    for (let i = 0; i < this.N; i++) {
      // Draw order actor, critic, targets per agent (as before the shared-critic option); a
      // shared critic is drawn once, with agent 0's networks.
      const own = !this.sharedCritic || i === 0;
      const actor = buildActor(tf, this.lay, i, c, rng);
      const critic = own ? this.buildCritic(i, rng, true) : null;
      const actorT = buildActor(tf, this.lay, i, c, rng, false);
      const criticT = own ? this.buildCritic(i, rng, false) : null;
      actorT.params.copyFrom(actor.params);
      this.actors.push(actor);
      this.actorTargets.push(actorT);
      this.actorOpts.push(new Adam(tf, actor.params, { lr: c.lrActor }));
      if (!critic || !criticT) continue;
      criticT.params.copyFrom(critic.params);
      this.critics.push(critic);
      this.criticTargets.push(criticT);
      this.criticOpts.push(new Adam(tf, critic.params, { lr: c.lrCritic }));
    }
  }

  /** Index into `critics` of agent j's critic. */
  protected criticOf(j: number): number {
    return this.sharedCritic ? 0 : j;
  }

  protected buildCritic(i: number, rng: Rng, trainable: boolean): Net {
    const params = new ParamSet(this.tf, trainable);
    const stats = new ParamSet(this.tf, false);
    const inDim = criticInDim(this.lay, i, this.central[i]) + (this.sharedCritic ? this.N : 0);
    const net = new DenseNet(this.tf, params, 'net', [inDim, this.cfg.hiddenDim, this.cfg.hiddenDim, 1], rng, denseOptions(this.cfg, stats));
    return { params, net, stats };
  }

  /** BatchNorm mode of every network (PyTorch's prep_training / prep_rollouts); no effect without BatchNorm. */
  protected setTraining(on: boolean): void {
    for (const n of [...this.actors, ...this.actorTargets, ...this.critics, ...this.criticTargets]) n.net.training = on;
  }

  // ---- extension points -------------------------------------------------------------------

  /** Agent j's training reward on a batch [K, 1] (default: the env's reward). */
  protected trainingReward(j: number, b: Batch): Tensor {
    return this.tf.slice(b.rew, [0, j], [b.K, 1]);
  }
  /** An extra term of agent j's actor loss (inside its gradient tape), or null. */
  protected actorExtraLoss(_j: number, _b: Batch, _aHat: Tensor): Tensor | null {
    return null;
  }
  /** After the transitions of step t were stored (ALITA's per-step clone updates). */
  protected afterStore(_t: number, _valid: Uint8Array): void {}
  /** The round's episodes are about to start (ALITA's clone copies). */
  protected beforeEpisodes(): void {}
  /** After each update of all agents. */
  protected afterUpdate(): void {}
  /**
   * Extra replay fields (name -> floats per transition), e.g. F2A2's behaviour probabilities.
   * Called from the constructor: may read only `spec`, `lay`, `N`, `A`, `ctx`.
   */
  protected extraBufferWidths(): Record<string, number> {
    return {};
  }
  /** The rows of the extra fields for the current step ([B, width] each, copy order). */
  protected extraRows(): Record<string, ArrayLike<number>> {
    return {};
  }
  /** Agent i's actor outputs [B, dim] at this step, before the action is drawn (behaviour logging). */
  protected onActorOutput(_i: number, _raw: Float32Array, _B: number): void {}
  protected extraParts(): { params: Record<string, ParamSet>; optimisers: Record<string, Optimizer> } {
    return { params: {}, optimisers: {} };
  }
  protected extraState(): Record<string, unknown> {
    return {};
  }
  protected loadExtraState(_extra: Record<string, unknown>): void {}

  // ---- the round ----------------------------------------------------------------------------

  async round(): Promise<RoundResult> {
    const ro = this.rollout;
    ro.begin();
    this.beforeEpisodes();
    const { envSteps, episodes } = ro.run({ act: (t) => this.act(t), observe: (t) => this.observe(t) });
    const stats = this.stats.take();
    stats['charts/updates'] = this.updates;
    stats['charts/buffer_size'] = this.buffer.count;
    return { episodes, envSteps, stats };
  }

  /** Actor outputs of agent i for rows of `obsRows` ([R, obsSize_i]); no gradient. */
  protected actorRaw(i: number, obsRows: Float32Array, R: number, target = false): Float32Array {
    const tf = this.tf;
    const net = (target ? this.actorTargets : this.actors)[i].net;
    const x = tf.tensor2d(obsRows, [R, this.lay.obsSizes[i]]);
    const y = net.forward(x);
    const out = y.dataSync() as Float32Array;
    x.dispose();
    y.dispose();
    return out;
  }

  protected act(_t: number): void {
    const { env, rng } = this.ctx;
    this.setTraining(false);
    const { N, B, A, lay } = this;
    const O = this.spec.obsSize;
    const ro = this.rollout;
    const D = this.spec.boxSize;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        this.curObs.set(env.obs.subarray((b * N + i) * O, (b * N + i) * O + lay.obsSizes[i]), b * lay.obsTotal + lay.obsOff[i]);
      }
    }
    for (let k = 0; k < this.curMask.length; k++) this.curMask[k] = env.actionMask[k];
    for (let i = 0; i < N; i++) {
      const rows = new Float32Array(B * lay.obsSizes[i]);
      for (let b = 0; b < B; b++) rows.set(this.curObs.subarray(b * lay.obsTotal + lay.obsOff[i], b * lay.obsTotal + lay.obsOff[i] + lay.obsSizes[i]), b * lay.obsSizes[i]);
      const raw = this.actorRaw(i, rows, B);
      this.onActorOutput(i, raw, B);
      actRows(
        lay.codecs[i],
        raw,
        B,
        true,
        this.cfg.explorationNoise,
        rng,
        this.curAct,
        lay.actTotal,
        lay.actOff[i],
        A > 0 ? (r) => ({ arr: env.actionMask, off: (r * N + i) * A }) : null,
        (r, a, values) => {
          ro.actions[r * N + i] = a < 0 ? 0 : a;
          if (a < 0) for (let k = 0; k < values.length; k++) ro.boxActions[(r * N + i) * D + k] = values[k];
        },
        this.cfg.storeAction === 'onehot',
      );
    }
  }

  protected observe(t: number): void {
    const { env } = this.ctx;
    const { N, B, lay } = this;
    const O = this.spec.obsSize;
    const valid = this.rollout.valid.subarray(t * this.B, (t + 1) * this.B);
    const nobs = new Float32Array(B * lay.obsTotal);
    const term = new Float32Array(B);
    let live = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) nobs.set(env.obs.subarray((b * N + i) * O, (b * N + i) * O + lay.obsSizes[i]), b * lay.obsTotal + lay.obsOff[i]);
      term[b] = env.dones[b] && !env.truncated[b] ? 1 : 0;
      live += valid[b];
    }
    const rows: Record<string, ArrayLike<number>> = { obs: this.curObs, act: this.curAct, rew: env.rewards, nobs, term, ...this.extraRows() };
    if (this.A > 0) {
      rows.mask = this.curMask;
      rows.nmask = env.actionMask;
    }
    this.buffer.insert(rows, valid);
    this.afterStore(t, valid);
    this.sinceUpdate += live;
    while (this.sinceUpdate >= this.cfg.updateEvery) {
      this.sinceUpdate -= this.cfg.updateEvery;
      if (this.buffer.count >= this.warmup) {
        this.setTraining(true);
        for (let u = 0; u < this.cfg.updatesPerCycle; u++) this.update();
      }
    }
  }

  // ---- the update ---------------------------------------------------------------------------

  /** Draw a minibatch and hold it as tensors (the caller disposes it with `disposeBatch`). */
  protected sampleBatch(slot: number, K = this.cfg.batchSize): Batch {
    this.sampleOut[slot] ??= {};
    const { fields, index } = this.buffer.sample(K, this.ctx.rng, this.sampleOut[slot]);
    return this.batchFrom(fields, index, K);
  }

  protected batchFrom(fields: Record<string, Float32Array>, index: Int32Array, K: number): Batch {
    const tf = this.tf;
    const { N, lay, A } = this;
    const split = (name: string, off: readonly number[], sizes: readonly number[], width: number): Tensor[] => {
      const all = tf.tensor2d(fields[name], [K, width]);
      const parts = sizes.map((s, i) => tf.slice(all, [0, off[i]], [K, s]));
      all.dispose();
      return parts;
    };
    const dims = lay.codecs.map((c) => c.dim);
    const masks = (name: string): (Tensor | null)[] => {
      if (A === 0) return lay.codecs.map(() => null);
      const all = tf.tensor2d(fields[name], [K, N * A]);
      const out = lay.codecs.map((c, i) => (c.discrete ? tf.slice(all, [0, i * A], [K, c.dim]) : null));
      all.dispose();
      return out;
    };
    if (this.cfg.rewardNorm) {
      // MAAC's buffer: (r - mean) / std over every stored reward of that agent (population std).
      const { mean, std } = this.buffer.fieldStats('rew');
      const r = fields.rew;
      for (let k = 0; k < K; k++) for (let i = 0; i < N; i++) r[k * N + i] = (r[k * N + i] - mean[i]) / (std[i] > 1e-8 ? std[i] : 1);
    }
    return {
      K,
      index,
      obs: split('obs', lay.obsOff, lay.obsSizes, lay.obsTotal),
      act: split('act', lay.actOff, dims, lay.actTotal),
      nobs: split('nobs', lay.obsOff, lay.obsSizes, lay.obsTotal),
      rew: tf.tensor2d(fields.rew, [K, N]),
      term: tf.tensor2d(fields.term, [K, 1]),
      mask: masks('mask'),
      nmask: masks('nmask'),
      fields,
    };
  }

  protected disposeBatch(b: Batch): void {
    for (const t of [...b.obs, ...b.act, ...b.nobs, b.rew, b.term, ...b.mask, ...b.nmask]) t?.dispose();
  }

  /** Critic j's input from per-agent observations and action vectors (a shared critic also reads onehot(j)). */
  protected criticInput(j: number, obs: readonly Tensor[], act: readonly Tensor[], centralised = this.central[j]): Tensor {
    const tf = this.tf;
    if (!centralised) return tf.concat([obs[j], act[j]], 1);
    if (!this.sharedCritic) return tf.concat([...obs, ...act], 1);
    const K = obs[0].shape[0] as number;
    return tf.tidy(() => tf.concat([...obs, ...act, tf.cast(tf.oneHot(tf.fill([K], j, 'int32'), this.N), 'float32')], 1));
  }

  /** Target actors' actions at the next observations (fresh Gumbel samples), for the agents critic j reads. */
  protected targetActions(j: number, b: Batch): Tensor[] {
    const tf = this.tf;
    return this.lay.codecs.map((c, m) => {
      if (!this.central[j] && m !== j) return b.act[m];
      return tf.tidy(() => {
        const raw = this.actorTargets[m].net.forward(b.nobs[m]);
        return this.cfg.targetActions === 'greedy' ? greedyAction(tf, c, raw, b.nmask[m]) : actionTensor(tf, c, raw, this.ctx.rng, b.nmask[m]);
      });
    });
  }

  /** y_j = r~_j + gamma (1 - term) Q'_j(x', mu'(o')) [K, 1]. */
  protected criticTarget(j: number, b: Batch, shared?: Tensor[]): Tensor {
    const tf = this.tf;
    const next = shared ?? this.targetActions(j, b);
    const y = tf.tidy(() => {
      const q = this.criticTargets[this.criticOf(j)].net.forward(this.criticInput(j, b.nobs, next));
      const r = this.trainingReward(j, b);
      return tf.add(r, tf.mul(tf.mul(tf.sub(1, b.term), this.cfg.gamma), q));
    });
    if (!shared) next.forEach((t, m) => t !== b.act[m] && t.dispose());
    return y;
  }

  protected clip(grads: Record<string, Tensor>): void {
    if (this.cfg.clipMode === 'global') clipByGlobalNorm(this.tf, grads, this.cfg.gradClip);
    else clipPerTensor(this.tf, grads, this.cfg.gradClip);
  }

  protected stepNet(params: ParamSet, opt: Optimizer, loss: () => Tensor): number {
    const { value, grads } = params.grads(loss as never);
    this.clip(grads);
    opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    return value;
  }

  protected update(): void {
    if (this.sharedCritic) {
      this.updateSharedCritic();
      return;
    }
    const tf = this.tf;
    const shared = this.cfg.sharedSample ? this.sampleBatch(0) : null;
    for (let j = 0; j < this.N; j++) {
      const b = shared ?? this.sampleBatch(0);
      const y = this.criticTarget(j, b);
      const xIn = this.criticInput(j, b.obs, b.act);
      const critic = this.critics[j].net;
      const lc = this.stepNet(this.critics[j].params, this.criticOpts[j], () => tf.mean(tf.square(tf.sub(critic.forward(xIn), y))));
      xIn.dispose();
      y.dispose();
      const others = this.othersForActor(j, b);
      const la = this.stepNet(this.actors[j].params, this.actorOpts[j], () => {
        const raw = this.actors[j].net.forward(b.obs[j]);
        const aHat = this.actorSample(j, raw, b.mask[j]);
        const acts = others.map((a, m) => (m === j ? aHat : a));
        const q = critic.forward(this.criticInput(j, b.obs, acts));
        let loss = tf.add(tf.neg(tf.mean(q)), tf.mul(tf.mean(tf.square(raw)), this.cfg.actorLogitReg));
        const extra = this.actorExtraLoss(j, b, aHat);
        if (extra) loss = tf.add(loss, extra);
        return loss;
      });
      others.forEach((t, m) => t !== b.act[m] && t.dispose());
      if (this.cfg.targetOrder === 'per-agent') this.softTargets(j);
      this.stats.add(`losses/critic_${j}`, lc);
      this.stats.add(`losses/actor_${j}`, la);
      if (!shared) this.disposeBatch(b);
    }
    if (shared) this.disposeBatch(shared);
    if (this.cfg.targetOrder === 'after-all') for (let j = 0; j < this.N; j++) this.softTargets(j);
    this.updates++;
    this.afterUpdate();
  }

  /**
   * The shared-critic update (F2A2 appendix H.3): one critic step on the sum over agents of
   * their TD losses, each on its own minibatch (or one for all with sharedSample), then every
   * agent's actor step against the updated critic (H.3's phi^{k+1} in the actor step), then the
   * soft targets: the critic's once, whatever targetOrder says (per agent it would move N times).
   */
  private updateSharedCritic(): void {
    const tf = this.tf;
    const one = this.cfg.sharedSample ? this.sampleBatch(0) : null;
    const batches = this.spec.agents.map((_, j) => one ?? this.sampleBatch(j));
    const ys = batches.map((b, j) => this.criticTarget(j, b));
    const xs = batches.map((b, j) => this.criticInput(j, b.obs, b.act));
    const critic = this.critics[0].net;
    const lc = this.stepNet(this.critics[0].params, this.criticOpts[0], () => xs.map((x, j) => tf.mean(tf.square(tf.sub(critic.forward(x), ys[j])))).reduce((s, l) => tf.add(s, l)));
    for (const t of [...xs, ...ys]) t.dispose();
    this.stats.add('losses/critic', lc);
    batches.forEach((b, j) => {
      const others = this.othersForActor(j, b);
      const la = this.stepNet(this.actors[j].params, this.actorOpts[j], () => {
        const raw = this.actors[j].net.forward(b.obs[j]);
        const acts = others.map((a, m) => (m === j ? this.actorSample(j, raw, b.mask[j]) : a));
        const q = critic.forward(this.criticInput(j, b.obs, acts));
        return tf.add(tf.neg(tf.mean(q)), tf.mul(tf.mean(tf.square(raw)), this.cfg.actorLogitReg));
      });
      others.forEach((t, m) => t !== b.act[m] && t.dispose());
      this.stats.add(`losses/actor_${j}`, la);
      softUpdate(tf, this.actorTargets[j].params, this.actors[j].params, this.cfg.tau);
    });
    softUpdate(tf, this.criticTargets[0].params, this.critics[0].params, this.cfg.tau);
    for (const b of new Set(batches)) this.disposeBatch(b);
    this.updates++;
    this.afterUpdate();
  }

  private softTargets(j: number): void {
    softUpdate(this.tf, this.actorTargets[j].params, this.actors[j].params, this.cfg.tau);
    softUpdate(this.tf, this.criticTargets[j].params, this.critics[j].params, this.cfg.tau);
  }

  /** Agent j's differentiable action in its actor loss: a Gumbel-softmax sample, hard with `gumbelHard`. */
  protected actorSample(j: number, raw: Tensor, mask: Tensor | null): Tensor {
    const c = this.lay.codecs[j];
    if (!(this.cfg.gumbelHard && c.kind === 'gumbel' && c.discrete)) return actionTensor(this.tf, c, raw, this.ctx.rng, mask);
    const tf = this.tf;
    return tf.tidy(() => {
      const logits = mask ? tf.add(raw, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : raw;
      const R = raw.shape[0] as number;
      return gumbelSoftmax(tf, logits, tf.tensor2d(gumbelNoise(this.ctx.rng, R * c.dim), [R, c.dim]), 1, true);
    });
  }

  /** The action vectors agent j's actor loss holds fixed: stored, or the others' current greedy actions. */
  protected othersForActor(j: number, b: Batch): Tensor[] {
    if (this.cfg.othersInActorLoss === 'buffer' || !this.central[j]) return b.act;
    const tf = this.tf;
    return b.act.map((a, m) => (m === j ? a : tf.tidy(() => greedyAction(tf, this.lay.codecs[m], this.actors[m].net.forward(b.obs[m]), b.mask[m]))));
  }

  // ---- checkpoints --------------------------------------------------------------------------

  private parts() {
    const params: Record<string, ParamSet> = {};
    const optimisers: Record<string, Optimizer> = {};
    // Per array (a learner with one shared critic, MAAC, leaves `critics` empty).
    const nets: [string, Net[]][] = [
      ['actor', this.actors],
      ['critic', this.critics],
      ['actorTarget', this.actorTargets],
      ['criticTarget', this.criticTargets],
    ];
    for (const [name, list] of nets) {
      list.forEach((n, i) => {
        params[`${name}/${i}/`] = n.params;
        // BatchNorm running estimates (empty sets, so no tensors, without inputBatchNorm).
        params[`${name}Stats/${i}/`] = n.stats;
      });
    }
    this.actorOpts.forEach((o, i) => (optimisers[`actor${i}`] = o));
    this.criticOpts.forEach((o, i) => (optimisers[`critic${i}`] = o));
    const extra = this.extraParts();
    return {
      algo: this.variant.id,
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { ...params, ...extra.params },
      optimisers: { ...optimisers, ...extra.optimisers },
    };
  }

  async save(): Promise<Checkpoint> {
    const rep = this.buffer.toRecords('replay/');
    return saveLearner(this.parts(), { replay: rep.meta, sinceUpdate: this.sinceUpdate, updates: this.updates, ...this.extraState() }, rep.tensors);
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts());
    this.buffer.fromRecords(ckpt.tensors, e.replay as { next: number; size: number }, 'replay/');
    this.sinceUpdate = counter(e, 'sinceUpdate', this.variant.id);
    this.updates = counter(e, 'updates', this.variant.id);
    this.loadExtraState(e);
  }

  dispose(): void {
    for (const n of [...this.actors, ...this.critics, ...this.actorTargets, ...this.criticTargets]) {
      n.params.dispose();
      n.stats.dispose();
    }
    for (const o of [...this.actorOpts, ...this.criticOpts]) o.dispose();
    const extra = this.extraParts();
    for (const p of Object.values(extra.params)) p.dispose();
    for (const o of Object.values(extra.optimisers)) o.dispose();
  }
}

/**
 * Evaluation policy: the actors only, loaded from `actor/<i>/`. Not greedy: a Gumbel sample (or
 * Gaussian noise for tanh boxes), as openai/maddpg's benchmark runs act; greedy: argmax, the
 * softmax of the logits for a soft box, the noiseless tanh output.
 */
export class MaddpgPolicy implements Policy {
  private readonly actors: Net[] = [];
  private readonly lay: JointLayout;
  private readonly cfg: DdpgFamilyConfig;
  private readonly vec: Float32Array;

  constructor(
    private readonly ctx: PolicyContext,
    fixed: Partial<DdpgFamilyConfig> = {},
  ) {
    this.cfg = { ...typedValues('algo', ddpgFamilySchema, ctx.config), ...fixed };
    this.lay = jointLayout(ctx.spec, this.cfg.boxPolicy);
    for (let i = 0; i < ctx.spec.numAgents; i++) {
      const a = buildActor(ctx.tf, this.lay, i, this.cfg, ctx.rng, false);
      if (ctx.checkpoint) {
        a.params.loadRecords(ctx.checkpoint.tensors, `actor/${i}/`);
        a.stats.loadRecords(ctx.checkpoint.tensors, `actorStats/${i}/`);
      }
      a.net.training = false;
      this.actors.push(a);
    }
    this.vec = new Float32Array(ctx.numEnvs * this.lay.actTotal);
  }

  resetCopy(): void {}

  act(env: VecEnv, actions: Int32Array, greedy: boolean, boxActions?: Float32Array): void {
    const { tf } = this.ctx;
    const spec = env.spec;
    const N = spec.numAgents;
    const B = env.numEnvs;
    const O = spec.obsSize;
    const A = spec.numActions;
    const D = spec.boxSize;
    for (let i = 0; i < N; i++) {
      const w = this.lay.obsSizes[i];
      const rows = new Float32Array(B * w);
      for (let b = 0; b < B; b++) rows.set(env.obs.subarray((b * N + i) * O, (b * N + i) * O + w), b * w);
      const x = tf.tensor2d(rows, [B, w]);
      const y = this.actors[i].net.forward(x);
      const raw = y.dataSync() as Float32Array;
      x.dispose();
      y.dispose();
      actRows(this.lay.codecs[i], raw, B, !greedy, this.cfg.explorationNoise, this.ctx.rng, this.vec, this.lay.actTotal, this.lay.actOff[i], A > 0 ? (r) => ({ arr: env.actionMask, off: (r * N + i) * A }) : null, (r, a, values) => {
        actions[r * N + i] = a < 0 ? 0 : a;
        if (a < 0 && boxActions) for (let k = 0; k < values.length; k++) boxActions[(r * N + i) * D + k] = values[k];
      });
    }
  }

  dispose(): void {
    for (const a of this.actors) {
      a.params.dispose();
      a.stats.dispose();
    }
  }
}

/** Shared by the DDPG-family entries. */
export function makeTrainer(variant: DdpgVariant): (ctx: TrainContext) => Trainer {
  return (ctx) => new MaddpgTrainer(ctx, variant);
}

export type { Values };
