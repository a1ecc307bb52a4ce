/**
 * Deleting a run: the database rows (one transaction) and then its checkpoint files, for the
 * UI's delete and `cairn delete` alike. The caller has asked the user first.
 */
import type { Store } from '../db/store';
import { removeRunCheckpoints, type Cleanup } from '../runner/checkpoint-cleanup';
import { runnerAlive } from '../runner/liveness';

export class DeleteRefused extends Error {
  override name = 'DeleteRefused';
}

/** @throws DeleteRefused when the run does not exist or is still running or queued. */
export async function deleteRunAndFiles(store: Store, runId: number, opts: { ownPid?: number } = {}): Promise<Cleanup> {
  const run = await store.getRun(runId);
  if (!run) throw new DeleteRefused(`run ${runId} does not exist in ${store.file}`);
  if (run.status === 'running' || run.status === 'queued') {
    const orphan = run.runnerPid !== null && run.runnerPid !== opts.ownPid && !runnerAlive(run);
    if (!orphan) throw new DeleteRefused(`run ${run.id} is ${run.status}; stop it before deleting it`);
  }
  const { checkpointPaths } = await store.deleteRun(run.id);
  return removeRunCheckpoints(store.file, run.id, checkpointPaths);
}
