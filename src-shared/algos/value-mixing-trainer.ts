/**
 * The trainer VDN, QMIX, QTRAN and MAVEN share (hidden-gifts Tables 6-9; PyMARL's episode
 * runner, replay buffer and Q-learner): what differs between them, the mixing network, its
 * target value and its loss, is a `ValueMixingAlgo` written in each learner's own file.
 *
 * One round = one paper "episode":
 *   rollout  all B copies play one episode in lock-step (core/rollout.ts). The shared recurrent
 *            agent network (recurrent-q.ts) gives every agent's Q; each agent acts
 *            epsilon-greedily over its AVAILABLE actions (a coin per agent and step, or one coin
 *            per step for every agent with `epsilonScope = step`, the released code's). Epsilon
 *            anneals linearly over lock-step env steps t_env (not x B), as for PG and COMA.
 *            MAVEN draws each copy's latent z before the episode from its hierarchical policy.
 *   store    the round's B episodes go into a ring buffer of `bufferSize` episodes
 *            (core/episode-buffer.ts). Each stored episode carries one slot more than it has
 *            steps: the agent input, action mask and mixer state at its final observation, so
 *            the Q-learning target can bootstrap there after a time-limit cut.
 *   update   once the buffer holds max(batchSize, min(warmupEpisodes, bufferSize)) episodes,
 *            `updatesPerRound` times: draw `batchSize` episodes uniformly without replacement,
 *            unroll the agent network over them from a zero state (online with full BPTT, and
 *            the target copy), pick the greedy next actions with the action masks (from the
 *            target network, or the online one with `doubleQ`), let the learner turn them into
 *            per-slot target values V'_t, build TD(lambda) targets of the TEAM reward
 *            (the sum of the agents' rewards) over the padded episodes with masks
 *            (nn/returns.ts: no bootstrap after a true termination, V' of the final observation
 *            after a time limit), and minimise the learner's loss with Adam (or RMSprop),
 *            gradients clipped to a global norm, learning rate from core/schedules.ts.
 *   target   after every `targetUpdateInterval` updates: a hard copy of agent + mixer, or a
 *            soft update with `targetTau` (the released code's).
 *
 * The mixer's state (`mixerState`): `joint-obs` = the agents' observations concatenated (env part
 * only; Table 7's hypernetworks take 54 = 2 x 27 inputs, and the released code feeds the same),
 * or `state` = the env's global state row (PyMARL's usual QMIX input). MAVEN appends its one-hot
 * z to the stored state row, so the buffer keeps it with the episode.
 *
 * Released-code behaviours not ported, and why: the greedy mask that gives unavailable actions
 * Q = 1e-10 instead of excluding them (it can choose an illegal action, which our env contract
 * forbids), and not advancing the GRU state on exploratory steps (a side effect of its
 * controller's structure). The buffer is part of the checkpoint (bit-exact resume), so
 * checkpoints of these learners are large (~N * (obs + A + 1) + state floats per stored step).
 */
