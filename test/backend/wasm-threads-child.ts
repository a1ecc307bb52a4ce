/**
 * Child process of wasm-threads.test.ts (the thread count is fixed when the wasm module starts,
 * so each count needs its own process). Starts the wasm backend with CAIRN_WASM_THREADS as
 * given, then prints one JSON line:
 * - threads: what the backend reports;
 * - gemm: a hash of the bytes of XNNPACK kernels (matmul, fused matmul + bias + relu and its
 *   gradients, conv2d) on shapes large enough to be split over threads;
 * - otherCpuShare: the share of the process's CPU time those kernels spent on threads other than
 *   the main one (Linux /proc; null elsewhere): near 0 single-threaded, the pool's part else;
 * - golden: for each named golden fixture (test/fixtures/golden, recorded single-threaded),
 *   whether replaying it here gives the same numbers, with the first difference if not.
 * It never calls process.exit: returning must be enough for the process to end (the pool's
 * workers must not hold it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src-main/backend/select';
import { resolve } from '../../src-shared/config/schema';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';

const ALGO_STREAM = 1_000_003;

function fnv(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** utime + stime in clock ticks of every thread of this process but the main one. */
function otherThreadsTicks(): number | null {
  try {
    let sum = 0;
    for (const tid of fs.readdirSync('/proc/self/task')) {
      if (Number(tid) === process.pid) continue;
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]);
    }
    return sum;
  } catch {
    return null;
  }
}

function mainThreadTicks(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

function gemmHash(): { hash: string; otherCpuShare: number | null } {
  const rng = new Rng(11, 7);
  const t = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.float() - 0.5), shape);
  const x = t([4800, 518]);
  const w = t([518, 64]);
  const b = t([64]);
  const img = t([64, 11, 11, 6]);
  const k = t([3, 3, 6, 32]);
  let h = 0x811c9dc5;
  const o0 = otherThreadsTicks();
  const m0 = mainThreadTicks();
  for (let rep = 0; rep < 4; rep++) {
    const outs = tf.tidy(() => {
      // Cairn registers no Conv2D gradient (its convs are matmuls over patches): forward only.
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.relu(tf.add(tf.matMul(xx, ww), b))));
      return [tf.matMul(x, w), tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }), tf.conv2d(img as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'), ...g([x, w])];
    });
    for (const o of outs) {
      const d = o.dataSync() as Float32Array;
      h = fnv(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), h);
      o.dispose();
    }
  }
  const o1 = otherThreadsTicks();
  const m1 = mainThreadTicks();
  tf.dispose([x, w, b, img, k]);
  const share = o0 === null || o1 === null || m0 === null || m1 === null || o1 - o0 + (m1 - m0) === 0 ? null : (o1 - o0) / (o1 - o0 + (m1 - m0));
  return { hash: h.toString(16), otherCpuShare: share };
}

interface RoundRecord {
  envSteps: number;
  stats: Record<string, number | string>;
  episodes: [number, Record<string, number | string | null>][];
}

const num = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

/** The golden test's replay (test/algos/golden.test.ts `play`), without the replay hash. */
async function replayGolden(name: string): Promise<string> {
  const fx = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden', `${name}.json`), 'utf8'));
  const { id: envId, ...envRest } = fx.env;
  const { id: algoId, ...algoRest } = fx.algo;
  const envEntry = getEnv(String(envId))!;
  const algoEntry = getAlgo(String(algoId))!;
  const envConfig = resolve('env', envEntry.schema, envRest);
  const config = resolve('algo', algoEntry.schema, algoRest);
  const vec = envEntry.create(envConfig, { numEnvs: fx.numEnvs, autoReset: false });
  const trainer = algoEntry.createTrainer({ tf, env: vec, envConfig, config, seed: fx.seed, rng: new Rng(fx.seed, ALGO_STREAM) });
  try {
    for (let r = 0; r < fx.rounds.length; r++) {
      const res = await trainer.round();
      const got: RoundRecord = JSON.parse(
        JSON.stringify({
          envSteps: res.envSteps,
          stats: Object.fromEntries(Object.entries(res.stats).map(([k, v]) => [k, num(v)])),
          episodes: res.episodes.map((e) => [e.envIndex, Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k, v === null ? null : num(v)]))]),
        }),
      );
      const want = fx.rounds[r];
      if (got.envSteps !== want.envSteps) return `round ${r}: envSteps ${got.envSteps} vs ${want.envSteps}`;
      if (JSON.stringify(got.episodes) !== JSON.stringify(want.episodes)) return `round ${r}: episodes differ`;
      for (const [key, v] of Object.entries(want.stats)) if (got.stats[key] !== v) return `round ${r}: ${key} ${got.stats[key]} vs ${v}`;
    }
  } finally {
    trainer.dispose();
  }
  return 'same';
}

const info = await initBackend('wasm');
const gemm = gemmHash();
const golden: Record<string, string> = {};
for (const name of (process.env.GOLDEN ?? '').split(',').filter(Boolean)) golden[name] = await replayGolden(name);
process.stdout.write(JSON.stringify({ threads: info.threads, ...gemm, golden }) + '\n');
