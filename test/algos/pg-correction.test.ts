/**
 * PG correction terms (paper §4-4.1, App. P, E.7; released code specs §2) and max-entropy.
 * Trainer-level tests run on a scripted "gift" env in which doors open and the collective
 * reward arrives at known steps every round, so every term is active from the first update.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  RELEASED_FD_EPS,
  collectiveSplit,
  correctionSteps,
  entropyPenalty,
  pgEntry,
  pgSchema,
  releasedFdTerm,
  releasedRewardSplit,
} from '../../src-shared/algos/pg';
import { RecurrentActor } from '../../src-shared/algos/recurrent-actor';
import type { Checkpoint, Trainer } from '../../src-shared/algos/types';
import { ConfigError, resolve } from '../../src-shared/config/schema';
import type { EpisodeRecord, EnvSpec, VecEnv } from '../../src-shared/envs/types';
import { uniformSpec } from '../../src-shared/envs/spaces';
import { entropyFromLogProbs, maskedLogProbs } from '../../src-shared/nn/categorical';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

// ================================================================= a scripted env

/**
 * N = 2 agents, A = 4 actions (all available), 8 copies, limit 10. In copy b the first opener
 * f = b % 2 gets r_i = 0.5 at step t1 = 1 + b % 3; unless b % 4 = 3 (truncated at the limit),
 * at t2 = t1 + 2 + b % 2 the other agent gets 1.5 (its r_i + the collective 1.0), f gets 1.0, and
 * the copy terminates. Observations depend on (step, copy, agent) and the agent's last action.
 */
function giftEnv(B = 8, limit = 10): VecEnv {
  const N = 2;
  const A = 4;
  const O = 5;
  const spec: EnvSpec = uniformSpec({
    id: 'gift',
    numAgents: N,
    obsSize: O,
    envObsSize: O - 1,
    actionNames: ['a', 'b', 'c', 'd'],
    stateSize: 1,
    episodeLimit: limit,
    metricKeys: ['episode_length'],
    metrics: [{ key: 'episode_length', title: 'Episode length' }],
  });
  const steps = new Int32Array(B);
  const last = new Int32Array(B * N);
  const pending: EpisodeRecord[] = [];
  const env = {
    spec,
    numEnvs: B,
    obs: new Float32Array(B * N * O),
    state: new Float32Array(B),
    actionMask: new Uint8Array(B * N * A).fill(1),
    rewards: new Float32Array(B * N),
    dones: new Uint8Array(B),
    truncated: new Uint8Array(B),
    finished: new Uint8Array(B),
    finalObs: new Float32Array(B * N * O),
    write(b: number) {
      for (let i = 0; i < N; i++) {
        const t = steps[b];
        env.obs.set([Math.sin(t + b), Math.cos(t * (i + 1) + b), t / limit, i - 0.5, last[b * N + i] / A], (b * N + i) * O);
      }
    },
    start(b: number) {
      steps[b] = 0;
      env.finished[b] = 0;
      for (let i = 0; i < N; i++) last[b * N + i] = 0;
      env.write(b);
    },
    reset() {
      for (let b = 0; b < B; b++) env.start(b);
    },
    resetFinished() {
      for (let b = 0; b < B; b++) if (env.finished[b]) env.start(b);
    },
    step(actions: Int32Array) {
      for (let b = 0; b < B; b++) {
        env.dones[b] = 0;
        env.truncated[b] = 0;
        env.rewards[b * N] = 0;
        env.rewards[b * N + 1] = 0;
        if (env.finished[b]) continue;
        const t = steps[b];
        const f = b % 2;
        const t1 = 1 + (b % 3);
        const t2 = b % 4 === 3 ? -1 : t1 + 2 + (b % 2);
        if (t === t1) env.rewards[b * N + f] = 0.5;
        if (t === t2) {
          env.rewards[b * N + f] = 1;
          env.rewards[b * N + 1 - f] = 1.5;
        }
        steps[b]++;
        for (let i = 0; i < N; i++) last[b * N + i] = actions[b * N + i];
        env.write(b);
        const term = t === t2;
        const trunc = !term && steps[b] >= limit;
        if (term || trunc) {
          env.dones[b] = 1;
          env.truncated[b] = trunc ? 1 : 0;
          env.finished[b] = 1;
          pending.push({ envIndex: b, metrics: { episode_length: steps[b] } });
        }
      }
    },
    setRecording() {},
    drainEpisodes() {
      return pending.splice(0);
    },
    getState() {
      return { steps: Array.from(steps), last: Array.from(last), finished: Array.from(env.finished) };
    },
    setState(s: unknown) {
      const st = s as { steps: number[]; last: number[]; finished: number[] };
      steps.set(st.steps);
      last.set(st.last);
      env.finished.set(st.finished);
      for (let b = 0; b < B; b++) env.write(b);
    },
  };
  env.reset();
  return env;
}

