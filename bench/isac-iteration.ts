/**
 * One F2A2-ISAC update iteration in isolation (issue 11, wt-11b2): `node --import tsx
 * bench/isac-iteration.ts [armySize] [iters] [ab]`. Builds the trainer on a self-play battle of
 * `armySize` per side (4 copies, batch 128: the presets' settings), fills the replays with one
 * short round of random-ish acting, then times `iters` update iterations: process-CPU ms and
 * kernel calls per iteration, and the costliest kernels. With `ab`, alternates the reference
 * iteration (A, `iterationReference`) and the current one (B) on the same trainer.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { backendChoice, initBackend } from '../src-main/backend/select';
import { resolve } from '../src-shared/config/schema';
import { f2a2IsacSchema, F2a2IsacTrainer } from '../src-shared/algos/f2a2-isac';
import { battleEntry } from '../src-shared/envs/battle';
import { Rng } from '../src-shared/rng';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  // wasm unless CAIRN_BACKEND says otherwise: the figures in docs/ before wasm-blas were taken on wasm.
  const backend = await initBackend(process.env.CAIRN_BACKEND ? backendChoice() : 'wasm');
  const k = Number(process.argv[2] ?? 64);
  const iters = Number(process.argv[3] ?? 5);
  const ab = process.argv[4] === 'ab';
  const envConfig = resolve('env', battleEntry.schema, { armySize: k, episodeLimit: 20 });
  const env = battleEntry.create(envConfig, { numEnvs: 1, autoReset: false });
  const config = resolve('algo', f2a2IsacSchema, { warmup: 1_000_000, bufferSize: 20_000, trainEvery: 1_000_000 });
  const t = new F2a2IsacTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  await t.round();
  console.log(`isac-iteration (${backend.name}): ${k} vs ${k}, replay ${t.buffers.map((b) => b.count).join('/')}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...a: unknown[]) => unknown };
  const orig = engine.runKernel.bind(engine);
  const byKernel = new Map<string, number>();
  const msKernel = new Map<string, number>();
  let n = 0;
  let depth = 0;
  engine.runKernel = (name: string, ...a: unknown[]) => {
    n++;
    byKernel.set(name, (byKernel.get(name) ?? 0) + 1);
    // Outermost calls only, process CPU (a kernel's gradient may call kernels inside it).
    if (depth > 0) return orig(name, ...a);
    depth++;
    const c0 = process.cpuUsage();
    try {
      return orig(name, ...a);
    } finally {
      const c = process.cpuUsage(c0);
      const key = process.env.BY_SHAPE && (name === "Slice" || name === "Concat") ? `${name}${JSON.stringify(((a[0] as Record<string, { shape: number[] }>).x ?? Object.values(a[0] as object)[0])?.shape)}` : name;
      msKernel.set(key, (msKernel.get(key) ?? 0) + (c.user + c.system) / 1000);
      depth--;
    }
  };
  const ref = () => {
    t.reference = true;
    try {
      t.iteration();
    } finally {
      t.reference = false;
    }
  };
  const rows: Record<'A' | 'B', { cpu: number[]; calls: number[] }> = { A: { cpu: [], calls: [] }, B: { cpu: [], calls: [] } };
  t.iteration(); // warm-up: kernels compile, buffers grow
  if (ab) ref();
  for (let i = 0; i < iters; i++) {
    for (const side of ab ? (['A', 'B'] as const) : (['B'] as const)) {
      n = 0;
      byKernel.clear();
      msKernel.clear();
      const c0 = process.cpuUsage();
      if (side === 'A') ref();
      else t.iteration();
      const c = process.cpuUsage(c0);
      rows[side].cpu.push((c.user + c.system) / 1000);
      rows[side].calls.push(n);
    }
  }
  engine.runKernel = orig;
  for (const side of ab ? (['A', 'B'] as const) : (['B'] as const)) {
    console.log(`${side}: CPU ms per iteration median ${median(rows[side].cpu).toFixed(0)} (${rows[side].cpu.map((x) => x.toFixed(0)).join(' ')}), kernel calls ${median(rows[side].calls)}`);
  }
  console.log('kernels of the last iteration:', [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, c]) => `${name} ${c}`).join(', '));
  console.log('CPU ms by kernel, last iteration:', [...msKernel].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, c]) => `${name} ${c.toFixed(0)}`).join(', '));
  console.log(`tensors alive ${tf.memory().numTensors}`);
  t.dispose();
}

void main();
