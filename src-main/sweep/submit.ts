/**
 * Hand a planned sweep to Slurm: record it locally (sweep row + one queued run per task, each
 * with its origin), write sweep.json and job.sh into the sweep folder (here or over ssh), and
 * submit the job array. A fault (unreachable host, no sbatch, a rejected submission) is put
 * on the sweep and its runs before it is reported, so the workbench shows why.
 */
import crypto from 'node:crypto';
import { ConfigError } from '../../src-shared/config/schema';
import type { Store } from '../db/store';
import { recordSweep, type RecordedSweep, type SweepPlan } from '../service/sweep';
import { layout, sweepFile } from './folder';
import { jobScript, submit, cancel, type SlurmOptions } from './slurm';
import { SweepFault, transportFor, type Transport } from './transport';

export interface SubmitOptions extends SlurmOptions {
  dir: string;
  sshHost?: string | null;
  experimentPreset?: string;
}

export async function submitSlurm(store: Store, plan: SweepPlan, o: SubmitOptions, t: Transport = transportFor(o.sshHost)): Promise<RecordedSweep & { jobId: string }> {
  if (!o.dir.startsWith('/')) throw new ConfigError('--dir', `an absolute path on ${t.where}`, o.dir);
  const L = layout(o.dir);
  const uid = crypto.randomUUID();
  // Check the script's options before anything is written.
  const script = jobScript(o.dir, plan.runs.length, plan.name, o);
  const rec = await recordSweep(store, plan, {
    executor: 'slurm',
    uid,
    location: o.dir,
    sshHost: o.sshHost ?? null,
    host: o.sshHost ?? 'cluster',
    experimentPreset: o.experimentPreset,
  });
  try {
    if ((await t.readFile(L.sweepJson)) !== null) {
      throw new SweepFault(`${o.dir} on ${t.where} already holds a sweep: choose an empty folder`);
    }
    await t.writeFile(L.sweepJson, JSON.stringify(sweepFile(plan, uid, o.experimentPreset ?? null, new Date().toISOString()), null, 1));
    await t.writeFile(L.jobScript, script);
    const jobId = await submit(t, o.dir);
    await store.updateSweep(rec.sweepId, { jobId, state: 'submitted', message: null });
    return { ...rec, jobId };
  } catch (e) {
    const message = (e as Error).message;
    await store.updateSweep(rec.sweepId, { state: 'failed', message });
    for (const id of rec.runIds) {
      await store.updateRun(id, { status: 'failed', error: `not submitted: ${message}`, endedAt: Date.now() });
    }
    throw e;
  }
}

/** scancel the sweep's array; tasks checkpoint and publish on the way out. */
export async function cancelSlurm(store: Store, sweepId: number): Promise<void> {
  const row = await store.getSweep(sweepId);
  if (!row) throw new SweepFault(`sweep ${sweepId}: no such sweep`);
  if (row.executor !== 'slurm' || !row.jobId) throw new SweepFault(`sweep ${sweepId}: not a submitted Slurm sweep`);
  await cancel(transportFor(row.sshHost), row.jobId);
  await store.updateSweep(sweepId, { state: 'cancelled', message: `cancelled (scancel ${row.jobId})` });
}
