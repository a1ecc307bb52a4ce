/**
 * COMA's `actorHelperShare` (coma-actor-part.ts; default 0.3): the actor's gradient of a sampled
 * batch split by episodes into two parts, part 2 on the critic's helper when it runs, else on the
 * trainer's thread after part 1, the two added. The same gradient as one pass to float rounding
 * (a part's own pieces, its Q rows and the loss's divisor are the whole batch's); the same bits
 * on one thread, two threads and auto whichever way the host's hint goes; share 0 is the one
 * pass, bit for bit, and an on-policy batch (the rollout's trace) is never split.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { comaEntry } from '../../src-shared/algos/coma';
import { actorLossWork, comaActorGrads, comaActorPart, comaActorSplit, comaActorSums } from '../../src-shared/algos/coma-actor-part';
import { setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';
import { comaCriticThreadFactory, setComaCriticThreadFactory, type ComaCriticThreadFactory } from '../../src-shared/algos/coma-critic-step';
import { RecurrentActor, timeToGroupRange } from '../../src-shared/algos/recurrent-actor';
import { resolve } from '../../src-shared/config/schema';
import type { EnvSpec } from '../../src-shared/envs/types';
import { Rng } from '../../src-shared/rng';
import type { Tensor } from '../../src-shared/nn/tf';
import { build, episodeSummary, runTrace, setupTf, tf } from './helpers';

const ENV = { episodeLimit: 25, obsLastAction: true };

async function run(algo: Record<string, unknown>, rounds: number): Promise<{ stats: Record<string, number>[]; episodes: string[]; ck: Record<string, Float32Array> }> {
  const { trainer } = build(comaEntry, { numEnvs: 4, env: ENV, algo: { batchSize: 4, bufferSize: 8, ...algo }, seed: 7 });
  const stats: Record<string, number>[] = [];
  const episodes: string[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const res = await trainer.round();
      stats.push(res.stats);
      episodes.push(episodeSummary(res.episodes));
    }
    const ck = await trainer.save();
    const out: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(ck.tensors)) if (t.data instanceof Float32Array) out[k] = t.data;
    return { stats, episodes, ck: out };
  } finally {
    trainer.dispose();
  }
}

/** Largest |a - b| / max(|a|, |b|, floor) over two arrays. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), floor));
  return m;
}

describe('COMA actorHelperShare: the actor update split between the two threads', () => {
  let saved: ComaCriticThreadFactory | null = null;
  beforeAll(async () => {
    await setupTf();
    saved = comaCriticThreadFactory();
  });
  afterEach(() => {
    setComaCriticThreadFactory(saved);
    setPpoAutoThreads(1);
  });

  it('two parts (the second as the helper runs it) add up to the whole batch: loss, every gradient, the sums', () => {
    const spec = { obsSize: 7, numActions: 4 } as EnvSpec;
    const N = 2;
    const T = 5;
    const B = 5;
    const O = 7;
    const A = 4;
    const R = T * N * B;
    const rng = new Rng(3);
    const opts = { hiddenDim: 8, activation: 'relu' as const, gruGates: 'f32-simd' as const };
    const actor = new RecurrentActor(tf, spec, opts, 1, rng);
    const replica = new RecurrentActor(tf, spec, opts, 1, new Rng(99)); // other values until the job's load
    // A time-major batch [T][N][B]: random inputs, some unavailable actions, copy 1 ends at t = 2.
    const xs = Float32Array.from({ length: R * O }, () => rng.float() * 2 - 1);
    const avail = Float32Array.from({ length: R * A }, (_, i) => (i % A === 0 || rng.float() > 0.3 ? 1 : 0));
    const acts = Int32Array.from({ length: R }, (_, i) => (rng.float() > 0.5 ? 0 : [0, 1, 2, 3].filter((k) => avail[i * A + k])[1] ?? 0));
    const masks = Float32Array.from({ length: R }, (_, i) => (Math.floor(i / (N * B)) > 2 && i % B === 1 ? 0 : 1));
    const q = Float32Array.from({ length: R * A }, () => rng.float() * 4 - 2);
    let count = 0;
    for (const m of masks) count += m;
    const rowsOf = (b0: number, b1: number) => {
      const n = T * N * (b1 - b0);
      return {
        N,
        T,
        B: b1 - b0,
        x: timeToGroupRange(xs, T, N, B, O, b0, b1, new Float32Array(n * O)),
        avail: timeToGroupRange(avail, T, N, B, A, b0, b1, new Float32Array(n * A)),
        acts: timeToGroupRange(acts, T, N, B, 1, b0, b1, new Int32Array(n)),
        masks: timeToGroupRange(masks, T, N, B, 1, b0, b1, new Float32Array(n)),
      };
    };
    for (const eps of [0, 0.2]) {
      for (const closedForm of [true, false]) {
        const s = { eps, count, closedForm };
        const whole = rowsOf(0, B);
        const wWork = actorLossWork(R, A);
        const full = comaActorGrads(tf, actor, whole, s, () => timeToGroupRange(q, T, N, B, A, 0, B, new Float32Array(R * A)), wWork);
        const fullSums = comaActorSums(wWork, whole.masks, R, A);
        const b0 = 3;
        const first = rowsOf(0, b0);
        const r0 = T * N * b0;
        const fWork = actorLossWork(r0, A);
        const part0 = comaActorGrads(tf, actor, first, s, () => timeToGroupRange(q, T, N, B, A, 0, b0, new Float32Array(r0 * A)), fWork);
        const sums0 = comaActorSums(fWork, first.masks, r0, A);
        const part1 = comaActorPart(tf, replica, { b0, params: actor.params.toRecords(), settings: s, rows: rowsOf(b0, B) }, q, B);
        const what = `eps ${eps}, closedForm ${closedForm}`;
        expect(Math.abs(part0.value + part1.loss - full.value), what).toBeLessThan(1e-6 * Math.max(1, Math.abs(full.value)));
        expect(Object.keys(part1.grads).sort()).toEqual(Object.keys(full.grads).sort());
        for (const [name, g] of Object.entries(full.grads)) {
          const a = g.dataSync() as Float32Array;
          const b0d = part0.grads[name].dataSync() as Float32Array;
          const sum = b0d.map((v, i) => v + part1.grads[name].data[i]);
          let scale = 0;
          for (const v of a) scale = Math.max(scale, Math.abs(v));
          let err = 0;
          for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(sum[i] - a[i]));
          expect(err, `${what}: ${name}`).toBeLessThan(1e-5 * Math.max(scale, 1e-3));
          // Each part alone is far from the whole: the sum is what matches.
          if (scale > 1e-4) expect(relDiff(b0d, a), `${what}: ${name} part alone`).toBeGreaterThan(1e-3);
        }
        for (const k of ['bSum', 'qSum', 'aSum', 'piMax'] as const) {
          expect(Math.abs(sums0[k] + part1.sums[k] - fullSums[k]), `${what}: ${k}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(fullSums[k])));
        }
        for (const g of [...Object.values(full.grads), ...Object.values(part0.grads)]) (g as Tensor).dispose();
      }
    }
    actor.params.dispose();
    replica.params.dispose();
  });

  /** Counts the actor parts the helper computed (its answers carry them). */
  function countingHelper(): { parts: number } {
    const seen = { parts: 0 };
    setComaCriticThreadFactory((spec) => {
      const h = saved!(spec);
      return {
        update: (state, job) => {
          const call = h.update(state, job);
          return { ...call, done: call.done.then((d) => (d.actor && seen.parts++, d)) };
        },
        close: () => h.close(),
      };
    });
    return seen;
  }

  const trace = (algo: Record<string, unknown>, rounds: number, hints?: (1 | 2)[]) =>
    runTrace(comaEntry, { numEnvs: 4, env: ENV, algo: { batchSize: 4, bufferSize: 8, ...algo }, seed: 7 }, rounds, hints && ((r) => setPpoAutoThreads(hints[r])));

  for (const [name, algo] of [
    ['default share (0.3), closed-form loss', {}],
    ['share 0.5, taped loss, epsilon floor, two updates per round', { actorHelperShare: 0.5, actorLoss: 'taped', epsilonStart: 0.3, epsilonFinish: 0.05, epsilonAnnealSteps: 50, updatesPerRound: 2 }],
  ] as [string, Record<string, unknown>][]) {
    it(`${name}: one thread, two threads (part 2 on the helper) and auto (hint 2, 1, 2) give the same bits`, async () => {
      const seen = countingHelper();
      const one = await trace({ ...algo, updateThreads: 1 }, 3);
      expect(seen.parts).toBe(0);
      const two = await trace({ ...algo, updateThreads: 2 }, 3);
      const upr = Number(algo.updatesPerRound ?? 1);
      expect(seen.parts).toBe(3 * upr);
      expect(two).toBe(one);
      const auto = await trace({ ...algo, updateThreads: 'auto' }, 3, [2, 1, 2]);
      expect(seen.parts).toBe(5 * upr);
      expect(auto).toBe(one);
    }, 240_000);
  }

  it('the split is the one pass to float rounding (not its bits); share 0 sends no part and is the one pass on either thread count', async () => {
    const seen = countingHelper();
    const whole = await run({ actorHelperShare: 0, updateThreads: 1 }, 3);
    expect(JSON.stringify(await run({ actorHelperShare: 0, updateThreads: 2 }, 3))).toBe(JSON.stringify(whole));
    expect(seen.parts).toBe(0);
    const split = await run({ updateThreads: 1 }, 3);
    expect(split.episodes).toEqual(whole.episodes);
    for (let r = 0; r < 3; r++) {
      for (const [k, v] of Object.entries(whole.stats[r])) {
        expect(Math.abs(split.stats[r][k] - v), `round ${r}: ${k}`).toBeLessThanOrEqual(1e-4 * Math.max(1e-2, Math.abs(v)));
      }
    }
    for (const [k, v] of Object.entries(whole.ck)) {
      if (!k.startsWith('actor/') && !k.startsWith('critic/')) continue;
      expect(relDiff(split.ck[k], v), k).toBeLessThan(1e-3);
    }
    // Not bit-identical: the test would not see part 2 dropped if the two agreed anyway.
    expect(JSON.stringify(split.stats)).not.toBe(JSON.stringify(whole.stats));
  }, 240_000);

  it('on-policy (bufferSize 0: the rollout trace serves the batch) never splits: the share changes nothing', async () => {
    const seen = countingHelper();
    const base = { bufferSize: 0, updateThreads: 2 };
    expect(await trace({ ...base, actorHelperShare: 0.5 }, 2)).toBe(await trace({ ...base, actorHelperShare: 0 }, 2));
    expect(seen.parts).toBe(0);
  }, 240_000);

  it('comaActorSplit: part 2 is round(share * B) copies, at least one in each part, none with a trace', () => {
    expect(comaActorSplit(0.3, 32, false)).toEqual({ b0: 22 });
    expect(comaActorSplit(0.3, 4, false)).toEqual({ b0: 3 });
    expect(comaActorSplit(0.9, 4, false)).toEqual({ b0: 1 });
    expect(comaActorSplit(0.3, 1, false)).toBeNull();
    expect(comaActorSplit(0.1, 4, false)).toBeNull();
    expect(comaActorSplit(0, 32, false)).toBeNull();
    expect(comaActorSplit(0.3, 32, true)).toBeNull();
  });

  it('actorHelperShare: default 0.3 on any thread count; out of range refused naming the field and the bounds', () => {
    expect(resolve('algo', comaEntry.schema, {}).actorHelperShare).toBe(0.3);
    for (const updateThreads of ['auto', 1, 2]) {
      expect(() => build(comaEntry, { numEnvs: 2, env: ENV, algo: { actorHelperShare: 0.5, updateThreads } }).trainer.dispose()).not.toThrow();
    }
    for (const bad of [0.95, -0.1, 'x']) expect(() => resolve('algo', comaEntry.schema, { actorHelperShare: bad })).toThrow(/algo\.actorHelperShare/);
  });
});
