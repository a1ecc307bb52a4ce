/**
 * What a particle env declares for the 2-D world view, read from a real CH-II replay: the prey's
 * view disc and trail, the arena, and a removed prey absent from frames (and from the camera).
 */
import { describe, expect, it } from 'vitest';
import { arenaHalfWidth, isPresent, worldBounds, worldEntities } from '../../src-renderer/components/replay/world2d/world-read';
import { huntingEntry } from '../../src-shared/envs/drima-hunting';
import type { Replay } from '../../src-shared/envs/types';

function chaseReplay(seed: number): Replay {
  const env = huntingEntry.create({ task: 'ch2' }, { numEnvs: 1, autoReset: false });
  env.setRecording(0, true);
  env.reset(seed);
  const a = new Int32Array(4);
  while (!env.finished[0]) {
    for (let i = 0; i < 4; i++) {
      const o = i * 28;
      const k = env.obs[o + 6] ? 0 : 1;
      const [dx, dy] = [env.obs[o + 7 + 5 * k], env.obs[o + 8 + 5 * k]];
      a[i] = Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? 2 : 1) : dy > 0 ? 4 : 3;
    }
    env.step(a);
  }
  const ep = env.drainEpisodes()[0];
  if (!ep.replay) throw new Error('no replay');
  return ep.replay;
}

describe('world2d replay meta', () => {
  it('prey carry a view disc and a trail, predators no disc; the arena is declared', () => {
    // The first seed whose greedy chase hits a prey within the episode.
    const r = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(chaseReplay).find((x) => x.columns.present.slice(-6).includes(0));
    if (!r) throw new Error('no seed in 1..10 hits a prey');
    const ents = worldEntities(r);
    expect(ents.filter((e) => e.viewRadius === 0.5).map((e) => e.name)).toEqual(['prey 1', 'prey 2']);
    expect(ents.every((e) => e.trail)).toBe(true);
    expect(arenaHalfWidth(r)).toBe(1);
    const b = worldBounds(r, ents);
    // The camera holds the arena and never the parking place of a removed prey.
    expect(b.x0).toBeLessThanOrEqual(-1);
    expect(b.x0 + b.size).toBeGreaterThanOrEqual(1);
    expect(b.size).toBeLessThan(3);
    const E = ents.length;
    const gone = [4, 5].filter((e) => !isPresent(r, E, r.steps, e));
    expect(gone.length).toBeGreaterThan(0);
    // Each prey hit before the end is absent from the last frame, present in the first.
    for (const e of gone) expect(isPresent(r, E, 0, e)).toBe(true);
    for (const e of [0, 1, 2, 3]) expect(isPresent(r, E, r.steps, e)).toBe(true);
  });
});