import type { Schema, Values } from '../config/schema';
import { clipByGlobalNorm } from '../nn/clip';
import { registerGradients } from '../nn/gradients';
import { argmaxMasked } from '../nn/categorical';
import { ACTIVATIONS } from '../nn/mlp';
import { Adam, RMSprop, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import { tdLambdaTargets } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { counter, loadLearner, saveLearner, type LearnerParts } from './core/checkpoint';
import { envProblems, type EnvNeeds } from './core/compat';
import type { EnvSpec } from '../envs/types';
import { EpisodeBatch, EpisodeBuffer } from './core/episode-buffer';
import { LockstepRollout } from './core/rollout';
import { lrAt, lrScheduleSchema } from './core/schedules';
import { softUpdate } from './core/target';
import { actorInput, epsilonAt } from './recurrent-actor';
import { RecurrentQNet, agentInputSize, epsilonGreedy, writeAgentInputs } from './recurrent-q';
import type { Checkpoint, RoundResult, Trainer, TrainContext } from './types';

/** Discrete agents sharing one network shape (parameter sharing over [agent, copy] rows). */
export const VALUE_MIXING_NEEDS: EnvNeeds = { actions: 'discrete', uniformAgents: true };

/**
 * What a spec lacks for a value-mixing learner: the compat needs, and one team, because one
 * Q_tot of the summed reward over agents of opposing teams would mix their values.
 */
export function valueMixingProblems(spec: EnvSpec): string[] {
  const out = envProblems(VALUE_MIXING_NEEDS, spec);
  if (spec.teams.length > 1) out.push(`the env has ${spec.teams.length} teams (value mixing learns one joint value for one cooperative team)`);
  return out;
}

// ================================================================= config

/** Fields every value-mixing learner has; defaults are Tables 6-8's, learners override some. */
export const valueMixingSchema = {
  ...lrScheduleSchema,
  optimizer: { type: 'enum', default: 'adam', values: ['adam', 'rmsprop'], doc: 'Optimiser (paper Tables 6-8: Adam; released code and Table 9: RMSprop).' },
  optimEps: { type: 'float', default: 1e-5, min: 0, doc: 'Optimiser epsilon (paper: 1e-5).' },
  rmspropAlpha: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'RMSprop smoothing constant (paper: alpha 0.99; unused by Adam, which keeps PyTorch betas 0.9, 0.999).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount factor (paper: 0.99).' },
  tdLambda: { type: 'float', default: 1, min: 0, max: 1, doc: 'Lambda of the TD(lambda) targets (paper: 1).' },
  hiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: "Width of the agent network's input layer (paper: 64)." },
  rnnHiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'GRU hidden size of the agent network (paper Tables 7-9: 64; released code: 128).' },
  activation: { type: 'enum', default: 'relu', values: ACTIVATIONS, doc: 'Activation after the input layer (paper: relu; released code: exact GELU).' },
  agentId: { type: 'bool', default: false, doc: "Append a one-hot agent id to the agent network's input (PyMARL's obs_agent_id; paper and released code: off, input = the observation)." },
  epsilonStart: { type: 'float', default: 1, min: 0, max: 1, doc: 'Epsilon of the epsilon-greedy policy at t_env = 0 (paper: 1.0).' },
  epsilonFinish: { type: 'float', default: 0.05, min: 0, max: 1, doc: 'Epsilon after annealing (paper: 0.05).' },
  epsilonAnnealSteps: {
    type: 'int',
    default: 50_000,
    min: 0,
    doc: 'Lock-step env steps t_env over which epsilon anneals linearly (paper silent: PyMARL\'s 50,000; released code: 3,000,000 for VDN/QMIX/QTRAN).',
  },
  epsilonScope: {
    type: 'enum',
    default: 'agent',
    values: ['agent', 'step'],
    doc: 'agent: one exploration coin per agent and step; step: one coin per lock-step step for every copy and agent together (released code).',
  },
  bufferSize: { type: 'int', default: 1000, min: 1, max: 1_000_000, doc: 'Replay buffer capacity in episodes (paper: 1000).' },
  batchSize: { type: 'int', default: 32, min: 1, max: 100_000, doc: 'Episodes per update, drawn uniformly without replacement (paper: 32).' },
  warmupEpisodes: { type: 'int', default: 32, min: 0, doc: 'Episodes in the buffer before the first update (paper: 32; capped at bufferSize).' },
  updatesPerRound: { type: 'int', default: 1, min: 0, max: 1000, doc: 'Updates after each round (paper silent: 1; released code: 5).' },
  targetUpdateInterval: { type: 'int', default: 1, min: 1, doc: 'Updates between target-network updates (paper: every episode, i.e. every round of one update; released code: 200).' },
  targetTau: { type: 'float', default: 1, min: 0, max: 1, doc: 'Target update target <- tau online + (1 - tau) target; 1 = hard copy (paper: hard; released code: 0.05).' },
  doubleQ: { type: 'bool', default: false, doc: 'Choose the greedy next action with the online network and value it with the target (paper silent: off; released code: off, MAVEN on).' },
  gradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm gradient clip, 0 = none (paper silent; released code: 10).' },
  mixerState: {
    type: 'enum',
    default: 'joint-obs',
    values: ['joint-obs', 'state'],
    doc: "What the mixer is conditioned on: joint-obs = the agents' observations concatenated (paper Table 7: 54 = 2 x 27 inputs; released code), state = the env's global state.",
  },
  observation: {
    type: 'enum',
    default: 'fresh',
    values: ['fresh', 'frozen-initial'],
    doc: "fresh, or frozen-initial: the env part of the agents' input stays the episode's first observation (the released runner's quirk for MAVEN); the mixer state stays fresh.",
  },
} as const satisfies Schema;

