/**
 * "PG": independent REINFORCE learners with a learned per-agent baseline, as in Malenfant &
 * Richards 2025 (Table 3; specs/manitokan-learners.md §0-1, §3.3).
 *
 * Networks (Table 3). Actor, shared by the agents ("Joint"; `actorSharing`): Linear(obs -> 64)
 * -> act -> GRUCell(64) -> Linear(64 -> A) logits, no agent id. Critic, one per agent
 * ("Disjoint"): Linear(envObs -> 64) -> act -> Linear(64 -> 64) -> act -> Linear(64 -> 1) on the
 * agent's own env observation (`spec.envObsSize` prefix: never the last-action one-hot), plus a
 * target copy. PyTorch default initialisation, drawn from the run's Rng.
 *
 * One round = one paper "episode": all B copies start an episode together and step in lock-step
 * until every copy has finished (finished copies are masked out), then one update:
 *   rollout  one batched actor pass per step for all B x N rows (the GRU's two matmuls in
 *            tfjs, its gates on the CPU, logits read back once), actions sampled on the CPU
 *            with the Rng; the GRU activations are recorded for the update.
 *   returns  actor: Monte-Carlo return of the agent's own reward, zero bootstrap;
 *            critic: TD(lambda) targets from the target critic (lambda = 1 by default; then
 *            only each copy's final observation needs a target value).
 *   update   critic first (records the baseline V), then the actor on A = R - V (detached, not
 *            normalised): loss = -sum(m A log pi) / sum(m) over valid agent-steps, full BPTT
 *            over the episode from a zero hidden state (nn/gru.ts fused op; the rollout's
 *            activations are reused because weights and inputs are the same).
 *   target   hard copy every `targetUpdate` rounds, or every `targetUpdateCriticSteps` critic
 *            steps (checked once per round, after the actor step, as the released code does).
 *
 * Paper text vs released code (sfw3r43gegya/Manitokan @ 99ffe1e), and Cairn's defaults. The
 * `manitokan-pg*-released-code` presets switch every code value on together.
 *
 *   option                     paper (default here)         released code
 *   lr, criticLr               5e-5 (Table 3)               5e-4 (pg.yaml; command-line
 *                                                           values arrive as strings, so the
 *                                                           yaml value is what ran)
 *   activation                 relu (Table 3)               gelu (exact erf GELU)
 *   epsilonStart/Finish/       0 / 0 (no floor mentioned)   0.8 -> 0.01 over 2e6 t_env: the
 *   epsilonAnnealSteps                                      multinomial selector's floor
 *                                                           pi = (1-eps) softmax + eps/A before
 *                                                           masking; t_env counts lock-step
 *                                                           steps (NOT x B); same eps in the loss
 *   env episodeLimit           150                          300 (all yamls)
 *   observation                fresh                        frozen-initial: the runner never
 *                                                           refreshes obs inside the episode
 *                                                           (§0.1); the last-action one-hot
 *                                                           stays fresh
 *   criticBootstrap            standard                     terminated-sum (§0.2): G_T =
 *                                                           V_T (1 - sum_t terminated_t), with
 *                                                           sticky flags = V_T (k + 1 - T)
 *   criticUpdate               batch (paper silent)         per-step-reverse: up to T critic
 *                                                           steps per round, t = T-1 .. 0, each
 *                                                           recording that step's baseline
 *   targetUpdate /             1 round ("1 episode")        every 200 critic steps
 *   targetUpdateCriticSteps
 *   criticGradClip             10 (paper silent: code value) 10
 *   actorGradClip              0 = none (paper silent)      none
 *   env showOtherAgents        true ("other agents are      false (agents never drawn)
 *                              visible")
 *   rewardInjection            off (App. E.6 variant)       spike_variation (see injectRewards)
 *
 * Where the paper is silent, Cairn chose:
 * - batch critic update: one RMSprop step per round on all valid agent-steps, so that "one
 *   update per episode" holds for the critic as for the actor; the released per-step loop
 *   takes up to T steps per round (a much larger effective critic lr) and is an option.
 * - standard bootstrap: none after a true termination, V(final obs) after a time-limit
 *   truncation (the time limit is not part of the observation).
 * - the target critic's value at the batch's last slot, and after a copy's last step, uses that
 *   copy's final observation: our envs do not step finished copies (PyMARL's did, so its slot T
 *   held a later observation).
 * - evaluation policies sample the learned softmax without the epsilon floor (or act greedily).
 * - reward injection: d = 1 - updates / injectionDecayUpdates is clamped at 0 (the code lets it
 *   turn negative after 10,000 updates), and the thresholds are the env's r_i and r_i + sum r_j
 *   instead of the code's literal 0.5 and 1.5 (equal under the default rewards).
 * - per-agent actors (`actorSharing: per-agent`) are one network per agent (not the released
 *   code's iid_agents split by env copy), with one optimiser and clip over all of them.
 * Not implemented: the max-entropy variant (spec §1.9) and the correction terms (spec §2).
 *
 * Speed (tiny networks are dispatch-bound, and the wasm backend is what runs here): see the
 * headers of nn/gru.ts (fused BPTT reusing the rollout's activations) and nn/mlp.ts (plain
 * matmuls only, direct kernel calls when acting).
 */
