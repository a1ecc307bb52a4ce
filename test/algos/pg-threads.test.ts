/**
 * PG with `updateThreads: 2` (the critics' step on a helper thread,
 * src-main/runner/pg-critic-thread.ts) and 'auto' (the host's hint, which may change between
 * rounds) gives the same bits as one thread: episodes, every statistic, and the checkpoint's
 * bytes (actor, critics, target, both optimisers' state, counters) after several rounds, in the
 * paper's configuration and in ones that take the other paths of the critics' update (taped GELU
 * critics, per-step updates, a target copied by critic steps, lambda < 1, per-agent actors,
 * max-entropy bonus, reward injection). A correction term keeps one thread. A helper that dies
 * or fails fails the round with an error naming it, also while the actor's loss waits for V.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pgEntry } from '../../src-shared/algos/pg';
import { pgCriticThreadFactory, setPgCriticThreadFactory, type PgCriticThreadFactory } from '../../src-shared/algos/pg-critic-step';
import { setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';
import { kernelPaths } from '../../src-shared/algos/recurrent-actor';
import { getPreset } from '../../src-shared/config/presets';
import { PgCriticThreadHost } from '../../src-main/runner/pg-critic-thread';
import { build, runTrace, setupTf } from './helpers';

const ENV = { episodeLimit: 25, obsLastAction: true };
/** Every released-code value: what the `-released-code` presets switch on. */
const { id: _pgId, ...RELEASED } = getPreset('manitokan-pg-history-released-code')!.config.algo!;

/** `hints[r]`: the host's 'auto' hint before round r. */
function trace(algo: Record<string, unknown>, rounds: number, hints?: (1 | 2)[]): Promise<string> {
  return runTrace(pgEntry, { numEnvs: 3, env: ENV, algo, seed: 7 }, rounds, hints && ((r) => setPpoAutoThreads(hints[r])));
}

/** Records every helper the trainer starts (the host's own factory underneath). */
function counting(saved: PgCriticThreadFactory): PgCriticThreadHost[] {
  const hosts: PgCriticThreadHost[] = [];
  setPgCriticThreadFactory((spec) => {
    const h = saved(spec) as PgCriticThreadHost;
    hosts.push(h);
    return h;
  });
  return hosts;
}

describe('PG update on two threads', () => {
  let saved: PgCriticThreadFactory | null = null;
  beforeAll(async () => {
    await setupTf();
    saved = pgCriticThreadFactory();
  });
  afterEach(() => {
    setPgCriticThreadFactory(saved);
    setPpoAutoThreads(1);
    kernelPaths.critics = true;
  });

  const cases: [string, Record<string, unknown>, boolean?][] = [
    ['paper (batch step, critics in the wasm kernel)', {}],
    ['released code (GELU: taped critics, per-step-reverse, target every 40 critic steps, frozen obs, epsilon floor)', { ...RELEASED, targetUpdateCriticSteps: 40 }],
    ['lambda 0.8, per-agent actors, target every 2 rounds, max-entropy bonus, reward injection', { tdLambda: 0.8, actorSharing: 'per-agent', targetUpdate: 2, maxEntropy: true, entropyCoef: 0.01, rewardInjection: true }],
    ['critics on the tfjs layers (kernelPaths.critics off), critic clip 0', { criticGradClip: 0 }, false],
  ];
  for (const [name, algo, kernel] of cases) {
    it(`${name}: same episodes, stats, parameters and optimiser state as one thread, on a helper`, async () => {
      kernelPaths.critics = kernel ?? true;
      const one = await trace({ ...algo, updateThreads: 1 }, 3);
      const hosts = counting(saved!);
      const two = await trace({ ...algo, updateThreads: 2 }, 3);
      expect(two).toBe(one);
      expect(hosts).toHaveLength(1);
    }, 240_000);
  }

  it('a correction term keeps one thread, even at updateThreads 2', async () => {
    const algo = { correction: 'self', hiddenDim: 16, criticHiddenDim: 16 };
    const one = await trace({ ...algo, updateThreads: 1 }, 2);
    const hosts = counting(saved!);
    expect(await trace({ ...algo, updateThreads: 2 }, 2)).toBe(one);
    expect(hosts).toHaveLength(0);
  }, 240_000);

  it("auto follows the host's hint between rounds (helper on, off, on): same bits as one thread, a helper per stretch", async () => {
    const hosts = counting(saved!);
    const one = await trace({ updateThreads: 1 }, 3);
    expect(hosts).toHaveLength(0);
    const auto = await trace({ updateThreads: 'auto' }, 3, [2, 1, 2]);
    expect(auto).toBe(one);
    expect(hosts).toHaveLength(2);
    const ended = await Promise.all(hosts.map((h) => h.memory().then(() => 'open', (e: Error) => e.message)));
    expect(ended).toEqual(['pg critic thread: closed', 'pg critic thread: closed']);
    // 'auto' without a hint (tests, the bench: the hint's initial 1) is one thread.
    setPpoAutoThreads(1);
    expect(await trace({}, 1)).toBe(await trace({ updateThreads: 1 }, 1));
    expect(hosts).toHaveLength(2);
  }, 240_000);

  it('a helper that dies fails the round with an error naming it', async () => {
    const hosts = counting(saved!);
    const { trainer } = build(pgEntry, { numEnvs: 2, env: ENV, algo: { updateThreads: 2 }, seed: 1 });
    try {
      await trainer.round();
      const exited = new Promise((done) => hosts[0].thread.once('exit', done));
      void hosts[0].thread.terminate();
      await exited;
      await expect(trainer.round()).rejects.toThrow(/pg critic thread exited/);
    } finally {
      trainer.dispose();
    }
  }, 120_000);

  it('a helper that fails in its update fails the round with its message while the actor waits for V, not a hang', async () => {
    setPgCriticThreadFactory((spec) => {
      const h = saved!(spec);
      return {
        // A state whose critic has the wrong shapes: the helper's load throws before any V.
        update: (state, job) => h.update({ ...state, critic: { ...state.critic, 'critic/0/0/weight': { shape: [1], data: new Float32Array(1) } } }, job),
        close: () => h.close(),
      };
    });
    for (const algo of [{}, { criticUpdate: 'per-step-reverse' }]) {
      const { trainer } = build(pgEntry, { numEnvs: 2, env: ENV, algo: { ...algo, updateThreads: 2 }, seed: 1 });
      try {
        await expect(trainer.round()).rejects.toThrow(/pg critic thread failed: (Error: )?params: checkpoint tensor "critic\/0\/0\/weight" has shape \[1\]/);
      } finally {
        trainer.dispose();
      }
    }
  }, 120_000);

  it('without a host that starts threads, updateThreads 2 says so and auto runs on one thread', async () => {
    setPgCriticThreadFactory(null);
    const { trainer } = build(pgEntry, { numEnvs: 2, env: ENV, algo: { updateThreads: 2 }, seed: 1 });
    await expect(trainer.round()).rejects.toThrow(/pg: algo.updateThreads = 2 needs a host/);
    trainer.dispose();
    expect(await trace({ updateThreads: 'auto' }, 1, [2])).toBe(await trace({ updateThreads: 1 }, 1));
  }, 120_000);
});
