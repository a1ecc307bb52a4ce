/**
 * Reading a matrix-game replay (layout in src-shared/envs/matrix-game.ts): `meta.players`
 * (names), `meta.actionNames[i]`, `meta.payoffs` (joint index j, player i at j*N + i, with
 * j = (...(a_0 * A_1 + a_1) * A_2 + ...) + a_{N-1}), `meta.optimum` (joint indices), and the
 * `joint` step column (the joint action played at each step).
 */
import type { Replay } from '../../../../src-shared/envs/types';

export interface MatrixGame {
  title: string;
  players: string[];
  actions: string[][];
  payoffs: number[];
  optimum: Set<number>;
}

export function matrixGame(replay: Replay): MatrixGame {
  const m = replay.meta as { title?: unknown; game?: unknown; players?: unknown; actionNames?: unknown; payoffs?: unknown; optimum?: unknown };
  const players = Array.isArray(m.players) ? m.players.map(String) : [];
  const actions = Array.isArray(m.actionNames) ? (m.actionNames as unknown[]).map((a) => (Array.isArray(a) ? a.map(String) : [])) : [];
  return {
    title: typeof m.title === 'string' ? m.title : String(m.game ?? 'matrix game'),
    players,
    actions,
    payoffs: Array.isArray(m.payoffs) ? m.payoffs.map(Number) : [],
    optimum: new Set(Array.isArray(m.optimum) ? m.optimum.map(Number) : []),
  };
}

export function isMatrixReplay(replay: Replay): boolean {
  const m = replay.meta as { payoffs?: unknown; players?: unknown };
  return Array.isArray(m.payoffs) && Array.isArray(m.players);
}

/** Joint index of one action per player. */
export function jointIndex(game: MatrixGame, acts: readonly number[]): number {
  let j = 0;
  for (let i = 0; i < game.actions.length; i++) j = j * game.actions[i].length + acts[i];
  return j;
}

/** Actions per player of joint index j. */
export function jointActions(game: MatrixGame, j: number): number[] {
  const out = new Array<number>(game.actions.length);
  for (let i = game.actions.length - 1; i >= 0; i--) {
    const n = game.actions[i].length;
    out[i] = j % n;
    j = Math.floor(j / n);
  }
  return out;
}

export function numJoint(game: MatrixGame): number {
  return game.actions.reduce((p, a) => p * a.length, 1);
}

/** How often each joint action was played in the steps before frame f. */
export function jointCounts(replay: Replay, game: MatrixGame, f: number): number[] {
  const counts = new Array<number>(numJoint(game)).fill(0);
  const col = replay.columns.joint ?? [];
  for (let t = 0; t < Math.min(f, replay.steps); t++) if (col[t] >= 0) counts[col[t]]++;
  return counts;
}

/**
 * The metric key under which the matrix env declares "player i played action a" frequencies
 * (src-shared/envs/matrix-game.ts, `metrics`); a run that lacks it simply has no curve.
 */
export function actionFrequencyKey(player: number, action: number): string {
  return `action_freq_${player}_${action}`;
}
