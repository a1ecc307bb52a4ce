/**
 * Manitokan rules, encodings, options, metrics, checkpoints and replays on hand-built layouts.
 *
 * Coordinates are (x, y) with x the column (right is +x) and y the row (down is +y). For N = 2
 * the grid is 6x6 with walls on x, y in {0, 5}. Directions: 0 right, 1 down, 2 left, 3 up.
 * Actions: 0 left, 1 right, 2 forward, 3 pickup, 4 drop, 5 toggle.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, defaults, type Values } from '../../src-shared/config/schema';
import { Rng } from '../../src-shared/rng';
import {
  ManitokanVecEnv,
  manitokanEntry,
  parseManitokanConfig,
  replayObservation,
  setLayoutForTest,
  type TestLayout,
} from '../../src-shared/envs/manitokan';
import { processVis, VIS_TABLE, viewCodeOf, viewCodeTable } from '../../src-shared/envs/manitokan-observe';
import { EVENT_DOOR_OPENED, EVENT_DROP, EVENT_NO_EFFECT, EVENT_PICKUP } from '../../src-shared/envs/manitokan-replay';
import type { EpisodeRecord, VecEnv } from '../../src-shared/envs/types';

const L = 0,
  R = 1,
  F = 2,
  PICK = 3,
  DROP = 4,
  TOG = 5;

// MiniGrid triples.
const U = [0, 0, 0];
const E = [1, 0, 0];
const W = [2, 5, 0];
const K = [5, 2, 0];
const D0 = [4, 3, 2]; // purple, locked
const D1 = [4, 4, 2]; // yellow, locked
const D2 = [4, 6, 2]; // orange
const D3 = [4, 7, 2]; // cyan
const agentCell = (owner: number, dir: number) => [10, [3, 4, 6, 7][owner], dir];
/** A 27-int view from its nine cells in flatten order k = vx*3 + vy. */
const view = (...cells: number[][]) => {
  expect(cells.length).toBe(9);
  return cells.flat();
};

function make(config: Values = {}, numEnvs = 1, autoReset = true): ManitokanVecEnv {
  const env = manitokanEntry.create(config, { numEnvs, autoReset }) as ManitokanVecEnv;
  env.reset(1);
  return env;
}
function step(env: VecEnv, ...actions: number[]): void {
  env.step(Int32Array.from(actions));
}
function obsOf(env: VecEnv, i: number, b = 0): number[] {
  const O = env.spec.obsSize;
  const o = (b * env.spec.numAgents + i) * O;
  return Array.from(env.obs.subarray(o, o + O));
}
function finalObsOf(env: VecEnv, i: number, b = 0): number[] {
  const O = env.spec.obsSize;
  const o = (b * env.spec.numAgents + i) * O;
  return Array.from(env.finalObs.subarray(o, o + O));
}
function rewards(env: VecEnv, b = 0): number[] {
  const N = env.spec.numAgents;
  return Array.from(env.rewards.subarray(b * N, b * N + N));
}
function mask(env: VecEnv, i: number, b = 0): number[] {
  const o = (b * env.spec.numAgents + i) * 6;
  return Array.from(env.actionMask.subarray(o, o + 6));
}
/** Global-state encoding of cell (x, y) of copy b. */
function stateCell(env: VecEnv, x: number, y: number, b = 0): number[] {
  const S = Math.round(Math.sqrt((env.spec.stateSize - 3 * env.spec.numAgents) / 3));
  const o = b * env.spec.stateSize + (x * S + y) * 3;
  return Array.from(env.state.subarray(o, o + 3));
}
function carrying(env: ManitokanVecEnv, i: number, b = 0): boolean {
  return mask(env, i, b)[DROP] === 1;
}

/**
 * The scripted episode (N = 2, fixed order): agent 0 picks up the key, opens its door, drops the
 * key in front of agent 1, which picks it up in the same step and opens its own door.
 */
const SCRIPT_LAYOUT: TestLayout = {
  agents: [
    { x: 1, y: 2, dir: 0 },
    { x: 3, y: 2, dir: 2 },
  ],
  doors: [
    { x: 1, y: 3 },
    { x: 3, y: 1 },
  ],
  key: { x: 2, y: 2 },
};
const SCRIPT: [number, number][] = [
  [PICK, R], // t0: a0 takes the key; a1 turns up (faces door 1)
  [R, L], // t1: a0 faces down (door 0); a1 faces left (the key's old cell)
  [TOG, L], // t2: a0 opens door 0 (+0.5); a1 faces down
  [L, R], // t3: a0 faces right (2,2); a1 faces left (2,2)
  [DROP, PICK], // t4: a0 drops the key on (2,2); a1 picks it up in the same step
  [L, R], // t5: a0 faces up; a1 faces up (door 1)
  [F, TOG], // t6: a0 moves to (1,1); a1 opens door 1: terminal
];

describe('manitokan config and spec', () => {
  it('resolves defaults to the paper setting and sizes', () => {
    const spec = manitokanEntry.spec(defaults(manitokanEntry.schema));
    expect(spec).toMatchObject({ id: 'manitokan', numAgents: 2, obsSize: 27, envObsSize: 27, numActions: 6, stateSize: 114, episodeLimit: 150 });
    expect(spec.actionNames).toEqual(['left', 'right', 'forward', 'pickup', 'drop', 'toggle']);
    for (const f of Object.values(manitokanEntry.schema)) expect(f.doc.length).toBeGreaterThan(10);
  });

  it('derives observation sizes from the flags (last action excluded from envObsSize)', () => {
    expect(manitokanEntry.spec({ obsDoorFlag: true })).toMatchObject({ obsSize: 30, envObsSize: 30 });
    expect(manitokanEntry.spec({ obsDoorFlag: true, obsKeyFlag: true })).toMatchObject({ obsSize: 33, envObsSize: 33 });
    expect(manitokanEntry.spec({ obsLastAction: true })).toMatchObject({ obsSize: 33, envObsSize: 27 });
    expect(manitokanEntry.spec({ obsDoorFlag: true, obsKeyFlag: true, obsLastAction: true })).toMatchObject({ obsSize: 39, envObsSize: 33 });
  });

  it('sizes the grid as interiorSize + N', () => {
    expect(manitokanEntry.spec({ numAgents: 3 }).stateSize).toBe(7 * 7 * 3 + 9);
    expect(manitokanEntry.spec({ numAgents: 4 }).stateSize).toBe(8 * 8 * 3 + 12);
    expect(manitokanEntry.spec({ interiorSize: 8 }).stateSize).toBe(10 * 10 * 3 + 6);
    expect(parseManitokanConfig({ numAgents: 3, interiorSize: 2 }).size).toBe(5);
  });

  it('rejects bad values with errors naming the field', () => {
    expect(() => manitokanEntry.spec({ individualReward: [0.5, 0.5, 0.5] })).toThrow(/env\.individualReward/);
    expect(() => manitokanEntry.create({ numAgents: 3, individualReward: [1, 2] }, { numEnvs: 1 })).toThrow(ConfigError);
    expect(() => manitokanEntry.spec({ numAgents: 3, individualReward: [1, 2, 3] })).not.toThrow();
    // 2x2 interior cannot hold 2 agents, 2 doors and the key.
    expect(() => manitokanEntry.spec({ interiorSize: 2 })).toThrow(/env\.interiorSize/);
    expect(() => manitokanEntry.spec({ numAgents: 5 })).toThrow(/env\.numAgents/);
    expect(() => manitokanEntry.spec({ rewardMode: 'nope' })).toThrow(/env\.rewardMode/);
  });

  it('spec(config) matches create(config).spec', () => {
    for (const cfg of [{}, { numAgents: 4, obsLastAction: true }, { interiorSize: 16, obsKeyFlag: true }] as Values[]) {
      expect(manitokanEntry.create(cfg, { numEnvs: 2 }).spec).toEqual(manitokanEntry.spec(cfg));
    }
  });
});

