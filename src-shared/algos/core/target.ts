/**
 * Target-network schedules: when a target copy follows its online network.
 * - hard, every K rounds (PyMARL's `target_update_interval` in episodes), or every K critic
 *   steps counted since the last copy and checked once per round after the update (what the
 *   released hidden-gifts code does);
 * - soft, every update: target <- tau * online + (1 - tau) * target (DDPG/MADDPG's Polyak
 *   averaging).
 * The counters are part of a learner's checkpoint (`getState` / `setState`), under the names
 * the trainers used before this module, so older checkpoints load.
 */
import type { Schema } from '../../config/schema';
import type { ParamSet } from '../../nn/params';
import type { Tf } from '../../nn/tf';
import { counter } from './checkpoint';

/** Schema fields of the hard target-critic copy (PG, COMA; spread into a learner's schema). */
export const targetCopySchema = {
  targetUpdate: { type: 'int', default: 1, min: 1, doc: 'Rounds between hard target-critic copies (paper: 1 episode). Ignored when targetUpdateCriticSteps > 0.' },
  targetUpdateCriticSteps: {
    type: 'int',
    default: 0,
    min: 0,
    doc: 'If > 0: copy the target when this many critic steps have passed since the last copy, checked once per round (released code: 200). 0 = use targetUpdate.',
  },
} as const satisfies Schema;

export type TargetRule =
  | { readonly kind: 'hard-rounds'; readonly every: number }
  | { readonly kind: 'hard-steps'; readonly every: number }
  | { readonly kind: 'soft'; readonly tau: number };

/** The rule `targetCopySchema`'s two fields describe. */
export function hardCopyRule(cfg: { targetUpdate: number; targetUpdateCriticSteps: number }): TargetRule {
  return cfg.targetUpdateCriticSteps > 0 ? { kind: 'hard-steps', every: cfg.targetUpdateCriticSteps } : { kind: 'hard-rounds', every: cfg.targetUpdate };
}

export class TargetSchedule {
  private stepsSince = 0;
  private roundsSince = 0;

  constructor(
    private readonly tf: Tf,
    private readonly target: ParamSet,
    private readonly online: ParamSet,
    readonly rule: TargetRule,
  ) {}

  /** Count optimiser steps of the online network (hard-steps counts them). */
  countSteps(n: number): void {
    this.stepsSince += n;
  }

  /**
   * Once per round, after the update: copy (or blend) when the rule says so. Returns whether
   * the target changed.
   */
  endRound(): boolean {
    this.roundsSince++;
    const r = this.rule;
    if (r.kind === 'soft') {
      softUpdate(this.tf, this.target, this.online, r.tau);
      return true;
    }
    const due = r.kind === 'hard-steps' ? this.stepsSince >= r.every : this.roundsSince >= r.every;
    if (!due) return false;
    this.target.copyFrom(this.online);
    this.stepsSince = 0;
    this.roundsSince = 0;
    return true;
  }

  getState(): { criticStepsSinceTarget: number; roundsSinceTarget: number } {
    return { criticStepsSinceTarget: this.stepsSince, roundsSinceTarget: this.roundsSince };
  }

  setState(extra: Record<string, unknown>, algo: string): void {
    this.stepsSince = counter(extra, 'criticStepsSinceTarget', algo);
    this.roundsSince = counter(extra, 'roundsSinceTarget', algo);
  }
}

/** target <- tau * online + (1 - tau) * target, parameter by parameter (same names). */
export function softUpdate(tf: Tf, target: ParamSet, online: ParamSet, tau: number): void {
  for (const name of target.names()) {
    const t = target.get(name);
    const next = tf.tidy(() => tf.add(tf.mul(online.get(name), tau), tf.mul(t, 1 - tau)));
    t.assign(next);
    next.dispose();
  }
}
