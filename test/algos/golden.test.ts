/**
 * Golden series: the learners must give the same numbers as before the learner/env contract
 * refactor (issue 7, "Must not change") for the same (config, seed) on the same backend.
 *
 * Each fixture under test/fixtures/golden/ holds a resolved config, a seed and, per round, what
 * the worker would log: the learner's statistics, every finished episode's metrics, the env
 * steps taken, and a hash of copy 0's replay. The test replays the same (config, seed) the way
 * the worker drives a trainer and asserts bit-identical numbers (JSON keeps every float64).
 *
 * The fixtures were recorded on the wasm backend (what the tests run on) from main before the
 * refactor. The two PG correction fixtures recorded then replay with `hvpMethod: taped` (the
 * reference the R-pass of issue 15 replaced as the default; same mathematics, other float
 * rounding); their `-r-pass` twins were recorded with the R-pass. Likewise every PG/COMA fixture
 * recorded before the `gruGates` option replays with `gruGates: f64-js` (the float64 JS gate
 * loops it was recorded with); the `-f32-simd` twins pin the SIMD kernel, the default since. COMA
 * fixtures recorded before `actorLoss` replay with `actorLoss: taped`; the `-closed-form` twins pin
 * the one-pass loss, the default since (issue 15). COMA fixtures recorded before the split actor
 * update (`actorHelperShare`, default 0.3 since issue 15c) replay with share 0, the one pass; the
 * `-split` twins pin the split. Regenerate only when a change is MEANT to alter results (and say so in the commit):
 *   CAIRN_GOLDEN_WRITE=1 npx vitest run test/algos/golden.test.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeExperiment, resolveExperiment, type PartialExperiment } from '../../src-shared/config/experiment';
import { getPreset } from '../../src-shared/config/presets';
import { resolve } from '../../src-shared/config/schema';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

const DIR = path.join(__dirname, '..', 'fixtures', 'golden');
const WRITE = process.env.CAIRN_GOLDEN_WRITE === '1';
/** The worker's algorithm stream (src-main/runner/worker.ts ALGO_STREAM). */
const ALGO_STREAM = 1_000_003;

interface Case {
  name: string;
  preset: string;
  seed: number;
  rounds: number;
  numEnvs: number;
  /** Overrides on the preset: short episodes and a large lr so every round's update shows. */
  set: PartialExperiment;
  /** A statistic that must be non-zero in some round, so the variant's own code path is covered. */
  covers?: string;
}

const SHORT = { episodeLimit: 60 };
const FAST_LR = { lr: 1e-3, criticLr: 1e-3 };
/** The smallest grid, so doors open and the correction terms have steps to act on. */
const SMALL_GRID = { episodeLimit: 60, interiorSize: 3 };