describe('manitokan occlusion table', () => {
  it('follows MiniGrid process_vis on hand cases', () => {
    const bit = (vx: number, vy: number) => 1 << (vx * 3 + vy);
    const all = 511;
    expect(processVis(all)).toBe(all);
    // Nothing see-through: only the agent's own cell.
    expect(processVis(0)).toBe(bit(1, 2));
    // Only the own cell see-through: its row and the row ahead, not the far row.
    expect(processVis(bit(1, 2))).toBe(bit(0, 2) | bit(1, 2) | bit(2, 2) | bit(0, 1) | bit(1, 1) | bit(2, 1));
    for (let s = 0; s < 512; s++) expect(VIS_TABLE[s]).toBe(processVis(s));
  });
});

describe('manitokan view encoding', () => {
  // Agent 0 at (2,2); key (2,1) above it, door 0 (3,2) to its right, door 1 (1,3) down-left.
  const open = (dir: number): TestLayout => ({
    agents: [
      { x: 2, y: 2, dir },
      { x: 4, y: 4, dir: 0 },
    ],
    doors: [
      { x: 3, y: 2 },
      { x: 1, y: 3 },
    ],
    key: { x: 2, y: 1 },
  });
  const expected: Record<number, number[]> = {
    0: view(E, E, K, E, D0, E, E, E, E),
    1: view(E, E, D0, E, E, E, E, D1, E),
    2: view(W, D1, E, W, E, E, W, E, K),
    3: view(W, E, E, W, K, E, W, E, D0),
  };
  for (const dir of [0, 1, 2, 3]) {
    it(`encodes the 3x3 view facing ${['right', 'down', 'left', 'up'][dir]}`, () => {
      const env = make();
      setLayoutForTest(env, 0, open(dir));
      expect(obsOf(env, 0)).toEqual(expected[dir]);
    });
  }

  // Corridor: walls front-left and front-right, door 0 straight ahead, key behind it.
  const corridor: Record<number, TestLayout> = {
    0: { agents: [{ x: 2, y: 2, dir: 0 }, { x: 4, y: 4, dir: 0 }], walls: [{ x: 3, y: 1 }, { x: 3, y: 3 }], doors: [{ x: 3, y: 2 }, { x: 1, y: 1 }], key: { x: 4, y: 2 } },
    1: { agents: [{ x: 2, y: 2, dir: 1 }, { x: 4, y: 4, dir: 0 }], walls: [{ x: 3, y: 3 }, { x: 1, y: 3 }], doors: [{ x: 2, y: 3 }, { x: 1, y: 1 }], key: { x: 2, y: 4 } },
    2: { agents: [{ x: 3, y: 3, dir: 2 }, { x: 4, y: 4, dir: 0 }], walls: [{ x: 2, y: 4 }, { x: 2, y: 2 }], doors: [{ x: 2, y: 3 }, { x: 1, y: 1 }], key: { x: 1, y: 3 } },
    3: { agents: [{ x: 3, y: 3, dir: 3 }, { x: 4, y: 4, dir: 0 }], walls: [{ x: 2, y: 2 }, { x: 4, y: 2 }], doors: [{ x: 3, y: 2 }, { x: 1, y: 1 }], key: { x: 3, y: 1 } },
  };
  for (const dir of [0, 1, 2, 3]) {
    it(`occludes the far row behind a walled door facing ${['right', 'down', 'left', 'up'][dir]}`, () => {
      const env = make();
      setLayoutForTest(env, 0, corridor[dir]);
      expect(obsOf(env, 0)).toEqual(view(U, W, E, U, D0, E, U, W, E));
    });
  }

  it('lets light around one side and along the far row (MiniGrid row-0 pass)', () => {
    const env = make();
    const base = { agents: [{ x: 2, y: 2, dir: 0 }, { x: 4, y: 4, dir: 0 }], walls: [{ x: 3, y: 1 }] };
    // Key two ahead: see-through, so the far-left cell is revealed along the far row.
    setLayoutForTest(env, 0, { ...base, doors: [{ x: 3, y: 2 }, { x: 1, y: 1 }], key: { x: 4, y: 2 } });
    expect(obsOf(env, 0)).toEqual(view(E, W, E, K, D0, E, E, E, E));
    // Door 1 two ahead blocks that pass: the far-left cell stays unseen.
    setLayoutForTest(env, 0, { ...base, doors: [{ x: 3, y: 2 }, { x: 4, y: 2 }], key: { x: 1, y: 1 } });
    expect(obsOf(env, 0)).toEqual(view(U, W, E, D1, D0, E, E, E, E));
  });

  it('reads the border (and anything beyond it) as walls / unseen', () => {
    const env = make();
    // At (1,1) facing up the far row is outside the grid, behind the border: unseen.
    setLayoutForTest(env, 0, { agents: [{ x: 1, y: 1, dir: 3 }, { x: 4, y: 4, dir: 0 }], doors: [{ x: 4, y: 1 }, { x: 1, y: 4 }], key: { x: 3, y: 3 } });
    expect(obsOf(env, 0)).toEqual(view(U, W, W, U, W, E, U, W, E));
    // At (1,1) facing left: row ahead is the x = 0 border, the far row is at x = -1.
    setLayoutForTest(env, 0, { agents: [{ x: 1, y: 1, dir: 2 }, { x: 4, y: 4, dir: 0 }], doors: [{ x: 4, y: 1 }, { x: 1, y: 4 }], key: { x: 3, y: 3 } });
    expect(obsOf(env, 0)).toEqual(view(U, W, E, U, W, E, U, W, W));
  });

  it('draws other agents (colour of their door, state = direction) only when on and visible', () => {
    const layout: TestLayout = {
      agents: [
        { x: 1, y: 2, dir: 0 },
        { x: 3, y: 2, dir: 3 },
      ],
      doors: [
        { x: 1, y: 3 },
        { x: 3, y: 1 },
      ],
      key: { x: 4, y: 4 },
    };
    const on = make();
    setLayoutForTest(on, 0, layout);
    // Agent 1 two cells ahead of agent 0; agents do not occlude.
    expect(obsOf(on, 0)).toEqual(view(D1, E, E, agentCell(1, 3), E, E, E, E, D0));
    // Agent 1 faces up and sees x in 2..4 only: agent 0 at x = 1 is out of its view.
    expect(obsOf(on, 1).slice(0, 27)).not.toContain(10);
    const off = make({ showOtherAgents: false });
    setLayoutForTest(off, 0, layout);
    expect(obsOf(off, 0)).toEqual(view(D1, E, E, E, E, E, E, E, D0));

    // Occluded agents are not drawn: agent 1 behind door 0 in the corridor.
    setLayoutForTest(on, 0, { ...corridorLayoutWithAgentBehind() });
    expect(obsOf(on, 0)).toEqual(view(U, W, E, U, D0, E, U, W, E));

    // Another agent on the viewer's own cell is drawn there; the viewer itself never is.
    setLayoutForTest(on, 0, {
      agents: [
        { x: 2, y: 2, dir: 0 },
        { x: 2, y: 2, dir: 1 },
      ],
      doors: [
        { x: 4, y: 4 },
        { x: 1, y: 4 },
      ],
      key: { x: 4, y: 1 },
    });
    expect(obsOf(on, 0)).toEqual(view(K, E, E, E, E, agentCell(1, 1), E, E, E));
    expect(obsOf(on, 1).slice(15, 18)).toEqual(agentCell(0, 0));
  });

  it('uses door colours orange and cyan for agents 2 and 3', () => {
    const env = make({ numAgents: 4 }); // 8x8 grid
    setLayoutForTest(env, 0, {
      agents: [
        { x: 3, y: 3, dir: 0 },
        { x: 6, y: 6, dir: 0 },
        { x: 6, y: 1, dir: 0 },
        { x: 3, y: 4, dir: 2 },
      ],
      doors: [
        { x: 1, y: 6 },
        { x: 2, y: 6 },
        { x: 5, y: 3 },
        { x: 4, y: 2 },
      ],
      key: { x: 1, y: 1 },
    });
    // Facing right from (3,3): world (5 - vy, 2 + vx).
    expect(obsOf(env, 0)).toEqual(view(E, D3, E, D2, E, E, E, E, agentCell(3, 2)));
  });
});