/** Small networks so that the tape HVP is quick. */
const BASE = { hiddenDim: 12, criticHiddenDim: 12, lr: 1e-2, criticLr: 1e-2 };

function trainer(algo: Record<string, unknown>, seed = 3, env: VecEnv = giftEnv()): Trainer {
  return pgEntry.createTrainer({ tf, env, envConfig: {}, config: resolve('algo', pgSchema, { ...BASE, ...algo }), seed, rng: new Rng(seed, 3) });
}

/** Actor parameters after `rounds` rounds, flattened, plus the stats of every round. */
async function actorAfter(algo: Record<string, unknown>, rounds = 1, seed = 3): Promise<{ params: Float64Array; stats: Record<string, number>[] }> {
  const t = trainer(algo, seed);
  const stats: Record<string, number>[] = [];
  for (let i = 0; i < rounds; i++) stats.push((await t.round()).stats);
  const ck = await t.save();
  t.dispose();
  return { params: actorParams(ck), stats };
}

function actorParams(ck: Checkpoint): Float64Array {
  const keys = Object.keys(ck.tensors)
    .filter((k) => k.startsWith('actor/'))
    .sort();
  const out: number[] = [];
  for (const k of keys) out.push(...ck.tensors[k].data);
  return Float64Array.from(out);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function diff(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((x, i) => x - b[i]);
}

// ================================================================= pure pieces

describe('collective objective: collective reward, door openings, S_a', () => {
  // T = 6 steps, N = 2, B = 3 copies, layout [t][agent][copy].
  const T = 6;
  const N = 2;
  const B = 3;
  const M = N * B;
  const raw = new Float32Array(T * M);
  const masks = new Float32Array(T * M);
  const set = (t: number, a: number, b: number, r: number) => (raw[t * M + a * B + b] = r);
  // Copy 0: agent 0 opens at t = 1, agent 1 opens at t = 4 (success, terminal).
  set(1, 0, 0, 0.5);
  set(4, 0, 0, 1);
  set(4, 1, 0, 1.5);
  // Copy 1: agent 1 opens at t = 2; truncated at t = 5 (no collective reward).
  set(2, 1, 1, 0.5);
  // Copy 2: nobody opens; ends (termination flag, but rewards 0) at t = 3.
  const endStep = Int32Array.from([4, 5, 3]);
  const endTrunc = Uint8Array.from([0, 1, 0]);
  for (let t = 0; t < T; t++) for (let a = 0; a < N; a++) for (let b = 0; b < B; b++) masks[t * M + a * B + b] = t <= endStep[b] ? 1 : 0;

  it('collective reward = what all agents get alike on a terminating step; doors open at the first individual reward', () => {
    const { collective, tOpen } = collectiveSplit(raw, masks, endStep, endTrunc, T, N, B);
    const nonzero = [...collective.keys()].filter((i) => collective[i] !== 0);
    expect(nonzero).toEqual([4 * M + 0 * B + 0, 4 * M + 1 * B + 0]);
    expect(collective[4 * M]).toBe(1);
    expect(collective[4 * M + B]).toBe(1);
    // tOpen[a * B + b]: agent 0 copy 0 at 1; agent 1 copy 0 at 4 (1.5 - 1.0 = its r_i); agent 1 copy 1 at 2.
    expect(Array.from(tOpen)).toEqual([1, -1, -1, 4, 2, -1]);
  });

  it('self: steps strictly after the own door opened; cross: all steps of the agents who did not open first', () => {
    const { tOpen } = collectiveSplit(raw, masks, endStep, endTrunc, T, N, B);
    // Entries as 'tab' (step, agent, copy), in layout order.
    const list = (m: Float32Array) => [...m.keys()].filter((i) => m[i]).map((i) => [Math.floor(i / M), Math.floor((i % M) / B), i % B].join(''));
    // Agent 0 of copy 0 after t = 1 (to its end at 4); agent 1 of copy 1 after t = 2 (to 5);
    // agent 1 of copy 0 opened on the last step: nothing after it.
    expect(list(correctionSteps('self', tOpen, masks, T, N, B))).toEqual(['200', '300', '311', '400', '411', '511']);
    // Copy 0: agent 0 first -> agent 1's steps 0..4; copy 1: agent 1 first -> agent 0's steps 0..5.
    expect(list(correctionSteps('cross', tOpen, masks, T, N, B))).toEqual(['001', '010', '101', '110', '201', '210', '301', '310', '401', '410', '501']);
  });

  it('a tie for the first opening means no first opener', () => {
    const tOpen = Int32Array.from([2, 2]); // agents 0 and 1 of the single copy
    const m = new Float32Array(4 * 2).fill(1);
    expect(Array.from(correctionSteps('cross', tOpen, m, 4, 2, 1)).every((x) => x === 0)).toBe(true);
  });
});

describe('released-code terms (specs §2.1, §2.4) and the max-entropy penalty', () => {
  beforeAll(setupTf);

  it('splits rewards at 1.0: r_col = r where r >= 1, r_ind = r where r < 1', () => {
    const { ind, col } = releasedRewardSplit(Float32Array.from([0.5, 1, 1.5, 0.99, 0, -0.5]));
    expect(Array.from(col)).toEqual([0, 1, 1.5, 0, 0, 0]);
    expect(Array.from(ind)).toEqual([0.5, 0, 0, Math.fround(0.99), 0, -0.5]);
  });

  it('the 2x2 finite difference matches its analytic limit, gated, with Psi = 1/log p (collective) and 1/p (individual)', () => {
    const p = Float32Array.from([0.2, 0.5, 0.9, 0.05, 0.7, 0.3]);
    const G = Float32Array.from([1, 1.5, 1, 1.5, 1, 0]);
    const v = Float32Array.from([0.3, -0.2, 1.2, 0.8, 0.1, 0.4]);
    const m = Float32Array.from([1, 1, 1, 1, 1, 1]);
    // The gate comes from r_col != 0: entries 4 and 5 are not collective-reward steps.
    const rewards = Float32Array.from([1, 1.5, 1, 1.5, 0.5, 0]);
    const gate = Float32Array.from(releasedRewardSplit(rewards).col, (c) => (c !== 0 ? 1 : 0));
    for (const psi of ['inv-log-p', 'inv-p'] as const) {
      const pt = tf.tensor1d(p);
      const c = releasedFdTerm(tf, pt, m, G, v, gate, psi);
      const got = c.dataSync();
      const gradP = tf.grad((x: tf.Tensor) => tf.sum(releasedFdTerm(tf, x, m, G, v, gate, psi)))(pt).dataSync();
      for (let i = 0; i < p.length; i++) {
        const lp = Math.log(p[i]);
        // Analytic limits: collective m [(G - v)/(p log p) - 1] (specs §2.1 step 8);
        // individual (H00 + H11) / p = m [(G - v)/p - log p] / p (§2.4).
        const want = psi === 'inv-log-p' ? m[i] * ((G[i] - v[i]) / (p[i] * lp) - 1) : (m[i] * ((G[i] - v[i]) / p[i] - lp)) / p[i];
        if (gate[i] === 0) {
          expect(Math.abs(got[i])).toBe(0);
          expect(Math.abs(gradP[i])).toBe(0);
          continue;
        }
        // float32 differences over eps = 1e-6 carry up to ~5% of rounding, as in the code.
        expect(Math.abs(got[i] - want), `${psi}[${i}]: ${got[i]} vs ${want}`).toBeLessThan(0.08 * Math.abs(want));
        expect(Number.isFinite(gradP[i])).toBe(true);
      }
      pt.dispose();
      c.dispose();
    }
    expect(RELEASED_FD_EPS).toBe(1e-6);
  });

  it('the gradient through p follows the analytic dC/dp = -(G - v)(1 + log p) / (p^2 log^2 p) up to the FD rounding', () => {
    const p = Float32Array.from([0.1, 0.3, 0.6]);
    const G = Float32Array.from([1, 1.5, 1]);
    const v = Float32Array.from([0.2, 0.5, -0.3]);
    const one = Float32Array.from([1, 1, 1]);
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(releasedFdTerm(tf, x, one, G, v, one, 'inv-log-p')))(tf.tensor1d(p)).dataSync());
    for (let i = 0; i < 3; i++) {
      const lp = Math.log(p[i]);
      const want = (-(G[i] - v[i]) * (1 + lp)) / (p[i] * p[i] * lp * lp);
      expect(Math.abs(g[i] - want), `${g[i]} vs ${want}`).toBeLessThan(0.2 * Math.abs(want) + 0.2);
    }
  });

  it('entropy penalty: r <- r - alpha H on valid steps, and r_ind / r_col where non-zero', () => {
    const r = Float32Array.from([0, 0.5, 1.5, 0.2]);
    const ents = Float32Array.from([1, 2, 0.5, 3]);
    const masks = Float32Array.from([1, 1, 1, 0]);
    const split = releasedRewardSplit(r);
    entropyPenalty(r, ents, masks, 0.1, split);
    expect(Array.from(r)).toEqual([-0.1, 0.3, 1.45, 0.2].map(Math.fround));
    expect(Array.from(split.ind)).toEqual([0, 0.3, 0, 0.2].map(Math.fround));
    expect(Array.from(split.col)).toEqual([0, 0, 1.45, 0].map(Math.fround));
  });
});

