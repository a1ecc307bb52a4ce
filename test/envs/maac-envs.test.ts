/**
 * Cooperative Treasure Collection and Rover-Tower (the MAAC fork's scenarios) on hand-built
 * states: the fork's forces, pick-up, respawn, deposit, collisions, the observation order and
 * timing, the rover-tower pairing, messages and the squared-distance bonus, against numbers
 * worked by hand.
 */
import { describe, expect, it } from 'vitest';
import { treasureCollectionEntry } from '../../src-shared/envs/treasure-collection';
import { roverTowerEntry } from '../../src-shared/envs/rover-tower';
import type { VecEnv } from '../../src-shared/envs/types';

type Saved = { pos: number[]; vel: number[]; numEntities: number; [k: string]: unknown };

/** Set copy b's entity positions (agents then landmarks), zero velocities, and saved per-copy arrays. */
function place(env: VecEnv, b: number, pos: number[][], extra: Record<string, number[]> = {}): void {
  const s = env.getState() as Saved;
  const E = s.numEntities;
  pos.forEach((p, e) => {
    s.pos[(b * E + e) * 2] = p[0];
    s.pos[(b * E + e) * 2 + 1] = p[1];
    s.vel[(b * E + e) * 2] = 0;
    s.vel[(b * E + e) * 2 + 1] = 0;
  });
  for (const [k, v] of Object.entries(extra)) {
    const arr = s[k] as number[];
    const w = arr.length / env.numEnvs;
    v.forEach((x, j) => (arr[b * w + j] = x));
  }
  env.setState(s);
}

const finalRow = (env: VecEnv, b: number, i: number) => Array.from(env.finalObs.subarray((b * env.spec.numAgents + i) * env.spec.obsSize, (b * env.spec.numAgents + i + 1) * env.spec.obsSize));
const row = (env: VecEnv, b: number, i: number) => Array.from(env.obs.subarray((b * env.spec.numAgents + i) * env.spec.obsSize, (b * env.spec.numAgents + i + 1) * env.spec.obsSize));
const hyp = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1]);

// Hunters 0-5, banks 6-7, treasures 8-13, all far apart unless a test moves them together.
const HUNTERS = [
  [-0.8, -0.8],
  [-0.8, 0.0],
  [-0.8, 0.8],
  [0.0, 0.8],
  [0.0, -0.8],
  [0.4, 0.0],
];
const BANKS = [
  [0.8, 0.8],
  [0.8, -0.8],
];
const TREASURES = [
  [-0.4, -0.4],
  [-0.4, 0.4],
  [0.4, 0.4],
  [0.4, -0.4],
  [-0.2, 0.0],
  [0.0, 0.3],
];
const layout = () => [...HUNTERS, ...BANKS, ...TREASURES].map((p) => [...p]);

