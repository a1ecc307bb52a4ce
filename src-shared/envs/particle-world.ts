/**
 * The multi-agent particle world (OpenAI MPE, `multiagent/core.py` and `environment.py`;
 * shared/specs/environments.md §3.1-3.2), vectorised over B copies in flat float64 arrays, and
 * `ParticleEnv`, the env base every particle scenario extends. A scenario (Cooperative
 * Navigation, and later Cooperative Communication, Physical Deception, Treasure Collection,
 * Rover-Tower, Cooperative Hunting) writes only its entities, its reset, its reward and events
 * (`afterPhysics`), its observation and its metrics; actions, physics, communication, replays
 * and checkpoints are here.
 *
 * Physics per step, OpenAI order (the spec's choice for Cairn; PettingZoo moves p first):
 * 1. action force of each movable agent: u * sensitivity, where u is the move direction from
 *    the action and sensitivity = the agent's `accel`, or 5 when it has none (environment.py);
 *    no mass factor. With `WorldDef.physics: 'maac'` (the MAAC authors' MPE fork,
 *    environments.md §4.1) the force is mass x accel x (u x sensitivity), so the acceleration
 *    is accel^2 per unit direction whatever the mass (2.25 for accel 1.5);
 * 2. contact force for every pair of colliding entities a < b: with d = p_a - p_b,
 *    dist = |d|, dist_min = size_a + size_b and k = contact margin (1e-3),
 *    penetration = k * softplus(-(dist - dist_min) / k), F = contact_force (100) * d / dist *
 *    penetration; +F on a if movable, -F on b if movable. Coincident centres (dist = 0, where
 *    MPE divides by zero) get no contact force (Cairn's choice). MAAC fork: mass-weighted,
 *    a gets (m_b / m_a) F and b gets -(m_a / m_b) F;
 * 3. per movable entity: v <- v * (1 - damping 0.25); v <- v + F / mass * dt (0.1); if
 *    max_speed is set and |v| > max_speed, v <- v * max_speed / |v|; p <- p + v * dt;
 * 4. communication: a speaking agent's channel c <- its comm action (one-hot of a discrete
 *    message, or the clipped vector of a continuous one); silent agents keep c = 0.
 * Observations are written after the step, so a message sent at step t is in the observation
 * returned by step t. No walls: entities may leave [-1, 1]. No action or comm noise (no
 * scenario used so far sets any; a later scenario adds it here).
 *
 * Actions (environments.md §3.2), per agent by what it can do:
 * - discrete: move only Discrete(5) in PettingZoo order 0 no-op, 1 -x, 2 +x, 3 -y, 4 +y
 *   (OpenAI's one-hot default mode orders +x before -x; only the labels differ); speak only
 *   Discrete(dimC); both: Discrete(5 * dimC), index = move + 5 * message (PettingZoo).
 * - continuous (PettingZoo's Box form): move Box(0, 1)^5 [no-op, -x, +x, -y, +y] with
 *   u_x = a[2] - a[1], u_y = a[4] - a[3] (component 0 is ignored, as in MPE); speak Box(0, 1)^dimC
 *   written to c as is; both: the 5 move components then the dimC message components.
 *
 * Replays (every particle scenario): frames t = 0..steps, E = entities (agents first, then
 * landmarks), N = agents:
 * | column | length | index | meaning |
 * |---|---|---|---|
 * | pos    | (steps+1)*E*2      | (t*E + e)*2 + d | entity position (x, y) |
 * | vel    | (steps+1)*E*2      | (t*E + e)*2 + d | entity velocity |
 * | comm   | (steps+1)*N*dimC   | (t*N + i)*dimC + k | agent i's channel (only when some agent speaks) |
 * plus the generic `action`, `reward` (and `box_action`) step columns and the scenario's own.
 * `meta`: scenario, entities [{ name, kind 'agent'|'landmark', size, color [r, g, b] in 0..1,
 * movable, collide }] (colours of the recorded episode: a scenario may recolour per episode with
 * `entityColor`, as MPE paints the goal), dimC, speakers (agent indices), actionMode,
 * episodeLimit, end, plus the scenario's fields (e.g. a goal landmark).
 */
import type { Rng } from '../rng';
import { VecEnvBase, type ReplayRecorder } from './base';
import { box, discrete } from './spaces';
import type { ActionSpace, EnvOptions, EnvSpec } from './types';

