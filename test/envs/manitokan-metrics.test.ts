/**
 * Manitokan's issue-8 metrics (the fidelity audit): the two key-drop definitions, Fig. 3b's
 * non-zero filter against section 3.1's, Fig. 9's collective-success residual, Fig. 15a's
 * normalised return, and checkpoints written before the drop-choice counter existed.
 * Coordinates and actions as in manitokan.test.ts (6x6 grid, dir 0 right, 1 down, 2 left, 3 up).
 */
import { describe, expect, it } from 'vitest';
import type { Values } from '../../src-shared/config/schema';
import { ManitokanVecEnv, manitokanEntry, setLayoutForTest, type TestLayout } from '../../src-shared/envs/manitokan';
import type { EpisodeRecord } from '../../src-shared/envs/types';

const L = 0,
  R = 1,
  PICK = 3,
  DROP = 4,
  TOG = 5;

function make(config: Values = {}): ManitokanVecEnv {
  const env = manitokanEntry.create(config, { numEnvs: 1, autoReset: true }) as ManitokanVecEnv;
  env.reset(1);
  return env;
}
const step = (env: ManitokanVecEnv, a0: number, a1: number) => env.step(Int32Array.from([a0, a1]));
function finish(env: ManitokanVecEnv): EpisodeRecord['metrics'] {
  for (let t = 0; t < env.spec.episodeLimit && !env.dones[0]; t++) step(env, L, L);
  const eps = env.drainEpisodes();
  expect(eps).toHaveLength(1);
  return eps[0].metrics;
}

/** Agent 0 at (1,2) facing the key at (2,2); door 0 below it at (1,3); door 1 far away. */
const LAYOUT: TestLayout = {
  agents: [
    { x: 1, y: 2, dir: 0 },
    { x: 4, y: 4, dir: 0 },
  ],
  doors: [
    { x: 1, y: 3 },
    { x: 4, y: 1 },
  ],
  key: { x: 2, y: 2 },
};

describe('manitokan key-drop metrics (issue 8 audit)', () => {
  it('declares both drop definitions, the residual and the normalised return', () => {
    const keys = manitokanEntry.spec({}).metrics.map((m) => m.key);
    for (const k of ['key_drops', 'key_drop_choices', 'key_drop_choices_0', 'key_drops_nonzero', 'key_drops_picked_up', 'collective_residual_1', 'return_normalised']) {
      expect(keys).toContain(k);
    }
  });

  it('a drop chosen while holding the key onto a blocked cell is a choice, not a drop', () => {
    const env = make();
    setLayoutForTest(env, 0, { ...LAYOUT, agents: [{ x: 1, y: 2, dir: 1 }, LAYOUT.agents[1]], key: null, carrier: 0 });
    step(env, DROP, L); // faces its own door (1,3): blocked
    step(env, DROP, L); // still blocked
    step(env, L, L); // faces right: (2,2) empty
    step(env, DROP, L); // lands
    const m = finish(env);
    expect([m.key_drop_choices_0, m.key_drop_choices_1, m.key_drop_choices]).toEqual([3, 0, 3]);
    expect([m.key_drops_0, m.key_drops]).toEqual([1, 1]);
  });

  it('key_drops_nonzero follows Fig. 3b (episodes with drops); key_drops_picked_up section 3.1 (key picked up)', () => {
    const env = make();
    setLayoutForTest(env, 0, LAYOUT);
    step(env, PICK, L); // picked up, never dropped
    const m = finish(env);
    expect(m.key_pickups_0).toBe(1);
    expect(m.key_drops).toBe(0);
    expect(m.key_drops_nonzero).toBeNull();
    expect(m.key_drops_picked_up).toBe(0);
  });

  it('residual (r^c - r^i) r^i and normalised return when only one door opens', () => {
    const env = make();
    setLayoutForTest(env, 0, LAYOUT);
    step(env, PICK, L);
    step(env, R, L); // faces down: door 0
    step(env, TOG, L); // +0.5
    const m = finish(env);
    expect(m.collective_success).toBe(0);
    expect(m.collective_residual_0).toBeCloseTo(-0.25, 12);
    expect(m.collective_residual_1).toBe(0);
    expect(m.return_normalised).toBeCloseTo((0.5 / 1.5 + 0) / 2, 12);
  });

  it('normalises by r_i + sum r_j (+ the oracle) per agent', () => {
    const env = make({ individualReward: [0.5, 1], oracleDropReward: 1 });
    setLayoutForTest(env, 0, LAYOUT);
    step(env, PICK, L);
    step(env, R, L);
    step(env, TOG, L);
    const m = finish(env);
    expect(m.return_normalised).toBeCloseTo(0.5 / (0.5 + 1.5 + 1) / 2, 12);
  });

  it('loads a state saved before the drop-choice counter existed', () => {
    const env = make();
    setLayoutForTest(env, 0, { ...LAYOUT, key: null, carrier: 0 });
    step(env, DROP, L);
    const state = env.getState() as Record<string, unknown>;
    delete state.dropChoices;
    const other = make();
    other.setState(state);
    step(other, L, L);
    expect(other.episodeOrder(0)).toEqual([0, 1]);
    const m = finish(other);
    expect(m.key_drop_choices).toBe(0); // the old episode's count restarts
  });
});
