/**
 * An observation row as a 3x3 grid of cell glyphs plus the extra values, for the side panel.
 * Layout (manitokan-observe.ts): view cell (vx, vy) at `obs[(vx*3 + vy)*3 + c]`, c = object,
 * colour, state (MiniGrid triples); the agent sits at (1, 2), facing up in its own view.
 */
import { COLOR, OBJ, VIEW_SIZE } from '../../../../src-shared/envs/manitokan-observe';
import { COLOR_BY_NAME } from './draw';

const COLOR_NAMES = Object.fromEntries(Object.entries(COLOR).map(([k, v]) => [v, k])) as Record<number, string>;
const OBJ_NAMES = Object.fromEntries(Object.entries(OBJ).map(([k, v]) => [v, k])) as Record<number, string>;
const ARROWS = ['→', '↓', '←', '↑'];

export interface ObsCell {
  glyph: string;
  /** CSS colour of the glyph (empty = default). */
  color: string;
  kind: string;
  title: string;
  triple: [number, number, number];
  self: boolean;
}

export function obsGrid(obs: ArrayLike<number>): ObsCell[][] {
  const rows: ObsCell[][] = [];
  for (let vy = 0; vy < 3; vy++) {
    const row: ObsCell[] = [];
    for (let vx = 0; vx < 3; vx++) {
      const k = vx * 3 + vy;
      const o = obs[k * 3];
      const c = obs[k * 3 + 1];
      const s = obs[k * 3 + 2];
      const kind = OBJ_NAMES[o] ?? `obj${o}`;
      const colorName = COLOR_NAMES[c] ?? '';
      let glyph = '';
      switch (o) {
        case OBJ.unseen:
          glyph = '·';
          break;
        case OBJ.empty:
          glyph = '';
          break;
        case OBJ.wall:
          glyph = '▩';
          break;
        case OBJ.door:
          glyph = s === 0 ? '▭' : '▮';
          break;
        case OBJ.key:
          glyph = '⚷';
          break;
        case OBJ.agent:
          glyph = ARROWS[s] ?? '▲';
          break;
        default:
          glyph = '?';
      }
      const color = o === OBJ.door || o === OBJ.key || o === OBJ.agent ? (COLOR_BY_NAME[colorName] ?? '') : '';
      row.push({
        glyph,
        color,
        kind,
        title: `${kind}${colorName && o !== OBJ.empty && o !== OBJ.unseen ? ` (${colorName})` : ''} = [${o}, ${c}, ${s}]`,
        triple: [o, c, s],
        self: vx === 1 && vy === 2,
      });
    }
    rows.push(row);
  }
  return rows;
}

/** The values after the 27 view values, labelled by the replay's obsLayout. */
export function obsExtras(
  obs: ArrayLike<number>,
  layout: { doorFlag: boolean; keyFlag: boolean; lastAction: boolean },
  actionNames: readonly string[],
  envObsSize: number,
): { label: string; value: string }[] {
  const out: { label: string; value: string }[] = [];
  let off = VIEW_SIZE;
  if (layout.doorFlag) {
    const v = obs[off];
    out.push({ label: 'door flag', value: `${v} (${v === 23 ? 'opened' : v === 37 ? 'closed' : '?'})` });
    off += 3;
  }
  if (layout.keyFlag) {
    const v = obs[off];
    out.push({ label: 'key flag', value: `${v} (${v === 53 ? 'carrying' : v === 59 ? 'empty-handed' : '?'})` });
    off += 3;
  }
  if (layout.lastAction && obs.length > envObsSize) {
    let a = -1;
    for (let j = 0; j < actionNames.length; j++) if (obs[envObsSize + j] === 1) a = j;
    out.push({ label: 'last action', value: a >= 0 ? actionNames[a] : 'none' });
  }
  return out;
}
