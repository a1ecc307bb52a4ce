/**
 * `cairn bench --vs-pytorch`: each learner beside a PyTorch implementation of the same round
 * (bench/torch_learners.py: same sizes and settings, one thread), run interleaved in this
 * process tree: Cairn for S seconds, then PyTorch for S seconds, per learner, `reps` times. The
 * ratio of each repetition compares two measurements taken seconds apart, so machine drift
 * (other developers' tests) largely cancels; the median over repetitions is reported with the
 * spread.
 *
 * Counting alike: Cairn's round is one episode in each of 32 copies in lock-step; the PyTorch
 * program runs the same number of lock-step steps per round (Cairn's mean, measured in the same
 * repetition) and is credited Cairn's mean env steps per round. Its environment is a stand-in
 * that only draws observations (Cairn's timing includes the real Manitokan env).
 *
 * `--profile` instead times each learner under the round probe (round-probe.ts): env, rollout
 * and update kernels, JS, GC, kernel calls per round, and the costliest kernels.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from '../../src-shared/config/schema';
import { getPreset } from '../../src-shared/config/presets';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import type { Trainer } from '../../src-shared/algos/types';
import type { VecEnv } from '../../src-shared/envs/types';
import { RoundProbe, type RoundProfile } from './round-probe';
import { registerWasmKernels, restoreStockWasmKernels } from '../backend/wasm-kernels';
import { wasmThreadsChoice } from '../backend/wasm-threads';
import { ppoSequencePath } from '../../src-shared/nn/ppo-net';
import { ppoKernel } from '../../src-shared/nn/ppo-kernel';

/** One row: a Cairn preset, and the PyTorch program's learner (null: Cairn only). */
export interface VsRow {
  label: string;
  preset: string;
  torchAlgo: 'pg' | 'coma' | 'mappo' | 'ippo' | null;
  /** Target ratio Cairn / PyTorch env-steps/s (issue 15), or for Cairn-only rows a note. */
  target: number | null;
  /** Algorithm settings over the preset's (e.g. the reference path of an option). */
  algo?: Record<string, unknown>;
  /**
   * Cairn-only rows timed against the `pg` row of the same repetition (time per lock-step
   * step relative to PG): the second-order PG terms, whose issue-15 target is <= 2x PG.
   */
  vsPg?: boolean;
}

export const VS_ROWS: readonly VsRow[] = [
  { label: 'pg', preset: 'manitokan-pg-history', torchAlgo: 'pg', target: 1.5 },
  { label: 'coma', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5 },
  { label: 'ippo', preset: 'manitokan-ippo-history', torchAlgo: 'ippo', target: 1 },
  { label: 'mappo', preset: 'manitokan-mappo-history', torchAlgo: 'mappo', target: 1 },
  // The same learners with the critic's steps on a helper thread (algo.updateThreads 2; same bits).
  { label: 'pg-2t', preset: 'manitokan-pg-history', torchAlgo: 'pg', target: 1.5, algo: { updateThreads: 2 } },
  { label: 'ippo-2t', preset: 'manitokan-ippo-history', torchAlgo: 'ippo', target: 1, algo: { updateThreads: 2 } },
  { label: 'mappo-2t', preset: 'manitokan-mappo-history', torchAlgo: 'mappo', target: 1, algo: { updateThreads: 2 } },
  { label: 'coma-2t', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5, algo: { updateThreads: 2 } },
  // COMA's actor update in one pass over the batch (actorHelperShare 0: the path before the split
  // became the default, the rows above; other float rounding), with the critic on the helper.
  { label: 'coma-2t-one-pass', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5, algo: { updateThreads: 2, actorHelperShare: 0 } },
  { label: 'pg-self-correction', preset: 'manitokan-pg-history-self-correction', torchAlgo: null, target: null, vsPg: true },
  // The taped double backprop the R-pass replaced (nn/hvp.ts), for before/after in one run.
  { label: 'pg-self-correction-taped', preset: 'manitokan-pg-history-self-correction', torchAlgo: null, target: null, vsPg: true, algo: { hvpMethod: 'taped' } },
  // Cross correction (eq. 5): every step of the other agents once a door opened, so the
  // product covers more rows per round than self-correction.
  { label: 'pg-correction', preset: 'manitokan-pg-history-correction', torchAlgo: null, target: null, vsPg: true },
  { label: 'pg-correction-taped', preset: 'manitokan-pg-history-correction', torchAlgo: null, target: null, vsPg: true, algo: { hvpMethod: 'taped' } },
  // The float64 JS GRU gate loops the SIMD kernel replaced (gruGates, nn/gru.ts), beside PyTorch.
  { label: 'pg-f64-js', preset: 'manitokan-pg-history', torchAlgo: 'pg', target: 1.5, algo: { gruGates: 'f64-js' } },
  { label: 'coma-f64-js', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5, algo: { gruGates: 'f64-js' } },
  // The SIMD gates with every matmul in tfjs (the path before the GRU's per-step matmuls and the
  // acting step moved into the wasm kernel; same bits on wasm), for before/after in one run.
  { label: 'pg-tfjs-matmul', preset: 'manitokan-pg-history', torchAlgo: 'pg', target: 1.5, algo: { gruGates: 'f32-simd-tfjs-matmul' } },
  { label: 'coma-tfjs-matmul', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5, algo: { gruGates: 'f32-simd-tfjs-matmul' } },
  // COMA's actor loss on the tape (the path before its one-pass closed form; other float rounding).
  { label: 'coma-taped-actor-loss', preset: 'manitokan-coma-history', torchAlgo: 'coma', target: 1.5, algo: { actorLoss: 'taped' } },
];

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/torch_learners.py');

