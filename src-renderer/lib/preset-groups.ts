/**
 * Presets grouped for the form's picker: by the paper and figure they reproduce (the preset's
 * `paper` reference without its "(released code)" tag, so a paper preset and its released-code
 * twin sit side by side), in the order the host lists them; presets citing no figure go last.
 * A search narrows by name, title, reference or description.
 */
import type { PresetInfo } from '../../src-shared/api';

export interface PresetGroup {
  label: string;
  presets: PresetInfo[];
}

const RELEASED = /\s*\(released code\)\s*$/i;

export function presetGroupLabel(p: PresetInfo): string {
  return p.paper ? p.paper.replace(RELEASED, '').trim() : 'Other';
}

export function groupPresets(presets: readonly PresetInfo[], search = ''): PresetGroup[] {
  const words = search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const groups = new Map<string, PresetInfo[]>();
  for (const p of presets) {
    const text = `${p.name} ${p.title} ${p.paper ?? ''} ${p.description}`.toLowerCase();
    if (!words.every((w) => text.includes(w))) continue;
    const label = presetGroupLabel(p);
    let g = groups.get(label);
    if (!g) groups.set(label, (g = []));
    g.push(p);
  }
  const out = [...groups].map(([label, list]) => ({ label, presets: list }));
  // "Other" last; the rest keep first-seen order (the host lists presets in paper order).
  return [...out.filter((g) => g.label !== 'Other'), ...out.filter((g) => g.label === 'Other')];
}
