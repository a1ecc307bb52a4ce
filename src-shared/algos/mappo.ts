/**
 * MAPPO: recurrent PPO with one policy shared by the agents and a centralised value on the
 * global state, as in Malenfant & Richards 2025, Table 1 (Yu et al. 2022's MAPPO; specs/
 * manitokan-learners.md §4). The networks, the round and the update are the shared PPO
 * machinery of algos/ppo-trainer.ts (see its header); this file holds what is MAPPO's own:
 * its schema (the centralised critic's input), its variant and its registry entry.
 *
 * Paper text (Table 1) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e, mappo.yaml and the
 * MAPPO learner) and Cairn's defaults; `manitokan-mappo*-released-code` switch all on together:
 *
 *   option          paper (default here)             released code
 *   actorSharing    shared ("Joint")                 per-agent (one actor per agent)
 *   criticInput     state: CAIRN'S CHOICE, not the   joint-obs (the agents' concatenated
 *                   table's (below)                  observations, 54 values)
 *   gaeLambda       0.95                             1 (gae_lambda: 1)
 *   minibatches     1                                5
 *   valueNorm       off (not in the paper)           on (ValueNorm, beta 0.99999)
 *   activation      relu                             gelu (exact erf GELU)
 *   actorGradClip,  10                               1 (use_max_grad_norm = True is passed
 *   criticGradClip                                   as the norm; yaml grad_norm_clip 0.5 unused)
 *   inputScale      1 (paper silent)                 1/255
 *   actorObservation own                             joint-with-last-action: with
 *                                                    last_action_obs on, the actor sees every
 *                                                    agent's observation plus its own last
 *                                                    action (specs §3.2); own otherwise
 *   env episodeLimit 150                             300; agents not drawn in views
 *   App. E.4 ("randomised PPO"): lr 1e-6, criticLr 1e-3 (`lr`, `criticLr`).
 *
 * The critic's input (issue 8 audit). §3 says "centralized critic"; Table 1's critic is "CNN (32
 * out channels, kernel 3) -> MLP (input = 32)". A 3x3 kernel over the 6x6x3 global state gives
 * 16 patches x 32 = 512 features (+ 6 agent values), not 32, so the table does not describe a
 * critic on the state. What gives exactly 32 is ONE 3x3 patch: the agents' 3x3 views stacked
 * as channels (3x3x6 -> 32), i.e. `joint-obs`, which is also what the released code feeds its
 * critic. So: `joint-obs` = the reading that fits Table 1 (and the code); `state` = Cairn's
 * choice, kept as the default because it is what "centralised critic" means in MAPPO (Yu et al.
 * 2022) and what earlier runs used. (An agent's own view also gives 32, but is not centralised.)
 *
 * Where the paper is silent, Cairn chose (and the released code agrees unless noted):
 * - Adam eps 1e-5 (opti_eps), separate Adam optimisers for actor and critic, lr 1e-5 each.
 * - value clipping with the PPO clip range (use_clipped_value_loss); advantage normalisation
 *   over the valid steps (mean / std + 1e-5).
 * - masked means: padding steps after an episode ended count nowhere (the released value loss
 *   averages over padding too, use_value_active_masks = False: not reproduced).
 * - old log-probabilities and values are the rollout's; ValueNorm statistics are updated with
 *   each minibatch's valid returns right before its value loss, as the released code does.
 * - the critic sees the env part of observations only (never the last-action one-hot).
 * - MAPPO's centralised V(s) is one value per copy, regressed on every agent's return ("shared
 *   value updates", §3.1); advantages are each agent's return minus that V.
 * - gradient norms are clipped per network: per agent when actors are per-agent.
 */
import type { Schema } from '../config/schema';
import { PpoPolicy, PpoTrainer, ppoCommonSchema, ppoProblems, type PpoVariant } from './ppo-trainer';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';

export { PPO_NEEDS, PpoPolicy, PpoTrainer, ppoCommonSchema, ppoProblems, type PpoConfig, type PpoVariant } from './ppo-trainer';
export { PpoNet } from '../nn/ppo-net';

export const mappoSchema = {
  ...ppoCommonSchema,
  gaeLambda: { type: 'float', default: 0.95, min: 0, max: 1, doc: 'GAE lambda (paper Table 1: 0.95; released code: 1).' },
  minibatches: { type: 'int', default: 1, min: 1, max: 1000, doc: "Minibatches per epoch (paper 'Mini-batch 1' = one minibatch; released code: 5)." },
  actorGradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm clip of actor gradients, 0 = none (paper: 10; released code effectively 1).' },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm clip of critic gradients, 0 = none (paper: 10; released code effectively 1).' },
  actorSharing: {
    type: 'enum',
    default: 'shared',
    values: ['shared', 'per-agent'],
    doc: 'One policy for all agents (paper "Joint") or one per agent (released code).',
  },
  criticInput: {
    type: 'enum',
    default: 'state',
    values: ['state', 'joint-obs'],
    doc: "Centralised critic input: state = the global state (Cairn's choice; a 3x3 convolution over the grid gives 512 features, not Table 1's critic MLP input of 32); joint-obs = the agents' 3x3 views stacked, one 3x3 patch -> 32 features (the reading that fits Table 1; also the released code).",
  },
  valueNorm: { type: 'bool', default: false, doc: 'Normalise value targets with running statistics (not in the paper; released code: ValueNorm on).' },
} as const satisfies Schema;

export const MAPPO_VARIANT: PpoVariant = { id: 'mappo', schema: mappoSchema, independent: false };

export const mappoEntry: AlgoEntry = {
  id: 'mappo',
  title: 'MAPPO: recurrent PPO, shared policy, centralised value (Malenfant & Richards 2025, Table 1)',
  schema: mappoSchema,
  accepts: ppoProblems,
  createTrainer: (ctx: TrainContext) => new PpoTrainer(ctx, MAPPO_VARIANT),
  createPolicy: (ctx: PolicyContext) => new PpoPolicy(ctx, MAPPO_VARIANT),
};