export type ValueMixingConfig = Values<typeof valueMixingSchema>;

// ================================================================= the learner's part

/** Sizes the learner's networks are built for. */
export interface MixDims {
  N: number;
  A: number;
  /** Width of the state row the mixer sees (mixer state + latent one-hot). */
  S: number;
  /** Width of the agent hidden state. */
  H: number;
  /** MAVEN's latent size (0 otherwise); the latent one-hot is the last `Z` entries of a state row. */
  Z: number;
}

/**
 * What the network sees at every slot r = t * B + b of a batch (R = T' * B rows, agent-major
 * tensors [N, R, .]). `q` holds each agent's Q of the actions in `u`.
 */
export interface SlotView {
  readonly R: number;
  readonly q: Tensor; //       [N, R]
  readonly h: Tensor; //       [N, R, H]
  readonly u: Tensor; //       [N, R, A] one-hot actions
  readonly states: Tensor; //  [R, S]
}

/** Everything a learner's loss may use (online network, differentiable). */
export interface LossView {
  readonly R: number;
  readonly B: number;
  readonly qAll: Tensor; //     [N, R, A]
  readonly taken: SlotView; //  the actions taken
  readonly greedy: SlotView; // the online network's greedy available actions (held constant)
  readonly avail: Tensor; //    [N, R, A] action masks
  readonly y: Tensor; //        [R, 1] TD(lambda) targets (0 where mask = 0)
  readonly mask: Tensor; //     [R, 1] valid transitions
  readonly count: number; //    sum of the mask
  /** [B] discounted team return of each episode from its first step. */
  readonly episodeReturn: Float32Array;
  /** [B] each episode's latent (MAVEN), from the stored state rows. */
  readonly latent: Int32Array;
}

export interface ValueMixingAlgo<Net> {
  readonly id: string;
  /** Latent size appended to agent inputs and state rows (MAVEN's noise_dim); 0 for the others. */
  latentDim(cfg: Values): number;
  /**
   * The mixing networks, parameters under `mixer/` in `params` (called for online and target);
   * `config` is the run's algorithm config (the learner parses its own fields).
   */
  build(tf: Tf, params: ParamSet, dims: MixDims, config: Values, rng: Rng): Net;
  /** Per-slot target value under the target networks for the greedy next actions: [R, 1]. */
  targetValue(tf: Tf, net: Net, v: SlotView): Tensor;
  /** The loss to minimise (scalar) and scalar statistics to log (read back by the trainer). */
  loss(tf: Tf, net: Net, v: LossView): { loss: Tensor; stats: Record<string, Tensor> };
  /**
   * Latents for the next round's B episodes from their initial mixer states (`states0` [B][Sm],
   * Sm = S - Z). Only for learners with a latent.
   */
  drawLatents?(tf: Tf, net: Net, states0: Float32Array, B: number, rng: Rng, out: Int32Array): void;
}

// ================================================================= pure helpers (exported for tests)

/**
 * Team-reward TD(lambda) targets over a padded batch whose episode b has its final-observation
 * slot at `finalSlot[b]` (transitions 0..finalSlot[b]-1 valid): rewards [T][N][B] summed over
 * agents, values [T+1][B] (the learner's target value per slot), `trunc[b]` = 1 when the episode
 * was cut by the time limit (bootstrap from values at its final slot), else terminated there.
 * Returns targets and masks, [T][B] with T = slots - 1.
 */