describe('treasure-collection', () => {
  it('declares 86-wide hunter and 84-wide bank observations, 5 moves each, two teams', () => {
    const s = treasureCollectionEntry.spec({});
    expect(s.agents.map((a) => a.obsSize)).toEqual([86, 86, 86, 86, 86, 86, 84, 84]);
    expect(s.agents.every((a) => a.action.kind === 'discrete' && a.action.n === 5)).toBe(true);
    expect(s.teams.map((t) => t.agents)).toEqual([[0, 1, 2, 3, 4, 5], [6, 7]]);
    expect(s.episodeLimit).toBe(100);
    expect(s.stateSize).toBe(74);
  });

  it("the fork's action force accelerates every agent by 2.25; OpenAI's by accel / mass", () => {
    for (const [physics, hunter, bank] of [
      ['maac', 0.225, 0.225],
      ['openai', 0.15, 0.15 / 2.25],
    ] as const) {
      const env = treasureCollectionEntry.create({ physics }, { numEnvs: 1 });
      place(env, 0, layout());
      env.step(Int32Array.from([2, 0, 0, 0, 0, 0, 2, 0]));
      const s = env.getState() as Saved;
      expect(s.vel[0]).toBeCloseTo(hunter, 12);
      expect(s.vel[12]).toBeCloseTo(bank, 12);
      expect(s.pos[0]).toBeCloseTo(-0.8 + hunter * 0.1, 12);
    }
  });

  it('contacts are mass-weighted in the fork: a gets (m_b / m_a) F, b gets -(m_a / m_b) F', () => {
    const env = treasureCollectionEntry.create({}, { numEnvs: 1 });
    const p = layout();
    p[0] = [0, 0];
    p[6] = [0.1, 0]; // bank 0 overlaps hunter 0 by 0.025
    p[13] = [-0.6, 0.6];
    place(env, 0, p);
    env.step(new Int32Array(8));
    const pen = 1e-3 * Math.log1p(Math.exp(0.025 / 1e-3));
    const F = 100 * pen;
    const s = env.getState() as Saved;
    expect(s.vel[0]).toBeCloseTo(-((F * 2.25) / 1) * 0.1, 9);
    expect(s.vel[12]).toBeCloseTo(((F * (1 / 2.25)) / 2.25) * 0.1, 9);
  });

  it('pick-up after the rewards: +5 to everyone, the treasure gone for one observation, then respawned', () => {
    const env = treasureCollectionEntry.create({}, { numEnvs: 1 });
    const p = layout();
    p[8] = [-0.75, -0.8]; // treasure 0 touches hunter 0 (0.05 < 0.05 + 0.025)
    place(env, 0, p, { ttype: [1, 0, 0, 0, 0, 0] });
    env.step(new Int32Array(8));
    // Step 1: global 5 (hunter 0 empty-handed on treasure 0).
    expect(env.rewards[0]).toBeCloseTo(5 - 0.1 * 0.05, 5);
    const nearestTreasure = (h: number[]) => Math.min(...p.slice(8).map((t) => hyp(h, t)));
    expect(env.rewards[1]).toBeCloseTo(5 - 0.1 * nearestTreasure(p[1]), 5);
    const centroid = (bank: number[]) => {
      const m = [0, 0];
      for (let a = 0; a < 6; a++) for (let d = 0; d < 2; d++) m[d] += (p[a][d] - bank[d]) / 6;
      return Math.hypot(m[0], m[1]);
    };
    expect(env.rewards[6]).toBeCloseTo(5 - 0.1 * centroid(p[6]), 5);
    expect(env.rewards[7]).toBeCloseTo(5 - 0.1 * centroid(p[7]), 5);
    // The observation of step 1 is the world before post_step: not holding, treasure 0 nearest at (0.05, 0).
    let h0 = row(env, 0, 0);
    expect(h0.slice(4, 6)).toEqual([0, 0]);
    const t0 = 6 + 7 * 8;
    expect(h0[t0]).toBeCloseTo(0.05, 6);
    expect(h0.slice(t0 + 2, t0 + 4)).toEqual([0, 1]);
    let s = env.getState() as Saved;
    expect((s.holding as number[])[0]).toBe(1);
    expect(s.pos[16]).toBe(-999);

    env.step(new Int32Array(8));
    // Step 2: hunter 0 holds type 1 and pays the distance to bank 1; treasure 0 is shown at -999, last.
    expect(env.rewards[0]).toBeCloseTo(-0.1 * hyp(p[0], p[7]), 5);
    h0 = row(env, 0, 0);
    expect(h0.slice(4, 6)).toEqual([0, 1]);
    expect(h0[t0 + 5 * 4]).toBeCloseTo(-999 + 0.8, 3);
    // Bank 1 now chases hunter 0 (the only holder of its type).
    expect(env.rewards[7]).toBeCloseTo(-0.1 * hyp(p[0], p[7]), 5);
    // Hunter 0 seen by hunter 1: encoding [0, 0, held one-hot].
    s = env.getState() as Saved;
    expect((s.alive as number[])[0]).toBe(1); // respawned in this step's post_step
    const tx = s.pos[16];
    expect(Math.abs(tx)).toBeLessThan(0.95);

    env.step(new Int32Array(8));
    // Step 3: the respawned treasure is visible again, inside the spawn square.
    h0 = row(env, 0, 0);
    const ts = Array.from({ length: 6 }, (_, k) => h0[t0 + 4 * k]);
    expect(ts.every((x) => Math.abs(x) < 2)).toBe(true);
  });

  it('deposit: +5 to everyone while a holder touches its bank, then the holding clears; hunter collisions cost 5 each', () => {
    const env = treasureCollectionEntry.create({ episodeLimit: 1 }, { numEnvs: 1 });
    const p = layout();
    p[0] = [0.8, 0.8]; // hunter 0 on bank 0 (coincident centres: no contact force)
    p[1] = [-0.5, 0.9];
    p[2] = [-0.5, 0.9]; // hunters 1 and 2 on top of each other
    place(env, 0, p, { holding: [0, -1, -1, -1, -1, -1] });
    env.step(new Int32Array(8));
    expect(env.rewards[0]).toBeCloseTo(5, 5);
    expect(env.rewards[6]).toBeCloseTo(5, 5);
    const nearestTreasure = (h: number[]) => Math.min(...p.slice(8).map((t) => hyp(h, t)));
    expect(env.rewards[1]).toBeCloseTo(5 - 5 - 0.1 * nearestTreasure(p[1]), 5);
    expect(env.rewards[2]).toBeCloseTo(5 - 5 - 0.1 * nearestTreasure(p[2]), 5);
    const [rec] = env.drainEpisodes();
    expect(rec.metrics.treasures_deposited).toBe(1);
    expect(rec.metrics.treasures_collected).toBe(0);
    expect(rec.metrics.hunter_collisions).toBe(1);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += env.rewards[i];
    expect(rec.metrics.mean_return).toBeCloseTo(sum / 8, 4);
  });

  it('orders the other agents nearest first with their encodings', () => {
    const env = treasureCollectionEntry.create({}, { numEnvs: 1 });
    const p = layout();
    p[7] = [-0.7, -0.8]; // bank 1 nearest to hunter 0
    place(env, 0, p, { holding: [-1, -1, -1, -1, 0, -1] });
    const h0 = row(env, 0, 0);
    // First slot: bank 1 at (0.1, 0), velocity 0, encoding [onehot(1), 0, 0].
    expect(h0.slice(6, 14).map((x) => +x.toFixed(6))).toEqual([0.1, 0, 0, 0, 0, 1, 0, 0]);
    // Bank observation: 84 values then zero padding; hunter 4 (holding type 0) appears with [0, 0, 1, 0].
    const bank0 = row(env, 0, 6);
    expect(bank0.slice(84)).toEqual([0, 0]);
    let found = false;
    for (let s = 0; s < 7; s++) {
      const q = 4 + s * 8;
      if (Math.abs(bank0[q] - (p[4][0] - p[6][0])) < 1e-6 && Math.abs(bank0[q + 1] - (p[4][1] - p[6][1])) < 1e-6) {
        expect(bank0.slice(q + 4, q + 8)).toEqual([0, 0, 1, 0]);
        found = true;
      }
    }
    expect(found).toBe(true);
  });
});

