/**
 * The particle world and Cooperative Navigation: physics against hand-worked steps (action
 * force, damping, contact force, max-speed clamp, communication), a speaker/listener scenario
 * written only as a scenario, and simple_spread against an independent scalar transcription of
 * MPE's code (objects, one entity at a time, as core.py and simple_spread.py do it) under a
 * uniform random policy, plus the reset statistics MPE's definition implies in closed form.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src-shared/rng';
import { ParticleEnv, particleActionSpace, type WorldDef } from '../../src-shared/envs/particle-world';
import { agent, buildSpec, features, team } from '../../src-shared/envs/spaces';
import { spreadEntry } from '../../src-shared/envs/spread';
import type { EnvOptions, VecEnv } from '../../src-shared/envs/types';

/** Put copy b's entities (agents then landmarks) at the given positions and velocities, through getState/setState. */
function place(env: VecEnv, b: number, pos: number[][], vel?: number[][]): void {
  const s = env.getState() as { pos: number[]; vel: number[] };
  const E = pos.length;
  pos.forEach((p, e) => {
    s.pos[(b * E + e) * 2] = p[0];
    s.pos[(b * E + e) * 2 + 1] = p[1];
    s.vel[(b * E + e) * 2] = vel?.[e]?.[0] ?? 0;
    s.vel[(b * E + e) * 2 + 1] = vel?.[e]?.[1] ?? 0;
  });
  env.setState(s);
}

function positions(env: VecEnv, b = 0): { pos: number[]; vel: number[] } {
  const s = env.getState() as { pos: number[]; vel: number[]; numEntities: number };
  const w = s.numEntities * 2;
  return { pos: s.pos.slice(b * w, (b + 1) * w), vel: s.vel.slice(b * w, (b + 1) * w) };
}

describe('MPE physics by hand (simple_spread entities: size 0.15, mass 1, sensitivity 5)', () => {
  const far = [
    [5, 5],
    [-5, -5],
  ];

  it('action force: +x gives v = 5 * 0.1, then damping 0.75 and the force again', () => {
    const env = spreadEntry.create({ numAgents: 2 }, { numEnvs: 1 });
    place(env, 0, [[0, 0], [3, 3], ...far]);
    env.step(Int32Array.from([2, 0])); // agent 0: +x; agent 1: no-op
    let s = positions(env);
    expect(s.vel[0]).toBeCloseTo(0.5, 12);
    expect(s.pos[0]).toBeCloseTo(0.05, 12);
    env.step(Int32Array.from([2, 0]));
    s = positions(env);
    expect(s.vel[0]).toBeCloseTo(0.5 * 0.75 + 0.5, 12);
    expect(s.pos[0]).toBeCloseTo(0.05 + 0.875 * 0.1, 12);
    env.step(Int32Array.from([3, 0])); // -y
    s = positions(env);
    expect(s.vel[0]).toBeCloseTo(0.875 * 0.75, 12);
    expect(s.vel[1]).toBeCloseTo(-0.5, 12);
    expect(s.pos[2]).toBe(3); // agent 1 untouched
  });

  it('damping alone: v <- 0.75 v, p <- p + v dt', () => {
    const env = spreadEntry.create({ numAgents: 2 }, { numEnvs: 1 });
    place(env, 0, [[0, 0], [3, 3], ...far], [[1, -2], [0, 0]]);
    env.step(Int32Array.from([0, 0]));
    const s = positions(env);
    expect(s.vel.slice(0, 2)).toEqual([0.75, -1.5]);
    expect(s.pos[0]).toBeCloseTo(0.075, 12);
    expect(s.pos[1]).toBeCloseTo(-0.15, 12);
  });

  it('contact force: overlap 0.1 between two agents pushes each with 100 * 0.1 = 10', () => {
    const env = spreadEntry.create({ numAgents: 2 }, { numEnvs: 1 });
    place(env, 0, [[0, 0], [0.2, 0], ...far]);
    env.step(Int32Array.from([0, 0]));
    // penetration = 1e-3 * log(1 + exp(0.1 / 1e-3)) = 0.1 (+ 1e-3 * log1p(e^-100)); F = 100 * 0.1 along (a - b) / |a - b|.
    const s = positions(env);
    expect(s.vel[0]).toBeCloseTo(-1, 12);
    expect(s.vel[2]).toBeCloseTo(1, 12);
    expect(s.pos[0]).toBeCloseTo(-0.1, 12);
    expect(s.pos[2]).toBeCloseTo(0.3, 12);
    expect(s.vel[1]).toBe(0);
  });

  it('contact force at a distance: softplus tail, F = 100 * 1e-3 * log(1 + e^(-(d - 0.3) / 1e-3))', () => {
    const env = spreadEntry.create({ numAgents: 2 }, { numEnvs: 1 });
    const d = 0.302;
    place(env, 0, [[0, 0], [0, d], ...far]);
    env.step(Int32Array.from([0, 0]));
    const F = 100 * 1e-3 * Math.log(1 + Math.exp(-(d - 0.3) / 1e-3));
    const s = positions(env);
    expect(s.vel[1]).toBeCloseTo(-F * 0.1, 14);
    expect(s.vel[3]).toBeCloseTo(F * 0.1, 14);
  });

  it('continuous actions: u_x = a2 - a1, u_y = a4 - a3, clipped into [0, 1]', () => {
    const env = spreadEntry.create({ numAgents: 2, actions: 'continuous' }, { numEnvs: 1 });
    expect(env.spec.boxSize).toBe(5);
    expect(env.spec.numActions).toBe(0);
    place(env, 0, [[0, 0], [3, 3], ...far]);
    env.step(new Int32Array(2), Float32Array.from([0.3, 0.25, 0.75, 1.5, 0.5, 0, 0, 0, 0, 0]));
    const s = positions(env);
    expect(s.vel[0]).toBeCloseTo(0.5 * 5 * 0.1, 6);
    expect(s.vel[1]).toBeCloseTo(-0.5 * 5 * 0.1, 6); // a3 clipped to 1: 0.5 - 1
  });
});

