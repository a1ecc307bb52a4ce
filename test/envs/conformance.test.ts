/**
 * Conformance: every registered environment, at its defaults and at each declared variant,
 * honours the VecEnv contract (src-shared/envs/types.ts). Generic over EnvEntry: nothing here
 * knows the rules of a particular task.
 */
import { describe, expect, it } from 'vitest';
import { defaults, resolve, type Values } from '../../src-shared/config/schema';
import { Rng } from '../../src-shared/rng';
import { specProblems } from '../../src-shared/envs/spaces';
import type { EnvEntry, EpisodeRecord, VecEnv } from '../../src-shared/envs/types';
import { listEnvs } from '../../src-shared/registry';
import { seekEntry } from './seek-example';

const ENVS: readonly EnvEntry[] = listEnvs();
/** Registered envs plus the docs' worked example. */
const CHECKED: readonly EnvEntry[] = [...ENVS, seekEntry];

const B = 6;

/** Uniform random actions: a legal index for discrete agents, values beyond the bounds for box agents (the env clips). */
class RandomActor {
  readonly actions: Int32Array;
  readonly box: Float32Array;
  constructor(
    readonly env: VecEnv,
    private readonly rng: Rng,
  ) {
    this.actions = new Int32Array(env.numEnvs * env.spec.numAgents);
    this.box = new Float32Array(env.numEnvs * env.spec.numAgents * env.spec.boxSize);
  }
  act(): void {
    const { spec, actionMask } = this.env;
    const A = spec.numActions;
    const K = spec.boxSize;
    const N = spec.numAgents;
    for (let r = 0; r < this.actions.length; r++) {
      const s = spec.agents[r % N].action;
      if (s.kind === 'box') {
        this.actions[r] = 0;
        for (let k = 0; k < s.size; k++) {
          const w = s.high[k] - s.low[k];
          this.box[r * K + k] = s.low[k] - 0.25 * w + 1.5 * w * this.rng.float();
        }
        continue;
      }
      let n = 0;
      for (let a = 0; a < A; a++) n += actionMask[r * A + a];
      let k = this.rng.int(n);
      for (let a = 0; a < A; a++) {
        if (actionMask[r * A + a] && k-- === 0) {
          this.actions[r] = a;
          break;
        }
      }
    }
  }
  step(): void {
    this.act();
    this.env.step(this.actions, this.box);
  }
}

/**
 * Where two buffers first differ, or null. Per-step comparisons of whole observation buffers go
 * through this instead of a deep toEqual, which costs seconds per step for envs with large
 * views (battle: 13x13x7 per agent); NaN equals NaN as in toEqual.
 */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k] && !(a[k] !== a[k] && b[k] !== b[k])) return `index ${k}: ${a[k]} vs ${b[k]}`;
  return null;
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Mask rows: only 0/1; a discrete agent has at least one legal action and none past its own n;
 * a box agent's row is all 0.
 */
function maskProblem(env: VecEnv): string | null {
  const { spec } = env;
  const A = spec.numActions;
  const N = spec.numAgents;
  for (let r = 0; r < env.numEnvs * N; r++) {
    const s = spec.agents[r % N].action;
    let n = 0;
    for (let a = 0; a < A; a++) {
      const m = env.actionMask[r * A + a];
      if (m !== 0 && m !== 1) return `row ${r}: mask value ${m}`;
      if (m === 1 && (s.kind === 'box' || a >= s.n)) return `row ${r}: action ${a} is outside agent ${r % N}'s space but unmasked`;
      n += m;
    }
    if (s.kind === 'discrete' && n === 0) return `row ${r}: no legal action`;
  }
  return null;
}

/** Observation values past an agent's own obsSize stay 0. */
function paddingProblem(env: VecEnv, obs: Float32Array): string | null {
  const { spec } = env;
  const N = spec.numAgents;
  const O = spec.obsSize;
  for (let r = 0; r < env.numEnvs * N; r++) {
    for (let k = spec.agents[r % N].obsSize; k < O; k++) if (obs[r * O + k] !== 0) return `row ${r}: padding value ${k} is ${obs[r * O + k]}`;
  }
  return null;
}