/** MPE's world constants (core.py World.__init__ and environment.py). */
export const MPE = { dt: 0.1, damping: 0.25, contactForce: 100, contactMargin: 1e-3, sensitivity: 5 } as const;

export const MOVE_NAMES = ['no-op', '-x', '+x', '-y', '+y'] as const;

export interface EntityDef {
  readonly name: string;
  readonly size: number;
  readonly movable: boolean;
  readonly collide: boolean;
  /** Default 1. */
  readonly mass?: number;
  /** Sensitivity of the move action; MPE uses 5 when unset. */
  readonly accel?: number;
  /** Speed clamp; unset = none. */
  readonly maxSpeed?: number;
  /** Agents only: no comm action and c stays 0. Default true. */
  readonly silent?: boolean;
  /** Display colour, components in 0..1. */
  readonly color: readonly [number, number, number];
}

export interface WorldDef {
  readonly agents: readonly EntityDef[];
  readonly landmarks: readonly EntityDef[];
  /** Communication channel size (MPE dim_c). */
  readonly dimC: number;
  /** 'openai' (default): OpenAI MPE's forces; 'maac': the MAAC fork's (mass x accel action force, mass-weighted contacts). */
  readonly physics?: 'openai' | 'maac';
}

export type ActionMode = 'discrete' | 'continuous';

/** An agent's action space in the particle world. */
export function particleActionSpace(e: EntityDef, dimC: number, mode: ActionMode): ActionSpace {
  const moves = e.movable;
  const speaks = e.silent === false && dimC > 0;
  const msg = Array.from({ length: dimC }, (_, k) => `say ${k}`);
  if (mode === 'discrete') {
    if (moves && speaks) return discrete(msg.flatMap((m) => MOVE_NAMES.map((v) => `${v}, ${m}`)));
    if (speaks) return discrete(msg);
    return discrete(moves ? MOVE_NAMES : ['no-op']);
  }
  const names = [...(moves ? MOVE_NAMES.map((v) => `move ${v}`) : []), ...(speaks ? msg : [])];
  return box(names.length > 0 ? names : ['no-op'], 0, 1);
}

/**
 * A particle scenario on the base: the world's dynamic state, actions, physics, replays and
 * checkpoints. Subclasses call `super(spec, world, mode, options, streamTag)` and finish their
 * constructor with `this.reset(0)`.
 */
export abstract class ParticleEnv extends VecEnvBase {
  readonly world: WorldDef;
  readonly actionMode: ActionMode;
  /** Number of entities E (agents first, then landmarks). */
  protected readonly E: number;
  protected readonly dimC: number;
  /** [B, E, 2] positions and velocities (float64, as MPE's numpy). */
  protected readonly pos: Float64Array;
  protected readonly vel: Float64Array;
  /** [B, N, dimC] communication channels. */
  protected readonly comm: Float64Array;

  // Static per-entity properties, flat (the step reads no objects).
  private readonly size: Float64Array;
  private readonly invMass: Float64Array;
  private readonly mass: Float64Array;
  /** Action force per unit direction: sensitivity, times mass x accel under the MAAC fork. */
  private readonly forceGain: Float64Array;
  private readonly massWeighted: boolean;
  private readonly sens: Float64Array;
  private readonly maxSpeed: Float64Array;
  private readonly movable: Uint8Array;
  private readonly moves: Uint8Array;
  private readonly speaks: Uint8Array;
  private readonly colliders: Int32Array;
  private readonly force: Float64Array;
  private readonly discreteActions: boolean;

