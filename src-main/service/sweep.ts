/**
 * Sweeps on the Node side: planning (every cell's config resolved and checked before anything
 * is written), recording (one experiment, one sweep row, one run per cell x seed carrying its
 * swept values) and launching on the local worker pool. The Slurm executor
 * (src-main/sweep/slurm.ts) records the same way and hands the runs to the cluster instead.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { mergeExperiment, sectionSchema, type ExperimentConfig } from '../../src-shared/config/experiment';
import { ConfigError } from '../../src-shared/config/schema';
import {
  cellLabel,
  checkSweepSpec,
  countCells,
  expandCells,
  expandRuns,
  sweepSeeds,
  type SweepCell,
  type SweepRun,
  type SweepSpec,
} from '../../src-shared/config/sweep';
import { getEnv } from '../../src-shared/registry';
import type { MetricSpec } from '../../src-shared/metrics';
import type { Store, SweepExecutor } from '../db/store';
import type { Runner } from '../runner/runner';
import { buildConfig } from './launch';

export interface PlannedCell extends SweepCell {
  config: ExperimentConfig;
  metricKeys: string[];
  metricSpecs: MetricSpec[];
}

export interface SweepPlan {
  spec: SweepSpec;
  name: string;
  cells: PlannedCell[];
  /** cells x seeds, seed fastest: the cluster's array task order. */
  runs: SweepRun[];
  seeds: number[];
}

/**
 * Resolve every cell's config. Random draws on integer fields are rounded (a log-range over
 * `train.numEnvs` is meant as integers); anything else out of type or range fails here, with
 * the field and the cell named, before a run is created.
 */
export function planSweep(raw: unknown): SweepPlan {
  const spec = checkSweepSpec(raw);
  const cells = expandCells(spec).map((cell): PlannedCell => {
    const base = mergeExperiment(spec.overrides ?? {}, cell.overrides);
    if (spec.sampling?.kind === 'random') {
      const withPreset = cell.preset ? mergeExperiment(presetConfig(cell.preset), base) : base;
      for (const [key, v] of Object.entries(cell.values)) {
        if (key === 'variant' || typeof v !== 'number' || Number.isInteger(v)) continue;
        const [section, field] = key.split('.') as ['env' | 'algo' | 'train', string];
        if (sectionSchema(section, withPreset)[field]?.type !== 'int') continue;
        (base[section] as Record<string, unknown>)[field] = Math.round(v);
        cell.values[key] = Math.round(v);
      }
      cell.label = cellLabel(spec, cell.values);
    }
    let config: ExperimentConfig;
    try {
      config = buildConfig({ preset: cell.preset, overrides: base });
    } catch (e) {
      if (e instanceof ConfigError && countCells(spec) > 1) {
        throw new ConfigError(e.field, `${e.allowed} (in sweep cell "${cell.label}")`, e.got);
      }
      throw e;
    }
    const { id: envId, ...envValues } = config.env;
    const envSpec = getEnv(envId)!.spec(envValues);
    return { ...cell, config, metricKeys: [...envSpec.metricKeys], metricSpecs: [...envSpec.metrics] };
  });
  return { spec, name: spec.name ?? defaultName(spec), cells, runs: expandRuns(spec), seeds: sweepSeeds(spec) };
}

function presetConfig(name: string) {
  try {
    return buildConfig({ preset: name });
  } catch {
    return {};
  }
}

function defaultName(spec: SweepSpec): string {
  const keys = spec.axes.flatMap((a) => ('variants' in a ? ['variant'] : 'link' in a ? a.link.map((m) => m.key) : [a.key]));
  return `sweep ${spec.preset ?? 'defaults'}${keys.length ? ` over ${keys.join(', ')}` : ''}`;
}

export interface RecordedSweep {
  sweepId: number;
  uid: string;
  experimentId: number;
  /** Run ids in task order (plan.runs). */
  runIds: number[];
}

/**
 * Write the sweep, its experiment and every run (status queued) in the store. Cluster sweeps
 * give each run the origin `<uid>/task-<i>` so collecting fills these rows instead of adding
 * new ones.
 */
export async function recordSweep(
  store: Store,
  plan: SweepPlan,
  opts: { executor: SweepExecutor; uid?: string; location?: string | null; sshHost?: string | null; host?: string; experimentPreset?: string; state?: string },
): Promise<RecordedSweep> {
  const uid = opts.uid ?? crypto.randomUUID();
  const experimentId = await store.createExperiment({ name: plan.name, preset: opts.experimentPreset ?? plan.spec.preset ?? null });
  const sweepId = await store.createSweep({
    uid,
    experimentId,
    name: plan.name,
    spec: plan.spec,
    executor: opts.executor,
    location: opts.location ?? null,
    sshHost: opts.sshHost ?? null,
    state: opts.state ?? (opts.executor === 'local' ? 'running' : 'submitting'),
  });
  const runIds: number[] = [];
  const multiCell = plan.cells.length > 1;
  for (const r of plan.runs) {
    const cell = plan.cells[r.cell];
    const id = await store.createRun({
      experimentId,
      name: `${multiCell ? cell.label : plan.name} s${r.seed}`,
      preset: cell.preset ?? null,
      config: cell.config,
      seed: r.seed,
      episodesTotal: Number(cell.config.train.episodes),
      host: opts.host ?? os.hostname(),
      metricKeys: cell.metricKeys,
      metricSpecs: cell.metricSpecs,
      variant: multiCell ? cell.label : null,
    });
    await store.setRunOrigin(id, opts.executor === 'slurm' ? taskOrigin(uid, r.task) : null, cell.values);
    runIds.push(id);
  }
  return { sweepId, uid, experimentId, runIds };
}

export function taskOrigin(uid: string, task: number): string {
  return `${uid}/task-${task}`;
}

/** Record the sweep and queue every run on the local worker pool. */
export async function launchSweepLocal(
  store: Store,
  runner: Runner,
  plan: SweepPlan,
  opts: { experimentPreset?: string } = {},
): Promise<RecordedSweep> {
  const rec = await recordSweep(store, plan, { executor: 'local', experimentPreset: opts.experimentPreset });
  for (const id of rec.runIds) runner.enqueue(id);
  return rec;
}

/** After the local pool is idle: the sweep's state from its runs. */
export async function finishLocalSweep(store: Store, rec: RecordedSweep): Promise<string> {
  let failed = 0;
  let stopped = 0;
  for (const id of rec.runIds) {
    const r = await store.getRun(id);
    if (r?.status === 'failed') failed++;
    if (r?.status === 'stopped') stopped++;
  }
  const state = failed > 0 ? 'failed' : stopped > 0 ? 'stopped' : 'done';
  await store.updateSweep(rec.sweepId, {
    state,
    message: failed > 0 ? `${failed} of ${rec.runIds.length} runs failed` : stopped > 0 ? `${stopped} runs stopped` : null,
  });
  return state;
}
