/**
 * Which checkpoint a resume continues from: the newest one whose file is intact.
 *
 * Checked here, in the runner, before anything is deleted: a damaged newest checkpoint (a
 * file cut by a full disk, a bad sector, a hand edit) must not fail every retry while an
 * intact earlier one sits beside it, and the rows recorded after the chosen checkpoint are
 * only dropped once the choice is made.
 */
import type { CheckpointRow } from '../db/types';
import type { Store } from '../db/store';
import { readCheckpointFile, CheckpointError } from './checkpoint-file';

export interface ResumePoint {
  /** The checkpoint to load; undefined when the run has none (it restarts from round 0). */
  checkpoint?: CheckpointRow;
  /** Newer checkpoints passed over, newest first, with the reason. */
  skipped: { path: string; round: number; why: string }[];
}

/** Why a checkpoint row cannot be resumed from, or null when it can. */
export function checkpointProblem(row: CheckpointRow): string | null {
  try {
    const ckpt = readCheckpointFile(row.path);
    const c = ckpt.extra.cairn as { round?: unknown; envSteps?: unknown; episodeIdx?: unknown } | undefined;
    if (!c || typeof c.round !== 'number' || typeof c.envSteps !== 'number' || typeof c.episodeIdx !== 'number') {
      return `checkpoint ${row.path}: damaged (no round counters); it cannot be resumed from`;
    }
    if (c.round !== row.episode) {
      return `checkpoint ${row.path}: holds round ${c.round} but the database records it as round ${row.episode}`;
    }
    return null;
  } catch (err) {
    if (err instanceof CheckpointError) return err.message;
    throw err;
  }
}

/**
 * The newest intact checkpoint of a run.
 * @throws CheckpointError naming the newest file when the run has checkpoints but none is intact.
 */
export async function chooseResumePoint(store: Store, runId: number): Promise<ResumePoint> {
  const rows = (await store.listCheckpoints(runId)).slice().reverse();
  const skipped: ResumePoint['skipped'] = [];
  for (const row of rows) {
    const why = checkpointProblem(row);
    if (why === null) return { checkpoint: row, skipped };
    skipped.push({ path: row.path, round: row.episode, why });
  }
  if (rows.length > 0) {
    const first = skipped[0];
    throw new CheckpointError(
      first.path,
      `${first.why.replace(/^checkpoint \S+: /, '')}, and none of the run's ${rows.length} checkpoint(s) is intact; nothing was changed`,
    );
  }
  return { skipped };
}
