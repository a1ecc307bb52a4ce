/**
 * IPPO and MAPPO on two threads: where each thread's time goes in a round, and an A/B of the
 * trainer's options on ONE trainer (same bits on both sides, so only speed differs).
 *
 *   node --import tsx bench/ppo-threads.ts [--no-helper-rollout] [--one] [rounds] [preset ...]   the timeline
 *   node --import tsx bench/ppo-threads.ts --ab SWITCH [reps] [preset ...]  A (switch off) B (on)
 *
 * Timeline: every phase mark of the trainer (ppoTrace in algos/ppo-trainer.ts) summed over the
 * timed rounds as wall ms per round, and each thread's CPU ms per round from
 * /proc/self/task/<tid>/stat (the trainer's thread is the process's main thread; the helper is
 * the thread that appeared with it). Under `updateThreads: 2` the marks 'wait' (the trainer
 * waiting for the critic's last steps) and 'state' (the state coming back) say who waits for
 * whom. 32 copies x 150 steps, the presets' settings (15 epochs, chunk 10, one minibatch).
 */
import fs from 'node:fs';
import os from 'node:os';
import { initBackend } from '../src-main/backend/select';
import { trainerFromPreset } from './preset-trainer';
import { ppoTrace, ppoThreadOptions } from '../src-shared/algos/ppo-trainer';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TICK_MS = 10; // USER_HZ 100

/** CPU ms of every thread of this process, by tid. */
function threadCpu(): Map<number, { name: string; ms: number }> {
  const m = new Map<number, { name: string; ms: number }>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = st.lastIndexOf(')');
      const name = st.slice(st.indexOf('(') + 1, close);
      const f = st.slice(close + 2).split(' ');
      m.set(Number(tid), { name, ms: (Number(f[11]) + Number(f[12])) * TICK_MS });
    } catch {
      // the thread ended meanwhile
    }
  }
  return m;
}

const trainerFor = (name: string, over: Record<string, unknown>) => trainerFromPreset(name, over, 32);

async function timeline(rounds: number, presets: string[], threads: number): Promise<void> {
  for (const name of presets) {
    const trainer = trainerFor(name, { updateThreads: threads });
    try {
      await trainer.round();
      const phases = new Map<string, number>();
      let last = performance.now();
      ppoTrace.mark = (phase) => {
        const now = performance.now();
        phases.set(phase, (phases.get(phase) ?? 0) + now - last);
        last = now;
      };
      const cpu0 = threadCpu();
      const p0 = process.cpuUsage();
      const t0 = performance.now();
      for (let r = 0; r < rounds; r++) {
        last = performance.now();
        await trainer.round();
        const now = performance.now();
        phases.set('log', (phases.get('log') ?? 0) + now - last);
      }
      const wall = (performance.now() - t0) / rounds;
      const p = process.cpuUsage(p0);
      ppoTrace.mark = null;
      const cpu1 = threadCpu();
      const rows: string[] = [];
      for (const [tid, v] of cpu1) {
        const d = (v.ms - (cpu0.get(tid)?.ms ?? 0)) / rounds;
        if (d >= 20) rows.push(`  thread ${tid === process.pid ? 'main' : tid} (${v.name}): ${d.toFixed(0)} cpu ms/round`);
      }
      console.log(`${name} updateThreads=${threads}: ${wall.toFixed(0)} wall ms/round, process cpu ${((p.user + p.system) / 1000 / rounds).toFixed(0)} ms/round, load ${os.loadavg()[0].toFixed(1)}`);
      console.log(rows.join('\n'));
      const total = [...phases.values()].reduce((a, b) => a + b, 0) / rounds;
      for (const [ph, ms] of phases) console.log(`  ${ph.padEnd(14)} ${(ms / rounds).toFixed(1).padStart(8)} ms  ${((100 * ms) / rounds / total).toFixed(1).padStart(5)}%`);
    } finally {
      trainer.dispose();
    }
  }
}

async function ab(sw: string, reps: number, presets: string[]): Promise<void> {
  if (!(sw in ppoThreadOptions)) throw new Error(`--ab: unknown switch ${sw}; one of ${Object.keys(ppoThreadOptions).join(', ')}`);
  const key = sw as keyof typeof ppoThreadOptions;
  console.log(`ppo-threads --ab ${sw}: ${reps} reps, 32 copies, updateThreads 2, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const initial = ppoThreadOptions[key];
  for (const name of presets) {
    const trainer = trainerFor(name, { updateThreads: 2 });
    const mk = () => ({ cpu: [] as number[], main: [] as number[], helper: [] as number[], other: [] as number[], wall: [] as number[] });
    const side = { A: mk(), B: mk() };
    try {
      await trainer.round();
      for (let r = 0; r < reps; r++) {
        for (const on of [false, true]) {
          ppoThreadOptions[key] = on as never;
          const th0 = threadCpu();
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await trainer.round();
          const c = process.cpuUsage(c0);
          const s = on ? side.B : side.A;
          s.wall.push(performance.now() - t0);
          s.cpu.push((c.user + c.system) / 1000);
          // The helper: the busiest thread besides the main one (V8's own threads use less).
          const d = [...threadCpu()].map(([tid, v]) => [tid, v.ms - (th0.get(tid)?.ms ?? 0)] as const);
          const main = d.find(([tid]) => tid === process.pid)![1];
          const others = d.filter(([tid]) => tid !== process.pid).map(([, ms]) => ms);
          const helper = Math.max(0, ...others);
          s.main.push(main);
          s.helper.push(helper);
          s.other.push(others.reduce((a, b) => a + b, 0) - helper);
        }
      }
    } finally {
      ppoThreadOptions[key] = initial;
      trainer.dispose();
    }
    const per = side.B.wall.map((b, i) => (side.A.wall[i] / b).toFixed(2)).join(' ');
    console.log(
      `${name}: wall A ${median(side.A.wall).toFixed(0)} B ${median(side.B.wall).toFixed(0)} ms/round, A/B ${(median(side.A.wall) / median(side.B.wall)).toFixed(2)}x (per rep ${per}); ` +
        `process cpu A ${median(side.A.cpu).toFixed(0)} B ${median(side.B.cpu).toFixed(0)}; trainer's thread cpu A ${median(side.A.main).toFixed(0)} B ${median(side.B.main).toFixed(0)}; ` +
        `helper cpu A ${median(side.A.helper).toFixed(0)} B ${median(side.B.helper).toFixed(0)}; other threads A ${median(side.A.other).toFixed(0)} B ${median(side.B.other).toFixed(0)}; load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const argv = process.argv.slice(2);
  if (argv[0] === '--ab') {
    const [, sw, repsArg, ...named] = argv;
    await ab(sw, Number(repsArg) || 3, named.length > 0 ? named : ['manitokan-ippo-history', 'manitokan-mappo-history']);
    return;
  }
  // `--no-helper-rollout`: the timeline with the critic's rollout and staging on the trainer's thread (the path before).
  if (argv[0] === '--no-helper-rollout') {
    ppoThreadOptions.helperRollout = false;
    argv.shift();
  }
  const oneThread = argv[0] === '--one';
  const [roundsArg, ...named] = oneThread ? argv.slice(1) : argv;
  await timeline(Number(roundsArg) || 2, named.length > 0 ? named : ['manitokan-ippo-history', 'manitokan-mappo-history'], oneThread ? 1 : 2);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