/** A scenario written only as a scenario: a speaker (talks, Discrete(3)) and a fast listener (moves, max speed 1). */
class SpeakerListener extends ParticleEnv {
  constructor(options: EnvOptions) {
    const world: WorldDef = {
      agents: [
        { name: 'speaker', size: 0.075, movable: false, collide: false, silent: false, color: [0.5, 0.5, 0.5] },
        { name: 'listener', size: 0.075, movable: true, collide: false, accel: 20, maxSpeed: 1, color: [0.2, 0.2, 0.8] },
      ],
      landmarks: [{ name: 'goal', size: 0.04, movable: false, collide: false, color: [0.8, 0.2, 0.2] }],
      dimC: 3,
    };
    const spec = buildSpec({
      id: 'test-speaker-listener',
      agents: [
        agent('speaker', 0, particleActionSpace(world.agents[0], 3, 'discrete'), [features('goal', 2)]),
        agent('listener', 0, particleActionSpace(world.agents[1], 3, 'discrete'), [features('own velocity', 2), features('message', 3)]),
      ],
      teams: [team('pair', [0, 1], { sharedReward: true })],
      stateLayout: [features('listener position', 2)],
      episodeLimit: 10,
      metricKeys: ['episode_length'],
    });
    super(spec, world, 'discrete', options, 77);
    this.reset(0);
  }
  protected resetCopy(b: number, rng: Rng): void {
    this.placeUniform(b, rng, 0, this.E);
    this.clearComm(b);
  }
  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const o = b * this.E * 2;
    const d = Math.hypot(this.pos[o + 2] - this.pos[o + 4], this.pos[o + 3] - this.pos[o + 5]);
    rew[0] -= d * d;
    rew[1] -= d * d;
    return false;
  }
  protected observe(b: number): void {
    const O = this.spec.obsSize;
    const o = b * this.E * 2;
    this.obs[b * 2 * O] = this.pos[o + 4];
    this.obs[b * 2 * O + 1] = this.pos[o + 5];
    const l = (b * 2 + 1) * O;
    this.obs[l] = this.vel[o + 2];
    this.obs[l + 1] = this.vel[o + 3];
    for (let k = 0; k < 3; k++) this.obs[l + 2 + k] = this.comm[(b * 2) * 3 + k];
    this.state[b * 2] = this.pos[o + 2];
    this.state[b * 2 + 1] = this.pos[o + 3];
  }
  protected episodeMetrics(b: number, _t: boolean, m: Record<string, number | null>): void {
    m.episode_length = this.stepCount[b];
  }
}

