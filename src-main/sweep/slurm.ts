/**
 * The Slurm executor: one job array per sweep, one task per run (cell x seed), each running
 * `cairn sweep task DIR $SLURM_ARRAY_TASK_ID` on the cluster. Submission, status and cancel go
 * through a Transport, so they work the same on a login node and from a desktop over ssh.
 */
import { ConfigError } from '../../src-shared/config/schema';
import { layout } from './folder';
import { lastLine, q, SweepFault, type Transport } from './transport';

export interface SlurmOptions {
  time?: string;
  mem?: string;
  cpusPerTask?: number;
  partition?: string;
  account?: string;
  gres?: string;
  /** At most this many tasks at once (`--array=0-N%K`). */
  maxConcurrent?: number;
  /** Extra `#SBATCH` directives, e.g. "--qos=short" or "--constraint=avx2". */
  directives?: string[];
  /** The command that runs Cairn on the cluster (default `cairn`). */
  cairn?: string;
  /** TensorFlow.js backend for the tasks. */
  backend?: string;
}

const SAFE = /^[A-Za-z0-9_.,:=%@+/-]+$/;

function checkOpt(field: string, v: string | undefined, allowed: string): string | undefined {
  if (v === undefined) return undefined;
  if (!SAFE.test(v)) throw new ConfigError(field, allowed, v);
  return v;
}

/** The job array script. Directives are checked so a value cannot smuggle in a second line. */
export function jobScript(dir: string, tasks: number, name: string, o: SlurmOptions): string {
  const L = layout(dir);
  const lines = ['#!/bin/sh', `#SBATCH --job-name=${jobName(name)}`];
  const max = o.maxConcurrent !== undefined ? `%${o.maxConcurrent}` : '';
  lines.push(`#SBATCH --array=0-${tasks - 1}${max}`);
  lines.push(`#SBATCH --output=${L.logsDir}/task-%a.out`, '#SBATCH --open-mode=append', '#SBATCH --requeue');
  const t = checkOpt('--time', o.time, 'a Slurm time such as 2:00:00 or 1-00:00:00');
  if (t) lines.push(`#SBATCH --time=${t}`);
  const m = checkOpt('--mem', o.mem, 'a Slurm memory size such as 4G');
  if (m) lines.push(`#SBATCH --mem=${m}`);
  if (o.cpusPerTask !== undefined) lines.push(`#SBATCH --cpus-per-task=${o.cpusPerTask}`);
  const p = checkOpt('--partition', o.partition, 'a partition name');
  if (p) lines.push(`#SBATCH --partition=${p}`);
  const a = checkOpt('--account', o.account, 'an account name');
  if (a) lines.push(`#SBATCH --account=${a}`);
  const g = checkOpt('--gres', o.gres, 'a gres such as gpu:1');
  if (g) lines.push(`#SBATCH --gres=${g}`);
  for (const d of o.directives ?? []) {
    if (!d.startsWith('--') || /[\n\r]/.test(d)) throw new ConfigError('--sbatch', 'a directive such as --qos=short', d);
    lines.push(`#SBATCH ${d}`);
  }
  const backend = checkOpt('--backend', o.backend, 'auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu');
  // `cairn` may be a command line ("node /opt/cairn/bin/cairn.mjs"): word-split on purpose.
  const cairn = o.cairn ?? 'cairn';
  if (/[\n\r;&|`$<>]/.test(cairn)) throw new ConfigError('--cairn', 'a command such as cairn or "node /path/bin/cairn.mjs"', cairn);
  lines.push(`exec ${cairn} sweep task ${q(dir)} "$SLURM_ARRAY_TASK_ID"${backend ? ` --backend ${backend}` : ''}`);
  return lines.join('\n') + '\n';
}

function jobName(name: string): string {
  return `cairn-${name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40)}`;
}

/** Submit the folder's job.sh; returns the array's job id. */
export async function submit(t: Transport, dir: string): Promise<string> {
  const L = layout(dir);
  const has = await t.sh('command -v sbatch');
  if (has.code !== 0) {
    throw new SweepFault(`sbatch not found on ${t.where}: install Slurm's client commands there, or put them on PATH for non-interactive shells`);
  }
  const r = await t.sh(`mkdir -p ${q(L.logsDir)} && cd ${q(dir)} && sbatch --parsable ${q(L.jobScript)}`);
  if (r.code !== 0) throw new SweepFault(`sbatch rejected the job array on ${t.where}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
  const id = lastLine(r.stdout).split(';')[0];
  if (!/^\d+$/.test(id)) throw new SweepFault(`sbatch on ${t.where} answered ${JSON.stringify(lastLine(r.stdout))}, not a job id`);
  await t.writeFile(L.jobId, id + '\n');
  return id;
}

/** Scheduler states of the array's tasks, by task index; null when Slurm cannot tell. */
export async function schedulerStates(t: Transport, jobId: string): Promise<Map<number, string> | null> {
  const out = new Map<number, string>();
  let known = false;
  // sacct knows finished tasks where accounting is set up; squeue knows queued and running ones.
  const acct = await t.sh(`sacct -n -P -X -j ${q(jobId)} -o JobID,State 2>/dev/null`);
  if (acct.code === 0) {
    known = true;
    for (const line of acct.stdout.split('\n')) {
      const [jid, state] = line.trim().split('|');
      add(out, jobId, jid, state);
    }
  }
  const sq = await t.sh(`squeue -h -r -t all -j ${q(jobId)} -o '%i|%T' 2>/dev/null`);
  if (sq.code === 0) {
    known = true;
    for (const line of sq.stdout.split('\n')) {
      const [jid, state] = line.trim().split('|');
      add(out, jobId, jid, state);
    }
  }
  return known ? out : null;
}

function add(out: Map<number, string>, jobId: string, jid: string | undefined, state: string | undefined): void {
  if (!jid || !state) return;
  const m = new RegExp(`^${jobId}_(\\d+)$`).exec(jid);
  if (m) out.set(Number(m[1]), state.split(' ')[0]);
}

/** Scheduler states that end a task without it finishing its run. */
export const KILLED_STATES = ['CANCELLED', 'TIMEOUT', 'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE'];
export const ACTIVE_STATES = ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT'];

export async function cancel(t: Transport, jobId: string): Promise<void> {
  const r = await t.sh(`scancel ${q(jobId)}`);
  if (r.code !== 0) throw new SweepFault(`scancel ${jobId} on ${t.where}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
}
