/**
 * MAPPO and IPPO with the PPO update's operand staging before issue 15m (A: `ppoStaging.legacy`,
 * transposes and last-axis splits as kernels) and after (B: transposed blocks as views, the
 * conv's patches transposed on the CPU, ...), alternating A B A B on ONE trainer, one round
 * each: `node --import tsx bench/ppo-ab.ts [reps] [preset ...]`. Both paths give the same bits
 * (test/algos/ppo-sequence.test.ts), so only speed differs. Reported: process CPU ms per round
 * (steadier than wall time on a shared machine), wall ms, kernel calls per round, medians and
 * the per-repetition B/A ratios of CPU time.
 *
 * `--kernel` as the first argument compares instead PpoNet's GRU layer per group on tfjs's
 * matmuls (A: `ppoKernel.matmul = false`, the path before issue 15i) with all groups at once
 * on the wasm kernel's matmuls (B, the default; nn/ppo-kernel.ts); same bits too:
 * `node --import tsx bench/ppo-ab.ts --kernel [reps] [preset ...]`.
 *
 * `--layers` compares PpoNet's feed-forward layers (conv, fc1, fc2, head) per group on tfjs
 * (A: `ppoKernel.layers = false`, the path before issue-15f) with all groups as one op each
 * on the wasm kernel (B, the default; ppoTrunkGroups / ppoHeadGroups); same bits.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src-main/backend/select';
import { trainerFromPreset } from './preset-trainer';
import { ppoStaging } from '../src-shared/nn/ppo-gru';
import { ppoKernel } from '../src-shared/nn/ppo-kernel';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await initBackend('wasm');
  const argv = process.argv.slice(2);
  const kernel = argv[0] === '--kernel';
  const layers = argv[0] === '--layers';
  const [repsArg, ...named] = kernel || layers ? argv.slice(1) : argv;
  // A: the path before (legacy staging, the GRU layer or the feed-forward layers per group on tfjs); B: the default.
  const setA = (a: boolean): void => {
    if (kernel) ppoKernel.matmul = !a;
    else if (layers) ppoKernel.layers = !a;
    else ppoStaging.legacy = a;
  };
  const reps = Number(repsArg) || 3;
  const presets = named.length > 0 ? named : ['manitokan-mappo-history', 'manitokan-ippo-history'];
  console.log(`ppo-ab${kernel ? ' --kernel' : layers ? ' --layers' : ''}: ${reps} reps, 32 copies, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const orig = engine.runKernel.bind(engine);
  let calls = 0;
  engine.runKernel = (...a: unknown[]) => {
    calls++;
    return orig(...a);
  };
  for (const name of presets) {
    const trainer = trainerFromPreset(name, {}, 32);
    const side = { A: { cpu: [] as number[], wall: [] as number[], calls: [] as number[] }, B: { cpu: [] as number[], wall: [] as number[], calls: [] as number[] } };
    try {
      await trainer.round();
      for (let r = 0; r < reps; r++) {
        for (const legacy of [true, false]) {
          setA(legacy);
          calls = 0;
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await trainer.round();
          const c = process.cpuUsage(c0);
          const s = legacy ? side.A : side.B;
          s.wall.push(performance.now() - t0);
          s.cpu.push((c.user + c.system) / 1000);
          s.calls.push(calls);
        }
      }
    } finally {
      setA(false);
      trainer.dispose();
    }
    const per = side.B.cpu.map((b, i) => (side.A.cpu[i] / b).toFixed(2)).join(' ');
    console.log(
      `${name}: cpu ms/round A ${median(side.A.cpu).toFixed(0)} B ${median(side.B.cpu).toFixed(0)} A/B ${(median(side.A.cpu) / median(side.B.cpu)).toFixed(2)}x (per rep ${per}); ` +
        `wall A ${median(side.A.wall).toFixed(0)} B ${median(side.B.wall).toFixed(0)}; kernels A ${median(side.A.calls)} B ${median(side.B.calls)}; load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
