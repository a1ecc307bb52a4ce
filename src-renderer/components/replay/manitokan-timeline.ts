/**
 * Manitokan timeline: key pick-ups, drops (the hidden gifts: a carrier leaving the key on the
 * floor for others), door openings and non-zero rewards, read from the replay's `event` and
 * `reward` step columns (layout in src-shared/envs/manitokan-replay.ts).
 */
import type { Replay } from '../../../src-shared/envs/types';
import { EVENT_BITS } from '../../../src-shared/envs/manitokan-replay';
import type { ReplayMarker } from './markers';

export function manitokanMarkers(replay: Replay): ReplayMarker[] {
  const meta = replay.meta as { numAgents?: number; eventBits?: typeof EVENT_BITS };
  const N = Number(meta.numAgents ?? 0);
  const bits = meta.eventBits ?? EVENT_BITS;
  const ev = replay.columns.event ?? [];
  const rw = replay.columns.reward ?? [];
  const out: ReplayMarker[] = [];
  if (N <= 0) return out;
  for (let t = 0; t < replay.steps; t++) {
    for (let i = 0; i < N; i++) {
      const e = ev[t * N + i] ?? 0;
      const at = { step: t, frame: t + 1, agent: i };
      if (e & bits.pickup) out.push({ ...at, kind: 'pickup', label: `agent ${i} picked up the key` });
      if (e & bits.drop) out.push({ ...at, kind: 'drop', label: `agent ${i} dropped the key` });
      if (e & bits.doorOpened) out.push({ ...at, kind: 'door', label: `agent ${i} opened its door` });
      const r = rw[t * N + i] ?? 0;
      if (r !== 0) out.push({ ...at, kind: 'reward', value: r, label: `agent ${i} reward ${+r.toFixed(3)}` });
    }
  }
  return out;
}
