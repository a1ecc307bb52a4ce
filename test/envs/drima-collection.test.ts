/**
 * Cooperative Collection's occupancy and rewards (drima.md §3.5): nearest candidate wins a
 * food, matched food pays twice unmatched, the distance term, and the last-step match count.
 */
import { describe, expect, it } from 'vitest';
import { CollectionVecEnv, parseCollectionConfig } from '../../src-shared/envs/drima-collection';

/** The env with a hand-placed scene (agents 0..5 then food 0..5; types P P B B G G). Agents
 * at least 0.1 apart do not collide, so a no-op step leaves the scene in place.. */
class Placed extends CollectionVecEnv {
  place(xy: [number, number][]): void {
    xy.forEach(([x, y], e) => {
      this.pos[2 * e] = x;
      this.pos[2 * e + 1] = y;
      this.vel[2 * e] = this.vel[2 * e + 1] = 0;
    });
    this.observe(0, true);
  }
}

describe('Cooperative Collection', () => {
  it('matched 2, unmatched 1, contested food to the nearest, distance to the nearest food', () => {
    const env = new Placed(parseCollectionConfig({ episodeLimit: 2 }), { numEnvs: 1, autoReset: false });
    env.reset(1);
    // Purple agent 0 on purple food 0; blue agent 2 on purple food 1 (mismatch); purple agent 1
    // contests food 1 from further away; the rest far from everything.
    env.place([
      [0, 0],
      [0.5, -0.065],
      [0.5, 0.04],
      [-0.9, 0.9],
      [0.9, -0.9],
      [-0.9, -0.9],
      [0, 0],
      [0.5, 0],
      [-0.5, 0.5],
      [0.5, 0.5],
      [0.9, 0.5],
      [-0.5, -0.5],
    ]);
    env.step(new Int32Array(6));
    const r = Array.from(env.rewards);
    expect(r[0]).toBeCloseTo(2, 6);
    expect(r[2]).toBeCloseTo(1 - 0.05 * 0.04, 4);
    expect(r[1]).toBeCloseTo(-0.05 * 0.065, 4);
    // The agent of index 3 sees food 2 at distance ~0.566 (within the 0.6 view): first food slot.
    const o = 3 * env.spec.obsSize;
    expect(env.obs[o + 7 + 5]).toBe(1);
    env.step(new Int32Array(6));
    const m = env.drainEpisodes()[0].metrics;
    expect(m.match_count).toBe(1);
    expect(m.occupied_count).toBe(2);
    expect(env.spec.obsSize).toBe(73);
  });
});
