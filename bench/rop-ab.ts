/**
 * PG with self-correction, the R-pass's matmuls on tfjs (A: `policyRopKernel.matmul = false`, the
 * path before issue-15r) against the wasm kernel's `matmul` (B, the default; nn/policy-rop.ts),
 * on two twin trainers (same preset and seed: since both paths give the same bits, they play
 * the same rounds, so round r costs A and B the same work; checked on the rounds' statistics),
 * A B / B A alternating, with a plain PG round of a third trainer in every repetition for the
 * ratio to PG (issue 15's target: <= 2x):
 *   node --import tsx bench/rop-ab.ts [reps] [self-correction preset] [pg preset]
 * Both paths give the same bits (test/nn/policy-rop.test.ts), so only speed differs. Reported
 * per round (medians): process CPU ms, CPU ms per env step (episodes differ in length from round
 * to round), CPU ms inside the R-pass (setBatch + gradient + hvp; also per agent-step the
 * correction covered, which varies from round to round too), kernel calls, and the medians of
 * the per-repetition ratios.
 *
 * `--replay` instead times the R-pass alone on ONE real batch, without the round's noise: runs
 * self-correction rounds until one covers at least [min steps] agent-steps (default 1000), keeps
 * that round's last setBatch / gradient / hvp arguments, and replays the three calls A B / B A:
 *   node --import tsx bench/rop-ab.ts --replay [reps] [min steps] [preset]
 * (the weights have moved on by the round's update, so the products are not the round's; the
 * sizes and the work are).
 */
import os from 'node:os';
import { initBackend } from '../src-main/backend/select';
import { KernelCounter, trainerFromPreset } from './preset-trainer';
import { RecurrentPolicyRop, policyRopKernel } from '../src-shared/nn/policy-rop';
import type { Trainer } from '../src-shared/algos/types';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

/** CPU ms spent in the R-pass's public methods since the last read (outermost calls only). */
let ropMs = 0;
let depth = 0;
const ROP_METHODS = ['setBatch', 'gradient', 'hvp'] as const;
/** The latest call of each method: its R-pass and arguments (for --replay). */
const last = new Map<string, { self: unknown; args: unknown[] }>();
const proto = RecurrentPolicyRop.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const origMethods = new Map(ROP_METHODS.map((m) => [m, proto[m]]));
for (const name of ROP_METHODS) {
  const orig = origMethods.get(name)!;
  proto[name] = function (this: unknown, ...a: unknown[]) {
    last.set(name, { self: this, args: a });
    const c0 = depth++ === 0 ? process.cpuUsage() : null;
    try {
      return orig.apply(this, a);
    } finally {
      depth--;
      if (c0) ropMs += cpuMs(process.cpuUsage(c0));
    }
  };
}

interface Side {
  cpu: number[];
  perStep: number[];
  rop: number[];
  /** R-pass CPU ms per agent-step the correction covered (its cost grows with them). */
  ropPerStep: number[];
  calls: number[];
}
const side = (): Side => ({ cpu: [], perStep: [], rop: [], ropPerStep: [], calls: [] });

async function timed(trainer: Trainer, counter: KernelCounter, s: Side): Promise<string> {
  counter.reset();
  ropMs = 0;
  const c0 = process.cpuUsage();
  const res = await trainer.round();
  const c = cpuMs(process.cpuUsage(c0));
  s.cpu.push(c);
  s.perStep.push(c / res.envSteps);
  s.rop.push(ropMs);
  s.ropPerStep.push(ropMs / Math.max(1, res.stats['charts/correction_steps'] ?? 0));
  s.calls.push(counter.total);
  return JSON.stringify(res.stats);
}

