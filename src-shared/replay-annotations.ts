/**
 * What a learner adds to a recorded episode, for any env and any renderer: named per-agent step
 * series (ALITA's intrinsic reward per agent and step) and agent marks (ALITA's influencer).
 *
 * Layout in the replay: each series is a column `learner:<key>` of steps x N values, step-major
 * like the env's `reward` column (value of step t for agent i at t * N + i: what the agent got
 * for the action taken at frame t, shown on frame t + 1); `meta.learner` declares the learner,
 * each series (key, title, doc) and each mark (agent, label, colour). The colours are the
 * learner's, so no viewer names a learner or hard-codes its colours; an env's own columns and
 * meta are never touched (a `learner:` prefix cannot collide with an env column).
 *
 * A learner annotates the replays of the episodes its round returns (`annotateReplay`); the
 * worker stores them as they are. Replays without `meta.learner` read as having nothing.
 */
import type { Replay } from './envs/types';

export const LEARNER_COLUMN_PREFIX = 'learner:';

export interface LearnerSeriesSpec {
  /** Column key (after the prefix): letters, digits, `_`, `-`, `.`. */
  readonly key: string;
  readonly title: string;
  readonly doc?: string;
}

export interface AgentMark {
  readonly agent: number;
  /** Short label drawn beside the agent, e.g. "influencer". */
  readonly label: string;
  /** CSS colour the renderers draw the mark in (declared by the learner). */
  readonly color: string;
  readonly doc?: string;
}

export interface LearnerReplayMeta {
  /** Learner id (algo id), for the viewer's caption. */
  readonly learner: string;
  readonly series: readonly LearnerSeriesSpec[];
  readonly marks: readonly AgentMark[];
}

export interface LearnerSeriesValues extends LearnerSeriesSpec {
  /** steps x N values, step-major. */
  readonly values: ArrayLike<number>;
}

const KEY = /^[A-Za-z0-9_.-]+$/;

export function learnerColumn(key: string): string {
  return `${LEARNER_COLUMN_PREFIX}${key}`;
}

/**
 * The replay with the learner's series and marks added (a new object; the input is not
 * changed). Throws when a series does not have steps x N values or a mark names no agent, so a
 * learner's bookkeeping error surfaces in its tests instead of as a wrong picture.
 */
export function annotateReplay(replay: Replay, numAgents: number, learner: string, series: readonly LearnerSeriesValues[], marks: readonly AgentMark[]): Replay {
  const columns: Record<string, number[]> = { ...replay.columns };
  for (const s of series) {
    if (!KEY.test(s.key)) throw new Error(`replay series key '${s.key}': letters, digits, '_', '-' and '.' only`);
    if (s.values.length !== replay.steps * numAgents) throw new Error(`replay series '${s.key}': ${s.values.length} values for ${replay.steps} steps x ${numAgents} agents`);
    columns[learnerColumn(s.key)] = Array.from(s.values, (v) => (Number.isFinite(v) ? v : 0));
  }
  for (const m of marks) {
    if (!Number.isInteger(m.agent) || m.agent < 0 || m.agent >= numAgents) throw new Error(`replay mark '${m.label}': agent ${m.agent} is not in 0..${numAgents - 1}`);
  }
  const meta: LearnerReplayMeta = {
    learner,
    series: series.map(({ key, title, doc }) => (doc === undefined ? { key, title } : { key, title, doc })),
    marks: marks.map((m) => ({ ...m })),
  };
  return { ...replay, meta: { ...replay.meta, learner: meta }, columns };
}

/** What a replay's learner declared, checked field by field; null when it declared nothing usable. */
export function learnerAnnotations(replay: Replay): LearnerReplayMeta | null {
  const raw = (replay.meta as { learner?: unknown }).learner;
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as { learner?: unknown; series?: unknown; marks?: unknown };
  const series: LearnerSeriesSpec[] = [];
  for (const s of Array.isArray(r.series) ? r.series : []) {
    const o = s as { key?: unknown; title?: unknown; doc?: unknown };
    if (typeof o.key !== 'string' || !Array.isArray(replay.columns[learnerColumn(o.key)])) continue;
    series.push({ key: o.key, title: typeof o.title === 'string' ? o.title : o.key, ...(typeof o.doc === 'string' ? { doc: o.doc } : {}) });
  }
  const marks: AgentMark[] = [];
  for (const m of Array.isArray(r.marks) ? r.marks : []) {
    const o = m as { agent?: unknown; label?: unknown; color?: unknown; doc?: unknown };
    if (typeof o.agent !== 'number' || !Number.isInteger(o.agent) || o.agent < 0) continue;
    marks.push({
      agent: o.agent,
      label: typeof o.label === 'string' ? o.label : 'marked',
      color: typeof o.color === 'string' ? o.color : 'currentColor',
      ...(typeof o.doc === 'string' ? { doc: o.doc } : {}),
    });
  }
  if (series.length === 0 && marks.length === 0) return null;
  return { learner: typeof r.learner === 'string' ? r.learner : '', series, marks };
}

/** Agent i's value of series `key` at step t (0..steps-1), or null when absent. */
export function learnerSeriesAt(replay: Replay, key: string, numAgents: number, t: number, i: number): number | null {
  const c = replay.columns[learnerColumn(key)];
  if (!c || t < 0 || t >= replay.steps) return null;
  const v = c[t * numAgents + i];
  return typeof v === 'number' ? v : null;
}
