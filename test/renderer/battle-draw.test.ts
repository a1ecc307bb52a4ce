// @vitest-environment happy-dom
/**
 * The battle replay's drawing at scale: a recorded 64 vs 64 episode drawn into a recording
 * 2-D context costs a fixed handful of fills and strokes per frame however many units there
 * are (one path per army and shade, one stroke per army), every alive unit is one rectangle at
 * its cell, every attack one segment; the timeline gets one marker per step with casualties,
 * not one per unit and reward; and the frame component draws on mount.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { BATTLE_ATTACKS, BATTLE_MOVES, BattleVecEnv, STAY, battleEntry } from '../../src-shared/envs/battle';
import { resolve } from '../../src-shared/config/schema';
import { Rng } from '../../src-shared/rng';
import { aliveAt, battleMeta } from '../../src-renderer/components/replay/battle/battle-read';
import { HP_LEVELS, battleMarkers, drawBattle, hpLevel } from '../../src-renderer/components/replay/battle/battle-draw';
import type { Replay } from '../../src-shared/envs/types';

/** A 2-D context that records what is drawn. */
function recordingContext() {
  const calls = { rect: [] as number[][], fill: 0, stroke: 0, moveTo: 0, lineTo: 0, fillRect: 0, alphas: new Set<number>() };
  const ctx = {
    globalAlpha: 1,
    fillStyle: '',
    strokeStyle: '',
    lineWidth: 1,
    beginPath() {},
    rect(x: number, y: number, w: number, h: number) {
      calls.rect.push([x, y, w, h]);
    },
    fill() {
      calls.fill++;
      calls.alphas.add(ctx.globalAlpha);
    },
    stroke() {
      calls.stroke++;
    },
    moveTo() {
      calls.moveTo++;
    },
    lineTo() {
      calls.lineTo++;
    },
    fillRect() {
      calls.fillRect++;
    },
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, calls };
}

function recordEpisode(K: number, steps: number): Replay {
  const env = battleEntry.create(resolve('env', battleEntry.schema, { armySize: K, episodeLimit: steps }), { numEnvs: 1, autoReset: false }) as BattleVecEnv;
  env.reset(3);
  env.setRecording(0, true);
  const N = 2 * K;
  const rng = new Rng(4);
  const acts = new Int32Array(N);
  for (let t = 0; t < steps; t++) {
    // Half the units attack a random neighbour, the rest move or stay.
    for (let i = 0; i < N; i++) acts[i] = env.actionMask[i * 21 + 13] ? (rng.float() < 0.5 ? BATTLE_MOVES.length + rng.int(BATTLE_ATTACKS.length) : rng.int(BATTLE_MOVES.length)) : STAY;
    env.step(acts);
    if (env.dones[0]) break;
  }
  return env.drainEpisodes()[0].replay!;
}

describe('battle drawing', () => {
  const r = recordEpisode(64, 40);
  const m = battleMeta(r);
  const N = 2 * m.armySize;

  it('a frame is at most 2 x HP_LEVELS fills and 2 strokes, one rectangle per alive unit, one segment per attack', () => {
    for (const f of [0, 1, 20, r.steps]) {
      const { ctx, calls } = recordingContext();
      const count = drawBattle(ctx, r, m, f, 520, { floor: '#fff', wall: '#999' });
      const alive = aliveAt(r, m, f);
      expect(calls.rect).toHaveLength(alive[0] + alive[1]);
      expect(calls.fill).toBe(count.fills);
      expect(calls.fill).toBeLessThanOrEqual(2 * HP_LEVELS);
      expect(calls.stroke).toBeLessThanOrEqual(2);
      let attacks = 0;
      if (f >= 1) for (let i = 0; i < N; i++) if (r.columns.hp10[(f - 1) * N + i] >= 0 && r.columns.action[(f - 1) * N + i] >= BATTLE_MOVES.length) attacks++;
      expect(calls.moveTo).toBe(attacks);
      expect(calls.lineTo).toBe(attacks);
      if (f >= 1) expect(attacks).toBeGreaterThan(10);
    }
    // Unit 0's rectangle sits at its cell.
    const { ctx, calls } = recordingContext();
    drawBattle(ctx, r, m, 0, 520, { floor: '#fff', wall: '#999' });
    const cell = 520 / m.mapSize;
    const x0 = r.columns.x[0] * cell + 0.5;
    const y0 = r.columns.y[0] * cell + 0.5;
    expect(calls.rect.some(([x, y]) => Math.abs(x - x0) < 1e-9 && Math.abs(y - y0) < 1e-9)).toBe(true);
  });

  it('hit points fall into HP_LEVELS shades, full hp the brightest', () => {
    expect(hpLevel(100, 10)).toBe(HP_LEVELS - 1);
    expect(hpLevel(0, 10)).toBe(0);
    expect(hpLevel(49, 10)).toBe(1);
    expect(hpLevel(-1, 10)).toBe(0);
  });

  it('timeline: one marker per step with casualties, coloured by the first casualty', () => {
    const env = battleEntry.create({ armySize: 2, mapSize: 16 }, { numEnvs: 1, autoReset: false }) as BattleVecEnv;
    env.reset(1);
    env.setRecording(0, true);
    env.setBoard(0, [{ x: 5, y: 5 }, { x: 5, y: 8 }, { x: 6, y: 5, hp: 1 }, { x: 6, y: 8, hp: 1 }]);
    const hit = BATTLE_MOVES.length + BATTLE_ATTACKS.findIndex(([dx, dy]) => dx === 1 && dy === 0);
    env.step(Int32Array.from([STAY, STAY, STAY, STAY]));
    env.step(Int32Array.from([hit, STAY, STAY, STAY]));
    env.step(Int32Array.from([STAY, hit, STAY, STAY]));
    const small = env.drainEpisodes()[0].replay!;
    expect(small.steps).toBe(3);
    const marks = battleMarkers(small, battleMeta(small));
    expect(marks.map((k) => [k.kind, k.frame, k.agent, k.value, k.label])).toEqual([
      ['kill', 2, 2, 1, '0 red, 1 blue killed'],
      ['kill', 3, 3, 1, '0 red, 1 blue killed'],
    ]);
    // The 64 vs 64 episode: no more markers than steps.
    expect(battleMarkers(r, m).length).toBeLessThanOrEqual(r.steps);
  });

  it('the frame component draws into its canvas on mount and names the survivors', async () => {
    const BattleFrame = (await import('../../src-renderer/components/replay/battle/BattleFrame.vue')).default;
    const { ctx, calls } = recordingContext();
    const proto = HTMLCanvasElement.prototype as unknown as { getContext: () => unknown };
    const orig = proto.getContext;
    proto.getContext = () => ctx;
    try {
      const w = mount(BattleFrame, { props: { replay: r, frame: 5 } });
      const alive = aliveAt(r, m, 5);
      expect(calls.rect).toHaveLength(alive[0] + alive[1]);
      expect(w.find('canvas').attributes('aria-label')).toContain(`red ${alive[0]}, blue ${alive[1]} alive`);
      w.unmount();
    } finally {
      proto.getContext = orig;
    }
  });
});
