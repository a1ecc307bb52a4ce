/**
 * DRIMA's Cooperative Hunting I and II (App. B.2.1; shared/specs/drima.md §3.1-3.4) on the
 * particle world: attackers and interceptors (the learning agents) against scripted prey that
 * are faster than them and see only within a disc. No code of the paper exists, so every
 * constant is the spec's DESIGN CHOICE:
 *
 * | entity | size | accel | max speed | collide |
 * |---|---|---|---|---|
 * | prey (scripted, red; landmarks that move) | 0.05 | 4.0 | 1.3 | yes |
 * | attacker (blue), interceptor (green) | 0.075 | 3.0 | 1.0 | yes |
 * CH-I: 1 attacker, 2 interceptors, 1 prey (`task = ch1`); CH-II: 2 attackers, 2 interceptors,
 * 2 prey (`task = ch2`). Agent order: attackers, then interceptors. 30 steps.
 *
 * Prey rule (each step, from the pre-step state): predators closer than R_view = 0.5 are
 * visible; e = sum over visible k of (p_prey - p_k) / |p_prey - p_k|^2; wall term per axis
 * w = -sign(p) max(0, |p| - 0.8) / 0.2; direction u = unit(unit(e) + w) when something is
 * visible, else unit(w) (or 0); force 4.0 u. The particle world has no scripted forces, so the
 * prey's force enters as the velocity impulse F dt / (m (1 - damping)) before the world's step,
 * which after damping is exactly MPE's v <- v (1 - damping) + F dt / m. Prey react only to
 * visible predators and ignore each other (they still collide).
 * Arena walls (MPE has none): after each step every movable entity is clamped into [-1, 1]^2
 * with the velocity component across the wall zeroed.
 *
 * Events and rewards per step (after the physics):
 * - hit: an attacker within 0.125 of a live prey. CH-I: the episode terminates; CH-II: that prey
 *   is removed (alive = 0, parked outside the arena at rest, no longer drawn nor observed) and
 *   the episode terminates when no prey is left. Every attacker touching it gets +10;
 * - each interceptor pays 1 per live prey within 0.125 (collision damage);
 * - every predator gets -0.05 x its distance to the nearest prey that was live at the step.
 * Spawn: agents and prey uniform in [-1, 1]^2 at rest, any overlapping pair redrawn.
 *
 * Observation (CH-I 19 values, CH-II 28): own velocity (2), own position (2), own role one-hot
 * [attacker, interceptor] (2); per prey: alive flag, position - own, velocity (zeros but the
 * flag once removed); per other predator in agent order: position - own, role one-hot.
 * Global state: every entity's position and velocity, then the prey alive flags.
 * Positions: `agentPositions` (the predators') for DRIMA's communication radius.
 *
 * Metrics: group reward (sum over predators and steps, the paper's y-axis), prey hit (count),
 * all prey hit (the success measure; CH-I's hit rate), interceptor contact steps, episode
 * length. Replays: the particle world's columns plus `present` ((steps+1) x E: 0 for a removed
 * prey); meta gives each prey its view disc (`viewRadius`) and trail, and the arena.
 */
import { coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { MPE, ParticleEnv, particleActionSpace, type EntityDef, type WorldDef } from './particle-world';
import type { ReplayRecorder } from './base';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "hunt"). */
const ENV_STREAM = 0x68756e74;
const PREY_SIZE = 0.05;
const PRED_SIZE = 0.075;
const PREY_ACCEL = 4.0;
const HIT = PREY_SIZE + PRED_SIZE;
const WALL = 1;
/** Where a removed prey is parked (outside the arena, beyond any contact). */
const PARK = 50;

export const huntingSchema = {
  task: { type: 'enum', default: 'ch1', values: ['ch1', 'ch2'], doc: 'ch1: 1 attacker, 2 interceptors, 1 prey (CH-I); ch2: 2 attackers, 2 interceptors, 2 prey (CH-II).' },
  episodeLimit: { type: 'int', default: 30, min: 1, max: 100_000, doc: 'Steps per episode (DRIMA: 30); a time limit.' },
  viewRadius: { type: 'float', default: 0.5, min: 0, doc: "Radius of the prey's view disc (drima.md: 0.5)." },
  hitReward: { type: 'float', default: 10, doc: 'Bonus of an attacker for a hit (drima.md: 10).' },
  contactCost: { type: 'float', default: 1, min: 0, doc: 'Cost to an interceptor per step and live prey it touches (drima.md: 1).' },
  distanceCoef: { type: 'float', default: 0.05, min: 0, doc: 'Per-step cost per unit distance to the nearest live prey (drima.md: 0.05).' },
  preyWander: { type: 'bool', default: false, doc: 'A prey that sees nobody takes a random direction with probability 0.2 (drima.md option; default off).' },
} as const satisfies Schema;

