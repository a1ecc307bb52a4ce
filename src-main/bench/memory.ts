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

export interface RssSample {
  round: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  tensors: number;
}

export interface RssReport {
  preset: string;
  rounds: number;
  samples: RssSample[];
  /** RSS change from the middle sample to the last, MB. */
  secondHalfGrowthMb: number;
  /** Live tensors at the last sample minus at the first. */
  tensorGrowth: number;
}

const mb = (b: number) => b / (1 << 20);

export async function rssOverRounds(o: { preset: string; rounds: number; every: number; numEnvs: number; episodeLimit?: number; log?: (s: string) => void }): Promise<RssReport> {
  const p = getPreset(o.preset);
  if (!p) throw new Error(`bench: preset ${o.preset} is not defined`);
  const extra: PartialExperiment = { train: { numEnvs: o.numEnvs }, ...(o.episodeLimit ? { env: { episodeLimit: o.episodeLimit } } : {}) };
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
  const sample = (round: number) => {
    const m = process.memoryUsage();
    samples.push({ round, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), externalMb: mb(m.external + m.arrayBuffers), tensors: tf.memory().numTensors });
  };
  try {
    sample(0);
    for (let r = 1; r <= o.rounds; r++) {
      await trainer.round();
      if (r % o.every === 0 || r === o.rounds) {
        sample(r);
        o.log?.(`rss: ${o.preset} round ${r}: ${samples[samples.length - 1].rssMb.toFixed(1)} MB`);
      }
    }
  } finally {
    trainer.dispose();
  }
  const mid = samples[Math.floor(samples.length / 2)];
  const last = samples[samples.length - 1];
  return { preset: o.preset, rounds: o.rounds, samples, secondHalfGrowthMb: last.rssMb - mid.rssMb, tensorGrowth: last.tensors - samples[1 < samples.length ? 1 : 0].tensors };
}

export function formatRss(r: RssReport): string {
  const lines = [`\n${r.preset}: ${r.rounds} rounds; RSS growth over the second half ${r.secondHalfGrowthMb.toFixed(1)} MB; live tensors ${r.tensorGrowth >= 0 ? '+' : ''}${r.tensorGrowth} after round 1`];
  lines.push(`${'round'.padStart(6)} ${'rss MB'.padStart(8)} ${'heap MB'.padStart(8)} ${'ext MB'.padStart(8)} ${'tensors'.padStart(8)}`);
  for (const s of r.samples) lines.push(`${String(s.round).padStart(6)} ${s.rssMb.toFixed(1).padStart(8)} ${s.heapMb.toFixed(1).padStart(8)} ${s.externalMb.toFixed(1).padStart(8)} ${String(s.tensors).padStart(8)}`);
  return lines.join('\n') + '\n';
}
