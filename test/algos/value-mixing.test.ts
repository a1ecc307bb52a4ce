/**
 * The value-mixing learners' shared parts: team TD(lambda) targets over padded episodes, masked
 * greedy actions, epsilon-greedy over available actions, the learning-rate and epsilon
 * schedules, the presets, and one short seeded learning check (VDN on a one-shot common-payoff
 * matrix game).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lrAt } from '../../src-shared/algos/core/schedules';
import { epsilonAt } from '../../src-shared/algos/recurrent-actor';
import { epsilonGreedy } from '../../src-shared/algos/recurrent-q';
import { greedyActions, teamTargets } from '../../src-shared/algos/value-mixing-trainer';
import { vdnEntry } from '../../src-shared/algos/vdn';
import { getPreset } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { resolve } from '../../src-shared/config/schema';
import { matrixGameEntry } from '../../src-shared/envs/matrix-game';
import { Rng } from '../../src-shared/rng';
import { build, setupTf, tf } from './helpers';
import { discriminatorLoss, mavenEntry } from '../../src-shared/algos/maven';

describe('team TD(lambda) targets over padded episodes', () => {
  it('match a hand computation: terminated, truncated (bootstrapped) and padded episodes', () => {
    // N = 2 agents, B = 2 episodes, 4 slots (3 transitions + the bootstrap slot).
    // Episode 0: 3 steps, terminated at step 2; episode 1: 2 steps, cut by the time limit, so
    // its final observation is slot 2 and slot 3 is padding.
    const N = 2;
    const B = 2;
    const slots = 4;
    const rews = new Float32Array(3 * N * B); // [t][a][b]
    const set = (t: number, a: number, b: number, v: number) => (rews[(t * N + a) * B + b] = v);
    set(0, 0, 0, 0.5);
    set(2, 0, 0, 1);
    set(2, 1, 0, 0.5);
    set(0, 1, 1, 0.5);
    set(1, 0, 1, 0.25);
    set(2, 0, 1, 99); // padding: must not count
    const values = Float32Array.from([10, 20, 11, 21, 12, 22, 13, 23]); // [slot][b]
    const gamma = 0.9;
    const check = (lambda: number, want: number[][]) => {
      const { targets, masks } = teamTargets(rews, values, Int32Array.from([3, 2]), Uint8Array.from([0, 1]), slots, N, B, gamma, lambda);
      expect(Array.from(masks)).toEqual([1, 1, 1, 1, 1, 0]);
      for (let t = 0; t < 3; t++) for (let b = 0; b < B; b++) expect(targets[t * B + b], `t=${t} b=${b} lambda=${lambda}`).toBeCloseTo(want[t][b], 5);
    };
    // lambda = 1: Monte-Carlo team returns; episode 1 bootstraps from V(slot 2) = 22.
    check(1, [
      [0.5 + gamma * 0 + gamma ** 2 * 1.5, 0.5 + gamma * (0.25 + gamma * 22)],
      [gamma * 1.5, 0.25 + gamma * 22],
      [1.5, 0],
    ]);
    // lambda = 0: one-step targets r + gamma V(next), none after the termination.
    check(0, [
      [0.5 + gamma * 11, 0.5 + gamma * 21],
      [0 + gamma * 12, 0.25 + gamma * 22],
      [1.5, 0],
    ]);
  });

  it('greedy actions respect the masks, in the agent-major layout', () => {
    // N = 2, T = 1, B = 2, A = 3. Agent 1 copy 0 cannot take its best action 2.
    const q = Float32Array.from([0, 1, 2, 5, 1, 0, /* agent 1 */ 0, 1, 9, 3, 4, 1]);
    const avail = new Float32Array(2 * 2 * 3).fill(1); // [t][a][b][A]
    avail[(1 * 2 + 0) * 3 + 2] = 0;
    expect(Array.from(greedyActions(q, avail, 2, 1, 2, 3, new Int32Array(4)))).toEqual([2, 0, 1, 1]);
  });

  it('epsilon-greedy explores only among available actions', () => {
    const rng = new Rng(3);
    const mask = [0, 1, 0, 1, 0, 0];
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(epsilonGreedy([9, 0, 9, 1, 9, 9], 0, mask, 0, 6, true, rng));
    expect([...seen].sort()).toEqual([1, 3]);
    expect(epsilonGreedy([9, 0, 9, 1, 9, 9], 0, mask, 0, 6, false, rng)).toBe(3);
  });
});

