/**
 * Throughput over the registries (`npm run bench`): env-steps/s of every registered env at its
 * default config, and training env-steps/s of every learner on its default env and preset, each
 * beside a baseline measured in the same run (the env one copy at a time; the random-policy
 * trainer on the same envs) so numbers compare across machines as ratios. A new env or learner
 * is measured without touching this file.
 */
import * as tf from '@tensorflow/tfjs-core';
import { listPresets, type Preset } from '../../src-shared/config/presets';
import { resolve } from '../../src-shared/config/schema';
import { randomActions } from '../../src-shared/env-check';
import type { EnvEntry } from '../../src-shared/envs/types';
import type { AlgoEntry } from '../../src-shared/algos/types';
import { getAlgo, getEnv, listAlgos, listEnvs } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import type { BenchFigure } from '../../src-shared/bench-estimate';

/** The figures the new-experiment form estimates run times from (bench-results.ts keeps them). */
export function learnerFigures(measured: readonly LearnerMeasure[], backend: string, now: number): BenchFigure[] {
  return measured.map((m) => ({
    algo: m.algo,
    env: m.envId,
    preset: m.preset,
    backend,
    envStepsPerSecond: m.value,
    roundsPerSecond: m.roundsPerSecond,
    numEnvs: m.numEnvs ?? BENCH_NUM_ENVS,
    measuredAt: now,
  }));
}

/** Targets from the issues (env-steps/s at B = 256 on one core); other envs have none. */
export const ENV_TARGETS: Readonly<Record<string, number>> = { manitokan: 2_000_000, spread: 1_000_000 };
/** Target of PG's training throughput on its default preset (issue 1). */
export const TRAIN_TARGETS: Readonly<Record<string, number>> = { pg: 20_000 };

export interface Measure {
  name: string;
  value: number;
  baseline: number;
  baselineName: string;
  target: number | null;
}

/**
 * Env-steps/s of `entry` at its default config with B copies, uniformly random legal actions.
 * `clock: 'cpu'` divides by this process's CPU time instead of wall time: on a shared machine
 * (load 20-45 on two cores) wall rates mostly measure the share of a core the process got.
 */
export function envStepsPerSecond(entry: EnvEntry, numEnvs: number, seconds: number, config: Record<string, unknown> = {}, clock: 'wall' | 'cpu' = 'wall'): number {
  const env = entry.create(resolve('env', entry.schema, config), { numEnvs, autoReset: true });
  const N = env.spec.numAgents;
  const rng = new Rng(1, 99);
  const actions = new Int32Array(numEnvs * N);
  const box = new Float32Array(numEnvs * N * env.spec.boxSize);
  const withBox = env.spec.boxSize > 0 ? box : undefined;
  env.reset(1);
  let steps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 200; i++) {
      randomActions(env, actions, box, rng);
      env.step(actions, withBox);
      env.drainEpisodes();
    }
    steps += 200 * numEnvs;
    t = performance.now();
  }
  if (clock === 'cpu') {
    const c = process.cpuUsage(c0);
    return (steps * 1e6) / Math.max(1, c.user + c.system);
  }
  return (steps * 1000) / (t - t0);
}

/** A learner's default preset: the first preset (in the catalogue's order) that trains it. */
export function defaultPreset(algo: AlgoEntry, presets: readonly Preset[] = listPresets()): Preset | undefined {
  return presets.find((p) => p.config.algo?.id === algo.id);
}

/** Parallel copies the training bench runs (fewer where the learner's preset runs fewer). */
export const BENCH_NUM_ENVS = 32;
/**
 * Longest episode the training bench steps. A round cannot be cut short, and the battle's
 * 550-step episodes made one round of its learners take tens of minutes (hours for the whole
 * bench); a rate of env steps hardly depends on where episodes end, and rounds/s is scaled
 * back to the preset's episode length for the run-time estimate.
 */
export const BENCH_MAX_EPISODE = 100;

/** Training env-steps/s of `algoId` on the env config of `preset` (32 copies), after one warm-up round. */
export async function trainStepsPerSecond(preset: Preset, algoId: string, seconds: number): Promise<number> {
  return (await trainThroughput(preset, algoId, seconds)).stepsPerSecond;
}

