/**
 * Conformance: every registered environment honours the VecEnv contract (src-shared/envs/types.ts).
 * Generic over EnvEntry: nothing here knows the rules of a particular task.
 */
import { describe, expect, it } from 'vitest';
import { defaults, resolve } from '../../src-shared/config/schema';
import { Rng } from '../../src-shared/rng';
import type { EnvEntry, EpisodeRecord, VecEnv } from '../../src-shared/envs/types';
import { listEnvs } from '../../src-shared/registry';

const ENVS: readonly EnvEntry[] = listEnvs();

const B = 6;

function randomLegal(env: VecEnv, actions: Int32Array, rng: Rng): void {
  const A = env.spec.numActions;
  for (let r = 0; r < actions.length; r++) {
    let n = 0;
    for (let a = 0; a < A; a++) n += env.actionMask[r * A + a];
    let k = rng.int(n);
    for (let a = 0; a < A; a++) {
      if (env.actionMask[r * A + a] && k-- === 0) {
        actions[r] = a;
        break;
      }
    }
  }
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Every (copy, agent) row of the mask has at least one legal action and only 0/1 entries. */
function masksOk(env: VecEnv): boolean {
  const A = env.spec.numActions;
  for (let r = 0; r < env.numEnvs * env.spec.numAgents; r++) {
    let n = 0;
    for (let a = 0; a < A; a++) {
      const m = env.actionMask[r * A + a];
      if (m !== 0 && m !== 1) return false;
      n += m;
    }
    if (n === 0) return false;
  }
  return true;
}

it('the registry lists at least one environment', () => expect(ENVS.length).toBeGreaterThan(0));

describe.each(ENVS.map((e) => [e.id, e] as const))('env %s conformance', (_id, entry) => {
  const config = defaults(entry.schema);

  it('schema defaults resolve and every field is documented', () => {
    expect(resolve('env', entry.schema, {})).toEqual(config);
    expect(entry.id).toMatch(/^[a-z0-9-]+$/);
    expect(entry.title.length).toBeGreaterThan(0);
    for (const [k, f] of Object.entries(entry.schema)) {
      expect(f.doc.length, `${k}.doc`).toBeGreaterThan(0);
    }
  });

  it('spec(config) matches create(config).spec', () => {
    const env = entry.create(config, { numEnvs: 2 });
    expect(env.spec).toEqual(entry.spec(config));
    expect(env.spec.id).toBe(entry.id);
  });

  it('buffers have the shapes the spec says', () => {
    const env = entry.create(config, { numEnvs: B });
    env.reset(1);
    const s = env.spec;
    const N = s.numAgents;
    expect(env.numEnvs).toBe(B);
    expect(env.obs).toBeInstanceOf(Float32Array);
    expect(env.obs.length).toBe(B * N * s.obsSize);
    expect(env.finalObs.length).toBe(B * N * s.obsSize);
    expect(env.state.length).toBe(B * s.stateSize);
    expect(env.actionMask).toBeInstanceOf(Uint8Array);
    expect(env.actionMask.length).toBe(B * N * s.numActions);
    expect(env.rewards.length).toBe(B * N);
    expect(env.dones.length).toBe(B);
    expect(env.truncated.length).toBe(B);
    expect(env.finished.length).toBe(B);
    expect(s.actionNames).toHaveLength(s.numActions);
    expect(s.envObsSize).toBeGreaterThan(0);
    expect(s.envObsSize).toBeLessThanOrEqual(s.obsSize);
    expect(new Set(s.metricKeys).size).toBe(s.metricKeys.length);
    expect(masksOk(env)).toBe(true);
    expect(allFinite(env.obs) && allFinite(env.state)).toBe(true);
  });

  it('random legal play keeps every buffer valid and episodes within the limit', () => {
    const env = entry.create(config, { numEnvs: B, autoReset: true });
    env.reset(3);
    const s = env.spec;
    const rng = new Rng(17);
    const actions = new Int32Array(B * s.numAgents);
    const len = new Array<number>(B).fill(0);
    const ended: number[] = [];
    const episodes: EpisodeRecord[] = [];
    const steps = Math.max(3000, 3 * s.episodeLimit);
    for (let t = 0; t < steps; t++) {
      randomLegal(env, actions, rng);
      env.step(actions);
      for (let b = 0; b < B; b++) {
        len[b]++;
        expect(env.finished[b]).toBe(0); // auto-reset never leaves a copy finished
        if (env.dones[b]) {
          expect(len[b]).toBeLessThanOrEqual(s.episodeLimit);
          if (env.truncated[b]) expect(len[b]).toBe(s.episodeLimit);
          ended.push(b);
          len[b] = 0;
        } else {
          expect(env.truncated[b]).toBe(0);
        }
      }
      if (!masksOk(env) || !allFinite(env.obs) || !allFinite(env.state) || !allFinite(env.rewards) || !allFinite(env.finalObs)) {
        throw new Error(`invalid buffers after step ${t}`);
      }
      episodes.push(...env.drainEpisodes());
    }
    expect(ended.length).toBeGreaterThan(0);
    expect(episodes.map((e) => e.envIndex)).toEqual(ended);
    for (const e of episodes) {
      expect(Object.keys(e.metrics)).toEqual([...s.metricKeys]);
      for (const v of Object.values(e.metrics)) expect(v === null || Number.isFinite(v)).toBe(true);
    }
  });

  it('without auto-reset, finished copies wait for resetFinished', () => {
    const env = entry.create(config, { numEnvs: B, autoReset: false });
    env.reset(4);
    const s = env.spec;
    const rng = new Rng(5);
    const actions = new Int32Array(B * s.numAgents);
    for (let t = 0; t < s.episodeLimit; t++) {
      const frozen = Array.from(env.finished);
      const before = Float32Array.from(env.obs);
      randomLegal(env, actions, rng);
      env.step(actions);
      for (let b = 0; b < B; b++) {
        if (!frozen[b]) continue;
        const row = s.numAgents * s.obsSize;
        expect(Array.from(env.obs.subarray(b * row, (b + 1) * row))).toEqual(Array.from(before.subarray(b * row, (b + 1) * row)));
        expect(env.dones[b]).toBe(0);
        for (let i = 0; i < s.numAgents; i++) expect(env.rewards[b * s.numAgents + i]).toBe(0);
      }
    }
    // Every copy has ended by the time limit.
    expect(Array.from(env.finished)).toEqual(new Array(B).fill(1));
    expect(env.drainEpisodes()).toHaveLength(B);
    env.resetFinished();
    expect(Array.from(env.finished)).toEqual(new Array(B).fill(0));
    expect(masksOk(env)).toBe(true);
  });

  it('is deterministic given the seed and actions', () => {
    const run = (seed: number) => {
      const env = entry.create(config, { numEnvs: B });
      env.reset(seed);
      const rng = new Rng(9);
      const actions = new Int32Array(B * env.spec.numAgents);
      const out: number[] = [...env.obs];
      for (let t = 0; t < 300; t++) {
        randomLegal(env, actions, rng);
        env.step(actions);
        out.push(...env.obs, ...env.rewards, ...env.dones, ...env.state);
      }
      return { out, episodes: env.drainEpisodes() };
    };
    const a = run(21);
    const b = run(21);
    expect(b.out).toEqual(a.out);
    expect(b.episodes).toEqual(a.episodes);
    expect(run(22).out).not.toEqual(a.out);
  });

  it('continues identically after getState/setState through JSON', () => {
    const a = entry.create(config, { numEnvs: B });
    a.reset(6);
    const rng = new Rng(1);
    const actions = new Int32Array(B * a.spec.numAgents);
    for (let t = 0; t < 123; t++) {
      randomLegal(a, actions, rng);
      a.step(actions);
    }
    a.drainEpisodes();
    const b = entry.create(config, { numEnvs: B });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    const ra = new Rng(2);
    const rb = new Rng(2);
    for (let t = 0; t < 400; t++) {
      randomLegal(a, actions, ra);
      a.step(actions);
      const oa = [...a.obs, ...a.rewards, ...a.dones];
      randomLegal(b, actions, rb);
      b.step(actions);
      expect([...b.obs, ...b.rewards, ...b.dones]).toEqual(oa);
    }
    expect(b.drainEpisodes()).toEqual(a.drainEpisodes());
  });
});
