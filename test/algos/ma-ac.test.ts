/**
 * MA-AC (algos/ma-ac.ts): the local counterfactual advantage against a hand computation and
 * against one critic call per alternative action; one Metropolis consensus step of the critics
 * on a hand-built path graph and on the complete graph, with the communication counters; the
 * exchange schedule's "never"; and a short training run on Rover-Tower that updates and stays
 * finite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '../../src-shared/config/schema';
import { counterfactualAdvantage, MaAcTrainer, maAcEntry } from '../../src-shared/algos/ma-ac';
import { CommGraph } from '../../src-shared/algos/consensus/graph';
import { spreadEntry } from '../../src-shared/envs/spread';
import { matrixGameEntry } from '../../src-shared/envs/matrix-game';
import { roverTowerEntry } from '../../src-shared/envs/rover-tower';
import { DenseNet } from '../../src-shared/nn/dense-net';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

function trainer(algo: Record<string, unknown>, n = 3): MaAcTrainer {
  const envConfig = resolve('env', spreadEntry.schema, { numAgents: n, episodeLimit: 5 });
  const env = spreadEntry.create(envConfig, { numEnvs: 2, autoReset: false });
  return maAcEntry.createTrainer({ tf, env, envConfig, config: resolve('algo', maAcEntry.schema, { hiddenDim: 4, ...algo }), seed: 3, rng: new Rng(3, 1) }) as MaAcTrainer;
}

describe('MA-AC', () => {
  beforeAll(setupTf);

  it('counterfactual advantage: a linear critic gives w_taken - sum_b pi(b) w_b, and each column is one critic call', () => {
    // Two agents: obs sizes 1 and 2, action sizes 3 and 2. Critic Q = x . w + 0.5 (no hidden layer).
    const params = new ParamSet(tf);
    const critic = new DenseNet(tf, params, 'q', [1 + 2 + 3 + 2, 1], new Rng(1));
    const w = [0.3, -0.2, 0.1, /* agent 0's actions */ 1, 2, 4, /* agent 1's */ -1, 5];
    params.get('q/0/weight').assign(tf.tensor2d(w, [8, 1]));
    params.get('q/0/bias').assign(tf.tensor1d([0.5]));
    const obs = [tf.tensor2d([[1], [2]]), tf.tensor2d([[0, 1], [3, -1]])];
    const act = [tf.tensor2d([[0, 1, 0], [0, 0, 1]]), tf.tensor2d([[1, 0], [0, 1]])];
    const probs = tf.tensor2d([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]);
    const { qAll, adv } = counterfactualAdvantage(tf, critic, obs, act, 0, probs);
    // Row 0 takes action 1: A = 2 - (0.2 * 1 + 0.3 * 2 + 0.5 * 4) = -0.8; row 1 takes 2: 4 - (0.6 + 0.4 + 0.8) = 2.2.
    const a = Array.from(adv.dataSync());
    expect(a[0]).toBeCloseTo(-0.8, 5);
    expect(a[1]).toBeCloseTo(2.2, 5);
    // qAll[k, b] equals the critic on (o_k, (b, a^1_k)).
    const q = qAll.arraySync() as number[][];
    for (let k = 0; k < 2; k++) {
      for (let b = 0; b < 3; b++) {
        const x = [...(obs[0].arraySync() as number[][])[k], ...(obs[1].arraySync() as number[][])[k], ...[0, 1, 2].map((c) => (c === b ? 1 : 0)), ...(act[1].arraySync() as number[][])[k]];
        const direct = x.reduce((s, v, i) => s + v * w[i], 0.5);
        expect(q[k][b]).toBeCloseTo(direct, 5);
      }
    }
    // Agent 1's advantage uses its own column block and leaves agent 0's action as taken.
    const p1 = tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]);
    const r1 = counterfactualAdvantage(tf, critic, obs, act, 1, p1);
    const a1 = Array.from(r1.adv.dataSync());
    expect(a1[0]).toBeCloseTo(-1 - 0.5 * (-1 + 5), 5);
    expect(a1[1]).toBeCloseTo(5 - 0.5 * (-1 + 5), 5);
    for (const t of [qAll, adv, probs, p1, r1.qAll, r1.adv, ...obs, ...act]) t.dispose();
    params.dispose();
  });

  it('counterfactual advantage through a hidden layer matches one critic call per alternative action', () => {
    const params = new ParamSet(tf);
    const critic = new DenseNet(tf, params, 'q', [3 + 4, 5, 1], new Rng(2));
    const rng = new Rng(4);
    const K = 4;
    const obs = [tf.tensor2d(Array.from({ length: K * 3 }, () => rng.normal()), [K, 3])];
    const taken = [2, 0, 3, 1];
    const act = [tf.cast(tf.oneHot(tf.tensor1d(taken, 'int32'), 4), 'float32')];
    const probs = tf.softmax(tf.tensor2d(Array.from({ length: K * 4 }, () => rng.normal()), [K, 4]));
    const { qAll, adv } = counterfactualAdvantage(tf, critic, obs, act, 0, probs);
    const q = qAll.arraySync() as number[][];
    const p = probs.arraySync() as number[][];
    for (let b = 0; b < 4; b++) {
      const one = tf.cast(tf.oneHot(tf.fill([K], b, 'int32') as never, 4), 'float32');
      const direct = critic.forward(tf.concat([obs[0], one], 1));
      const d = direct.dataSync();
      for (let k = 0; k < K; k++) expect(q[k][b]).toBeCloseTo(d[k], 5);
      one.dispose();
      direct.dispose();
    }
    const a = adv.dataSync();
    for (let k = 0; k < K; k++) expect(a[k]).toBeCloseTo(q[k][taken[k]] - p[k].reduce((s, x, b) => s + x * q[k][b], 0), 5);
    for (const t of [qAll, adv, probs, ...obs, ...act]) t.dispose();
    params.dispose();
  });

  it('one Metropolis consensus step on the path 0 - 1 - 2: [0, 3, 6] -> [1, 3, 5] in every critic parameter', () => {
    const t = trainer({});
    const P = t.P;
    const copies = t.readCopies();
    for (let i = 0; i < 3; i++) copies.fill(3 * i, i * P, (i + 1) * P);
    // Path graph: deg = 1, 2, 1; c(0,1) = c(1,0) = c(1,2) = c(2,1) = 1/3; c(0,0) = c(2,2) = 2/3, c(1,1) = 1/3.
    const g = new CommGraph(3, { topology: 'none', edgeFraction: 0, directed: false }, new Rng(1));
    g.adj.set([0, 1, 0, 1, 0, 1, 0, 1, 0]);
    const before = t.consensus.messages;
    expect(t.consensus.step(copies, g, new Uint8Array([1, 1, 1]))).toBe(3);
    t.writeCopies();
    for (let i = 0; i < 3; i++) {
      for (const name of t.criticParams(i).names()) {
        const v = Array.from(t.criticParams(i).get(name).dataSync());
        for (const x of v) expect(x).toBeCloseTo([1, 3, 5][i], 5);
      }
    }
    // Messages: agent 0 and 2 hear one neighbour, agent 1 two; each carries P parameters.
    expect(t.consensus.messages - before).toBe(4);
    t.dispose();
  });

  it('the complete graph every update averages all critics to their mean and counts n (n - 1) messages of P scalars', async () => {
    const t = trainer({});
    const P = t.P;
    const copies = t.readCopies();
    for (let i = 0; i < 3; i++) copies.fill(3 * i, i * P, (i + 1) * P);
    t.writeCopies();
    expect(t.consensusStep()).toBe(3);
    const after = t.readCopies();
    for (let k = 0; k < after.length; k++) expect(after[k]).toBeCloseTo(3, 5);
    expect(t.consensus.messages).toBe(6);
    expect(t.consensus.scalars).toBe(6 * P);
    t.dispose();
  });

  it('exchangeMean 0 (never) leaves the critics apart; the round reports the communication counters', async () => {
    const t = trainer({ exchangeMean: 0, batchSize: 4, updateEvery: 2 });
    const c0 = Float32Array.from(t.readCopies());
    expect(t.consensusStep()).toBe(0);
    expect(Array.from(t.readCopies())).toEqual(Array.from(c0));
    const r = await t.round();
    expect(r.stats['comm/consensus_messages']).toBe(0);
    // 10 env steps (2 copies x 5), 3 agents: 6 action messages per step, each a one-hot of 5.
    expect(r.envSteps).toBe(10);
    expect(r.stats['comm/action_messages']).toBe(60);
    expect(r.stats['comm/action_scalars']).toBe(10 * 2 * 15);
    expect(r.stats['charts/updates']).toBeGreaterThan(0);
    t.dispose();
  });

  it('the recent-window and average-reward options train: mu follows the mean reward, stats stay finite', async () => {
    const t = trainer({ data: 'recent', objective: 'average-reward', muLr: 0.5, batchSize: 6, updateEvery: 2, targetCritic: false });
    const r = await t.round();
    expect(r.stats['charts/updates']).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(r.stats)) expect(Number.isFinite(v), k).toBe(true);
    // Spread's OpenAI reward is shared and negative: every agent's running mean is below 0.
    for (let j = 0; j < 3; j++) expect(r.stats[`charts/mu_${j}`]).toBeLessThan(0);
    t.dispose();
  });

  it('learns the dominant joint action of a one-shot common-payoff game (each agent on its own reward copy)', async () => {
    // Each player's action 2 adds 0.5 to the common payoff (a coordination game with a (1, 1)
    // trap converged to the trap in a trial run: independent actors can settle there).
    const pay = [0, 0, 0.5, 0, 0, 0.5, 0.5, 0.5, 1];
    const envConfig = resolve('env', matrixGameEntry.schema, { game: 'custom', actionsPerPlayer: [3, 3], payoffs: pay, episodeLimit: 1 });
    const env = matrixGameEntry.create(envConfig, { numEnvs: 16, autoReset: false });
    const t = maAcEntry.createTrainer({
      tf,
      env,
      envConfig,
      config: resolve('algo', maAcEntry.schema, { hiddenDim: 16, batchSize: 64, updateEvery: 4, lrActor: 1e-2, lrCritic: 1e-2, gamma: 0 }),
      seed: 2,
      rng: new Rng(2, 1),
    }) as MaAcTrainer;
    let late = 0;
    for (let k = 0; k < 60; k++) {
      const r = await t.round();
      if (k >= 50) late += r.episodes.reduce((s, e) => s + Number(e.metrics.return_total ?? 0), 0) / r.episodes.length / 10;
    }
    // Both agents receive the payoff: a return_total of 2 per episode is (2, 2) every time.
    expect(late).toBeGreaterThan(1.6);
    t.dispose();
  });

  it('refuses an exchange interval between 0 and 1, naming the field', () => {
    expect(() => trainer({ exchangeMean: 0.5 })).toThrow(/algo\.exchangeMean/);
  });

  it('trains on Rover-Tower: updates run, losses and counters stay finite, the critics end close together', async () => {
    const envConfig = resolve('env', roverTowerEntry.schema, {});
    const env = roverTowerEntry.create(envConfig, { numEnvs: 4, autoReset: false });
    const t = maAcEntry.createTrainer({ tf, env, envConfig, config: resolve('algo', maAcEntry.schema, { hiddenDim: 16, batchSize: 64, updateEvery: 25 }), seed: 1, rng: new Rng(1, 1) }) as MaAcTrainer;
    let last: Record<string, number> = {};
    for (let k = 0; k < 3; k++) last = (await t.round()).stats;
    expect(last['charts/updates']).toBeGreaterThan(3);
    for (const [k, v] of Object.entries(last)) expect(Number.isFinite(v), k).toBe(true);
    expect(last['comm/consensus_messages']).toBe(last['comm/consensus_events'] * 7);
    // Complete graph after every update: the exchange closes the disagreement the update opened.
    expect(last['consensus/residual_before']).toBeGreaterThan(0);
    expect(last['consensus/residual']).toBeLessThan(1e-6 * Math.max(1, last['consensus/residual_before']));
    t.dispose();
  });
});
