/**
 * Kernel calls by name and process-CPU ms per F2A2 training round (issue 11, wt-11l):
 * `node --import tsx bench/f2a2-kernels.ts [rounds] preset[:k=v,...]` (as bench/f2a2-speed.ts),
 * after one warm-up round. Prints the top kernels of the last round.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src-main/backend/select';
import { resolve } from '../src-shared/config/schema';
import { getPreset } from '../src-shared/config/presets';
import { getAlgo, getEnv } from '../src-shared/registry';
import { Rng } from '../src-shared/rng';

function parse(v: string): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  return Number.isFinite(Number(v)) ? Number(v) : v;
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const [roundsArg, spec] = process.argv.slice(2);
  const rounds = Number(roundsArg) || 1;
  const [name, over = ''] = spec.split(':');
  const p = getPreset(name)!;
  const envEntry = getEnv(String(p.config.env?.id))!;
  const algo = getAlgo(String(p.config.algo?.id))!;
  const { id: _e, ...envRaw } = p.config.env ?? {};
  const { id: _a, ...algoRaw } = p.config.algo ?? {};
  const extra: Record<string, unknown> = {};
  let numEnvs = 4;
  for (const kv of over.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (k === 'numEnvs') numEnvs = Number(v);
    else extra[k] = parse(v);
  }
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, { ...algoRaw, ...extra });
  const env = envEntry.create(envConfig, { numEnvs, autoReset: false });
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const orig = engine.runKernel.bind(engine);
  let counts = new Map<string, number>();
  const stackFor = new Set((process.env.STACKS ?? '').split(',').filter(Boolean));
  let sites = new Map<string, number>();
  engine.runKernel = (...a: unknown[]) => {
    const k = String(a[0]);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if (stackFor.has(k)) {
      const fr = (new Error().stack ?? '').split('\n').filter((l) => l.includes('src-shared')).slice(0, 2).map((l) => l.trim().replace(/^at /, '').replace(/\(.*src-shared\//, '(')).join(' < ');
      const key = `${k} ${fr}`;
      sites.set(key, (sites.get(key) ?? 0) + 1);
    }
    return orig(...a);
  };
  let last = '';
  const allStats: unknown[] = [];
  for (let r = 0; r <= rounds; r++) {
    counts = new Map();
    sites = new Map();
    const c0 = process.cpuUsage();
    const res = await trainer.round();
    const c = process.cpuUsage(c0);
    allStats.push(res.stats);
    const total = [...counts.values()].reduce((s, x) => s + x, 0);
    last = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`round ${r}: cpu ms ${((c.user + c.system) / 1000).toFixed(0)} kernels ${total} iters ${res.stats['charts/update_iters']} mean_return ${res.stats.mean_return?.toFixed?.(2)}`);
  }
  console.log(last);
  for (const [k, v] of [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${v}\t${k}`);
  // Digest of every round's statistics and of the final checkpoint (tensors and counters), to
  // compare two builds for bit-identity.
  const h = createHash('sha256');
  for (const st of allStats) h.update(JSON.stringify(st));
  const statsDigest = h.digest('hex').slice(0, 16);
  const ck = await trainer.save();
  const hc = createHash('sha256');
  for (const k of Object.keys(ck.tensors).sort()) {
    hc.update(k);
    hc.update(Buffer.from(ck.tensors[k].data.buffer, ck.tensors[k].data.byteOffset, ck.tensors[k].data.byteLength));
  }
  hc.update(JSON.stringify(ck.extra));
  console.log(`digest stats ${statsDigest} checkpoint ${hc.digest('hex').slice(0, 16)} (${Object.keys(ck.tensors).length} tensors)`);
  console.log(`load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  trainer.dispose();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
