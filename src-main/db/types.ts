/**
 * Row and argument types of the run-history store (camelCase; times are epoch milliseconds).
 *
 * These are what the runner, the CLI and the HTTP host see; the snake_case database records
 * and their mapping live beside each table in `modules/<table>/`.
 */
import type { ExperimentConfig } from '../../src-shared/config/experiment';
import type { MetricSpec } from '../../src-shared/metrics';
import type { ColumnFilter } from '../../src-shared/history-columns';

/** Every status a run can have; the `runs.status` CHECK constraint lists the same values. */
export const RUN_STATUSES = ['queued', 'running', 'stopped', 'done', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Runs launched together (one per seed). */
export interface ExperimentRow {
  id: number;
  name: string;
  preset: string | null;
  createdAt: number;
  notes: string;
}

export interface NewExperiment {
  name: string;
  preset?: string | null;
  notes?: string;
}

export interface RunRow {
  /** The listRuns query's extra columns by id (absent when it asked for none). */
  columns?: Record<string, number | string | null>;
  id: number;
  experimentId: number | null;
  name: string;
  preset: string | null;
  /** `config.env.id`, kept in its own column for filtering. */
  envId: string;
  /** `config.algo.id`, kept in its own column for filtering. */
  algoId: string;
  /** The resolved config the run was launched with. */
  config: ExperimentConfig;
  seed: number;
  status: RunStatus;
  /** TensorFlow.js backend actually used; null until the worker has started. */
  backend: string | null;
  /** Hostname of the machine the run belongs to. */
  host: string;
  /** Process id of the runner that owns the run while it is running. */
  runnerPid: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
  /** Planned training rounds. */
  episodesTotal: number;
  /** Rounds completed. */
  episodesDone: number;
  envSteps: number;
  error: string | null;
  summary: Record<string, number | null> | null;
  stopRequested: boolean;
  notes: string;
  /** The env's episode metric names: the order of `EpisodeRow.values`. */
  metricKeys: string[];
  /** The env's declared metrics (empty for runs stored before migration 4). */
  metricSpecs: MetricSpec[];
  /** Label of the run within its experiment; null for single-config experiments. */
  variant: string | null;
  /** Hostname of the machine whose runner owns the run while it runs (migration 5). */
  runnerHost: string | null;
  /** The owning runner process's start time as the OS reports it (Linux), to tell it from a reused pid. */
  runnerStart: string | null;
  /** Last time (ms) the owning runner said it was alive. */
  heartbeatAt: number | null;
  /** Sorted. */
  tags: string[];
}

export interface NewRun {
  experimentId?: number | null;
  name: string;
  preset?: string | null;
  config: ExperimentConfig;
  seed: number;
  episodesTotal: number;
  host: string;
  metricKeys: string[];
  metricSpecs?: MetricSpec[];
  /** Label of the run within its experiment (e.g. "self-correction" in a reproduction). */
  variant?: string | null;
}

/** Fields `updateRun` may change; `undefined` leaves a field as it is, `null` clears it. */
export interface RunPatch {
  status: RunStatus;
  backend: string | null;
  runnerPid: number | null;
  startedAt: number | null;
  endedAt: number | null;
  episodesDone: number;
  envSteps: number;
  error: string | null;
  summary: Record<string, number | null> | null;
  stopRequested: boolean;
  notes: string;
  name: string;
  episodesTotal: number;
  /** The env's episode metric names, when only known once the worker has started. */
  metricKeys: string[];
  metricSpecs: MetricSpec[];
  runnerHost: string | null;
  runnerStart: string | null;
  heartbeatAt: number | null;
}

export const RUN_ORDERS = ['id', 'created_at', 'started_at', 'status', 'name', 'duration'] as const;
export type RunOrder = (typeof RUN_ORDERS)[number];

export interface ListRunsQuery {
  /** Any of these statuses; an empty list does not filter. */
  status?: string[];
  envId?: string;
  algoId?: string;
  /** Runs carrying this exact tag. */
  tag?: string;
  /** Case-insensitive substring of name, notes, preset, env, algo or a tag; or the run id. */
  search?: string;
  experimentId?: number;
  /** created_at >= since (epoch ms). */
  since?: number;
  /** created_at < until (epoch ms). */
  until?: number;
  /** Default `id`. Runs not started yet sort last by `started_at` and `duration`. */
  orderBy?: RunOrder;
  desc?: boolean;
  limit?: number;
  offset?: number;
  /** Extra columns (src-shared/history-columns.ts ids), returned in `RunRow.columns`. */
  columns?: string[];
  /** Sort by this column id instead of `orderBy` (runs without a value last). */
  sortColumn?: string;
  /** Every filter must hold (a run without the value fails it). */
  columnFilters?: ColumnFilter[];
}

export interface MetricPoint {
  key: string;
  step: number;
  episode: number;
  wallTime: number;
  /** `null`/NaN points are skipped (a metric with no value this round). */
  value: number;
}

/** One metric's points in episode order (insertion order within an episode). */
export interface MetricSeries {
  step: Float64Array;
  episode: Float64Array;
  wallTime: Float64Array;
  value: Float64Array;
}

export interface NewEpisode {
  /** Global episode number within the run; unique per run. */
  idx: number;
  round: number;
  envIndex: number;
  length: number;
  return: number;
  success: number;
  /** Values in the run's `metricKeys` order. */
  values: (number | null)[];
  /** The env's Replay object; stored gzip-compressed. */
  replay?: object | null;
}

/** An episode without its replay (fetch that with `getReplay`). */
export interface EpisodeRow {
  runId: number;
  idx: number;
  round: number;
  envIndex: number;
  length: number;
  /** NaN when the env reported a non-finite return. */
  return: number;
  /** NaN when the env reported a non-finite value. */
  success: number;
  values: (number | null)[];
  hasReplay: boolean;
}

export interface ListEpisodesQuery {
  /** Only episodes that have a stored replay. */
  withReplay?: boolean;
  /** round >= fromRound. */
  fromRound?: number;
  /** round <= toRound. */
  toRound?: number;
  limit?: number;
  offset?: number;
  /** Newest (highest idx) first. */
  desc?: boolean;
}

export interface NewCheckpoint {
  runId: number;
  update: number;
  episode: number;
  envSteps: number;
  /** The checkpoint file; the database only references it. */
  path: string;
  bytes: number;
}

export interface CheckpointRow extends NewCheckpoint {
  id: number;
  createdAt: number;
}