// ================================================================= trainer

const OPTIONS: [string, Record<string, unknown>][] = [
  ['correction=self', { correction: 'self' }],
  ['correction=cross', { correction: 'cross' }],
  ['correction=self, per-agent actors', { correction: 'self', actorSharing: 'per-agent' }],
  ['correction=self, gelu, epsilon floor', { correction: 'self', activation: 'gelu', epsilonStart: 0.5 }],
  ['antiCollective', { correction: 'self', antiCollective: true }],
  ['antiCollective released-individual', { correction: 'self', antiCollective: true, antiCollectiveScope: 'released-individual' }],
  ['correctionCoef=3', { correction: 'self', correctionCoef: 3 }],
  ['psiDamping=1', { correction: 'self', psiDamping: 1 }],
  ['released-fd self', { correction: 'self', correctionImpl: 'released-fd' }],
  ['released-fd cross', { correction: 'cross', correctionImpl: 'released-fd' }],
  ['released-fd anti (collective)', { correction: 'self', correctionImpl: 'released-fd', antiCollective: true }],
  ['released-fd anti released-individual', { correction: 'self', correctionImpl: 'released-fd', antiCollective: true, antiCollectiveScope: 'released-individual' }],
  ['maxEntropy bonus', { maxEntropy: true, entropyCoef: 0.1 }],
  ['maxEntropy released-penalty', { maxEntropy: true, entropyCoef: 0.1, maxEntropySign: 'released-penalty' }],
];

