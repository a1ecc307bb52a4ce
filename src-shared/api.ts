/**
 * The Workbench API: everything the UI does, as one typed interface with two hosts (Electron
 * IPC and HTTP + WebSocket) and one client. Types here are plain JSON so both transports
 * carry them unchanged; typed arrays travel as number[].
 */
import type { ExperimentConfig, PartialExperiment } from './config/experiment';
import type { Schema } from './config/schema';
import type { MetricSpec, Replay } from './envs/types';
import type { AxisValue, SweepSpec } from './config/sweep';
import type { ColumnFilter } from './history-columns';
import type { BenchFigures } from './bench-estimate';
import type { StatGroup } from './stat-groups';

export type RunStatus = 'queued' | 'running' | 'stopped' | 'done' | 'failed';
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'stopped', 'done', 'failed'];

export interface PresetInfo {
  name: string;
  title: string;
  description: string;
  paper?: string;
  config: PartialExperiment;
}

export interface SchemaCatalogue {
  envs: { id: string; title: string; schema: Schema }[];
  algos: { id: string; title: string; schema: Schema; envs?: readonly string[]; diagnostics?: readonly StatGroup[] }[];
  train: Schema;
  /** Stat groups of the training loop itself (the reward-interaction wrapper), for any learner. */
  loopDiagnostics?: readonly StatGroup[];
}

export interface FieldError {
  /** Dotted field, e.g. "env.episodeLimit", or "preset" / "seeds". */
  field: string;
  message: string;
}

export type ResolveResult =
  | { ok: true; config: ExperimentConfig; diff: { key: string; preset: unknown; value: unknown }[] }
  | { ok: false; errors: FieldError[] };

export interface LaunchRequest {
  preset?: string;
  overrides?: PartialExperiment;
  seeds: number[];
  name?: string;
}

export interface RunInfo {
  id: number;
  experimentId: number | null;
  name: string;
  preset: string | null;
  envId: string;
  algoId: string;
  config: ExperimentConfig;
  seed: number;
  status: RunStatus;
  backend: string | null;
  host: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  episodesTotal: number;
  episodesDone: number;
  envSteps: number;
  error: string | null;
  summary: Record<string, number | null> | null;
  tags: string[];
  notes: string;
  metricKeys: string[];
  /**
   * The env's declared episode metrics (titles, the 'success' and 'return' roles, headlines).
   * Views lead with these instead of naming any env's metric.
   */
  metrics: MetricSpec[];
  /** Label of the run within its experiment (a reproduction's variant), or null. */
  variant: string | null;
  /** The values of the listRuns query's chosen columns, by column id (listRuns only). */
  columns?: Record<string, number | string | null>;
}

export interface RunQuery {
  status?: RunStatus[];
  envId?: string;
  algoId?: string;
  tag?: string;
  search?: string;
  experimentId?: number;
  since?: number;
  until?: number;
  orderBy?: 'id' | 'created_at' | 'started_at' | 'status' | 'name' | 'duration';
  desc?: boolean;
  limit?: number;
  offset?: number;
  /** Chosen columns (src-shared/history-columns.ts ids): config fields and metric summaries, in `RunInfo.columns`. */
  columns?: string[];
  /** Sort by a column id instead of `orderBy` (runs without a value last). */
  sortColumn?: string;
  /** Every filter must hold; a run without the value fails it. */
  columnFilters?: ColumnFilter[];
}

/** What the history's column picker offers: config fields of the envs and learners in the history, and metric keys with summaries. */
export interface HistoryColumnCatalogue {
  config: { path: string; doc: string; sources: string[] }[];
  metrics: string[];
}

export interface ExperimentInfo {
  id: number;
  name: string;
  preset: string | null;
  createdAt: number;
  notes: string;
  runIds: number[];
}

export type XAxis = 'episode' | 'step' | 'wall';

export interface SeriesRequest {
  runId: number;
  key: string;
  x?: XAxis;
  /** Visible x-range (in the chosen axis units); omitted = all. */
  from?: number;
  to?: number;
  /** Target number of points; the host downsamples keeping each bucket's min and max. */
  maxPoints?: number;
}

export interface SeriesData {
  runId: number;
  key: string;
  x: number[];
  y: number[];
  /** Points in the stored series (before downsampling) within the range. */
  total: number;
  downsampled: boolean;
}

