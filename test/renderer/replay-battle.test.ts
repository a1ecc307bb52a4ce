/**
 * The battle replay as the renderer reads it: a real episode recorded by the env, read back
 * with the renderer's reader (units, hp, attacks of each step, survivors), and the kind chosen.
 */
import { describe, expect, it } from 'vitest';
import { BATTLE_ATTACKS, BATTLE_MOVES, BattleVecEnv, STAY, battleEntry } from '../../src-shared/envs/battle';
import { aliveAt, attacksInto, battleMeta, isBattleReplay, unitsAt } from '../../src-renderer/components/replay/battle/battle-read';
import { replayKind } from '../../src-renderer/components/replay/registry';

describe('battle replay reader', () => {
  it('reads units, hp, attacks and survivors of a recorded episode', () => {
    const env = battleEntry.create({ armySize: 1, mapSize: 16 }, { numEnvs: 1, autoReset: false }) as BattleVecEnv;
    env.reset(1);
    env.setRecording(0, true);
    env.setBoard(0, [{ x: 5, y: 5 }, { x: 6, y: 5, hp: 3 }]);
    const hit = BATTLE_MOVES.length + BATTLE_ATTACKS.findIndex(([dx, dy]) => dx === 1 && dy === 0);
    env.step(Int32Array.from([hit, STAY]));
    env.step(Int32Array.from([hit, STAY]));
    const [ep] = env.drainEpisodes();
    const r = ep.replay!;
    expect(r.steps).toBe(2);
    expect(isBattleReplay(r)).toBe(true);
    expect(replayKind(r)).toBe('battle');
    const m = battleMeta(r);
    expect(m).toMatchObject({ mapSize: 16, armySize: 1, maxHp: 10, numMoves: 13 });
    expect(unitsAt(r, m, 0)).toEqual([
      { x: 5, y: 5, hp: 1, team: 0 },
      { x: 6, y: 5, hp: 0.3, team: 1 },
    ]);
    expect(unitsAt(r, m, 1)[1].hp).toBeCloseTo(0.11, 6); // 3 - 2 + 0.1
    expect(attacksInto(r, m, 1)).toEqual([{ x0: 5, y0: 5, x1: 6, y1: 5, team: 0 }]);
    expect(aliveAt(r, m, 1)).toEqual([1, 1]);
    expect(aliveAt(r, m, 2)).toEqual([1, 0]); // 1.1 - 2 < 0: killed, the episode ends
    expect(unitsAt(r, m, 2)).toHaveLength(1);
    expect(ep.metrics.red_win).toBe(1);
  });
});