describe('rover-tower', () => {
  const RT = [
    [0, 0], // rover 0
    [0.5, 0.5], // rover 1 on landmark 1
    [-0.09, -0.5], // rover 2 at distance 0.41 from landmark 2 (dsq 0.1681 < 0.1725)
    [0.9, -0.9], // rover 3
    [-0.9, 0.9],
    [-0.9, -0.9],
    [0.9, 0.9],
    [0.0, 0.9], // towers
    [0.3, 0.4],
    [0.5, 0.5],
    [-0.5, -0.5],
    [-0.9, 0.0],
    [0.2, -0.2],
    [0.6, -0.1], // landmarks
  ];

  it('declares rovers (13, moves) and towers (8, messages)', () => {
    const s = roverTowerEntry.spec({});
    expect(s.agents.map((a) => a.obsSize)).toEqual([13, 13, 13, 13, 8, 8, 8, 8]);
    expect(s.agents.map((a) => a.action.kind === 'discrete' && a.action.names[1])).toEqual(['-x', '-x', '-x', '-x', 'say 1', 'say 1', 'say 1', 'say 1']);
    expect(s.episodeLimit).toBe(25);
    expect(s.stateSize).toBe(88);
  });

  it('pairs rewards, the squared-distance bonus, the message in the same step, observations by pairing', () => {
    const env = roverTowerEntry.create({ episodeLimit: 1 }, { numEnvs: 2 });
    // Tower 0 guides rover 1, tower 1 rover 0; goals: tower 0 -> landmark 1, tower 1 -> landmark 0, tower 2 -> 2, tower 3 -> 3.
    place(env, 1, RT, { towerRover: [1, 0, 2, 3], roverTower: [1, 0, 2, 3], goal: [1, 0, 2, 3] });
    // Rover 0 moves +x; tower 0 says 3, tower 1 says 4.
    env.step(Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 4, 0, 0]));
    const r = (i: number) => env.rewards[8 + i];
    const d0 = (0.3 - 0.0225) ** 2 + 0.16;
    expect(r(0)).toBeCloseTo(-d0, 6);
    expect(r(5)).toBeCloseTo(-d0, 6); // tower 1's pair
    expect(r(1)).toBeCloseTo(10, 6); // on the goal
    expect(r(4)).toBeCloseTo(10, 6);
    expect(r(2)).toBeCloseTo(10 - 0.41 ** 2, 6); // the linear threshold on a squared distance
    expect(r(6)).toBeCloseTo(10 - 0.41 ** 2, 6);
    const dsq3 = 1.8 ** 2 + 0.9 ** 2; // rover 3 (0.9, -0.9) to landmark 3 (-0.9, 0)
    expect(r(3)).toBeCloseTo(-dsq3, 6);
    // Rover 1 hears tower 0; rover 0 hears tower 1 (the one-step episode ended: its last observation).
    const row = finalRow;
    expect(row(env, 1, 1).slice(0, 9)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(row(env, 1, 0).slice(0, 9)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1]);
    const rv0 = row(env, 1, 0);
    expect(rv0[9]).toBeCloseTo(0.0225, 6);
    expect(rv0[11]).toBeCloseTo(0.225, 6);
    // Tower 1 sees rover 0's index, position, and its goal (landmark 0).
    const t1 = row(env, 1, 5);
    expect(t1.slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect(t1[4]).toBeCloseTo(0.0225, 6);
    expect(t1.slice(6, 8).map((x) => +x.toFixed(6))).toEqual([0.3, 0.4]);
    expect(t1.slice(8)).toEqual([0, 0, 0, 0, 0]);
    const recs = env.drainEpisodes().filter((e) => e.envIndex === 1);
    expect(recs[0].metrics.on_goal_share).toBeCloseTo(2 / 4, 9);
    expect(recs[0].metrics.mean_return).toBeCloseTo((2 * (-d0 + 10 + 10 - 0.41 ** 2 - dsq3)) / 8, 5);
  });

  it('the OpenAI physics accelerates a rover by 1.5 instead of 2.25', () => {
    const env = roverTowerEntry.create({ physics: 'openai' }, { numEnvs: 1 });
    place(env, 0, RT);
    env.step(Int32Array.from([2, 0, 0, 0, 0, 0, 0, 0]));
    expect(row(env, 0, 0)[11]).toBeCloseTo(0.15, 6);
  });

  it('pairing is a permutation and goals are landmarks, redrawn per episode from the seed', () => {
    const a = roverTowerEntry.create({}, { numEnvs: 4 });
    const b = roverTowerEntry.create({}, { numEnvs: 4 });
    a.reset(7);
    b.reset(7);
    const sa = a.getState() as Saved;
    expect(sa.towerRover).toEqual((b.getState() as Saved).towerRover);
    for (let k = 0; k < 4; k++) {
      const perm = (sa.towerRover as number[]).slice(4 * k, 4 * k + 4);
      expect([...perm].sort()).toEqual([0, 1, 2, 3]);
      const inv = (sa.roverTower as number[]).slice(4 * k, 4 * k + 4);
      perm.forEach((r, i) => expect(inv[r]).toBe(i));
    }
  });
});