export interface CompareRequest {
  runIds: number[];
  key: string;
  x?: XAxis;
  /** Group runs by experiment (mean + 95% bootstrap CI over seeds) or show each run. */
  groupBy?: 'experiment' | 'run';
  maxPoints?: number;
  /** Moving-average window (points) applied per run before aggregation; 0 = none. */
  smoothing?: number;
}

export interface CompareGroup {
  label: string;
  experimentId: number | null;
  /** The variant within the experiment, when runs carry one. */
  variant: string | null;
  runIds: number[];
  x: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  /** Standard deviation over seeds at each x (the paper's Fig. 6c plots its square). */
  sd: number[];
}

export interface SummaryRow {
  label: string;
  runIds: number[];
  key: string;
  /** Mean over seeds of each seed's final-10% mean. */
  mean: number | null;
  iqm: number | null;
  ciLo: number | null;
  ciHi: number | null;
  n: number;
}

export interface CompareResult {
  key: string;
  groups: CompareGroup[];
  runs: SeriesData[];
  summary: SummaryRow[];
  configDiff: { key: string; values: Record<number, unknown> }[];
}

export interface EpisodeInfo {
  idx: number;
  round: number;
  envIndex: number;
  length: number;
  return: number;
  success: number;
  values: (number | null)[];
  hasReplay: boolean;
}