describe('schedules', () => {
  it('learning rate: 1e-2 -> 1e-6 linear or exponential over the decay, then flat; constant stays', () => {
    const s = { lr: 1e-2, lrFinish: 1e-6, lrDecayUpdates: 100 };
    expect(lrAt({ ...s, lrSchedule: 'linear' }, 0)).toBe(1e-2);
    expect(lrAt({ ...s, lrSchedule: 'linear' }, 50)).toBeCloseTo((1e-2 + 1e-6) / 2, 12);
    expect(lrAt({ ...s, lrSchedule: 'linear' }, 100)).toBeCloseTo(1e-6, 15);
    expect(lrAt({ ...s, lrSchedule: 'linear' }, 1e6)).toBeCloseTo(1e-6, 15);
    expect(lrAt({ ...s, lrSchedule: 'exponential' }, 50)).toBeCloseTo(1e-4, 12);
    expect(lrAt({ ...s, lrSchedule: 'exponential' }, 200)).toBeCloseTo(1e-6, 15);
    expect(lrAt({ ...s, lrSchedule: 'constant' }, 77)).toBe(1e-2);
  });

  it('epsilon: 1 -> 0.05 linearly over the anneal steps, then flat (PyMARL DecayThenFlat)', () => {
    const e = { epsilonStart: 1, epsilonFinish: 0.05, epsilonAnnealSteps: 50_000 };
    expect(epsilonAt(e, 0)).toBe(1);
    expect(epsilonAt(e, 25_000)).toBeCloseTo(0.525, 12);
    expect(epsilonAt(e, 50_000)).toBeCloseTo(0.05, 12);
    expect(epsilonAt(e, 1e9)).toBeCloseTo(0.05, 12);
  });
});

describe('value-mixing presets', () => {
  it('paper presets take the tables; released-code twins switch every code value on together', () => {
    for (const id of ['vdn', 'qmix', 'qtran']) {
      for (const v of ['', '-doorkey', '-history']) {
        const paper = resolveExperiment(getPreset(`manitokan-${id}${v}`)!.config);
        expect(paper.algo).toMatchObject({ id, optimizer: 'adam', lr: 1e-2, lrFinish: 1e-6, lrSchedule: 'linear', epsilonStart: 1, epsilonFinish: 0.05, bufferSize: 1000, batchSize: 32, warmupEpisodes: 32, targetTau: 1, targetUpdateInterval: 1, tdLambda: 1, mixerState: 'joint-obs' });
        expect(paper.env).toMatchObject({ episodeLimit: 150 });
        const code = resolveExperiment(getPreset(`manitokan-${id}${v}-released-code`)!.config);
        expect(code.algo).toMatchObject({ id, optimizer: 'rmsprop', lr: 0.1, lrSchedule: 'constant', rnnHiddenDim: 128, activation: 'gelu', epsilonAnnealSteps: 3_000_000, epsilonScope: 'step', updatesPerRound: 5, targetUpdateInterval: 200, targetTau: 0.05 });
        expect(code.env).toMatchObject({ episodeLimit: 300, showOtherAgents: false });
      }
    }
    expect(resolveExperiment(getPreset('manitokan-qmix')!.config).algo).toMatchObject({ hypernetLayers: 2, rnnHiddenDim: 64 });
    expect(resolveExperiment(getPreset('manitokan-qmix-released-code')!.config).algo).toMatchObject({ hypernetLayers: 1 });
    expect(resolveExperiment(getPreset('manitokan-qtran')!.config).algo).toMatchObject({ optLoss: 1, noptMinLoss: 0.1, mixingEmbedDim: 32 });
    const maven = resolveExperiment(getPreset('manitokan-maven')!.config).algo;
    expect(maven).toMatchObject({ optimizer: 'rmsprop', lr: 5e-5, lrSchedule: 'constant', hypernetLayers: 1, valueHidden: 32, noiseDim: 2, miLoss: 1, latentPolicy: 'hierarchical', targetUpdateInterval: 1 });
    for (const v of ['', '-doorkey', '-history']) {
      const code = resolveExperiment(getPreset(`manitokan-maven${v}-released-code`)!.config);
      expect(code.algo).toMatchObject({ rnnHiddenDim: 128, lr: 5e-4, targetUpdateInterval: 100, doubleQ: true, observation: 'frozen-initial' });
      expect(code.env).toMatchObject({ episodeLimit: 300, showOtherAgents: false });
    }
    expect(resolveExperiment(getPreset('manitokan-vdn-randomized')!.config).algo).toMatchObject({ epsilonAnnealSteps: 1_500_000 });
  });
});