describe('PG correction and max-entropy options (trainer)', () => {
  beforeAll(setupTf);

  let vanilla: Float64Array;
  beforeAll(async () => {
    vanilla = (await actorAfter({})).params;
  });
  const TERM_KEYS = ['correction', 'correctionImpl', 'correctionCoef', 'psiDamping', 'antiCollective', 'antiCollectiveScope', 'maxEntropy', 'entropyCoef', 'maxEntropySign'];

  it.each(OPTIONS)('%s: changes the update, finite, deterministic, leak-free', async (_name, algo) => {
    // Vanilla PG with the same other settings (network shape, activation, epsilon).
    const base = Object.fromEntries(Object.entries(algo).filter(([k]) => !TERM_KEYS.includes(k)));
    const van = Object.keys(base).length === 0 ? vanilla : (await actorAfter(base)).params;
    const before = tf.memory().numTensors;
    const t = trainer(algo);
    const r1 = await t.round();
    const after1 = tf.memory().numTensors;
    for (const [k, v] of Object.entries(r1.stats)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    if (algo.correction) {
      expect(r1.stats['charts/correction_steps']).toBeGreaterThan(0);
      expect(r1.stats['charts/correction_norm']).toBeGreaterThan(0);
      expect(Math.abs(r1.stats['charts/correction_dot_pg'])).toBeLessThanOrEqual(1 + 1e-9);
    }
    const p1 = actorParams(await t.save());
    expect(p1.length).toBe(van.length);
    expect(maxAbs(diff(p1, van))).toBeGreaterThan(1e-6);
    await t.round();
    await t.round();
    expect(tf.memory().numTensors).toBe(after1);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Same seed, same parameters.
    const again = await actorAfter(algo);
    expect(Array.from(again.params)).toEqual(Array.from(p1));
  });

  it('the default path reports no correction stats and is unchanged by the new options being off', async () => {
    const a = await actorAfter({}, 2);
    expect(Object.keys(a.stats[0]).some((k) => k.includes('correction'))).toBe(false);
    const b = await actorAfter({ correctionImpl: 'released-fd', antiCollectiveScope: 'released-individual', entropyCoef: 0.5, maxEntropySign: 'released-penalty' }, 2);
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
  });

  it.each([
    ['self (hvp)', { correction: 'self' }],
    ['cross (hvp), per-step critic', { correction: 'cross', criticUpdate: 'per-step-reverse' }],
    ['released-fd anti released-individual, max-entropy penalty', { correction: 'self', correctionImpl: 'released-fd', antiCollective: true, antiCollectiveScope: 'released-individual', maxEntropy: true, maxEntropySign: 'released-penalty' }],
  ])('save -> load in a fresh trainer -> next round identical (%s)', async (_n, algo) => {
    const a = trainer(algo, 11);
    await a.round();
    const ckpt = structuredClone(await a.save());
    const next = await a.round();
    const after = await a.save();
    const b = trainer(algo, 999);
    b.load(ckpt);
    const resumed = await b.round();
    expect(JSON.stringify(resumed.stats)).toBe(JSON.stringify(next.stats));
    const after2 = await b.save();
    for (const [k, t] of Object.entries(after.tensors)) expect(Array.from(after2.tensors[k].data), k).toEqual(Array.from(t.data));
    a.dispose();
    b.dispose();
  });

  it('correctionStart: the term is off before that update and on from it', async () => {
    const van = await actorAfter({}, 2);
    const late = await actorAfter({ correction: 'self', correctionStart: 2 }, 2);
    const r1 = await actorAfter({ correction: 'self', correctionStart: 2 }, 1);
    expect(Array.from(r1.params)).toEqual(Array.from(vanilla));
    expect(late.stats[0]['charts/correction_norm']).toBe(0);
    expect(late.stats[1]['charts/correction_norm']).toBeGreaterThan(0);
    expect(maxAbs(diff(late.params, van.params))).toBeGreaterThan(1e-6);
  });

  it('cross with per-agent actors is refused (the mixed derivative of separate networks is zero)', () => {
    expect(() => trainer({ correction: 'cross', actorSharing: 'per-agent' })).toThrow(ConfigError);
  });

  /**
   * With RMSprop's epsilon far above sqrt(mean square), its step is lr / eps * g: plain SGD, so
   * parameter deltas are linear in the gradient and the correction's share can be separated.
   */
  const SGD = { lr: 1, rmspropEps: 1e3 };
  it.each([
    ['hvp', {}],
    ['released-fd', { correctionImpl: 'released-fd' }],
  ])('antiCollective flips the sign of the correction contribution on the same batch (%s)', async (_n, impl) => {
    const van = (await actorAfter(SGD)).params;
    const self = await actorAfter({ ...SGD, ...impl, correction: 'self' });
    const anti = await actorAfter({ ...SGD, ...impl, correction: 'self', antiCollective: true });
    const dSelf = diff(self.params, van);
    const dAnti = diff(anti.params, van);
    const scale = maxAbs(dSelf);
    expect(scale).toBeGreaterThan(1e-5);
    // dAnti = -dSelf, up to float32 rounding of the parameters themselves.
    expect(maxAbs(dSelf.map((x, i) => x + dAnti[i]))).toBeLessThan(1e-3 * scale + 1e-6);
    expect(anti.stats[0]['charts/correction_norm']).toBeCloseTo(self.stats[0]['charts/correction_norm'], 5);
    expect(anti.stats[0]['charts/correction_dot_pg']).toBeCloseTo(-self.stats[0]['charts/correction_dot_pg'], 5);
  });

  it('correctionCoef scales the correction contribution linearly (SGD regime)', async () => {
    const van = (await actorAfter(SGD)).params;
    const one = diff((await actorAfter({ ...SGD, correction: 'cross' })).params, van);
    const two = diff((await actorAfter({ ...SGD, correction: 'cross', correctionCoef: 2 })).params, van);
    expect(maxAbs(two.map((x, i) => x - 2 * one[i]))).toBeLessThan(2e-3 * maxAbs(two) + 1e-6);
  });
});

// ================================================================= max-entropy

/** A VecEnv that records what the actor saw (observations, masks, validity) at every step. */
function recording(env: VecEnv) {
  const rec = { obs: [] as Float32Array[], mask: [] as Uint8Array[], valid: [] as Uint8Array[] };
  const proxy = new Proxy(env, {
    get(t, k) {
      if (k === 'step') {
        return (a: Int32Array) => {
          rec.obs.push(Float32Array.from(t.obs));
          rec.mask.push(Uint8Array.from(t.actionMask));
          rec.valid.push(Uint8Array.from(t.finished, (f) => 1 - f));
          t.step(a);
        };
      }
      return Reflect.get(t, k);
    },
  });
  return { env: proxy as VecEnv, rec };
}

/** Mean entropy of a checkpoint's policy over the recorded batch's valid agent-steps. */
function batchEntropy(ck: Checkpoint, rec: ReturnType<typeof recording>['rec'], spec: EnvSpec, B: number): number {
  const actor = new RecurrentActor(tf, spec, { hiddenDim: BASE.hiddenDim, activation: 'relu' }, 1, new Rng(0));
  actor.params.loadRecords(ck.tensors, 'actor/');
  const T = rec.obs.length;
  const N = spec.numAgents;
  const O = spec.obsSize;
  const A = spec.numActions;
  const x = new Float32Array(N * T * B * O);
  const m = new Float32Array(N * T * B * A);
  const valid: number[] = [];
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const row = (a * T + t) * B + b;
        x.set(rec.obs[t].subarray((b * N + a) * O, (b * N + a + 1) * O), row * O);
        m.set(rec.mask[t].subarray((b * N + a) * A, (b * N + a + 1) * A), row * A);
        valid[row] = rec.valid[t][b];
      }
    }
  }
  const h = tf.tidy(() => {
    const mask = tf.tensor3d(m, [1, N * T * B, A]);
    const logits = actor.sequenceLogits(tf.tensor3d(x, [1, N * T * B, O]), N, T, B);
    return entropyFromLogProbs(tf, maskedLogProbs(tf, logits, mask), mask).dataSync();
  });
  actor.params.dispose();
  let s = 0;
  let c = 0;
  valid.forEach((v, i) => {
    if (v) {
      s += h[i];
      c++;
    }
  });
  return s / c;
}