import { type Schema, type Values, defaults } from '../config/schema';
import type { EnvSpec, VecEnv } from '../envs/types';
import { maskedLogProbs, maskedProbs, sampleIndex, entropy, argmaxMasked } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { registerGradients } from '../nn/gradients';
import { GRUCell, GruTrace } from '../nn/gru';
import { Linear, Mlp, type Activation } from '../nn/mlp';
import { RMSprop } from '../nn/optim';
import { ParamSet } from '../nn/params';
import { discountedReturns, tdLambdaTargets, tdLambdaTargetsPymarl } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import { deriveSeed, type Rng } from '../rng';
import { ENV_RESET_STREAM } from './random';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

// ================================================================= config

export const pgSchema = {
  lr: { type: 'float', default: 5e-5, min: 0, max: 1, doc: 'Actor learning rate (paper Table 3: 5e-5; released code: 5e-4).' },
  criticLr: { type: 'float', default: 5e-5, min: 0, max: 1, doc: 'Critic learning rate (paper: 5e-5; released code: 5e-4).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount factor (paper and code: 0.99).' },
  tdLambda: { type: 'float', default: 1, min: 0, max: 1, doc: "Lambda of the critic's TD(lambda) targets (paper and code: 1, i.e. Monte-Carlo)." },
  rmspropAlpha: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'RMSprop smoothing constant alpha (paper and code: 0.99).' },
  rmspropEps: { type: 'float', default: 1e-5, min: 0, doc: 'RMSprop epsilon, added outside the square root as PyTorch does (paper and code: 1e-5).' },
  hiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Actor width: input layer and GRU hidden size (paper and code: 64).' },
  criticHiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Critic hidden width (paper and code: 64).' },
  activation: { type: 'enum', default: 'relu', values: ['relu', 'gelu'], doc: 'Hidden activation of actor and critic (paper: relu; released code: exact GELU).' },
  actorSharing: {
    type: 'enum',
    default: 'shared',
    values: ['shared', 'per-agent'],
    doc: 'One actor for all agents (paper "Joint", code iid_agents=False) or one actor per agent.',
  },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm clip of critic gradients, 0 = none (paper silent; code: 10).' },
  actorGradClip: { type: 'float', default: 0, min: 0, doc: 'Global-norm clip of actor gradients, 0 = none (paper silent; code: none).' },
  epsilonStart: {
    type: 'float',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Epsilon floor pi = (1-eps) softmax + eps/A before masking, at t_env = 0 (paper: none, 0; code: 0.8).',
  },
  epsilonFinish: { type: 'float', default: 0, min: 0, max: 1, doc: 'Epsilon floor after annealing (paper: 0; code: 0.01).' },
  epsilonAnnealSteps: {
    type: 'int',
    default: 2_000_000,
    min: 0,
    doc: 'Lock-step env steps t_env (not multiplied by the number of copies) over which epsilon anneals linearly (code: 2e6).',
  },
  observation: {
    type: 'enum',
    default: 'fresh',
    values: ['fresh', 'frozen-initial'],
    doc: "fresh (intended), or frozen-initial: the env part of the observation stays the episode's first one (released-code runner quirk); the last-action one-hot stays fresh.",
  },
  criticBootstrap: {
    type: 'enum',
    default: 'standard',
    values: ['standard', 'terminated-sum'],
    doc: 'Critic target after the last step: standard (none after termination, V(final obs) after the time limit) or terminated-sum (released code: V_T (1 - sum of sticky terminated flags)).',
  },
  criticUpdate: {
    type: 'enum',
    default: 'batch',
    values: ['batch', 'per-step-reverse'],
    doc: 'batch: one critic step per round on all valid steps (paper silent); per-step-reverse: one step per time step, t = T-1..0, each recording its baseline (released code).',
  },
  targetUpdate: { type: 'int', default: 1, min: 1, doc: 'Rounds between hard target-critic copies (paper: 1 episode). Ignored when targetUpdateCriticSteps > 0.' },
  targetUpdateCriticSteps: {
    type: 'int',
    default: 0,
    min: 0,
    doc: 'If > 0: copy the target when this many critic steps have passed since the last copy, checked once per round (released code: 200). 0 = use targetUpdate.',
  },
  rewardInjection: {
    type: 'bool',
    default: false,
    doc: 'App. E.6 "injection": add small |normal| rewards around the first individual and collective rewards, decaying over updates (code spike_variation).',
  },
  injectionScale: { type: 'float', default: 1e-4, min: 0, doc: 'Injection scale kappa (code: policy_ent_coeff = 1e-4).' },
  injectionDecayUpdates: { type: 'int', default: 10_000, min: 1, doc: 'Updates over which the injection decays linearly to 0 (code: 10,000).' },
} as const satisfies Schema;

