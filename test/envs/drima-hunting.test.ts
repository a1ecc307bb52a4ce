/**
 * Cooperative Hunting I with scripted predators against drima.md §3.3's calibration table
 * (1,000 episodes each, hit rate within +-0.05 of the prototype's), and CH-II's prey removal.
 */
import { describe, expect, it } from 'vitest';
import { huntingEntry, type HuntingVecEnv } from '../../src-shared/envs/drima-hunting';

type Script = (env: HuntingVecEnv, actions: Int32Array) => void;

/** The discrete move (1 -x, 2 +x, 3 -y, 4 +y) along the larger component of (dx, dy). */
function toward(dx: number, dy: number): number {
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? 2 : 1;
  return dy > 0 ? 4 : 3;
}

/** Predator i's offset to the prey from its observation (prey block after 6 own values). */
function preyOffset(env: HuntingVecEnv, b: number, i: number): [number, number] {
  const o = (b * env.spec.numAgents + i) * env.spec.obsSize;
  return [env.obs[o + 7], env.obs[o + 8]];
}

function hitRate(script: Script, episodes = 1000): number {
  const B = 100;
  const env = huntingEntry.create({}, { numEnvs: B, autoReset: false }) as HuntingVecEnv;
  const actions = new Int32Array(B * env.spec.numAgents);
  let hits = 0;
  let n = 0;
  env.reset(7);
  while (n < episodes) {
    while (!Array.from(env.finished).every((f) => f === 1)) {
      script(env, actions);
      env.step(actions);
    }
    for (const ep of env.drainEpisodes()) {
      hits += ep.metrics.all_hit ?? 0;
      n++;
    }
    env.resetFinished();
  }
  return hits / n;
}

const attackerChases: Script = (env, actions) => {
  const N = env.spec.numAgents;
  for (let b = 0; b < env.numEnvs; b++) {
    actions[b * N] = toward(...preyOffset(env, b, 0));
    actions[b * N + 1] = actions[b * N + 2] = 0;
  }
};

const allChase: Script = (env, actions) => {
  const N = env.spec.numAgents;
  for (let b = 0; b < env.numEnvs; b++) for (let i = 0; i < N; i++) actions[b * N + i] = toward(...preyOffset(env, b, i));
};

/** Interceptors head for points 0.4 beyond the prey, rotated +-45 degrees from the attacker->prey direction. */
const encircle: Script = (env, actions) => {
  const N = env.spec.numAgents;
  const O = env.spec.obsSize;
  for (let b = 0; b < env.numEnvs; b++) {
    const [ax, ay] = preyOffset(env, b, 0);
    actions[b * N] = toward(ax, ay);
    const norm = Math.hypot(ax, ay) || 1;
    for (const [i, sgn] of [
      [1, 1],
      [2, -1],
    ] as const) {
      const o = (b * N + i) * O;
      const [px, py] = [env.obs[o + 7], env.obs[o + 8]];
      const c = Math.SQRT1_2;
      const s = sgn * Math.SQRT1_2;
      const gx = ((ax * c - ay * s) / norm) * 0.4;
      const gy = ((ax * s + ay * c) / norm) * 0.4;
      actions[b * N + i] = toward(px + gx, py + gy);
    }
  }
};

describe('Cooperative Hunting I: scripted predators (drima.md §3.3 calibration)', () => {
  it('attacker alone: hit rate ~0.18; all chase greedily ~0.16; encircle ~0.33 (each +-0.05)', () => {
    const alone = hitRate(attackerChases);
    const all = hitRate(allChase);
    const circle = hitRate(encircle);
    expect(alone, 'attacker alone').toBeGreaterThan(0.13);
    expect(alone, 'attacker alone').toBeLessThan(0.23);
    expect(all, 'all chase').toBeGreaterThan(0.11);
    expect(all, 'all chase').toBeLessThan(0.21);
    expect(circle, 'encircle').toBeGreaterThan(0.28);
    expect(circle, 'encircle').toBeLessThan(0.38);
  });
});

describe('Cooperative Hunting II', () => {
  it('a hit removes that prey (flag 0, observation zeroed) and the episode goes on until both are hit', () => {
    const env = huntingEntry.create({ task: 'ch2' }, { numEnvs: 1, autoReset: false }) as HuntingVecEnv;
    expect(env.spec.obsSize).toBe(28);
    expect(env.spec.numAgents).toBe(4);
    env.reset(3);
    const actions = new Int32Array(4);
    let sawOne = false;
    for (let t = 0; t < 30 && !env.finished[0]; t++) {
      for (let i = 0; i < 4; i++) {
        const o = i * 28;
        // Chase the first live prey.
        const k = env.obs[o + 6] ? 0 : 1;
        actions[i] = toward(env.obs[o + 7 + 5 * k], env.obs[o + 8 + 5 * k]);
      }
      env.step(actions);
      const flags = [env.obs[6], env.obs[11]];
      if (!env.finished[0] && flags.includes(0)) {
        sawOne = true;
        const k = flags.indexOf(0);
        expect(Array.from(env.obs.subarray(7 + 5 * k, 11 + 5 * k))).toEqual([0, 0, 0, 0]);
      }
    }
    const eps = env.drainEpisodes();
    expect(eps.length).toBe(1);
    const m = eps[0].metrics;
    if (m.prey_hit === 2) expect(m.all_hit).toBe(1);
    expect(sawOne || m.prey_hit === 0 || m.prey_hit === 2).toBe(true);
  });
});