describe('max-entropy PG', () => {
  beforeAll(setupTf);

  const run = async (algo: Record<string, unknown>) => {
    const { env, rec } = recording(giftEnv());
    const t = trainer({ ...algo }, 5, env);
    const r = await t.round();
    const ck = await t.save();
    t.dispose();
    return { h: batchEntropy(ck, rec, env.spec, env.numEnvs), stats: r.stats };
  };

  // Plain SGD steps (RMSprop with eps >> sqrt(mean square), see above): to first order the
  // bonus adds alpha |grad H|^2 to the batch entropy's change, so the comparison is clean.
  const SGD = { lr: 1, rmspropEps: 1e3 };
  it('bonus raises the entropy of the updated policy on the same batch; more with a larger coefficient', async () => {
    const van = await run(SGD);
    const small = await run({ ...SGD, maxEntropy: true, entropyCoef: 0.1 });
    const big = await run({ ...SGD, maxEntropy: true, entropyCoef: 1 });
    expect(small.h).toBeGreaterThan(van.h);
    expect(big.h).toBeGreaterThan(small.h);
    // The bonus acts on the policy loss only: rewards, critic and advantages are vanilla's.
    expect(big.stats['charts/advantage_mean']).toBe(van.stats['charts/advantage_mean']);
    expect(big.stats['losses/critic']).toBe(van.stats['losses/critic']);
  });

  it('released-penalty lowers the rewards by alpha H before the critic and the returns', async () => {
    const van = await run({});
    const pen = await run({ maxEntropy: true, entropyCoef: 0.5, maxEntropySign: 'released-penalty' });
    // Every valid step loses 0.5 H (H ~ log 4 at the start): returns, hence advantages, drop.
    expect(pen.stats['charts/advantage_mean']).toBeLessThan(van.stats['charts/advantage_mean'] - 0.1);
    expect(pen.stats['losses/critic']).not.toBe(van.stats['losses/critic']);
  });
});