export function teamTargets(
  rews: Float32Array,
  values: Float32Array,
  finalSlot: Int32Array,
  trunc: Uint8Array,
  slots: number,
  N: number,
  B: number,
  gamma: number,
  lambda: number,
): { targets: Float32Array; masks: Float32Array } {
  const T = slots - 1;
  const r = new Float32Array(T * B);
  const masks = new Float32Array(T * B);
  const term = new Float32Array(T * B);
  for (let b = 0; b < B; b++) {
    const last = finalSlot[b] - 1;
    for (let t = 0; t <= last && t < T; t++) {
      masks[t * B + b] = 1;
      let s = 0;
      for (let a = 0; a < N; a++) s += rews[(t * N + a) * B + b];
      r[t * B + b] = s;
    }
    if (!trunc[b] && last >= 0 && last < T) term[last * B + b] = 1;
  }
  return { targets: tdLambdaTargets(r, term, masks, values, T, B, gamma, lambda), masks };
}

/** Masked argmax per [agent][row] of Q [N][R][A] under masks laid out [t][a][b][A] (r = t * B + b). */
export function greedyActions(q: ArrayLike<number>, avail: Float32Array, N: number, T: number, B: number, A: number, out: Int32Array): Int32Array {
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        out[a * T * B + r] = argmaxMasked(q, (a * T * B + r) * A, avail, ((t * N + a) * B + b) * A, A);
      }
    }
  }
  return out;
}

// ================================================================= trainer

export class ValueMixingTrainer<Net> implements Trainer {
  private readonly tf: Tf;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly L: number;
  private readonly O: number;
  private readonly E: number;
  /** Mixer state width (without the latent). */
  private readonly Sm: number;
  private readonly Z: number;
  private readonly S: number;
  private readonly W: number;

  private readonly online: ParamSet;
  private readonly target: ParamSet;
  private readonly agent: RecurrentQNet;
  private readonly targetAgent: RecurrentQNet;
  private readonly net: Net;
  private readonly targetNet: Net;
  private readonly opt: Optimizer;

  private readonly rollout: LockstepRollout;
  private readonly roll: EpisodeBatch;
  private readonly sampled: EpisodeBatch;
  private readonly buffer: EpisodeBuffer;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly x: Float32Array; //        [N][B][W] agent inputs of one step
  private readonly frozen: Float32Array; //   [N][B][E]
  private readonly latent: Int32Array; //     [B]
  private readonly finalX: Float32Array; //   [B][N][O]
  private readonly finalAvail: Float32Array; // [B][N][A]
  private readonly finalState: Float32Array; // [B][S]

  private tEnv = 0;
  private updates = 0;
  private sinceTarget = 0;

  constructor(
    private readonly ctx: TrainContext,
    private readonly algo: ValueMixingAlgo<Net>,
    private readonly cfg: ValueMixingConfig,
  ) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    const spec = ctx.env.spec;
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.L = spec.episodeLimit;
    this.O = spec.obsSize;
    this.E = spec.envObsSize;
    if (cfg.mixerState === 'state' && spec.stateSize === 0) throw new Error(`${algo.id}: algo.mixerState = state, but env ${spec.id} has no global state (use joint-obs)`);
    this.Sm = cfg.mixerState === 'state' ? spec.stateSize : this.N * this.E;
    this.Z = algo.latentDim(ctx.config);
    this.S = this.Sm + this.Z;
    this.W = agentInputSize(spec, cfg.agentId, this.Z);
    const { N, B, A, L, O, E, S, W } = this;
    const dims: MixDims = { N, A, S, H: cfg.rnnHiddenDim, Z: this.Z };