  constructor(spec: EnvSpec, world: WorldDef, mode: ActionMode, options: EnvOptions, streamTag: number) {
    super(spec, options, streamTag);
    this.world = world;
    this.actionMode = mode;
    const ents = [...world.agents, ...world.landmarks];
    const E = (this.E = ents.length);
    const N = this.N;
    const B = this.numEnvs;
    this.dimC = world.dimC;
    this.pos = new Float64Array(B * E * 2);
    this.vel = new Float64Array(B * E * 2);
    this.comm = new Float64Array(B * N * world.dimC);
    this.size = Float64Array.from(ents.map((e) => e.size));
    this.invMass = Float64Array.from(ents.map((e) => 1 / (e.mass ?? 1)));
    this.mass = Float64Array.from(ents.map((e) => e.mass ?? 1));
    this.sens = Float64Array.from(ents.map((e) => e.accel ?? MPE.sensitivity));
    const maac = world.physics === 'maac';
    this.massWeighted = maac;
    // The fork multiplies the already-scaled action by mass x accel (accel unset: mass x 1).
    this.forceGain = Float64Array.from(ents.map((e, k) => this.sens[k] * (maac ? (e.mass ?? 1) * (e.accel ?? 1) : 1)));
    this.maxSpeed = Float64Array.from(ents.map((e) => e.maxSpeed ?? Infinity));
    this.movable = Uint8Array.from(ents.map((e) => (e.movable ? 1 : 0)));
    this.moves = Uint8Array.from(world.agents.map((e) => (e.movable ? 1 : 0)));
    this.speaks = Uint8Array.from(world.agents.map((e) => (e.silent === false && world.dimC > 0 ? 1 : 0)));
    this.colliders = Int32Array.from(ents.flatMap((e, k) => (e.collide ? [k] : [])));
    this.force = new Float64Array(E * 2);
    this.discreteActions = mode === 'discrete';
  }

  // ------------------------------------------------------------------ what a scenario writes

  /**
   * After the physics of copy b's step: the scenario's events and rewards (added into `rew`).
   * Return true on a true termination.
   */
  protected abstract afterPhysics(b: number, rew: Float64Array): boolean;
  /** The scenario's own saved arrays (the world's are saved here). */
  protected scenarioArrays(): Record<string, Float64Array | Int32Array | Uint8Array> {
    return {};
  }
  /** Extra replay meta of the scenario (goal, colours). */
  protected scenarioMeta(_b: number): Record<string, unknown> {
    return {};
  }
  /**
   * Display colour of entity e in copy b's episode being recorded (MPE recolours per episode:
   * the goal landmark, the listener in its goal's colour). Default: the entity's declared colour.
   */
  protected entityColor(_b: number, e: number): readonly [number, number, number] {
    return e < this.world.agents.length ? this.world.agents[e].color : this.world.landmarks[e - this.world.agents.length].color;
  }

  // ------------------------------------------------------------------ step

  protected stepCopy(b: number, actions: Int32Array, boxActions: Float32Array, rew: Float64Array): boolean {
    const N = this.N;
    const E = this.E;
    const C = this.dimC;
    const f = this.force;
    f.fill(0);
    const eOff = b * E * 2;
    const K = this.spec.boxSize;
    for (let i = 0; i < N; i++) {
      let ux = 0;
      let uy = 0;
      const moves = this.moves[i];
      const speaks = this.speaks[i];
      if (this.discreteActions) {
        const a = actions[b * N + i];
        const n = (moves ? 5 : 1) * (speaks ? C : 1);
        if (!(a >= 0 && a < n)) throw new Error(`${this.spec.id}.step: action ${a} of copy ${b}, agent ${i} is not in 0..${n - 1}`);
        if (moves) {
          const m = a % 5;
          ux = (m === 2 ? 1 : 0) - (m === 1 ? 1 : 0);
          uy = (m === 4 ? 1 : 0) - (m === 3 ? 1 : 0);
        }
        if (speaks) {
          const msg = moves ? (a - (a % 5)) / 5 : a;
          const c = (b * N + i) * C;
          for (let k = 0; k < C; k++) this.comm[c + k] = k === msg ? 1 : 0;
        }
      } else {
        const o = (b * N + i) * K;
        if (moves) {
          ux = boxActions[o + 2] - boxActions[o + 1];
          uy = boxActions[o + 4] - boxActions[o + 3];
        }
        if (speaks) {
          const c = (b * N + i) * C;
          const mo = o + (moves ? 5 : 0);
          for (let k = 0; k < C; k++) this.comm[c + k] = boxActions[mo + k];
        }
      }
      if (moves) {
        f[2 * i] = ux * this.forceGain[i];
        f[2 * i + 1] = uy * this.forceGain[i];
      }
    }
    this.physics(eOff);
    return this.afterPhysics(b, rew);
  }

