/**
 * Cooperative Communication (speaker-listener) and Physical Deception (adversary) on hand-built
 * states: observation layouts, communication, rewards and the Table 3 / Table 4 metrics against
 * numbers worked by hand; plus the particle world's blocking landmarks and mass.
 */
import { describe, expect, it } from 'vitest';
import { speakerListenerEntry } from '../../src-shared/envs/speaker-listener';
import { adversaryEntry } from '../../src-shared/envs/adversary';
import { ParticleEnv, type WorldDef } from '../../src-shared/envs/particle-world';
import { agent, buildSpec, features, team } from '../../src-shared/envs/spaces';
import type { EnvOptions, VecEnv } from '../../src-shared/envs/types';
import type { Rng } from '../../src-shared/rng';

type Saved = { pos: number[]; vel: number[]; numEntities: number; [k: string]: unknown };

/** Set copy b's entity positions (agents then landmarks), zero velocities, and extra saved fields. */
function place(env: VecEnv, b: number, pos: number[][], extra: Record<string, number> = {}): void {
  const s = env.getState() as Saved;
  const E = s.numEntities;
  pos.forEach((p, e) => {
    s.pos[(b * E + e) * 2] = p[0];
    s.pos[(b * E + e) * 2 + 1] = p[1];
    s.vel[(b * E + e) * 2] = 0;
    s.vel[(b * E + e) * 2 + 1] = 0;
  });
  for (const [k, v] of Object.entries(extra)) (s[k] as number[])[b] = v;
  env.setState(s);
}

const row = (env: VecEnv, b: number, i: number) => Array.from(env.obs.subarray((b * env.spec.numAgents + i) * env.spec.obsSize, (b * env.spec.numAgents + i + 1) * env.spec.obsSize));

