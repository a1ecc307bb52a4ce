/** A stored run as the API shows it. */
import type { RunInfo } from '../../src-shared/api';
import type { RunRow } from '../db/types';
import { runMetricSpecs } from './run-metrics';

export function toRunInfo(r: RunRow): RunInfo {
  return {
    id: r.id,
    experimentId: r.experimentId,
    name: r.name,
    preset: r.preset,
    envId: r.envId,
    algoId: r.algoId,
    config: r.config,
    seed: r.seed,
    status: r.status,
    backend: r.backend,
    host: r.host,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    episodesTotal: r.episodesTotal,
    episodesDone: r.episodesDone,
    envSteps: r.envSteps,
    error: r.error,
    summary: r.summary,
    tags: r.tags,
    notes: r.notes,
    metricKeys: r.metricKeys,
    metrics: runMetricSpecs(r),
    variant: r.variant,
    ...(r.columns ? { columns: r.columns } : {}),
  };
}