/** Typed view of the resolved hyperparameters. */
interface PgConfig {
  lr: number;
  criticLr: number;
  gamma: number;
  tdLambda: number;
  rmspropAlpha: number;
  rmspropEps: number;
  hiddenDim: number;
  criticHiddenDim: number;
  activation: Activation;
  actorSharing: 'shared' | 'per-agent';
  criticGradClip: number;
  actorGradClip: number;
  epsilonStart: number;
  epsilonFinish: number;
  epsilonAnnealSteps: number;
  observation: 'fresh' | 'frozen-initial';
  criticBootstrap: 'standard' | 'terminated-sum';
  criticUpdate: 'batch' | 'per-step-reverse';
  targetUpdate: number;
  targetUpdateCriticSteps: number;
  rewardInjection: boolean;
  injectionScale: number;
  injectionDecayUpdates: number;
}

function parseConfig(values: Values): PgConfig {
  const v: Values = defaults(pgSchema);
  for (const k of Object.keys(pgSchema)) if (values[k] !== undefined) v[k] = values[k];
  return v as unknown as PgConfig;
}

/** PyMARL's DecayThenFlat schedule: linear from start to finish over `steps`, then flat. */
function epsilonAt(cfg: PgConfig, tEnv: number): number {
  if (cfg.epsilonAnnealSteps <= 0) return cfg.epsilonFinish;
  const frac = Math.min(1, tEnv / cfg.epsilonAnnealSteps);
  return cfg.epsilonStart + (cfg.epsilonFinish - cfg.epsilonStart) * frac;
}

// ================================================================= networks

/** The actor: Linear(obs -> H) -> act -> GRUCell(H) -> Linear(H -> A). G = 1 or N groups. */
class Actor {
  readonly params: ParamSet;
  readonly input: Linear;
  readonly gru: GRUCell;
  readonly head: Linear;

  constructor(
    private readonly tf: Tf,
    spec: EnvSpec,
    readonly cfg: PgConfig,
    readonly groups: number,
    rng: Rng,
  ) {
    const H = cfg.hiddenDim;
    this.params = new ParamSet(tf);
    this.input = new Linear(tf, this.params, 'input', spec.obsSize, H, groups, rng);
    this.gru = new GRUCell(tf, this.params, 'gru', { inputSize: H, hiddenSize: H, groups }, rng);
    this.head = new Linear(tf, this.params, 'head', H, spec.numActions, groups, rng);
  }

  /**
   * One acting step for all rows: x [G, rows/G, obs]. Reads hPrev, writes hNext (and the trace
   * at step t). Returns the logits [rows * A], read back once.
   */
  stepLogits(x: Tensor, hPrev: Float32Array, hNext: Float32Array, trace?: GruTrace, t = 0): Float32Array {
    const tf = this.tf;
    let logits!: Float32Array;
    // Read back inside the scope: tf.tidy would walk a returned typed array element by element.
    tf.tidy(() => {
      const e = this.input.infer(x, this.cfg.activation);
      const h = this.gru.stepRows(e, hPrev, hNext, trace, t);
      logits = this.head.infer(h).dataSync() as Float32Array;
    });
    return logits;
  }

  /** Training forward over [N][T][B] rows from a zero state: logits [G, N*T*B/G, A]. */
  sequenceLogits(x: Tensor, N: number, T: number, B: number, trace?: GruTrace): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const e = this.input.forward(x, this.cfg.activation, false);
      return this.head.forward(this.gru.sequence(e, N, T, B, trace));
    });
  }
}

/**
 * N disjoint critics envObs -> H -> H -> 1, one MLP per agent in one parameter set (one
 * optimiser and one global-norm clip over all of them, as the released code's single critic
 * optimiser). Separate G = 1 networks rather than one grouped MLP: each agent's rows are
 * uploaded separately anyway, and the wasm backend is slow at batched matmuls and slices.
 */
function makeCritics(tf: Tf, params: ParamSet, spec: EnvSpec, cfg: PgConfig, rng: Rng): Mlp[] {
  const H = cfg.criticHiddenDim;
  return Array.from(
    { length: spec.numAgents },
    (_, a) => new Mlp(tf, params, `critic/${a}`, [spec.envObsSize, H, H, 1], cfg.activation, 1, rng),
  );
}

/**
 * Build the actor input for one step from env buffers: rows in [agent][copy] order. With
 * `frozen`, the first envObsSize entries come from `frozen` ([agent][copy][envObs]).
 */
function actorInput(
  obs: Float32Array,
  N: number,
  B: number,
  obsSize: number,
  envObsSize: number,
  frozen: Float32Array | null,
  out: Float32Array,
): void {
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < B; b++) {
      const src = (b * N + a) * obsSize;
      const dst = (a * B + b) * obsSize;
      out.set(obs.subarray(src, src + obsSize), dst);
      if (frozen) out.set(frozen.subarray((a * B + b) * envObsSize, (a * B + b + 1) * envObsSize), dst);
    }
  }
}

/** [T][N][B][F] (time-major, as recorded) -> [N][T][B][F] (group-major, for grouped tensors). */
function timeToGroup(src: Float32Array, T: number, N: number, B: number, F: number, out: Float32Array): Float32Array {
  const blk = B * F;
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) out.set(src.subarray((t * N + a) * blk, (t * N + a + 1) * blk), (a * T + t) * blk);
  }
  return out.subarray(0, N * T * blk);
}

