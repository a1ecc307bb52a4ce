/** Experiments: database records <-> domain rows. */
import type { ExperimentRow, NewExperiment } from '../../types';
import { checkOptionalString, checkString } from '../../validate';

export interface ExperimentRecord {
  id: number;
  name: string;
  preset: string | null;
  created_at: number;
  notes: string;
}

export function toExperimentRow(r: ExperimentRecord): ExperimentRow {
  return { id: r.id, name: r.name, preset: r.preset, createdAt: r.created_at, notes: r.notes };
}

/** Parameters of INSERT_EXPERIMENT, checked. */
export function experimentInsertParams(file: string, e: NewExperiment, now: number): unknown[] {
  const name = checkString(file, 'createExperiment: name', e?.name, { nonEmpty: true });
  const preset = checkOptionalString(file, 'createExperiment: preset', e.preset);
  const notes = e.notes === undefined ? '' : checkString(file, 'createExperiment: notes', e.notes);
  return [name, preset, now, notes];
}
