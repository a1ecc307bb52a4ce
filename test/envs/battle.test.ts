/**
 * The battle's step rules on hand-built boards (shared/specs/environments.md §7): move
 * collisions and order, attacks and their rewards, kills and the dead penalty, the random attack
 * order, hp recovery, termination, the observation planes.
 */
import { describe, expect, it } from 'vitest';
import { defaults } from '../../src-shared/config/schema';
import { BATTLE_ATTACKS, BATTLE_MOVES, BattleVecEnv, STAY, battleEntry, battleSchema, minMapSize, parseBattleConfig, type BattleUnit } from '../../src-shared/envs/battle';

function make(armySize: number, extra: Record<string, unknown> = {}): BattleVecEnv {
  return battleEntry.create({ ...defaults(battleSchema), armySize, mapSize: 16, ...extra }, { numEnvs: 1, autoReset: false }) as BattleVecEnv;
}
const move = (dx: number, dy: number) => BATTLE_MOVES.findIndex(([x, y]) => x === dx && y === dy);
const attack = (dx: number, dy: number) => BATTLE_MOVES.length + BATTLE_ATTACKS.findIndex(([x, y]) => x === dx && y === dy);

function play(env: BattleVecEnv, board: (BattleUnit | null)[], acts: number[], seed = 1): void {
  env.reset(seed);
  env.setBoard(0, board);
  env.step(Int32Array.from(acts));
}