/** [N][T][B] -> [T][N][B] (F = 1). */
function groupToTime(src: ArrayLike<number>, T: number, N: number, B: number, out: Float32Array): Float32Array {
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) out[(t * N + a) * B + b] = src[(a * T + t) * B + b];
    }
  }
  return out.subarray(0, N * T * B);
}

// ================================================================= reward injection (App. E.6)

/**
 * The released code's `spike_variation`, on time-major rewards [T][N][B] (in place). Per
 * (agent, copy) column: at the first step t* whose reward equals rInd, add
 * d |xi| kappa / (max(t*, 1) - i + 1) for i in max(t*-15, 0)..t* and d |xi| kappa / (i - t* + 16)
 * for i in t*+1 .. min(t*+15, L-1)-1, xi ~ N(0, 1) fresh per step; at the first step with
 * reward >= rBig, add d |xi| kappa / (max(t*, 1) - i + 1) for i in max(t*-15, 0)..t*,
 * xi ~ N(0, 15^2). Both searches read the rewards before injection. L = episode limit.
 * Exported for tests.
 */
export function injectRewards(
  rewards: Float32Array,
  T: number,
  N: number,
  B: number,
  rInd: number,
  rBig: number,
  d: number,
  kappa: number,
  episodeLimit: number,
  rng: Rng,
): void {
  const M = N * B;
  const ri = Math.fround(rInd);
  for (let col = 0; col < M; col++) {
    let tInd = -1;
    let tBig = -1;
    for (let t = 0; t < T; t++) {
      const r = rewards[t * M + col];
      if (tInd < 0 && r === ri) tInd = t;
      if (tBig < 0 && r >= rBig) tBig = t;
    }
    const add = (t: number, v: number) => {
      if (t < T) rewards[t * M + col] += v;
    };
    if (tInd >= 0) {
      for (let i = Math.max(tInd - 15, 0); i <= tInd; i++) add(i, (d * Math.abs(rng.normal()) * kappa) / (Math.max(tInd, 1) - i + 1));
      for (let i = tInd + 1; i <= Math.min(tInd + 15, episodeLimit - 1) - 1; i++) {
        add(i, (d * Math.abs(rng.normal()) * kappa) / (i - tInd + 16));
      }
    }
    if (tBig >= 0) {
      for (let i = Math.max(tBig - 15, 0); i <= tBig; i++) {
        add(i, (d * Math.abs(15 * rng.normal()) * kappa) / (Math.max(tBig, 1) - i + 1));
      }
    }
  }
}

// ================================================================= trainer

class PgTrainer implements Trainer {
  private readonly tf: Tf;
  private readonly cfg: PgConfig;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly L: number;
  private readonly obsSize: number;
  private readonly envObs: number;
  private readonly H: number;

  private readonly actor: Actor;
  private readonly criticParams: ParamSet;
  private readonly critics: Mlp[];
  private readonly targetParams: ParamSet;
  private readonly targets: Mlp[];
  private readonly actorOpt: RMSprop;
  private readonly criticOpt: RMSprop;

  // Rollout storage, time-major [t][agent][copy][...], sized for the episode limit.
  private readonly xs: Float32Array; //        actor inputs [L][N][B][obs]
  private readonly cobs: Float32Array; //      critic inputs [L+1][N][B][envObs]
  private readonly avail: Float32Array; //     action masks [L][N][B][A]
  private readonly acts: Int32Array; //        actions [L][N][B]
  private readonly rews: Float32Array; //      rewards [L][N][B]
  private readonly valid: Uint8Array; //       [L][B]
  private readonly endStep: Int32Array; //     [B] step on which the copy's episode ended
  private readonly endTrunc: Uint8Array; //    [B] ...by the time limit
  private readonly frozen: Float32Array; //    [N][B][envObs] first env observation
  private readonly trace: GruTrace;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly probs: Float64Array;
  private readonly envActions: Int32Array;
  private readonly stage: Float32Array; //     group-major staging for uploads

  // Counters (checkpointed).
  private started = false;
  private tEnv = 0;
  private updates = 0;
  private criticSteps = 0;
  private criticStepsSinceTarget = 0;
  private roundsSinceTarget = 0;

  constructor(private readonly ctx: TrainContext) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    const cfg = parseConfig(ctx.config);
    this.cfg = cfg;
    const spec = ctx.env.spec;
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.L = spec.episodeLimit;
    this.obsSize = spec.obsSize;
    this.envObs = spec.envObsSize;
    this.H = cfg.hiddenDim;
    const { N, B, A, L, H } = this;

    // Initialisation order (actor, critic) is part of what the seed determines.
    this.actor = new Actor(tf, spec, cfg, cfg.actorSharing === 'shared' ? 1 : N, ctx.rng);
    this.criticParams = new ParamSet(tf);
    this.critics = makeCritics(tf, this.criticParams, spec, cfg, ctx.rng);
    this.targetParams = new ParamSet(tf, false);
    this.targets = makeCritics(tf, this.targetParams, spec, cfg, ctx.rng);
    this.targetParams.copyFrom(this.criticParams);
    this.actorOpt = new RMSprop(tf, this.actor.params, { lr: cfg.lr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });
    this.criticOpt = new RMSprop(tf, this.criticParams, { lr: cfg.criticLr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });

    const rows = N * B;
    this.xs = new Float32Array(L * rows * this.obsSize);
    this.cobs = new Float32Array((L + 1) * rows * this.envObs);
    this.avail = new Float32Array(L * rows * A);
    this.acts = new Int32Array(L * rows);
    this.rews = new Float32Array(L * rows);
    this.valid = new Uint8Array(L * B);
    this.endStep = new Int32Array(B);
    this.endTrunc = new Uint8Array(B);
    this.frozen = new Float32Array(rows * this.envObs);
    this.trace = new GruTrace(L, rows, H);
    this.hA = new Float32Array(rows * H);
    this.hB = new Float32Array(rows * H);
    this.probs = new Float64Array(A);
    this.envActions = new Int32Array(B * N);
    this.stage = new Float32Array((L + 1) * rows * Math.max(this.obsSize, this.envObs, A));
  }

  async round(): Promise<RoundResult> {
    const { tf, cfg, N, B, A, L } = this;
    const env = this.ctx.env;
    const rng = this.ctx.rng;
    const rows = N * B;
    const O = this.obsSize;
    const E = this.envObs;
    const G = this.actor.groups;
    const eps = epsilonAt(cfg, this.tEnv);

    // ---------------------------------------------------------------- rollout
    if (!this.started) env.reset(deriveSeed(this.ctx.seed, ENV_RESET_STREAM));
    else env.resetFinished();
    this.started = true;
    this.hA.fill(0);
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const src = (b * N + a) * O;
        this.frozen.set(env.obs.subarray(src, src + E), (a * B + b) * E);
      }
    }
    const frozen = cfg.observation === 'frozen-initial' ? this.frozen : null;
    let T = 0;
    let envSteps = 0;
    let entSum = 0;
    let entCount = 0;
    for (let t = 0; t < L; t++) {
      let live = 0;
      for (let b = 0; b < B; b++) {
        this.valid[t * B + b] = env.finished[b] ? 0 : 1;
        live += this.valid[t * B + b];
      }
      if (live === 0) break;
      const x = this.xs.subarray(t * rows * O, (t + 1) * rows * O);
      actorInput(env.obs, N, B, O, E, frozen, x);
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          if (!this.valid[t * B + b]) continue;
          const dst = ((t * N + a) * B + b) * E;
          if (frozen) this.cobs.set(frozen.subarray((a * B + b) * E, (a * B + b + 1) * E), dst);
          else this.cobs.set(x.subarray((a * B + b) * O, (a * B + b) * O + E), dst);
        }
      }
      const xT = tf.tensor3d(x, [G, rows / G, O]);
      const logits = this.actor.stepLogits(xT, this.hA, this.hB, this.trace, t);
      xT.dispose();
      [this.hA, this.hB] = [this.hB, this.hA];
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const r = a * B + b; // row in [agent][copy] order
          const mOff = ((t * N + a) * B + b) * A;
          if (!this.valid[t * B + b]) {
            this.acts[t * rows + r] = 0;
            this.avail.fill(1, mOff, mOff + A); // keeps the masked log-softmax finite; weight 0
            this.envActions[b * N + a] = 0;
            continue;
          }
          const envRow = (b * N + a) * A;
          for (let k = 0; k < A; k++) this.avail[mOff + k] = env.actionMask[envRow + k];
          maskedProbs(logits, r * A, env.actionMask, envRow, A, eps, this.probs, 0);
          const act = sampleIndex(this.probs, 0, A, rng);
          entSum += entropy(this.probs, 0, A);
          entCount++;
          this.acts[t * rows + r] = act;
          this.envActions[b * N + a] = act;
        }
      }
      env.step(this.envActions);
      envSteps += live;
      T = t + 1;
      for (let b = 0; b < B; b++) {
        for (let a = 0; a < N; a++) this.rews[t * rows + a * B + b] = env.rewards[b * N + a];
        const next = ((t + 1) * N) * B + b;
        if (this.valid[t * B + b]) {
          if (env.dones[b]) {
            this.endStep[b] = t;
            this.endTrunc[b] = env.truncated[b];
            // Slot t+1 holds the final observation (fresh in both observation modes).
            for (let a = 0; a < N; a++) {
              const src = (b * N + a) * O;
              this.cobs.set(env.obs.subarray(src, src + E), (next + a * B) * E);
            }
          }
        } else {
          for (let a = 0; a < N; a++) {
            const s = (t * N + a) * B + b;
            this.cobs.copyWithin((next + a * B) * E, s * E, (s + 1) * E);
          }
        }
      }
    }
    // A copy still running at the episode limit (cannot happen with the env's own time limit).
    for (let b = 0; b < B; b++) {
      if (!env.finished[b]) {
        this.endStep[b] = T - 1;
        this.endTrunc[b] = 1;
        for (let a = 0; a < N; a++) {
          const src = (b * N + a) * O;
          this.cobs.set(env.obs.subarray(src, src + E), ((T * N + a) * B + b) * E);
        }
      }
    }
    const episodes = env.drainEpisodes();
    this.tEnv += T;
    this.trace.steps = T;

    // ---------------------------------------------------------------- returns
    const M = rows; // columns per step in [t][agent][copy] layout
    const masks = new Float32Array(T * M);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) for (let b = 0; b < B; b++) masks[t * M + a * B + b] = this.valid[t * B + b];
    }
    const rewards = Float32Array.from(this.rews.subarray(0, T * M));
    if (cfg.rewardInjection) {
      const rI = (this.ctx.envConfig.individualReward as number[] | undefined) ?? [0.5];
      const rInd = rI[0];
      const rBig = rInd + (rI.length === 1 ? rInd * N : rI.reduce((s, v) => s + v, 0));
      const d = Math.max(0, 1 - this.updates / cfg.injectionDecayUpdates);
      injectRewards(rewards, T, N, B, rInd, rBig, d, cfg.injectionScale, L, rng);
    }
    // Target critic values V[t] for slots 0..T, time-major. With lambda = 1 only each copy's
    // final observation enters the targets (the other slots have weight 1 - lambda = 0), so
    // only those B rows per agent are evaluated; it is also what slot T holds (carried forward).
    const values = new Float32Array((T + 1) * M);
    if (cfg.tdLambda === 1) {
      const xf = new Float32Array(M * E);
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const src = ((this.endStep[b] + 1) * N + a) * B + b;
          xf.set(this.cobs.subarray(src * E, (src + 1) * E), (a * B + b) * E);
        }
      }
      tf.tidy(() => {
        for (let a = 0; a < N; a++) {
          const X = tf.tensor3d(xf.subarray(a * B * E, (a + 1) * B * E), [1, B, E]);
          const v = this.targets[a].infer(X).dataSync();
          for (let b = 0; b < B; b++) {
            values[(this.endStep[b] + 1) * M + a * B + b] = v[b];
            values[T * M + a * B + b] = v[b];
          }
        }
      });
    } else {
      const n = (T + 1) * B;
      const cobsG = timeToGroup(this.cobs, T + 1, N, B, E, this.stage);
      const vTarget = new Float32Array(N * n);
      tf.tidy(() => {
        for (let a = 0; a < N; a++) {
          const X = tf.tensor3d(cobsG.subarray(a * n * E, (a + 1) * n * E), [1, n, E]);
          vTarget.set(this.targets[a].infer(X).dataSync() as Float32Array, a * n);
        }
      });
      groupToTime(vTarget, T + 1, N, B, values);
    }
    const terminated = new Float32Array(T * M);
    let targets: Float32Array;
    if (cfg.criticBootstrap === 'standard') {
      for (let b = 0; b < B; b++) {
        if (this.endTrunc[b]) continue;
        for (let a = 0; a < N; a++) terminated[this.endStep[b] * M + a * B + b] = 1;
      }
      targets = tdLambdaTargets(rewards, terminated, masks, values, T, M, cfg.gamma, cfg.tdLambda);
    } else {
      // Released code: terminated = 1 from the ending step on (time limit included).
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          if (t < this.endStep[b]) continue;
          for (let a = 0; a < N; a++) terminated[t * M + a * B + b] = 1;
        }
      }
      targets = tdLambdaTargetsPymarl(rewards, terminated, masks, values, T, M, cfg.gamma, cfg.tdLambda);
    }
    const returns = discountedReturns(rewards, masks, T, M, cfg.gamma);

    // ---------------------------------------------------------------- critic update
    const baseline = new Float32Array(T * M);
    let criticLoss = 0;
    let criticNorm = 0;
    let steps = 0;
    /** One critic step on per-agent rows X[a] [1, R, E], targets and masks [1, R, 1]; returns V [N * R]. */
    const criticStep = (X: Tensor[], Gt: Tensor[], Mt: Tensor[], count: number): Float32Array => {
      const held: Tensor[] = [];
      const { value, grads } = this.criticParams.grads(() => {
        let loss: Tensor = tf.scalar(0);
        for (let a = 0; a < N; a++) {
          const v = this.critics[a].forward(X[a], false);
          held.push(tf.keep(v)); // the pre-update values are this step's baseline
          loss = tf.add(loss, tf.sum(tf.mul(Mt[a], tf.square(tf.sub(v, Gt[a])))));
        }
        return tf.div(loss, count) as never;
      });
      const R = (X[0].shape as number[])[1];
      const v = new Float32Array(N * R);
      held.forEach((t, a) => {
        v.set(t.dataSync() as Float32Array, a * R);
        t.dispose();
      });
      criticNorm += clipByGlobalNorm(tf, grads, cfg.criticGradClip);
      this.criticOpt.step(grads);
      for (const g of Object.values(grads)) g.dispose();
      criticLoss += value;
      steps++;
      return v;
    };
    /** Per-agent tensors [1, R, F] from a group-major [N][R][F] array. */
    const perAgent = (src: Float32Array, R: number, F: number): Tensor[] =>
      Array.from({ length: N }, (_, a) => tf.tensor3d(src.subarray(a * R * F, (a + 1) * R * F), [1, R, F]));
    if (cfg.criticUpdate === 'batch') {
      let count = 0;
      for (let i = 0; i < T * M; i++) count += masks[i];
      tf.tidy(() => {
        const R = T * B;
        const X = perAgent(timeToGroup(this.cobs, T, N, B, E, this.stage), R, E);
        const Gt = perAgent(timeToGroup(targets, T, N, B, 1, new Float32Array(T * M)), R, 1);
        const Mt = perAgent(timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)), R, 1);
        groupToTime(criticStep(X, Gt, Mt, count), T, N, B, baseline);
      });
    } else {
      for (let t = T - 1; t >= 0; t--) {
        let count = 0;
        for (let i = 0; i < M; i++) count += masks[t * M + i];
        if (count === 0) continue;
        tf.tidy(() => {
          // Time-major slices are already [N][B][.] for one step.
          const X = perAgent(this.cobs.subarray(t * M * E, (t + 1) * M * E), B, E);
          const Gt = perAgent(targets.subarray(t * M, (t + 1) * M), B, 1);
          const Mt = perAgent(masks.subarray(t * M, (t + 1) * M), B, 1);
          baseline.set(criticStep(X, Gt, Mt, count), t * M);
        });
      }
    }
    this.criticSteps += steps;
    this.criticStepsSinceTarget += steps;

    // ---------------------------------------------------------------- actor update
    let valid = 0;
    let vSum = 0;
    let advSum = 0;
    for (let i = 0; i < T * M; i++) {
      if (!masks[i]) continue;
      valid++;
      vSum += baseline[i];
      advSum += returns[i] - baseline[i];
    }
    // Loss = -sum(c * log pi) with c = onehot(action) * m * A / sum(m), built on the CPU.
    const coef = new Float32Array(T * M * A);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const i = t * M + a * B + b;
          if (!masks[i]) continue;
          const g = (a * T + t) * B + b; // group-major row
          coef[g * A + this.acts[i]] = (returns[i] - baseline[i]) / valid;
        }
      }
    }
    const rowsAll = (N * T * B) / G;
    const { value: actorLoss, grads: actorGrads } = tf.tidy(() => {
      const X = tf.tensor3d(timeToGroup(this.xs, T, N, B, O, this.stage), [G, rowsAll, O]);
      const avail = tf.tensor3d(timeToGroup(this.avail, T, N, B, A, new Float32Array(T * M * A)), [G, rowsAll, A]);
      const C = tf.tensor3d(coef, [G, rowsAll, A]);
      const res = this.actor.params.grads(() => {
        const logp = maskedLogProbs(tf, this.actor.sequenceLogits(X, N, T, B, this.trace), avail, eps);
        return tf.neg(tf.sum(tf.mul(C, logp))) as never;
      });
      return res as never; // tidy keeps tensors found in the returned object (the gradients)
    }) as { value: number; grads: Record<string, Tensor> };
    const actorNorm = clipByGlobalNorm(tf, actorGrads, cfg.actorGradClip);
    this.actorOpt.step(actorGrads);
    for (const g of Object.values(actorGrads)) g.dispose();
    this.updates++;

    // ---------------------------------------------------------------- target critic
    this.roundsSinceTarget++;
    const copy =
      cfg.targetUpdateCriticSteps > 0
        ? this.criticStepsSinceTarget >= cfg.targetUpdateCriticSteps
        : this.roundsSinceTarget >= cfg.targetUpdate;
    if (copy) {
      this.targetParams.copyFrom(this.criticParams);
      this.criticStepsSinceTarget = 0;
      this.roundsSinceTarget = 0;
    }

    // ---------------------------------------------------------------- log
    return {
      episodes,
      envSteps,
      stats: {
        'losses/actor': actorLoss,
        'losses/critic': steps > 0 ? criticLoss / steps : 0,
        'charts/value_mean': valid > 0 ? vSum / valid : 0,
        'charts/advantage_mean': valid > 0 ? advSum / valid : 0,
        'charts/entropy': entCount > 0 ? entSum / entCount : 0,
        'charts/epsilon': eps,
        'charts/grad_norm_actor': actorNorm,
        'charts/grad_norm_critic': steps > 0 ? criticNorm / steps : 0,
      },
    };
  }

  async save(): Promise<Checkpoint> {
    const actorOpt = this.actorOpt.getState();
    const criticOpt = this.criticOpt.getState();
    const tensors = {
      ...this.actor.params.toRecords('actor/'),
      ...this.criticParams.toRecords('critic/'),
      ...this.targetParams.toRecords('target/'),
      ...prefixed(actorOpt.tensors, 'optim/actor/'),
      ...prefixed(criticOpt.tensors, 'optim/critic/'),
    };
    return {
      tensors,
      extra: {
        algo: 'pg',
        version: 1,
        rng: this.ctx.rng.getState(),
        env: this.ctx.env.getState(),
        started: this.started,
        tEnv: this.tEnv,
        updates: this.updates,
        criticSteps: this.criticSteps,
        criticStepsSinceTarget: this.criticStepsSinceTarget,
        roundsSinceTarget: this.roundsSinceTarget,
        optimActor: actorOpt.extra,
        optimCritic: criticOpt.extra,
      },
    };
  }

  load(ckpt: Checkpoint): void {
    const e = ckpt.extra as Record<string, unknown>;
    if (e.algo !== 'pg' || e.version !== 1) throw new Error('pg: checkpoint was not written by this PG trainer (algo/version mismatch)');
    this.actor.params.loadRecords(ckpt.tensors, 'actor/');
    this.criticParams.loadRecords(ckpt.tensors, 'critic/');
    this.targetParams.loadRecords(ckpt.tensors, 'target/');
    this.actorOpt.setState({ tensors: unprefixed(ckpt.tensors, 'optim/actor/'), extra: e.optimActor as Record<string, number> });
    this.criticOpt.setState({ tensors: unprefixed(ckpt.tensors, 'optim/critic/'), extra: e.optimCritic as Record<string, number> });
    this.ctx.rng.setState(e.rng as number[]);
    this.ctx.env.setState(e.env);
    this.started = Boolean(e.started);
    this.tEnv = Number(e.tEnv);
    this.updates = Number(e.updates);
    this.criticSteps = Number(e.criticSteps);
    this.criticStepsSinceTarget = Number(e.criticStepsSinceTarget);
    this.roundsSinceTarget = Number(e.roundsSinceTarget);
  }

  dispose(): void {
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.actor.params.dispose();
    this.criticParams.dispose();
    this.targetParams.dispose();
  }
}

