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
 * CORRECTION TERMS (paper §4-4.1, eq. 2-5, Theorem 1, App. P; `correction`, default `hvp`).
 * The actor's ascent direction becomes  grad(sum m A log pi / sum m) + coef * s * C  (s = -1
 * under `antiCollective`, App. E.7, which minimises the term), with C a Hessian-vector product
 * of a collective objective J_c (eq. 5: the term is added to the policy gradient):
 *     C = grad_theta [ grad_theta J_c(theta) . Psi ]  =  H(J_c) Psi      (Psi held constant)
 * computed by double backprop through the GRU (nn/hvp.ts; recurrent-actor.ts `tapeLogits` runs
 * the cell on the tape, because the fused BPTT op is first-order only). M.2 says the paper
 * approximated the Hessian with Pearlmutter's trick: this is that, exactly (no approximation
 * beyond float32). How each symbol is realised, and why:
 * - J_c (eq. 2: the sub-objective E[sum_t r^c]) as the REINFORCE surrogate
 *       J_c = sum_a sum_{(t,b) in S_a} (G_c - V) log pi(a_t | h_t) / |S_a|
 *   G_c = the discounted Monte-Carlo return of the collective reward alone (the individual r_i
 *   is excluded, as J_c = J - E[sum r^i]); the collective reward is the part all agents receive
 *   alike on a copy's terminating step (`collectiveSplit`). V = the baseline of the
 *   collective return alone (`correctionBaseline`): by default a second set of per-agent
 *   critics (same MLP on the env observation, trained each round by one batch RMSprop step on
 *   G_c over every valid agent-step, the pre-update values used, as for the PG critic);
 *   `none` drops it. (Before issue 8 this was the PG term's full-return critic: its value
 *   includes the individual reward that J_c excludes, and since (G_c - V) multiplies a
 *   second-order term the offset is not variance-only: E[V grad^2 log pi] = -E[V score
 *   score^T] != 0, roughly V F Psi with F the Fisher matrix. Kept as `full-critic`, the
 *   released code's v'.) (G_c - V) is detached. The Hessian is the surrogate's, sum
 *   (G_c - V) grad^2 log pi: what Pearlmutter's trick on a policy-gradient loss gives. (It omits the
 *   score-outer-product part E[G grad log p grad log p^T] of the Hessian of E[G], which needs
 *   trajectory-level score products as in DiCE; the paper does not mention it.)
 * - S_a, the steps of agent a's collective sub-policy pi_c^a (`correctionSteps`):
 *     self  (§4.1, grad_i grad_i J_c(theta_i) Psi(pi_c^i)): a's steps strictly after a's own
 *           door opened. Eq. 3 conditions J_c on the door being open, where J_c no longer
 *           depends on pi_d.
 *     cross (eq. 5, grad_i grad_j J_c(theta_j) Psi(pi_c^j)): for each copy whose first door was
 *           opened by agent i, every valid step of the other agents j. Theorem 1 assumes i
 *           opened first, so j's whole policy is its collective policy. The term is agent i's;
 *           with the shared actor (paper "Joint"), theta_i = theta_j = theta and grad_i grad_j
 *           is the Hessian in theta, so the terms of all pairs add into the one update. With
 *           per-agent actors the mixed derivative of j's surrogate w.r.t. theta_i is zero, so
 *           `cross` is refused there (under hvp).
 *   A door's opening is read from the rewards (the env interface has no door state): an
 *   agent's first positive non-collective reward (r_i = 0.5 by default). Limits: under
 *   rewardMode collective-only no opening is visible (the terms are then zero), and the
 *   toggle-only holding penalty makes the opening step net 0 (missed).
 * - Psi, "the reciprocal of the expected grad log pi_c" (eq. 4 and P.1, a vector in parameter
 *   space): the Moore-Penrose inverse of the mean score g = mean_{S} grad_theta log pi(a_t|h_t),
 *       Psi = g / (|g|^2 + lambda),   lambda = `psiDamping` (0: the exact pseudo-inverse).
 *   It is the minimum-norm vector with g . Psi = 1, the property eq. 15 uses (grad J_c . Psi =
 *   E[Q_c] when grad J_c = g E[Q_c], eq. 14). An elementwise reciprocal would instead give
 *   (number of parameters) x E[Q_c] and blow up on near-zero components. Eq. 4 (expectation
 *   outside the reciprocal) and P.1 (inside) disagree; we follow P.1, the form that is finite.
 *   Psi is data (no gradient through it), as v in Pearlmutter's H v; g comes from one
 *   first-order pass of the fused BPTT (taped) or of the R-pass module's own BPTT on the
 *   sequences with S steps (r-pass; rows outside S have zero weight in g). Shared actor: one
 *   Psi from the pooled S steps (one policy network); per-agent actors: one Psi per agent, in
 *   its own parameter block.
 *   Caveat, measured: on-policy E[grad log pi] = 0, so g is a small, noisy vector. At
 *   initialisation (history preset, 32 copies) |g|^2 ~ 0.02-0.09 and the term's gradient norm
 *   is ~1-8 against ~0.01-0.02 for the PG term, so RMSprop follows the term; in a 200-round
 *   test (8 copies, lr 1e-3) `self` drove door opening below the random policy's rate while
 *   vanilla PG tripled it. `psiDamping` and `correctionCoef` are the knobs;
 *   `charts/correction_value` logs grad J_c . Psi, which eq. 15 identifies with E[Q_c].
 * - `correctionStart` (the code's kick_in): the term acts from that update on (1 = always).
 * - Stats (when correction is not none): charts/correction_norm = norm of the term's share of
 *   the actor-loss gradient; charts/correction_dot_pg = cosine between that and the PG loss
 *   gradient (> 0: the term pushes the way PG does); charts/correction_steps = agent-steps in
 *   J_c (hvp) or gated entries (released-fd); charts/correction_value as above (hvp).
 * The released code's version (`correctionImpl: released-fd`, specs §2.1) is a per-entry
 * scalar, not a parameter-space product: at steps with reward >= 1 (the success step, both
 * agents) C = (H00 + H11) / log p with H the diagonal of a 2x2 central finite difference
 * (eps 1e-6, float32) of f(p, v) = m (G_c - v) log p in the taken action's probability p and
 * the baseline v (the released code's v' = V of the full critic: `correctionBaseline:
 * full-critic` in the released-code presets; the default puts the collective baseline there
 * too); analytic limit m [(G_c - V)/(p log p) - 1] (`releasedFdTerm`). Loss -(sum L
 * + sum C)/sum m, gradient through p only. `cross` under released-fd is the code's
 * update_order, which swaps agents before a total sum: identical to self. Under
 * antiCollectiveScope released-individual, the code's his_disc + anti_coop path adds the
 * individual analogue C_i = D_i / p (specs §2.4: at individual-reward steps, D_i from
 * f_i = m (G_ind - v'') log p, v'' = V - (sum r_col / 1.5) p) while C keeps its sign; with
 * scope collective, C is negated (what E.7 describes; no flag of the code does that).
 * correctionCoef scales every correction term, released ones included (the code: 1).
 *
 * MAX-ENTROPY (§4.1, Fig. 6; `maxEntropy`, `entropyCoef` 1e-4 = the code's policy_ent_coeff:
 * the paper gives no coefficient). `bonus`: an entropy-regularised PG (the paper cites Ahmed et
 * al. 2019 and Haarnoja et al. 2018): the actor loss gets - alpha sum m H(pi(.|o_t)) / sum m,
 * the entropy's own gradient at the visited states, which makes the updated policy more random
 * there. Not the soft-RL reward r + alpha H: measured on one batch, that raises the returns of
 * every sampled action before the critic catches up and SHARPENS the policy. `released-penalty`:
 * the code's r <- r - alpha H (H of the behaviour distribution, detached) before the critic
 * targets and returns (specs §1.9; `entropyPenalty`). On one batch that too RAISES the policy's
 * entropy (every sampled action's return drops, so all are pushed down; measured dH = +1.7e-4
 * at alpha 1e-4, lr 1e-3, 6 copies); an entropy-lowering effect can only come through which
 * states are reached, over many updates.
 *
 * Speed (tiny networks are dispatch-bound, and the wasm backend is what runs here): see the
 * headers of nn/gru.ts (fused BPTT reusing the rollout's activations) and nn/mlp.ts (plain
 * matmuls only, direct kernel calls when acting). The hvp correction works on the sequences
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
import type { EnvSpec } from '../envs/types';
import { maskedLogProbs, maskedProbs, sampleIndex, entropy, entropyFromLogProbs } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { registerGradients } from '../nn/gradients';
import { doubleBackprop, registerSecondOrderGradients, secondOrderOps } from '../nn/hvp';
import { GruTrace } from '../nn/gru';
import { RecurrentPolicyRop, type PolicyArrays, type PolicyTensors } from '../nn/policy-rop';
import { Mlp } from '../nn/mlp';
import { RMSprop } from '../nn/optim';
import { ParamSet } from '../nn/params';
import { discountedReturns, tdLambdaTargets, tdLambdaTargetsPymarl } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import { Rng, deriveSeed } from '../rng';
import { LockstepRollout } from './core/rollout';
import { collectiveSplit, correctionSteps, entropyPenalty, injectRewards, releasedFdTerm, releasedRewardSplit } from './pg-correction';
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
import { RecurrentActor, RecurrentActorPolicy, epsilonSchema, targetCopySchema, actorInput, epsilonAt, groupToTime, tapeLogits, timeToGroup } from './recurrent-actor';
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
} as const satisfies Schema;

