/**
 * The (learner, env) contract test, driven by the registries: every registered learner on
 * every registered env configuration (defaults and declared variants) whose spec it accepts.
 * Per pair, at tiny sizes (overrides chosen by field name from each schema, so a new learner
 * or env is covered without editing this file):
 * - one round plays one episode in every copy, counts its env steps, and reports finite stats;
 * - no tensor leak: `tf.memory().numTensors` is unchanged from one round to the next, and back
 *   to where it started after dispose;
 * - determinism: the same (config, seed) gives the same round;
 * - checkpoint then resume: a trainer built with another seed that loads the checkpoint plays
 *   the next round bit-identically and ends with identical weights;
 * - a policy loaded from the checkpoint acts within the env's spaces without leaking.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Schema, type Values } from '../../src-shared/config/schema';
import type { AlgoEntry, Checkpoint, RoundResult, Trainer } from '../../src-shared/algos/types';
import type { EnvEntry, VecEnv } from '../../src-shared/envs/types';
import { listAlgos, listEnvs } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

/** Small values for fields that size networks, batches or episodes, applied where a schema has them. */
const TINY: Record<string, number> = {
  hiddenDim: 8,
  criticHiddenDim: 8,
  rnnHiddenDim: 8,
  epochs: 1,
  minibatches: 1,
  batchSize: 2,
  bufferSize: 4,
  episodeLimit: 8,
  lr: 1e-2,
  criticLr: 1e-2,
  updateEvery: 8,
  cloneUpdatesPerStep: 1,
  dtBatch: 4,
  moaHidden: 8,
  updateIters: 1,
  moaCharTrajectories: 4,
  moaCharSubset: 2,
  moaNaturalBatch: 8,
  moaGruHidden: 4,
  moaNaturalHidden: 8,
};

function tiny(schema: Schema, base: Values): Values {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(TINY)) {
    const f = schema[k];
    if (!f || (f.type !== 'int' && f.type !== 'float')) continue;
    // Respect the field's own range (an even hiddenDim for PPO's CNN, a buffer >= batch).
    out[k] = Math.min(f.max ?? Infinity, Math.max(f.min ?? -Infinity, v));
  }
  return out as Values;
}

interface Pair {
  name: string;
  env: EnvEntry;
  envConfig: Values;
  algo: AlgoEntry;
  algoConfig: Values;
}

function pairs(): Pair[] {
  const out: Pair[] = [];
  for (const env of listEnvs()) {
    const configs = [{ name: 'default', config: {} as Values }, ...(env.variants ?? [])];
    for (const c of configs) {
      const envConfig = resolve('env', env.schema, tiny(env.schema, c.config));
      const spec = env.spec(envConfig);
      for (const algo of listAlgos()) {
        if (algo.accepts(spec).length > 0) continue;
        const where = `${env.id}${c.name === 'default' ? '' : ` (${c.name})`}`;
        out.push({ name: `${algo.id} on ${where}`, env, envConfig, algo, algoConfig: resolve('algo', algo.schema, tiny(algo.schema, {})) });
        for (const v of algo.variants ?? []) {
          out.push({ name: `${algo.id} [${v.name}] on ${where}`, env, envConfig, algo, algoConfig: resolve('algo', algo.schema, tiny(algo.schema, { ...v.config } as Values)) });
        }
      }
    }
  }
  return out;
}

const B = 2;

function build(p: Pair, seed: number): { env: VecEnv; trainer: Trainer } {
  const env = p.env.create(p.envConfig, { numEnvs: B, autoReset: false });
  const trainer = p.algo.createTrainer({ tf, env, envConfig: p.envConfig, config: p.algoConfig, seed, rng: new Rng(seed, 1_000_003) });
  return { env, trainer };
}

function summary(r: RoundResult): string {
  return JSON.stringify({ steps: r.envSteps, stats: r.stats, eps: r.episodes.map((e) => [e.envIndex, e.metrics]) });
}