describe('battle step rules', () => {
  it('moves jump to free interior cells in agent order; walls, off-map and taken cells block', () => {
    const env = make(2);
    // red 0 leaves (7,5) before red 1 arrives; blue 0 tries the cell red 1 holds until it moves later.
    play(env, [{ x: 7, y: 5 }, { x: 5, y: 5 }, { x: 5, y: 3 }, { x: 1, y: 1 }], [move(2, 0), move(2, 0), move(0, 2), move(-1, 0)]);
    expect(env.unit(0, 0)).toMatchObject({ x: 9, y: 5 });
    expect(env.unit(0, 1)).toMatchObject({ x: 7, y: 5 });
    expect(env.unit(0, 2)).toMatchObject({ x: 5, y: 5 }); // red 1 moved away before blue 0's turn
    expect(env.unit(0, 3)).toMatchObject({ x: 1, y: 1 }); // the wall at x = 0
    // Two agents aiming at one cell: the first in agent order gets it; a taken cell blocks.
    play(env, [{ x: 4, y: 4 }, { x: 8, y: 4 }, { x: 6, y: 8 }, { x: 2, y: 2 }], [move(2, 0), move(-2, 0), move(0, -2), move(0, -2)]);
    expect(env.unit(0, 0)).toMatchObject({ x: 6, y: 4 });
    expect(env.unit(0, 1)).toMatchObject({ x: 8, y: 4 });
    expect(env.unit(0, 2)).toMatchObject({ x: 6, y: 6 });
    expect(env.unit(0, 3)).toMatchObject({ x: 2, y: 2 }); // (2, 0) is the wall row
  });

  it('attacks: hit +0.2, miss on empty or teammate, each attack costs 0.1; hp recovers 0.1 after attacks', () => {
    const env = make(2);
    play(env, [{ x: 5, y: 5 }, { x: 5, y: 6 }, { x: 6, y: 5 }, { x: 10, y: 10, hp: 9.95 }], [attack(1, 0), attack(0, -1), STAY, attack(0, 1)]);
    const r = Array.from(env.rewards);
    expect(r[0]).toBeCloseTo(-0.005 - 0.1 + 0.2, 6); // hit blue 0
    expect(r[1]).toBeCloseTo(-0.005 - 0.1, 6); // teammate: a miss
    expect(r[2]).toBeCloseTo(-0.005, 6);
    expect(r[3]).toBeCloseTo(-0.005 - 0.1, 6); // empty cell
    expect(env.unit(0, 2)!.hp).toBeCloseTo(10 - 2 + 0.1, 5);
    expect(env.unit(0, 0)!.hp).toBe(10); // teammates take no damage, recovery is capped
    expect(env.unit(0, 3)!.hp).toBe(10); // 9.95 + 0.1 capped at 10
    expect(env.dones[0]).toBe(0);
  });

  it('a kill pays +5 instead of +0.2, the victim gets exactly -0.1, leaves the board, and its mask is stay only', () => {
    const env = make(2);
    play(env, [{ x: 5, y: 5 }, { x: 9, y: 9 }, { x: 6, y: 5, hp: 1 }, { x: 12, y: 12, hp: 2 }], [attack(1, 0), move(1, 1), move(1, 0), STAY]);
    const r = Array.from(env.rewards);
    expect(r[0]).toBeCloseTo(-0.005 - 0.1 + 5, 5);
    expect(r[2]).toBeCloseTo(-0.1, 6); // its own step and move do not count
    expect(env.unit(0, 2)).toBeNull();
    const A = env.spec.numActions;
    expect(Array.from(env.actionMask.subarray(2 * A, 3 * A))).toEqual(Array.from({ length: A }, (_, a) => (a === STAY ? 1 : 0)));
    expect(Array.from(env.obs.subarray(2 * env.spec.obsSize, 3 * env.spec.obsSize)).every((v) => v === 0)).toBe(true);
    // Red 1 moves into the victim's old cell's neighbourhood freely next step: the cell is empty.
    env.step(Int32Array.from([STAY, STAY, STAY, STAY]));
    expect(env.rewards[2]).toBe(0); // the dead earn nothing afterwards
    // hp 2 hit to exactly 0 survives (death is below 0) and recovers.
    play(env, [{ x: 5, y: 5 }, { x: 9, y: 9 }, { x: 6, y: 5, hp: 2 }, { x: 12, y: 12 }], [attack(1, 0), STAY, STAY, STAY]);
    expect(env.unit(0, 2)!.hp).toBeCloseTo(0.1, 6);
    expect(env.rewards[0]).toBeCloseTo(0.095, 6);
  });

  it('an agent killed holds its cell during the moves of that step', () => {
    const env = make(2);
    play(env, [{ x: 5, y: 5 }, { x: 8, y: 5 }, { x: 6, y: 5, hp: 1 }, { x: 12, y: 12 }], [attack(1, 0), move(-2, 0), STAY, STAY]);
    expect(env.unit(0, 2)).toBeNull();
    expect(env.unit(0, 1)).toMatchObject({ x: 8, y: 5 }); // (6,5) still held by the dying blue 0
  });

  it('attacks run in a random order: of two agents that would kill each other, exactly one dies, and both outcomes occur', () => {
    const env = make(1);
    const seen = new Set<number>();
    for (let seed = 1; seed <= 24; seed++) {
      play(env, [{ x: 5, y: 5, hp: 1 }, { x: 6, y: 5, hp: 1 }], [attack(1, 0), attack(-1, 0)], seed);
      const red = env.unit(0, 0);
      const blue = env.unit(0, 1);
      expect((red === null) !== (blue === null)).toBe(true);
      const survivor = red === null ? 1 : 0;
      seen.add(survivor);
      expect(env.rewards[survivor]).toBeCloseTo(-0.005 - 0.1 + 5, 5);
      expect(env.rewards[1 - survivor]).toBeCloseTo(-0.1, 6);
      expect((red ?? blue)!.hp).toBeCloseTo(1.1, 6); // the dead one never attacked
      // The last army standing ends the episode as a termination.
      expect(env.dones[0]).toBe(1);
      expect(env.truncated[0]).toBe(0);
      const ep = env.drainEpisodes()[0];
      expect(ep.metrics.red_win).toBe(survivor === 0 ? 1 : 0);
      expect(ep.metrics.red_kills).toBe(survivor === 0 ? 1 : 0);
      expect(ep.metrics.blue_kills).toBe(survivor === 1 ? 1 : 0);
      expect(ep.metrics.episode_length).toBe(1);
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('observations: view planes (wall, own, enemy with hp), minimap with the own cell, id bits, position, history', () => {
    const env = make(2);
    play(env, [{ x: 1, y: 5 }, { x: 3, y: 5 }, { x: 2, y: 5 }, { x: 12, y: 12 }], [attack(1, 0), STAY, STAY, STAY]);
    const O = env.spec.obsSize;
    const C = 7;
    const at = (i: number, dx: number, dy: number, c: number) => env.obs[i * O + ((dy + 6) * 13 + dx + 6) * C + c];
    // Red 0 at (1,5): the wall one cell left, blue 0 (hp 8.1) to its right, red 1 two cells right, itself.
    expect(at(0, -1, 0, 0)).toBe(1);
    expect(at(0, 0, 0, 1)).toBe(1);
    expect(at(0, 0, 0, 2)).toBe(1);
    expect(at(0, 1, 0, 4)).toBe(1);
    expect(at(0, 1, 0, 5)).toBeCloseTo(0.81, 6);
    expect(at(0, 2, 0, 1)).toBe(1);
    expect(at(0, -2, 0, 0)).toBe(0); // off the map: 0
    expect(at(0, 6, 6, 1) + at(0, 6, 6, 0)).toBe(0); // outside the radius-6 circle
    // Blue 0 sees red agents as enemies.
    expect(at(2, -1, 0, 4)).toBe(1);
    expect(at(2, 1, 0, 4)).toBe(1);
    // Minimap (16 x 16 map onto 13 x 13): red's two agents share a coarse cell? (1,5)->(0,4), (3,5)->(2,4).
    const mini = (i: number, mx: number, my: number, c: number) => env.obs[i * O + (my * 13 + mx) * C + c];
    expect(mini(0, 0, 4, 3)).toBeCloseTo(0.5 + 1, 6); // half the red army, plus its own cell
    expect(mini(0, 2, 4, 3)).toBeCloseTo(0.5, 6);
    expect(mini(0, 1, 4, 6)).toBeCloseTo(0.5, 6); // blue 0 at (2,5) -> (1,4)
    const f = 13 * 13 * C;
    expect(Array.from(env.obs.subarray(O + f, O + f + 10))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // red 1: id 1
    expect(env.obs[f + 10]).toBeCloseTo(1 / 16, 6);
    expect(env.obs[f + 11]).toBeCloseTo(5 / 16, 6);
    expect(env.obs[f + 12 + attack(1, 0)]).toBe(1);
    expect(env.obs[f + 12 + 21]).toBeCloseTo(0.095, 6);
    // Global state: S x S x 5 'xyc'.
    const S = 16;
    expect(env.state[(2 * S + 5) * 5 + 3]).toBe(1);
    expect(env.state[(2 * S + 5) * 5 + 4]).toBeCloseTo(0.81, 6);
    expect(env.state[(0 * S + 0) * 5 + 0]).toBe(1);
  });

  it('sizes: map by density, grown to fit; a map too small is refused naming the field', () => {
    expect(parseBattleConfig({ armySize: 256 }).size).toBe(80);
    expect(parseBattleConfig({ armySize: 625 }).size).toBe(125);
    expect(parseBattleConfig({ armySize: 12 }).size).toBe(minMapSize(12));
    expect(() => parseBattleConfig({ armySize: 64, mapSize: 20 })).toThrow(/env\.mapSize/);
    // Every army size fits its blocks: all agents placed on distinct interior cells.
    for (const K of [1, 5, 12, 64, 256]) {
      const env = battleEntry.create({ armySize: K }, { numEnvs: 1 }) as BattleVecEnv;
      const cells = new Set<string>();
      for (let i = 0; i < 2 * K; i++) {
        const u = env.unit(0, i)!;
        expect(u.x).toBeGreaterThan(0);
        expect(u.x).toBeLessThan(env.size - 1);
        expect(u.y).toBeGreaterThan(0);
        expect(u.y).toBeLessThan(env.size - 1);
        expect(u.x < env.size / 2).toBe(i < K);
        cells.add(`${u.x},${u.y}`);
      }
      expect(cells.size).toBe(2 * K);
    }
  });

  it('at reset the front lines are 8 cells apart: no view holds an enemy, only the minimap shows the other army', () => {
    // Why an IQL that never walks to the enemy only ever sees misses (docs/design.md, F2A2):
    // geek-ai's gap of 3 cells either side of the centre line, views of radius 6.
    for (const K of [12, 64]) {
      const env = battleEntry.create({ armySize: K }, { numEnvs: 1 }) as BattleVecEnv;
      const O = env.spec.obsSize;
      const C = 7;
      let gap = Infinity;
      for (let i = 0; i < K; i++) for (let j = K; j < 2 * K; j++) gap = Math.min(gap, env.unit(0, j)!.x - env.unit(0, i)!.x);
      expect(gap, `K ${K}`).toBe(8);
      let enemyInView = 0;
      let enemyOnMinimap = 0;
      for (let i = 0; i < 2 * K; i++) {
        for (let k = 0; k < 169; k++) {
          enemyInView += env.obs[i * O + k * C + 4];
          enemyOnMinimap += env.obs[i * O + k * C + 6];
        }
      }
      expect(enemyInView, `K ${K}`).toBe(0);
      // Each agent's enemy minimap sums to 1 (the enemy army's density).
      expect(enemyOnMinimap, `K ${K}`).toBeCloseTo(2 * K, 3);
    }
  });

  it('no minimap: 5 channels and no position features', () => {
    const s = battleEntry.spec({ armySize: 3, minimap: false });
    expect(s.obsSize).toBe(13 * 13 * 5 + 10 + 22);
    expect(s.envObsSize).toBe(13 * 13 * 5 + 10);
    expect(battleEntry.spec({ armySize: 3 }).obsSize).toBe(13 * 13 * 7 + 12 + 22);
  });

});