/** The resolved hyperparameters, typed from the schema. */
type PgConfig = Values<typeof pgSchema>;

function parseConfig(values: Values): PgConfig {
  return typedValues('algo', pgSchema, values);
}

// ================================================================= networks

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
  /** The R-pass workspace (hvpMethod r-pass), made on first use. */
  private rop: RecurrentPolicyRop | null = null;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly probs: Float64Array;
  private readonly stage: Float32Array; //     group-major staging for uploads

  // Counters (checkpointed).
  private tEnv = 0;
  private updates = 0;
  private criticSteps = 0;
  private readonly target: TargetSchedule;

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
        const xT = tf.tensor3d(x, [G, rows / G, O]);
        const logits = this.actor.stepLogits(xT, this.hA, this.hB, this.trace, t);
        xT.dispose();
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
    this.target.countSteps(steps);

    // ---------------------------------------------------------------- correction baseline
    // The baseline b of the correction's (G_c - b): see `correctionBaseline` and the header.
    const collStats: Record<string, number> = {};
    let corrBaseline = baseline;
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
    const entropyBonus = cfg.maxEntropy && cfg.maxEntropySign === 'bonus' && cfg.entropyCoef > 0;
    const X = tf.tensor3d(timeToGroup(this.xs, T, N, B, O, this.stage), [G, rowsAll, O]);
    const avail = tf.tensor3d(timeToGroup(this.avail, T, N, B, A, new Float32Array(T * M * A)), [G, rowsAll, A]);
    const { value: actorLoss, grads: actorGrads } = tf.tidy(() => {
      const C = tf.tensor3d(coef, [G, rowsAll, A]);
      // Max-entropy bonus: - alpha sum(m H(pi(.|o_t))) / sum(m), the entropy's direct gradient.
      const entW = entropyBonus
        ? tf.tensor2d(timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)).map((m) => (m * cfg.entropyCoef) / valid), [G, rowsAll])
        : null;
      const res = this.actor.params.grads(() => {
        const logp = maskedLogProbs(tf, this.actor.sequenceLogits(X, N, T, B, this.trace), avail, eps);
        const pg = tf.neg(tf.sum(tf.mul(C, logp)));
        if (!entW) return pg as never;
        return tf.sub(pg, tf.sum(tf.mul(entW, entropyFromLogProbs(tf, logp, avail)))) as never;
      });
      return res as never; // tidy keeps tensors found in the returned object (the gradients)
    }) as { value: number; grads: Record<string, Tensor> };
    const corrStats: Record<string, number> = {};
    if (cfg.correction !== 'none') {
      // Gradients of the correction's share of the loss (minus the term it ascends).
      const parts: Array<{ grads: Record<string, Tensor>; steps: number; value?: number }> = [];
      if (corrOn && cfg.correctionImpl === 'hvp') {
        const h = this.hvpCorrection(X, avail, T, masks, corrBaseline, eps);
        if (h) parts.push(h);
      }
      if (releasedCollective || releasedIndividual) {
        parts.push(this.releasedCorrection(X, avail, T, masks, baseline, corrBaseline, split!, releasedCollective, releasedIndividual, eps, valid));
      }
      corrStats['charts/correction_steps'] = parts.reduce((n, p) => n + p.steps, 0);
      corrStats['charts/correction_value'] = parts.reduce((n, p) => n + (p.value ?? 0), 0);
      const corr: Record<string, Tensor> = {};
      for (const name of Object.keys(actorGrads)) {
        const ts = parts.map((p) => p.grads[name]).filter((t) => t !== undefined);
        corr[name] = ts.length === 0 ? tf.zerosLike(actorGrads[name]) : ts.length === 1 ? ts[0] : tf.addN(ts);
        if (ts.length > 1) ts.forEach((t) => t.dispose());
      }
      let dot = 0;
      let nc = 0;
      let np = 0;
      tf.tidy(() => {
        for (const name of Object.keys(actorGrads)) {
          dot += tf.sum(tf.mul(corr[name], actorGrads[name])).dataSync()[0];
          nc += tf.sum(tf.square(corr[name])).dataSync()[0];
          np += tf.sum(tf.square(actorGrads[name])).dataSync()[0];
        }
      });
      corrStats['charts/correction_norm'] = Math.sqrt(nc);
      corrStats['charts/correction_dot_pg'] = nc > 0 && np > 0 ? dot / Math.sqrt(nc * np) : 0;
      for (const name of Object.keys(actorGrads)) {
        const sum = tf.add(actorGrads[name], corr[name]);
        actorGrads[name].dispose();
        corr[name].dispose();
        actorGrads[name] = sum;
      }
    }
    X.dispose();
    avail.dispose();
    const actorNorm = clipByGlobalNorm(tf, actorGrads, cfg.actorGradClip);
    this.actorOpt.step(actorGrads);
    for (const g of Object.values(actorGrads)) g.dispose();
    this.updates++;

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
   * The paper's term by double backprop (see the header), as the gradient of its share of the
   * actor LOSS: -coef * sign * H(J_c) Psi. Null when no agent-step qualifies. X / avail: the
   * round's actor inputs in the fused layout (for the mean score, first order).
   */
  private hvpCorrection(
    X: Tensor,
    avail: Tensor,
    T: number,
    masks: Float32Array,
    baseline: Float32Array,
    eps: number,
  ): { grads: Record<string, Tensor>; steps: number; value: number } | null {
    const { tf, cfg, N, B, A } = this;
    const O = this.obsSize;
    const M = N * B;
    const G = this.actor.groups;
    const { collective, tOpen } = collectiveSplit(this.rews.subarray(0, T * M), masks, this.endStep, this.endTrunc, T, N, B);
    const inS = correctionSteps(cfg.correction === 'cross' ? 'cross' : 'self', tOpen, masks, T, N, B);
    const Gc = discountedReturns(collective, masks, T, M, cfg.gamma);
    // Sequences (agent a, copy b) with steps in S_a, each run from t = 0 (the GRU state) to the
    // last step any of them needs; grouped like the actor (G = 1: all in one group).
    const count = new Float64Array(N);
    const seqs: number[][] = Array.from({ length: G }, () => []); // column a * B + b per group
    let Tp = 0;
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        let any = false;
        for (let t = 0; t < T; t++) {
          if (!inS[t * M + a * B + b]) continue;
          any = true;
          count[a]++;
          Tp = Math.max(Tp, t + 1);
        }
        if (any) seqs[G === 1 ? 0 : a].push(a * B + b);
      }
    }
    const steps = count.reduce((x, y) => x + y, 0);
    if (steps === 0) return null;
    const total = G === 1 ? [steps] : Array.from(count);
    const sign = cfg.antiCollective && cfg.antiCollectiveScope === 'collective' ? -1 : 1;
    const k = -cfg.correctionCoef * sign;
    if (cfg.hvpMethod === 'r-pass') {
      const { value, hvp } = this.rpassCorrection(Tp, seqs, inS, Gc, baseline, count, total, eps);
      const out: Record<string, Tensor> = {};
      for (const n of this.actor.params.names()) {
        out[n] = tf.tensor(hvp[n as keyof PolicyArrays].map((h) => h * k), this.actor.params.get(n).shape, 'float32');
      }
      return { grads: out, steps, value };
    }

    // Psi = g / (|g|^2 + lambda) per group, g = the mean score over the group's S steps, by the
    // fused first-order BPTT on the round's full batch (rows [N][T][B] per the PG loss).
    const rowsAll = (N * T * B) / G;
    const wLall = new Float32Array(N * T * B * A);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const i = t * M + a * B + b;
          if (inS[i]) wLall[((a * T + t) * B + b) * A + this.acts[i]] = 1 / total[G === 1 ? 0 : a];
        }
      }
    }
    const names = this.actor.params.names();
    const vars = this.actor.params.variables();
    const psi = tf.tidy(() => {
      const W = tf.tensor3d(wLall, [G, rowsAll, A]);
      const { grads } = this.actor.params.grads(
        () => tf.sum(tf.mul(W, maskedLogProbs(tf, this.actor.sequenceLogits(X, N, T, B, this.trace), avail, eps))) as never,
      );
      const gs = names.map((n) => grads[n].dataSync() as Float32Array);
      const norm2 = new Float64Array(G);
      for (const g of gs) {
        const n = g.length / G;
        for (let k = 0; k < g.length; k++) norm2[Math.floor(k / n)] += g[k] * g[k];
      }
      return gs.map((g, i) => {
        const n = g.length / G;
        const out = new Float32Array(g.length);
        for (let k = 0; k < g.length; k++) {
          const d = norm2[Math.floor(k / n)] + cfg.psiDamping;
          out[k] = d > 0 ? g[k] / d : 0;
        }
        return tf.tensor(out, vars[i].shape, 'float32');
      });
    });

    // The sequences on the tape: x [G, Tp * R, O], rows time-major; weights (G_c - V) / n on S.
    const R = Math.max(...seqs.map((q) => q.length));
    const x = new Float32Array(G * Tp * R * O);
    const av = new Float32Array(G * Tp * R * A).fill(1);
    const wJ = new Float32Array(G * Tp * R * A);
    for (let g = 0; g < G; g++) {
      seqs[g].forEach((col, r) => {
        const a = Math.floor(col / B);
        for (let t = 0; t < Tp; t++) {
          const src = t * M + col;
          const dst = (g * Tp + t) * R + r;
          x.set(this.xs.subarray(src * O, (src + 1) * O), dst * O);
          av.set(this.avail.subarray(src * A, (src + 1) * A), dst * A);
          if (inS[src]) wJ[dst * A + this.acts[src]] = (Gc[src] - baseline[src]) / count[a];
        }
      });
    }
    const so = secondOrderOps(tf);
    const { value: psiDotGrad, grads } = doubleBackprop(tf, vars, (grad) => {
      const logits = tapeLogits(tf, this.actor.weights(), tf.tensor3d(x, [G, Tp * R, O]), Tp, cfg.activation);
      const J = tf.sum(tf.mul(tf.tensor3d(wJ, [G, Tp * R, A]), so.maskedLogProbs(logits, tf.tensor3d(av, [G, Tp * R, A]), eps)));
      const gJ = grad(J as never, vars);
      let dot: Tensor = tf.scalar(0);
      gJ.forEach((g, i) => {
        dot = tf.add(dot, tf.sum(tf.mul(g, psi[i])));
      });
      return dot as never;
    });
    psi.forEach((t) => t.dispose());
    const out: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      out[n] = tf.mul(grads[i], k);
      grads[i].dispose();
    });
    return { grads: out, steps, value: psiDotGrad };
  }

  /**
   * hvpCorrection by the R-pass (nn/policy-rop.ts): the same Psi and H(J_c) Psi, on the
   * sequences with S steps only (the mean score's other rows have zero weight), reusing the
   * rollout's GRU activations (the weights have not changed since). Returns H(J_c) Psi per
   * parameter and grad J_c . Psi.
   */
  private rpassCorrection(
    Tp: number,
    seqs: number[][],
    inS: Float32Array,
    Gc: Float32Array,
    baseline: Float32Array,
    count: Float64Array,
    total: number[],
    eps: number,
  ): { value: number; hvp: PolicyArrays } {
    const { tf, cfg, N, B, A } = this;
    const O = this.obsSize;
    const M = N * B;
    const G = this.actor.groups;
    const R = Math.max(...seqs.map((q) => q.length));
    // Rows [Tp][G][R] (time-major, as the trace); weights on the taken action of S steps:
    // wL for the mean score g (Psi), wJ = (G_c - V) / n for J_c.
    const n = Tp * G * R;
    const x = new Float32Array(n * O);
    const av = new Float32Array(n * A).fill(1);
    const wL = new Float32Array(n * A);
    const wJ = new Float32Array(n * A);
    for (let g = 0; g < G; g++) {
      seqs[g].forEach((col, r) => {
        const a = Math.floor(col / B);
        for (let t = 0; t < Tp; t++) {
          const src = t * M + col;
          const dst = (t * G + g) * R + r;
          x.set(this.xs.subarray(src * O, (src + 1) * O), dst * O);
          av.set(this.avail.subarray(src * A, (src + 1) * A), dst * A);
          if (!inS[src]) continue;
          wL[dst * A + this.acts[src]] = 1 / total[G === 1 ? 0 : a];
          wJ[dst * A + this.acts[src]] = (Gc[src] - baseline[src]) / count[a];
        }
      });
    }
    if (!this.rop) this.rop = new RecurrentPolicyRop(tf, cfg.activation);
    const rop = this.rop;
    rop.setBatch(this.actor.weights() as unknown as PolicyTensors, { T: Tp, R, x, avail: av, eps, trace: { trace: this.trace, cols: seqs } });
    // Psi = g / (|g|^2 + lambda) per group, as in hvpCorrection.
    const g = rop.gradient(wL).grads;
    const names = this.actor.params.names() as (keyof PolicyArrays)[];
    const norm2 = new Float64Array(G);
    for (const name of names) {
      const a = g[name];
      const per = a.length / G;
      for (let k = 0; k < a.length; k++) norm2[Math.floor(k / per)] += a[k] * a[k];
    }
    const psi = {} as PolicyArrays;
    for (const name of names) {
      const a = g[name];
      const per = a.length / G;
      const out = new Float32Array(a.length);
      for (let k = 0; k < a.length; k++) {
        const d = norm2[Math.floor(k / per)] + cfg.psiDamping;
        out[k] = d > 0 ? a[k] / d : 0;
      }
      psi[name] = out;
    }
    return rop.hvp(wJ, psi);
  }

  /**
   * The released code's terms (specs §2.1, §2.4) as the gradient of their share of the actor
   * loss, -coef (s_c sum C + sum C_i) / sum(m), through the fused BPTT (first order suffices:
   * the terms are functions of the taken action's probability p). `collectiveTerm`: C, gated
   * at r_col != 0, with s_c = -1 under antiCollective with scope collective; `individualTerm`:
   * C_i = -s D_i Psi_i with s = -1 (it is only on under antiCollective, scope
   * released-individual, where the code's anti_coop flips it).
   */
  private releasedCorrection(
    X: Tensor,
    avail: Tensor,
    T: number,
    masks: Float32Array,
    baseline: Float32Array,
    collBaseline: Float32Array,
    split: { ind: Float32Array; col: Float32Array },
    collectiveTerm: boolean,
    individualTerm: boolean,
    eps: number,
    valid: number,
  ): { grads: Record<string, Tensor>; steps: number } {
    const { tf, cfg, N, B, A } = this;
    const M = N * B;
    const G = this.actor.groups;
    const n = T * M;
    const rowsAll = n / G;
    const group = (src: Float32Array) => timeToGroup(src, T, N, B, 1, new Float32Array(n));
    const onehot = new Float32Array(n * A);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const i = t * M + a * B + b;
          onehot[((a * T + t) * B + b) * A + this.acts[i]] = 1;
        }
      }
    }
    let steps = 0;
    const terms: Array<{ G: Float32Array; v: Float32Array; gate: Float32Array; psi: 'inv-log-p' | 'inv-p'; sign: number }> = [];
    if (collectiveTerm) {
      const gate = new Float32Array(n);
      for (let i = 0; i < n; i++) gate[i] = masks[i] && split.col[i] !== 0 ? 1 : 0;
      const Gc = discountedReturns(split.col, masks, T, M, cfg.gamma);
      const sc = cfg.antiCollective && cfg.antiCollectiveScope === 'collective' ? -1 : 1;
      terms.push({ G: group(Gc), v: group(collBaseline.subarray(0, n)), gate: group(gate), psi: 'inv-log-p', sign: sc });
    }
    if (individualTerm) {
      // v'' = V - c p with c = sum(r_col) / 1.5, one scalar for the batch (the code's literal 1.5).
      let c = 0;
      const col = split.col;
      for (let i = 0; i < n; i++) c += col[i];
      c /= 1.5;
      const v2 = new Float32Array(n);
      const gate = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        v2[i] = baseline[i] - c * this.pTaken[i];
        gate[i] = masks[i] && split.ind[i] !== 0 ? 1 : 0;
      }
      const Gi = discountedReturns(split.ind, masks, T, M, cfg.gamma);
      terms.push({ G: group(Gi), v: group(v2), gate: group(gate), psi: 'inv-p', sign: 1 });
    }
    for (const term of terms) for (const g of term.gate) steps += g;
    const mG = group(masks);
    const { grads } = tf.tidy(() => {
      const oh = tf.tensor3d(onehot, [G, rowsAll, A]);
      return this.actor.params.grads(() => {
        const logp = maskedLogProbs(tf, this.actor.sequenceLogits(X, N, T, B, this.trace), avail, eps);
        const p = tf.reshape(tf.exp(tf.sum(tf.mul(oh, logp), -1)), [n]);
        let obj: Tensor = tf.scalar(0);
        for (const term of terms) {
          const c = tf.sum(releasedFdTerm(tf, p, mG, term.G, term.v, term.gate, term.psi));
          obj = tf.add(obj, tf.mul(c, term.sign));
        }
        return tf.mul(obj, -cfg.correctionCoef / valid) as never;
      }) as never;
    }) as { value: number; grads: Record<string, Tensor> };
    return { grads, steps };
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
    const perAgent = (src: Float32Array, F: number): Tensor[] =>
      Array.from({ length: N }, (_, a) => tf.tensor3d(src.subarray(a * R * F, (a + 1) * R * F), [1, R, F]));
    let loss = 0;
    tf.tidy(() => {
      const X = perAgent(timeToGroup(this.cobs, T, N, B, E, this.stage), E);
      const Gt = perAgent(timeToGroup(Gc, T, N, B, 1, new Float32Array(T * M)), 1);
      const Mt = perAgent(timeToGroup(masks, T, N, B, 1, new Float32Array(T * M)), 1);
      const held: Tensor[] = [];
      const { value, grads } = this.collParams!.grads(() => {
        let l: Tensor = tf.scalar(0);
        for (let a = 0; a < N; a++) {
          const v = this.collCritics![a].forward(X[a], false);
          held.push(tf.keep(v));
          l = tf.add(l, tf.sum(tf.mul(Mt[a], tf.square(tf.sub(v, Gt[a])))));
        }
        return tf.div(l, count) as never;
      });
      const v = new Float32Array(N * R);
      held.forEach((t, a) => {
        v.set(t.dataSync() as Float32Array, a * R);
        t.dispose();
      });
      groupToTime(v, T, N, B, out);
      clipByGlobalNorm(tf, grads, cfg.criticGradClip);
      this.collOpt!.step(grads);
      for (const g of Object.values(grads)) g.dispose();
      loss = value;
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
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.collOpt?.dispose();
    this.collParams?.dispose();
    this.actor.params.dispose();
    this.criticParams.dispose();
    this.targetParams.dispose();
    this.rop?.dispose();
  }
}

// ================================================================= entry (evaluation: RecurrentActorPolicy)

export const pgEntry: AlgoEntry = {
  id: 'pg',
  title: 'PG: independent REINFORCE with per-agent baselines (Malenfant & Richards 2025, Table 3)',
  schema: pgSchema,
  accepts: (spec) => envProblems(PG_NEEDS, spec),
  createTrainer: (ctx: TrainContext) => new PgTrainer(ctx),
  createPolicy: (ctx: PolicyContext) => {
    const cfg = parseConfig(ctx.config);
    return new RecurrentActorPolicy(ctx, cfg, cfg.actorSharing === 'shared' ? 1 : ctx.spec.numAgents);
  },
};