function corridorLayoutWithAgentBehind(): TestLayout {
  return {
    agents: [
      { x: 2, y: 2, dir: 0 },
      { x: 4, y: 2, dir: 1 },
    ],
    walls: [
      { x: 3, y: 1 },
      { x: 3, y: 3 },
    ],
    doors: [
      { x: 3, y: 2 },
      { x: 1, y: 1 },
    ],
    key: { x: 4, y: 4 },
  };
}

describe('manitokan rules', () => {
  it('picks up the key in front (removing it from the grid) and only then unmasks drop/toggle', () => {
    const env = make({ obsKeyFlag: true });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    expect(mask(env, 0)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(stateCell(env, 2, 2)).toEqual(K);
    // Agent 1 faces the key too, but turns; agent 0 picks up.
    step(env, PICK, R);
    expect(mask(env, 0)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(mask(env, 1)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(obsOf(env, 0).slice(27)).toEqual([53, 53, 53]);
    expect(obsOf(env, 1).slice(27)).toEqual([59, 59, 59]);
    expect(stateCell(env, 2, 2)).toEqual(E);
    expect(obsOf(env, 0).slice(12, 15)).toEqual(E); // (vx=1, vy=1): the emptied cell
    // A pickup facing an empty cell does nothing.
    step(env, PICK, PICK);
    expect(carrying(env, 0)).toBe(true);
    expect(carrying(env, 1)).toBe(false);
  });

  it('drops only onto a cell without objects (an agent standing there does not block)', () => {
    const env = make();
    const base: TestLayout = {
      agents: [
        { x: 1, y: 2, dir: 3 }, // faces (1,1), which holds door 1
        { x: 3, y: 3, dir: 0 },
      ],
      doors: [
        { x: 2, y: 2 },
        { x: 1, y: 1 },
      ],
      key: null,
      carrier: 0,
    };
    setLayoutForTest(env, 0, base);
    step(env, DROP, L); // front (1,1) = door 1: refused
    expect(carrying(env, 0)).toBe(true);
    step(env, L, L); // face left: (0,2) = wall
    step(env, DROP, L);
    expect(carrying(env, 0)).toBe(true);
    step(env, R, L); // face up again
    step(env, R, L); // face right: (2,2) = door 0
    step(env, DROP, L);
    expect(carrying(env, 0)).toBe(true);
    step(env, R, L); // face down: (1,3) empty
    step(env, DROP, L);
    expect(carrying(env, 0)).toBe(false);
    expect(stateCell(env, 1, 3)).toEqual(K);

    // Onto another agent's cell: allowed; that agent's own cell then shows the key.
    setLayoutForTest(env, 0, {
      agents: [
        { x: 1, y: 2, dir: 0 },
        { x: 2, y: 2, dir: 1 },
      ],
      doors: [
        { x: 4, y: 4 },
        { x: 4, y: 1 },
      ],
      key: null,
      carrier: 0,
    });
    step(env, DROP, L);
    expect(carrying(env, 0)).toBe(false);
    expect(stateCell(env, 2, 2)).toEqual(K);
    expect(obsOf(env, 1).slice(15, 18)).toEqual(K);
    // Agents are not objects: agent 0 cannot walk into the key cell, but agent 1 can leave it.
    step(env, F, R); // agent 0's forward is blocked by the key; agent 1 turns from right to down
    expect(obsOf(env, 0).slice(12, 15)).toEqual(agentCell(1, 1)); // drawn over the key
    expect(Array.from(env.state.subarray(108, 110))).toEqual([1, 2]);
  });

  it('lets agents share cells (no collisions)', () => {
    const env = make();
    setLayoutForTest(env, 0, {
      agents: [
        { x: 1, y: 2, dir: 0 },
        { x: 2, y: 2, dir: 0 },
      ],
      doors: [
        { x: 4, y: 4 },
        { x: 4, y: 1 },
      ],
      key: { x: 1, y: 4 },
    });
    step(env, F, L);
    expect(Array.from(env.state.subarray(108, 112))).toEqual([2, 2, 2, 2]);
  });

  it('opens a door only for its owner carrying the key; the door vanishes and the key stays', () => {
    const env = make({ pruneActions: false, obsDoorFlag: true, obsKeyFlag: true });
    // Agent 1 carries the key and faces door 0; agent 0 faces its own door without the key.
    setLayoutForTest(env, 0, {
      agents: [
        { x: 1, y: 2, dir: 1 },
        { x: 3, y: 2, dir: 2 },
      ],
      doors: [
        { x: 2, y: 2 },
        { x: 4, y: 4 },
      ],
      key: null,
      carrier: 1,
    });
    step(env, L, TOG); // agent 0 turns to face door 0; agent 1 toggles someone else's door: nothing
    expect(rewards(env)).toEqual([0, 0]);
    expect(stateCell(env, 2, 2)).toEqual(D0);
    step(env, TOG, L); // agent 0 toggles its own door without the key: nothing (pruneActions off)
    expect(stateCell(env, 2, 2)).toEqual(D0);
    expect(rewards(env)).toEqual([0, 0]);

    // Now agent 0 with the key.
    setLayoutForTest(env, 0, {
      agents: [
        { x: 1, y: 2, dir: 0 },
        { x: 3, y: 3, dir: 2 },
      ],
      doors: [
        { x: 2, y: 2 },
        { x: 4, y: 4 },
      ],
      key: null,
      carrier: 0,
    });
    expect(obsOf(env, 0).slice(27)).toEqual([37, 37, 37, 53, 53, 53]);
    step(env, TOG, L);
    expect(rewards(env)).toEqual([0.5, 0]);
    expect(stateCell(env, 2, 2)).toEqual(E);
    expect(obsOf(env, 0).slice(27)).toEqual([23, 23, 23, 53, 53, 53]); // keeps the key
    expect(obsOf(env, 1).slice(27)).toEqual([37, 37, 37, 59, 59, 59]);
    expect(env.dones[0]).toBe(0);
    step(env, F, L); // walks through where the door was
    expect(Array.from(env.state.subarray(108, 110))).toEqual([2, 2]);
    step(env, TOG, L); // toggling again (nothing in front) gives nothing
    expect(rewards(env)).toEqual([0, 0]);
  });

  it('masks drop/toggle without the key; pruneActions=false leaves all on as no-ops', () => {
    const env = make();
    for (let i = 0; i < 2; i++) expect(mask(env, i)).toEqual([1, 1, 1, 1, 0, 0]);
    const free = make({ pruneActions: false });
    setLayoutForTest(free, 0, SCRIPT_LAYOUT);
    expect(mask(free, 0)).toEqual([1, 1, 1, 1, 1, 1]);
    const before = free.getState() as Record<string, unknown>;
    step(free, DROP, TOG);
    const after = free.getState() as Record<string, unknown>;
    expect(after.grid).toEqual(before.grid);
    expect(after.carrier).toEqual(before.carrier);
    expect(rewards(free)).toEqual([0, 0]);
  });

  it('resolves actions sequentially in agent order (fixed: agent 0 first)', () => {
    const env = make();
    setLayoutForTest(env, 0, SCRIPT_LAYOUT); // both agents face the key at (2,2)
    step(env, PICK, PICK);
    expect(carrying(env, 0)).toBe(true);
    expect(carrying(env, 1)).toBe(false);
    // Same layout with order [1, 0]: agent 1 wins.
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, order: [1, 0] });
    step(env, PICK, PICK);
    expect(carrying(env, 0)).toBe(false);
    expect(carrying(env, 1)).toBe(true);
    // A drop and a pickup of the same cell in one step work only if the dropper goes first.
    // (setLayoutForTest keeps the episode's current order unless `order` is given.)
    const gift: TestLayout = { ...SCRIPT_LAYOUT, key: null, carrier: 0, order: [0, 1] };
    setLayoutForTest(env, 0, gift);
    step(env, DROP, PICK);
    expect(carrying(env, 1)).toBe(true);
    setLayoutForTest(env, 0, { ...gift, order: [1, 0] });
    step(env, DROP, PICK);
    expect(carrying(env, 1)).toBe(false);
    expect(stateCell(env, 2, 2)).toEqual(K);
  });

  it('alternates the first mover between episodes of a copy', () => {
    const env = make({ agentOrder: 'alternating', episodeLimit: 1 });
    expect(env.episodeOrder(0)).toEqual([0, 1]);
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    step(env, PICK, PICK); // ends the episode (limit 1)
    let [ep] = env.drainEpisodes();
    expect([ep.metrics.key_pickups_0, ep.metrics.key_pickups_1]).toEqual([1, 0]);
    expect(env.episodeOrder(0)).toEqual([1, 0]);
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    step(env, PICK, PICK);
    [ep] = env.drainEpisodes();
    expect([ep.metrics.key_pickups_0, ep.metrics.key_pickups_1]).toEqual([0, 1]);
    expect(env.episodeOrder(0)).toEqual([0, 1]);
    // N = 3: the first mover cycles 0, 1, 2, 0.
    const three = make({ agentOrder: 'alternating', numAgents: 3, episodeLimit: 1 });
    const firsts: number[] = [];
    for (let e = 0; e < 4; e++) {
      firsts.push(three.episodeOrder(0)[0]);
      step(three, L, L, L);
    }
    expect(firsts).toEqual([0, 1, 2, 0]);
    expect(three.episodeOrder(0)).toEqual([1, 2, 0]);
  });

  it('draws a uniform random order per episode and resolves by it', () => {
    const env = make({ agentOrder: 'random', episodeLimit: 1 });
    const seen = new Map<string, number>();
    for (let e = 0; e < 400; e++) {
      const order = env.episodeOrder(0);
      seen.set(order.join(), (seen.get(order.join()) ?? 0) + 1);
      setLayoutForTest(env, 0, SCRIPT_LAYOUT);
      step(env, PICK, PICK);
      const [ep] = env.drainEpisodes();
      expect(ep.metrics[`key_pickups_${order[0]}`]).toBe(1);
      expect(ep.metrics[`key_pickups_${order[1]}`]).toBe(0);
    }
    expect([...seen.keys()].sort()).toEqual(['0,1', '1,0']);
    expect(seen.get('0,1')!).toBeGreaterThan(150);
    expect(seen.get('1,0')!).toBeGreaterThan(150);
    const three = make({ agentOrder: 'random', numAgents: 3, episodeLimit: 1 });
    const perms = new Set<string>();
    for (let e = 0; e < 200; e++) {
      perms.add(three.episodeOrder(0).join());
      step(three, L, L, L);
    }
    expect(perms.size).toBe(6);
  });

  it('pays individual and collective rewards and terminates when all doors are open', () => {
    const env = make();
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    const got: number[][] = [];
    for (const [a0, a1] of SCRIPT) {
      expect(env.dones[0]).toBe(0);
      step(env, a0, a1);
      got.push(rewards(env));
    }
    expect(got).toEqual([[0, 0], [0, 0], [0.5, 0], [0, 0], [0, 0], [0, 0], [1.0, 1.5]]);
    expect(env.dones[0]).toBe(1);
    expect(env.truncated[0]).toBe(0);
  });

  it('ends at the time limit with truncated set and no reward', () => {
    const env = make({ episodeLimit: 3 });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    step(env, L, L);
    step(env, L, L);
    expect(env.dones[0]).toBe(0);
    step(env, L, L);
    expect(env.dones[0]).toBe(1);
    expect(env.truncated[0]).toBe(1);
    const [ep] = env.drainEpisodes();
    expect(ep.metrics).toMatchObject({ collective_success: 0, episode_length: 3, first_reward_step: null, return_total: 0 });
  });

  it('counts the last door on the time-limit step as termination', () => {
    const env = make({ episodeLimit: 7 });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    for (const [a0, a1] of SCRIPT) step(env, a0, a1);
    expect([env.dones[0], env.truncated[0]]).toEqual([1, 0]);
  });
});

describe('manitokan metrics', () => {
  it('reports exact metrics of the scripted episode, in metricKeys order', () => {
    const env = make();
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    for (const [a0, a1] of SCRIPT) step(env, a0, a1);
    const eps = env.drainEpisodes();
    expect(eps).toHaveLength(1);
    expect(eps[0].envIndex).toBe(0);
    expect(eps[0].replay).toBeUndefined();
    const m = eps[0].metrics;
    expect(Object.keys(m)).toEqual([...env.spec.metricKeys]);
    expect(m).toEqual({
      collective_success: 1,
      door_opened_0: 1,
      door_opened_1: 1,
      return_0: 1.5,
      return_1: 1.5,
      return_total: 3,
      key_pickups_0: 1,
      key_pickups_1: 1,
      key_drops_0: 1,
      key_drops_1: 0,
      key_drops: 1,
      key_drops_nonzero: 1,
      key_drops_picked_up: 1,
      key_drop_choices_0: 1,
      key_drop_choices_1: 0,
      key_drop_choices: 1,
      collective_residual_0: 0.25,
      collective_residual_1: 0.25,
      return_normalised: 1,
      first_reward_step: 2,
      agent_distance: (6 * 2 + Math.sqrt(5)) / 7,
      episode_length: 7,
    });
    expect(env.drainEpisodes()).toEqual([]);
  });

  it('counts only drops that put the key on the floor, and failed pickups not at all', () => {
    const env = make({ pruneActions: false });
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, agents: [{ x: 1, y: 2, dir: 0 }, { x: 3, y: 3, dir: 0 }] });
    step(env, DROP, DROP); // not carrying
    step(env, PICK, PICK); // a0 picks; a1 faces (4,3): nothing
    step(env, L, PICK); // a0 faces up: (1,1) empty
    step(env, DROP, L); // a0 drops on (1,1)
    step(env, PICK, L); // a0 picks it back up
    step(env, R, L); // a0 faces right: (2,2) empty
    step(env, DROP, L);
    const m = finish(env);
    expect([m.key_pickups_0, m.key_pickups_1, m.key_drops_0, m.key_drops_1, m.key_drops]).toEqual([2, 0, 2, 0, 2]);
    expect(m.key_drops_nonzero).toBe(2);
    expect(m.first_reward_step).toBeNull();
  });

  it('key_drops_nonzero is null in an episode where the key was never picked up', () => {
    const env = make({});
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, agents: [{ x: 1, y: 2, dir: 0 }, { x: 3, y: 3, dir: 0 }] });
    const m = finish(env);
    expect(m.key_pickups_0! + m.key_pickups_1!).toBe(0);
    expect(m.key_drops).toBe(0);
    expect(m.key_drops_nonzero).toBeNull();
  });
});