/** Blocks an env declares as discrete state (EnvSpec.discreteState) hold one-hots or 0/1 bits. */
function discreteStateProblem(env: VecEnv, obs: Float32Array): string | null {
  const { spec } = env;
  const ds = spec.discreteState;
  if (!ds) return null;
  const N = spec.numAgents;
  for (let r = 0; r < env.numEnvs * N; r++) {
    const i = r % N;
    const layout = spec.agents[i].obsLayout;
    for (const p of ds[i]) {
      let off = r * spec.obsSize;
      for (let k = 0; k < p.block; k++) {
        const b = layout[k];
        off += b.kind === 'features' ? b.size : b.width * b.height * b.channels;
      }
      const size = (layout[p.block] as { size: number }).size;
      const v = Array.from(obs.subarray(off, off + size));
      if (v.some((x) => x !== 0 && x !== 1)) return `row ${r}: discrete-state block ${p.block} holds ${v.join(',')}`;
      if (p.read === 'onehot' && v.filter((x) => x === 1).length !== 1) return `row ${r}: discrete-state block ${p.block} is not one-hot`;
    }
  }
  return null;
}

const CASES: [string, EnvEntry, Values][] = CHECKED.flatMap((e) => [
  [`${e.id} (defaults)`, e, defaults(e.schema)] as [string, EnvEntry, Values],
  ...(e.variants ?? []).map((v) => [`${e.id} (${v.name})`, e, resolve('env', e.schema, v.config)] as [string, EnvEntry, Values]),
]);

it('the registry lists environments with unique ids', () => {
  expect(ENVS.length).toBeGreaterThan(0);
  expect(new Set(ENVS.map((e) => e.id)).size).toBe(ENVS.length);
});

