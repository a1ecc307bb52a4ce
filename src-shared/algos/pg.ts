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
 *   rollout  one batched actor pass per step for all B x N rows (gruGates f32-simd on
 *            wasm/cpu: the whole pass in the SIMD wasm kernel, nn/gru.ts actorStep; otherwise
 *            the layers' matmuls in tfjs, the gates on the CPU, logits read back once), actions
 *            sampled on the CPU with the Rng; the GRU activations are recorded for the update.
 *   returns  actor: Monte-Carlo return of the agent's own reward, zero bootstrap;
 *            critic: TD(lambda) targets from the target critic (lambda = 1 by default; then
 *            only each copy's final observation needs a target value).
 *   update   critic first (records the baseline V), then the actor on A = R - V (detached, not
 *            normalised): loss = -sum(m A log pi) / sum(m) over valid agent-steps, full BPTT
 *            over the episode from a zero hidden state (nn/gru.ts fused op; the rollout's
 *            activations are reused because weights and inputs are the same).
 *   target   hard copy every `targetUpdate` rounds, or every `targetUpdateCriticSteps` critic
 *            steps (checked once per round, after the actor step, as the released code does).
 *   threads  `updateThreads: 2` (or `auto`'s hint from the host; one thread in tests and the
 *            bench's plain rows) runs the critics' step(s) on a helper thread beside the actor's
 *            update (pg-critic-step.ts; same bits): the actor reads the PRE-update V, which the
 *            helper publishes after its forward, so only the actor's forward waits on it and
 *            the critics' backward and RMSprop step overlap the actor's BPTT. The targets (the
 *            target critics' values) stay on this thread. With a correction term on, the round
 *            stays on one thread whatever the setting: the correction reads V (and trains the
 *            collective critics) before the actor's update, so nothing would overlap.
 *
 * Paper text vs released code (sfw3r43gegya/Manitokan @ 99ffe1e), and Cairn's defaults. The
 * `manitokan-pg*-released-code` presets switch every code value on together (the correction
 * and max-entropy presets add the last four rows where they apply).
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
 *   correctionImpl             hvp (M.2: "Pearlmutter's     released-fd: a 2x2 finite
 *                              trick")                      difference in (p, V), Psi = 1/log p
 *   correction cross           eq. 5, agent j's J_c         = self (update_order only permutes
 *                                                           agents before a total sum)
 *   correctionBaseline         collective-critic: a        full-critic: v' = V of the agent's
 *                              critic per agent trained on  full-return critic (audit, issue 8:
 *                              G_c alone (J_c = J - E[sum   V includes r_i, which J_c excludes;
 *                              r^i], eq. 2); none = option  for a second-order term the offset
 *                                                           adds roughly b F Psi, not harmless)
 *   antiCollectiveScope        collective (E.7: negate the  released-individual: anti_coop
 *                              term)                        negates only the his_disc term
 *   maxEntropySign             bonus (entropy-regularised   released-penalty: r <- r - 1e-4 H
 *                              policy)
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
 *   turn negative after 10,000 updates). The thresholds are the code's literals 0.5 and 1.5
 *   as options (`injectionIndividualReward`, `injectionCollectiveReward`): a learner does not
 *   read an env's config, so with other Manitokan rewards set them to r_i and r_i + sum r_j.
 * - per-agent actors (`actorSharing: per-agent`) are one network per agent (not the released
 *   code's iid_agents split by env copy), with one optimiser and clip over all of them.
 *
 * CORRECTION TERMS (paper §4-4.1, eq. 2-5, Theorem 1, App. P; `correction`, default none):
 * the actor's ascent direction becomes grad(PG loss) + coef * s * C, C = H(J_c) Psi by
 * `correctionImpl` hvp, or the released code's finite-difference terms (released-fd). What
 * J_c, S_a and Psi are, how they are realised and why: the header of pg-correction-grads.ts.
 * MAX-ENTROPY (§4.1, Fig. 6; `maxEntropy`): `bonus` (entropy-regularised PG loss) or the
 * released code's reward penalty: the header of pg-correction.ts.
 *
 * Speed (tiny networks are dispatch-bound, and the wasm backend is what runs here): see the
 * headers of nn/gru.ts (fused BPTT reusing the rollout's activations) and nn/mlp.ts (plain
 * matmuls only, direct kernel calls when acting). With gruGates f32-simd on wasm/cpu the actor's
 * update (nn/gru.ts ActorSequenceKernel) and the critics' steps (Mlp.forwardKernel) run their
 * matmuls in the SIMD wasm kernel, one op each (same bits on wasm; docs/performance.md). The hvp correction works on the sequences
 * that have S steps, up to the last such step. `hvpMethod` says how (issue 15):
 *   r-pass (default)  Pearlmutter's R-operator written out by hand (nn/policy-rop.ts): the
 *                     mean score g by an exact first-order BPTT on those sequences, then
 *                     R{forward} over the rollout's recorded GRU activations and R{backward}
 *                     of the BPTT, ~3 kernel calls per step (~1.1k update calls per round);
 *   taped             the reference: the GRU on the tfjs tape (recurrent-actor.ts tapeLogits)
 *                     differentiated twice by nn/hvp.ts (~35k update calls per round, 4-5x
 *                     the R-pass's round time; see docs/performance.md).
 * Both compute the same H(J_c) Psi; they differ by float rounding only (the tape in float32,
 * the R-pass in float64 over float32 buffers): the golden series of the two correction
 * presets moved by <= 1e-5 relative in correction_value and <= 4e-7 elsewhere, with identical
 * episodes (test/fixtures/golden/*-r-pass.json beside the taped originals). released-fd and
 * max-entropy cost next to nothing.
 */
import { ConfigError, type Schema, type Values, typedValues } from '../config/schema';
import { maskedLogProbs, maskedProbs, sampleIndex, entropy, entropyFromLogProbs } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { registerGradients } from '../nn/gradients';
import { registerSecondOrderGradients } from '../nn/hvp';
import { GruTrace, kernelMatmul } from '../nn/gru';
import type { Mlp } from '../nn/mlp';
import { RMSprop } from '../nn/optim';
import { ParamSet } from '../nn/params';
import { discountedReturns } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import { Rng, deriveSeed } from '../rng';
import { LockstepRollout } from './core/rollout';
import { collectiveSplit, entropyPenalty, injectRewards, releasedRewardSplit } from './pg-correction';
import { PgCorrection, addCorrection, type CorrectionPart } from './pg-correction-grads';
import { criticTargets, fitCritics, makeCritics, perAgentRows } from './pg-critics';
import { pgCriticThreadFactory, pgCriticUpdate, type PgCriticCall, type PgCriticResult, type PgCriticSettings, type PgCriticThread } from './pg-critic-step';
import { UpdateHelper } from './ppo-threads-hint';
import { counter, loadLearner, saveLearner, type LearnerParts } from './core/checkpoint';
import { TargetSchedule, hardCopyRule } from './core/target';
import { envProblems, type EnvNeeds } from './core/compat';
import { gruGatesSchema } from './recurrent-actor';

/**
 * Discrete agents; they may differ in action count and observation size (rows are padded to
 * the widest and the mask is 0 past an agent's own actions), and any observation layout: the
 * actor and critics are MLP/GRU on the flat row.
 */
const PG_NEEDS: EnvNeeds = { actions: 'discrete' };
import { RecurrentActor, RecurrentActorPolicy, kernelPaths, epsilonSchema, targetCopySchema, actorInput, epsilonAt, groupToTime, timeToGroup } from './recurrent-actor';
import type { AlgoEntry, Checkpoint, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

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
  ...epsilonSchema,
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
  ...targetCopySchema,
  ...gruGatesSchema,
  rewardInjection: {
    type: 'bool',
    default: false,
    doc: 'App. E.6 "injection": add small |normal| rewards around the first individual and collective rewards, decaying over updates (code spike_variation).',
  },
  injectionScale: { type: 'float', default: 1e-4, min: 0, doc: 'Injection scale kappa (code: policy_ent_coeff = 1e-4).', when: { field: 'rewardInjection', is: true } },
  injectionDecayUpdates: { type: 'int', default: 10_000, min: 1, doc: 'Updates over which the injection decays linearly to 0 (code: 10,000).', when: { field: 'rewardInjection', is: true } },
  injectionIndividualReward: {
    type: 'float',
    default: 0.5,
    doc: "Injection: the reward value whose first occurrence marks an individual reward (code's literal 0.5 = Manitokan's default r_i; set it to the env's r_i if you change it).",
    when: { field: 'rewardInjection', is: true },
  },
  injectionCollectiveReward: {
    type: 'float',
    default: 1.5,
    doc: "Injection: rewards >= this mark the collective payout (code's literal 1.5 = r_i + sum r_j under Manitokan's default rewards).",
    when: { field: 'rewardInjection', is: true },
  },
  correction: {
    type: 'enum',
    default: 'none',
    values: ['none', 'cross', 'self'],
    doc: "Paper §4-4.1 correction term added to the policy gradient: none; cross = eq. 5's grad_i grad_j J_c(theta_j) Psi(pi_c^j) (agent j's collective objective in episodes where agent i opened its door first); self = §4.1's grad_i grad_i J_c(theta_i) Psi(pi_c^i) (own collective objective, steps after the own door opened). See the file header for Psi and J_c.",
  },
  correctionBaseline: {
    type: 'enum',
    default: 'collective-critic',
    values: ['collective-critic', 'none', 'full-critic'],
    doc: "Baseline b in the correction's surrogate (G_c - b) log pi: collective-critic = a critic per agent trained on the collective return G_c alone (J_c excludes the individual reward, so its baseline must too); none = no baseline; full-critic = the agent's full-return critic of the PG term (released code; it adds roughly b F Psi to a second-order term).",
    when: { field: 'correction', not: 'none' },
  },
  correctionCoef: { type: 'float', default: 1, min: 0, doc: 'Scale of the correction term in the update (paper: 1, the term is simply added; released code: 1).', when: { field: 'correction', not: 'none' } },
  antiCollective: {
    type: 'bool',
    default: false,
    doc: 'App. E.7 anti-collective: minimise the correction term instead of maximising it (negate it). Only acts when correction is not none.',
    when: { field: 'correction', not: 'none' },
  },
  antiCollectiveScope: {
    type: 'enum',
    default: 'collective',
    values: ['collective', 'released-individual'],
    doc: "What antiCollective negates: collective = the correction term (paper E.7); released-individual = the released code's anti_coop: the collective term keeps its sign and the individual-reward analogue (his_disc, specs §2.4) is added with the negated sign.",
    when: [{ field: 'correction', not: 'none' }, { field: 'antiCollective', is: true }],
  },
  correctionStart: { type: 'int', default: 1, min: 1, doc: 'First update (1-based) at which the correction term is active (released code kick_in: 1 = from the first update).', when: { field: 'correction', not: 'none' } },
  correctionImpl: {
    type: 'enum',
    default: 'hvp',
    values: ['hvp', 'released-fd'],
    doc: "hvp: Hessian-vector product through the GRU policy by double backprop (paper M.2, Pearlmutter's trick); released-fd: the released code's 2x2 finite difference in (p, V) with Psi = 1/log p at collective-reward steps (specs §2.1; there cross = self).",
    when: { field: 'correction', not: 'none' },
  },
  hvpMethod: {
    type: 'enum',
    default: 'r-pass',
    values: ['r-pass', 'taped'],
    doc: "hvp only: how the Hessian-vector product is computed. r-pass: Pearlmutter's R-operator by hand through input layer, GRU, head and log-softmax (nn/policy-rop.ts; exact, ~3 kernel calls per step); taped: double backprop on the tfjs tape (nn/hvp.ts; the reference, ~35k kernel calls per round). Same mathematics; the results differ by float rounding only.",
    when: [{ field: 'correction', not: 'none' }, { field: 'correctionImpl', is: 'hvp' }],
  },
  psiDamping: {
    type: 'float',
    default: 0,
    min: 0,
    doc: "hvp only: Tikhonov damping lambda of Psi = g / (|g|^2 + lambda), g = mean score of the collective sub-policy (0 = the exact pseudo-inverse, the paper's 'reciprocal'; not in the paper).",
    when: [{ field: 'correction', not: 'none' }, { field: 'correctionImpl', is: 'hvp' }],
  },
  maxEntropy: { type: 'bool', default: false, doc: 'Max-entropy PG (paper §4.1, Fig. 6; released code entropy_method=max).' },
  entropyCoef: { type: 'float', default: 1e-4, min: 0, doc: 'Entropy coefficient alpha (paper: no value given; released code policy_ent_coeff 1e-4).', when: { field: 'maxEntropy', is: true } },
  maxEntropySign: {
    type: 'enum',
    default: 'bonus',
    values: ['bonus', 'released-penalty'],
    doc: "bonus: entropy-regularised PG, the policy loss gets - alpha * mean H(pi(.|o_t)) over valid steps (raises the entropy where the agents go); released-penalty: the released code's r <- r - alpha H (H detached, before the critic targets and the returns), which penalises entropy.",
    when: { field: 'maxEntropy', is: true },
  },
  updateThreads: {
    type: 'enum',
    default: 'auto',
    values: ['auto', '1', '2'],
    doc:
      "Threads for the update: 2 runs the critics' step (forward, backward, optimiser step) on a helper thread beside the actor's update " +
      '(same results, bit for bit); pays only when a core is free. One thread whenever a correction term is on (it reads the baseline before the actor\'s update). ' +
      'auto: the host (CLI, app) decides per run, between rounds, from its cores, its live runs and the load average, and logs the choice; 1 where nothing decides (tests, bench).',
  },
} as const satisfies Schema;

/** The resolved hyperparameters, typed from the schema. */
export type PgConfig = Values<typeof pgSchema>;

function parseConfig(values: Values): PgConfig {
  return typedValues('algo', pgSchema, values);
}

export {
  collectiveSplit,
  correctionSteps,
  entropyPenalty,
  injectRewards,
  releasedFdTerm,
  releasedRewardSplit,
  RELEASED_FD_EPS,
} from './pg-correction';

/** Stream tag of the collective critics' initialisation (ASCII "coll"). */
const COLLECTIVE_STREAM = 0x636f6c6c;

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

  private readonly actor: RecurrentActor;
  private readonly criticParams: ParamSet;
  private readonly critics: Mlp[];
  private readonly targetParams: ParamSet;
  private readonly targets: Mlp[];
  private readonly actorOpt: RMSprop;
  private readonly criticOpt: RMSprop;
  /** Critics of the collective return G_c alone (the correction's baseline), when used. */
  private readonly collParams: ParamSet | null;
  private readonly collCritics: Mlp[] | null;
  private readonly collOpt: RMSprop | null;

  // Rollout storage, time-major [t][agent][copy][...], sized for the episode limit.
  private readonly xs: Float32Array; //        actor inputs [L][N][B][obs]
  private readonly cobs: Float32Array; //      critic inputs [L+1][N][B][envObs]
  private readonly avail: Float32Array; //     action masks [L][N][B][A]
  private readonly acts: Int32Array; //        actions [L][N][B]
  private readonly rews: Float32Array; //      rewards [L][N][B]
  private readonly ents: Float32Array; //      behaviour entropy [L][N][B]
  private readonly pTaken: Float32Array; //    behaviour probability of the taken action [L][N][B]
  private readonly rollout: LockstepRollout;
  private readonly valid: Uint8Array; //       [L][B] (the rollout's)
  private readonly endStep: Int32Array; //     [B] step on which the copy's episode ended (the rollout's)
  private readonly endTrunc: Uint8Array; //    [B] ...by the time limit (the rollout's)
  private readonly frozen: Float32Array; //    [N][B][envObs] first env observation
  private readonly trace: GruTrace;
  /** The correction terms (pg-correction-grads.ts), reading the storage above. */
  private readonly correction: PgCorrection;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly probs: Float64Array;
  private readonly stage: Float32Array; //     group-major staging for uploads

  // Counters (checkpointed).
  private tEnv = 0;
  private updates = 0;

  /** The critics' training passes in the wasm kernel (Mlp.forwardKernel): with the actor's matmuls. */
  private get criticKernel(): boolean {
    return kernelPaths.critics && kernelMatmul(this.tf, this.cfg.gruGates);
  }

  private criticSteps = 0;
  private readonly target: TargetSchedule;
  /** The critics' helper thread (updateThreads 2 or auto's hint), started at the first update. */
  private readonly helper = new UpdateHelper<PgCriticThread>('pg');
  private readonly baseline: Float32Array; //  pre-update V [L][N][B]

  constructor(private readonly ctx: TrainContext) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    const cfg = parseConfig(ctx.config);
    this.cfg = cfg;
    const spec = ctx.env.spec;
    if (cfg.correction === 'cross' && cfg.correctionImpl === 'hvp' && cfg.actorSharing === 'per-agent') {
      throw new ConfigError(
        'algo.correction',
        "'self' or 'none' with per-agent actors: the cross term grad_i grad_j J_c(theta_j) of independent learners is zero when theta_i and theta_j are separate networks (it needs the shared actor)",
        'cross',
      );
    }
    if (cfg.correction !== 'none' && cfg.correctionImpl === 'hvp' && cfg.hvpMethod === 'taped') registerSecondOrderGradients(tf);
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.L = spec.episodeLimit;
    this.obsSize = spec.obsSize;
    this.envObs = spec.envObsSize;
    this.H = cfg.hiddenDim;
    const { N, B, A, L, H } = this;

    // Initialisation order (actor, critic) is part of what the seed determines.
    this.actor = new RecurrentActor(tf, spec, cfg, cfg.actorSharing === 'shared' ? 1 : N, ctx.rng);
    this.criticParams = new ParamSet(tf);
    this.critics = makeCritics(tf, this.criticParams, spec, cfg, ctx.rng);
    this.targetParams = new ParamSet(tf, false);
    this.targets = makeCritics(tf, this.targetParams, spec, cfg, ctx.rng);
    this.targetParams.copyFrom(this.criticParams);
    this.target = new TargetSchedule(tf, this.targetParams, this.criticParams, hardCopyRule(cfg));
    this.actorOpt = new RMSprop(tf, this.actor.params, { lr: cfg.lr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });
    this.criticOpt = new RMSprop(tf, this.criticParams, { lr: cfg.criticLr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });
    // Initialised from its own stream (seed, COLLECTIVE_STREAM): the run's Rng, and so every
    // rollout, stays what it is without this critic (the correction only changes the update).
    if (cfg.correction !== 'none' && cfg.correctionBaseline === 'collective-critic') {
      this.collParams = new ParamSet(tf);
      this.collCritics = makeCritics(tf, this.collParams, spec, cfg, new Rng(deriveSeed(ctx.seed, COLLECTIVE_STREAM)));
      this.collOpt = new RMSprop(tf, this.collParams, { lr: cfg.criticLr, alpha: cfg.rmspropAlpha, eps: cfg.rmspropEps });
    } else {
      this.collParams = null;
      this.collCritics = null;
      this.collOpt = null;
    }

    const rows = N * B;
    this.xs = new Float32Array(L * rows * this.obsSize);
    this.cobs = new Float32Array((L + 1) * rows * this.envObs);
    this.avail = new Float32Array(L * rows * A);
    this.acts = new Int32Array(L * rows);
    this.rews = new Float32Array(L * rows);
    this.ents = new Float32Array(L * rows);
    this.pTaken = new Float32Array(L * rows);
    this.rollout = new LockstepRollout(ctx.env, ctx.seed, L);
    this.valid = this.rollout.valid;
    this.endStep = this.rollout.endStep;
    this.endTrunc = this.rollout.endTrunc;
    this.frozen = new Float32Array(rows * this.envObs);
    this.trace = new GruTrace(L, rows, H);
    this.hA = new Float32Array(rows * H);
    this.hB = new Float32Array(rows * H);
    this.probs = new Float64Array(A);
    this.stage = new Float32Array((L + 1) * rows * Math.max(this.obsSize, this.envObs, A));
    this.baseline = new Float32Array(L * rows);
    const { obsSize, actor, trace, xs, avail, acts, rews, pTaken, endStep, endTrunc } = this;
    this.correction = new PgCorrection({ tf, cfg, N, B, A, obsSize, actor, trace, xs, avail, acts, rews, pTaken, endStep, endTrunc });
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
    let entSum = 0;
    let entCount = 0;
    /** Copy b's final observation (fresh in both observation modes) into critic slot `slot`. */
    const putFinal = (b: number, slot: number) => {
      for (let a = 0; a < N; a++) {
        const src = (b * N + a) * O;
        this.cobs.set(env.obs.subarray(src, src + E), ((slot * N + a) * B + b) * E);
      }
    };
    const { T, envSteps, episodes } = ro.run({
      act: (t) => {
        const x = this.xs.subarray(t * rows * O, (t + 1) * rows * O);
        actorInput(env.obs, N, B, O, E, frozen, x);
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            if (!live[t * B + b]) continue;
            const dst = ((t * N + a) * B + b) * E;
            if (frozen) this.cobs.set(frozen.subarray((a * B + b) * E, (a * B + b + 1) * E), dst);
            else this.cobs.set(x.subarray((a * B + b) * O, (a * B + b) * O + E), dst);
          }
        }
        // The values, not a tensor: the kernel's actor step (gruGates f32-simd) needs no upload.
        const logits = this.actor.stepLogits(x, this.hA, this.hB, this.trace, t);
        [this.hA, this.hB] = [this.hB, this.hA];
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const r = a * B + b; // row in [agent][copy] order
            const mOff = ((t * N + a) * B + b) * A;
            if (!live[t * B + b]) {
              this.acts[t * rows + r] = 0;
              this.ents[t * rows + r] = 0;
              this.pTaken[t * rows + r] = 1;
              this.avail.fill(1, mOff, mOff + A); // keeps the masked log-softmax finite; weight 0
              ro.actions[b * N + a] = 0;
              continue;
            }
            const envRow = (b * N + a) * A;
            for (let k = 0; k < A; k++) this.avail[mOff + k] = env.actionMask[envRow + k];
            maskedProbs(logits, r * A, env.actionMask, envRow, A, eps, this.probs, 0);
            const act = sampleIndex(this.probs, 0, A, rng);
            const ent = entropy(this.probs, 0, A);
            entSum += ent;
            this.ents[t * rows + r] = ent;
            this.pTaken[t * rows + r] = this.probs[act];
            entCount++;
            this.acts[t * rows + r] = act;
            ro.actions[b * N + a] = act;
          }
        }
      },
      observe: (t) => {
        for (let b = 0; b < B; b++) {
          for (let a = 0; a < N; a++) this.rews[t * rows + a * B + b] = env.rewards[b * N + a];
          if (live[t * B + b]) continue;
          // Padding repeats the final observation.
          for (let a = 0; a < N; a++) {
            const s = (t * N + a) * B + b;
            this.cobs.copyWithin((s + rows) * E, s * E, (s + 1) * E);
          }
        }
      },
      onEnd: putFinal,
    });
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
      const d = Math.max(0, 1 - this.updates / cfg.injectionDecayUpdates);
      injectRewards(rewards, T, N, B, cfg.injectionIndividualReward, cfg.injectionCollectiveReward, d, cfg.injectionScale, L, rng);
    }
    // Correction terms (see the header): active from update `correctionStart` on (1-based).
    const corrOn = cfg.correction !== 'none' && this.updates + 1 >= cfg.correctionStart;
    const releasedIndividual = corrOn && cfg.antiCollective && cfg.antiCollectiveScope === 'released-individual';
    const releasedCollective = corrOn && cfg.correctionImpl === 'released-fd';
    // The released code splits the (injected) rewards at 1.0 before its entropy adjustment.
    const split = releasedCollective || releasedIndividual ? releasedRewardSplit(rewards) : null;
    if (cfg.maxEntropy && cfg.maxEntropySign === 'released-penalty') {
      entropyPenalty(rewards, this.ents.subarray(0, T * M), masks, cfg.entropyCoef, split);
    }
    const { cobs, endStep, endTrunc, stage } = this;
    const targets = criticTargets(tf, this.targets, cfg, { cobs, endStep, endTrunc, stage }, rewards, masks, T, N, B, E);
    const returns = discountedReturns(rewards, masks, T, M, cfg.gamma);

    // ---------------------------------------------------------------- critic update
    // Its step(s) and the pre-update V the actor's baseline reads (pg-critic-step.ts): here, or
    // on the helper thread while the actor's update runs below (not with a correction term: it
    // reads the baseline before the actor's update).
    const settings: PgCriticSettings = { criticUpdate: cfg.criticUpdate, criticGradClip: cfg.criticGradClip, kernel: this.criticKernel };
    const batch = { T, N, B, E, cobs, targets, masks };
    const thread = this.criticThread(cfg.correction !== 'none');
    let call: PgCriticCall | null = null;
    let critic: PgCriticResult | null = null;
    let baseline: Float32Array | null = null;
    if (thread) {
      call = thread.update({ critic: this.criticParams.toRecords(), opt: this.criticOpt.getState() }, { settings, batch });
    } else {
      critic = pgCriticUpdate(tf, { params: this.criticParams, critics: this.critics, opt: this.criticOpt }, settings, batch, this.stage, this.baseline);
      baseline = this.baseline.subarray(0, T * M);
    }
    /** V: the helper's once its forward is done (waits only if it is not yet), or this thread's. */
    const baselineOf = (): Float32Array => {
      if (!baseline) {
        this.baseline.set(call!.values());
        baseline = this.baseline.subarray(0, T * M);
      }
      return baseline;
    };

    // ---------------------------------------------------------------- correction baseline
    // The baseline b of the correction's (G_c - b): see `correctionBaseline` and the header.
    const collStats: Record<string, number> = {};
    // Read only with a correction term, which keeps the round on one thread (V is known here).
    let corrBaseline = cfg.correction !== 'none' ? baselineOf() : this.baseline;
    if (cfg.correction !== 'none' && cfg.correctionBaseline !== 'full-critic') {
      corrBaseline = new Float32Array(T * M);
      if (this.collCritics) {
        const { collective } = collectiveSplit(this.rews.subarray(0, T * M), masks, this.endStep, this.endTrunc, T, N, B);
        const Gc = discountedReturns(collective, masks, T, M, cfg.gamma);
        const { loss, values: vc } = this.trainCollectiveCritic(T, masks, Gc);
        corrBaseline.set(vc);
        let sum = 0;
        let n = 0;
        for (let i = 0; i < T * M; i++) {
          sum += masks[i] * vc[i];
          n += masks[i];
        }
        collStats['losses/collective_critic'] = loss;
        collStats['charts/collective_value_mean'] = n > 0 ? sum / n : 0;
      }
    }

    // ---------------------------------------------------------------- actor update
    let valid = 0;
    for (let i = 0; i < T * M; i++) valid += masks[i] ? 1 : 0;
    let vSum = 0;
    let advSum = 0;
    /**
     * Loss = -sum(c * log pi) with c = onehot(action) * m * A / sum(m), built on the CPU once V
     * is known: called inside the tape after the actor's forward, so that a helper's forward
     * runs beside this thread's.
     */
    const coefOf = (): Float32Array => {
      const v = baselineOf();
      for (let i = 0; i < T * M; i++) {
        if (!masks[i]) continue;
        vSum += v[i];
        advSum += returns[i] - v[i];
      }
      const coef = new Float32Array(T * M * A);
      for (let t = 0; t < T; t++) {
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const i = t * M + a * B + b;
            if (!masks[i]) continue;
            const g = (a * T + t) * B + b; // group-major row
            coef[g * A + this.acts[i]] = (returns[i] - v[i]) / valid;
          }
        }
      }
      return coef;
    };
    const rowsAll = (N * T * B) / G;
    const entropyBonus = cfg.maxEntropy && cfg.maxEntropySign === 'bonus' && cfg.entropyCoef > 0;
    const X = tf.tensor3d(timeToGroup(this.xs, T, N, B, O, this.stage), [G, rowsAll, O]);
    const avail = tf.tensor3d(timeToGroup(this.avail, T, N, B, A, new Float32Array(T * M * A)), [G, rowsAll, A]);
    const { value: actorLoss, grads: actorGrads } = tf.tidy(() => {
      // Max-entropy bonus: - alpha sum(m H(pi(.|o_t))) / sum(m), the entropy's direct gradient.
      const entW = entropyBonus
        ? tf.tensor2d(timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)).map((m) => (m * cfg.entropyCoef) / valid), [G, rowsAll])
        : null;
      const res = this.actor.params.grads(() => {
        const logp = maskedLogProbs(tf, this.actor.sequenceLogits(X, N, T, B, this.trace), avail, eps);
        const C = tf.tensor3d(coefOf(), [G, rowsAll, A]);
        const pg = tf.neg(tf.sum(tf.mul(C, logp)));
        if (!entW) return pg as never;
        return tf.sub(pg, tf.sum(tf.mul(entW, entropyFromLogProbs(tf, logp, avail)))) as never;
      });
      return res as never; // tidy keeps tensors found in the returned object (the gradients)
    }) as { value: number; grads: Record<string, Tensor> };
    let corrStats: Record<string, number> = {};
    if (cfg.correction !== 'none') {
      // Gradients of the correction's share of the loss (minus the term it ascends).
      const parts: CorrectionPart[] = [];
      if (corrOn && cfg.correctionImpl === 'hvp') {
        const h = this.correction.hvp(X, avail, T, masks, corrBaseline, eps);
        if (h) parts.push(h);
      }
      if (releasedCollective || releasedIndividual) {
        parts.push(this.correction.released(X, avail, T, masks, baselineOf(), corrBaseline, split!, releasedCollective, releasedIndividual, eps, valid));
      }
      corrStats = addCorrection(tf, actorGrads, parts);
    }
    X.dispose();
    avail.dispose();
    const actorNorm = clipByGlobalNorm(tf, actorGrads, cfg.actorGradClip);
    this.actorOpt.step(actorGrads);
    for (const g of Object.values(actorGrads)) g.dispose();
    this.updates++;

    // ---------------------------------------------------------------- critics' state back
    if (call) {
      const back = await call.done;
      this.criticParams.loadRecords(back.state.critic);
      this.criticOpt.setState(back.state.opt);
      critic = back.result;
    }
    const { loss: criticLoss, norm: criticNorm, steps } = critic!;
    this.criticSteps += steps;
    this.target.countSteps(steps);

    // ---------------------------------------------------------------- target critic
    this.target.endRound();

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
        ...corrStats,
        ...collStats,
      },
    };
  }

  /**
   * The helper thread for the critics' step, or null for one thread (as COMA's). `single`: the
   * round needs one thread whatever the setting (a correction term reads V before the actor).
   */
  private criticThread(single: boolean): PgCriticThread | null {
    const { cfg, N, B, L } = this;
    return this.helper.now(
      cfg.updateThreads,
      pgCriticThreadFactory(),
      () => ({ numAgents: N, sizes: this.critics[0].sizes, activation: cfg.activation, lr: cfg.criticLr, rmspropAlpha: cfg.rmspropAlpha, rmspropEps: cfg.rmspropEps, maxRows: L * N * B }),
      single,
    );
  }

  /**
   * One RMSprop step of the collective critics on G_c over all valid agent-steps (batch, like
   * the default critic update); returns the loss and the pre-update values (the baseline).
   */
  private trainCollectiveCritic(T: number, masks: Float32Array, Gc: Float32Array): { loss: number; values: Float32Array } {
    const { tf, cfg, N, B } = this;
    const M = N * B;
    const E = this.envObs;
    const R = T * B;
    let count = 0;
    for (let i = 0; i < T * M; i++) count += masks[i];
    const out = new Float32Array(T * M);
    if (count === 0) return { loss: 0, values: out };
    let loss = 0;
    tf.tidy(() => {
      const X = perAgentRows(tf, timeToGroup(this.cobs, T, N, B, E, this.stage), N, R, E);
      const Gt = perAgentRows(tf, timeToGroup(Gc, T, N, B, 1, new Float32Array(T * M)), N, R, 1);
      const Mt = perAgentRows(tf, timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)), N, R, 1);
      const fit = fitCritics(tf, this.collParams!, this.collCritics!, this.collOpt!, X, Gt, Mt, count, cfg.criticGradClip, this.criticKernel);
      groupToTime(fit.values, T, N, B, out);
      loss = fit.loss;
    });
    return { loss, values: out };
  }

  /**
   * What the checkpoint helpers save and restore for every trainer. `withCollective` false:
   * a checkpoint written before the collective critic existed (its critic starts fresh).
   */
  private parts(withCollective = true): LearnerParts {
    const coll = withCollective && this.collParams && this.collOpt;
    return {
      algo: 'pg',
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'actor/': this.actor.params, 'critic/': this.criticParams, 'target/': this.targetParams, ...(coll ? { 'ccritic/': this.collParams! } : {}) },
      optimisers: { actor: this.actorOpt, critic: this.criticOpt, ...(coll ? { collective: this.collOpt! } : {}) },
    };
  }

  async save(): Promise<Checkpoint> {
    return saveLearner(this.parts(), {
      tEnv: this.tEnv,
      updates: this.updates,
      criticSteps: this.criticSteps,
      ...this.target.getState(),
    });
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts(Object.keys(ckpt.tensors).some((k) => k.startsWith('ccritic/'))));
    this.tEnv = counter(e, 'tEnv', 'pg');
    this.updates = counter(e, 'updates', 'pg');
    this.criticSteps = counter(e, 'criticSteps', 'pg');
    this.target.setState(e, 'pg');
  }

  dispose(): void {
    this.helper.close();
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.collOpt?.dispose();
    this.collParams?.dispose();
    this.actor.params.dispose();
    this.criticParams.dispose();
    this.targetParams.dispose();
    this.correction.dispose();
  }
}

// ================================================================= entry (evaluation: RecurrentActorPolicy)

export const pgEntry: AlgoEntry = {
  id: 'pg',
  title: 'PG: independent REINFORCE with per-agent baselines (Malenfant & Richards 2025, Table 3)',
  schema: pgSchema,
  accepts: (spec) => envProblems(PG_NEEDS, spec),
  // A correction term keeps the round on one thread (criticThread): no helper to plan.
  usesHelperThread: (config) => (config.correction ?? pgSchema.correction.default) === 'none',
  createTrainer: (ctx: TrainContext) => new PgTrainer(ctx),
  createPolicy: (ctx: PolicyContext) => {
    const cfg = parseConfig(ctx.config);
    return new RecurrentActorPolicy(ctx, cfg, cfg.actorSharing === 'shared' ? 1 : ctx.spec.numAgents);
  },
};