export interface HuntingConfig {
  readonly task: 'ch1' | 'ch2';
  readonly attackers: number;
  readonly interceptors: number;
  readonly prey: number;
  readonly episodeLimit: number;
  readonly viewRadius: number;
  readonly hitReward: number;
  readonly contactCost: number;
  readonly distanceCoef: number;
  readonly preyWander: boolean;
}

export function parseHuntingConfig(config: Values): HuntingConfig {
  const v: Values = defaults(huntingSchema);
  for (const [k, spec] of Object.entries(huntingSchema as Schema)) if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  const task = v.task as 'ch1' | 'ch2';
  const two = task === 'ch2';
  return {
    task,
    attackers: two ? 2 : 1,
    interceptors: 2,
    prey: two ? 2 : 1,
    episodeLimit: v.episodeLimit as number,
    viewRadius: v.viewRadius as number,
    hitReward: v.hitReward as number,
    contactCost: v.contactCost as number,
    distanceCoef: v.distanceCoef as number,
    preyWander: v.preyWander as boolean,
  };
}

function world(c: HuntingConfig): WorldDef {
  const pred = (name: string, color: [number, number, number]): EntityDef => ({ name, size: PRED_SIZE, movable: true, collide: true, accel: 3, maxSpeed: 1, color });
  return {
    agents: [
      ...Array.from({ length: c.attackers }, (_, k) => pred(c.attackers > 1 ? `attacker ${k + 1}` : 'attacker', [0.25, 0.35, 0.85])),
      ...Array.from({ length: c.interceptors }, (_, k) => pred(`interceptor ${k + 1}`, [0.2, 0.65, 0.3])),
    ],
    landmarks: Array.from({ length: c.prey }, (_, k) => ({ name: c.prey > 1 ? `prey ${k + 1}` : 'prey', size: PREY_SIZE, movable: true, collide: true, accel: PREY_ACCEL, maxSpeed: 1.3, color: [0.85, 0.2, 0.2] as [number, number, number] })),
    dimC: 0,
  };
}

