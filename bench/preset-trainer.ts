/**
 * What the bench scripts share: a trainer built from `preset[:k=v,...]` (overrides are algo
 * fields, `numEnvs=` the env copies; seed 1), and a counter of the engine's kernel calls.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from '../src-shared/config/schema';
import { getPreset } from '../src-shared/config/presets';
import { getAlgo, getEnv } from '../src-shared/registry';
import { Rng } from '../src-shared/rng';
import type { Trainer } from '../src-shared/algos/types';

function parse(v: string): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  return Number.isFinite(Number(v)) ? Number(v) : v;
}

/** A trainer for preset `name` with algo fields `over` on `numEnvs` env copies (seed 1). */
export function trainerFromPreset(name: string, over: Record<string, unknown> = {}, numEnvs = 4): Trainer {
  const p = getPreset(name);
  if (!p) throw new Error(`preset ${name} is not defined`);
  const envEntry = getEnv(String(p.config.env?.id))!;
  const algo = getAlgo(String(p.config.algo?.id))!;
  const { id: _e, ...envRaw } = p.config.env ?? {};
  const { id: _a, ...algoRaw } = p.config.algo ?? {};
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, { ...algoRaw, ...over });
  const env = envEntry.create(envConfig, { numEnvs, autoReset: false });
  return algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
}

/** `preset[:k=v,...]`: overrides are algo fields, `numEnvs=` the copies (default 4). */
export function presetTrainer(spec: string): Trainer {
  const [name, over = ''] = spec.split(':');
  const extra: Record<string, unknown> = {};
  let numEnvs = 4;
  for (const kv of over.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (k === 'numEnvs') numEnvs = Number(v);
    else extra[k] = parse(v);
  }
  return trainerFromPreset(name, extra, numEnvs);
}

/**
 * Counts the engine's kernel calls by name (all calls, nested ones too) until `restore()`.
 * `onCall` sees each call's name, e.g. to record where it came from.
 */
export class KernelCounter {
  byName = new Map<string, number>();
  private readonly engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  private readonly orig = this.engine.runKernel;

  constructor(onCall?: (name: string) => void) {
    const orig = this.orig.bind(this.engine);
    this.engine.runKernel = (...a: unknown[]) => {
      const k = String(a[0]);
      this.byName.set(k, (this.byName.get(k) ?? 0) + 1);
      onCall?.(k);
      return orig(...a);
    };
  }

  get total(): number {
    let n = 0;
    for (const v of this.byName.values()) n += v;
    return n;
  }

  reset(): void {
    this.byName = new Map();
  }

  restore(): void {
    this.engine.runKernel = this.orig;
  }
}