/** Training env-steps/s and rounds/s of `algoId` on the env config of `preset` (32 copies), after one warm-up round. */
export async function trainThroughput(preset: Preset, algoId: string, seconds: number): Promise<{ stepsPerSecond: number; roundsPerSecond: number; numEnvs: number }> {
  const envEntry = getEnv(preset.config.env?.id ?? 'manitokan')!;
  const algo = getAlgo(algoId)!;
  const { id: _e, ...envRaw } = preset.config.env ?? {};
  const { id: _a, ...algoRaw } = preset.config.algo ?? {};
  const envConfig = resolve('env', envEntry.schema, envRaw);
  const config = resolve('algo', algo.schema, algoId === preset.config.algo?.id ? algoRaw : {});
  // Off-policy learners wait for a replay warm-up (MADDPG: 25,600 transitions) before their
  // first update; measure them updating, as they spend nearly all of a run.
  if (algo.schema.warmup?.type === 'int') config.warmup = 1;
  const numEnvs = Math.max(1, Math.min(BENCH_NUM_ENVS, Number(preset.config.train?.numEnvs ?? BENCH_NUM_ENVS)));
  const limit = Number(envConfig.episodeLimit);
  const capped = envEntry.schema.episodeLimit?.type === 'int' && limit > BENCH_MAX_EPISODE;
  if (capped) envConfig.episodeLimit = BENCH_MAX_EPISODE;
  const env = envEntry.create(envConfig, { numEnvs, autoReset: false });
  const trainer = algo.createTrainer({ tf, env, envConfig, config, seed: 1, rng: new Rng(1, 5) });
  await trainer.round(); // warm-up: variable creation, kernel compilation
  let steps = 0;
  let rounds = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    steps += (await trainer.round()).envSteps;
    rounds++;
  }
  const dt = performance.now() - t0;
  trainer.dispose();
  const roundsPerSecond = ((rounds * 1000) / dt) * (capped ? BENCH_MAX_EPISODE / limit : 1);
  return { stepsPerSecond: (steps * 1000) / dt, roundsPerSecond, numEnvs };
}

/**
 * Large-population settings measured in agent-steps per second of process CPU (one copy),
 * against the same env at a small population: the issue's target is stated per agent and per
 * core, and CPU time keeps the figure steady when the machine is shared.
 */
export const AGENT_BENCH: readonly { envId: string; label: string; config: Record<string, unknown>; baselineLabel: string; baseline: Record<string, unknown>; target: number }[] = [
  { envId: 'battle', label: '256 vs 256', config: { armySize: 256 }, baselineLabel: '12 vs 12', baseline: { armySize: 12 }, target: 50_000 },
];

/** Agent-steps per CPU-second of each AGENT_BENCH setting. */
export function benchAgentSteps(seconds: number, log: (s: string) => void): (Measure & { envId: string })[] {
  return AGENT_BENCH.filter((b) => getEnv(b.envId)).map((b) => {
    const e = getEnv(b.envId)!;
    const agents = (c: Record<string, unknown>) => e.spec(resolve('env', e.schema, c)).numAgents;
    log(`env: ${e.id} ${b.label} and baseline ${b.baselineLabel} (agent-steps per CPU-second, B=1) ...`);
    return {
      name: `${e.id} agent-steps/CPU-s (${b.label}, B=1)`,
      value: envStepsPerSecond(e, 1, seconds, b.config, 'cpu') * agents(b.config),
      baseline: envStepsPerSecond(e, 1, seconds, b.baseline, 'cpu') * agents(b.baseline),
      baselineName: b.baselineLabel,
      target: b.target,
      envId: e.id,
    };
  });
}

/** Every env's stepping rate at B = 256 against B = 1. */
export function benchEnvs(seconds: number, log: (s: string) => void): (Measure & { envId: string })[] {
  return listEnvs().map((e) => {
    log(`env: ${e.id} B=256 and baseline B=1 ...`);
    return {
      name: `${e.id} env-steps/s (B=256)`,
      value: envStepsPerSecond(e, 256, seconds),
      baseline: envStepsPerSecond(e, 1, seconds),
      baselineName: 'B=1',
      target: ENV_TARGETS[e.id] ?? null,
      envId: e.id,
    };
  });
}

/** Every learner (but the random baseline itself) on its default preset, against the random policy on the same envs. */
export type LearnerMeasure = Measure & { algo: string; preset: string; envId: string; roundsPerSecond: number; numEnvs?: number };

export async function benchLearners(seconds: number, backend: string, log: (s: string) => void): Promise<LearnerMeasure[]> {
  const out: LearnerMeasure[] = [];
  const randomByPreset = new Map<string, number>();
  for (const a of listAlgos()) {
    if (a.id === 'random') continue;
    const p = defaultPreset(a);
    if (!p) {
      log(`train: ${a.id} has no preset; skipped`);
      continue;
    }
    log(`train: ${a.id} (${p.name}) on ${backend} ...`);
    const { stepsPerSecond: value, roundsPerSecond, numEnvs } = await trainThroughput(p, a.id, seconds * 2);
    if (!randomByPreset.has(p.name)) {
      log(`train: baseline random policy on ${p.name}'s envs ...`);
      randomByPreset.set(p.name, await trainStepsPerSecond(p, 'random', seconds));
    }
    out.push({
      name: `${a.id} training env-steps/s (${p.name}${numEnvs === BENCH_NUM_ENVS ? '' : `, ${numEnvs} envs`})`,
      value,
      baseline: randomByPreset.get(p.name)!,
      baselineName: 'random policy',
      target: TRAIN_TARGETS[a.id] ?? null,
      algo: a.id,
      preset: p.name,
      envId: p.config.env?.id ?? 'manitokan',
      roundsPerSecond,
      numEnvs,
    });
  }
  return out;
}