/** Run a copy to its time limit with turn actions and return the episode's metrics. */
function finish(env: ManitokanVecEnv): EpisodeRecord['metrics'] {
  const N = env.spec.numAgents;
  for (let t = 0; t < env.spec.episodeLimit && !env.dones[0]; t++) step(env, ...new Array<number>(N).fill(L));
  const eps = env.drainEpisodes();
  expect(eps).toHaveLength(1);
  return eps[0].metrics;
}

describe('manitokan options', () => {
  it('appends door flag, key flag and last action in that order', () => {
    const env = make({ obsDoorFlag: true, obsKeyFlag: true, obsLastAction: true });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    expect(obsOf(env, 0).slice(27)).toEqual([37, 37, 37, 59, 59, 59, 0, 0, 0, 0, 0, 0]);
    step(env, PICK, R);
    expect(obsOf(env, 0).slice(27)).toEqual([37, 37, 37, 53, 53, 53, 0, 0, 0, 1, 0, 0]);
    expect(obsOf(env, 1).slice(27)).toEqual([37, 37, 37, 59, 59, 59, 0, 1, 0, 0, 0, 0]);
    step(env, R, L);
    step(env, TOG, L);
    expect(obsOf(env, 0).slice(27)).toEqual([23, 23, 23, 53, 53, 53, 0, 0, 0, 0, 0, 1]);
    for (const [a0, a1] of SCRIPT.slice(3)) step(env, a0, a1);
    expect(env.dones[0]).toBe(1);
    expect(finalObsOf(env, 1).slice(27)).toEqual([23, 23, 23, 53, 53, 53, 0, 0, 0, 0, 0, 1]);
    // The next episode starts with no last action and closed doors.
    expect(obsOf(env, 0).slice(27)).toEqual([37, 37, 37, 59, 59, 59, 0, 0, 0, 0, 0, 0]);
  });

  it('individual-only: no collective reward, still terminates', () => {
    const env = make({ rewardMode: 'individual-only' });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    const got: number[][] = [];
    for (const [a0, a1] of SCRIPT) {
      step(env, a0, a1);
      got.push(rewards(env));
    }
    expect(got[2]).toEqual([0.5, 0]);
    expect(got[6]).toEqual([0, 0.5]);
    expect(env.dones[0]).toBe(1);
    expect(env.drainEpisodes()[0].metrics).toMatchObject({ collective_success: 1, return_0: 0.5, return_1: 0.5 });
  });

  it('collective-only: no individual reward, collective payout sum r_j', () => {
    const env = make({ rewardMode: 'collective-only' });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    const got: number[][] = [];
    for (const [a0, a1] of SCRIPT) {
      step(env, a0, a1);
      got.push(rewards(env));
    }
    expect(got[2]).toEqual([0, 0]);
    expect(got[6]).toEqual([1, 1]);
    expect(env.drainEpisodes()[0].metrics.first_reward_step).toBe(6);
  });

  it('takes per-agent individual rewards', () => {
    const env = make({ individualReward: [0.25, 0.75] });
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    const got: number[][] = [];
    for (const [a0, a1] of SCRIPT) {
      step(env, a0, a1);
      got.push(rewards(env));
    }
    expect(got[2]).toEqual([0.25, 0]);
    expect(got[6]).toEqual([1, 1.75]);
  });

  it('oracle: pays once for the first successful drop after the own door opened', () => {
    const env = make({ oracleDropReward: 1 });
    // Drop before opening: no oracle.
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    step(env, PICK, L);
    step(env, L, L); // a0 faces up: (1,1) empty
    step(env, DROP, L);
    expect(rewards(env)).toEqual([0, 0]);
    // After opening: first drop pays 1, the second none.
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, key: null, carrier: 0, agents: [{ x: 1, y: 2, dir: 1 }, { x: 4, y: 4, dir: 0 }] });
    step(env, TOG, L);
    expect(rewards(env)).toEqual([0.5, 0]);
    step(env, DROP, L); // into the opened door's cell
    expect(rewards(env)).toEqual([1, 0]);
    step(env, PICK, L);
    step(env, DROP, L);
    expect(rewards(env)).toEqual([0, 0]);
    const m = finish(env);
    expect(m.return_0).toBe(1.5);
  });

  it('every-step penalty: each step that starts holding the key after opening', () => {
    const env = make({ holdingKeyPenalty: 0.5 });
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, key: null, carrier: 0, agents: [{ x: 1, y: 2, dir: 1 }, { x: 4, y: 4, dir: 0 }] });
    const got: number[] = [];
    for (const a of [TOG, L, L, DROP, L]) {
      step(env, a, L);
      got.push(rewards(env)[0]);
    }
    // open (+0.5, not charged), hold, hold, drop (started holding: charged), free.
    expect(got).toEqual([0.5, -0.5, -0.5, -0.5, 0]);
    expect(finish(env).first_reward_step).toBe(0);
  });

  it('toggle-only penalty (released code): only on toggles while holding after opening, incl. the opening', () => {
    const env = make({ holdingKeyPenalty: 0.5, holdingKeyPenaltyMode: 'toggle-only' });
    setLayoutForTest(env, 0, { ...SCRIPT_LAYOUT, key: null, carrier: 0, agents: [{ x: 1, y: 2, dir: 1 }, { x: 4, y: 4, dir: 0 }] });
    const got: number[] = [];
    for (const a of [TOG, L, TOG, DROP, TOG]) {
      step(env, a, L);
      got.push(rewards(env)[0]);
    }
    // open: 0.5 - 0.5; turn: 0; toggle holding: -0.5; drop (facing (2,2), empty): 0; toggle without key: 0.
    expect(got).toEqual([0, 0, -0.5, 0, 0]);
    // first_reward_step counts any non-zero reward: the opening step nets 0 here.
    expect(finish(env).first_reward_step).toBe(2);
  });

  const threeLayout: TestLayout = {
    // 7x7 grid. Agent 0 holds the key facing door 0; agent 1 waits across the door cell.
    agents: [
      { x: 1, y: 1, dir: 0 },
      { x: 3, y: 1, dir: 2 },
      { x: 5, y: 5, dir: 0 },
    ],
    doors: [
      { x: 2, y: 1 },
      { x: 3, y: 2 },
      { x: 1, y: 5 },
    ],
    key: null,
    carrier: 0,
  };
  const threeScript = [
    [TOG, L, L], // a0 opens door 0 (+0.5); a1 turns to face down (door 1)
    [DROP, R, L], // a0 drops the key where door 0 was; a1 faces left again (that cell)
    [L, PICK, L], // a1 picks up the key
    [L, L, L], // a1 faces down (door 1)
    [L, TOG, L], // a1 opens door 1: the second door
  ];

  it('two-doors (released code) ends a 3-agent episode at the second door; all-doors does not', () => {
    const two = make({ numAgents: 3, terminateOn: 'two-doors' });
    setLayoutForTest(two, 0, threeLayout);
    const got: number[][] = [];
    for (const a of threeScript) {
      step(two, ...a);
      got.push(rewards(two));
    }
    expect(got).toEqual([[0.5, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1.5, 1]]);
    expect([two.dones[0], two.truncated[0]]).toEqual([1, 0]);
    const [ep] = two.drainEpisodes();
    expect(ep.metrics).toMatchObject({ collective_success: 1, door_opened_0: 1, door_opened_1: 1, door_opened_2: 0, return_total: 4 });
    // Nobody moved: mean of the three pairwise distances (1,1)-(3,1), (1,1)-(5,5), (3,1)-(5,5).
    expect(ep.metrics.agent_distance).toBeCloseTo((2 + Math.sqrt(32) + Math.sqrt(20)) / 3, 12);

    const all = make({ numAgents: 3 });
    setLayoutForTest(all, 0, threeLayout);
    for (const a of threeScript) step(all, ...a);
    expect(rewards(all)).toEqual([0, 0.5, 0]);
    expect(all.dones[0]).toBe(0);
  });

  it('runs 3 and 4 agents on larger grids with valid layouts', () => {
    for (const [N, I] of [
      [2, 3],
      [3, 2],
      [3, 4],
      [4, 2],
      [4, 4],
      [2, 16],
    ]) {
      const env = make({ numAgents: N, interiorSize: I }, 4);
      const S = I + N;
      expect(env.spec.stateSize).toBe(S * S * 3 + 3 * N);
      const rng = new Rng(3);
      const actions = new Int32Array(4 * N);
      for (let t = 0; t < 300; t++) {
        for (let b = 0; b < 4; b++) checkLayout(env, b, N, S);
        randomLegal(env, actions, rng);
        env.step(actions);
      }
    }
  });

  it('places agents left of the split column and objects anywhere, fresh each episode', () => {
    const env = make({ episodeLimit: 1 }, 1);
    const xs = { agents: new Set<number>(), doors: new Set<number>() };
    const layouts = new Set<string>();
    for (let e = 0; e < 300; e++) {
      const st = Array.from(env.state);
      layouts.add(st.join());
      xs.agents.add(st[108]).add(st[110]);
      for (let x = 0; x < 6; x++) for (let y = 0; y < 6; y++) if (st[(x * 6 + y) * 3] === 4) xs.doors.add(x);
      step(env, L, L);
    }
    // split in [2, 6) lets agents reach x = 1..4; doors anywhere in 1..4.
    expect([...xs.agents].sort()).toEqual([1, 2, 3, 4]);
    expect([...xs.doors].sort()).toEqual([1, 2, 3, 4]);
    expect(layouts.size).toBeGreaterThan(250);
  });
});