describe('speaker-listener', () => {
  it('declares per-agent spaces: the speaker only talks, the listener only moves', () => {
    const s = speakerListenerEntry.spec({});
    expect(s.agents.map((a) => a.action)).toMatchObject([
      { kind: 'discrete', n: 3 },
      { kind: 'discrete', n: 5 },
    ]);
    expect(s.agents.map((a) => a.obsSize)).toEqual([3, 11]);
    expect(s.obsSize).toBe(11);
    const c = speakerListenerEntry.spec({ actions: 'continuous' });
    expect(c.agents.map((a) => (a.action.kind === 'box' ? a.action.size : 0))).toEqual([3, 5]);
  });

  it('observations, the message in the same step, the -2 d^2 reward and the final-step metrics', () => {
    const env = speakerListenerEntry.create({ episodeLimit: 2 }, { numEnvs: 2 });
    // speaker at (0.5, 0.5), listener at (0, 0), landmarks at (0.3, 0.4) (goal, index 1), (-1, 0), (1, 1).
    place(env, 1, [[0.5, 0.5], [0, 0], [-1, 0], [0.3, 0.4], [1, 1]], { goal: 1 });
    expect(row(env, 1, 0)).toEqual([0.15, 0.65, 0.15, 0, 0, 0, 0, 0, 0, 0, 0].map(Math.fround)); // the green goal's colour, padded
    const a = Int32Array.from([0, 0, 2, 2]); // copy 1: the speaker says 2, the listener moves +x
    env.step(a);
    // Listener: v = 5 * 0.1 = 0.5 in x, p = (0.05, 0); d^2 = 0.25^2 + 0.4^2 = 0.2225.
    const l = row(env, 1, 1);
    expect(l.slice(0, 2)).toEqual([0.5, 0]);
    expect(l[2]).toBeCloseTo(-1.05, 6);
    expect(l[4]).toBeCloseTo(0.25, 6);
    expect(l[5]).toBeCloseTo(0.4, 6);
    expect(l.slice(8, 11)).toEqual([0, 0, 1]);
    expect(env.rewards[2]).toBeCloseTo(-2 * 0.2225, 6);
    expect(env.rewards[3]).toBeCloseTo(-2 * 0.2225, 6);
    // Second step: v = 0.375 + 0.5 = 0.875, p = 0.1375; final distance hypot(0.1625, 0.4).
    env.step(a);
    const d2 = Math.hypot(0.3 - 0.1375, 0.4);
    const ep = env.drainEpisodes().find((e) => e.envIndex === 1)!;
    expect(ep.metrics.target_distance).toBeCloseTo(d2, 12);
    expect(ep.metrics.mean_distance).toBeCloseTo((Math.sqrt(0.2225) + d2) / 2, 12);
    expect(ep.metrics.target_reached).toBe(0);
    expect(ep.metrics.return_total).toBeCloseTo(2 * (-2 * 0.2225 - 2 * d2 * d2), 6);
  });

  it('target reached below the touching distance 0.115; PettingZoo reward -d^2; final-step timing', () => {
    const env = speakerListenerEntry.create({ episodeLimit: 1, reward: 'pettingzoo', rewardTiming: 'final-step' }, { numEnvs: 1 });
    place(env, 0, [[0, 0], [0, 0], [0.11, 0], [5, 5], [5, -5]], { goal: 0 });
    env.step(Int32Array.from([1, 0]));
    expect(env.rewards[0]).toBeCloseTo(-(0.11 ** 2), 6);
    const m = env.drainEpisodes()[0].metrics;
    expect(m.target_reached).toBe(1);
    expect(m.target_distance).toBeCloseTo(0.11, 12);
    const late = speakerListenerEntry.create({ episodeLimit: 3, rewardTiming: 'final-step' }, { numEnvs: 1 });
    late.reset(1);
    const rs: number[] = [];
    for (let t = 0; t < 3; t++) {
      late.step(Int32Array.from([0, 0]));
      rs.push(late.rewards[1]);
    }
    expect(rs[0]).toBe(0);
    expect(rs[1]).toBe(0);
    expect(rs[2]).toBeLessThan(0);
  });

  it('a continuous message is written to the channel as is, and the replay paints the listener in its goal colour', () => {
    const env = speakerListenerEntry.create({ actions: 'continuous' }, { numEnvs: 1 });
    env.reset(4);
    env.setRecording(0, true);
    const box = Float32Array.from([0.2, 0.7, 0.1, 0, 0, 0, 0, 0.5, 0, 0]);
    env.step(new Int32Array(2), box);
    expect(row(env, 0, 1).slice(8, 11)).toEqual([0.2, 0.7, 0.1].map(Math.fround));
    for (let t = 1; t < 25; t++) env.step(new Int32Array(2), box);
    const r = env.drainEpisodes()[0].replay!;
    const goal = r.meta.goal as number;
    const ents = r.meta.entities as { name: string; color: number[] }[];
    expect(ents[1].color.map((c) => +c.toFixed(2))).toEqual(ents[2 + goal].color.map((c) => +Math.min(1, c + 0.45).toFixed(2)));
    expect(r.columns.comm.slice(6, 9)).toEqual([0.2, 0.7, 0.1].map(Math.fround));
  });
});

