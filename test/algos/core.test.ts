/** The learner contract's shared parts: rollout, buffers, target schedules, typed config. */
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { LockstepRollout } from '../../src-shared/algos/core/rollout';
import { TransitionBuffer } from '../../src-shared/algos/core/transition-buffer';
import { TargetSchedule, softUpdate } from '../../src-shared/algos/core/target';
import { envProblems } from '../../src-shared/algos/core/compat';
import { ConfigError, typedValues, type Schema, type Values } from '../../src-shared/config/schema';
import { resolve } from '../../src-shared/config/schema';
import { manitokanEntry } from '../../src-shared/envs/manitokan';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

describe('learner contract: shared parts', () => {
  beforeAll(setupTf);

  it('the lock-step rollout masks finished copies, records episode ends and counts env steps', () => {
    const cfg = resolve('env', manitokanEntry.schema, { episodeLimit: 12 });
    const env = manitokanEntry.create(cfg, { numEnvs: 5, autoReset: false });
    const ro = new LockstepRollout(env, 3);
    const rng = new Rng(1);
    const ends: [number, number][] = [];
    let acted = 0;
    ro.begin();
    const res = ro.run({
      act: (t) => {
        for (let b = 0; b < 5; b++) {
          if (ro.valid[t * 5 + b]) acted++;
          for (let i = 0; i < env.spec.numAgents; i++) {
            const row = b * env.spec.numAgents + i;
            let a = rng.int(env.spec.numActions);
            while (!env.actionMask[row * env.spec.numActions + a]) a = rng.int(env.spec.numActions);
            ro.actions[row] = a;
          }
        }
      },
      onEnd: (b, slot) => ends.push([b, slot]),
    });
    expect(res.episodes.length).toBe(5);
    expect(res.envSteps).toBe(acted);
    expect(res.envSteps).toBe(res.episodes.reduce((s, e) => s + (e.metrics.episode_length ?? 0), 0));
    expect(ends.map(([b]) => b).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const [b, slot] of ends) {
      expect(slot).toBe(ro.endStep[b] + 1);
      // valid exactly up to the end step
      for (let t = 0; t < res.T; t++) expect(ro.valid[t * 5 + b]).toBe(t <= ro.endStep[b] ? 1 : 0);
      const ep = res.episodes.find((e) => e.envIndex === b)!;
      expect(ep.metrics.episode_length).toBe(ro.endStep[b] + 1);
      expect(ro.endTrunc[b]).toBe(ro.endStep[b] === 11 ? 1 : 0);
    }
    // A budget shorter than the env's limit ends running copies as truncated.
    const short = new LockstepRollout(env, 3, 4);
    short.begin();
    const r2 = short.run({ act: () => short.actions.fill(0) });
    expect(r2.T).toBe(4);
    for (let b = 0; b < 5; b++) {
      expect(short.endStep[b]).toBeLessThanOrEqual(3);
    }
  });

  it('the transition buffer keeps valid rows only, overwrites the oldest, samples uniformly and round-trips', () => {
    const buf = new TransitionBuffer(4, { obs: 2, r: 1 });
    buf.insert({ obs: [1, 1, 2, 2, 3, 3], r: [1, 2, 3] }, [1, 0, 1]);
    expect(buf.count).toBe(2);
    buf.insert({ obs: [4, 4, 5, 5, 6, 6], r: [4, 5, 6] }, [1, 1, 1]);
    expect(buf.count).toBe(4); // 1, 3, 4, 5 then 6 overwrote 1
    const counts = new Map<number, number>();
    const s = buf.sample(4000, new Rng(2));
    for (let i = 0; i < 4000; i++) {
      expect(s.mask[i]).toBe(1);
      expect(s.fields.obs[2 * i]).toBe(s.fields.r[i]);
      counts.set(s.fields.r[i], (counts.get(s.fields.r[i]) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([3, 4, 5, 6]);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const again = buf.sample(5, new Rng(7)).fields.r;
    expect(buf.sample(5, new Rng(7)).fields.r).toEqual(again); // seeded
    const { tensors, meta } = buf.toRecords();
    const copy = new TransitionBuffer(4, { obs: 2, r: 1 });
    copy.fromRecords(structuredClone(tensors), meta);
    expect(copy.sample(5, new Rng(7)).fields.r).toEqual(again);
    expect(new TransitionBuffer(3, { r: 1 }).sample(2, new Rng(1)).mask).toEqual(new Float32Array(2));
    expect(() => buf.insert({ obs: [1], r: [1] }, [1])).toThrow(/field "obs" needs 1 x 2 values/);
  });

  it('target schedules: hard every K rounds, hard every K steps, soft with tau; counters round-trip', () => {
    const online = new ParamSet(tf);
    online.add('w', [2], Float32Array.from([1, 2]));
    const target = new ParamSet(tf, false);
    target.add('w', [2], Float32Array.from([0, 0]));
    const read = () => Array.from(target.get('w').dataSync());
    const rounds = new TargetSchedule(tf, target, online, { kind: 'hard-rounds', every: 2 });
    expect(rounds.endRound()).toBe(false);
    expect(read()).toEqual([0, 0]);
    expect(rounds.endRound()).toBe(true);
    expect(read()).toEqual([1, 2]);
    target.get('w').assign(tf.tensor1d([0, 0]));
    const steps = new TargetSchedule(tf, target, online, { kind: 'hard-steps', every: 5 });
    steps.countSteps(3);
    expect(steps.endRound()).toBe(false);
    const saved = steps.getState();
    const resumed = new TargetSchedule(tf, target, online, { kind: 'hard-steps', every: 5 });
    resumed.setState(saved, 'test');
    resumed.countSteps(2);
    expect(resumed.endRound()).toBe(true);
    expect(read()).toEqual([1, 2]);
    target.get('w').assign(tf.tensor1d([0, 0]));
    softUpdate(tf, target, online, 0.25);
    expect(read()).toEqual([0.25, 0.5]);
    online.dispose();
    target.dispose();
  });

  it('config types are derived from the schema, and typedValues checks every field', () => {
    const schema = {
      lr: { type: 'float', default: 0.1, min: 0, doc: 'lr' },
      mode: { type: 'enum', default: 'a', values: ['a', 'b'], doc: 'mode' },
      on: { type: 'bool', default: false, doc: 'on' },
      xs: { type: 'floatList', default: [1], doc: 'xs' },
    } as const satisfies Schema;
    const v = typedValues('algo', schema, { mode: 'b', other: 3 });
    expectTypeOf(v).toEqualTypeOf<{ lr: number; mode: 'a' | 'b'; on: boolean; xs: number[] }>();
    expectTypeOf<Values>().toEqualTypeOf<Record<string, number | boolean | string | number[]>>();
    expect(v).toEqual({ lr: 0.1, mode: 'b', on: false, xs: [1] });
    expect(() => typedValues('algo', schema, { mode: 'c' })).toThrow(ConfigError);
    expect(() => typedValues('algo', schema, { lr: -1 })).toThrow(/algo\.lr/);
  });

  it('compatibility is read from the spec: action kinds, layouts, controllers', () => {
    const spec = manitokanEntry.spec(resolve('env', manitokanEntry.schema, {}));
    expect(envProblems({ actions: 'discrete', planesFirst: true, statePlanesFirst: true, uniformAgents: true }, spec)).toEqual([]);
    expect(envProblems({ actions: 'box' }, spec)[0]).toMatch(/acts in a discrete space \(supported: box\)/);
    expect(envProblems({ actions: 'discrete', controllers: ['script'] }, spec)[0]).toMatch(/controlled by 'learner'/);
    const flat = { ...spec, agents: spec.agents.map((a) => ({ ...a, obsLayout: [{ kind: 'features' as const, name: 'x', size: a.obsSize }] })) };
    expect(envProblems({ actions: 'discrete', planesFirst: true }, flat)[0]).toMatch(/does not start with a planes block/);
  });
});