/** Invariants of any reachable state: border walls, N doors at most, one key, agents inside. */
function checkLayout(env: VecEnv, b: number, N: number, S: number): void {
  const st = env.state.subarray(b * env.spec.stateSize, (b + 1) * env.spec.stateSize);
  const problems: string[] = [];
  let keys = 0;
  let doors = 0;
  for (let x = 0; x < S; x++) {
    for (let y = 0; y < S; y++) {
      const o = st[(x * S + y) * 3];
      const border = x === 0 || y === 0 || x === S - 1 || y === S - 1;
      if ((o === 2) !== border) problems.push(`cell (${x},${y}) = ${o}`);
      if (o === 5) keys++;
      if (o === 4) doors++;
    }
  }
  if (keys > 1 || doors > N) problems.push(`${keys} keys, ${doors} doors`);
  for (let i = 0; i < N; i++) {
    const x = st[S * S * 3 + 2 * i];
    const y = st[S * S * 3 + 2 * i + 1];
    const dir = st[S * S * 3 + 2 * N + i];
    if (!(x >= 1 && x <= S - 2 && y >= 1 && y <= S - 2 && dir >= 0 && dir <= 3)) problems.push(`agent ${i} at (${x},${y}) dir ${dir}`);
    // An agent stands on an empty cell or on a key dropped onto it.
    else if (![1, 5].includes(st[(x * S + y) * 3])) problems.push(`agent ${i} on object ${st[(x * S + y) * 3]}`);
  }
  expect(problems).toEqual([]);
}

