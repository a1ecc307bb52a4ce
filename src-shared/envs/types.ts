/**
 * The vectorised multi-agent environment interface.
 *
 * One env object holds B copies of a task and writes into flat typed arrays it owns (PufferLib
 * style): no allocation per step, one contiguous row per (copy, agent). Trainers read the
 * buffers right after `step` and copy what they keep.
 */
import type { Schema, Values } from '../config/schema';

/** Which headline a metric is: the env's success measure, or its team return. */
export type MetricRole = 'success' | 'return';

/**
 * One declared episode metric. Everything outside an env's own files (worker, store, UI,
 * reports, CLI) learns metric names from these declarations, never by name.
 */
export interface MetricSpec {
  readonly key: string;
  /** Human label for tables and chart titles. */
  readonly title: string;
  /** At most one metric per role: what summaries, tables and default charts lead with. */
  readonly role?: MetricRole;
  /** Shown by default (run header, default charts, reports, CLI summaries). */
  readonly headline?: boolean;
  readonly description?: string;
  /** Direction for "best run" sorting and report highlights; default true. */
  readonly higherIsBetter?: boolean;
}

export interface EnvSpec {
  /** Registry id, e.g. "manitokan". */
  readonly id: string;
  readonly numAgents: number;
  /** Length of one agent's observation row in `obs`. */
  readonly obsSize: number;
  /**
   * Length of the prefix of an observation row that comes from the environment itself
   * (without appended agent-side history such as the last-action one-hot). Critics that the
   * paper feeds "the observation" read this prefix.
   */
  readonly envObsSize: number;
  readonly numActions: number;
  readonly actionNames: readonly string[];
  /** Length of the global state row (for centralised critics). */
  readonly stateSize: number;
  readonly episodeLimit: number;
  /** Names of the per-episode metrics, in the order of `EpisodeRecord.metrics` (= `metrics` keys). */
  readonly metricKeys: readonly string[];
  /** The declared episode metrics, in `metricKeys` order. */
  readonly metrics: readonly MetricSpec[];
}

/** Metrics of one finished episode; `null` where a metric has no value (e.g. no reward yet). */
export interface EpisodeRecord {
  /** Which copy (0..B-1) the episode ran in. */
  readonly envIndex: number;
  readonly metrics: Record<string, number | null>;
  /** Present when replay recording was on for that copy during the episode. */
  readonly replay?: Replay;
}

/**
 * A compact, JSON-able recording of one episode: a static header plus per-step columns.
 * Column lengths are multiples of the number of recorded steps; each env documents its own
 * columns. Renderers are registered per env id.
 */
export interface Replay {
  readonly envId: string;
  readonly version: 1;
  /** Number of steps taken (frames hold steps + 1 states: the reset state and one per step). */
  readonly steps: number;
  readonly meta: Record<string, unknown>;
  readonly columns: Record<string, number[]>;
}

export interface VecEnv {
  readonly spec: EnvSpec;
  /** Number of copies B. */
  readonly numEnvs: number;
  /** [B, N, obsSize] observations after the last reset/step. */
  readonly obs: Float32Array;
  /** [B, stateSize] global state. */
  readonly state: Float32Array;
  /** [B, N, numActions] 1 = action available. */
  readonly actionMask: Uint8Array;
  /** [B, N] rewards of the last step. */
  readonly rewards: Float32Array;
  /** [B] 1 when the copy's episode ended on the last step (termination or time limit). */
  readonly dones: Uint8Array;
  /** [B] 1 when that end was the time limit rather than a true termination. */
  readonly truncated: Uint8Array;
  /**
   * [B] 1 while a copy sits finished and waits for `reset` (only without auto-reset). Its
   * actions are ignored and its rewards are 0.
   */
  readonly finished: Uint8Array;
  /**
   * [B, N, obsSize] last observation of each copy whose episode ended on the last step, kept
   * because auto-reset overwrites `obs` with the next episode's first observation.
   */
  readonly finalObs: Float32Array;

  /** Reset every copy; copy b draws from its own stream derived from (seed, b). */
  reset(seed: number): void;
  /** Reset copies that are finished (start their next episode), keeping their RNG streams. */
  resetFinished(): void;
  /** Step every unfinished copy with actions [B, N] (int action per agent). */
  step(actions: Int32Array): void;
  /** Record a replay of copy b's next episodes (from its next reset) until switched off. */
  setRecording(envIndex: number, on: boolean): void;
  /** Episodes that finished since the last call, in the order they finished. */
  drainEpisodes(): EpisodeRecord[];
  /** Internal counters for checkpoints (RNG streams, episode counters): restore exactly. */
  getState(): unknown;
  setState(s: unknown): void;
}

export interface EnvOptions {
  numEnvs: number;
  /** When true (default), a finished copy starts its next episode within the same `step`. */
  autoReset?: boolean;
}

/** What the registry holds for one environment. */
export interface EnvEntry {
  readonly id: string;
  readonly title: string;
  readonly schema: Schema;
  /** Cheap: the spec that a given config produces (for network sizes, UI). */
  spec(config: Values): EnvSpec;
  create(config: Values, options: EnvOptions): VecEnv;
}