describe.each(CASES)('env %s conformance', (_name, entry, config) => {
  it('schema, spec and declared metrics are sound', () => {
    expect(resolve('env', entry.schema, {})).toEqual(defaults(entry.schema));
    expect(entry.id).toMatch(/^[a-z0-9-]+$/);
    expect(entry.title.length).toBeGreaterThan(0);
    for (const [k, f] of Object.entries(entry.schema)) expect(f.doc.length, `${k}.doc`).toBeGreaterThan(0);
    const spec = entry.spec(config);
    expect(specProblems(spec)).toEqual([]);
    expect(spec.metrics.map((m) => m.key)).toEqual([...spec.metricKeys]);
    for (const role of ['success', 'return'] as const) expect(spec.metrics.filter((m) => m.role === role).length, `one ${role} metric`).toBe(1);
    expect(spec.metrics.some((m) => m.headline)).toBe(true);
  });

  it('spec(config) matches create(config).spec and the buffers have its shapes', () => {
    const env = entry.create(config, { numEnvs: B });
    expect(env.spec).toEqual(entry.spec(config));
    expect(env.spec.id).toBe(entry.id);
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
    expect(s.envObsSize).toBeGreaterThan(0);
    expect(s.envObsSize).toBeLessThanOrEqual(s.obsSize);
    expect(maskProblem(env)).toBeNull();
    expect(paddingProblem(env, env.obs)).toBeNull();
    expect(allFinite(env.obs) && allFinite(env.state)).toBe(true);
  });

  it('random play keeps every buffer valid; episodes end by termination or exactly at the limit', () => {
    const env = entry.create(config, { numEnvs: B, autoReset: true });
    env.reset(3);
    const s = env.spec;
    const actor = new RandomActor(env, new Rng(17));
    const len = new Array<number>(B).fill(0);
    const ended: number[] = [];
    const episodes: EpisodeRecord[] = [];
    const steps = Math.min(3000, Math.max(600, 3 * s.episodeLimit));
    for (let t = 0; t < steps; t++) {
      actor.step();
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
      const bad = maskProblem(env) ?? paddingProblem(env, env.obs) ?? paddingProblem(env, env.finalObs) ?? discreteStateProblem(env, env.obs);
      if (bad || !allFinite(env.obs) || !allFinite(env.state) || !allFinite(env.rewards) || !allFinite(env.finalObs)) {
        throw new Error(`invalid buffers after step ${t}: ${bad ?? 'a value is not finite'}`);
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

  it('final observations: auto-reset keeps what a waiting twin shows, and both continue alike', () => {
    const auto = entry.create(config, { numEnvs: B, autoReset: true });
    const twin = entry.create(config, { numEnvs: B, autoReset: false });
    auto.reset(8);
    twin.reset(8);
    const s = auto.spec;
    const row = s.numAgents * s.obsSize;
    const actor = new RandomActor(auto, new Rng(4));
    let ends = 0;
    for (let t = 0; t < Math.min(400, 4 * s.episodeLimit); t++) {
      actor.act();
      auto.step(actor.actions, actor.box);
      twin.step(actor.actions, actor.box);
      expect(Array.from(twin.rewards)).toEqual(Array.from(auto.rewards));
      expect(Array.from(twin.dones)).toEqual(Array.from(auto.dones));
      expect(Array.from(twin.truncated)).toEqual(Array.from(auto.truncated));
      for (let b = 0; b < B; b++) {
        if (!auto.dones[b]) continue;
        ends++;
        expect(twin.finished[b]).toBe(1);
        expect(firstDiff(auto.finalObs.subarray(b * row, (b + 1) * row), twin.obs.subarray(b * row, (b + 1) * row))).toBeNull();
      }
      twin.resetFinished();
      expect(firstDiff(twin.obs, auto.obs)).toBeNull();
      expect(firstDiff(twin.state, auto.state)).toBeNull();
      expect(firstDiff(twin.actionMask, auto.actionMask)).toBeNull();
    }
    expect(ends).toBeGreaterThan(0);
    expect(twin.drainEpisodes()).toEqual(auto.drainEpisodes());
  });

  it('without auto-reset, finished copies ignore actions and wait for resetFinished', () => {
    const env = entry.create(config, { numEnvs: B, autoReset: false });
    env.reset(4);
    const s = env.spec;
    const actor = new RandomActor(env, new Rng(5));
    for (let t = 0; t < s.episodeLimit; t++) {
      const frozen = Array.from(env.finished);
      const before = Float32Array.from(env.obs);
      actor.step();
      for (let b = 0; b < B; b++) {
        if (!frozen[b]) continue;
        const row = s.numAgents * s.obsSize;
        expect(firstDiff(env.obs.subarray(b * row, (b + 1) * row), before.subarray(b * row, (b + 1) * row))).toBeNull();
        expect(env.dones[b]).toBe(0);
        for (let i = 0; i < s.numAgents; i++) expect(env.rewards[b * s.numAgents + i]).toBe(0);
      }
    }
    // Every copy has ended by the time limit.
    expect(Array.from(env.finished)).toEqual(new Array(B).fill(1));
    expect(env.drainEpisodes()).toHaveLength(B);
    env.resetFinished();
    expect(Array.from(env.finished)).toEqual(new Array(B).fill(0));
    expect(maskProblem(env)).toBeNull();
  });

  it('actions outside a space are rejected: discrete indices past n, NaN box components', () => {
    const env = entry.create(config, { numEnvs: B });
    env.reset(2);
    const s = env.spec;
    const actor = new RandomActor(env, new Rng(3));
    const d = s.agents.findIndex((a) => a.action.kind === 'discrete');
    if (d >= 0) {
      actor.act();
      const n = (s.agents[d].action as { n: number }).n;
      actor.actions[d] = n;
      expect(() => env.step(actor.actions, actor.box)).toThrow(/action/);
      actor.actions[d] = -1;
      expect(() => entry.create(config, { numEnvs: B }).step(actor.actions, actor.box)).toThrow(/action/);
    }
    const k = s.agents.findIndex((a) => a.action.kind === 'box');
    if (k >= 0) {
      const e2 = entry.create(config, { numEnvs: B });
      e2.reset(2);
      const a2 = new RandomActor(e2, new Rng(3));
      a2.act();
      a2.box[k * s.boxSize] = NaN;
      expect(() => e2.step(a2.actions, a2.box)).toThrow(/NaN/);
      expect(() => e2.step(a2.actions)).toThrow(/box actions/);
    }
  });

  it('box actions are clipped into their bounds', () => {
    const s = entry.spec(config);
    if (s.boxSize === 0) return;
    const far = entry.create(config, { numEnvs: B });
    const edge = entry.create(config, { numEnvs: B });
    far.reset(5);
    edge.reset(5);
    const actor = new RandomActor(far, new Rng(6));
    const clipped = new Float32Array(actor.box.length);
    for (let t = 0; t < 30; t++) {
      actor.act();
      for (let r = 0; r < B * s.numAgents; r++) {
        const sp = s.agents[r % s.numAgents].action;
        if (sp.kind !== 'box') continue;
        for (let c = 0; c < sp.size; c++) {
          const v = actor.box[r * s.boxSize + c];
          clipped[r * s.boxSize + c] = Math.min(sp.high[c], Math.max(sp.low[c], v));
        }
      }
      far.step(actor.actions, actor.box);
      edge.step(actor.actions, clipped);
      expect(firstDiff(far.obs, edge.obs)).toBeNull();
      expect(Array.from(far.rewards)).toEqual(Array.from(edge.rewards));
    }
  });

  it('resets are seeded: same seed same episodes, different seeds differ (unless deterministic)', () => {
    const run = (seed: number) => {
      const env = entry.create(config, { numEnvs: B });
      env.reset(seed);
      const actor = new RandomActor(env, new Rng(9));
      const out: number[] = [...env.obs, ...env.state];
      for (let t = 0; t < 300; t++) {
        actor.step();
        out.push(...env.obs, ...env.rewards, ...env.dones, ...env.state);
      }
      return { first: [...env.obs], out, episodes: env.drainEpisodes() };
    };
    const a = run(21);
    const b = run(21);
    expect(firstDiff(b.out, a.out)).toBeNull();
    expect(b.episodes).toEqual(a.episodes);
    if (!entry.deterministic) {
      const c = entry.create(config, { numEnvs: B });
      const d = entry.create(config, { numEnvs: B });
      c.reset(21);
      d.reset(22);
      expect(firstDiff([...d.obs, ...d.state], [...c.obs, ...c.state])).not.toBeNull();
      expect(firstDiff(run(22).out, a.out)).not.toBeNull();
    }
  });

  it('continues identically after getState/setState through JSON, with recording on', () => {
    const a = entry.create(config, { numEnvs: B });
    a.reset(6);
    const actA = new RandomActor(a, new Rng(1));
    for (let t = 0; t < 123; t++) actA.step();
    a.drainEpisodes();
    const b = entry.create(config, { numEnvs: B });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(firstDiff(b.obs, a.obs)).toBeNull();
    expect(firstDiff(b.state, a.state)).toBeNull();
    a.setRecording(0, true);
    b.setRecording(0, true);
    const ra = new RandomActor(a, new Rng(2));
    const rb = new RandomActor(b, new Rng(2));
    // Long enough that copy 0 finishes the episode it starts recording at its next reset.
    for (let t = 0; t < Math.max(400, 2 * a.spec.episodeLimit); t++) {
      ra.step();
      rb.step();
      for (const k of ['obs', 'rewards', 'dones', 'truncated'] as const) expect(firstDiff(b[k], a[k]), k).toBeNull();
    }
    const ea = a.drainEpisodes();
    expect(b.drainEpisodes()).toEqual(ea);
    const replays = ea.filter((e) => e.replay);
    expect(replays.length).toBeGreaterThan(0);
    for (const e of replays) {
      const r = e.replay!;
      const N = a.spec.numAgents;
      expect(r.envId).toBe(entry.id);
      expect(r.columns.action).toHaveLength(r.steps * N);
      expect(r.columns.reward).toHaveLength(r.steps * N);
      if (a.spec.boxSize > 0) expect(r.columns.box_action).toHaveLength(r.steps * N * a.spec.boxSize);
      expect(r.steps).toBe(e.metrics.episode_length ?? r.steps);
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
  });
});