// ================================================================= R-pass vs tape (issue 15)

describe('hvpMethod: the R-pass gives the taped double backprop on the same batch', () => {
  beforeAll(setupTf);

  /** SGD regime (see above): the parameter delta is linear in the gradient, so terms compare. */
  const SGD = { lr: 1, rmspropEps: 1e3 };
  it.each([
    ['self', { correction: 'self' }],
    ['cross', { correction: 'cross' }],
    ['self, per-agent actors', { correction: 'self', actorSharing: 'per-agent' }],
    ['self, gelu, epsilon floor', { correction: 'self', activation: 'gelu', epsilonStart: 0.5 }],
    ['cross, anti-collective, psiDamping', { correction: 'cross', antiCollective: true, psiDamping: 0.1 }],
  ] as [string, Record<string, unknown>][])('%s', async (_n, algo) => {
    // Vanilla PG with the same network (sharing, activation, epsilon).
    const terms = ['correction', 'antiCollective', 'psiDamping'];
    const van = (await actorAfter({ ...SGD, ...Object.fromEntries(Object.entries(algo).filter(([k]) => !terms.includes(k))) })).params;
    const taped = await actorAfter({ ...SGD, ...algo, hvpMethod: 'taped' });
    const rpass = await actorAfter({ ...SGD, ...algo, hvpMethod: 'r-pass' });
    const dT = diff(taped.params, van);
    const dR = diff(rpass.params, van);
    const scale = maxAbs(dT);
    expect(scale).toBeGreaterThan(1e-4);
    // Float32 rounding apart (the tape in float32, the R-pass in float64 on float32 buffers).
    expect(maxAbs(dR.map((x, i) => x - dT[i]))).toBeLessThan(1e-4 * scale);
    const sT = taped.stats[0];
    const sR = rpass.stats[0];
    expect(sR['charts/correction_steps']).toBe(sT['charts/correction_steps']);
    expect(sT['charts/correction_steps']).toBeGreaterThan(0);
    for (const k of ['charts/correction_norm', 'charts/correction_value', 'charts/correction_dot_pg']) {
      expect(Math.abs(sR[k] - sT[k]), k).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(sT[k])));
    }
  });
});
