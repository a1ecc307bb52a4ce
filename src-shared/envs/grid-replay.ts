/**
 * The replay layout of cell-grid tasks drawn by the generic grid renderer (kind 'grid2d' in
 * src-renderer/components/replay/grid2d): the env declares in its replay meta what the board
 * holds and how it looks, so colours, names and sizes stay in the env's files.
 *
 * `meta` (GridReplayMeta): renderer 'grid2d', rows, cols; `tiles` [{ name, color }] and a static
 * `tileMap` (rows*cols, row-major, 0 = floor, k = tiles[k-1]); `toggles` [{ name, cells [[row,
 * col], ...], on, off }]: groups of cells whose tile changes during the episode (doors), drawn
 * with tile `on` when the group's state is 1 and `off` when 0 (0 = floor); `agents` [{ name,
 * color, actionNames }]; `objects` [{ name, color }] (movable things such as a box).
 * Columns, frames t = 0..steps (N agents, M objects, D toggle groups):
 * | column | length | index | meaning |
 * |---|---|---|---|
 * | agent_pos  | (steps+1)*N*2 | (t*N + i)*2 + {0: row, 1: col} | agent i's cell |
 * | object_pos | (steps+1)*M*2 | (t*M + j)*2 + {0: row, 1: col} | object j's cell (-1 when absent) |
 * | toggle     | (steps+1)*D   | t*D + g | 1 when group g is in its `on` state |
 * plus the generic `action` and `reward` step columns every env records.
 */

export interface GridTile {
  readonly name: string;
  /** CSS colour. */
  readonly color: string;
}

export interface GridToggle {
  readonly name: string;
  readonly cells: readonly (readonly [number, number])[];
  /** Tile index (1-based into `tiles`; 0 = floor) drawn when the state is 1 and 0. */
  readonly on: number;
  readonly off: number;
}

export interface GridReplayMeta {
  readonly renderer: 'grid2d';
  readonly rows: number;
  readonly cols: number;
  readonly tiles: readonly GridTile[];
  readonly tileMap: readonly number[];
  readonly toggles: readonly GridToggle[];
  /** Names and colours; `actionNames` label the generic per-step panel. */
  readonly agents: readonly { readonly name: string; readonly color: string; readonly actionNames?: readonly string[] }[];
  readonly objects: readonly { readonly name: string; readonly color: string }[];
}

export const GRID_COLUMNS = ['agent_pos', 'object_pos', 'toggle'] as const;