const CASES: Case[] = [
  { name: 'random', preset: 'manitokan-random', seed: 3, rounds: 3, numEnvs: 4, set: { env: SHORT } },
  { name: 'pg', preset: 'manitokan-pg', seed: 4, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: FAST_LR } },
  { name: 'pg-history', preset: 'manitokan-pg-history', seed: 5, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: FAST_LR } },
  {
    name: 'pg-history-released-code',
    preset: 'manitokan-pg-history-released-code',
    seed: 6,
    rounds: 3,
    numEnvs: 4,
    set: { env: SHORT, algo: { ...FAST_LR, targetUpdateCriticSteps: 40 } },
  },
  {
    name: 'pg-history-injection',
    preset: 'manitokan-pg-history',
    seed: 8,
    rounds: 2,
    numEnvs: 6,
    set: { env: SMALL_GRID, algo: { ...FAST_LR, rewardInjection: true, injectionScale: 0.05 } },
  },
  { name: 'pg-history-maxent', preset: 'manitokan-pg-history-maxent', seed: 7, rounds: 2, numEnvs: 4, set: { env: SHORT, algo: FAST_LR } },
  {
    name: 'pg-history-maxent-released-code',
    preset: 'manitokan-pg-history-maxent-released-code',
    seed: 7,
    rounds: 2,
    numEnvs: 4,
    set: { env: SHORT, algo: FAST_LR },
  },
  { name: 'pg-history-self-correction', preset: 'manitokan-pg-history-self-correction', seed: 8, rounds: 2, numEnvs: 6, set: { env: SMALL_GRID, algo: { ...FAST_LR, hvpMethod: 'taped' } }, covers: 'charts/correction_steps' },
  { name: 'pg-history-self-correction-r-pass', preset: 'manitokan-pg-history-self-correction', seed: 8, rounds: 2, numEnvs: 6, set: { env: SMALL_GRID, algo: FAST_LR }, covers: 'charts/correction_steps' },
  { name: 'pg-history-correction', preset: 'manitokan-pg-history-correction', seed: 8, rounds: 2, numEnvs: 6, set: { env: SMALL_GRID, algo: { ...FAST_LR, hvpMethod: 'taped' } }, covers: 'charts/correction_steps' },
  { name: 'pg-history-correction-r-pass', preset: 'manitokan-pg-history-correction', seed: 8, rounds: 2, numEnvs: 6, set: { env: SMALL_GRID, algo: FAST_LR }, covers: 'charts/correction_steps' },
  {
    name: 'pg-history-anti-collective-released-code',
    preset: 'manitokan-pg-history-anti-collective-released-code',
    seed: 7,
    rounds: 2,
    numEnvs: 6,
    set: { env: SMALL_GRID, algo: FAST_LR },
    covers: 'charts/correction_steps',
  },
  // The float32 SIMD GRU gates (issue 15, the default since); the fixtures above predate the
  // option and replay with the float64 reference they were recorded with (see play()).
  { name: 'pg-history-f32-simd', preset: 'manitokan-pg-history', seed: 5, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: { ...FAST_LR, gruGates: 'f32-simd' } } },
  {
    name: 'pg-history-self-correction-r-pass-f32-simd',
    preset: 'manitokan-pg-history-self-correction',
    seed: 8,
    rounds: 2,
    numEnvs: 6,
    set: { env: SMALL_GRID, algo: { ...FAST_LR, gruGates: 'f32-simd' } },
    covers: 'charts/correction_steps',
  },
  { name: 'coma-history-f32-simd', preset: 'manitokan-coma-history', seed: 10, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: { ...FAST_LR, batchSize: 4, gruGates: 'f32-simd' } } },
  { name: 'coma-history', preset: 'manitokan-coma-history', seed: 10, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: { ...FAST_LR, batchSize: 4 } } },
  // The closed-form actor loss (the default since issue 15), twins of the two fixtures above and
  // below that ran the taped one: the paper's path, and the released code's epsilon floor.
  { name: 'coma-history-f32-simd-closed-form', preset: 'manitokan-coma-history', seed: 10, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: { ...FAST_LR, batchSize: 4 } } },
  {
    name: 'coma-history-released-code-closed-form',
    preset: 'manitokan-coma-history-released-code',
    seed: 11,
    rounds: 3,
    numEnvs: 4,
    set: { env: SHORT, algo: { ...FAST_LR, batchSize: 6, hiddenDim: 32, criticHiddenDim: 32, targetUpdateCriticSteps: 40 } },
  },
  {
    name: 'coma-history-released-code',
    preset: 'manitokan-coma-history-released-code',
    seed: 11,
    rounds: 3,
    numEnvs: 4,
    set: { env: SHORT, algo: { ...FAST_LR, batchSize: 6, hiddenDim: 32, criticHiddenDim: 32, targetUpdateCriticSteps: 40 } },
  },
  // The split actor update (actorHelperShare 0.3, the default since issue 15c; the same bits on
  // any thread count), twins of the two closed-form fixtures above, which replay with share 0.
  { name: 'coma-history-closed-form-split', preset: 'manitokan-coma-history', seed: 10, rounds: 3, numEnvs: 4, set: { env: SHORT, algo: { ...FAST_LR, batchSize: 4 } } },
  {
    name: 'coma-history-released-code-closed-form-split',
    preset: 'manitokan-coma-history-released-code',
    seed: 11,
    rounds: 3,
    numEnvs: 4,
    set: { env: SHORT, algo: { ...FAST_LR, batchSize: 6, hiddenDim: 32, criticHiddenDim: 32, targetUpdateCriticSteps: 40 } },
  },
  { name: 'ippo-history', preset: 'manitokan-ippo-history', seed: 12, rounds: 2, numEnvs: 3, set: { env: SHORT, algo: { ...FAST_LR, epochs: 1, minibatches: 2 } } },
  {
    name: 'ippo-history-released-code',
    preset: 'manitokan-ippo-history-released-code',
    seed: 13,
    rounds: 2,
    numEnvs: 2,
    set: { env: { episodeLimit: 40 }, algo: { ...FAST_LR, epochs: 1, hiddenDim: 16 } },
  },
  { name: 'mappo-history', preset: 'manitokan-mappo-history', seed: 14, rounds: 2, numEnvs: 3, set: { env: SHORT, algo: { ...FAST_LR, epochs: 1, minibatches: 2 } } },
  {
    name: 'mappo-history-released-code',
    preset: 'manitokan-mappo-history-released-code',
    seed: 15,
    rounds: 2,
    numEnvs: 2,
    set: { env: { episodeLimit: 40 }, algo: { ...FAST_LR, epochs: 1, hiddenDim: 16 } },
  },
];

