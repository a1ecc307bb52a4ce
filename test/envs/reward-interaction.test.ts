/**
 * DRIMA's reward interaction: the DRI function against drima.md §1.7's test vectors, and the
 * wrapper (trackers fed original rewards across episodes, checkpointed, a radius graph on the
 * env's published positions, scripted agents untouched).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type Values } from '../../src-shared/config/schema';
import { interact, RewardInteractionEnv, withRewardInteraction } from '../../src-shared/envs/reward-interaction';
import { matrixGameEntry } from '../../src-shared/envs/matrix-game';

const K2 = [
  [false, true],
  [true, false],
];
const K3 = [
  [false, true, true],
  [true, false, true],
  [true, true, false],
];

function close(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 9));
}

describe('interact: drima.md §1.7 test vectors', () => {
  it('1: Fig. 2 example, mu = (3.28, 10.48)', () => {
    const mu = [3.28, 10.48];
    const a = interact([0, 18], mu, K2, 'dri');
    close(a.d, [2.12, 2.12]);
    expect(a.conflict).toEqual([true, true]);
    close(interact([18, 0], mu, K2, 'dri').d, [2.12, 2.12]);
    const c = interact([10, 10], mu, K2, 'dri');
    close(c.d, [3.12, 3.12]);
    expect(c.conflict).toEqual([false, false]);
    close(interact([2, 2], mu, K2, 'dri').d, [-4.88, -4.88]);
  });
  it('2: the zero-sign rule (literal by default, strict as an option)', () => {
    const a = interact([30, 0], [0, 0], K2, 'dri');
    close(a.d, [15, 15]);
    expect(a.conflict).toEqual([true, true]);
    const b = interact([0, 0], [0, 0], K2, 'dri');
    close(b.d, [0, 0]);
    expect(b.conflict).toEqual([false, false]);
    const s = interact([30, 0], [0, 0], K2, 'dri', { zeroSign: 'strict' });
    expect(s.conflict).toEqual([false, false]);
    close(s.d, [30, 0]);
  });
  it('3: Maintain at the optimum, mu = (20, 15)', () => {
    const mu = [20, 15];
    close(interact([20, 15], mu, K2, 'dri').d, [0, 0]);
    close(interact([30, 0], mu, K2, 'dri').d, [-2.5, -2.5]);
    const c = interact([10, 5], mu, K2, 'dri');
    close(c.d, [-7.5, -12.5]);
    expect(c.conflict).toEqual([false, false]);
  });
  it('4: three agents, complete graph', () => {
    const a = interact([7, 7, 6], [5, 5, 3], K3, 'dri');
    close(a.d, [7 - 13 / 3, 7 - 13 / 3, 6 - 13 / 3]);
    expect(a.conflict).toEqual([false, false, false]);
    const b = interact([0, 0, 5], [2, 2, 2], K3, 'dri');
    close(b.d, [-1 / 3, -1 / 3, -1 / 3]);
    expect(b.conflict).toEqual([true, true, true]);
  });
  it('5: an isolated agent keeps r - mu and never triggers', () => {
    const none = [
      [false, false],
      [false, false],
    ];
    const a = interact([0, 18], [3.28, 10.48], none, 'dri');
    close(a.d, [-3.28, 18 - 10.48]);
    expect(a.conflict).toEqual([false, false]);
    expect(a.neighbours).toEqual([1, 1]);
  });
  it('6: dri-naive averages every sample', () => {
    const mu = [3.28, 10.48];
    close(interact([10, 10], mu, K2, 'dri-naive').d, [3.12, 3.12]);
    close(interact([0, 18], mu, K2, 'dri-naive').d, [2.12, 2.12]);
    close(interact([18, 2], mu, K2, 'dri-naive').d, [3.12, 3.12]);
  });
  it('ind centres on the own tracker (raw as an option); the signEps band counts small values as 0', () => {
    close(interact([0, 18], [3.28, 10.48], K2, 'ind').d, [-3.28, 7.52]);
    close(interact([0, 18], [3.28, 10.48], K2, 'ind', { indReward: 'raw' }).d, [0, 18]);
    // x = 0.1, y = -0.1 around mu_bar 0: a conflict exactly, none within a 0.2 band.
    expect(interact([0.1, -0.1], [0, 0], K2, 'dri').conflict).toEqual([true, true]);
    expect(interact([0.1, -0.1], [0, 0], K2, 'dri', { signEps: 0.2 }).conflict).toEqual([false, false]);
  });
});

describe('RewardInteractionEnv', () => {
  const make = (train: Values, numEnvs = 1) =>
    withRewardInteraction(matrixGameEntry.create({ game: 'prisoners-dilemma', episodeLimit: 3 }, { numEnvs, autoReset: false }), train) as RewardInteractionEnv;

  it('off leaves the env as it is', () => {
    const env = matrixGameEntry.create({}, { numEnvs: 1 });
    expect(withRewardInteraction(env, { interaction: 'off' })).toBe(env);
  });

  it('reshapes with pre-update trackers, feeds them the original reward and keeps them across episodes', () => {
    const env = make({ interaction: 'dri', interactionMuRate: 0.5 });
    env.reset(1);
    // (C, D): r = (0, 18), mu = 0: conflict for both (signs 0 vs +, + vs 0) -> d = 9 each.
    env.step(Int32Array.from([0, 1]));
    expect(Array.from(env.rewards)).toEqual([9, 9]);
    expect(Array.from(env.mu)).toEqual([0, 9]);
    // (C, C): r = (10, 10), mu_bar = 4.5: no conflict, d = 5.5 each.
    env.step(Int32Array.from([0, 0]));
    expect(Array.from(env.rewards)).toEqual([5.5, 5.5]);
    expect(Array.from(env.mu)).toEqual([5, 9.5]);
    env.step(Int32Array.from([0, 0]));
    expect(env.dones[0]).toBe(1);
    const mu = Array.from(env.mu);
    env.resetFinished();
    expect(Array.from(env.mu)).toEqual(mu);
    const stats = env.drainStats();
    expect(stats['interaction/trigger_rate']).toBeCloseTo(2 / 6, 12);
    expect(stats['interaction/reward_1']).toBeCloseTo(38 / 3, 12);
    expect(env.drainStats()).toEqual({});
  });

  it('ctde hands every agent the sum; the checkpoint restores the trackers and the inner env', () => {
    const env = make({ interaction: 'ctde' }, 2);
    env.reset(3);
    env.step(Int32Array.from([0, 1, 1, 1]));
    expect(Array.from(env.rewards)).toEqual([18, 18, 4, 4]);
    const dri = make({ interaction: 'dri' }, 2);
    dri.reset(3);
    dri.step(Int32Array.from([0, 1, 1, 1]));
    const saved = JSON.parse(JSON.stringify(dri.getState()));
    const mu = Array.from(dri.mu);
    const other = make({ interaction: 'dri' }, 2);
    other.setState(saved);
    expect(Array.from(other.mu)).toEqual(mu);
    other.step(Int32Array.from([0, 0, 0, 0]));
    dri.step(Int32Array.from([0, 0, 0, 0]));
    expect(Array.from(other.rewards)).toEqual(Array.from(dri.rewards));
    expect(() => other.setState(matrixGameEntry.create({}, { numEnvs: 2 }).getState())).toThrow(/reward-interaction trackers/);
  });

  it('a radius graph needs an env that declares positions', () => {
    expect(() => make({ interaction: 'dri', interactionRadius: 1 })).toThrow(ConfigError);
    expect(() => make({ interaction: 'dri', interactionRadius: 1 })).toThrow(/train.interactionRadius/);
  });
});
