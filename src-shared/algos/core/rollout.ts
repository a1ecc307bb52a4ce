/**
 * The lock-step rollout every on-policy trainer drives: all B copies start an episode together
 * and step until every copy has finished (finished copies are masked out), which is one round
 * of the paper's counting. The trainer supplies what differs (its network pass and what it
 * records) through two hooks; this module owns what used to be copied into each trainer:
 *
 * - seeding: the first round resets every copy from (seed, ENV_RESET_STREAM), later rounds
 *   reset the finished copies, which keep their own streams (so resume is exact);
 * - masks: `valid[t * B + b]` = copy b was still running at step t;
 * - episode ends: `endStep[b]` (last valid step) and `endTrunc[b]` (ended by the time limit,
 *   which bootstraps, rather than by termination, which does not). A copy still running when
 *   the step budget runs out counts as truncated at the last step;
 * - final observations: the env runs without auto-reset, so right after the step that ends a
 *   copy its `obs`/`state` rows ARE the final observation; `onEnd(b, slot)` is called then
 *   (slot = endStep + 1), which is where trainers copy what their critics bootstrap from;
 * - env-step counting: `envSteps` (copies x steps actually taken) and `T` (lock-step steps).
 *
 * Actions go to the env as the contract says: discrete ones as one Int32 per (copy, agent) in
 * `actions`, box ones as `spec.boxSize` Float32 per (copy, agent) in `boxActions`. Agents of
 * teams the env scripts are stepped with whatever is there (the env ignores them); a trainer
 * acts for `learnerAgents(spec)` only when its networks are per learner agent.
 */
import { deriveSeed } from '../../rng';
import type { EpisodeRecord, VecEnv } from '../../envs/types';

/** Stream tag for the env copies' reset seed (the env derives per-copy streams from it). */
export const ENV_RESET_STREAM = 1;

export interface RolloutHooks {
  /**
   * Choose actions for step t: write `rollout.actions` (and `boxActions`) for every copy with
   * `valid[t * B + b]`; rows of finished copies are ignored by the env.
   */
  act(t: number): void;
  /** After the env stepped at t (rewards, dones and the new observations are in the env). */
  observe?(t: number): void;
  /** Copy b's episode has ended; its final observation is in the env now and belongs to `slot`. */
  onEnd?(b: number, slot: number): void;
}

export interface RolloutResult {
  /** Lock-step steps taken (the longest episode of the round). */
  readonly T: number;
  /** Env steps: one per running copy per step. */
  readonly envSteps: number;
  readonly episodes: EpisodeRecord[];
}

export class LockstepRollout {
  readonly B: number;
  readonly N: number;
  /** [L][B] 1 while copy b runs at step t. */
  readonly valid: Uint8Array;
  /** [B] last valid step of each copy's episode in the current round. */
  readonly endStep: Int32Array;
  /** [B] 1 when that episode ended by the time limit. */
  readonly endTrunc: Uint8Array;
  /** [B, N] discrete actions handed to `env.step`. */
  readonly actions: Int32Array;
  /** [B, N, boxSize] continuous actions (empty when no agent acts in a box). */
  readonly boxActions: Float32Array;
  /** Whether the first reset has happened (checkpointed by the trainer). */
  started = false;

  constructor(
    readonly env: VecEnv,
    private readonly seed: number,
    /** Step budget of one round (the env's episode limit). */
    readonly maxSteps: number = env.spec.episodeLimit,
  ) {
    this.B = env.numEnvs;
    this.N = env.spec.numAgents;
    this.valid = new Uint8Array(maxSteps * this.B);
    this.endStep = new Int32Array(this.B);
    this.endTrunc = new Uint8Array(this.B);
    this.actions = new Int32Array(this.B * this.N);
    this.boxActions = new Float32Array(this.B * this.N * env.spec.boxSize);
  }

  /** Start the round's episodes (first round: seeded reset of every copy). */
  begin(): void {
    if (!this.started) this.env.reset(deriveSeed(this.seed, ENV_RESET_STREAM));
    else this.env.resetFinished();
    this.started = true;
  }

  /** Step until every copy has finished or the budget is spent. Call `begin()` first. */
  run(hooks: RolloutHooks): RolloutResult {
    const { env, B } = this;
    const box = env.spec.boxSize > 0 ? this.boxActions : undefined;
    let T = 0;
    let envSteps = 0;
    for (let t = 0; t < this.maxSteps; t++) {
      let live = 0;
      for (let b = 0; b < B; b++) {
        const v = env.finished[b] ? 0 : 1;
        this.valid[t * B + b] = v;
        live += v;
      }
      if (live === 0) break;
      hooks.act(t);
      env.step(this.actions, box);
      envSteps += live;
      T = t + 1;
      hooks.observe?.(t);
      for (let b = 0; b < B; b++) {
        if (this.valid[t * B + b] && env.dones[b]) {
          this.endStep[b] = t;
          this.endTrunc[b] = env.truncated[b];
          hooks.onEnd?.(b, t + 1);
        }
      }
    }
    for (let b = 0; b < B; b++) {
      if (!env.finished[b]) {
        // Still running at the budget (not with the env's own time limit): a truncation.
        this.endStep[b] = T - 1;
        this.endTrunc[b] = 1;
        hooks.onEnd?.(b, T);
      }
    }
    return { T, envSteps, episodes: env.drainEpisodes() };
  }
}