function weights(c: Checkpoint): Record<string, number[]> {
  return Object.fromEntries(Object.entries(c.tensors).map(([k, t]) => [k, Array.from(t.data)]));
}

const PAIRS = pairs();

describe('every (learner, compatible env) pair', () => {
  beforeAll(setupTf);

  it('the registries pair every learner with at least one env, and the random baseline with every env', () => {
    for (const algo of listAlgos()) expect(PAIRS.some((p) => p.algo.id === algo.id), algo.id).toBe(true);
    for (const env of listEnvs()) expect(PAIRS.some((p) => p.env.id === env.id && p.algo.id === 'random'), env.id).toBe(true);
  });

  it.each(PAIRS.map((p) => [p.name, p] as const))('%s', async (_name, p) => {
    const before = tf.memory().numTensors;
    const a = build(p, 5);
    const r1 = await a.trainer.round();
    // One episode per copy, env steps = the episodes' lengths, finite statistics.
    expect(r1.episodes.length).toBe(B);
    expect(r1.envSteps).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(r1.stats)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    const afterFirst = tf.memory().numTensors;
    const ckpt = structuredClone(await a.trainer.save());
    const r2 = await a.trainer.round();
    expect(tf.memory().numTensors, 'tensors held after a second round').toBe(afterFirst);
    const finalA = weights(await a.trainer.save());

    // Determinism: same (config, seed), same round.
    const b = build(p, 5);
    expect(summary(await b.trainer.round())).toBe(summary(r1));
    b.trainer.dispose();

    // Resume: another seed, the checkpoint's state, the same next round and weights.
    const c = build(p, 77);
    c.trainer.load(ckpt);
    expect(summary(await c.trainer.round())).toBe(summary(r2));
    expect(weights(await c.trainer.save())).toEqual(finalA);
    c.trainer.dispose();
    a.trainer.dispose();
    expect(tf.memory().numTensors, 'tensors left after dispose').toBe(before);

    // A policy loaded from the checkpoint acts within the spaces, without leaking.
    const env = p.env.create(p.envConfig, { numEnvs: B, autoReset: false });
    const spec = env.spec;
    const policy = p.algo.createPolicy({ tf, spec, numEnvs: B, config: p.algoConfig, rng: new Rng(3), checkpoint: ckpt });
    const held = tf.memory().numTensors;
    const actions = new Int32Array(B * spec.numAgents);
    const box = new Float32Array(B * spec.numAgents * spec.boxSize);
    env.reset(9);
    for (let t = 0; t < 3; t++) {
      policy.act(env, actions, t % 2 === 1, box);
      for (let bi = 0; bi < B; bi++) {
        if (env.finished[bi]) continue;
        for (let i = 0; i < spec.numAgents; i++) {
          const row = bi * spec.numAgents + i;
          const space = spec.agents[i].action;
          if (space.kind === 'discrete') expect(env.actionMask[row * spec.numActions + actions[row]], `agent ${i} action ${actions[row]}`).toBe(1);
          else {
            const v = Array.from(box.subarray(row * spec.boxSize, row * spec.boxSize + space.size));
            expect(v.some((x) => x !== 0), `agent ${i} box action`).toBe(true);
            v.forEach((x, k) => expect(x >= space.low[k] && x <= space.high[k], `agent ${i} box[${k}] = ${x}`).toBe(true));
          }
        }
      }
      env.step(actions, spec.boxSize > 0 ? box : undefined);
      if (Array.from(env.finished).every((f) => f === 1)) break;
    }
    expect(tf.memory().numTensors, 'policy tensors while acting').toBe(held);
    policy.dispose();
    // Five rounds, a save and two loads per pair: F2A2-SAC's per-agent attention critics on the
    // 8-agent particle tasks took 106-135 s at load ~30 on the shared 2-core machine.
  }, 300_000);
});
