/**
 * Reading any env's replay from the columns every env records (see `Replay` in
 * src-shared/envs/types.ts): `action` (steps*N, a discrete index, -1 for a box agent),
 * `reward` (steps*N), `box_action` (steps*N*boxSize) when some agent acts in a box, and
 * `obs` ((steps+1)*N*obsSize) when the env records observations.
 *
 * Names and colours come from the replay's `meta` (written by the env from its spec):
 * `meta.agents[i] = { name, color?, actionNames?, boxNames? }`; older replays carry only
 * `numAgents` and a shared `actionNames`, and get "agent i" and the default palette.
 */
import type { Replay } from '../../../../src-shared/envs/types';

/** Categorical palette for agents whose env names no colour (Tableau 10, colour-blind safe). */
export const DEFAULT_AGENT_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export interface ReplayAgent {
  name: string;
  color: string;
  /** Names of a discrete agent's actions; empty when the env gave none. */
  actionNames: string[];
  /** Names of a box agent's action components; empty for discrete agents. */
  boxNames: string[];
}

interface AgentMeta {
  name?: unknown;
  color?: unknown;
  actionNames?: unknown;
  boxNames?: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Number of agents: from meta, else from the `action` or `reward` column length. */
export function replayAgentCount(replay: Replay): number {
  const m = replay.meta as { agents?: unknown; numAgents?: unknown };
  if (Array.isArray(m.agents)) return m.agents.length;
  if (typeof m.numAgents === 'number' && m.numAgents > 0) return m.numAgents;
  const col = replay.columns.action ?? replay.columns.reward;
  if (col && replay.steps > 0) return Math.max(1, Math.round(col.length / replay.steps));
  return 0;
}

export function replayAgents(replay: Replay): ReplayAgent[] {
  const m = replay.meta as { agents?: AgentMeta[]; actionNames?: unknown; agentColors?: unknown };
  const shared = strings(m.actionNames);
  const colors = strings(m.agentColors);
  return Array.from({ length: replayAgentCount(replay) }, (_, i) => {
    const a: AgentMeta = Array.isArray(m.agents) ? (m.agents[i] ?? {}) : {};
    return {
      name: typeof a.name === 'string' ? a.name : `agent ${i}`,
      color: typeof a.color === 'string' ? a.color : (colors[i] ?? DEFAULT_AGENT_COLORS[i % DEFAULT_AGENT_COLORS.length]),
      actionNames: a.actionNames !== undefined ? strings(a.actionNames) : shared,
      boxNames: strings(a.boxNames),
    };
  });
}

/** What agent i did at step t (0..steps-1), as text: an action name, or box components. */
export function actionText(replay: Replay, agents: ReplayAgent[], t: number, i: number): string {
  const N = agents.length;
  if (t < 0 || t >= replay.steps || N === 0) return '–';
  const a = replay.columns.action?.[t * N + i];
  if (a !== undefined && a >= 0) return agents[i].actionNames[a] ?? `action ${a}`;
  const box = replay.columns.box_action;
  if (box) {
    const size = Math.round(box.length / (replay.steps * N));
    const v = box.slice((t * N + i) * size, (t * N + i + 1) * size);
    const names = agents[i].boxNames;
    return v.map((x, k) => (names[k] ? `${names[k]} ${fmt(x)}` : fmt(x))).join(', ');
  }
  return '–';
}

export function rewardAt(replay: Replay, N: number, t: number, i: number): number {
  return replay.columns.reward?.[t * N + i] ?? 0;
}

/** Each agent's summed reward over the steps before frame f (frame f shows the state after step f-1). */
export function returnsUpTo(replay: Replay, N: number, f: number): number[] {
  const out = new Array<number>(N).fill(0);
  const rw = replay.columns.reward ?? [];
  const end = Math.min(f, replay.steps);
  for (let t = 0; t < end; t++) for (let i = 0; i < N; i++) out[i] += rw[t * N + i] ?? 0;
  return out;
}

/** Agent i's observation at frame f, or null when the env did not record observations. */
export function observationAt(replay: Replay, N: number, f: number, i: number): number[] | null {
  const obs = replay.columns.obs;
  if (!obs || N === 0) return null;
  const size = Math.round(obs.length / ((replay.steps + 1) * N));
  if (size <= 0) return null;
  const at = (Math.min(f, replay.steps) * N + i) * size;
  return obs.slice(at, at + size);
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3);
}
