/**
 * Uniform random baseline: every agent picks uniformly among its available actions.
 *
 * The paper's reference line ("below random", Fig. 2) and the released code's
 * `learners/random_agent.py`. A training round plays one episode in every copy and updates
 * nothing, so its episode metrics are directly comparable with a learner's.
 */
import type { Schema } from '../config/schema';
import type { VecEnv } from '../envs/types';
import type { Rng } from '../rng';
import { LockstepRollout } from './core/rollout';
import { anyEnv } from './core/compat';
import { loadLearner, saveLearner } from './core/checkpoint';
import type { AlgoEntry, Checkpoint, Policy, RoundResult, Trainer, TrainContext } from './types';

export { ENV_RESET_STREAM } from './core/rollout';

export const randomSchema = {} as const satisfies Schema;

/**
 * Write a uniformly random action for every agent of every unfinished copy: one of the
 * available discrete actions, or a uniform point of the box. Finished copies draw nothing, so
 * they cost no randomness.
 */
export function randomAvailableActions(env: VecEnv, actions: Int32Array, rng: Rng, boxActions?: Float32Array): void {
  const { numAgents: N, numActions: A, boxSize: D, agents } = env.spec;
  const mask = env.actionMask;
  for (let b = 0; b < env.numEnvs; b++) {
    for (let i = 0; i < N; i++) {
      const row = b * N + i;
      if (env.finished[b]) {
        actions[row] = 0; // ignored by the env
        continue;
      }
      const space = agents[i].action;
      if (space.kind === 'box') {
        actions[row] = 0;
        if (boxActions) for (let k = 0; k < space.size; k++) boxActions[row * D + k] = rng.range(space.low[k], space.high[k]);
        continue;
      }
      let count = 0;
      for (let a = 0; a < A; a++) count += mask[row * A + a];
      if (count === 0) {
        actions[row] = 0;
        continue;
      }
      let k = rng.int(count);
      let chosen = 0;
      for (let a = 0; a < A; a++) {
        if (!mask[row * A + a]) continue;
        if (k-- === 0) {
          chosen = a;
          break;
        }
      }
      actions[row] = chosen;
    }
  }
}

class RandomTrainer implements Trainer {
  private readonly rollout: LockstepRollout;

  constructor(private readonly ctx: TrainContext) {
    this.rollout = new LockstepRollout(ctx.env, ctx.seed);
  }

  async round(): Promise<RoundResult> {
    const { env, rng } = this.ctx;
    const ro = this.rollout;
    ro.begin();
    const { envSteps, episodes } = ro.run({ act: () => randomAvailableActions(env, ro.actions, rng, ro.boxActions) });
    return { episodes, envSteps, stats: {} };
  }

  async save(): Promise<Checkpoint> {
    return saveLearner({ algo: 'random', ctx: this.ctx, rollout: this.rollout });
  }

  load(ckpt: Checkpoint): void {
    loadLearner(ckpt, { algo: 'random', ctx: this.ctx, rollout: this.rollout });
  }

  dispose(): void {}
}

class RandomPolicy implements Policy {
  constructor(private readonly rng: Rng) {}
  resetCopy(): void {}
  act(env: VecEnv, actions: Int32Array, _greedy: boolean, boxActions?: Float32Array): void {
    randomAvailableActions(env, actions, this.rng, boxActions);
  }
  dispose(): void {}
}

export const randomEntry: AlgoEntry = {
  id: 'random',
  title: 'Uniform random (baseline)',
  schema: randomSchema,
  accepts: anyEnv,
  createTrainer: (ctx: TrainContext) => new RandomTrainer(ctx),
  createPolicy: (ctx) => new RandomPolicy(ctx.rng),
};
