/**
 * The sweep folder on the cluster's shared filesystem, and what each file in it is for.
 *
 *   sweep.json            the plan: uid, name, spec, every cell's resolved config, task order
 *   job.sh                the sbatch script of the job array (one task per run)
 *   job-id                Slurm's job id of the array, once submitted
 *   runs/task-<i>.db      task i's run file: a whole Cairn database (same schema) holding that one
 *                         run, published by atomic rename, so a reader never sees it half-written
 *   runs/task-<i>.json    task i's status (round, status, host, job), also renamed into place
 *   checkpoints/task-<i>/ task i's checkpoints: a requeued task resumes from the newest
 *   logs/task-<i>.out     the task's stdout and stderr
 *
 * docs/design.md ("Sweeps and the Slurm executor") says why the run file is a published
 * SQLite snapshot rather than a live database or an append-only log.
 */
import path from 'node:path';
import type { ExperimentConfig } from '../../src-shared/config/experiment';
import type { AxisValue, SweepRun, SweepSpec } from '../../src-shared/config/sweep';
import type { MetricSpec } from '../../src-shared/metrics';
import type { SweepPlan } from '../service/sweep';

export const SWEEP_FORMAT = 1;

export interface SweepFile {
  format: number;
  uid: string;
  name: string;
  /** Stored as the experiment's preset ("repro:fig5" for a reproduction). */
  experimentPreset: string | null;
  spec: SweepSpec;
  cells: { label: string; values: Record<string, AxisValue>; preset: string | null; config: ExperimentConfig; metricKeys: string[]; metricSpecs: MetricSpec[] }[];
  runs: SweepRun[];
  createdAt: string;
}

/** What a task publishes beside its run file; one line of JSON. */
export interface TaskStatus {
  task: number;
  status: 'running' | 'stopped' | 'done' | 'failed';
  round: number;
  total: number;
  /** Round of the newest published run file (its latest checkpoint, or the end). */
  publishedRound: number;
  host: string;
  jobId: string | null;
  error: string | null;
  updatedAt: string;
}

export function sweepFile(plan: SweepPlan, uid: string, experimentPreset: string | null, createdAt: string): SweepFile {
  return {
    format: SWEEP_FORMAT,
    uid,
    name: plan.name,
    experimentPreset,
    spec: plan.spec,
    cells: plan.cells.map((c) => ({ label: c.label, values: c.values, preset: c.preset ?? null, config: c.config, metricKeys: c.metricKeys, metricSpecs: c.metricSpecs })),
    runs: plan.runs,
    createdAt,
  };
}

/** Parse sweep.json, with a message that names the file when it is not one of ours. */
export function parseSweepFile(text: string, where: string): SweepFile {
  let f: SweepFile;
  try {
    f = JSON.parse(text) as SweepFile;
  } catch {
    throw new Error(`${where}: not a Cairn sweep file (invalid JSON)`);
  }
  if (typeof f !== 'object' || f === null || f.format !== SWEEP_FORMAT || typeof f.uid !== 'string' || !Array.isArray(f.runs) || !Array.isArray(f.cells)) {
    throw new Error(`${where}: not a Cairn sweep file of format ${SWEEP_FORMAT}`);
  }
  return f;
}

/** The folder's paths; POSIX paths, because the folder may be on a remote Linux host. */
export function layout(dir: string) {
  const j = path.posix.join;
  return {
    dir,
    sweepJson: j(dir, 'sweep.json'),
    jobScript: j(dir, 'job.sh'),
    jobId: j(dir, 'job-id'),
    runsDir: j(dir, 'runs'),
    runFile: (task: number) => j(dir, 'runs', `task-${task}.db`),
    statusFile: (task: number) => j(dir, 'runs', `task-${task}.json`),
    /** A database path whose checkpoint folder (db/paths.ts checkpointDir) is checkpoints/task-<i>/. */
    checkpointBase: (task: number) => j(dir, `task-${task}.db`),
    logsDir: j(dir, 'logs'),
  };
}
