/**
 * `cairn bench --ab-moa`: the cost of F2A2's full MOA (character, mental and natural nets,
 * algos/f2a2-moa-natural.ts) against the impromptu net alone, per training round, on the
 * F2A2-DDPG presets of the paper's two particle tasks at their paper settings.
 *
 * Each side is its own trainer (seed 1) with as many copies as make one round 100 env steps,
 * i.e. one update cycle of 4 iterations (the paper's cadence); warm-up 1 so that every measured
 * round updates. Rounds alternate A B A B after one warm-up round each. Reported per side: the
 * median process-CPU ms per round (steadier than wall time on a loaded machine), the median
 * wall ms, update iterations per round, and the one-off construction cost (the full side
 * collects its 1,000 random character trajectories there).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from '../../src-shared/config/schema';
import { getPreset } from '../../src-shared/config/presets';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import type { Trainer } from '../../src-shared/algos/types';

export const AB_MOA_PRESETS = ['rover-tower-f2a2-ddpg', 'treasure-collection-f2a2-ddpg'] as const;

interface Side {
  trainer: Trainer;
  buildCpuMs: number;
  buildWallMs: number;
  cpu: number[];
  wall: number[];
  iters: number[];
}

function build(preset: string, moaModel: 'impromptu' | 'full'): Side {
  const p = getPreset(preset);
  if (!p) throw new Error(`bench --ab-moa: preset ${preset} is not defined`);
  const envEntry = getEnv(String(p.config.env?.id))!;
  const algo = getAlgo(String(p.config.algo?.id))!;
  const { id: _e, ...envRaw } = p.config.env ?? {};
  const { id: _a, ...algoRaw } = p.config.algo ?? {};
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, { ...algoRaw, moaModel, warmup: 1 });
  const limit = envEntry.spec(envConfig).episodeLimit;
  const env = envEntry.create(envConfig, { numEnvs: Math.max(1, Math.round(100 / limit)), autoReset: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  const c = process.cpuUsage(c0);
  return { trainer, buildCpuMs: (c.user + c.system) / 1000, buildWallMs: performance.now() - t0, cpu: [], wall: [], iters: [] };
}

async function timedRound(s: Side): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await s.trainer.round();
  const c = process.cpuUsage(c0);
  s.wall.push(performance.now() - t0);
  s.cpu.push((c.user + c.system) / 1000);
  // charts/update_iters is cumulative.
  s.iters.push(r.stats['charts/update_iters'] ?? 0);
}

const perRound = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function abMoa(o: { reps: number; log: (s: string) => void; presets?: readonly string[] }): Promise<string> {
  const out = [`\nF2A2 MOA cost per round (100 env steps, 4 update iterations): impromptu only (A) vs full (B), alternating ${o.reps} times (load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at start)`];
  out.push(`${'preset'.padEnd(30)} ${'A cpu ms'.padStart(9)} ${'B cpu ms'.padStart(9)} ${'B/A cpu'.padStart(8)} ${'A wall'.padStart(8)} ${'B wall'.padStart(8)} ${'B build cpu ms'.padStart(15)}  per rep B/A`);
  for (const preset of o.presets ?? AB_MOA_PRESETS) {
    if (!getPreset(preset)) continue;
    o.log(`ab-moa: ${preset}: building both sides ...`);
    const a = build(preset, 'impromptu');
    const b = build(preset, 'full');
    try {
      o.log(`ab-moa: ${preset}: warm-up rounds ...`);
      await timedRound(a);
      await timedRound(b);
      a.cpu.length = a.wall.length = b.cpu.length = b.wall.length = 0;
      for (let rep = 0; rep < o.reps; rep++) {
        o.log(`ab-moa: ${preset} rep ${rep + 1}/${o.reps} ...`);
        await timedRound(a);
        await timedRound(b);
      }
    } finally {
      a.trainer.dispose();
      b.trainer.dispose();
    }
    const per = b.cpu.map((x, i) => (x / a.cpu[i]).toFixed(1)).join(' ');
    const itA = perRound(a.iters);
    const itB = perRound(b.iters);
    if (itA.length > 0 && (median(itA) !== median(itB) || median(itA) === 0)) o.log(`ab-moa: ${preset}: update iterations per round differ or are 0 (A ${median(itA)}, B ${median(itB)})`);
    out.push(
      `${preset.padEnd(30)} ${median(a.cpu).toFixed(0).padStart(9)} ${median(b.cpu).toFixed(0).padStart(9)} ${(median(b.cpu) / median(a.cpu)).toFixed(1).padStart(7)}x ${median(a.wall).toFixed(0).padStart(8)} ${median(b.wall).toFixed(0).padStart(8)} ${b.buildCpuMs.toFixed(0).padStart(15)}  ${per}`,
    );
  }
  out.push(`(load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at end)`);
  return out.join('\n') + '\n';
}
