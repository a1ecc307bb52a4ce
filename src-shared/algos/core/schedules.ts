/**
 * Learning-rate schedules of the value-mixing learners (hidden-gifts Tables 6-8: "start learning
 * rate 1e-2, minimum learning rate 1e-6"). The tables give the two ends, not the shape or the
 * length: `linear` and `exponential` go from `lr` to `lrFinish` over `lrDecayUpdates` optimiser
 * updates and stay flat after; `constant` keeps `lr` (what the released code runs: its
 * MultiStepLR is never stepped). The epsilon schedule is PyMARL's DecayThenFlat, `epsilonAt` in
 * recurrent-actor.ts, shared with PG and COMA.
 */
import type { Schema } from '../../config/schema';

export const LR_SCHEDULES = ['linear', 'exponential', 'constant'] as const;
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];

export interface LrSchedule {
  lr: number;
  lrFinish: number;
  lrSchedule: LrScheduleKind;
  lrDecayUpdates: number;
}

/** Schema fields of the schedule (defaults: the tables' 1e-2 -> 1e-6, linear over 10,000 updates). */
export const lrScheduleSchema = {
  lr: { type: 'float', default: 1e-2, min: 0, max: 10, doc: 'Learning rate at the first update (paper Tables 6-8: 1e-2; released code: 0.1, constant).' },
  lrFinish: { type: 'float', default: 1e-6, min: 0, max: 10, doc: 'Learning rate at the end of the decay (paper Tables 6-8: minimum 1e-6).' },
  lrSchedule: {
    type: 'enum',
    default: 'linear',
    values: LR_SCHEDULES,
    doc: 'Shape of the decay from lr to lrFinish (paper silent on the shape: linear chosen; released code: constant, its scheduler is never stepped).',
  },
  lrDecayUpdates: {
    type: 'int',
    default: 10_000,
    min: 1,
    doc: "Optimiser updates over which the learning rate decays, then stays at lrFinish (paper silent: its budget, 10,000 rounds of one update).",
  },
} as const satisfies Schema;

/** The learning rate for the update after `updates` earlier ones. */
export function lrAt(s: LrSchedule, updates: number): number {
  if (s.lrSchedule === 'constant') return s.lr;
  const frac = Math.min(1, Math.max(0, updates) / s.lrDecayUpdates);
  if (s.lrSchedule === 'linear') return s.lr + (s.lrFinish - s.lr) * frac;
  if (s.lr <= 0 || s.lrFinish <= 0) return frac < 1 ? s.lr : s.lrFinish;
  return s.lr * Math.pow(s.lrFinish / s.lr, frac);
}
