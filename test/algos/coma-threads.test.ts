/**
 * COMA with `updateThreads: 2` (the critic's update on a helper thread,
 * src-main/runner/coma-critic-thread.ts) and 'auto' (the host's hint, which may change between
 * rounds) gives the same bits as one thread: episodes, every statistic, and the checkpoint's
 * bytes (actor, critic, target, both optimisers' state, the buffer) after several rounds, in the
 * paper's configuration and in ones that take the other paths of the critic's update (taped
 * GELU critic, per-step updates, a target that is not the critic's copy, centralised inputs,
 * team reward, on-policy data, several updates per round, Adam). A helper that dies or fails
 * fails the round with an error naming it, also while the actor waits for its Q.
 */
import { getPreset } from '../../src-shared/config/presets';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { comaEntry } from '../../src-shared/algos/coma';
import { comaCriticThreadFactory, setComaCriticThreadFactory, type ComaCriticThreadFactory } from '../../src-shared/algos/coma-critic-step';
import { setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';
import { ComaCriticThreadHost } from '../../src-main/runner/coma-critic-thread';
import { build, runTrace, setupTf } from './helpers';

const ENV = { episodeLimit: 25, obsLastAction: true };
/** Every released-code value: what the `-released-code` presets switch on. */
const { id: _comaId, ...RELEASED } = getPreset('manitokan-coma-released-code')!.config.algo!;

/** `hints[r]`: the host's 'auto' hint before round r. */
function trace(algo: Record<string, unknown>, rounds: number, hints?: (1 | 2)[]): Promise<string> {
  const opts = { numEnvs: 3, env: ENV, algo: { batchSize: 4, bufferSize: 8, ...algo }, seed: 7 };
  return runTrace(comaEntry, opts, rounds, hints && ((r) => setPpoAutoThreads(hints[r])));
}

describe('COMA update on two threads', () => {
  let saved: ComaCriticThreadFactory | null = null;
  beforeAll(async () => {
    await setupTf();
    saved = comaCriticThreadFactory();
  });
  afterEach(() => {
    setComaCriticThreadFactory(saved);
    setPpoAutoThreads(1);
  });

  const cases: [string, Record<string, unknown>][] = [
    ['paper (tape-free critic, target in sync)', {}],
    ['released code (GELU: taped critic, per-step-reverse, target every 40 critic steps, frozen obs)', { ...RELEASED, targetUpdateCriticSteps: 40, bufferSize: 8, batchSize: 4, hiddenDim: 16, criticHiddenDim: 16 }],
    ['centralised with last actions, team reward, on-policy, two updates per round, Adam', { criticInput: 'centralised', criticLastActions: true, reward: 'team', bufferSize: 0, updatesPerRound: 2, optimizer: 'adam' }],
    ['target every 2 rounds (the critic forward does not serve the target), epsilon floor', { targetUpdate: 2, epsilonStart: 0.3, epsilonFinish: 0.05, epsilonAnnealSteps: 50 }],
  ];
  for (const [name, algo] of cases) {
    it(`${name}: same episodes, stats, parameters, optimiser state and buffer as one thread`, async () => {
      const one = await trace({ ...algo, updateThreads: 1 }, 3);
      const two = await trace({ ...algo, updateThreads: 2 }, 3);
      expect(two).toBe(one);
    }, 240_000);
  }

  it("a helper that has no Q yet when the actor needs it: the trainer's own forward (batch, tape-free) or a wait (per-step, taped), same bits", async () => {
    let asked = 0;
    for (const algo of [{}, { criticUpdate: 'per-step-reverse', activation: 'gelu' }]) {
      setComaCriticThreadFactory(saved);
      const one = await trace({ ...algo, updateThreads: 1 }, 3);
      setComaCriticThreadFactory((spec) => {
        const h = saved!(spec);
        return { update: (state, job) => ({ ...h.update(state, job), tryQ: () => (asked++, null) }), close: () => h.close() };
      });
      const before = asked;
      expect(await trace({ ...algo, updateThreads: 2 }, 3)).toBe(one);
      expect(asked - before, JSON.stringify(algo)).toBe(3);
    }
  }, 240_000);

  it("auto follows the host's hint between rounds (helper on, off, on): same bits as one thread, a helper per stretch", async () => {
    const hosts: ComaCriticThreadHost[] = [];
    setComaCriticThreadFactory((spec) => {
      const h = saved!(spec) as ComaCriticThreadHost;
      hosts.push(h);
      return h;
    });
    const one = await trace({ updateThreads: 1 }, 3);
    expect(hosts).toHaveLength(0);
    const auto = await trace({ updateThreads: 'auto' }, 3, [2, 1, 2]);
    expect(auto).toBe(one);
    expect(hosts).toHaveLength(2);
    const ended = await Promise.all(hosts.map((h) => h.memory().then(() => 'open', (e: Error) => e.message)));
    expect(ended).toEqual(['coma critic thread: closed', 'coma critic thread: closed']);
    // 'auto' without a hint (tests, the bench: the hint's initial 1) is one thread.
    setPpoAutoThreads(1);
    expect(await trace({}, 1)).toBe(await trace({ updateThreads: 1 }, 1));
    expect(hosts).toHaveLength(2);
  }, 240_000);

  it('a helper that dies fails the round with an error naming it', async () => {
    let host: ComaCriticThreadHost | null = null;
    setComaCriticThreadFactory((spec) => {
      host = saved!(spec) as ComaCriticThreadHost;
      return host;
    });
    const { trainer } = build(comaEntry, { numEnvs: 2, env: ENV, algo: { updateThreads: 2 }, seed: 1 });
    try {
      await trainer.round();
      const exited = new Promise((done) => host!.thread.once('exit', done));
      void host!.thread.terminate();
      await exited;
      await expect(trainer.round()).rejects.toThrow(/coma critic thread exited/);
    } finally {
      trainer.dispose();
    }
  }, 120_000);

  it('a helper that fails in its update fails the round with its message, not a hang (also while the actor waits for its Q)', async () => {
    setComaCriticThreadFactory((spec) => {
      const h = saved!(spec);
      return {
        // A state whose critic has the wrong shapes: the helper's load throws before any Q.
        update: (state, job) => h.update({ ...state, critic: { 'critic/0/weight': { shape: [1], data: new Float32Array(1) } } }, job),
        close: () => h.close(),
      };
    });
    // Batch: the trainer computes Q itself and fails at the end of the update; per-step: it
    // waits for the helper's Q and fails there.
    for (const algo of [{}, { criticUpdate: 'per-step-reverse' }]) {
      const { trainer } = build(comaEntry, { numEnvs: 2, env: ENV, algo: { ...algo, updateThreads: 2 }, seed: 1 });
      try {
        await expect(trainer.round()).rejects.toThrow(/coma critic thread failed: (Error: )?params: checkpoint tensor "critic\/0\/weight" has shape \[1\]/);
      } finally {
        trainer.dispose();
      }
    }
  }, 120_000);

  it('without a host that starts threads, updateThreads 2 says so and auto runs on one thread', async () => {
    setComaCriticThreadFactory(null);
    const { trainer } = build(comaEntry, { numEnvs: 2, env: ENV, algo: { updateThreads: 2 }, seed: 1 });
    await expect(trainer.round()).rejects.toThrow(/coma: algo.updateThreads = 2 needs a host/);
    trainer.dispose();
    expect(await trace({ updateThreads: 'auto' }, 1, [2])).toBe(await trace({ updateThreads: 1 }, 1));
  }, 120_000);
});
