/**
 * MADDPG's `sharedCritic` (algos/maddpg-trainer.ts, F2A2 appendix H.3 / Table 8): one critic
 * Q(o, a, onehot(i)) for every agent, stepped once per update on the sum of the agents' TD
 * losses; the option is MADDPG's only, refused with local critics, and survives a checkpoint.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { ddpgEntry } from '../../src-shared/algos/ddpg';
import { maddpgEntry } from '../../src-shared/algos/maddpg';
import { alitaEntry } from '../../src-shared/algos/alita';
import { f2a2Entry } from '../../src-shared/algos/f2a2';
import { getPreset } from '../../src-shared/config/presets';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

const TINY = { hiddenDim: 16, batchSize: 16, updateEvery: 8, warmup: 16 };

function make(algoCfg: Values, seed = 1) {
  const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: 8 });
  const env = spreadEntry.create(envConfig, { numEnvs: 4, autoReset: false });
  return maddpgEntry.createTrainer({ tf, env, envConfig, config: resolve('algo', maddpgEntry.schema, algoCfg), seed, rng: new Rng(seed, 7) });
}

describe('MADDPG sharedCritic', () => {
  beforeAll(setupTf);

  it('holds one critic with the agent id in its input, and steps it once per update', async () => {
    const t = make({ ...TINY, sharedCritic: true });
    const ck0 = await t.save();
    // 3 agents: every observation (18) and action (5), plus onehot(i).
    expect(ck0.tensors['critic/0/net/0/weight'].shape).toEqual([3 * 18 + 3 * 5 + 3, 16]);
    expect(ck0.tensors['criticTarget/0/net/0/weight'].shape).toEqual([3 * 18 + 3 * 5 + 3, 16]);
    for (const k of Object.keys(ck0.tensors)) expect(k).not.toMatch(/^(critic|criticTarget)\/[12]\/|^optim\/critic[12]\//);
    expect(Object.keys(ck0.tensors).filter((k) => /^actor\/\d\/net\/0\/weight$/.test(k))).toHaveLength(3);
    const r = await t.round(); // 32 transitions: updates at 16, 24, 32
    expect(r.stats['charts/updates']).toBe(3);
    expect(Number.isFinite(r.stats['losses/critic'])).toBe(true);
    for (let j = 0; j < 3; j++) expect(Number.isFinite(r.stats[`losses/actor_${j}`])).toBe(true);
    const ck = await t.save();
    // Adam's step count: one critic step per update (not one per agent), one per actor per update.
    expect((ck.extra.optimCritic0 as { step: number }).step).toBe(3);
    for (let j = 0; j < 3; j++) expect((ck.extra[`optimActor${j}`] as { step: number }).step).toBe(3);
    // The critic moved and its target followed it (soft update), once per update.
    const w0 = ck0.tensors['critic/0/net/0/weight'].data;
    const w1 = ck.tensors['critic/0/net/0/weight'].data;
    expect(w1.some((v, k) => v !== w0[k])).toBe(true);
    t.dispose();
  });

  it('per-agent critics stay the default and draw the same weights as before the option', async () => {
    const a = make({ ...TINY });
    const b = make({ ...TINY, sharedCritic: false });
    const [ca, cb] = [await a.save(), await b.save()];
    expect(ca.tensors['critic/2/net/0/weight'].shape).toEqual([3 * 18 + 3 * 5, 16]);
    expect(Array.from(ca.tensors['critic/2/net/0/weight'].data)).toEqual(Array.from(cb.tensors['critic/2/net/0/weight'].data));
    // With a shared critic, agent 0's actor is drawn first as before: same weights.
    const s = make({ ...TINY, sharedCritic: true });
    const cs = await s.save();
    expect(Array.from(cs.tensors['actor/0/net/0/weight'].data)).toEqual(Array.from(ca.tensors['actor/0/net/0/weight'].data));
    expect(Array.from(cs.tensors['critic/0/net/0/weight'].data)).not.toEqual(Array.from(ca.tensors['critic/0/net/0/weight'].data)); // wider input
    for (const t of [a, b, s]) t.dispose();
  });

  it('a checkpoint round trip resumes the shared critic exactly', async () => {
    const a = make({ ...TINY, sharedCritic: true }, 3);
    await a.round();
    const ck = await a.save();
    const b = make({ ...TINY, sharedCritic: true }, 99);
    b.load(ck);
    const [ra, rb] = [await a.round(), await b.round()];
    expect(rb.stats['losses/critic']).toBe(ra.stats['losses/critic']);
    expect(rb.stats['losses/actor_2']).toBe(ra.stats['losses/actor_2']);
    const [ca, cb] = [await a.save(), await b.save()];
    expect(Array.from(cb.tensors['critic/0/net/2/weight'].data)).toEqual(Array.from(ca.tensors['critic/0/net/2/weight'].data));
    expect(Array.from(cb.tensors['criticTarget/0/net/0/bias'].data)).toEqual(Array.from(ca.tensors['criticTarget/0/net/0/bias'].data));
    // A per-agent checkpoint does not load into a shared-critic trainer.
    const per = make({ ...TINY });
    const ckPer = await per.save();
    expect(() => b.load(ckPer)).toThrow();
    for (const t of [a, b, per]) t.dispose();
  });

  it('is refused with local critics (naming the field) and offered by MADDPG only', () => {
    expect(() => make({ ...TINY, sharedCritic: true, critic: 'local' })).toThrow(/algo\.sharedCritic/);
    expect('sharedCritic' in maddpgEntry.schema).toBe(true);
    for (const e of [ddpgEntry, alitaEntry, f2a2Entry]) expect('sharedCritic' in e.schema).toBe(false);
  });

  it('the F2A2 MADDPG presets switch it on (appendix H.3)', () => {
    for (const env of ['treasure-collection', 'rover-tower', 'spread']) {
      const p = getPreset(`f2a2-${env}-maddpg`);
      expect(p?.config.algo?.sharedCritic).toBe(true);
    }
  });
});