function randomLegal(env: VecEnv, actions: Int32Array, rng: Rng): void {
  const A = env.spec.numActions;
  for (let r = 0; r < actions.length; r++) {
    let n = 0;
    for (let a = 0; a < A; a++) n += env.actionMask[r * A + a];
    let k = rng.int(n);
    for (let a = 0; a < A; a++) {
      if (env.actionMask[r * A + a] && k-- === 0) {
        actions[r] = a;
        break;
      }
    }
  }
}

/** Random legal play of T steps; returns obs/reward/done streams as one array. */
function rollout(env: VecEnv, T: number, actionSeed: number): number[] {
  const rng = new Rng(actionSeed);
  const actions = new Int32Array(env.numEnvs * env.spec.numAgents);
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    randomLegal(env, actions, rng);
    env.step(actions);
    out.push(...env.obs, ...env.rewards, ...env.dones, ...env.state);
  }
  return out;
}

describe('manitokan determinism and checkpoints', () => {
  it('same seed -> identical streams; different seeds differ', () => {
    const cfg = { obsLastAction: true, agentOrder: 'random' };
    const a = manitokanEntry.create(cfg, { numEnvs: 4 });
    const b = manitokanEntry.create(cfg, { numEnvs: 4 });
    a.reset(7);
    b.reset(7);
    expect(rollout(a, 400, 1)).toEqual(rollout(b, 400, 1));
    expect(a.drainEpisodes()).toEqual(b.drainEpisodes());
    a.reset(7);
    b.reset(8);
    expect(Array.from(a.obs)).not.toEqual(Array.from(b.obs));
    // Copies of one env have different streams.
    const one = make({}, 2);
    expect(Array.from(one.state.subarray(0, 114))).not.toEqual(Array.from(one.state.subarray(114, 228)));
  });

  it('getState/setState continues bit-identically (through JSON, across episodes)', () => {
    for (const cfg of [
      { agentOrder: 'alternating', obsLastAction: true, obsDoorFlag: true, obsKeyFlag: true, episodeLimit: 20 },
      { agentOrder: 'random', numAgents: 3, oracleDropReward: 1, holdingKeyPenalty: 0.5, episodeLimit: 30 },
    ] as Values[]) {
      for (const autoReset of [true, false]) {
        const a = manitokanEntry.create(cfg, { numEnvs: 3, autoReset });
        a.reset(11);
        rollout(a, 57, 2);
        if (!autoReset) a.resetFinished();
        a.drainEpisodes();
        const snap = JSON.parse(JSON.stringify(a.getState()));
        const b = manitokanEntry.create(cfg, { numEnvs: 3, autoReset });
        b.reset(999);
        b.setState(snap);
        expect(Array.from(b.obs)).toEqual(Array.from(a.obs));
        expect(Array.from(b.state)).toEqual(Array.from(a.state));
        expect(Array.from(b.actionMask)).toEqual(Array.from(a.actionMask));
        const contA: number[] = [];
        const contB: number[] = [];
        for (let k = 0; k < 5; k++) {
          contA.push(...rollout(a, 40, 3 + k));
          contB.push(...rollout(b, 40, 3 + k));
          if (!autoReset) {
            a.resetFinished();
            b.resetFinished();
          }
        }
        expect(contB).toEqual(contA);
        const ea = a.drainEpisodes();
        expect(ea.length).toBeGreaterThan(3);
        expect(b.drainEpisodes()).toEqual(ea);
      }
    }
  });

  it('rejects a state from a differently shaped env', () => {
    const a = make({}, 2);
    const b = make({}, 3);
    expect(() => b.setState(a.getState())).toThrow(/numEnvs/);
  });
});