describe('stored episodes', () => {
  beforeAll(setupTf);

  it('end with a bootstrap slot holding the final observation and its action mask', async () => {
    // 6-step episodes: Manitokan cannot finish in 6 steps from most starts; both copies are cut.
    const { env, trainer } = build(vdnEntry, { numEnvs: 2, env: { episodeLimit: 6 }, algo: { hiddenDim: 8, rnnHiddenDim: 8 } });
    const r = await trainer.round();
    const ckpt = await trainer.save();
    trainer.dispose();
    const meta = ckpt.extra.buffer as { n: number[]; trunc: number[] };
    const spec = env.spec;
    const { obsSize: O, numActions: A, numAgents: N } = spec;
    const lengths = r.episodes.map((e) => e.metrics.episode_length as number);
    expect(meta.n).toEqual(lengths.map((l) => l + 1));
    const xs = ckpt.tensors['buffer/xs'].data;
    const avail = ckpt.tensors['buffer/avail'].data;
    let off = 0;
    for (let b = 0; b < 2; b++) {
      const last = (meta.n[b] - 1) * N; // first row of the bootstrap slot
      for (let a = 0; a < N; a++) {
        // The env ran without auto-reset: its rows are the final observation and mask now.
        expect(Array.from(xs.subarray(off + (last + a) * O, off + (last + a + 1) * O))).toEqual(Array.from(env.obs.subarray((b * N + a) * O, (b * N + a + 1) * O)));
        expect(Array.from(avail.subarray((off / O) * A + (last + a) * A, (off / O) * A + (last + a + 1) * A))).toEqual(Array.from(env.actionMask.subarray((b * N + a) * A, (b * N + a + 1) * A)));
      }
      off += meta.n[b] * N * O;
    }
  });
});

describe('MAVEN', () => {
  beforeAll(setupTf);

  it("the discriminator loss is the cross-entropy with each episode's latent over valid steps", () => {
    // Row 0: p(z) = (0.25, 0.75), z = 1; row 1: p = (0.5, 0.5), z = 0; row 2 masked out.
    const l = tf.tidy(() =>
      discriminatorLoss(tf, tf.tensor2d([0, Math.log(3), 1, 1, 5, -5], [3, 2]), tf.tensor2d([0, 1, 1, 0, 0, 1], [3, 2]), tf.tensor2d([1, 1, 0], [3, 1]), 2).dataSync()[0],
    );
    expect(l).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 5);
  });

  it('trains on Manitokan with every loss term finite, the MI loss near ln(noiseDim) at the start', async () => {
    const { trainer } = build(mavenEntry, { numEnvs: 4, env: { episodeLimit: 10 }, algo: { hiddenDim: 8, rnnHiddenDim: 8, bufferSize: 8, batchSize: 4, warmupEpisodes: 4 } });
    const stats = (await trainer.round()).stats;
    trainer.dispose();
    for (const k of ['losses/td', 'losses/mi', 'losses/latent_policy', 'losses/total']) expect(Number.isFinite(stats[k]), k).toBe(true);
    expect(stats['losses/mi']).toBeGreaterThan(0.3);
    expect(stats['losses/mi']).toBeLessThan(1.2);
  });
});

describe('VDN learns a one-shot common-payoff game', () => {
  beforeAll(setupTf);

  it('greedy joint action reaches the only rewarded cell (seeded, 40 rounds)', async () => {
    // Two players, 2 actions each, both rewarded 1 only at (1, 1): one-step episodes.
    const envConfig = resolve('env', matrixGameEntry.schema, { game: 'custom', actionsPerPlayer: [2, 2], payoffs: [0, 0, 0, 1], episodeLimit: 1, terminal: true });
    const env = matrixGameEntry.create(envConfig, { numEnvs: 16, autoReset: false });
    const config = resolve('algo', vdnEntry.schema, {
      hiddenDim: 8,
      rnnHiddenDim: 8,
      lr: 0.01,
      lrSchedule: 'constant',
      epsilonAnnealSteps: 20,
      bufferSize: 64,
      batchSize: 16,
      warmupEpisodes: 16,
    });
    const trainer = vdnEntry.createTrainer({ tf, env, envConfig, config, seed: 3, rng: new Rng(3, 7) });
    let last: Record<string, number> = {};
    for (let i = 0; i < 40; i++) last = (await trainer.round()).stats;
    expect(last['charts/epsilon']).toBeCloseTo(0.05, 6);
    const ckpt = await trainer.save();
    trainer.dispose();
    const evalEnv = matrixGameEntry.create(envConfig, { numEnvs: 4, autoReset: false });
    const policy = vdnEntry.createPolicy({ tf, spec: evalEnv.spec, numEnvs: 4, config, rng: new Rng(1), checkpoint: ckpt });
    evalEnv.reset(5);
    const actions = new Int32Array(8);
    policy.act(evalEnv, actions, true);
    policy.dispose();
    expect(Array.from(actions)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // Q_tot of the taken actions approaches the team reward of the greedy cell (2 = 1 + 1).
    expect(last['charts/q_tot_taken_mean']).toBeGreaterThan(0.5);
  });
});