  /** Contact forces and integration of one copy (entity block at `eOff`); `force` holds the action forces. */
  private physics(eOff: number): void {
    const pos = this.pos;
    const vel = this.vel;
    const f = this.force;
    const col = this.colliders;
    const size = this.size;
    const mov = this.movable;
    const k = MPE.contactMargin;
    const nc = col.length;
    for (let x = 0; x < nc; x++) {
      const a = col[x];
      for (let y = x + 1; y < nc; y++) {
        const c = col[y];
        if (!mov[a] && !mov[c]) continue;
        const dx = pos[eOff + 2 * a] - pos[eOff + 2 * c];
        const dy = pos[eOff + 2 * a + 1] - pos[eOff + 2 * c + 1];
        const dist = Math.sqrt(dx * dx + dy * dy);
        const z = -(dist - size[a] - size[c]) / k;
        // Softplus written to stay finite for deep penetrations: log(1 + e^z).
        const pen = (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) * k;
        if (dist === 0 || pen === 0) continue;
        const s = (MPE.contactForce * pen) / dist;
        const sa = this.massWeighted ? (s * this.mass[c]) / this.mass[a] : s;
        const sc = this.massWeighted ? (s * this.mass[a]) / this.mass[c] : s;
        if (mov[a]) {
          f[2 * a] += sa * dx;
          f[2 * a + 1] += sa * dy;
        }
        if (mov[c]) {
          f[2 * c] -= sc * dx;
          f[2 * c + 1] -= sc * dy;
        }
      }
    }
    const E = this.E;
    const dt = MPE.dt;
    const keep = 1 - MPE.damping;
    for (let e = 0; e < E; e++) {
      if (!mov[e]) continue;
      const o = eOff + 2 * e;
      let vx = vel[o] * keep + f[2 * e] * this.invMass[e] * dt;
      let vy = vel[o + 1] * keep + f[2 * e + 1] * this.invMass[e] * dt;
      const ms = this.maxSpeed[e];
      if (ms !== Infinity) {
        const sp = Math.sqrt(vx * vx + vy * vy);
        if (sp > ms) {
          vx = (vx / sp) * ms;
          vy = (vy / sp) * ms;
        }
      }
      vel[o] = vx;
      vel[o + 1] = vy;
      pos[o] += vx * dt;
      pos[o + 1] += vy * dt;
    }
  }

  /** Uniform positions in [lo, hi)^2 for entities [from, to) of copy b, zero velocities (x then y per entity, in order). */
  protected placeUniform(b: number, rng: Rng, from: number, to: number, lo = -1, hi = 1): void {
    const o = b * this.E * 2;
    for (let e = from; e < to; e++) {
      this.pos[o + 2 * e] = lo + (hi - lo) * rng.float();
      this.pos[o + 2 * e + 1] = lo + (hi - lo) * rng.float();
      this.vel[o + 2 * e] = 0;
      this.vel[o + 2 * e + 1] = 0;
    }
  }

  /** Zero copy b's communication channels. */
  protected clearComm(b: number): void {
    const w = this.N * this.dimC;
    this.comm.fill(0, b * w, (b + 1) * w);
  }

  // ------------------------------------------------------------------ replays and checkpoints

  protected override replayColumns(): readonly string[] {
    return this.speaks.some((s) => s === 1) ? ['pos', 'vel', 'comm'] : ['pos', 'vel'];
  }

  protected override replayMeta(b: number): Record<string, unknown> {
    const w = this.world;
    const nA = w.agents.length;
    const ent = (e: EntityDef, k: number) => ({ name: e.name, kind: k < nA ? 'agent' : 'landmark', size: e.size, color: [...this.entityColor(b, k)], movable: e.movable, collide: e.collide });
    return {
      scenario: this.spec.id,
      entities: [...w.agents, ...w.landmarks].map(ent),
      dimC: w.dimC,
      speakers: Array.from(this.speaks).flatMap((s, i) => (s ? [i] : [])),
      actionMode: this.actionMode,
      episodeLimit: this.limit,
      ...this.scenarioMeta(b),
    };
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    const E2 = this.E * 2;
    const p = rec.col('pos');
    const v = rec.col('vel');
    for (let k = b * E2; k < (b + 1) * E2; k++) {
      p.push(this.pos[k]);
      v.push(this.vel[k]);
    }
    if (this.speaks.some((s) => s === 1)) {
      const w = this.N * this.dimC;
      const c = rec.col('comm');
      for (let k = b * w; k < (b + 1) * w; k++) c.push(this.comm[k]);
    }
  }

  protected savedArrays() {
    return { pos: this.pos, vel: this.vel, comm: this.comm, ...this.scenarioArrays() };
  }

  protected override stateHeader(): Record<string, number> {
    return { numAgents: this.N, numEntities: this.E, dimC: this.dimC, obsSize: this.spec.obsSize };
  }
}