function prefixed<T>(rec: Record<string, T>, prefix: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(rec)) out[prefix + k] = v;
  return out;
}

function unprefixed<T>(rec: Record<string, T>, prefix: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(rec)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

// ================================================================= evaluation policy

/** The trained actor acting on a VecEnv: sampling from the masked softmax, or greedy. */
class PgPolicy implements Policy {
  private readonly actor: Actor;
  private readonly tf: Tf;
  private readonly N: number;
  private readonly B: number;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly x: Float32Array;
  private readonly frozen: Float32Array;
  private readonly capture: Uint8Array;
  private readonly probs: Float64Array;

  constructor(private readonly ctx: PolicyContext) {
    this.tf = ctx.tf;
    registerGradients(ctx.tf);
    const cfg = parseConfig(ctx.config);
    const spec = ctx.spec;
    this.N = spec.numAgents;
    this.B = ctx.numEnvs;
    this.actor = new Actor(ctx.tf, spec, cfg, cfg.actorSharing === 'shared' ? 1 : this.N, ctx.rng);
    if (ctx.checkpoint) this.actor.params.loadRecords(ctx.checkpoint.tensors, 'actor/');
    const rows = this.N * this.B;
    this.hA = new Float32Array(rows * cfg.hiddenDim);
    this.hB = new Float32Array(rows * cfg.hiddenDim);
    this.x = new Float32Array(rows * spec.obsSize);
    this.frozen = new Float32Array(rows * spec.envObsSize);
    this.capture = new Uint8Array(this.B).fill(1);
    this.probs = new Float64Array(spec.numActions);
  }

  resetCopy(b: number): void {
    const H = this.actor.cfg.hiddenDim;
    for (let a = 0; a < this.N; a++) this.hA.fill(0, (a * this.B + b) * H, (a * this.B + b + 1) * H);
    this.capture[b] = 1;
  }

  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const { N, B } = this;
    const spec = env.spec;
    const O = spec.obsSize;
    const E = spec.envObsSize;
    const A = spec.numActions;
    const G = this.actor.groups;
    const frozenMode = this.actor.cfg.observation === 'frozen-initial';
    if (frozenMode) {
      for (let b = 0; b < B; b++) {
        if (!this.capture[b]) continue;
        this.capture[b] = 0;
        for (let a = 0; a < N; a++) {
          const src = (b * N + a) * O;
          this.frozen.set(env.obs.subarray(src, src + E), (a * B + b) * E);
        }
      }
    }
    actorInput(env.obs, N, B, O, E, frozenMode ? this.frozen : null, this.x);
    const xT = this.tf.tensor3d(this.x, [G, (N * B) / G, O]);
    const logits = this.actor.stepLogits(xT, this.hA, this.hB);
    xT.dispose();
    [this.hA, this.hB] = [this.hB, this.hA];
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < N; a++) {
        const envRow = (b * N + a) * A;
        const r = a * B + b;
        if (env.finished[b]) {
          actions[b * N + a] = 0;
          continue;
        }
        if (greedy) {
          actions[b * N + a] = argmaxMasked(logits, r * A, env.actionMask, envRow, A);
        } else {
          maskedProbs(logits, r * A, env.actionMask, envRow, A, 0, this.probs, 0);
          actions[b * N + a] = sampleIndex(this.probs, 0, A, this.ctx.rng);
        }
      }
    }
  }

  dispose(): void {
    this.actor.params.dispose();
  }
}

export const pgEntry: AlgoEntry = {
  id: 'pg',
  title: 'PG: independent REINFORCE with per-agent baselines (Malenfant & Richards 2025, Table 3)',
  schema: pgSchema,
  createTrainer: (ctx: TrainContext) => new PgTrainer(ctx),
  createPolicy: (ctx: PolicyContext) => new PgPolicy(ctx),
};