    // Initialisation order (agent, mixer, then their target copies) is part of what a seed fixes.
    this.online = new ParamSet(tf);
    this.agent = new RecurrentQNet(tf, this.online, W, A, cfg, ctx.rng);
    this.net = algo.build(tf, this.online, dims, ctx.config, ctx.rng);
    this.target = new ParamSet(tf, false);
    this.targetAgent = new RecurrentQNet(tf, this.target, W, A, cfg, ctx.rng);
    this.targetNet = algo.build(tf, this.target, dims, ctx.config, ctx.rng);
    this.target.copyFrom(this.online);
    this.opt =
      cfg.optimizer === 'adam'
        ? new Adam(tf, this.online, { lr: cfg.lr, eps: cfg.optimEps })
        : new RMSprop(tf, this.online, { lr: cfg.lr, alpha: cfg.rmspropAlpha, eps: cfg.optimEps });

    this.rollout = new LockstepRollout(ctx.env, ctx.seed, L);
    this.roll = new EpisodeBatch(L + 1, B, N, O, E, A, S);
    this.buffer = new EpisodeBuffer(cfg.bufferSize);
    this.sampled = new EpisodeBatch(L + 1, Math.min(cfg.batchSize, cfg.bufferSize), N, O, E, A, S);
    const rows = N * B;
    this.hA = new Float32Array(rows * cfg.rnnHiddenDim);
    this.hB = new Float32Array(rows * cfg.rnnHiddenDim);
    this.x = new Float32Array(rows * W);
    this.frozen = new Float32Array(rows * E);
    this.latent = new Int32Array(B);
    this.finalX = new Float32Array(B * N * O);
    this.finalAvail = new Float32Array(B * N * A);
    this.finalState = new Float32Array(B * S);
  }

  /** Copy b's mixer state (fresh) plus its latent one-hot into `out[off..off+S)`. */
  private stateRow(b: number, out: Float32Array, off: number): void {
    const env = this.ctx.env;
    const { N, O, E, Sm, S, Z } = this;
    if (this.cfg.mixerState === 'state') out.set(env.state.subarray(b * Sm, (b + 1) * Sm), off);
    else for (let a = 0; a < N; a++) out.set(env.obs.subarray((b * N + a) * O, (b * N + a) * O + E), off + a * E);
    if (Z > 0) {
      out.fill(0, off + Sm, off + S);
      out[off + Sm + this.latent[b]] = 1;
    }
  }

  async round(): Promise<RoundResult> {
    const { tf, cfg, N, B, A, O, E, S, W } = this;
    const env = this.ctx.env;
    const rng = this.ctx.rng;
    const rows = N * B;
    const d = this.roll;
    const eps = epsilonAt(cfg, this.tEnv);

    // ---------------------------------------------------------------- rollout
    const ro = this.rollout;
    const live = ro.valid;
    ro.begin();
    this.hA.fill(0);
    // Slots the buffer stores beyond an episode (the action at slot T, the state after the
    // bootstrap slot) must not carry an earlier round's values: resume starts from zeros.
    d.acts.fill(0);
    d.states.fill(0);
    if (this.Z > 0 && this.algo.drawLatents) {
      const s0 = new Float32Array(B * this.Sm);
      const row = new Float32Array(S);
      for (let b = 0; b < B; b++) {
        this.stateRow(b, row, 0);
        s0.set(row.subarray(0, this.Sm), b * this.Sm);
      }
      this.algo.drawLatents(tf, this.net, s0, B, rng, this.latent);
    }
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) this.frozen.set(env.obs.subarray((b * N + a) * O, (b * N + a) * O + E), (a * B + b) * E);
    }
    const frozen = cfg.observation === 'frozen-initial' ? this.frozen : null;
    const obsRows = new Float32Array(rows * O);
    const qStep = { count: 0, sum: 0 };
    const { T, envSteps, episodes } = ro.run({
      act: (t) => {
        // Observation rows (fresh or frozen env part) into the batch, [agent][copy] order.
        const xs = d.xs.subarray(t * rows * O, (t + 1) * rows * O);
        actorInput(env.obs, N, B, O, E, frozen, xs);
        // Back to [copy][agent] for the input writer (which appends id and latent).
        for (let a = 0; a < N; a++) for (let b = 0; b < B; b++) obsRows.set(xs.subarray((a * B + b) * O, (a * B + b + 1) * O), (b * N + a) * O);
        writeAgentInputs(obsRows, N, B, O, cfg.agentId, this.Z, this.latent, this.x);
        for (let b = 0; b < B; b++) if (live[t * B + b]) this.stateRow(b, d.states, (t * B + b) * S);
        const xT = tf.tensor3d(this.x, [1, rows, W]);
        const q = this.agent.stepQ(xT, this.hA, this.hB);
        xT.dispose();
        [this.hA, this.hB] = [this.hB, this.hA];
        const stepCoin = cfg.epsilonScope === 'step' ? rng.float() < eps : false;
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const r = a * B + b;
            const mOff = (t * rows + r) * A;
            if (!live[t * B + b]) {
              d.acts[t * rows + r] = 0;
              d.avail.fill(1, mOff, mOff + A);
              ro.actions[b * N + a] = 0;
              continue;
            }
            const envRow = (b * N + a) * A;
            for (let k = 0; k < A; k++) d.avail[mOff + k] = env.actionMask[envRow + k];
            const explore = cfg.epsilonScope === 'step' ? stepCoin : rng.float() < eps;
            const u = epsilonGreedy(q, r * A, env.actionMask, envRow, A, explore, rng);
            qStep.sum += q[r * A + u];
            qStep.count++;
            d.acts[t * rows + r] = u;
            ro.actions[b * N + a] = u;
          }
        }
      },
      observe: (t) => {
        for (let b = 0; b < B; b++) for (let a = 0; a < N; a++) d.rews[t * rows + a * B + b] = live[t * B + b] ? env.rewards[b * N + a] : 0;
      },
      onEnd: (b) => {
        // The final observation (always fresh), its masks and state: the bootstrap slot.
        this.finalX.set(env.obs.subarray(b * N * O, (b + 1) * N * O), b * N * O);
        this.finalAvail.set(env.actionMask.subarray(b * N * A, (b + 1) * N * A), b * N * A);
        this.stateRow(b, this.finalState, b * S);
      },
    });
    for (let b = 0; b < B; b++) {
      const slot = ro.endStep[b] + 1;
      for (let a = 0; a < N; a++) {
        const r = (slot * N + a) * B + b;
        d.xs.set(this.finalX.subarray((b * N + a) * O, (b * N + a + 1) * O), r * O);
        d.avail.set(this.finalAvail.subarray((b * N + a) * A, (b * N + a + 1) * A), r * A);
        d.acts[r] = 0;
        d.rews[r] = 0;
      }
      d.states.set(this.finalState.subarray(b * S, (b + 1) * S), (slot * B + b) * S);
      d.endStep[b] = slot; // stored episodes end with their bootstrap slot
      d.endTrunc[b] = ro.endTrunc[b];
    }
    d.B = B;
    d.T = T + 1;
    this.tEnv += T;
    this.buffer.insert(d);

    // ---------------------------------------------------------------- updates
    const need = Math.max(cfg.batchSize, Math.min(cfg.warmupEpisodes, cfg.bufferSize));
    const stats: Record<string, number> = {};
    let done = 0;
    if (this.buffer.count >= need) {
      for (let k = 0; k < cfg.updatesPerRound; k++) {
        this.buffer.sample(Math.min(cfg.batchSize, this.buffer.count), rng, this.sampled);
        const s = this.update(this.sampled);
        for (const [key, v] of Object.entries(s)) stats[key] = (stats[key] ?? 0) + v;
        done++;
      }
      for (const key of Object.keys(stats)) stats[key] /= done;
    }
    stats['charts/epsilon'] = eps;
    stats['charts/lr'] = lrAt(cfg, this.updates);
    stats['charts/q_acting_mean'] = qStep.count > 0 ? qStep.sum / qStep.count : 0;
    stats['charts/buffer_episodes'] = this.buffer.count;
    stats['charts/updates'] = done;
    return { episodes, envSteps, stats };
  }

  /** Agent inputs [N][T][B][W] (group-major) from a batch's time-major rows and state latents. */
  private agentInputs(d: EpisodeBatch, T: number): Float32Array {
    const { N, O, W, S, Sm, Z } = this;
    const B = d.B;
    const out = new Float32Array(N * T * B * W);
    for (let a = 0; a < N; a++) {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const dst = ((a * T + t) * B + b) * W;
          const src = ((t * N + a) * B + b) * O;
          out.set(d.xs.subarray(src, src + O), dst);
          if (this.cfg.agentId) out[dst + O + a] = 1;
          if (Z > 0) out.set(d.states.subarray((t * B + b) * S + Sm, (t * B + b + 1) * S), dst + W - Z);
        }
      }
    }
    return out;
  }

  /** One gradient update on a sampled batch; returns its statistics. */
  private update(d: EpisodeBatch): Record<string, number> {
    const { tf, cfg, N, A, S, W, Sm, Z } = this;
    const T1 = d.T; // slots, the last one a bootstrap slot
    const B = d.B;
    const R = T1 * B;
    const H = cfg.rnnHiddenDim;
    const X = this.agentInputs(d, T1);
    const avail = d.avail.subarray(0, R * N * A);
    // Agent-major one-hots and masks [N][R][A] from time-major [t][a][b].
    const takenHot = new Float32Array(N * R * A);
    const availG = new Float32Array(N * R * A);
    for (let t = 0; t < T1; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const src = (t * N + a) * B + b;
          const dst = a * R + t * B + b;
          takenHot[dst * A + d.acts[src]] = 1;
          availG.set(avail.subarray(src * A, (src + 1) * A), dst * A);
        }
      }
    }
    const latent = new Int32Array(B);
    if (Z > 0) {
      for (let b = 0; b < B; b++) {
        for (let z = 0; z < Z; z++) if (d.states[b * S + Sm + z] > 0.5) latent[b] = z;
      }
    }
    const finalSlot = d.endStep.subarray(0, B);
    const trunc = d.endTrunc.subarray(0, B);
    const stats: Record<string, number> = {};
    const hot = (acts: Int32Array) => {
      const u = new Float32Array(N * R * A);
      for (let i = 0; i < N * R; i++) u[i * A + acts[i]] = 1;
      return u;
    };
    const episodeReturn = new Float32Array(B);

    this.opt.lr = lrAt(cfg, this.updates);
    const { value, grads } = tf.tidy(() => {
      const Xt = tf.tensor3d(X, [1, N * R, W]);
      const states = tf.tensor2d(d.states.subarray(0, R * S), [R, S]);
      const availT = tf.tensor3d(availG, [N, R, A]);
      return this.online.grads(() => {
        const on = this.agent.sequence(Xt, N, T1, B);
        const qAll = tf.reshape(on.q, [N, R, A]);
        const h = tf.reshape(on.h, [N, R, H]);
        const qHost = qAll.dataSync() as Float32Array;
        const gOnline = greedyActions(qHost, avail, N, T1, B, A, new Int32Array(N * R));

        // Targets: per-slot values under the target networks at the greedy next actions.
        const values = new Float32Array(R);
        tf.tidy(() => {
          const tg = this.targetAgent.sequence(Xt, N, T1, B);
          const tq = tf.reshape(tg.q, [N, R, A]);
          const next = cfg.doubleQ ? gOnline : greedyActions(tq.dataSync() as Float32Array, avail, N, T1, B, A, new Int32Array(N * R));
          const u = tf.tensor3d(hot(next), [N, R, A]);
          const view: SlotView = { R, q: tf.sum(tf.mul(tq, u), 2), h: tf.reshape(tg.h, [N, R, H]), u, states };
          values.set(this.algo.targetValue(tf, this.targetNet, view).dataSync() as Float32Array);
        });
        const { targets, masks } = teamTargets(d.rews, values, finalSlot, trunc, T1, N, B, cfg.gamma, cfg.tdLambda);
        // Discounted team return of each episode from its first step (MAVEN's hierarchical policy).
        for (let b = 0; b < B; b++) {
          let g = 0;
          for (let t = finalSlot[b] - 1; t >= 0; t--) {
            let rr = 0;
            for (let a = 0; a < N; a++) rr += d.rews[(t * N + a) * B + b];
            g = rr + cfg.gamma * g;
          }
          episodeReturn[b] = g;
        }
        let count = 0;
        let ySum = 0;
        for (let i = 0; i < masks.length; i++) {
          count += masks[i];
          ySum += targets[i] * masks[i];
        }
        const pad = (a: Float32Array) => {
          const out = new Float32Array(R);
          out.set(a);
          return tf.tensor2d(out, [R, 1]);
        };
        const uTaken = tf.tensor3d(takenHot, [N, R, A]);
        const uGreedy = tf.tensor3d(hot(gOnline), [N, R, A]);
        const view: LossView = {
          R,
          B,
          qAll,
          taken: { R, q: tf.sum(tf.mul(qAll, uTaken), 2), h, u: uTaken, states },
          greedy: { R, q: tf.sum(tf.mul(qAll, uGreedy), 2), h, u: uGreedy, states },
          avail: availT,
          y: pad(targets),
          mask: pad(masks),
          count,
          episodeReturn,
          latent,
        };
        const { loss, stats: s } = this.algo.loss(tf, this.net, view);
        for (const [k, v] of Object.entries(s)) stats[k] = v.dataSync()[0];
        stats['charts/target_mean'] = count > 0 ? ySum / count : 0;
        return loss as never;
      }) as never;
    }) as { value: number; grads: Record<string, Tensor> };
    const norm = clipByGlobalNorm(tf, grads, cfg.gradClip);
    this.opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    this.updates++;
    this.sinceTarget++;
    if (this.sinceTarget >= cfg.targetUpdateInterval) {
      if (cfg.targetTau >= 1) this.target.copyFrom(this.online);
      else softUpdate(tf, this.target, this.online, cfg.targetTau);
      this.sinceTarget = 0;
    }
    stats['losses/total'] = value;
    stats['charts/grad_norm'] = norm;
    return stats;
  }

  private parts(): LearnerParts {
    return {
      algo: this.algo.id,
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'online/': this.online, 'target/': this.target },
      optimisers: { q: this.opt },
    };
  }

  async save(): Promise<Checkpoint> {
    const buf = this.buffer.toRecords();
    return saveLearner(this.parts(), { tEnv: this.tEnv, updates: this.updates, sinceTarget: this.sinceTarget, buffer: buf.meta }, buf.tensors);
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts());
    const meta = e.buffer as { next: number; n: number[]; trunc: number[] } | null;
    if (!meta) throw new Error(`${this.algo.id}: checkpoint has no replay buffer`);
    this.buffer.fromRecords(ckpt.tensors, meta, { N: this.N, O: this.O, E: this.E, A: this.A, S: this.S });
    this.tEnv = counter(e, 'tEnv', this.algo.id);
    this.updates = counter(e, 'updates', this.algo.id);
    this.sinceTarget = counter(e, 'sinceTarget', this.algo.id);
  }

  dispose(): void {
    this.opt.dispose();
    this.online.dispose();
    this.target.dispose();
  }
}

/** Mean over valid rows of (qTot - y)^2: the TD loss of VDN, QMIX and MAVEN. All [R, 1]. */
export function maskedTdLoss(tf: Tf, qTot: Tensor, y: Tensor, mask: Tensor, count: number): Tensor {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(tf.square(tf.sub(qTot, y)), mask)), Math.max(1, count)));
}

/** Mean over valid rows of a [R, 1] tensor (for statistics). */
export function maskedMean(tf: Tf, x: Tensor, mask: Tensor, count: number): Tensor {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(x, mask)), Math.max(1, count)));
}
