/** Sweeps: database records <-> domain rows. */
import type { SweepSpec } from '../../../../src-shared/config/sweep';

export type SweepExecutor = 'local' | 'slurm';

export interface SweepRecord {
  id: number;
  uid: string;
  experiment_id: number | null;
  name: string;
  spec: string;
  executor: SweepExecutor;
  location: string | null;
  ssh_host: string | null;
  job_id: string | null;
  state: string;
  message: string | null;
  created_at: number;
  updated_at: number;
}

export interface SweepRow {
  id: number;
  /** Stable id of the sweep, also written in its folder: a collect finds its sweep by it. */
  uid: string;
  experimentId: number | null;
  name: string;
  spec: SweepSpec;
  executor: SweepExecutor;
  /** The sweep folder (on the cluster's shared filesystem for slurm). */
  location: string | null;
  /** `--ssh HOST` the folder is reached through, or null when local. */
  sshHost: string | null;
  /** Slurm job id of the array. */
  jobId: string | null;
  /** submitted | running | done | failed | cancelled | local */
  state: string;
  /** The last fault seen (unreachable host, rejected submission, unreadable run file...). */
  message: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewSweep {
  uid: string;
  experimentId: number | null;
  name: string;
  spec: SweepSpec;
  executor: SweepExecutor;
  location?: string | null;
  sshHost?: string | null;
  state: string;
}

export function toSweepRow(r: SweepRecord): SweepRow {
  return {
    id: r.id,
    uid: r.uid,
    experimentId: r.experiment_id,
    name: r.name,
    spec: JSON.parse(r.spec) as SweepSpec,
    executor: r.executor,
    location: r.location,
    sshHost: r.ssh_host,
    jobId: r.job_id,
    state: r.state,
    message: r.message,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function sweepInsertParams(s: NewSweep, now: number): unknown[] {
  return [s.uid, s.experimentId, s.name, JSON.stringify(s.spec), s.executor, s.location ?? null, s.sshHost ?? null, s.state, now, now];
}
