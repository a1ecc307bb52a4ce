/**
 * Creating experiments: shared by the CLI, the HTTP host and the Electron host so that a run
 * launched from anywhere is recorded the same way (one experiment, one run per seed).
 */
import os from 'node:os';
import {
  applySet,
  mergeExperiment,
  resolveExperiment,
  type ExperimentConfig,
  type PartialExperiment,
} from '../../src-shared/config/experiment';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { ConfigError } from '../../src-shared/config/schema';
import { getEnv } from '../../src-shared/registry';
import type { Store } from '../db/store';
import type { Runner } from '../runner/runner';
import { checkEnvModuleField, envModuleOf } from './env-module';

export interface LaunchRequest {
  preset?: string;
  /** Overrides on top of the preset (or the defaults). */
  overrides?: PartialExperiment;
  /** `key=value` assignments applied last (CLI --set). */
  sets?: string[];
  seeds: number[];
  name?: string;
}

export interface Launched {
  experimentId: number;
  runs: { id: number; seed: number }[];
  config: ExperimentConfig;
}

/** Preset + overrides + sets -> validated config (throws ConfigError naming the field). */
export function buildConfig(req: Omit<LaunchRequest, 'seeds'>): ExperimentConfig {
  let base: PartialExperiment = {};
  if (req.preset !== undefined) {
    const p = getPreset(req.preset);
    if (!p) throw new ConfigError('preset', `one of ${listPresets().map((x) => x.name).join(', ')}`, req.preset);
    base = p.config;
  }
  let cfg = mergeExperiment(base, req.overrides ?? {});
  for (const s of req.sets ?? []) cfg = applySet(cfg, s);
  // A request may not name a module (it would be loaded); the module's path is recorded here,
  // from what this process itself loaded, whenever the env came from one.
  checkEnvModuleField(cfg.envModule);
  const config = resolveExperiment(cfg);
  const module = envModuleOf(config.env.id);
  if (module !== undefined) config.envModule = module;
  else delete config.envModule;
  return config;
}

export async function launch(store: Store, runner: Runner, req: LaunchRequest): Promise<Launched> {
  if (req.seeds.length === 0) throw new ConfigError('seeds', 'at least one seed');
  for (const s of req.seeds) {
    if (!Number.isInteger(s) || s < 0 || s > 2 ** 31 - 1) throw new ConfigError('seeds', 'integers in [0, 2147483647]', s);
  }
  const config = buildConfig(req);
  const envEntry = getEnv(config.env.id)!;
  const { id: _id, ...envValues } = config.env;
  const envSpec = envEntry.spec(envValues);
  const metricKeys = [...envSpec.metricKeys];
  const metricSpecs = [...envSpec.metrics];
  const name = req.name ?? `${req.preset ?? `${config.algo.id}-${config.env.id}`}`;
  const experimentId = await store.createExperiment({ name, preset: req.preset ?? null });
  const runs: { id: number; seed: number }[] = [];
  for (const seed of req.seeds) {
    const id = await store.createRun({
      experimentId,
      name: req.seeds.length > 1 ? `${name} s${seed}` : name,
      preset: req.preset ?? null,
      config,
      seed,
      episodesTotal: Number(config.train.episodes),
      host: os.hostname(),
      metricKeys,
      metricSpecs,
    });
    runs.push({ id, seed });
  }
  for (const r of runs) runner.enqueue(r.id);
  return { experimentId, runs, config };
}
