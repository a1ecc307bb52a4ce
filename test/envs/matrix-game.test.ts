/**
 * Matrix games: payoffs read off the spec tables by hand, observations, metrics, episode ends
 * and config errors.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src-shared/config/schema';
import { cooperativeOptima, matrixGameEntry, parseMatrixGameConfig } from '../../src-shared/envs/matrix-game';
import type { VecEnv } from '../../src-shared/envs/types';

function play(env: VecEnv, joint: number[]): number[] {
  env.step(Int32Array.from(joint));
  return Array.from(env.rewards);
}

describe('payoffs by hand', () => {
  it("Prisoner's Dilemma (DRIMA Fig. 1): C = 0, D = 1", () => {
    const env = matrixGameEntry.create({ game: 'prisoners-dilemma' }, { numEnvs: 1 });
    expect(play(env, [0, 0])).toEqual([10, 10]);
    expect(play(env, [0, 1])).toEqual([0, 18]);
    expect(play(env, [1, 0])).toEqual([18, 0]);
    expect(play(env, [1, 1])).toEqual([2, 2]);
    expect(env.spec.agents.map((a) => (a.action.kind === 'discrete' ? a.action.names : []))).toEqual([
      ['C', 'D'],
      ['C', 'D'],
    ]);
  });

  it('Maintain (environments.md §6.1): rows A, B, C; columns X, Y, Z', () => {
    const env = matrixGameEntry.create({ game: 'maintain' }, { numEnvs: 1 });
    const table: Record<string, [number, number]> = {
      AX: [20, 15], AY: [0, 0], AZ: [0, 0],
      BX: [30, 0], BY: [10, 5], BZ: [0, 0],
      CX: [0, 0], CY: [0, 0], CZ: [5, 10],
    };
    for (const [k, v] of Object.entries(table)) expect(play(env, ['ABC'.indexOf(k[0]), 'XYZ'.indexOf(k[1])]), k).toEqual(v);
  });

  it("meet-covid (drima.md §2.4 tables): Gus, Henry in {R, C, F}, Scooter in {R, F}", () => {
    const env = matrixGameEntry.create({ game: 'meet-covid' }, { numEnvs: 1 });
    expect(env.spec.agents.map((a) => (a.action.kind === 'discrete' ? a.action.n : 0))).toEqual([3, 3, 2]);
    expect(env.spec.numActions).toBe(3);
    // Scooter's mask row has only two legal actions.
    expect(Array.from(env.actionMask.subarray(6, 9))).toEqual([1, 1, 0]);
    const g = (c: string) => 'RCF'.indexOf(c);
    const s = (c: string) => 'RF'.indexOf(c);
    const cases: [string, number[]][] = [
      ['RRR', [0, 0, 5]], ['RCR', [0, 1, 5]], ['CCR', [5, 5, 3]], ['FCR', [0, 1, 3]], ['FFR', [4, 4, 3]], ['CRR', [1, 0, 5]],
      ['RRF', [6, 6, 0]], ['RFF', [1, 2, 2]], ['FRF', [2, 1, 2]], ['CFF', [1, 2, 2]], ['CCF', [5, 5, 0]], ['FFF', [7, 7, 6]],
    ];
    for (const [k, v] of cases) expect(play(env, [g(k[0]), g(k[1]), s(k[2])]), k).toEqual(v);
  });

  it('cooperative optima: PD (C, C), Maintain A-X, Escape (2, 2), meet-covid (F, F, F)', () => {
    expect(cooperativeOptima(parseMatrixGameConfig({ game: 'prisoners-dilemma' }).def)).toEqual([0]);
    expect(cooperativeOptima(parseMatrixGameConfig({ game: 'maintain' }).def)).toEqual([0]);
    expect(cooperativeOptima(parseMatrixGameConfig({ game: 'escape' }).def)).toEqual([8]);
    expect(cooperativeOptima(parseMatrixGameConfig({ game: 'meet-covid' }).def)).toEqual([17]);
  });

  it('custom games: per-player payoffs or one common payoff per joint action', () => {
    const env = matrixGameEntry.create({ game: 'custom', actionsPerPlayer: [2, 3], payoffs: [0, 1, 2, 3, 4, 5] }, { numEnvs: 1 });
    expect(play(env, [1, 2])).toEqual([5, 5]);
    expect(play(env, [0, 1])).toEqual([1, 1]);
    const env2 = matrixGameEntry.create({ game: 'custom', actionsPerPlayer: [2, 2], payoffs: [1, 2, 3, 4, 5, 6, 7, 8] }, { numEnvs: 1 });
    expect(play(env2, [1, 0])).toEqual([5, 6]);
  });
});

describe('protocol', () => {
  it('constant observation [1]; previous joint action one-hot, index 0 at the first step', () => {
    const c = matrixGameEntry.create({}, { numEnvs: 2 });
    expect(Array.from(c.obs)).toEqual([1, 1, 1, 1]);
    const env = matrixGameEntry.create({ game: 'maintain', observation: 'previous-joint-action', episodeLimit: 3 }, { numEnvs: 1 });
    expect(env.spec.obsSize).toBe(10);
    const hot = () => [0, 1].map((i) => Array.from(env.obs.subarray(i * 10, i * 10 + 10)).indexOf(1));
    expect(hot()).toEqual([0, 0]);
    play(env, [1, 2]); // joint 5
    expect(hot()).toEqual([6, 6]);
    expect(Array.from(env.state).indexOf(1)).toBe(6);
    play(env, [0, 0]);
    expect(hot()).toEqual([1, 1]);
    play(env, [2, 2]); // ends: auto-reset shows the first-step index again, finalObs the last joint action
    expect(hot()).toEqual([0, 0]);
    expect(Array.from(env.finalObs.subarray(0, 10)).indexOf(1)).toBe(9);
  });

  it('a repeated game is truncated at the limit; terminal = true makes the last step a termination', () => {
    const rep = matrixGameEntry.create({ episodeLimit: 2 }, { numEnvs: 1 });
    play(rep, [0, 0]);
    expect([rep.dones[0], rep.truncated[0]]).toEqual([0, 0]);
    play(rep, [0, 0]);
    expect([rep.dones[0], rep.truncated[0]]).toEqual([1, 1]);
    const shot = matrixGameEntry.create({ episodeLimit: 1, terminal: true }, { numEnvs: 1 });
    play(shot, [1, 1]);
    expect([shot.dones[0], shot.truncated[0]]).toEqual([1, 0]);
  });

  it('episode metrics: action frequencies, returns, reward per step, optimum rate', () => {
    const env = matrixGameEntry.create({ episodeLimit: 4 }, { numEnvs: 1 });
    for (const j of [[0, 0], [0, 1], [1, 1], [0, 0]]) play(env, j);
    const [ep] = env.drainEpisodes();
    expect(ep.metrics).toEqual({
      action_freq_0_0: 0.75,
      action_freq_0_1: 0.25,
      action_freq_1_0: 0.5,
      action_freq_1_1: 0.5,
      return_0: 10 + 0 + 2 + 10,
      return_1: 10 + 18 + 2 + 10,
      return_total: 62,
      reward_per_step: 15.5,
      optimum_rate: 0.5,
      episode_length: 4,
    });
    const titles = Object.fromEntries(env.spec.metrics.map((m) => [m.key, m.title]));
    expect(titles.action_freq_1_1).toBe('P(Blue plays D)');
  });

  it('records the joint actions in replays', () => {
    const env = matrixGameEntry.create({ game: 'maintain', episodeLimit: 2 }, { numEnvs: 1 });
    env.setRecording(0, true);
    play(env, [1, 0]);
    play(env, [2, 2]);
    const [ep] = env.drainEpisodes();
    expect(ep.replay?.columns.joint).toEqual([3, 8]);
    expect(ep.replay?.columns.action).toEqual([1, 0, 2, 2]);
    expect(ep.replay?.columns.reward).toEqual([30, 0, 5, 10]);
    expect(ep.replay?.meta.optimum).toEqual([0]);
  });
});

describe('config errors name the field and what is allowed', () => {
  it.each([
    [{ game: 'custom', actionsPerPlayer: [2, 2], payoffs: [1, 2, 3] }, /env\.payoffs.*8 values.*or 4/],
    [{ game: 'maintain', payoffs: [1, 2, 3, 4] }, /env\.payoffs.*custom/],
    [{ game: 'custom', actionsPerPlayer: [2, 1.5], payoffs: [1] }, /env\.actionsPerPlayer/],
    [{ game: 'chicken' }, /env\.game/],
    [{ observation: 'history' }, /env\.observation/],
  ])('%j', (config, msg) => {
    expect(() => matrixGameEntry.spec(config)).toThrow(ConfigError);
    expect(() => matrixGameEntry.spec(config)).toThrow(msg);
  });
});
