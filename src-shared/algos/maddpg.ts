/**
 * MADDPG (Lowe et al. 2017): per-agent deterministic actors with centralised critics
 * Q_j(o_1..o_N, a_1..a_N), discrete actions through Gumbel-softmax as openai/maddpg does, with
 * the sizes of ALITA appendix D (the paper this learner was built for: shared/specs/alita.md §1).
 * The trainer is algos/maddpg-trainer.ts (shared with DDPG and ALITA); this file is its entry.
 *
 * ALITA appendix D (default here) vs the reference code (openai/maddpg @ 3ceefa0, train.py,
 * maddpg.py), where the two differ; the `-released-code` presets switch all on together:
 *
 *   option        ALITA appendix D (default)         openai/maddpg
 *   hiddenDim     128                                64
 *   layerNorm     on (hidden pre-activations)        off
 *   Everything else follows the reference, because appendix D is silent on it: Adam lr 1e-2
 *   (actor and critic), tau 0.01, batch 1024, buffer 1e6, one update per 100 transitions after
 *   batch x episode-length transitions, per-variable gradient clipping at 0.5, actor output
 *   regulariser 1e-3 mean(logits^2), Gumbel-softmax samples (temperature 1, no straight-through)
 *   for acting, the actor loss and the target actions, one minibatch index set per agent,
 *   agents updated in index order with each agent's soft target update right after its step.
 *
 * Cairn's choices where both are silent (spec §1.3-1.4):
 * - the soft Gumbel vector is what the replay stores and critics see (`storeAction: 'onehot'`
 *   stores the executed one-hot); a discrete env executes its argmax (an exact categorical
 *   sample), a box env that takes a soft vector (MPE spread with `env.actions=continuous`) gets
 *   the vector itself, which is exactly OpenAI MPE's default interface (`boxPolicy:
 *   'gumbel-softmax'`). Other boxes use tanh actions with Gaussian noise 0.1 (DDPG's form);
 * - termination and truncation are stored apart: a time limit bootstraps (the reference never
 *   stores done on MPE), a true terminal does not;
 * - B parallel copies feed one replay; updates still come every 100 transitions, so B only
 *   changes how many episodes run side by side, not the update cadence.
 *
 * `sharedCritic` (default off: Lowe et al.'s one critic per agent) is the F2A2 paper's MADDPG
 * (appendix H.3, Table 8: "all agents share a centralized Q-value function", phi_in = 0), which
 * the `f2a2-<env>-maddpg` presets switch on: one critic Q(o, a, onehot(i)), its target and Adam;
 * per update one critic step on sum_i mean (Q(o, a, i) - y_i)^2 over the agents' minibatches
 * (H.3's sum over i), then each actor's step against the updated critic, then the soft targets
 * (the critic's once). The agent id is Cairn's choice (the paper's Q^{pi,i} is indexed by i but
 * its input is not given; spec §4.1 says "agent id in the input"); agents' rewards differ, so a
 * critic without it could not tell whose return it predicts.
 */
import { ddpgFamilySchema, ddpgProblems, makeTrainer, MaddpgPolicy, sharedCriticField, type DdpgVariant } from './maddpg-trainer';
import type { AlgoEntry } from './types';

export const maddpgSchema = { ...ddpgFamilySchema, ...sharedCriticField };

export const MADDPG_VARIANT: DdpgVariant = { id: 'maddpg', schema: maddpgSchema };

export const maddpgEntry: AlgoEntry = {
  id: 'maddpg',
  title: 'MADDPG: deterministic actors, centralised critics, Gumbel-softmax (Lowe et al. 2017; ALITA appendix D sizes)',
  schema: maddpgSchema,
  accepts: ddpgProblems,
  createTrainer: makeTrainer(MADDPG_VARIANT),
  createPolicy: (ctx) => new MaddpgPolicy(ctx),
};
