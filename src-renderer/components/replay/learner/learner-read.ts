/**
 * What a learner added to a replay (src-shared/replay-annotations.ts), as every renderer reads
 * it: the marks per agent (drawn as a ring and a badge in the learner's colour) and the
 * per-agent step series (tracks under the timeline). Nothing here names a learner.
 */
import type { Replay } from '../../../../src-shared/envs/types';
import { learnerAnnotations, learnerColumn, type AgentMark } from '../../../../src-shared/replay-annotations';
import { replayAgentCount, replayAgents } from '../generic/replay-read';

/** Marks of each agent index (empty list: none). */
export function agentMarks(replay: Replay): Map<number, AgentMark[]> {
  const out = new Map<number, AgentMark[]>();
  for (const m of learnerAnnotations(replay)?.marks ?? []) {
    const list = out.get(m.agent) ?? [];
    list.push(m);
    out.set(m.agent, list);
  }
  return out;
}

export interface TrackRow {
  agent: number;
  name: string;
  /** One value per step (steps long). */
  values: number[];
}

export interface SeriesTracks {
  key: string;
  title: string;
  doc?: string;
  /** Largest |value| over every agent and step (the common scale of the rows); 0 if all zero. */
  scale: number;
  rows: TrackRow[];
}

/** The learner's series, one row per agent, on one scale per series so agents compare. */
export function seriesTracks(replay: Replay): SeriesTracks[] {
  const meta = learnerAnnotations(replay);
  if (!meta || replay.steps <= 0) return [];
  const N = replayAgentCount(replay);
  const agents = replayAgents(replay);
  return meta.series.flatMap((s) => {
    const col = replay.columns[learnerColumn(s.key)];
    if (!col || N <= 0 || col.length !== replay.steps * N) return [];
    let scale = 0;
    const rows = Array.from({ length: N }, (_, i) => {
      const values = Array.from({ length: replay.steps }, (_, t) => col[t * N + i] ?? 0);
      for (const v of values) scale = Math.max(scale, Math.abs(v));
      return { agent: i, name: agents[i]?.name ?? `agent ${i}`, values };
    });
    return [{ key: s.key, title: s.title, ...(s.doc ? { doc: s.doc } : {}), scale, rows }];
  });
}

/** Compact number for a track's label (3 significant digits, no exponent below 1e-4). */
export function fmtValue(v: number | null): string {
  if (v === null) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-4 && a < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(2);
}