describe('manitokan auto-reset', () => {
  it('auto-reset: done copy starts its next episode in the same step; finalObs holds the terminal obs', () => {
    const env = make({}, 2);
    setLayoutForTest(env, 1, SCRIPT_LAYOUT);
    const before = env.getState() as { episodeIndex: number[] };
    for (const [a0, a1] of SCRIPT) env.step(Int32Array.from([L, L, a0, a1]));
    expect(Array.from(env.dones)).toEqual([0, 1]);
    // Terminal obs of agent 0, at (1,1) facing up after the last step.
    const terminal = finalObsOf(env, 0, 1);
    expect(terminal).toEqual(view(U, W, W, U, W, E, U, W, E));
    expect(obsOf(env, 0, 1)).not.toEqual(terminal);
    const after = env.getState() as { episodeIndex: number[]; stepCount: number[] };
    expect(after.episodeIndex[1]).toBe(before.episodeIndex[1] + 1);
    expect(after.stepCount[1]).toBe(0);
    expect(env.finished[1]).toBe(0);
    expect(rewards(env, 1)).toEqual([1, 1.5]);
    // Next step: dones cleared.
    env.step(Int32Array.from([L, L, L, L]));
    expect(Array.from(env.dones)).toEqual([0, 0]);
  });

  it('without auto-reset a finished copy waits (actions ignored, rewards 0) until resetFinished', () => {
    const env = make({}, 2, false);
    setLayoutForTest(env, 1, SCRIPT_LAYOUT);
    for (const [a0, a1] of SCRIPT) env.step(Int32Array.from([L, L, a0, a1]));
    expect(Array.from(env.dones)).toEqual([0, 1]);
    expect(Array.from(env.finished)).toEqual([0, 1]);
    const frozen = Array.from(env.obs.subarray(54));
    expect(Array.from(env.finalObs.subarray(54))).toEqual(frozen);
    env.step(Int32Array.from([L, L, F, F]));
    expect(Array.from(env.obs.subarray(54))).toEqual(frozen);
    expect(rewards(env, 1)).toEqual([0, 0]);
    expect(Array.from(env.dones)).toEqual([0, 0]);
    expect(env.drainEpisodes()).toHaveLength(1);
    env.resetFinished();
    expect(Array.from(env.finished)).toEqual([0, 0]);
    expect(Array.from(env.obs.subarray(54))).not.toEqual(frozen);
    step(env, L, L, L, L);
    expect(env.drainEpisodes()).toHaveLength(0);
  });
});

