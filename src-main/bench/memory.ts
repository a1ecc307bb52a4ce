/**
 * `cairn bench --rss`: does a long run's memory stay flat? Runs one learner's trainer in this
 * process the way a worker does (rounds back to back) and samples the resident set size, the
 * V8 heap, wasm memory and live tensors every `every` rounds. Prints the samples and the RSS
 * growth over the second half (the first rounds grow buffers to their working size).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mergeExperiment, resolveExperiment, type PartialExperiment } from '../../src-shared/config/experiment';
import { getPreset } from '../../src-shared/config/presets';
import { resolve } from '../../src-shared/config/schema';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { liveCriticThreads, type HelperMemory } from '../runner/ppo-critic-thread';

export interface RssSample {
  round: number;
  rssMb: number;
  heapMb: number;
  /** V8 heap committed (used plus free pages it keeps). */
  heapTotalMb: number;
  externalMb: number;
  tensors: number;
  /** Seconds since the first sample, and this process's CPU seconds (all its threads). */
  wallS: number;
  cpuS: number;
  /** PPO's critic helper thread (updateThreads 2): its isolate's heap, wasm/external memory and tensors. */
  helper?: HelperMemory;
}

export interface RssReport {
  preset: string;
  /** The bench row's label (e.g. mappo-2t). */
  label?: string;
  rounds: number;
  samples: RssSample[];
  /** Samples taken after a full GC (`node --expose-gc`). */
  gc: boolean;
  /** RSS change from the middle sample to the last, MB. */
  secondHalfGrowthMb: number;
  /** Live tensors at the last sample minus at the first. */
  tensorGrowth: number;
}

const mb = (b: number) => b / (1 << 20);

export async function rssOverRounds(o: {
  preset: string;
  label?: string;
  /** Algorithm settings over the preset's (a bench row's, e.g. updateThreads 2). */
  algo?: Record<string, unknown>;
  rounds: number;
  every: number;
  numEnvs: number;
  episodeLimit?: number;
  log?: (s: string) => void;
}): Promise<RssReport> {
  const p = getPreset(o.preset);
  if (!p) throw new Error(`bench: preset ${o.preset} is not defined`);
  const extra: PartialExperiment = {
    train: { numEnvs: o.numEnvs },
    ...(o.episodeLimit ? { env: { episodeLimit: o.episodeLimit } } : {}),
    ...(o.algo ? { algo: o.algo } : {}),
  };
  const exp = resolveExperiment(mergeExperiment(p.config, extra));
  const envEntry = getEnv(exp.env.id as string)!;
  const algo = getAlgo(exp.algo.id as string)!;
  const { id: _e, ...envRaw } = exp.env;
  const { id: _a, ...algoRaw } = exp.algo;
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, algoRaw);
  const env = envEntry.create(envConfig, { numEnvs: o.numEnvs, autoReset: false });
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 1_000_003) });
  const samples: RssSample[] = [];
  // RSS counts every thread of the process, a helper's too; heap and external are per isolate,
  // so a helper's are asked of it (between rounds it has nothing queued).
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Under `node --expose-gc` each sample follows a full collection, so garbage not yet
  // collected does not pass for growth (and growth that remains is live or native).
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = async (round: number) => {
    gc?.();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage(cpu0);
    const helpers = liveCriticThreads();
    const helper = helpers.length > 0 ? await helpers[0].memory() : undefined;
    samples.push({ round, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external + m.arrayBuffers), tensors: tf.memory().numTensors, wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6, helper });
  };
  try {
    await sample(0);
    for (let r = 1; r <= o.rounds; r++) {
      await trainer.round();
      if (r % o.every === 0 || r === o.rounds) {
        await sample(r);
        const s = samples[samples.length - 1];
        o.log?.(`rss: ${o.preset} round ${r} (${s.wallS.toFixed(0)} s, cpu ${s.cpuS.toFixed(0)} s): ${s.rssMb.toFixed(1)} MB, heap ${s.heapMb.toFixed(1)} of ${s.heapTotalMb.toFixed(1)}, ext ${s.externalMb.toFixed(1)}, tensors ${s.tensors}${s.helper ? ` (helper external ${s.helper.externalMb.toFixed(1)} MB)` : ''}`);
      }
    }
  } finally {
    trainer.dispose();
  }
  const mid = samples[Math.floor(samples.length / 2)];
  const last = samples[samples.length - 1];
  return { preset: o.preset, label: o.label, gc: gc !== undefined, rounds: o.rounds, samples, secondHalfGrowthMb: last.rssMb - mid.rssMb, tensorGrowth: last.tensors - samples[1 < samples.length ? 1 : 0].tensors };
}

export function formatRss(r: RssReport): string {
  const withHelper = r.samples.some((s) => s.helper);
  const lines = [`\n${r.preset}${r.label ? ` (${r.label})` : ''}: ${r.rounds} rounds${r.gc ? ' (samples after a full GC)' : ''}; RSS growth over the second half ${r.secondHalfGrowthMb.toFixed(1)} MB; live tensors ${r.tensorGrowth >= 0 ? '+' : ''}${r.tensorGrowth} after round 1`];
  const helperHead = withHelper ? ` ${'helper heap'.padStart(11)} ${'helper ext'.padStart(10)} ${'h.tensors'.padStart(9)}` : '';
  lines.push(`${'round'.padStart(6)} ${'rss MB'.padStart(8)} ${'heap MB'.padStart(8)} ${'ext MB'.padStart(8)} ${'tensors'.padStart(8)}${helperHead}`);
  for (const s of r.samples) {
    const h = s.helper ? ` ${s.helper.heapMb.toFixed(1).padStart(11)} ${s.helper.externalMb.toFixed(1).padStart(10)} ${String(s.helper.tensors).padStart(9)}` : withHelper ? ' '.repeat(32) : '';
    lines.push(`${String(s.round).padStart(6)} ${s.rssMb.toFixed(1).padStart(8)} ${s.heapMb.toFixed(1).padStart(8)} ${s.externalMb.toFixed(1).padStart(8)} ${String(s.tensors).padStart(8)}${h}`);
  }
  return lines.join('\n') + '\n';
}