/** One line of a run's log: lifecycle events (started, checkpoints, stop, end) and worker output. */
export interface RunLogLine {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export type ReportFormat = 'html' | 'pdf' | 'csv' | 'json' | 'latex';

/**
 * The smoothing a report applies to each run's curve, as the screen showed it: the run page's
 * EMA weight or the compare page's moving-average window. Absent: 2% of the rounds (CLI export).
 */
export type ReportSmoothing = { method: 'none' } | { method: 'ema'; weight: number } | { method: 'window'; points: number };

export interface ReportRequest {
  /** A run, an experiment (all its runs) or a comparison (any runs). */
  kind: 'run' | 'experiment' | 'compare';
  ids: number[];
  format: ReportFormat;
  /** Metric keys to chart; default: the env's headline metrics. */
  keys?: string[];
  smoothing?: ReportSmoothing;
}

export interface ReportFile {
  filename: string;
  mime: string;
  /** base64 of the file's bytes. */
  base64: string;
}

export interface HostInfo {
  version: string;
  host: 'electron' | 'http';
  dbFile: string;
  backend: string;
  cores: number;
  maxParallel: number;
  /** Methods of `DESKTOP_ONLY_METHODS` this host answers (the UI shows their buttons only then). */
  capabilities?: DesktopOnlyMethod[];
}

/** An env module the desktop app loaded through its file dialog. */
export interface EnvModuleInfo {
  envId: string;
  title: string;
  /** Absolute path of the module (recorded on the runs that use it). */
  path: string;
}

export type WorkbenchEvent =
  | { type: 'status'; runId: number; status: RunStatus; error?: string | null }
  | { type: 'progress'; runId: number; round: number; total: number; envSteps: number; latest: Record<string, number> }
  | { type: 'metrics'; runId: number; points: { key: string; step: number; episode: number; wallTime: number; value: number }[] }
  | { type: 'episodes'; runId: number; episodes: Omit<EpisodeInfo, 'hasReplay'>[] }
  | { type: 'live'; runId: number; round: number; replay: Replay }
  | { type: 'runs-changed' };

/** A sweep from the UI: the spec of src-shared/config/sweep.ts and where to run it. */
export interface SweepRequest {
  spec: SweepSpec;
  /** local (the worker pool; default) or slurm (a job array in `slurm.dir`). */
  executor?: 'local' | 'slurm';
  slurm?: {
    dir: string;
    sshHost?: string;
    time?: string;
    mem?: string;
    cpusPerTask?: number;
    partition?: string;
    account?: string;
    gres?: string;
    cairn?: string;
  };
}

/** What a sweep would launch, shown before it is launched. */
export interface SweepPlanInfo {
  name: string;
  cells: { label: string; values: Record<string, AxisValue> }[];
  seeds: number[];
  runs: number;
  /** Rounds x envs over all runs: the episodes the sweep plays. */
  episodes: number;
  /** Wall time on this host's worker pool, from finished runs of the same algorithm and env; null when none. */
  estimatedSeconds: number | null;
  estimateBasis: string;
}

export interface SweepInfo {
  id: number;
  name: string;
  experimentId: number | null;
  executor: 'local' | 'slurm';
  /** running | submitted | done | failed | stopped | cancelled | submitting */
  state: string;
  /** The last fault: unreachable host, rejected submission, unreadable run file ... */
  message: string | null;
  jobId: string | null;
  location: string | null;
  sshHost: string | null;
  /** Swept keys in axis order ("variant" for a variants axis). */
  axes: string[];
  createdAt: number;
  runIds: number[];
  counts: Record<RunStatus, number>;
  roundsDone: number;
  roundsTotal: number;
}

export interface WorkbenchApi {
  info(): Promise<HostInfo>;
  listPresets(): Promise<PresetInfo[]>;
  getSchemas(): Promise<SchemaCatalogue>;
  resolveConfig(req: { preset?: string; overrides?: PartialExperiment }): Promise<ResolveResult>;
  launch(req: LaunchRequest): Promise<{ experimentId: number; runIds: number[] }>;
  listRuns(q: RunQuery): Promise<{ rows: RunInfo[]; total: number }>;
  /** The config fields and metric keys the history's column picker offers. */
  historyColumns(): Promise<HistoryColumnCatalogue>;
  /** This machine's training throughput from `npm run bench` (the form's run-time estimate). */
  benchFigures(): Promise<BenchFigures>;
  getRun(id: number): Promise<RunInfo | null>;
  stopRun(id: number): Promise<void>;
  resumeRun(id: number): Promise<void>;
  deleteRun(id: number): Promise<void>;
  setTags(id: number, tags: string[]): Promise<void>;
  setNotes(id: number, notes: string): Promise<void>;
  listExperiments(): Promise<ExperimentInfo[]>;
  metricKeys(runId: number): Promise<string[]>;
  /** The last `limit` lines (default 1000) of the run's log, oldest first. */
  runLog(runId: number, limit?: number): Promise<RunLogLine[]>;
  metricSeries(req: SeriesRequest): Promise<SeriesData>;
  compare(req: CompareRequest): Promise<CompareResult>;
  listEpisodes(runId: number, q: { withReplay?: boolean; limit?: number; offset?: number; desc?: boolean }): Promise<{ rows: EpisodeInfo[]; total: number }>;
  getReplay(runId: number, idx: number): Promise<Replay | null>;
  exportReport(req: ReportRequest): Promise<ReportFile>;
  /** Cells, runs and estimated time of a sweep, without launching it (throws on bad input). */
  planSweep(req: SweepRequest): Promise<SweepPlanInfo>;
  launchSweep(req: SweepRequest): Promise<{ sweepId: number; experimentId: number; runIds: number[] }>;
  listSweeps(): Promise<SweepInfo[]>;
  /** Import a cluster sweep's new rounds now (the host also does it every few seconds). */
  collectSweep(id: number): Promise<SweepInfo>;
  cancelSweep(id: number): Promise<void>;
  /**
   * Desktop app only: ask the user for an env module in the native file dialog and load it
   * like `--env-module` (null when the dialog is cancelled). Takes no path: a page never names
   * the file that is loaded; the HTTP host refuses the method.
   */
  openEnvModule(): Promise<EnvModuleInfo | null>;
}

/** The method names: the one channel registry both hosts and the client share. */
export const API_METHODS = [
  'info',
  'listPresets',
  'getSchemas',
  'resolveConfig',
  'launch',
  'listRuns',
  'historyColumns',
  'benchFigures',
  'getRun',
  'stopRun',
  'resumeRun',
  'deleteRun',
  'setTags',
  'setNotes',
  'listExperiments',
  'metricKeys',
  'runLog',
  'metricSeries',
  'compare',
  'listEpisodes',
  'getReplay',
  'exportReport',
  'planSweep',
  'launchSweep',
  'listSweeps',
  'collectSweep',
  'cancelSweep',
  'openEnvModule',
] as const satisfies readonly (keyof WorkbenchApi)[];

/**
 * Methods that act on the user's machine through the desktop app's own UI (a native dialog):
 * only the Electron host answers them; `cairn serve` refuses them before reading the body.
 */
export const DESKTOP_ONLY_METHODS = ['openEnvModule'] as const satisfies readonly ApiMethod[];
export type DesktopOnlyMethod = (typeof DESKTOP_ONLY_METHODS)[number];

export type ApiMethod = (typeof API_METHODS)[number];

/** Error shape both transports carry; `field` is set for input errors. */
export interface ApiErrorBody {
  message: string;
  field?: string;
  /** 'input' for bad requests (HTTP 400), 'not-found', 'internal'. */
  kind: 'input' | 'not-found' | 'internal';
}