describe('adversary', () => {
  it('two learner teams, the adversary blind to the target', () => {
    const s = adversaryEntry.spec({});
    expect(s.teams.map((t) => [t.name, t.agents, t.controller])).toEqual([
      ['adversary', [0], 'learner'],
      ['good agents', [1, 2], 'learner'],
    ]);
    expect(s.agents.map((a) => a.obsSize)).toEqual([8, 10, 10]);
  });

  it('observations, shaped rewards and the Table 4 metrics on a hand-built state', () => {
    const env = adversaryEntry.create({ episodeLimit: 1 }, { numEnvs: 1 });
    // adversary (0, 0); good 0 at (1, 0); good 1 at (0.1, 1); landmarks (0, 1) (target, index 0) and (2, 2).
    place(env, 0, [[0, 0], [1, 0], [0.1, 1], [0, 1], [2, 2]], { target: 0 });
    expect(row(env, 0, 0)).toEqual([0, 1, 2, 2, 1, 0, 0.1, 1, 0, 0].map(Math.fround));
    expect(row(env, 0, 1)).toEqual([-1, 1, -1, 1, 1, 2, -1, 0, -0.9, 1].map(Math.fround));
    env.step(Int32Array.from([0, 0, 0]));
    // Nobody moved: adversary 1 from the target, closest good agent 0.1.
    expect(env.rewards[0]).toBeCloseTo(-1, 12);
    expect(env.rewards[1]).toBeCloseTo(-0.1 + 1, 6);
    expect(env.rewards[2]).toBeCloseTo(0.9, 6);
    const m = env.drainEpisodes()[0].metrics;
    expect(m).toMatchObject({ good_success: 1, adversary_success: 0, success_gap: 1, episode_length: 1 });
    expect(m.good_distance).toBeCloseTo(0.1, 12);
    expect(m.adversary_distance).toBeCloseTo(1, 12);
    expect(m.good_return).toBeCloseTo(0.9, 6);
  });

  it('PettingZoo adversary reward is -distance; success within 0.23 for the adversary too', () => {
    const env = adversaryEntry.create({ episodeLimit: 1, reward: 'pettingzoo' }, { numEnvs: 1 });
    place(env, 0, [[1.5, 2], [1, 0], [3, 3], [0, 1], [1.5, 2.2]], { target: 1 });
    env.step(Int32Array.from([0, 0, 0]));
    expect(env.rewards[0]).toBeCloseTo(-0.2, 6);
    const m = env.drainEpisodes()[0].metrics;
    expect(m.adversary_success).toBe(1);
    expect(m.good_success).toBe(0);
    expect(m.success_gap).toBe(-1);
  });
});

/** Two agents and a blocking landmark (immobile, collides), one agent twice as heavy. */
class Blocked extends ParticleEnv {
  constructor(options: EnvOptions) {
    const world: WorldDef = {
      agents: [
        { name: 'light', size: 0.1, movable: true, collide: true, color: [0, 0, 1] },
        { name: 'heavy', size: 0.1, movable: true, collide: true, mass: 2, color: [1, 0, 0] },
      ],
      landmarks: [{ name: 'wall', size: 0.1, movable: false, collide: true, color: [0, 0, 0] }],
      dimC: 0,
    };
    const act = { kind: 'discrete', n: 5, names: ['no-op', '-x', '+x', '-y', '+y'] } as const;
    super(
      buildSpec({
        id: 'test-blocked',
        agents: [agent('light', 0, act, [features('x', 1)]), agent('heavy', 0, act, [features('x', 1)])],
        teams: [team('all', [0, 1])],
        stateLayout: [features('x', 1)],
        episodeLimit: 5,
        metricKeys: ['episode_length'],
      }),
      world,
      'discrete',
      options,
      78,
    );
    this.reset(0);
  }
  protected resetCopy(b: number, rng: Rng): void {
    this.placeUniform(b, rng, 0, this.E);
  }
  protected afterPhysics(): boolean {
    return false;
  }
  protected observe(): void {}
  protected episodeMetrics(b: number, _t: boolean, m: Record<string, number | null>): void {
    m.episode_length = this.stepCount[b];
  }
}

describe('particle world: blocking landmarks and mass', () => {
  it('an immobile colliding landmark pushes the agent back and does not move; mass divides the force', () => {
    const env = new Blocked({ numEnvs: 1 });
    // light overlaps the wall by 0.1 (force 10 along +x); heavy is far away and pushes +x (force 5, mass 2).
    place(env, 0, [[0.1, 0], [5, 5], [0, 0]]);
    env.step(Int32Array.from([0, 2]));
    const s = env.getState() as Saved;
    expect(s.vel[0]).toBeCloseTo(1, 9); // 100 * 0.1 / 1 * 0.1
    expect(s.pos[4]).toBe(0); // the wall stays
    expect(s.vel[4]).toBe(0);
    expect(s.vel[2]).toBeCloseTo(0.25, 12); // 5 / 2 * 0.1
  });
});