describe('manitokan replays', () => {
  it('records the scripted episode with consistent columns and exact observations', () => {
    const env = make({ obsDoorFlag: true, obsKeyFlag: true, obsLastAction: true }, 2);
    setLayoutForTest(env, 1, SCRIPT_LAYOUT);
    env.setRecording(1, true); // copy 1 has not stepped since its layout: records from now
    const frames: number[][][] = [[obsOf(env, 0, 1), obsOf(env, 1, 1)]];
    for (const [a0, a1] of SCRIPT) {
      env.step(Int32Array.from([L, L, a0, a1]));
      frames.push(env.dones[1] ? [finalObsOf(env, 0, 1), finalObsOf(env, 1, 1)] : [obsOf(env, 0, 1), obsOf(env, 1, 1)]);
    }
    const [ep] = env.drainEpisodes();
    expect(ep.envIndex).toBe(1);
    const rp = ep.replay!;
    expect(rp).toBeDefined();
    expect(rp.envId).toBe('manitokan');
    expect(rp.steps).toBe(7);
    const c = rp.columns;
    expect(rp.meta).toMatchObject({
      width: 6,
      height: 6,
      numAgents: 2,
      walls: 'border',
      doors: [
        { x: 1, y: 3, owner: 0 },
        { x: 3, y: 1, owner: 1 },
      ],
      doorColors: ['purple', 'yellow'],
      agentOrder: [0, 1],
      obsSize: 39,
      envObsSize: 33,
      end: 'terminated',
      viewCodes: viewCodeTable(2),
    });
    for (const k of ['agent_x', 'agent_y', 'agent_dir', 'door_open']) expect(c[k]).toHaveLength(16);
    for (const k of ['carrier', 'key_x', 'key_y']) expect(c[k]).toHaveLength(8);
    for (const k of ['action', 'reward', 'event']) expect(c[k]).toHaveLength(14);
    expect(c.view).toHaveLength(16 * 9);
    expect(c.carrier).toEqual([-1, 0, 0, 0, 0, 1, 1, 1]);
    expect(c.key_x).toEqual([2, -1, -1, -1, -1, -1, -1, -1]);
    expect(c.key_y).toEqual([2, -1, -1, -1, -1, -1, -1, -1]);
    expect(c.door_open).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1]);
    expect(c.action).toEqual(SCRIPT.flat());
    expect(c.reward).toEqual([0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 1, 1.5]);
    expect(c.event).toEqual([EVENT_PICKUP, 0, 0, 0, EVENT_DOOR_OPENED, 0, 0, 0, EVENT_DROP, EVENT_PICKUP, 0, 0, 0, EVENT_DOOR_OPENED]);
    expect(c.agent_x.slice(-2)).toEqual([1, 3]);
    expect(c.agent_y.slice(-2)).toEqual([1, 2]);
    expect(c.agent_dir.slice(-2)).toEqual([3, 3]);
    for (let t = 0; t <= 7; t++) {
      for (let i = 0; i < 2; i++) expect(Array.from(replayObservation(rp, t, i))).toEqual(frames[t][i]);
    }
    // The auto-reset episode is being recorded too; switching off drops it.
    env.setRecording(1, false);
    for (let t = 0; t < 200; t++) step(env, L, L, L, L);
    expect(env.drainEpisodes().every((e) => e.replay === undefined)).toBe(true);
  });

  it('marks no-effect actions and starts recording at the next reset when mid-episode', () => {
    const env = make({ episodeLimit: 4 });
    step(env, L, L);
    env.setRecording(0, true);
    step(env, L, L);
    step(env, L, L);
    step(env, L, L); // ends the unrecorded episode
    const [first] = env.drainEpisodes();
    expect(first.replay).toBeUndefined();
    setLayoutForTest(env, 0, SCRIPT_LAYOUT);
    for (const a of [[F, DROP], [PICK, F], [TOG, R], [F, L]]) step(env, a[0], a[1]);
    const [ep] = env.drainEpisodes();
    expect(ep.replay!.meta.end).toBe('truncated');
    // a0: forward into the key (blocked), pickup, toggle facing (2,2) now empty, forward into it.
    // a1: drop without the key, forward into the key cell? it was picked this step (order 0 first): moves.
    expect(ep.replay!.columns.event).toEqual([EVENT_NO_EFFECT, EVENT_NO_EFFECT, EVENT_PICKUP, 0, EVENT_NO_EFFECT, 0, 0, 0]);
  });

  it('stays compact: a 150-step episode is well under 20 KB of JSON', () => {
    for (const cfg of [{}, { obsDoorFlag: true, obsKeyFlag: true, obsLastAction: true }] as Values[]) {
      const env = manitokanEntry.create(cfg, { numEnvs: 1 });
      env.reset(5);
      env.setRecording(0, true);
      const rng = new Rng(1);
      const actions = new Int32Array(2);
      let full: EpisodeRecord | undefined;
      for (let t = 0; t < 20000 && !full; t++) {
        randomLegal(env, actions, rng);
        env.step(actions);
        full = env.drainEpisodes().find((e) => e.metrics.episode_length === 150);
      }
      expect(full?.replay).toBeDefined();
      const bytes = JSON.stringify(full!.replay).length;
      expect(bytes).toBeLessThan(16000);
      // Every frame decodes to a valid view triple.
      for (const code of full!.replay!.columns.view) expect(code).toBeLessThan(viewCodeTable(2).length);
    }
    expect(viewCodeOf(2, 10, 4, 3)).toBe(4 + 2 + 4 + 3);
  });
});