describe('a scenario on the particle world: agents with different spaces', () => {
  it('speaker Discrete(3) and listener Discrete(5): masks, messages, max-speed clamp', () => {
    const env = new SpeakerListener({ numEnvs: 2 });
    expect(env.spec.agents.map((a) => (a.action.kind === 'discrete' ? a.action.names.length : 0))).toEqual([3, 5]);
    expect(env.spec.obsSize).toBe(5);
    expect(Array.from(env.actionMask.subarray(0, 10))).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    place(env, 0, [[0, 0], [0, 0], [1, 1]], [[0, 0], [3, 4]]);
    env.step(Int32Array.from([2, 0, 1, 0]));
    // The message is in the observation returned by the same step.
    expect(Array.from(env.obs.subarray(7, 10))).toEqual([0, 0, 1]);
    // v = 0.75 * (3, 4) = (2.25, 3), speed 3.75 > 1: clamped to (0.6, 0.8); p = 0.1 v.
    const s = positions(env);
    expect(s.vel[2]).toBeCloseTo(0.6, 12);
    expect(s.vel[3]).toBeCloseTo(0.8, 12);
    expect(s.pos[2]).toBeCloseTo(0.06, 12);
    expect(s.pos[0]).toBe(0); // the speaker is immobile
    // A push of 20 * 0.1 = 2 on a listener at rest is clamped to speed 1.
    place(env, 0, [[0, 0], [0, 0], [1, 1]]);
    env.step(Int32Array.from([0, 4, 1, 0]));
    expect(positions(env).vel[3]).toBeCloseTo(1, 12);
    expect(() => env.step(Int32Array.from([3, 0, 0, 0]))).toThrow(/action 3 of copy 0, agent 0/);
  });
});

// ---------------------------------------------------------------- independent MPE transcription

interface Ent {
  p: [number, number];
  v: [number, number];
  size: number;
  movable: boolean;
  collide: boolean;
}

/** core.py World.step + simple_spread.py, one entity at a time (OpenAI MPE, discrete_action_input order). */
function mpeStep(agents: Ent[], landmarks: Ent[], moves: number[]): void {
  const ents = [...agents, ...landmarks];
  const pForce: ([number, number] | null)[] = ents.map(() => null);
  agents.forEach((a, i) => {
    const m = moves[i];
    const u: [number, number] = [0, 0];
    if (m === 1) u[0] = -1;
    if (m === 2) u[0] = +1;
    if (m === 3) u[1] = -1;
    if (m === 4) u[1] = +1;
    if (a.movable) pForce[i] = [u[0] * 5, u[1] * 5];
  });
  for (let ia = 0; ia < ents.length; ia++) {
    for (let ib = 0; ib < ents.length; ib++) {
      if (ib <= ia) continue;
      const a = ents[ia];
      const b = ents[ib];
      if (!a.collide || !b.collide) continue;
      const d = [a.p[0] - b.p[0], a.p[1] - b.p[1]];
      const dist = Math.sqrt(d[0] ** 2 + d[1] ** 2);
      const k = 1e-3;
      const pen = Math.log(1 + Math.exp(-(dist - (a.size + b.size)) / k)) * k;
      const f = [(100 * d[0]) / dist * pen, (100 * d[1]) / dist * pen];
      if (a.movable) pForce[ia] = pForce[ia] ? [pForce[ia]![0] + f[0], pForce[ia]![1] + f[1]] : [f[0], f[1]];
      if (b.movable) pForce[ib] = pForce[ib] ? [pForce[ib]![0] - f[0], pForce[ib]![1] - f[1]] : [-f[0], -f[1]];
    }
  }
  ents.forEach((e, i) => {
    if (!e.movable) return;
    e.v = [e.v[0] * (1 - 0.25), e.v[1] * (1 - 0.25)];
    const f = pForce[i];
    if (f) e.v = [e.v[0] + f[0] * 0.1, e.v[1] + f[1] * 0.1];
    e.p = [e.p[0] + e.v[0] * 0.1, e.p[1] + e.v[1] * 0.1];
  });
}

