/**
 * Uniform random baseline: every agent picks uniformly among its available actions.
 *
 * The paper's reference line ("below random", Fig. 2) and the released code's
 * `learners/random_agent.py`. A training round plays one episode in every copy and updates
 * nothing, so its episode metrics are directly comparable with a learner's.
 */
import type { Schema } from '../config/schema';
import type { VecEnv } from '../envs/types';
import { deriveSeed, type Rng } from '../rng';
import type { AlgoEntry, Checkpoint, Policy, RoundResult, Trainer, TrainContext } from './types';

/** Stream tag for the env copies' reset seed (the env derives per-copy streams from it). */
export const ENV_RESET_STREAM = 1;

export const randomSchema = {} as const satisfies Schema;

/** Write a uniformly random available action for every agent of every unfinished copy. */
export function randomAvailableActions(env: VecEnv, actions: Int32Array, rng: Rng): void {
  const { numAgents: N, numActions: A } = env.spec;
  const mask = env.actionMask;
  for (let b = 0; b < env.numEnvs; b++) {
    for (let i = 0; i < N; i++) {
      const row = b * N + i;
      if (env.finished[b]) {
        actions[row] = 0; // ignored by the env; no draw, so finished copies cost no randomness
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
  private started = false;
  private readonly actions: Int32Array;

  constructor(private readonly ctx: TrainContext) {
    this.actions = new Int32Array(ctx.env.numEnvs * ctx.env.spec.numAgents);
  }

  async round(): Promise<RoundResult> {
    const { env, rng } = this.ctx;
    // ---- rollout: one episode in every copy, in lock-step ----
    if (!this.started) env.reset(deriveSeed(this.ctx.seed, ENV_RESET_STREAM));
    else env.resetFinished();
    this.started = true;
    const B = env.numEnvs;
    let envSteps = 0;
    for (;;) {
      let live = 0;
      for (let b = 0; b < B; b++) live += env.finished[b] ? 0 : 1;
      if (live === 0) break;
      randomAvailableActions(env, this.actions, rng);
      env.step(this.actions);
      envSteps += live;
    }
    return { episodes: env.drainEpisodes(), envSteps, stats: {} };
  }

  async save(): Promise<Checkpoint> {
    return {
      tensors: {},
      extra: { algo: 'random', started: this.started, rng: this.ctx.rng.getState(), env: this.ctx.env.getState() },
    };
  }

  load(ckpt: Checkpoint): void {
    const e = ckpt.extra as { algo?: string; started?: boolean; rng?: number[]; env?: unknown };
    if (e.algo !== 'random' || !Array.isArray(e.rng)) throw new Error('random: checkpoint was not written by the random baseline');
    this.ctx.rng.setState(e.rng);
    this.ctx.env.setState(e.env);
    this.started = Boolean(e.started);
  }

  dispose(): void {}
}

class RandomPolicy implements Policy {
  constructor(private readonly rng: Rng) {}
  resetCopy(): void {}
  act(env: VecEnv, actions: Int32Array): void {
    randomAvailableActions(env, actions, this.rng);
  }
  dispose(): void {}
}

export const randomEntry: AlgoEntry = {
  id: 'random',
  title: 'Uniform random (baseline)',
  schema: randomSchema,
  createTrainer: (ctx: TrainContext) => new RandomTrainer(ctx),
  createPolicy: (ctx) => new RandomPolicy(ctx.rng),
};
