/**
 * COMA: counterfactual multi-agent policy gradients (Foerster et al. 2018) as run in Malenfant &
 * Richards 2025 (Table 4, App. E.1; specs/manitokan-learners.md §0, §1.5, §4 "COMA").
 *
 * Networks. Actor, shared by the agents (Table 4 "Policy (Joint)", no agent id), exactly PG's
 * (algos/recurrent-actor.ts): Linear(obs -> 64) -> act -> GRUCell(64) -> Linear(64 -> A)
 * logits. Critic ("Joint": ONE network shared by all agents) Linear(F -> 64) -> act ->
 * Linear(64 -> 64) -> act -> Linear(64 -> A): one Q per action of the agent whose row it is,
 * plus a target copy. PyTorch default initialisation from the run's Rng (actor first, then
 * critic, then target).
 *
 * Critic input per (step t, agent a, copy b), `criticInput`:
 *   centralised            [ state s_t (spec.stateSize) | o^a_t (spec.envObsSize) |
 *                            one-hot u^j_t of every agent j, agent a's own block zeroed (N*A) |
 *                            one-hot agent id (N) | optionally the previous joint action (N*A,
 *                            zeros at t = 0; `criticLastActions`) ]
 *   observation (default)  [ o^a_t ] only: paper Table 4 (the critic is "Joint", which in Table 3
 *                            marks one network shared by the agents, and its first layer has
 *                            "input = 27", the own-observation width), and the released code
 *                            (modules/critics/coma.py has the state, action and id inputs
 *                            commented out).
 * Why the table wins over the name: defaults follow the paper's text and tables, and Table 4 is
 * explicit about the width. The consequence is worth knowing: with Q(o^a, .) the "counterfactual"
 * baseline sum_u' pi(u') Q(o^a, u') is a learned state-value baseline that never sees the other
 * agent, which may be part of why COMA collapses in the paper. `centralised` is Foerster et
 * al.'s credit-assignment critic, for comparison.
 * o^a_t is the env part of the observation (never the last-action one-hot, as in PG), frozen or
 * fresh per `observation`; the state is always fresh. Manitokan's state (full-grid encoding,
 * agent positions and headings) does not say which agent carries the key.
 *
 * One round = one paper "episode": all B copies start an episode together and step in lock-step
 * until every copy has finished, then one update:
 *   rollout  one actor call per step for all B x N rows; probabilities read back once and
 *            sampled on the CPU with the Rng; GRU activations recorded. After the last step,
 *            one more actor call samples an action at every copy's final observation: the
 *            critic's bootstrap slot T needs the joint action there (PyMARL's runner does the
 *            same; the released Manitokan runner stores a dummy action).
 *   data     on-policy (bufferSize = 0): this round's B episodes. Otherwise the episodes go into
 *            a ring buffer of `bufferSize` episodes and `batchSize` of them are drawn uniformly
 *            without replacement (all of them while the buffer holds fewer).
 *   targets  y = TD(lambda) targets from the target critic's Q of the taken actions
 *            (lambda = 1: Monte-Carlo return plus the bootstrap at truncation).
 *   critic   loss = sum m (Q(x, u) - y)^2 / sum m over valid agent-steps; the pre-update Q of
 *            every action is kept for the actor (as PyMARL's q_vals).
 *   actor    pi = the behaviour distribution (softmax, epsilon floor, masked, renormalised)
 *            recomputed with full BPTT from a zero state (nn/gru.ts fused op; the rollout trace
 *            is reused on-policy), counterfactual baseline b = sum_u pi(u) Q(x, u),
 *            A = Q(x, u_taken) - b (detached, not normalised),
 *            loss = -sum m A log pi(u_taken) / sum m over valid agent-steps.
 *   target   hard copy every `targetUpdate` rounds, or every `targetUpdateCriticSteps` critic
 *            steps (checked once per round, after the actor step, as the released code does).
 *   threads  `updateThreads: 2` (or `auto`'s hint) runs the critic's part of the update on a
 *            helper thread beside the actor's (coma-critic-step.ts; same bits); the actor's loss
 *            is one CPU pass with its closed-form gradient (`actorLoss`, coma-actor-loss.ts).
 *            The actor's gradient of a batch the rollout's trace does not serve (a sampled
 *            one; on-policy, an extra update's) is computed in two parts by episodes
 *            (`actorHelperShare`, default 0.3: the last 30% are part 2; coma-actor-part.ts) and
 *            added; part 2 runs on the helper after its critic update when the helper runs, else
 *            here after part 1, with the same code, so 1, 2 and auto threads give the same bits.
 *            The split is the one-pass gradient to float rounding (golden series: within 1.4e-7
 *            relative); `actorHelperShare: 0` is the one pass, the reference path (the paper
 *            path as it was before issue 15c, bit for bit).
 *
 * Paper (Table 4) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e, coma.yaml, coma_learner.py,
 * modules/critics/coma.py), and Cairn's defaults. The `manitokan-coma*-released-code` presets
 * switch every code value on together.
 *
 *   option                     paper (default here)           released code
 *   criticInput                observation (Table 4, above)   observation (own obs only)
 *   lr, criticLr               5e-5                           5e-4 (yaml; command-line values
 *                                                             arrive as strings, so the yaml ran)
 *   hiddenDim, criticHiddenDim 64 / 64                        128 / 128 (manito.yaml; coma.yaml
 *                                                             does not override)
 *   activation                 relu                           gelu (exact erf GELU)
 *   bufferSize / batchSize     320 / 32 (Table 4: "replay     1000 / 32, uniform sampling
 *                              buffer size 320", batch 32:    (off-policy reuse; coma.yaml at
 *                              the last 10 rounds, sampled    commit 0d71e5d says 320)
 *                              uniformly; 0 = on-policy)
 *   epsilonStart/Finish/       0 / 0 (no floor mentioned)     0.8 -> 0.01 over 2e6 t_env
 *   epsilonAnnealSteps                                        (multinomial selector; t_env counts
 *                                                             lock-step steps, NOT x B; the same
 *                                                             eps is in the loss and baseline)
 *   targetUpdate /             1 round ("1 episode")          every 200 critic steps
 *   targetUpdateCriticSteps
 *   actorGradClip              0 = none (paper silent)        10 (grad_norm_clip)
 *   criticGradClip             10 (paper silent: code value)  10
 *   observation                fresh                          frozen-initial (§0.1)
 *   criticBootstrap            standard                       terminated-sum (§0.2)
 *   criticUpdate               batch (paper silent)           per-step-reverse (§1.5): up to T
 *                                                             critic steps per round, t = T-1..0,
 *                                                             each recording that step's Q
 *   env episodeLimit           150                            300
 *   env showOtherAgents        true                           false
 *   actorHelperShare           0.3 (Cairn's: speed, the       0.3 (not a code value: the
 *                              split above; 0 = one pass)     presets follow the default)
 *
 * Where the paper is silent, Cairn chose:
 * - centralised critic inputs as listed above; the previous joint action, which Foerster et al.
 *   and PyMARL also feed, is off by default (`criticLastActions`) because Table 4 does not
 *   list it.
 * - each agent's Q predicts the return of its OWN reward (`reward = individual`), as the released
 *   code does (per-agent reward vector) and as PG does; Foerster et al.'s single team reward
 *   (the sum over agents, same target for every agent) is `reward = team`.
 * - batch critic update: one RMSprop step per round on all valid agent-steps over [T x B x N]
 *   rows at once ("one update per episode", and fast); the released per-step loop is an option.
 * - standard bootstrap: none after a true termination; the target Q of the action sampled at the
 *   final observation after a time-limit truncation.
 * - slots after a copy's last step repeat its final observation and state (our envs do not step
 *   finished copies; PyMARL's did) and hold action 0, except the slot right after the last step
 *   and the batch's last slot T, which hold the action sampled at the final observation.
 * - the actor is not clipped by default (the paper lists no clipping; the code clips at 10).
 * - the buffer is part of the checkpoint (bit-exact resume), so checkpoints of buffered runs
 *   are large (~N * (obsSize + A + 2) floats per stored step, plus the state when centralised).
 * - evaluation policies sample the learned softmax without the epsilon floor (or act greedily).
 * - no reward injection / max-entropy options: the released code applies neither to COMA.
 *
 * Logging: `charts/counterfactual_baseline` is the mean over valid agent-steps of
 * sum_u pi(u) Q(x, u) (Fig. 7b). The released code logs `base_line` = -sum(b) / sum(m) with the
 * sum over ALL rows (padding included) and the sign flipped: negate ours to compare the sign.
 * `losses/actor` is Fig. 7a's policy loss.
 */
