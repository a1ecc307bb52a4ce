/** Messages between the runner (parent) and a run's worker process. */
import type { ExperimentConfig } from '../../src-shared/config/experiment';
import type { Replay } from '../../src-shared/envs/types';
import type { MetricSpec } from '../../src-shared/metrics';
import type { BackendChoice } from '../backend/select';

export interface StartMessage {
  type: 'start';
  runId: number;
  config: ExperimentConfig;
  seed: number;
  backend: BackendChoice;
  /** Directory for this run's checkpoint files. */
  checkpointDir: string;
  /** Checkpoint file to resume from, if any. */
  resumeFrom?: string;
  /**
   * With train.opponent = frozen: what the runner found for train.opponentRun, with all of that
   * run's checkpoints (oldest first) at launch. The worker picks the one of train.opponentRound
   * (0: the last), or the round its resume checkpoint recorded, and fails the run with a clear
   * message when it is missing or does not fit.
   */
  opponent?: { runId: number; found: false } | { runId: number; found: true; config: ExperimentConfig; checkpoints: OpponentCheckpoint[] };
  /**
   * With algo.updateThreads = auto: the host's choice for this run (runner/update-threads.ts),
   * a runtime hint that never enters the config; later changes come as `threads` messages.
   */
  updateThreads?: 1 | 2;
}

/** One checkpoint of the frozen opponent's run, as the database lists it. */
export interface OpponentCheckpoint {
  round: number;
  path: string;
}

export type ParentMessage = StartMessage | { type: 'stop' } | { type: 'threads'; updateThreads: 1 | 2 };

export interface EpisodeOut {
  idx: number;
  round: number;
  envIndex: number;
  length: number;
  return: number;
  success: number;
  values: (number | null)[];
  /** Present when this episode's replay is to be stored. */
  replay?: Replay;
}

export interface MetricOut {
  key: string;
  step: number;
  episode: number;
  wallTime: number;
  value: number;
}

export type WorkerMessage =
  | { type: 'started'; backend: string; metricKeys: string[]; metricSpecs: MetricSpec[]; round: number; envSteps: number }
  | {
      type: 'round';
      round: number;
      envSteps: number;
      metrics: MetricOut[];
      episodes: EpisodeOut[];
      /** The latest episode of copy 0, for live replay viewers (not necessarily stored). */
      live?: Replay;
    }
  | { type: 'checkpoint'; round: number; envSteps: number; path: string; bytes: number }
  | { type: 'done'; round: number; envSteps: number }
  | { type: 'stopped'; round: number; envSteps: number }
  | { type: 'error'; message: string; stack?: string }
  /** A line for the run's log (what the worker chose, e.g. the frozen opponent's checkpoint). */
  | { type: 'log'; level: 'info' | 'warn'; message: string };