async function replay(argv: string[]): Promise<void> {
  const [repsArg, minArg, scName = 'manitokan-pg-history-self-correction'] = argv;
  const reps = Number(repsArg) || 10;
  const minSteps = Number(minArg) || 1000;
  const sc = trainerFromPreset(scName, {}, 32);
  const counter = new KernelCounter();
  try {
    let steps = 0;
    for (let r = 0; r < 30 && steps < minSteps; r++) steps = (await sc.round()).stats['charts/correction_steps'] ?? 0;
    if (!last.has('hvp')) throw new Error(`rop-ab --replay: no self-correction product in 30 rounds of ${scName}`);
    const calls = ROP_METHODS.map((m) => last.get(m)!);
    const batch = calls[0].args[1] as { T: number; R: number; x: Float32Array };
    console.log(`rop-ab --replay: ${reps} reps of one R-pass (setBatch + gradient + hvp) of ${scName}, ${steps} correction steps, T=${batch.T} R=${batch.R}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    const t = { A: [] as number[], B: [] as number[] };
    const k = { A: 0, B: 0 };
    for (let r = 0; r < reps + 1; r++) {
      for (const tfjs of r % 2 === 0 ? [true, false] : [false, true]) {
        policyRopKernel.matmul = !tfjs;
        counter.reset();
        const c0 = process.cpuUsage();
        for (const [i, m] of ROP_METHODS.entries()) origMethods.get(m)!.apply(calls[i].self, calls[i].args);
        const c = cpuMs(process.cpuUsage(c0));
        // The first repetition warms both paths up (tensor shapes, staging buffers).
        if (r > 0) t[tfjs ? 'A' : 'B'].push(c);
        k[tfjs ? 'A' : 'B'] = counter.total;
      }
    }
    const per = t.A.map((a, i) => (a / t.B[i]).toFixed(2)).join(' ');
    console.log(`cpu ms per R-pass: A tfjs ${median(t.A).toFixed(1)} B kernel ${median(t.B).toFixed(1)}, A/B ${(median(t.A) / median(t.B)).toFixed(2)}x (per rep ${per}); kernels A ${k.A} B ${k.B}; load ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    policyRopKernel.matmul = true;
    counter.restore();
    sc.dispose();
  }
}

async function main(): Promise<void> {
  await initBackend('wasm');
  if (process.argv[2] === '--replay') return replay(process.argv.slice(3));
  const [repsArg, scName = 'manitokan-pg-history-self-correction', pgName = 'manitokan-pg-history'] = process.argv.slice(2);
  const reps = Number(repsArg) || 5;
  console.log(`rop-ab: ${reps} reps, 32 copies, ${scName} vs ${pgName}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const scA = trainerFromPreset(scName, {}, 32);
  const scB = trainerFromPreset(scName, {}, 32);
  const pg = trainerFromPreset(pgName, {}, 32);
  const counter = new KernelCounter();
  const A = side();
  const B = side();
  const P = side();
  let differ = 0;
  try {
    await pg.round();
    policyRopKernel.matmul = false;
    await scA.round();
    policyRopKernel.matmul = true;
    await scB.round();
    for (let r = 0; r < reps; r++) {
      await timed(pg, counter, P);
      const stats: string[] = [];
      for (const tfjs of r % 2 === 0 ? [true, false] : [false, true]) {
        policyRopKernel.matmul = !tfjs;
        stats.push(await timed(tfjs ? scA : scB, counter, tfjs ? A : B));
      }
      if (stats[0] !== stats[1]) differ++;
    }
  } finally {
    policyRopKernel.matmul = true;
    counter.restore();
    scA.dispose();
    scB.dispose();
    pg.dispose();
  }
  console.log(differ === 0 ? `the twins' round statistics agreed in all ${reps} rounds` : `WARNING: the twins' round statistics differed in ${differ} of ${reps} rounds (not the same bits?)`);
  const f = (x: number, d = 0) => x.toFixed(d);
  const per = (a: number[], b: number[]) => a.map((x, i) => (x / b[i]).toFixed(2)).join(' ');
  const mr = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i])).toFixed(2);
  for (const [label, s] of [['pg', P], ['A tfjs', A], ['B kernel', B]] as const) {
    console.log(
      `${label.padEnd(9)} cpu ms/round ${f(median(s.cpu)).padStart(5)}  cpu ms/env-step ${f(median(s.perStep), 3)}  r-pass cpu ms ${f(median(s.rop)).padStart(4)} (${f(median(s.ropPerStep), 3)}/corr. step)  kernels/round ${median(s.calls)}`,
    );
  }
  console.log(`A/B cpu per round ${mr(A.cpu, B.cpu)}x (per rep ${per(A.cpu, B.cpu)}); r-pass A/B ${mr(A.rop, B.rop)}x (per rep ${per(A.rop, B.rop)})`);
  console.log(`vs PG, cpu per env step: A ${mr(A.perStep, P.perStep)}x (per rep ${per(A.perStep, P.perStep)}); B ${mr(B.perStep, P.perStep)}x (per rep ${per(B.perStep, P.perStep)}); load ${os.loadavg()[0].toFixed(1)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