import { type Schema, type Values, typedValues } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { entropy, maskedProbs, sampleIndex } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { registerGradients } from '../nn/gradients';
import { GruTrace } from '../nn/gru';
import { Mlp } from '../nn/mlp';
import { Adam, RMSprop, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { LockstepRollout } from './core/rollout';
import { EpisodeBatch, EpisodeBuffer } from './core/episode-buffer';
import { counter, loadLearner, saveLearner, type LearnerParts } from './core/checkpoint';
import { TargetSchedule, hardCopyRule } from './core/target';
import { envProblems, type EnvNeeds } from './core/compat';
import { ComaCriticWork, comaCriticPath, disposePass, explicitCriticApplies, forwardRows } from './coma-critic';
import { actorLossWork, comaActorGrads, comaActorPartGrads, comaActorRowsOf, comaActorSplit, comaActorSums, type ComaActorSums } from './coma-actor-part';
import type { ActorLossWork } from './coma-actor-loss';
import {
  comaCriticThreadFactory,
  comaCriticUpdate,
  comaValidMasks,
  type ComaActorJob,
  type ComaCriticCall,
  type ComaCriticResult,
  type ComaCriticSettings,
  type ComaCriticThread,
} from './coma-critic-step';
import { UpdateHelper } from './ppo-threads-hint';
import { buildCriticInputs, criticInputSize, type CriticLayout } from './coma-critic-input';
import { RecurrentActor, RecurrentActorPolicy, epsilonSchema, gruGatesSchema, targetCopySchema, actorInput, epsilonAt, timeToGroupRange } from './recurrent-actor';
import type { AlgoEntry, Checkpoint, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

// ================================================================= config

/** Discrete agents (one Q per action); flat rows through MLP/GRU, so any layout. */
const COMA_NEEDS: EnvNeeds = { actions: 'discrete' };

export const comaSchema = {
  lr: { type: 'float', default: 5e-5, min: 0, max: 1, doc: 'Actor learning rate (paper Table 4: 5e-5; released code: 5e-4).' },
  criticLr: { type: 'float', default: 5e-5, min: 0, max: 1, doc: 'Critic learning rate (paper Table 4: 5e-5; released code: 5e-4).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount factor (paper and code: 0.99).' },
  tdLambda: { type: 'float', default: 1, min: 0, max: 1, doc: "Lambda of the critic's TD(lambda) targets (paper and code: 1)." },
  rmspropAlpha: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'RMSprop smoothing constant alpha (paper and code: 0.99).' },
  rmspropEps: { type: 'float', default: 1e-5, min: 0, doc: 'RMSprop epsilon, added outside the square root as PyTorch does (paper and code: 1e-5).' },
  hiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Actor width: input layer and GRU hidden size (paper Table 4: 64; released code: 128).' },
  criticHiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Critic hidden width (paper Table 4: 64; released code: 128).' },
  activation: { type: 'enum', default: 'relu', values: ['relu', 'gelu'], doc: 'Hidden activation of actor and critic (paper: relu; released code: exact GELU).' },
  criticInput: {
    type: 'enum',
    default: 'observation',
    values: ['observation', 'centralised'],
    doc: "observation: the agent's own observation only (paper Table 4: critic input = 27, shared 'Joint' critic; also the released code); centralised: global state, own observation, the other agents' one-hot actions and the agent id (Foerster et al.'s original COMA).",
  },
  criticLastActions: {
    type: 'bool',
    default: false,
    doc: "Also feed the centralised critic the previous joint action (one-hot, zeros at t = 0), as Foerster et al. and PyMARL do (Table 4 silent: off).",
  },
  reward: {
    type: 'enum',
    default: 'individual',
    values: ['individual', 'team'],
    doc: "Reward the critic's Q predicts: individual = each agent's own reward (released code; paper silent), team = the sum over agents for every agent (Foerster et al.'s single team reward).",
  },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm clip of critic gradients, 0 = none (paper silent; code: 10).' },
  actorGradClip: { type: 'float', default: 0, min: 0, doc: 'Global-norm clip of actor gradients, 0 = none (paper silent: none; code: 10).' },
  ...epsilonSchema,
  observation: {
    type: 'enum',
    default: 'fresh',
    values: ['fresh', 'frozen-initial'],
    doc: "fresh (intended), or frozen-initial: the env part of the observation stays the episode's first one for actor and critic (released-code runner quirk); the last-action one-hot and the state stay fresh.",
  },
  criticBootstrap: {
    type: 'enum',
    default: 'standard',
    values: ['standard', 'terminated-sum'],
    doc: 'Critic target after the last step: standard (none after termination, target Q at the final observation after the time limit) or terminated-sum (released code: G_T = Q_T (1 - sum of sticky terminated flags)).',
  },
  criticUpdate: {
    type: 'enum',
    default: 'batch',
    values: ['batch', 'per-step-reverse'],
    doc: 'batch: one critic step per round on all valid agent-steps (paper silent); per-step-reverse: one step per time step, t = T-1..0, each recording its Q (released code).',
  },
  ...targetCopySchema,
  ...gruGatesSchema,
  bufferSize: {
    type: 'int',
    default: 320,
    min: 0,
    max: 1_000_000,
    doc: "Episodes kept for off-policy reuse, sampled batchSize at a time (paper Table 4: 320, i.e. the last 10 rounds of 32; released code: 1000); 0 = on-policy, train on this round's episodes.",
  },
  batchSize: {
    type: 'int',
    default: 32,
    min: 1,
    max: 100_000,
    doc: 'Episodes drawn uniformly without replacement from the buffer per update when bufferSize > 0 (paper and code: 32).',
  },
  // F2A2's COMA on MPE (shared/specs/f2a2.md §4.2): Adam 1e-3, several updates per round on the
  // most recent timesteps (bufferSize = batchSize = 1024 / episode length).
  updatesPerRound: { type: 'int', default: 1, min: 1, max: 10_000, doc: 'Critic-actor updates per round, each on its own draw from the buffer (Manitokan paper and code: 1; F2A2 on MPE: 4 per 100 env steps).' },
  optimizer: { type: 'enum', default: 'rmsprop', values: ['rmsprop', 'adam'], doc: 'Optimiser of actor and critic (Manitokan paper and code: RMSprop; F2A2 appendix G on MPE: Adam).' },
  actorLoss: {
    type: 'enum',
    default: 'closed-form',
    values: ['closed-form', 'taped'],
    doc:
      "The actor's loss: closed-form = the masked (epsilon-floored) log-softmax, baseline, advantage and the loss's gradient w.r.t. the logits in one CPU pass " +
      '(coma-actor-loss.ts); taped = the same mathematics as tfjs ops on the tape (the path before issue 15; other float rounding).',
  },
  actorHelperShare: {
    type: 'float',
    default: 0.3,
    min: 0,
    max: 0.9,
    doc:
      "For a batch the rollout's trace does not serve (a sampled one, bufferSize > 0; on-policy, updatesPerRound's second and later): the share of its episodes " +
      "whose actor gradient is computed as a second part, added to the first part's " +
      "(coma-actor-part.ts). The critic's helper computes that part after its critic update when it runs (updateThreads 2 or auto's choice), else this thread " +
      'does, with the same code: the same bits on 1, 2 and auto threads. Pays on two threads (~0.3 balances them at the paper\'s sizes), costs nothing on one. ' +
      'The same gradient as one pass, other float rounding (docs/performance.md, issue-15c); 0 = one pass, the reference path (bit for bit the one before the split).',
  },
  updateThreads: {
    type: 'enum',
    default: 'auto',
    values: ['auto', '1', '2'],
    doc:
      "Threads for the update: 2 runs the critic's update (targets, forward, backward, optimiser step) on a helper thread beside the actor's " +
      '(same results, bit for bit); pays only when a core is free. auto: the host (CLI, app) decides per run, between rounds, from ' +
      "its cores, its live runs and the load average, and logs the choice; 1 where nothing decides (tests, bench).",
  },
} as const satisfies Schema;

/** The resolved hyperparameters, typed from the schema. */
type ComaConfig = Values<typeof comaSchema>;

function parseConfig(values: Values): ComaConfig {
  return typedValues('algo', comaSchema, values);
}

// ================================================================= pure pieces (exported for tests)

export { buildCriticInputs, criticInputSize, type CriticLayout };
export { comaCriticTargets } from './coma-critic-step';

export { comaActorLoss, comaActorLossClosedForm, counterfactualAdvantage, type ActorLossWork } from './coma-actor-loss';


// ================================================================= networks

function makeCritic(tf: Tf, params: ParamSet, spec: EnvSpec, cfg: ComaConfig, F: number, rng: Rng): Mlp {
  const H = cfg.criticHiddenDim;
  return new Mlp(tf, params, 'critic', [F, H, H, spec.numActions], cfg.activation, 1, rng);
}

// ================================================================= trainer

class ComaTrainer implements Trainer {
  private readonly tf: Tf;
  private readonly cfg: ComaConfig;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly L: number;
  private readonly O: number;
  private readonly E: number;
  private readonly S: number;
  private readonly F: number;
  private readonly H: number;
  private readonly layout: CriticLayout;
  /** The most copies in one batch (the rollout's, or the sample's). */
  private readonly maxB: number;

  private readonly actor: RecurrentActor;
  private readonly criticParams: ParamSet;
  private readonly critic: Mlp;
  private readonly targetParams: ParamSet;
  private readonly target: Mlp;
  private readonly actorOpt: Optimizer;
  private readonly criticOpt: Optimizer;

  private readonly roll: EpisodeBatch;
  private readonly sampled: EpisodeBatch | null;
  private readonly buffer: EpisodeBuffer | null;
  private readonly rollout: LockstepRollout;
  private readonly valid: Uint8Array; //      [L][B] rollout validity (the rollout's)
  private readonly frozen: Float32Array; //   [N][B][envObs] first env observation
  private readonly trace: GruTrace;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly xFinal: Float32Array;
  private readonly probs: Float64Array;
  // Update workspaces, sized for the largest batch.
  private readonly feats: Float32Array; //    critic inputs [L+1][N][maxB][F]
  private readonly qPre: Float32Array; //     pre-update Q [L][N][maxB][A]
  private readonly stage: Float32Array; //    group-major actor inputs
  private readonly stageA: Float32Array; //   group-major avail
  private readonly stageQ: Float32Array; //   group-major Q
  private readonly stageI: Int32Array; //     group-major actions
  private readonly stageM: Float32Array; //   group-major masks
  private readonly actorWork: ActorLossWork; // the actor loss's CPU pass, both parts of a split
  private readonly criticWork: ComaCriticWork;
  private readonly masks: Float32Array; //    valid agent-steps [L][N][maxB]
  /** The critic's helper thread (updateThreads 2 or auto's hint), started at the first update. */
  private readonly helper = new UpdateHelper<ComaCriticThread>('coma');
  /**
   * The target's parameters equal the critic's (copied, no critic step since): then its Q is
   * the critic's and one forward serves both. Not checkpointed: false after a load, which only
   * costs that round the second forward (the values are the same either way).
   */
  private targetInSync = true;

  // Counters (checkpointed).
  private tEnv = 0;
  private updates = 0;
  private criticSteps = 0;
  private readonly targetSchedule: TargetSchedule;

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
    this.O = spec.obsSize;
    this.E = spec.envObsSize;
    this.S = cfg.criticInput === 'centralised' ? spec.stateSize : 0;
    this.H = cfg.hiddenDim;
    this.layout = {
      mode: cfg.criticInput,
      lastActions: cfg.criticLastActions,
      numAgents: this.N,
      numActions: this.A,
      envObsSize: this.E,
      stateSize: this.S,
    };
    this.F = criticInputSize(this.layout);
    const { N, B, A, L, H, O, E, S, F } = this;

    // Initialisation order (actor, critic, target) is part of what the seed determines.
    this.actor = new RecurrentActor(tf, spec, cfg, 1, ctx.rng);
    this.criticParams = new ParamSet(tf);
    this.critic = makeCritic(tf, this.criticParams, spec, cfg, F, ctx.rng);
    this.targetParams = new ParamSet(tf, false);
    this.target = makeCritic(tf, this.targetParams, spec, cfg, F, ctx.rng);
    this.targetParams.copyFrom(this.criticParams);
    this.targetSchedule = new TargetSchedule(tf, this.targetParams, this.criticParams, hardCopyRule(cfg));
    const opt = (params: ParamSet, lr: number): Optimizer =>
      cfg.optimizer === 'adam' ? new Adam(tf, params, { lr }) : new RMSprop(tf, params, { lr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });
    this.actorOpt = opt(this.actor.params, cfg.lr);
    this.criticOpt = opt(this.criticParams, cfg.criticLr);

    this.roll = new EpisodeBatch(L, B, N, O, E, A, S);
    this.buffer = cfg.bufferSize > 0 ? new EpisodeBuffer(cfg.bufferSize) : null;
    const maxSample = Math.min(cfg.batchSize, cfg.bufferSize);
    this.sampled = this.buffer ? new EpisodeBatch(L, maxSample, N, O, E, A, S) : null;
    const maxB = Math.max(B, this.sampled ? maxSample : 0);
    this.maxB = maxB;
    const rows = N * B;
    this.rollout = new LockstepRollout(ctx.env, ctx.seed, L);
    this.valid = this.rollout.valid;
    this.frozen = new Float32Array(rows * E);
    this.trace = new GruTrace(L, rows, H);
    this.hA = new Float32Array(rows * H);
    this.hB = new Float32Array(rows * H);
    this.xFinal = new Float32Array(rows * O);
    this.probs = new Float64Array(A);
    const R = L * N * maxB;
    this.feats = new Float32Array((L + 1) * N * maxB * F);
    this.qPre = new Float32Array(R * A);
    this.stage = new Float32Array(R * O);
    this.stageA = new Float32Array(R * A);
    this.stageQ = new Float32Array(R * A);
    this.stageI = new Int32Array(R);
    this.stageM = new Float32Array(R);
    this.actorWork = actorLossWork(R, A);
    this.criticWork = new ComaCriticWork((L + 1) * N * maxB, A);
    this.masks = new Float32Array(R);
  }

  async round(): Promise<RoundResult> {
    const { cfg, N, B, A, O, E, S } = this;
    const env = this.ctx.env;
    const rng = this.ctx.rng;
    const rows = N * B;
    const d = this.roll;
    const eps = epsilonAt(cfg, this.tEnv);

    // ---------------------------------------------------------------- rollout
    const ro = this.rollout;
    const live = this.valid;
    ro.begin();
    this.hA.fill(0);
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const src = (b * N + a) * O;
        this.frozen.set(env.obs.subarray(src, src + E), (a * B + b) * E);
      }
    }
    const frozen = cfg.observation === 'frozen-initial' ? this.frozen : null;
    /** Final observation and state of copy b into slot `slot` (fresh in both observation modes). */
    const putFinal = (b: number, slot: number) => {
      for (let a = 0; a < N; a++) {
        const src = (b * N + a) * O;
        d.cobs.set(env.obs.subarray(src, src + E), ((slot * N + a) * B + b) * E);
      }
      if (S > 0) d.states.set(env.state.subarray(b * S, (b + 1) * S), (slot * B + b) * S);
    };
    let entSum = 0;
    let entCount = 0;
    const { T, envSteps, episodes } = ro.run({
      act: (t) => {
        const x = d.xs.subarray(t * rows * O, (t + 1) * rows * O);
        actorInput(env.obs, N, B, O, E, frozen, x);
        for (let b = 0; b < B; b++) {
          if (!live[t * B + b]) continue;
          for (let a = 0; a < N; a++) {
            const r = a * B + b;
            d.cobs.set(x.subarray(r * O, r * O + E), (t * rows + r) * E);
          }
          if (S > 0) d.states.set(env.state.subarray(b * S, (b + 1) * S), (t * B + b) * S);
        }
        // The trace serves only an on-policy update (a sampled batch recomputes its forward):
        // with a buffer, recording it would copy five [rows][H] arrays per step for nothing.
        const logits = this.actor.stepLogits(x, this.hA, this.hB, this.buffer ? undefined : this.trace, t);
        [this.hA, this.hB] = [this.hB, this.hA];
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const r = a * B + b; // row in [agent][copy] order
            const mOff = (t * rows + r) * A;
            if (!live[t * B + b]) {
              d.acts[t * rows + r] = 0;
              d.avail.fill(1, mOff, mOff + A); // keeps the masked log-softmax finite; weight 0
              ro.actions[b * N + a] = 0;
              continue;
            }
            const envRow = (b * N + a) * A;
            for (let k = 0; k < A; k++) d.avail[mOff + k] = env.actionMask[envRow + k];
            maskedProbs(logits, r * A, env.actionMask, envRow, A, eps, this.probs, 0);
            const act = sampleIndex(this.probs, 0, A, rng);
            entSum += entropy(this.probs, 0, A);
            entCount++;
            d.acts[t * rows + r] = act;
            ro.actions[b * N + a] = act;
          }
        }
      },
      observe: (t) => {
        for (let b = 0; b < B; b++) {
          for (let a = 0; a < N; a++) d.rews[t * rows + a * B + b] = live[t * B + b] ? env.rewards[b * N + a] : 0;
          if (live[t * B + b]) continue;
          // Padding repeats the final observation and state.
          for (let a = 0; a < N; a++) {
            const s = (t * N + a) * B + b;
            d.cobs.copyWithin((s + rows) * E, s * E, (s + 1) * E);
          }
          if (S > 0) d.states.copyWithin(((t + 1) * B + b) * S, (t * B + b) * S, (t * B + b + 1) * S);
        }
      },
      onEnd: putFinal,
    });
    d.endStep.set(ro.endStep);
    d.endTrunc.set(ro.endTrunc);
    // The action at every copy's final observation: slot T, and the slot after its last step.
    {
      actorInput(env.obs, N, B, O, E, frozen, this.xFinal);
      const logits = this.actor.stepLogits(this.xFinal, this.hA, this.hB);
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const r = a * B + b;
          const envRow = (b * N + a) * A;
          const ok = maskedProbs(logits, r * A, env.actionMask, envRow, A, eps, this.probs, 0);
          const act = ok ? sampleIndex(this.probs, 0, A, rng) : 0;
          d.acts[T * rows + r] = act;
          d.acts[(d.endStep[b] + 1) * rows + r] = act;
        }
      }
    }
    d.B = B;
    d.T = T;
    this.trace.steps = T;
    this.tEnv += T;

    // ---------------------------------------------------------------- data
    if (this.buffer && this.sampled) this.buffer.insert(d);
    let stats: Record<string, number> = {};
    for (let u = 0; u < cfg.updatesPerRound; u++) {
      let data = d;
      // The rollout trace matches only the first update's weights on this round's episodes.
      let trace: GruTrace | undefined = u === 0 ? this.trace : undefined;
      if (this.buffer && this.sampled) {
        this.buffer.sample(Math.min(cfg.batchSize, this.buffer.count), rng, this.sampled);
        data = this.sampled;
        trace = undefined; // other weights or other episodes: the sequence op recomputes
      }
      stats = await this.update(data, trace, eps);
    }
    stats['charts/entropy'] = entCount > 0 ? entSum / entCount : 0;
    stats['charts/epsilon'] = eps;
    return { episodes, envSteps, stats };
  }

  /** The helper thread for the critic's update, or null for one thread (as PpoTrainer's). */
  private criticThread(): ComaCriticThread | null {
    const { cfg, N, L, maxB } = this;
    return this.helper.now(cfg.updateThreads, comaCriticThreadFactory(), () => ({
      sizes: this.critic.sizes,
      activation: cfg.activation,
      optimizer: cfg.optimizer,
      lr: cfg.criticLr,
      rmspropAlpha: cfg.rmspropAlpha,
      rmspropEps: cfg.rmspropEps,
      maxRows: L * N * maxB,
      maxSlots: (L + 1) * N * maxB,
      // The actor's replica only where a batch can split (comaActorSplit: no rollout trace).
      actor: cfg.actorHelperShare > 0 && (cfg.bufferSize > 0 || cfg.updatesPerRound > 1) ? { obsSize: this.O, numActions: this.A, hiddenDim: cfg.hiddenDim, activation: cfg.activation, gruGates: cfg.gruGates } : undefined,
    }));
  }

  /**
   * The pre-update Q of a batch whose critic update runs on the helper: the helper's, if it has
   * published it; if not (its core is busy: the machine is loaded), this thread's own forward
   * over the same rows with the same (pre-update) parameters, on the tape-free batch path where
   * that forward is the very one the helper runs (coma-critic.ts forwardRows: a row's Q does
   * not depend on the rows beside it), so the bits are the same whichever thread computed them;
   * otherwise (per-step updates, the taped critic) it waits for the helper.
   */
  private helperQ(call: ComaCriticCall, d: EpisodeBatch): Float32Array {
    const ready = call.tryQ();
    if (ready) return ready;
    if (this.cfg.criticUpdate !== 'batch' || !explicitCriticApplies(this.critic)) return call.q();
    const { tf, F, A } = this;
    const R = d.T * this.N * d.B;
    const feats = this.feats.subarray(0, (d.T + 1) * this.N * d.B * F);
    buildCriticInputs(this.layout, d.T + 1, d.B, d.cobs, d.states, d.acts, feats);
    const fw = forwardRows(tf, this.critic, feats, F, 0, R, this.criticWork);
    disposePass(fw.pass);
    return fw.q.subarray(0, R * A);
  }


  /** Critic, actor and target updates on one batch; returns the update statistics. */
  private async update(d: EpisodeBatch, trace: GruTrace | undefined, eps: number): Promise<Record<string, number>> {
    const { tf, cfg, N, A, O } = this;
    const { T, B } = d;
    const R = T * N * B;

    // ---------------------------------------------------------------- critic update
    // Its targets, steps and the pre-update Q the actor's baseline reads (coma-critic-step.ts):
    // here, or on the helper thread while the actor's update runs below.
    const settings: ComaCriticSettings = {
      layout: this.layout,
      bootstrap: cfg.criticBootstrap,
      reward: cfg.reward,
      gamma: cfg.gamma,
      lambda: cfg.tdLambda,
      criticUpdate: cfg.criticUpdate,
      criticGradClip: cfg.criticGradClip,
    };
    const thread = this.criticThread();
    const masks = comaValidMasks(d.endStep, T, N, B, this.masks);
    let valid = 0;
    for (let i = 0; i < R; i++) valid += masks[i];
    // actorHelperShare: a batch the rollout's trace does not serve splits by copies into two
    // parts, whatever the threads (coma-actor-part.ts); part 2 goes to the helper when it runs.
    const split = comaActorSplit(cfg.actorHelperShare, B, trace !== undefined);
    const dims = { T, N, B, O, A };
    const actorSettings = { eps, count: valid, closedForm: cfg.actorLoss === 'closed-form' };
    let call: ComaCriticCall | null = null;
    let critic: ComaCriticResult | null = null;
    if (thread) {
      const state = { critic: this.criticParams.toRecords(), target: this.targetParams.toRecords(), opt: this.criticOpt.getState() };
      let actor: ComaActorJob | undefined;
      if (split) {
        const { b0 } = split;
        const n = T * N * (B - b0);
        // Fresh arrays: they are moved to the helper.
        const out = { x: new Float32Array(n * O), avail: new Float32Array(n * A), acts: new Int32Array(n), masks: new Float32Array(n) };
        actor = { b0, params: this.actor.params.toRecords(), settings: actorSettings, rows: comaActorRowsOf(d, masks, dims, b0, B, out) };
      }
      call = thread.update(state, { settings, batch: d, targetInSync: this.targetInSync, reference: comaCriticPath.reference, actor });
    } else {
      const nets = { critic: this.critic, params: this.criticParams, target: this.target, opt: this.criticOpt };
      critic = comaCriticUpdate(tf, nets, settings, d, this.targetInSync, { feats: this.feats, qPre: this.qPre, work: this.criticWork });
    }

    // ---------------------------------------------------------------- actor update
    // Part 1 (copies 0..Bm-1; all of them without a split) on this thread.
    const Bm = split ? split.b0 : B;
    const Rm = T * N * Bm;
    const stage = { x: this.stage, avail: this.stageA, acts: this.stageI, masks: this.stageM };
    const rows = comaActorRowsOf(d, masks, dims, 0, Bm, stage);
    const work = this.actorWork;
    // The critic's Q: the helper's forward ran beside the actor's (waits only if it has not
    // finished yet).
    const qOf = () => timeToGroupRange<Float32Array>(call ? this.helperQ(call, d) : this.qPre, T, N, B, A, 0, Bm, this.stageQ);
    let { value: actorLoss, grads: actorGrads } = comaActorGrads(tf, this.actor, rows, actorSettings, qOf, work, trace);
    const sums = comaActorSums(work, rows.masks, Rm, A);
    let back: Awaited<ComaCriticCall['done']> | null = null;
    if (split) {
      // Part 2: the helper's answer, or the same function here on the rows after part 1's
      // (part 1's workspace is free again: its sums are taken). Added in the same order either
      // way: loss, gradients and sums of part 1, plus part 2's.
      let part: { value: number; grads: Record<string, Tensor>; sums: ComaActorSums };
      if (call) {
        back = await call.done;
        const p = back.actor!;
        part = { value: p.loss, grads: {}, sums: p.sums };
        for (const [name, r] of Object.entries(p.grads)) part.grads[name] = tf.tensor(r.data, r.shape);
      } else {
        const rest = {
          x: this.stage.subarray(Rm * O),
          avail: this.stageA.subarray(Rm * A),
          acts: this.stageI.subarray(Rm),
          masks: this.stageM.subarray(Rm),
        };
        const rows2 = comaActorRowsOf(d, masks, dims, split.b0, B, rest);
        part = comaActorPartGrads(tf, this.actor, rows2, actorSettings, () => this.qPre, split.b0, B, { q: this.stageQ.subarray(Rm * A), work });
      }
      actorLoss += part.value;
      const summed: Record<string, Tensor> = {};
      for (const [name, g] of Object.entries(actorGrads)) {
        summed[name] = tf.add(g, part.grads[name]);
        g.dispose();
        part.grads[name].dispose();
      }
      actorGrads = summed;
      sums.bSum += part.sums.bSum;
      sums.qSum += part.sums.qSum;
      sums.aSum += part.sums.aSum;
      sums.piMax += part.sums.piMax;
    }
    const actorNorm = clipByGlobalNorm(tf, actorGrads, cfg.actorGradClip);
    this.actorOpt.step(actorGrads);
    for (const g of Object.values(actorGrads)) g.dispose();
    this.updates++;
    const { bSum, qSum, aSum, piMax } = sums;

    // ---------------------------------------------------------------- critic's state back
    if (call) {
      back ??= await call.done;
      this.criticParams.loadRecords(back.state.critic);
      this.criticOpt.setState(back.state.opt);
      critic = back.result;
    }
    const { loss: criticLoss, norm: criticNorm, steps, targetSum } = critic!;
    this.criticSteps += steps;
    if (steps > 0) this.targetInSync = false;
    this.targetSchedule.countSteps(steps);

    // ---------------------------------------------------------------- target critic
    if (this.targetSchedule.endRound()) this.targetInSync = true;

    // ---------------------------------------------------------------- log
    const mean = (s: number) => (valid > 0 ? s / valid : 0);
    return {
      'losses/actor': actorLoss,
      'losses/critic': steps > 0 ? criticLoss / steps : 0,
      'charts/counterfactual_baseline': mean(bSum),
      'charts/q_taken_mean': mean(qSum),
      'charts/advantage_mean': mean(aSum),
      'charts/target_mean': mean(targetSum),
      'charts/pi_max': mean(piMax),
      'charts/grad_norm_actor': actorNorm,
      'charts/grad_norm_critic': steps > 0 ? criticNorm / steps : 0,
    };
  }

  /** What the checkpoint helpers save and restore for every trainer. */
  private parts(): LearnerParts {
    return {
      algo: 'coma',
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'actor/': this.actor.params, 'critic/': this.criticParams, 'target/': this.targetParams },
      optimisers: { actor: this.actorOpt, critic: this.criticOpt },
    };
  }

  async save(): Promise<Checkpoint> {
    const buf = this.buffer ? this.buffer.toRecords() : null;
    return saveLearner(
      this.parts(),
      { tEnv: this.tEnv, updates: this.updates, criticSteps: this.criticSteps, ...this.targetSchedule.getState(), buffer: buf ? buf.meta : null },
      buf ? buf.tensors : {},
    );
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts());
    if (this.buffer) {
      const meta = e.buffer as { next: number; n: number[]; trunc: number[] } | null;
      if (!meta) throw new Error('coma: checkpoint has no replay buffer, but bufferSize > 0');
      this.buffer.fromRecords(ckpt.tensors, meta, { N: this.N, O: this.O, E: this.E, A: this.A, S: this.S });
    }
    this.tEnv = counter(e, 'tEnv', 'coma');
    this.updates = counter(e, 'updates', 'coma');
    this.criticSteps = counter(e, 'criticSteps', 'coma');
    this.targetSchedule.setState(e, 'coma');
    this.targetInSync = false;
  }

  dispose(): void {
    this.helper.close();
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.actor.params.dispose();
    this.criticParams.dispose();
    this.targetParams.dispose();
  }
}

// ================================================================= entry (evaluation: RecurrentActorPolicy)

export const comaEntry: AlgoEntry = {
  id: 'coma',
  title: 'COMA: counterfactual multi-agent policy gradients (Foerster et al. 2018; Malenfant & Richards 2025, Table 4)',
  schema: comaSchema,
  accepts: (spec) => envProblems(COMA_NEEDS, spec),
  createTrainer: (ctx: TrainContext) => new ComaTrainer(ctx),
  createPolicy: (ctx: PolicyContext) => {
    const cfg = parseConfig(ctx.config);
    return new RecurrentActorPolicy(ctx, cfg, 1);
  },
};
