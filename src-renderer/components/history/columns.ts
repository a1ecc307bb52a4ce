/** Columns of the run table, shared by its header and rows (one CSS grid template). */
import type { SortKey } from '../../stores/runs';

export interface Column {
  id: string;
  label: string;
  width: string;
  sort?: SortKey;
  num?: boolean;
  title?: string;
}

export const COLUMNS: Column[] = [
  { id: 'select', label: '', width: '34px' },
  { id: 'id', label: '#', width: '52px', sort: 'id', num: true },
  { id: 'name', label: 'Name', width: 'minmax(170px, 2fr)', sort: 'name' },
  { id: 'env', label: 'Env', width: '88px' },
  { id: 'algo', label: 'Algorithm', width: '84px' },
  { id: 'seed', label: 'Seed', width: '50px', num: true },
  { id: 'status', label: 'Status', width: '172px', sort: 'status' },
  { id: 'backend', label: 'Backend', width: '70px' },
  { id: 'started', label: 'Started', width: '104px', sort: 'started_at' },
  { id: 'duration', label: 'Duration', width: '78px', sort: 'duration', num: true },
  { id: 'success', label: 'Success', width: '70px', num: true, title: "the run's success metric, as its env declares it (latest round mean, or the final summary)" },
  { id: 'return', label: 'Return', width: '70px', num: true, title: "the run's return metric, as its env declares it" },
  { id: 'tags', label: 'Tags', width: 'minmax(90px, 1fr)' },
  { id: 'actions', label: '', width: '40px' },
];

export const GRID_TEMPLATE = COLUMNS.map((c) => c.width).join(' ');

/** Chosen columns (config fields, metric summaries) go between the built-in ones and the tags. */
export const EXTRA_AT = COLUMNS.findIndex((c) => c.id === 'tags');
export const EXTRA_WIDTH = 112;

/** The grid template with `extra` chosen columns, and the width below which the table scrolls sideways. */
export function gridFor(extra: number): { template: string; minWidth: number } {
  const widths = COLUMNS.map((c) => c.width);
  widths.splice(EXTRA_AT, 0, ...Array<string>(extra).fill(`${EXTRA_WIDTH}px`));
  const minWidth = widths.reduce((sum, w) => sum + Number(/(\d+)px/.exec(w)?.[1] ?? 0), 0);
  return { template: widths.join(' '), minWidth };
}