function mpeReward(agents: Ent[], landmarks: Ent[]): number {
  // simple_spread.reward for each agent, summed over agents (collaborative world).
  let total = 0;
  for (const agentI of agents) {
    let rew = 0;
    for (const l of landmarks) rew -= Math.min(...agents.map((a) => Math.hypot(a.p[0] - l.p[0], a.p[1] - l.p[1])));
    for (const a of agents) if (Math.hypot(a.p[0] - agentI.p[0], a.p[1] - agentI.p[1]) < a.size + agentI.size) rew -= 1;
    total += rew;
  }
  return total;
}

function mpeObs(agents: Ent[], landmarks: Ent[], i: number): number[] {
  const me = agents[i];
  const out = [...me.v, ...me.p];
  for (const l of landmarks) out.push(l.p[0] - me.p[0], l.p[1] - me.p[1]);
  const comm: number[] = [];
  agents.forEach((o, j) => {
    if (j === i) return;
    comm.push(0, 0);
    out.push(o.p[0] - me.p[0], o.p[1] - me.p[1]);
  });
  return [...out, ...comm];
}

describe('simple_spread against the scalar MPE transcription, uniform random policy', () => {
  it.each([3, 6])('N = %i: identical observations, rewards and metrics over 8 episodes', (N) => {
    const B = 4;
    const env = spreadEntry.create({ numAgents: N }, { numEnvs: B });
    env.reset(11);
    const rng = new Rng(5);
    const acts = new Int32Array(B * N);
    const O = env.spec.obsSize;
    expect(O).toBe(6 * N);
    for (let ep = 0; ep < 2; ep++) {
      // Start each reference episode from the env's own reset positions.
      const start = env.getState() as { pos: number[] };
      const worlds = Array.from({ length: B }, (_, b) => {
        const ent = (e: number, agentEnt: boolean): Ent => ({
          p: [start.pos[(b * 2 * N + e) * 2], start.pos[(b * 2 * N + e) * 2 + 1]],
          v: [0, 0],
          size: agentEnt ? 0.15 : 0.05,
          movable: agentEnt,
          collide: agentEnt,
        });
        return { agents: Array.from({ length: N }, (_, i) => ent(i, true)), landmarks: Array.from({ length: N }, (_, j) => ent(N + j, false)), dist: 0, coll: 0, ret: 0 };
      });
      for (let t = 0; t < 25; t++) {
        for (let k = 0; k < acts.length; k++) acts[k] = rng.int(5);
        env.step(acts);
        worlds.forEach((w, b) => {
          mpeStep(w.agents, w.landmarks, Array.from(acts.subarray(b * N, b * N + N)));
          const r = mpeReward(w.agents, w.landmarks);
          w.ret += N * r;
          for (const l of w.landmarks) w.dist += Math.min(...w.agents.map((a) => Math.hypot(a.p[0] - l.p[0], a.p[1] - l.p[1])));
          for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) if (Math.hypot(w.agents[i].p[0] - w.agents[j].p[0], w.agents[i].p[1] - w.agents[j].p[1]) < 0.3) w.coll++;
          for (let i = 0; i < N; i++) expect(env.rewards[b * N + i]).toBeCloseTo(r, 4);
          const obs = t < 24 ? env.obs : env.finalObs;
          for (let i = 0; i < N; i++) {
            const ref = mpeObs(w.agents, w.landmarks, i);
            const row = Array.from(obs.subarray((b * N + i) * O, (b * N + i + 1) * O));
            row.forEach((v, k) => expect(v).toBeCloseTo(ref[k], 5));
          }
        });
      }
      const eps = env.drainEpisodes();
      expect(eps).toHaveLength(B);
      for (const e of eps) {
        const w = worlds[e.envIndex];
        expect(e.metrics.landmark_distance!).toBeCloseTo(w.dist / 25, 9);
        expect(e.metrics.collisions).toBe(w.coll);
        expect(e.metrics.return_total!).toBeCloseTo(w.ret, 3);
      }
    }
  });

  it('reset statistics match what the definition implies (uniform [-1, 1]^2 placement)', () => {
    // Two uniform points in a square of side L = 2 are within r = 0.3 with probability
    // (pi r^2 L^2 - 8/3 r^3 L + r^4 / 2) / L^4 = 0.061939 (the distance distribution in a square).
    const L = 2;
    const r = 0.3;
    const pPair = (Math.PI * r * r * L * L - (8 / 3) * r ** 3 * L + r ** 4 / 2) / L ** 4;
    expect(pPair).toBeCloseTo(0.061939, 5);
    // E[sum over landmarks of the nearest-agent distance] for N = 3, by quadrature:
    // E[min_a |a - l|] = int_0^inf (1 - A(l, s) / 4)^N ds, A = area of the disc ∩ square.
    const N = 3;
    const area = (lx: number, ly: number, s: number): number => {
      const n = 200;
      const x0 = Math.max(-1, lx - s);
      const x1 = Math.min(1, lx + s);
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const x = x0 + ((k + 0.5) * (x1 - x0)) / n;
        const h = Math.sqrt(Math.max(0, s * s - (x - lx) ** 2));
        acc += Math.max(0, Math.min(1, ly + h) - Math.max(-1, ly - h));
      }
      return (acc * (x1 - x0)) / n;
    };
    let eMin = 0;
    const G = 16;
    for (let i = 0; i < G; i++) {
      for (let j = 0; j < G; j++) {
        const lx = ((i + 0.5) / G) * 2 - 1;
        const ly = ((j + 0.5) / G) * 2 - 1;
        const S = 100;
        const ds = 2.9 / S;
        for (let k = 0; k < S; k++) eMin += (1 - area(lx, ly, (k + 0.5) * ds) / 4) ** N * ds;
      }
    }
    eMin /= G * G;
    const expectedD = N * eMin;
    // Monte Carlo over the env's own resets (the first observation holds positions).
    const B = 4096;
    const env = spreadEntry.create({ numAgents: N }, { numEnvs: B });
    env.reset(3);
    let D = 0;
    let pairs = 0;
    const S = env.spec.stateSize;
    for (let b = 0; b < B; b++) {
      const st = env.state.subarray(b * S, (b + 1) * S); // agent pos (2N), agent vel (2N), landmark pos (2N)
      for (let l = 0; l < N; l++) {
        let best = Infinity;
        for (let a = 0; a < N; a++) best = Math.min(best, Math.hypot(st[2 * a] - st[4 * N + 2 * l], st[2 * a + 1] - st[4 * N + 2 * l + 1]));
        D += best;
      }
      for (let a = 0; a < N; a++) for (let c = a + 1; c < N; c++) if (Math.hypot(st[2 * a] - st[2 * c], st[2 * a + 1] - st[2 * c + 1]) < 0.3) pairs++;
    }
    // Standard errors: about 0.012 for D (sd ~0.75) and 0.007 for the pairs; allow 4 of them.
    expect(D / B).toBeGreaterThan(expectedD - 0.05);
    expect(D / B).toBeLessThan(expectedD + 0.05);
    expect(pairs / B).toBeCloseTo(3 * pPair, 1);
    expect(Math.abs(pairs / B - 3 * pPair)).toBeLessThan(0.03);
  });
});
