/** Checkpoints: records <-> rows. */
import type { CheckpointRow, NewCheckpoint } from '../../types';
import { checkId, checkInt, checkString } from '../../validate';

export interface CheckpointRecord {
  id: number;
  run_id: number;
  update: number;
  episode: number;
  env_steps: number;
  path: string;
  created_at: number;
  bytes: number;
}

export function toCheckpointRow(r: CheckpointRecord): CheckpointRow {
  return {
    id: r.id,
    runId: r.run_id,
    update: r.update,
    episode: r.episode,
    envSteps: r.env_steps,
    path: r.path,
    createdAt: r.created_at,
    bytes: r.bytes,
  };
}

/** Parameters of INSERT_CHECKPOINT, checked. */
export function checkpointInsertParams(file: string, c: NewCheckpoint, now: number): unknown[] {
  const what = (f: string) => `addCheckpoint: ${f}`;
  return [
    checkId(file, what('runId'), c?.runId),
    checkInt(file, what('update'), c.update, 0),
    checkInt(file, what('episode'), c.episode, 0),
    checkInt(file, what('envSteps'), c.envSteps, 0),
    checkString(file, what('path'), c.path, { nonEmpty: true }),
    now,
    checkInt(file, what('bytes'), c.bytes, 0),
  ];
}