/** One thread everywhere: the comparison is per core. */
const THREAD_ENV = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/**
 * One float32 product of the learners' typical shape ([4800, 64] x [64, 192]: a round's rows by
 * a GRU's three gates), on one thread, in GFLOP/s: what sets the ratios apart from host to host
 * (OpenBLAS picks AVX-512 kernels where the CPU has them; wasm SIMD is 128 bits on every host).
 */
export const GEMM_SHAPE = [4800, 64, 192] as const;

export type TorchStatus =
  | { ok: true; python: string; version: string; gemm?: { gflops: number; blasCore: string | null } }
  | { ok: false; python: string; reason: string };

/** The host line's facts: the CPU, whether it has AVX-512, and each side's GEMM speed. */
export interface HostFacts {
  cpu: string;
  avx512: boolean;
  cairnGflops: number;
}

function runPython(python: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((done) => {
    let stdout = '';
    let stderr = '';
    let child;
    try {
      child = spawn(python, args, { env: { ...process.env, ...THREAD_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return done({ code: null, stdout, stderr, error: error as Error });
    }
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => done({ code: null, stdout, stderr, error }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * Prints torch's version, then the GEMM_SHAPE product's GFLOP/s on one thread (best of 5 runs
 * of ~0.1 s: the host's peak, as the wasm side's is taken).
 */
const TORCH_PROBE = `import torch, time
print(torch.__version__)
torch.set_num_threads(1)
m, k, n = ${GEMM_SHAPE.join(', ')}
a = torch.randn(m, k); w = torch.randn(k, n)
for _ in range(3): a @ w
best = float('inf')
for _ in range(5):
    t = time.perf_counter()
    for _ in range(50): a @ w
    best = min(best, (time.perf_counter() - t) / 50)
print(2 * m * k * n / best / 1e9)`;

/** Is PyTorch importable by `python`? Never throws: a missing PyTorch is a status. */
export async function probeTorch(python: string): Promise<TorchStatus> {
  // OPENBLAS_VERBOSE=2: OpenBLAS names the kernel set it picked ("Core: SkylakeX") on stderr.
  const r = await runPython(python, ['-c', TORCH_PROBE], { OPENBLAS_VERBOSE: '2' });
  if (r.error) return { ok: false, python, reason: `${python} could not be started (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` };
  if (r.code !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, python, reason: `${python} cannot import torch (${last || `exit ${r.code}`})` };
  }
  const [version, gflops] = r.stdout.trim().split('\n');
  const core = /Core: (\S+)/.exec(r.stderr);
  const g = Number(gflops);
  return { ok: true, python, version: version.trim(), ...(Number.isFinite(g) && g > 0 ? { gemm: { gflops: g, blasCore: core ? core[1] : null } } : {}) };
}

/** The same product on this process's tfjs backend (the one the learners run on), in GFLOP/s. */
export function cairnGemmGflops(): number {
  const [m, k, n] = GEMM_SHAPE;
  const a = tf.randomNormal([m, k]);
  const w = tf.randomNormal([k, n]);
  try {
    for (let i = 0; i < 3; i++) tf.matMul(a, w).dataSync();
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t = performance.now();
      for (let i = 0; i < 20; i++) tf.matMul(a, w).dispose();
      tf.matMul(a, w).dataSync(); // waits for the queue on async backends
      best = Math.min(best, (performance.now() - t) / 21 / 1e3);
    }
    return (2 * m * k * n) / best / 1e9;
  } finally {
    a.dispose();
    w.dispose();
  }
}

/** The CPU's model name and AVX-512 flag (Linux /proc/cpuinfo; elsewhere os.cpus() and unknown). */
export function hostFacts(cairnGflops: number): HostFacts {
  let flags = '';
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
  } catch {
    // Not Linux: no flags to read.
  }
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU', avx512: /\bavx512f\b/.test(flags), cairnGflops };
}

interface Learner {
  trainer: Trainer;
  env: VecEnv;
  torchArgs: string[];
}

function makeLearner(preset: string, over: Record<string, unknown> = {}): Learner {
  const p = getPreset(preset);
  if (!p) throw new Error(`bench: preset ${preset} is not defined`);
  const envId = String(p.config.env?.id ?? 'manitokan');
  const algoId = String(p.config.algo?.id);
  const envEntry = getEnv(envId)!;
  const algo = getAlgo(algoId)!;
  const { id: _e, ...envRaw } = p.config.env ?? {};
  const { id: _a, ...algoRaw } = p.config.algo ?? {};
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, { ...algoRaw, ...over });
  const numEnvs = 32;
  const env = envEntry.create(envConfig, { numEnvs, autoReset: false });
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  const s = env.spec;
  const side = Math.round(Math.sqrt((s.stateSize - 3 * s.numAgents) / 3));
  const torchArgs = [
    `--envs=${numEnvs}`,
    `--agents=${s.numAgents}`,
    `--obs=${s.obsSize}`,
    `--env-obs=${s.envObsSize}`,
    `--actions=${s.numActions}`,
    `--state-side=${side}`,
    `--hidden=${Number((config as Record<string, unknown>).hiddenDim ?? 64)}`,
  ];
  return { trainer, env, torchArgs };
}

/**
 * CPU ms this process's main thread has used (Linux: /proc/self/task/<pid>/stat, in clock ticks
 * of 10 ms), or null elsewhere. Node 20 has no per-thread CPU clock, and process.cpuUsage()
 * counts a helper thread's work too: what a helper takes off the trainer's thread shows here.
 */
function mainThreadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis (the command may contain spaces): utime, stime are 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * Rounds for at least `seconds` (and at least `minRounds`) under a probe that exists only for
 * this segment (probes wrap the shared engine, so two alive at once would both count).
 */
async function measure(
  l: Learner,
  seconds: number,
  minRounds: number,
  timed: boolean,
): Promise<{ sps: number; cpuSps: number; profile: RoundProfile; correctionSteps: number; cpuMsPerRound: number; mainCpuMsPerRound: number | null }> {
  const probe = new RoundProbe(l.env, timed);
  try {
    let steps = 0;
    let rounds = 0;
    // Agent-steps the correction term covered (its cost grows with them), mean per round.
    let corr = 0;
    // Process CPU time as well as wall time: with other work on the cores, a segment's wall
    // time includes waiting for a core, its CPU time much less so.
    const c0 = process.cpuUsage();
    const m0 = mainThreadCpuMs();
    const t0 = performance.now();
    while (rounds < minRounds || performance.now() - t0 < seconds * 1000) {
      steps += await probe.round(async () => {
        const res = await l.trainer.round();
        corr += res.stats['charts/correction_steps'] ?? 0;
        return res;
      });
      rounds++;
    }
    const dt = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const m1 = mainThreadCpuMs();
    await probe.flushGc();
    // CPU time of this process (all threads: wasm runs on this one, GC helpers on others).
    return {
      sps: (steps * 1000) / dt,
      cpuSps: (steps * 1e6) / Math.max(1, cpu.user + cpu.system),
      profile: probe.summary(),
      correctionSteps: corr / rounds,
      cpuMsPerRound: (cpu.user + cpu.system) / 1000 / rounds,
      mainCpuMsPerRound: m0 === null || m1 === null ? null : (m1 - m0) / rounds,
    };
  } finally {
    probe.restore();
  }
}

async function torchSegment(
  status: TorchStatus & { ok: true },
  algo: string,
  l: Learner,
  prof: RoundProfile,
  seconds: number,
): Promise<{ sps: number; cpuSps: number }> {
  const args = [
    SCRIPT,
    `--algo=${algo}`,
    ...l.torchArgs,
    `--steps=${Math.max(1, Math.round(prof.lockSteps))}`,
    `--env-steps-per-round=${prof.envSteps}`,
    `--seconds=${seconds}`,
  ];
  const r = await runPython(status.python, args);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw new Error(`bench: the PyTorch ${algo} program failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const out = JSON.parse(line) as { env_steps_per_s: number; cpu_env_steps_per_s?: number };
  return { sps: Number(out.env_steps_per_s), cpuSps: Number(out.cpu_env_steps_per_s ?? NaN) };
}

export interface VsResult {
  label: string;
  preset: string;
  cairn: number[];
  torch: number[];
  ratios: number[];
  /**
   * The same ratio from CPU time instead of wall time (each side's env steps per second of its
   * own process's CPU time): under load the scheduler's share, which differs between the two
   * segments, drops out; cache and SMT contention remain.
   */
  cpuRatios: number[];
  target: number | null;
  callsPerRound: number;
  /** Median over repetitions. */
  msPerRound: number;
  /** ms per lock-step step, per repetition (rounds may differ in length). */
  msPerStep: number[];
  lockSteps: number;
  /** Mean agent-steps per round in the correction term, per repetition (0 for other learners). */
  correctionSteps: number[];
  /** Process CPU ms per lock-step step, per repetition. */
  cpuMsPerStep: number[];
}

export interface VsReport {
  torch: TorchStatus;
  host: HostFacts;
  backend: string;
  load: [number, number];
  results: VsResult[];
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The Python to use: the explicit choice only, else the first of `python3` on the PATH and
 * Debian's /usr/bin/python3 that imports torch (a pyenv or venv python3 on the PATH does not
 * see Debian's python3-torch).
 */
export async function findTorch(explicit: string | undefined): Promise<TorchStatus> {
  if (explicit) return probeTorch(explicit);
  const first = await probeTorch('python3');
  if (first.ok) return first;
  const debian = await probeTorch('/usr/bin/python3');
  return debian.ok ? debian : first;
}

export interface VsOptions {
  seconds: number;
  reps: number;
  /** Python interpreter; undefined: see findTorch. */
  python: string | undefined;
  labels?: string[];
  backend: string;
  log: (s: string) => void;
}

/** Runs the side-by-side benchmark; PyTorch missing leaves the PyTorch columns empty. */
export async function benchVsPytorch(o: VsOptions): Promise<VsReport> {
  const torch = await findTorch(o.python);
  if (!torch.ok) o.log(`PyTorch missing: ${torch.reason}. Cairn's side only (Debian: apt-get install python3-torch).`);
  const rows = VS_ROWS.filter((r) => !o.labels || o.labels.includes(r.label));
  const load0 = os.loadavg()[0];
  const host = hostFacts(cairnGemmGflops());
  const results: VsResult[] = [];
  const learners = new Map<string, Learner>();
  try {
    for (const row of rows) {
      const l = makeLearner(row.preset, row.algo);
      learners.set(row.label, l);
      await l.trainer.round(); // warm-up: variable creation, kernel compilation
      results.push({ label: row.label, preset: row.preset, cairn: [], torch: [], ratios: [], cpuRatios: [], target: row.target, callsPerRound: 0, msPerRound: 0, msPerStep: [], lockSteps: 0, correctionSteps: [], cpuMsPerStep: [] });
    }
    for (let rep = 0; rep < o.reps; rep++) {
      for (const [i, row] of rows.entries()) {
        const l = learners.get(row.label)!;
        const res = results[i];
        o.log(`rep ${rep + 1}/${o.reps}: cairn ${row.label} (${row.preset}) on ${o.backend} ...`);
        const { sps, cpuSps, profile, correctionSteps, cpuMsPerRound } = await measure(l, o.seconds, 2, false);
        res.cairn.push(sps);
        res.correctionSteps.push(correctionSteps);
        res.cpuMsPerStep.push(cpuMsPerRound / profile.lockSteps);
        res.callsPerRound = profile.calls.rollout + profile.calls.update;
        res.msPerStep.push(profile.roundMs / profile.lockSteps);
        res.msPerRound = median(res.msPerStep) * profile.lockSteps;
        res.lockSteps = profile.lockSteps;
        if (torch.ok && row.torchAlgo) {
          o.log(`rep ${rep + 1}/${o.reps}: pytorch ${row.torchAlgo} ...`);
          const t = await torchSegment(torch, row.torchAlgo, l, profile, o.seconds);
          res.torch.push(t.sps);
          res.ratios.push(sps / t.sps);
          res.cpuRatios.push(cpuSps / t.cpuSps);
        }
      }
    }
  } finally {
    for (const l of learners.values()) l.trainer.dispose();
  }
  return { torch, host, backend: o.backend, load: [load0, os.loadavg()[0]], results };
}

const fmt = (n: number) => (!Number.isFinite(n) ? '-' : n >= 1e3 ? `${(n / 1e3).toFixed(2)}k` : n.toFixed(0));

/** Why the ratios differ between hosts: each side's speed on the same product, one thread. */
export function hostLine(r: Pick<VsReport, 'host' | 'torch' | 'backend'>): string {
  const [m, k, n] = GEMM_SHAPE;
  const g = r.torch.ok ? r.torch.gemm : undefined;
  const torch = g ? `, PyTorch ${g.gflops.toFixed(0)} GFLOP/s${g.blasCore ? ` (OpenBLAS ${g.blasCore} kernels)` : ''}: ${(g.gflops / r.host.cairnGflops).toFixed(1)}x Cairn's` : '';
  return `host: ${r.host.cpu}, AVX-512 ${r.host.avx512 ? 'yes' : 'no'}; float32 [${m}, ${k}] x [${k}, ${n}] on one thread: Cairn (${r.backend}) ${r.host.cairnGflops.toFixed(0)} GFLOP/s${torch}`;
}

export function formatVsPytorch(r: VsReport): string {
  const lines: string[] = [];
  lines.push(
    `\nCairn vs PyTorch, env-steps/s (backend ${r.backend}, ${r.backend === 'wasm' && wasmThreadsChoice() > 1 ? `Cairn ${wasmThreadsChoice()} threads (CAIRN_WASM_THREADS), PyTorch one` : 'one thread each'}, ${os.cpus().length} cores, load ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)})`,
  );
  lines.push(r.torch.ok ? `PyTorch ${r.torch.version} (${r.torch.python})` : `PyTorch missing: ${r.torch.reason}; PyTorch columns left empty`);
  lines.push(hostLine(r));
  lines.push(`${'learner'.padEnd(26)} ${'cairn'.padStart(8)} ${'pytorch'.padStart(8)} ${'ratio'.padStart(6)}  ${'per rep'.padEnd(46)} ${'target'.padEnd(8)} ${'ms/round'.padStart(8)} ${'kernels/round'.padStart(13)}  ${'cpu ratio (per rep)'}`);
  const pg = r.results.find((x) => x.label === 'pg');
  for (const x of r.results) {
    const ratio = median(x.ratios);
    let target = '';
    if (x.target !== null && x.ratios.length) target = `${ratio >= x.target ? 'met' : 'below'} ${x.target}x`;
    let per = x.ratios.map((v) => v.toFixed(2)).join(' ');
    const cpuOk = x.cpuRatios.filter(Number.isFinite);
    const cpu = cpuOk.length ? `${median(cpuOk).toFixed(2)}x (${cpuOk.map((v) => v.toFixed(2)).join(' ')})` : '-';
    if (VS_ROWS.find((row) => row.label === x.label)?.vsPg && pg) {
      // Issue 15's target for the second-order term: <= 2x the time of a PG round.
      // Per repetition: both rows were measured within the same repetition, minutes apart.
      const rels = x.msPerStep.map((v, i) => v / pg.msPerStep[i]);
      const rel = median(rels);
      const cpuRel = median(x.cpuMsPerStep.map((v, i) => v / pg.cpuMsPerStep[i]));
      per = `${rel.toFixed(2)}x PG (${rels.map((v) => v.toFixed(1)).join(' ')}; cpu ${cpuRel.toFixed(2)}x; ${median(x.correctionSteps).toFixed(0)} corr. steps)`;
      target = `${rel <= 2 ? 'met' : 'below'} <=2x`;
    }
    lines.push(
      `${x.label.padEnd(26)} ${fmt(median(x.cairn)).padStart(8)} ${fmt(median(x.torch)).padStart(8)} ${(x.ratios.length ? ratio.toFixed(2) + 'x' : '-').padStart(6)}  ${per.padEnd(46)} ${target.padEnd(8)} ${x.msPerRound.toFixed(0).padStart(8)} ${Math.round(x.callsPerRound).toString().padStart(13)}  ${cpu}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** `--profile`: where one round's time goes, per learner. */
export async function profileLearners(o: { seconds: number; labels?: string[]; log: (s: string) => void }): Promise<string> {
  const rows = VS_ROWS.filter((r) => !o.labels || o.labels.includes(r.label));
  const out: string[] = [`\nWhere a round's time goes (ms per round; probe on, so kernels read ~1 us slow each; load ${os.loadavg()[0].toFixed(1)})`];
  out.push(`${'learner'.padEnd(26)} ${'round'.padStart(7)} ${'env'.padStart(6)} ${'roll.k'.padStart(7)} ${'roll.js'.padStart(7)} ${'upd.k'.padStart(7)} ${'upd.js'.padStart(7)} ${'gc'.padStart(6)} ${'calls r/u'.padStart(13)}  top kernels (ms, calls)`);
  for (const row of rows) {
    o.log(`profile: ${row.label} ...`);
    const l = makeLearner(row.preset, row.algo);
    try {
      await l.trainer.round();
      const { profile: p } = await measure(l, o.seconds, 2, true);
      const top = p.byKernel
        .slice(0, 6)
        .map(([k, ms, c]) => `${k} ${ms.toFixed(0)} (${Math.round(c)})`)
        .join(', ');
      out.push(
        `${row.label.padEnd(26)} ${p.roundMs.toFixed(0).padStart(7)} ${p.envMs.toFixed(1).padStart(6)} ${p.kernelMs.rollout.toFixed(0).padStart(7)} ${p.jsMs.rollout.toFixed(0).padStart(7)} ${p.kernelMs.update.toFixed(0).padStart(7)} ${p.jsMs.update.toFixed(0).padStart(7)} ${p.gcMs.toFixed(1).padStart(6)} ${`${Math.round(p.calls.rollout)}/${Math.round(p.calls.update)}`.padStart(13)}  ${top}`,
      );
    } finally {
      l.trainer.dispose();
    }
  }
  return out.join('\n') + '\n';
}

/**
 * `--ab-kernels` (wasm): each learner's ms per round and kernel calls with the stock wasm
 * kernels (A) and Cairn's overrides (B, backend/wasm-kernels.ts), alternating A B A B ... in
 * one process on the same trainer, so drift and training progress hit both alike.
 */
export async function abWasmKernels(o: { seconds: number; reps: number; labels?: string[]; log: (s: string) => void }): Promise<string> {
  const rows = VS_ROWS.filter((r) => !o.labels || o.labels.includes(r.label));
  const out: string[] = [`\nwasm kernels, stock (A) vs overrides (B): ms per lock-step step, median of ${o.reps} alternations (load ${os.loadavg()[0].toFixed(1)})`];
  out.push(`${'learner'.padEnd(20)} ${'A ms/step'.padStart(10)} ${'B ms/step'.padStart(10)} ${'A/B'.padStart(6)}  per rep`);
  for (const row of rows) {
    const l = makeLearner(row.preset, row.algo);
    const a: number[] = [];
    const b: number[] = [];
    try {
      await l.trainer.round();
      for (let rep = 0; rep < o.reps; rep++) {
        for (const stock of [true, false]) {
          o.log(`ab: ${row.label} rep ${rep + 1} ${stock ? 'stock' : 'overrides'} ...`);
          if (stock) restoreStockWasmKernels();
          else registerWasmKernels();
          const { profile } = await measure(l, o.seconds, 1, false);
          (stock ? a : b).push(profile.roundMs / profile.lockSteps);
        }
      }
    } finally {
      registerWasmKernels();
      l.trainer.dispose();
    }
    const per = a.map((x, i) => (x / b[i]).toFixed(2)).join(' ');
    out.push(`${row.label.padEnd(20)} ${median(a).toFixed(2).padStart(10)} ${median(b).toFixed(2).padStart(10)} ${(median(a) / median(b)).toFixed(2).padStart(6)}  ${per}`);
  }
  return out.join('\n') + '\n';
}

/**
 * `--ab-ppo`: IPPO and MAPPO with the per-step reference network (A, PpoNet.sequenceReference)
 * and the batched one (B, PpoNet.sequence), alternating A B A B ... on the same trainer. Both
 * give the same bits (test/algos/ppo-sequence.test.ts), so only speed differs. Reports env
 * steps per second of process CPU time (steadier than wall time on a loaded machine), wall
 * ms per lock-step step, and kernel calls per round.
 * `host: true` (`--ab-ppo-host`, wasm-blas): A = the GRU as on wasm (lnGruLayerGroups, stepRows), B = on the
 * host gemm and gate kernel (lnGruLayerHost, gruStepHost; ppoKernel.hostGates; other rounding), same rows.
 */
export async function abPpoSequence(o: { seconds: number; reps: number; labels?: string[]; log: (s: string) => void; host?: boolean }): Promise<string> {
  const rows = VS_ROWS.filter((r) => (r.label === 'ippo' || r.label === 'mappo') && (!o.labels || o.labels.includes(r.label)));
  const what = o.host ? 'GRU as on wasm (A) vs on the host gemm and gate kernel (B, update and rollout step)' : 'per-step reference (A) vs batched (B)';
  // A is `reference` true: the per-step network, or the GRU layer off the host gemm.
  const setA = (a: boolean): void => {
    if (o.host) ppoKernel.hostGates = !a;
    else ppoSequencePath.reference = a;
  };
  const out: string[] = [`\nPPO update, ${what}, alternating ${o.reps} times (load ${os.loadavg()[0].toFixed(1)} at start)`];
  out.push(`${'learner'.padEnd(10)} ${'A cpu sps'.padStart(10)} ${'B cpu sps'.padStart(10)} ${'B/A cpu'.padStart(8)}  ${'per rep'.padEnd(16)} ${'A ms/step'.padStart(10)} ${'B ms/step'.padStart(10)} ${'A kernels'.padStart(10)} ${'B kernels'.padStart(10)}`);
  for (const row of rows) {
    const l = makeLearner(row.preset);
    const a = { cpu: [] as number[], ms: [] as number[], calls: [] as number[] };
    const b = { cpu: [] as number[], ms: [] as number[], calls: [] as number[] };
    try {
      await l.trainer.round();
      for (let rep = 0; rep < o.reps; rep++) {
        for (const reference of [true, false]) {
          o.log(`ab-ppo: ${row.label} rep ${rep + 1} ${reference ? 'A' : 'B'} ...`);
          setA(reference);
          const m = await measure(l, o.seconds, 1, false);
          const side = reference ? a : b;
          side.cpu.push(m.cpuSps);
          side.ms.push(m.profile.roundMs / m.profile.lockSteps);
          side.calls.push(m.profile.calls.rollout + m.profile.calls.update);
        }
      }
    } finally {
      ppoSequencePath.reference = false;
      ppoKernel.hostGates = true;
      l.trainer.dispose();
    }
    const per = b.cpu.map((x, i) => (x / a.cpu[i]).toFixed(2)).join(' ');
    out.push(
      `${row.label.padEnd(10)} ${fmt(median(a.cpu)).padStart(10)} ${fmt(median(b.cpu)).padStart(10)} ${(median(b.cpu) / median(a.cpu)).toFixed(2).padStart(7)}x  ${per.padEnd(16)} ${median(a.ms).toFixed(1).padStart(10)} ${median(b.ms).toFixed(1).padStart(10)} ${Math.round(median(a.calls)).toString().padStart(10)} ${Math.round(median(b.calls)).toString().padStart(10)}`,
    );
  }
  return out.join('\n') + '\n';
}

/** The learners `--ab-threads` compares (those whose critic can run on a helper thread). */
const AB_THREAD_ROWS = ['ippo', 'mappo', 'pg'];

/**
 * `--ab-threads`: IPPO, MAPPO and PG at algo.updateThreads 1 (A) and 2 (B; the critic's steps
 * on a helper thread, same bits), two trainers, alternating A B A B ... after one warm-up round
 * each. Wall ms per round is what the helper can save (it overlaps the two updates); process
 * CPU ms per round (all threads) is what it costs; the main thread's CPU ms per round (Linux)
 * is what it takes off the trainer's thread, whatever the load.
 */
export async function abPpoThreads(o: { seconds: number; reps: number; labels?: string[]; log: (s: string) => void }): Promise<string> {
  const rows = VS_ROWS.filter((r) => AB_THREAD_ROWS.includes(r.label) && (!o.labels || o.labels.includes(r.label)));
  const out: string[] = [`\nUpdate on one thread (A) vs the critic on a helper thread (B), alternating ${o.reps} times (load ${os.loadavg()[0].toFixed(1)} at start)`];
  out.push(
    `${'learner'.padEnd(10)} ${'A wall ms'.padStart(10)} ${'B wall ms'.padStart(10)} ${'A/B wall'.padStart(9)}  ${'per rep'.padEnd(16)} ${'A cpu ms'.padStart(10)} ${'B cpu ms'.padStart(10)} ${'B/A cpu'.padStart(8)} ${'A main ms'.padStart(10)} ${'B main ms'.padStart(10)} ${'B/A main'.padStart(9)}`,
  );
  for (const row of rows) {
    const la = makeLearner(row.preset, { updateThreads: 1 });
    const lb = makeLearner(row.preset, { updateThreads: 2 });
    const a = { ms: [] as number[], cpu: [] as number[], main: [] as number[] };
    const b = { ms: [] as number[], cpu: [] as number[], main: [] as number[] };
    try {
      await la.trainer.round();
      await lb.trainer.round();
      for (let rep = 0; rep < o.reps; rep++) {
        for (const [l, side, name] of [[la, a, '1 thread'], [lb, b, '2 threads']] as const) {
          o.log(`ab-threads: ${row.label} rep ${rep + 1} ${name} ...`);
          const m = await measure(l, o.seconds, 1, false);
          side.ms.push(m.profile.roundMs);
          side.cpu.push(m.cpuMsPerRound);
          if (m.mainCpuMsPerRound !== null) side.main.push(m.mainCpuMsPerRound);
        }
      }
    } finally {
      la.trainer.dispose();
      lb.trainer.dispose();
    }
    const per = a.ms.map((x, i) => (x / b.ms[i]).toFixed(2)).join(' ');
    const main = a.main.length > 0 && b.main.length > 0
      ? ` ${median(a.main).toFixed(0).padStart(10)} ${median(b.main).toFixed(0).padStart(10)} ${(median(b.main) / median(a.main)).toFixed(2).padStart(8)}x`
      : `${'-'.padStart(11)}${'-'.padStart(11)}${'-'.padStart(10)}`;
    out.push(
      `${row.label.padEnd(10)} ${median(a.ms).toFixed(0).padStart(10)} ${median(b.ms).toFixed(0).padStart(10)} ${(median(a.ms) / median(b.ms)).toFixed(2).padStart(8)}x  ${per.padEnd(16)} ${median(a.cpu).toFixed(0).padStart(10)} ${median(b.cpu).toFixed(0).padStart(10)} ${(median(b.cpu) / median(a.cpu)).toFixed(2).padStart(7)}x${main}`,
    );
  }
  return out.join('\n') + '\n';
}
