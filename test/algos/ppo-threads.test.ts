/**
 * `updateThreads: 2` (the critic's steps on a helper thread, src-main/runner/ppo-critic-thread.ts)
 * and 'auto' (the host's hint, which may change between rounds) give the same bits as one thread: episodes, every statistic, and the parameters and Adam
 * state of both networks after several rounds; a helper that dies fails the round with a clear
 * error; the thread ends with the trainer.
 */
import { getPreset } from '../../src-shared/config/presets';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ippoEntry } from '../../src-shared/algos/ippo';
import { mappoEntry } from '../../src-shared/algos/mappo';
import { ppoCriticThreadFactory, setPpoCriticThreadFactory, type PpoCriticThreadFactory } from '../../src-shared/algos/ppo-critic-step';
import { setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';
import type { AlgoEntry } from '../../src-shared/algos/types';
import { PpoCriticThreadHost } from '../../src-main/runner/ppo-critic-thread';
import { ppoThreadOptions } from '../../src-shared/algos/ppo-trainer';
import { build, runTrace, setupTf } from './helpers';

const ENV = { episodeLimit: 20, obsLastAction: true, obsDoorFlag: true, obsKeyFlag: true };
/** The released code's MAPPO values: the manitokan-mappo-released-code preset's algo part. */
const { id: _mappoId, ...MAPPO_RELEASED } = getPreset('manitokan-mappo-released-code')!.config.algo!;

/** `hints[r]`: the host's 'auto' hint before round r (a host that changes its mind between rounds). */
function trace(entry: AlgoEntry, algo: Record<string, unknown>, rounds: number, hints?: (1 | 2)[]): Promise<string> {
  return runTrace(entry, { numEnvs: 3, env: ENV, algo, seed: 7 }, rounds, hints && ((r) => setPpoAutoThreads(hints[r])));
}

describe('PPO update on two threads', () => {
  let saved: PpoCriticThreadFactory | null = null;
  beforeAll(async () => {
    await setupTf();
    saved = ppoCriticThreadFactory();
  });
  const defaultHelperRollout = ppoThreadOptions.helperRollout;
  afterEach(() => {
    setPpoCriticThreadFactory(saved);
    setPpoAutoThreads(1);
    ppoThreadOptions.helperRollout = defaultHelperRollout;
  });

  const cases: [string, AlgoEntry, Record<string, unknown>][] = [
    ['mappo paper', mappoEntry, { epochs: 2 }],
    ['mappo released code (5 minibatches, valueNorm)', mappoEntry, { ...MAPPO_RELEASED, epochs: 2 }],
    ['ippo', ippoEntry, { epochs: 2, minibatches: 2 }],
  ];
  for (const [name, entry, algo] of cases) {
    it(`${name}: same episodes, stats, parameters and optimiser state as one thread (the helper with and without the critic's rollout)`, async () => {
      const one = await trace(entry, { ...algo, updateThreads: 1 }, 3);
      for (const helperRollout of [false, true]) {
        ppoThreadOptions.helperRollout = helperRollout;
        const two = await trace(entry, { ...algo, updateThreads: 2 }, 3);
        expect(two, `helperRollout ${helperRollout}`).toBe(one);
      }
    }, 240_000);
  }

  it("the helper's rollout values are the trainer's: a helper whose first value is one float off fails the comparison", async () => {
    // Guards the test above against passing because the helper's values were never used.
    ppoThreadOptions.helperRollout = true;
    const one = await trace(mappoEntry, { epochs: 1, updateThreads: 1 }, 1);
    setPpoCriticThreadFactory((spec) => {
      const h = saved!(spec);
      const done = h.rolloutDone.bind(h);
      h.rolloutDone = async () => {
        const r = await done();
        const v = new Float32Array(r.vals);
        v[0] = v[0] + Math.max(Math.abs(v[0]) * 2 ** -23, 2 ** -126); // the next float up
        return { vals: v, hCStore: r.hCStore };
      };
      return h;
    });
    expect(await trace(mappoEntry, { epochs: 1, updateThreads: 2 }, 1)).not.toBe(one);
  }, 120_000);

  it("auto follows the host's hint between rounds (helper on, off, on): same bits as one thread, a helper started per stretch", async () => {
    const hosts: PpoCriticThreadHost[] = [];
    setPpoCriticThreadFactory((spec) => {
      const h = saved!(spec) as PpoCriticThreadHost;
      hosts.push(h);
      return h;
    });
    const one = await trace(mappoEntry, { epochs: 2, updateThreads: 1 }, 3);
    expect(hosts).toHaveLength(0);
    const auto = await trace(mappoEntry, { epochs: 2, updateThreads: 'auto' }, 3, [2, 1, 2]);
    expect(auto).toBe(one);
    // Round 1 started a helper, round 2 closed it (it was closed before the second was made),
    // round 3 started another; dispose closed that one.
    expect(hosts).toHaveLength(2);
    const ended = await Promise.all(hosts.map((h) => h.memory().then(() => 'open', (e: Error) => e.message)));
    expect(ended).toEqual(['ppo critic thread: closed', 'ppo critic thread: closed']);
  }, 240_000);

  it('auto without a hint (tests, the bench) or without a host that starts threads runs on one thread', async () => {
    let made = 0;
    setPpoCriticThreadFactory((spec) => {
      made++;
      return saved!(spec);
    });
    const one = await trace(ippoEntry, { epochs: 1, updateThreads: 1 }, 1);
    expect(await trace(ippoEntry, { epochs: 1 }, 1)).toBe(one); // 'auto' is the default
    expect(made).toBe(0);
    setPpoCriticThreadFactory(null);
    expect(await trace(ippoEntry, { epochs: 1, updateThreads: 'auto' }, 1, [2])).toBe(one);
  }, 240_000);

  it('a helper that dies fails the round with an error naming it', async () => {
    let host: PpoCriticThreadHost | null = null;
    setPpoCriticThreadFactory((spec) => {
      host = saved!(spec) as PpoCriticThreadHost;
      // Ends the thread as soon as it is up: the update's first step cannot be served.
      host.thread.once('message', () => void host!.thread.terminate());
      return host;
    });
    const { trainer } = build(mappoEntry, { numEnvs: 2, env: ENV, algo: { epochs: 2, updateThreads: 2 }, seed: 1 });
    await expect(trainer.round()).rejects.toThrow(/ppo critic thread (failed|exited)/);
    trainer.dispose();
    expect(host).not.toBeNull();
  }, 120_000);

  it('without a host that starts threads, updateThreads 2 says so', async () => {
    setPpoCriticThreadFactory(null);
    const { trainer } = build(mappoEntry, { numEnvs: 2, env: ENV, algo: { epochs: 1, updateThreads: 2 }, seed: 1 });
    await expect(trainer.round()).rejects.toThrow(/updateThreads = 2 needs a host/);
    trainer.dispose();
  }, 60_000);
});
