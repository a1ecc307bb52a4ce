/**
 * IQL as F2A2 trains its MAgent opponent (shared/specs/f2a2.md §4.5: "the enemy's model is fixed
 * to IQL after 2000 self-play training rounds"): ONE parameter-shared DQN for every learner
 * agent, on the §1.10 convolutional trunk (nn/conv-trunk.ts: the 13x13 view with its minimap
 * planes through two 3x3 convolutions of 32 filters, flattened, concatenated with the feature
 * vector, Dense 128 -> Dense 128 -> 21 Q-values). It is DQN (algos/dqn.ts) with a shared
 * network, per-agent transitions and that trunk: the trainer, replay, target copies and masked
 * argmax are dqn.ts's, configured by IQL_VARIANT.
 *
 * Self-play: on the battle both armies are learner-controlled and observations are
 * army-relative, so the one network plays both sides and learns from both. Against a frozen
 * opponent (`train.opponent = frozen:...`) it learns from its own army only.
 *
 * Paper (spec §4.5, DESIGN CHOICE there) and Cairn where both are silent:
 *   lr 1e-4, gamma 0.95, batch 128, buffer 5e5 agent transitions   spec §4.5
 *   epsilon 1.0 -> 0.05 over the first half of training             spec §4.5; "half" of its 2000
 *                                                                    self-play episodes = 1000
 *                                                                    finished episodes (`epsilonEpisodes`;
 *                                                                    presets set half their budget)
 *   target copy every 1000 updates                                   spec §4.5
 *   one update per 128 stored agent transitions                      Cairn: MAgent's train_freq 1
 *                                                                    (each transition drawn about
 *                                                                    once); online, between env steps
 *   warm-up 1280 agent transitions                                   Cairn (ten batches)
 *   plain DQN target (max over legal a' of Q_target), MSE            Cairn: the spec names DQN; MAgent's
 *                                                                    double-Q and Huber are not asked for
 *   a killed agent's transition is terminal                          Cairn: it leaves the battle
 *                                                                    (`VecEnv.agentAlive`); a time-limit
 *                                                                    cut bootstraps
 * Short budgets: a run must make many more updates than `targetUpdateSteps`, or the target
 * stays the random initial network and Q learns only the immediate reward (on the battle:
 * never attack, never approach; envs/battle-presets.ts header, docs/design.md F2A2 section).
 * Memory: a stored transition holds two observation rows (1217 floats each at 13x13x7), about
 * 10 KB; the buffer grows by doubling, so a run fills only what it collects (the full 5e5 would
 * be about 4.9 GB, and the checkpoint, which keeps the replay for an exact resume, as large).
 */
import { typedValues, type Schema } from '../config/schema';
import { envProblems } from './core/compat';
import { ParamSet } from '../nn/params';
import { ConvTrunk, trunkProblems, trunkShape } from '../nn/conv-trunk';
import { dqnSchema, DqnPolicy, DqnTrainer, type DqnVariant } from './dqn';
import { learnerAgents } from '../envs/spaces';
import type { EnvSpec } from '../envs/types';
import type { AlgoEntry } from './types';

const { epsilonSteps: _unused, hiddenDim: _hidden, ...dqnCommon } = dqnSchema;

export const iqlSchema = {
  ...dqnCommon,
  lr: { type: 'float', default: 1e-4, min: 0, doc: 'Adam learning rate (F2A2 spec §4.5: 1e-4).' },
  gamma: { type: 'float', default: 0.95, min: 0, max: 1, doc: 'Discount (spec §4.5: 0.95).' },
  batchSize: { type: 'int', default: 128, min: 1, max: 65536, doc: 'Agent transitions per update (spec §4.5: 128).' },
  bufferSize: { type: 'int', default: 500_000, min: 1, max: 10_000_000, doc: 'Replay capacity in agent transitions (spec §4.5: 5e5; about 10 KB each on the battle, grown by doubling).' },
  warmup: { type: 'int', default: 1280, min: 0, doc: 'Agent transitions stored before the first update (Cairn: ten batches).' },
  trainEvery: { type: 'int', default: 128, min: 1, doc: "Stored agent transitions between updates (Cairn: 128 = one batch, MAgent's train_freq 1)." },
  targetUpdateSteps: { type: 'int', default: 1000, min: 1, doc: 'Updates between hard target copies (spec §4.5: 1000).' },
  epsilonEpisodes: { type: 'int', default: 1000, min: 1, doc: 'Finished episodes of the linear epsilon decay (spec §4.5: the first half of 2000 self-play episodes).' },
  filters: { type: 'int', default: 32, min: 1, max: 512, doc: 'Filters of both 3x3 convolutions (spec §1.10: 32).' },
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Width of both dense layers after the convolutions (spec §1.10: 128).' },
} as const satisfies Schema;

function iqlProblems(spec: EnvSpec): string[] {
  const out = envProblems({ actions: 'discrete', uniformAgents: true, controllers: ['learner', 'script', 'frozen'] }, spec);
  const agents = learnerAgents(spec);
  if (agents.length > 0) out.push(...trunkProblems(spec.agents[agents[0]].obsLayout));
  return out;
}

export const IQL_VARIANT: DqnVariant = {
  id: 'iql',
  schema: iqlSchema,
  shared: true,
  epsilonBy: 'episodes',
  makeQ(tf, spec, config, groups, rng, trainable) {
    const cfg = typedValues('algo', iqlSchema, config);
    const a = spec.agents[learnerAgents(spec)[0]];
    const params = new ParamSet(tf, trainable);
    const net = new ConvTrunk(tf, params, 'q', trunkShape(a.obsLayout, spec.obsSize), cfg.filters, cfg.hiddenDim, spec.numActions, groups, rng);
    return { params, infer: (x) => net.run(x, false), forward: (x) => net.run(x, true) };
  },
};

export const iqlEntry: AlgoEntry = {
  id: 'iql',
  title: 'IQL: one parameter-shared DQN on a conv trunk for every agent (F2A2 §4.5, the MAgent opponent)',
  schema: iqlSchema,
  accepts: iqlProblems,
  createTrainer: (ctx) => new DqnTrainer(ctx, IQL_VARIANT),
  createPolicy: (ctx) => new DqnPolicy(ctx, IQL_VARIANT),
};
