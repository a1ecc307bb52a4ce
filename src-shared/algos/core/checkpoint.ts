/**
 * Checkpoint helpers: the save/load code every trainer repeated (parameter sets under a
 * prefix, optimiser slots under `optim/<name>/` with their counters in `optim<Name>`, the
 * algorithm RNG, the env's streams and grids, whether the first reset happened), behind one
 * pair of calls. A trainer adds only its own counters and buffers. The layout is the one the
 * trainers wrote before these helpers existed, so stored checkpoints keep loading.
 */
import type { VecEnv } from '../../envs/types';
import type { Optimizer } from '../../nn/optim';
import type { ParamSet } from '../../nn/params';
import type { Rng } from '../../rng';
import type { Checkpoint } from '../types';

export interface LearnerParts {
  /** Written as `extra.algo` and checked on load. */
  readonly algo: string;
  /** Written as `extra.version` and checked on load (omit for formats that never had one). */
  readonly version?: number;
  readonly ctx: { readonly rng: Rng; readonly env: VecEnv };
  readonly rollout?: { started: boolean };
  /** Tensor-name prefix -> parameters, e.g. { 'actor/': actor.params }. */
  readonly params?: Readonly<Record<string, ParamSet>>;
  /** Name -> optimiser: slots under `optim/<name>/`, counters under `optim<Name>`. */
  readonly optimisers?: Readonly<Record<string, Optimizer>>;
}

function optimExtraKey(name: string): string {
  return `optim${name[0].toUpperCase()}${name.slice(1)}`;
}

/** `${prefix}${key}` for every entry. */
export function prefixed<T>(rec: Record<string, T>, prefix: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(rec)) out[prefix + k] = v;
  return out;
}

/** The entries of `rec` under `prefix`, with the prefix removed. */
export function unprefixed<T>(rec: Record<string, T>, prefix: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(rec)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** The learner's whole state; `extra` and `tensors` are the trainer's own additions. */
export function saveLearner(p: LearnerParts, extra: Record<string, unknown> = {}, tensors: Checkpoint['tensors'] = {}): Checkpoint {
  const out: Checkpoint['tensors'] = {};
  for (const [prefix, set] of Object.entries(p.params ?? {})) Object.assign(out, set.toRecords(prefix));
  const optimExtra: Record<string, unknown> = {};
  for (const [name, opt] of Object.entries(p.optimisers ?? {})) {
    const st = opt.getState();
    Object.assign(out, prefixed(st.tensors, `optim/${name}/`));
    optimExtra[optimExtraKey(name)] = st.extra;
  }
  Object.assign(out, tensors);
  return {
    tensors: out,
    extra: {
      algo: p.algo,
      ...(p.version === undefined ? {} : { version: p.version }),
      rng: p.ctx.rng.getState(),
      env: p.ctx.env.getState(),
      ...(p.rollout ? { started: p.rollout.started } : {}),
      ...extra,
      ...optimExtra,
    },
  };
}

/**
 * Restore what `saveLearner` wrote; returns `extra` for the trainer's own counters. Throws,
 * before changing anything, when the checkpoint is another algorithm's or version's.
 */
export function loadLearner(ckpt: Checkpoint, p: LearnerParts): Record<string, unknown> {
  const e = ckpt.extra;
  if (e.algo !== p.algo || (p.version !== undefined && e.version !== p.version) || !Array.isArray(e.rng)) {
    throw new Error(`${p.algo}: checkpoint was not written by this ${p.algo.toUpperCase()} trainer (algo/version mismatch)`);
  }
  for (const [prefix, set] of Object.entries(p.params ?? {})) set.loadRecords(ckpt.tensors, prefix);
  for (const [name, opt] of Object.entries(p.optimisers ?? {})) {
    const counters = e[optimExtraKey(name)];
    if (typeof counters !== 'object' || counters === null) throw new Error(`${p.algo}: checkpoint has no optimiser state "${optimExtraKey(name)}"`);
    opt.setState({ tensors: unprefixed(ckpt.tensors, `optim/${name}/`), extra: counters as Record<string, number> });
  }
  p.ctx.rng.setState(e.rng as number[]);
  p.ctx.env.setState(e.env);
  if (p.rollout) p.rollout.started = Boolean(e.started);
  return e;
}

/** A finite number from a checkpoint's extra, or a clear error naming the field. */
export function counter(extra: Record<string, unknown>, key: string, algo: string): number {
  const v = Number(extra[key]);
  if (!Number.isFinite(v)) throw new Error(`${algo}: checkpoint field "${key}" is missing or not a number`);
  return v;
}
