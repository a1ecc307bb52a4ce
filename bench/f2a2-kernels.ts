/**
 * Kernel calls by name and process-CPU ms per F2A2 training round (issue 11, wt-11l):
 * `node --import tsx bench/f2a2-kernels.ts [rounds] preset[:k=v,...]` (as bench/f2a2-speed.ts),
 * after one warm-up round. Prints the top kernels of the last round.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { initBackend } from '../src-main/backend/select';
import { KernelCounter, presetTrainer } from './preset-trainer';

async function main(): Promise<void> {
  await initBackend('wasm');
  const [roundsArg, spec] = process.argv.slice(2);
  const rounds = Number(roundsArg) || 1;
  const trainer = presetTrainer(spec);
  const stackFor = new Set((process.env.STACKS ?? '').split(',').filter(Boolean));
  let sites = new Map<string, number>();
  const counter = new KernelCounter((k) => {
    if (!stackFor.has(k)) return;
    const fr = (new Error().stack ?? '').split('\n').filter((l) => l.includes('src-shared')).slice(0, 2).map((l) => l.trim().replace(/^at /, '').replace(/\(.*src-shared\//, '(')).join(' < ');
    const key = `${k} ${fr}`;
    sites.set(key, (sites.get(key) ?? 0) + 1);
  });
  let last = '';
  const allStats: unknown[] = [];
  for (let r = 0; r <= rounds; r++) {
    counter.reset();
    sites = new Map();
    const c0 = process.cpuUsage();
    const res = await trainer.round();
    const c = process.cpuUsage(c0);
    allStats.push(res.stats);
    const total = counter.total;
    last = [...counter.byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${k} ${v}`).join(', ');
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
  counter.restore();
  trainer.dispose();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