interface RoundRecord {
  envSteps: number;
  stats: Record<string, number | string>;
  episodes: [number, Record<string, number | string | null>][];
  replay: string | null;
}

interface Fixture {
  name: string;
  backend: string;
  seed: number;
  numEnvs: number;
  env: Record<string, unknown>;
  algo: Record<string, unknown>;
  rounds: RoundRecord[];
}

/** Non-finite numbers survive JSON as strings (a NaN must stay a NaN, not become null). */
function num(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/** FNV-1a over the replay's JSON: the env's recorded frames without storing them whole. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0') + ':' + s.length;
}

/** Drive a trainer exactly as the worker does: copy 0 recorded, one round after another. */
async function play(env: Record<string, unknown>, algo: Record<string, unknown>, seed: number, numEnvs: number, rounds: number): Promise<RoundRecord[]> {
  const { id: envId, ...envRest } = env;
  const { id: algoId, ...algoRest } = algo;
  const envEntry = getEnv(String(envId))!;
  const algoEntry = getAlgo(String(algoId))!;
  const envConfig = resolve('env', envEntry.schema, envRest);
  // Fixtures recorded before `gruGates` existed ran the float64 JS gates (now 'f64-js').
  if ('gruGates' in algoEntry.schema && !('gruGates' in algoRest)) algoRest.gruGates = 'f64-js';
  // COMA fixtures recorded before `actorLoss` existed ran the taped actor loss (now 'taped').
  if ('actorLoss' in algoEntry.schema && !('actorLoss' in algoRest)) algoRest.actorLoss = 'taped';
  // COMA fixtures recorded before the split actor update became the default ran one pass (share 0).
  if ('actorHelperShare' in algoEntry.schema && !('actorHelperShare' in algoRest)) algoRest.actorHelperShare = 0;
  const config = resolve('algo', algoEntry.schema, algoRest);
  const vec = envEntry.create(envConfig, { numEnvs, autoReset: false });
  const trainer = algoEntry.createTrainer({ tf, env: vec, envConfig, config, seed, rng: new Rng(seed, ALGO_STREAM) });
  vec.setRecording(0, true);
  const out: RoundRecord[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const res = await trainer.round();
      let replay: string | null = null;
      for (const ep of res.episodes) if (ep.replay) replay = hash(JSON.stringify(ep.replay));
      out.push({
        envSteps: res.envSteps,
        stats: Object.fromEntries(Object.entries(res.stats).map(([k, v]) => [k, num(v)])),
        episodes: res.episodes.map((e) => [
          e.envIndex,
          Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k, v === null ? null : num(v)])),
        ]),
        replay,
      });
    }
  } finally {
    trainer.dispose();
  }
  return out;
}

describe('golden series (same (config, seed), same numbers as before the refactor)', () => {
  beforeAll(setupTf);

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const file = path.join(DIR, `${c.name}.json`);
    if (WRITE) {
      const preset = getPreset(c.preset);
      if (!preset) throw new Error(`no preset ${c.preset}`);
      const cfg = resolveExperiment(mergeExperiment(preset.config, c.set));
      const rounds = await play(cfg.env, cfg.algo, c.seed, c.numEnvs, c.rounds);
      const fixture: Fixture = { name: c.name, backend: tf.getBackend(), seed: c.seed, numEnvs: c.numEnvs, env: cfg.env, algo: cfg.algo, rounds };
      fs.mkdirSync(DIR, { recursive: true });
      fs.writeFileSync(file, JSON.stringify(fixture, null, 1) + '\n');
    }
    // The fixture's own resolved config is replayed (not the preset), so a later change of a
    // preset or a default cannot silently move the goalposts.
    const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as Fixture;
    expect(tf.getBackend()).toBe(fixture.backend);
    if (c.covers) expect(fixture.rounds.some((r) => typeof r.stats[c.covers!] === 'number' && r.stats[c.covers!] !== 0), c.covers).toBe(true);
    // Through JSON as the fixture went, so -0 and 0 compare as stored.
    const rounds = JSON.parse(JSON.stringify(await play(fixture.env, fixture.algo, fixture.seed, fixture.numEnvs, fixture.rounds.length))) as RoundRecord[];
    expect(rounds.length).toBe(fixture.rounds.length);
    for (let r = 0; r < rounds.length; r++) {
      expect(rounds[r].envSteps, `round ${r} envSteps`).toBe(fixture.rounds[r].envSteps);
      expect(rounds[r].episodes, `round ${r} episodes`).toEqual(fixture.rounds[r].episodes);
      expect(rounds[r].stats, `round ${r} stats`).toEqual(fixture.rounds[r].stats);
      expect(rounds[r].replay, `round ${r} replay of copy 0`).toBe(fixture.rounds[r].replay);
    }
  });
});
