/**
 * F2A2 learners' training speed in env steps per process-CPU second (issue 11, wt-11b), next to
 * PG's in the same process: `node --import tsx bench/f2a2-speed.ts [rounds] [preset[:k=v,...]] ...`.
 * Each preset builds its own trainer (seed 1), runs one warm-up round (the replay fills, the first
 * update compiles), then `rounds` timed rounds. Reported: env steps, update iterations, process
 * CPU ms and kernel calls per round (median), and env steps per CPU second.
 * Overrides after ':' are algo fields (numbers, booleans or strings), `numEnvs=` the copies.
 */
import os from 'node:os';
import { backendChoice, initBackend } from '../src-main/backend/select';
import { KernelCounter, presetTrainer } from './preset-trainer';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  // wasm unless CAIRN_BACKEND says otherwise: the figures in docs/ before wasm-blas were taken on wasm.
  const backend = await initBackend(process.env.CAIRN_BACKEND ? backendChoice() : 'wasm');
  const [roundsArg, ...specs] = process.argv.slice(2);
  const rounds = Number(roundsArg) || 3;
  console.log(`f2a2-speed (${backend.name}${backend.blas ? `, ${backend.blas}` : ''}): ${rounds} rounds each, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const spec of specs) {
    const trainer = presetTrainer(spec);
    const cpu: number[] = [];
    const steps: number[] = [];
    const calls: number[] = [];
    const iters: number[] = [];
    let lastIters = 0;
    const counter = new KernelCounter();
    try {
      for (let r = 0; r <= rounds; r++) {
        counter.reset();
        const c0 = process.cpuUsage();
        const res = await trainer.round();
        const c = process.cpuUsage(c0);
        const it = res.stats['charts/update_iters'] ?? 0;
        if (r > 0) {
          cpu.push((c.user + c.system) / 1000);
          steps.push(res.envSteps ?? 0);
          calls.push(counter.total);
          iters.push(it - lastIters);
        }
        lastIters = it;
      }
    } finally {
      counter.restore();
      trainer.dispose();
    }
    const sps = (steps.reduce((a, b) => a + b, 0) * 1000) / cpu.reduce((a, b) => a + b, 0);
    console.log(
      `${spec.padEnd(60)} env steps/round ${median(steps)}  iters/round ${median(iters)}  cpu ms/round ${median(cpu).toFixed(0)} (${cpu.map((x) => x.toFixed(0)).join(' ')})  kernels/round ${median(calls)}  env steps per CPU-s ${sps.toFixed(2)}`,
    );
  }
  console.log(`load at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
