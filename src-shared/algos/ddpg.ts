/**
 * Independent DDPG (Lillicrap et al. 2016), the baseline of MADDPG and ALITA: every agent
 * learns its own actor and a local critic Q_j(o_j, a_j) on its own observation and action,
 * which is openai/maddpg's `local_q_func` mode ("DDPG" in MADDPG's and ALITA's tables). The
 * trainer, defaults, and paper-vs-reference table are MADDPG's (maddpg.ts, maddpg-trainer.ts);
 * the only difference is the default `critic: 'local'`.
 */
import type { Schema } from '../config/schema';
import { ddpgFamilySchema, ddpgProblems, makeTrainer, MaddpgPolicy, type DdpgVariant } from './maddpg-trainer';
import type { AlgoEntry } from './types';

export const ddpgSchema = {
  ...ddpgFamilySchema,
  critic: { ...ddpgFamilySchema.critic, default: 'local' },
} as const satisfies Schema;

export const DDPG_VARIANT: DdpgVariant = { id: 'ddpg', schema: ddpgSchema };

export const ddpgEntry: AlgoEntry = {
  id: 'ddpg',
  title: 'DDPG: independent deterministic actor-critics with local critics (openai/maddpg local_q_func)',
  schema: ddpgSchema,
  accepts: ddpgProblems,
  createTrainer: makeTrainer(DDPG_VARIANT),
  createPolicy: (ctx) => new MaddpgPolicy(ctx),
};