function metrics(c: HuntingConfig): MetricSpec[] {
  return [
    { key: 'group_reward', title: 'Group reward', role: 'return', headline: true, description: "sum over predators and steps of their rewards (DRIMA's predator group reward)" },
    { key: 'prey_hit', title: 'Prey hit', headline: c.prey > 1, description: `prey hit in the episode (0-${c.prey})` },
    { key: 'all_hit', title: c.prey > 1 ? 'All prey hit' : 'Hit rate', role: 'success', headline: true, description: 'share of episodes in which every prey was hit' },
    { key: 'contacts', title: 'Interceptor contacts', description: 'steps x live prey an interceptor touched, summed over interceptors' },
    { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
  ];
}

export function huntingSpec(c: HuntingConfig): EnvSpec {
  const w = world(c);
  const P = c.attackers + c.interceptors;
  const layout = [
    features('own velocity', 2),
    features('own position', 2),
    features('own role (attacker, interceptor)', 2),
    features('per prey: alive, position - own, velocity', 5 * c.prey),
    features('per other predator: position - own, role', 4 * (P - 1)),
  ];
  const agents = w.agents.map((e) => agent(e.name, 0, particleActionSpace(e, 0, 'discrete'), layout));
  const m = metrics(c);
  const E = P + c.prey;
  const spec = buildSpec({
    id: 'drima-hunting',
    agents,
    teams: [team('predators', agents.map((_, i) => i))],
    stateLayout: [features('entity positions', 2 * E), features('entity velocities', 2 * E), features('prey alive', c.prey)],
    episodeLimit: c.episodeLimit,
    metricKeys: m.map((x) => x.key),
    metrics: m,
  });
  return { ...spec, positionDims: 2 };
}

export class HuntingVecEnv extends ParticleEnv {
  readonly config: HuntingConfig;
  readonly agentPositions: Float64Array;
  private readonly P: number;
  private readonly K: number;
  /** [B, K] 1 while prey k is in the game. */
  private readonly alive: Uint8Array;
  private readonly hits: Int32Array;
  private readonly contactCount: Int32Array;
  private readonly groupReward: Float64Array;
  private readonly isAttacker: Uint8Array;
  /** [K] whether prey k was live at the start of the current step (scratch). */
  private readonly liveAtStep: Uint8Array;

  constructor(config: HuntingConfig, options: EnvOptions) {
    super(huntingSpec(config), world(config), 'discrete', options, ENV_STREAM);
    this.config = config;
    const B = this.numEnvs;
    this.P = config.attackers + config.interceptors;
    this.K = config.prey;
    this.agentPositions = new Float64Array(B * this.P * 2);
    this.alive = new Uint8Array(B * this.K);
    this.hits = new Int32Array(B);
    this.contactCount = new Int32Array(B);
    this.groupReward = new Float64Array(B);
    this.isAttacker = Uint8Array.from({ length: this.P }, (_, i) => (i < config.attackers ? 1 : 0));
    this.liveAtStep = new Uint8Array(this.K);
    this.reset(0);
  }

  private preyEntity(k: number): number {
    return this.P + k;
  }

  protected resetCopy(b: number, rng: Rng): void {
    const E = this.E;
    const o = b * E * 2;
    this.placeUniform(b, rng, 0, E);
    // Redraw overlapping pairs (in entity order) until none overlap.
    const size = (e: number) => (e < this.P ? PRED_SIZE : PREY_SIZE);
    for (let guard = 0; guard < 1000; guard++) {
      let clash = -1;
      for (let x = 0; x < E && clash < 0; x++) {
        for (let y = x + 1; y < E; y++) {
          const d = Math.hypot(this.pos[o + 2 * x] - this.pos[o + 2 * y], this.pos[o + 2 * x + 1] - this.pos[o + 2 * y + 1]);
          if (d < size(x) + size(y)) {
            clash = y;
            break;
          }
        }
      }
      if (clash < 0) break;
      this.placeUniform(b, rng, clash, clash + 1);
    }
    this.alive.fill(1, b * this.K, (b + 1) * this.K);
    this.hits[b] = 0;
    this.contactCount[b] = 0;
    this.groupReward[b] = 0;
  }

  /** The scripted prey push before the world steps (see the header). */
  override step(actions: Int32Array, boxActions?: Float32Array): void {
    for (let b = 0; b < this.numEnvs; b++) if (!this.finished[b]) this.pushPrey(b);
    super.step(actions, boxActions);
  }

  private pushPrey(b: number): void {
    const E = this.E;
    const o = b * E * 2;
    const pos = this.pos;
    const R2 = this.config.viewRadius ** 2;
    const impulse = (PREY_ACCEL * MPE.dt) / (1 - MPE.damping);
    for (let k = 0; k < this.K; k++) {
      if (!this.alive[b * this.K + k]) continue;
      const e = this.preyEntity(k);
      const px = pos[o + 2 * e];
      const py = pos[o + 2 * e + 1];
      let ex = 0;
      let ey = 0;
      let seen = 0;
      for (let i = 0; i < this.P; i++) {
        const dx = px - pos[o + 2 * i];
        const dy = py - pos[o + 2 * i + 1];
        const d2 = dx * dx + dy * dy;
        if (d2 >= R2 || d2 === 0) continue;
        ex += dx / d2;
        ey += dy / d2;
        seen++;
      }
      const wx = -Math.sign(px) * Math.max(0, Math.abs(px) - 0.8) / 0.2;
      const wy = -Math.sign(py) * Math.max(0, Math.abs(py) - 0.8) / 0.2;
      let ux = wx;
      let uy = wy;
      const en = Math.hypot(ex, ey);
      if (seen > 0 && en > 0) {
        ux = ex / en + wx;
        uy = ey / en + wy;
      } else if (this.config.preyWander && wx === 0 && wy === 0 && this.rngs[b].float() < 0.2) {
        const a = 2 * Math.PI * this.rngs[b].float();
        ux = Math.cos(a);
        uy = Math.sin(a);
      }
      const un = Math.hypot(ux, uy);
      if (un === 0) continue;
      this.vel[o + 2 * e] += (impulse * ux) / un;
      this.vel[o + 2 * e + 1] += (impulse * uy) / un;
    }
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const E = this.E;
    const o = b * E * 2;
    const pos = this.pos;
    const vel = this.vel;
    const cfg = this.config;
    for (let e = 0; e < E; e++) {
      if (e >= this.P && !this.alive[b * this.K + e - this.P]) continue;
      for (let d = 0; d < 2; d++) {
        const k = o + 2 * e + d;
        if (pos[k] > WALL || pos[k] < -WALL) {
          pos[k] = Math.sign(pos[k]) * WALL;
          vel[k] = 0;
        }
      }
    }
    for (let k = 0; k < this.K; k++) this.liveAtStep[k] = this.alive[b * this.K + k];
    let step = 0;
    for (let i = 0; i < this.P; i++) {
      let near = Infinity;
      let r = 0;
      for (let k = 0; k < this.K; k++) {
        if (!this.liveAtStep[k]) continue;
        const e = this.preyEntity(k);
        const d = Math.hypot(pos[o + 2 * i] - pos[o + 2 * e], pos[o + 2 * i + 1] - pos[o + 2 * e + 1]);
        near = Math.min(near, d);
        if (d < HIT) {
          if (this.isAttacker[i]) {
            r += cfg.hitReward;
            this.alive[b * this.K + k] = 0;
          } else {
            r -= cfg.contactCost;
            this.contactCount[b]++;
          }
        }
      }
      if (near < Infinity) r -= cfg.distanceCoef * near;
      rew[i] += r;
      step += r;
    }
    this.groupReward[b] += step;
    let left = 0;
    for (let k = 0; k < this.K; k++) {
      if (this.liveAtStep[k] && !this.alive[b * this.K + k]) {
        this.hits[b]++;
        // A removed prey leaves the arena and the physics (parked far away, at rest); CH-I ends
        // on its hit anyway.
        const e = this.preyEntity(k);
        pos[o + 2 * e] = PARK + 2 * k;
        pos[o + 2 * e + 1] = PARK;
        vel[o + 2 * e] = vel[o + 2 * e + 1] = 0;
      }
      left += this.alive[b * this.K + k];
    }
    return left === 0;
  }

  protected observe(b: number, _full: boolean): void {
    const { P, K, E } = this;
    const N = this.N;
    const O = this.spec.obsSize;
    const o = b * E * 2;
    const pos = this.pos;
    const vel = this.vel;
    const obs = this.obs;
    for (let i = 0; i < P; i++) {
      let w = (b * N + i) * O;
      const px = pos[o + 2 * i];
      const py = pos[o + 2 * i + 1];
      obs[w++] = vel[o + 2 * i];
      obs[w++] = vel[o + 2 * i + 1];
      obs[w++] = px;
      obs[w++] = py;
      obs[w++] = this.isAttacker[i];
      obs[w++] = 1 - this.isAttacker[i];
      for (let k = 0; k < K; k++) {
        const e = this.preyEntity(k);
        const live = this.alive[b * K + k];
        obs[w++] = live;
        obs[w++] = live ? pos[o + 2 * e] - px : 0;
        obs[w++] = live ? pos[o + 2 * e + 1] - py : 0;
        obs[w++] = live ? vel[o + 2 * e] : 0;
        obs[w++] = live ? vel[o + 2 * e + 1] : 0;
      }
      for (let j = 0; j < P; j++) {
        if (j === i) continue;
        obs[w++] = pos[o + 2 * j] - px;
        obs[w++] = pos[o + 2 * j + 1] - py;
        obs[w++] = this.isAttacker[j];
        obs[w++] = 1 - this.isAttacker[j];
      }
      this.agentPositions[(b * P + i) * 2] = px;
      this.agentPositions[(b * P + i) * 2 + 1] = py;
    }
    const S = this.spec.stateSize;
    let s = b * S;
    for (let k = 0; k < 2 * E; k++) this.state[s++] = pos[o + k];
    for (let k = 0; k < 2 * E; k++) this.state[s++] = vel[o + k];
    for (let k = 0; k < K; k++) this.state[s++] = this.alive[b * K + k];
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    m.group_reward = this.groupReward[b];
    m.prey_hit = this.hits[b];
    m.all_hit = this.hits[b] === this.K ? 1 : 0;
    m.contacts = this.contactCount[b];
    m.episode_length = this.stepCount[b];
  }

  protected override scenarioArrays() {
    return { alive: this.alive, hits: this.hits, contactCount: this.contactCount, groupReward: this.groupReward };
  }

  protected override replayColumns(): readonly string[] {
    return [...super.replayColumns(), 'present'];
  }

  protected override replayMeta(b: number): Record<string, unknown> {
    const meta = super.replayMeta(b);
    const ents = (meta.entities as Record<string, unknown>[]).map((e, i) => (i >= this.P ? { ...e, viewRadius: this.config.viewRadius, trail: true } : e));
    return { ...meta, entities: ents, arena: WALL, renderer: 'world2d' };
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    super.recordFrame(b, rec);
    const c = rec.col('present');
    for (let e = 0; e < this.E; e++) c.push(e < this.P ? 1 : this.alive[b * this.K + e - this.P]);
  }
}

export const huntingEntry: EnvEntry = {
  id: 'drima-hunting',
  title: 'Cooperative Hunting (DRIMA): attackers and interceptors against scripted prey',
  schema: huntingSchema,
  variants: [{ name: 'CH-II (2 attackers, 2 interceptors, 2 prey)', config: { task: 'ch2' } }],
  spec: (config: Values) => huntingSpec(parseHuntingConfig(config)),
  create: (config: Values, options: EnvOptions) => new HuntingVecEnv(parseHuntingConfig(config), options),
};
