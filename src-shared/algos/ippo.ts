/**
 * IPPO: independent recurrent PPO learners, one actor and one critic per agent, each on the
 * agent's own observation and reward, as in Malenfant & Richards 2025, Table 2 ("gradient
 * decoupled independent PPO agents", §3; specs/manitokan-learners.md §4).
 *
 * The networks, the round structure, the losses and the update are MAPPO's (algos/mappo.ts; its
 * header documents the layer stack, the initialisation and every shared choice). What makes
 * this IPPO:
 * - actor and critic are "Disjoint": N networks stored as N parameter groups (nn/mlp.ts), run
 *   in one batched call per rollout step; agent i's actor and critic only ever see agent i's rows.
 * - each critic sees its agent's own env observation (view + door/key flags when on), and
 *   regresses on its agent's return; no centralised information anywhere.
 * - losses are means over the agent's own valid steps, summed over agents (so the agents'
 *   gradients never mix); advantages are normalised per agent; gradient norms are clipped per
 *   agent. One Adam per network (Adam is elementwise, so one optimiser over the grouped
 *   parameters is exactly N independent ones).
 * - "GAE parameter lambda: Not used" (Table 2): the advantage is the Monte-Carlo discounted
 *   return minus the critic's value, A_t = G_t - V(o_t), G_t = sum_k gamma^k r_{t+k}
 *   (bootstrapped with V(final observation) only when the time limit cut the episode). That is
 *   GAE with lambda = 1 (nn/ppo.ts), which is how it is computed here: `gaeLambda` = 1.
 *   The critic's target is G_t itself.
 *
 * Paper text (Table 2) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e, ippo.yaml, the
 * MAPPO learner with share_buffer = False), and Cairn's defaults; the
 * `manitokan-ippo*-released-code` presets switch all on together:
 *
 *   option          paper (default here)             released code
 *   gaeLambda       1 ("GAE not used")               0.95 (use_gae: True)
 *   criticInput     own-obs ("Disjoint")             joint-obs (use_centralized_V: every
 *                                                    agent's critic sees both observations)
 *   minibatches     1                                5
 *   valueNorm       off (not in the paper)           on (PopArt; its output-layer rescale
 *                                                    lands on a layer the critic never uses,
 *                                                    so it acts exactly as ValueNorm)
 *   hiddenDim       64 (CNN 32 channels)             128 (manito.yaml; CNN 64 channels)
 *   activation      relu                             gelu (ippo.yaml says "gelu"; the specs
 *                                                    table says ReLU: we follow the yaml)
 *   actorGradClip   10                               10 (a literal 10 in the per-agent branch)
 *   criticGradClip  10                               1 (use_max_grad_norm = True as the norm)
 *   inputScale      1 (paper silent)                 1/255
 *   actorObservation own                             joint-with-last-action (joint observation
 *                                                    + own last action when last_action_obs is on)
 *   env episodeLimit 150                             300; agents not drawn in views
 *   App. E.4 ("randomised PPO"): lr 1e-6, criticLr 1e-3 (`lr`, `criticLr`).
 *
 * Not reproduced: the released per-agent branch clamps each agent's policy loss to
 * [-100, 100] (with normalised advantages the loss never gets near), and averages the value
 * loss over padding steps too.
 */
import type { Schema } from '../config/schema';
import { ppoProblems, PpoPolicy, PpoTrainer, type PpoVariant, ppoCommonSchema } from './ppo-trainer';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';

export const ippoSchema = {
  ...ppoCommonSchema,
  gaeLambda: {
    type: 'float',
    default: 1,
    min: 0,
    max: 1,
    doc: 'GAE lambda; 1 = no GAE: advantage = discounted return - V (paper Table 2: "not used"; released code: 0.95).',
  },
  minibatches: { type: 'int', default: 1, min: 1, max: 1000, doc: "Minibatches per epoch (paper 'Mini-batch 1' = one minibatch; released code: 5)." },
  actorGradClip: { type: 'float', default: 10, min: 0, doc: "Per-agent global-norm clip of actor gradients, 0 = none (paper and released code: 10)." },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: 'Per-agent global-norm clip of critic gradients, 0 = none (paper: 10; released code effectively 1).' },
  criticInput: {
    type: 'enum',
    default: 'own-obs',
    values: ['own-obs', 'joint-obs'],
    doc: "Each agent's critic input: its own observation (paper 'Disjoint') or all agents' observations (released code, use_centralized_V).",
  },
  valueNorm: { type: 'bool', default: false, doc: 'Normalise value targets with running statistics, per agent (not in the paper; released code: PopArt statistics).' },
} as const satisfies Schema;

export const IPPO_VARIANT: PpoVariant = { id: 'ippo', schema: ippoSchema, independent: true };

export const ippoEntry: AlgoEntry = {
  id: 'ippo',
  title: 'IPPO: independent recurrent PPO learners (Malenfant & Richards 2025, Table 2)',
  schema: ippoSchema,
  accepts: ppoProblems,
  createTrainer: (ctx: TrainContext) => new PpoTrainer(ctx, IPPO_VARIANT),
  createPolicy: (ctx: PolicyContext) => new PpoPolicy(ctx, IPPO_VARIANT),
};
