/** Build env + trainer/policy pairs for algorithm tests (wasm backend, Cairn gradients). */
import { resolve, type Values } from '../../src-shared/config/schema';
import type { AlgoEntry, Trainer } from '../../src-shared/algos/types';
import type { EpisodeRecord, VecEnv } from '../../src-shared/envs/types';
import { manitokanEntry } from '../../src-shared/envs/manitokan';
import { Rng } from '../../src-shared/rng';
import type { PpoNet } from '../../src-shared/nn/ppo-net';
import { tf } from '../nn/tf-setup';

export { setupTf, tf } from '../nn/tf-setup';

export interface Built {
  env: VecEnv;
  trainer: Trainer;
  envConfig: Values;
}

export function build(
  entry: AlgoEntry,
  opts: { numEnvs?: number; env?: Record<string, unknown>; algo?: Record<string, unknown>; seed?: number } = {},
): Built {
  const envConfig = resolve('env', manitokanEntry.schema, opts.env ?? {});
  const env = manitokanEntry.create(envConfig, { numEnvs: opts.numEnvs ?? 4, autoReset: false });
  const seed = opts.seed ?? 1;
  const trainer = entry.createTrainer({
    tf,
    env,
    envConfig,
    config: resolve('algo', entry.schema, opts.algo ?? {}),
    seed,
    rng: new Rng(seed, 3),
  });
  return { env, trainer, envConfig };
}

/** A comparable summary of a round's episodes. */
export function episodeSummary(eps: EpisodeRecord[]): string {
  return JSON.stringify(eps.map((e) => [e.envIndex, e.metrics]));
}

/**
 * Everything a run's bits depend on, as one string to compare two runs of the same (config,
 * seed): each round's episodes and statistics, then the checkpoint's tensors (bytes) and extra
 * state. `beforeRound(r)` runs before round r (e.g. to change a host hint between rounds).
 */
export async function runTrace(
  entry: AlgoEntry,
  opts: Parameters<typeof build>[1],
  rounds: number,
  beforeRound?: (r: number) => void,
): Promise<string> {
  const { trainer } = build(entry, opts);
  const out: unknown[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      beforeRound?.(r);
      const res = await trainer.round();
      out.push(episodeSummary(res.episodes), res.stats);
    }
    const ck = await trainer.save();
    const tensors = Object.entries(ck.tensors)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64')]);
    out.push(tensors, ck.extra);
  } finally {
    trainer.dispose();
  }
  return JSON.stringify(out);
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Doors opened per episode (sum over agents) for each episode. */
export function doorsPerEpisode(eps: EpisodeRecord[], N = 2): number[] {
  return eps.map((e) => {
    let s = 0;
    for (let i = 0; i < N; i++) s += e.metrics[`door_opened_${i}`] ?? 0;
    return s;
  });
}

export interface SequenceRun {
  value: Float32Array;
  grads: Record<string, Float32Array>;
  kernels: number;
}

/**
 * Value, every parameter gradient and the tfjs kernel count of PpoNet.sequence (or, with
 * `reference`, sequenceReference) under a loss that weights each output differently by w.
 */
export function sequenceRun(
  net: PpoNet, p: Float32Array, e: Float32Array, h0: Float32Array, L: number, S: number, w: Float32Array, reference = false,
): SequenceRun {
  const eng = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const orig = eng.runKernel;
  let kernels = 0;
  eng.runKernel = function (this: unknown, ...a: unknown[]) {
    kernels++;
    return orig.apply(this, a);
  };
  let value!: Float32Array;
  try {
    const res = net.params.grads(() => {
      const out = reference ? net.sequenceReference(p, e, h0, L, S) : net.sequence(p, e, h0, L, S);
      value = tf.keep(out).dataSync() as Float32Array;
      return tf.sum(tf.mul(tf.tanh(out), tf.tensor(w, out.shape))) as never;
    });
    const grads: Record<string, Float32Array> = {};
    for (const [k, g] of Object.entries(res.grads)) {
      grads[k] = g.dataSync() as Float32Array;
      g.dispose();
    }
    return { value, grads, kernels };
  } finally {
    eng.runKernel = orig;
  }
}
