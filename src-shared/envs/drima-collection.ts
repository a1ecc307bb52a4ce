/**
 * DRIMA's Cooperative Collection (App. B.2.2; shared/specs/drima.md §3.5) on the particle world:
 * six agents of three types (purple, blue, green; two each) and six food items of the same
 * types. An agent is paid for occupying food, twice as much when the type matches its own
 * (Table 3's 1 : 2), and the saddle is a mismatched agent that should leave. The paper gives
 * the facts only; every constant is the spec's DESIGN CHOICE:
 * - agents: size 0.05, accel 3.0, max speed 1.0, collide; spawn uniform in [-1, 1]^2 at rest,
 *   overlapping pairs redrawn; food: immobile landmarks of size 0.05 without collision, uniform
 *   in [-0.9, 0.9]^2 with every pair at least 0.2 apart (rejection sampling);
 * - arena walls as in Cooperative Hunting (clamp into [-1, 1]^2, velocity across zeroed);
 * - occupancy after every step: each agent is a candidate for its nearest food when closer than
 *   0.1 (MPE's occupied-landmark threshold); each food goes to its nearest candidate (ties: the
 *   lower agent index); an agent occupies at most one food; nothing is consumed;
 * - reward per agent and step: -0.05 x distance to the nearest food (any type, occupied or
 *   not), +1 when it occupies food of another type, +2 when of its own type;
 * - 50 steps (the paper gives none), never a termination.
 *
 * Observation (73 values): own velocity (2), own position (2), own type one-hot (3); six food
 * slots, the food within the field of view (0.6) nearest first, each position - own (2), type
 * one-hot (3), visible flag (1); five agent slots, the other agents within view nearest first,
 * alike. Empty slots are 0. Global state: agent positions and velocities, food positions, the
 * agents' and the food's types. `agentPositions` serves DRIMA's radius graph (0.6 in presets).
 *
 * Metrics: group reward (sum over agents and steps), match count (agents on food of their own
 * type at the last step; the paper's Fig. 4(f) and 8(c), INFERRED), match rate (the same over 6,
 * the success measure), occupied count (agents on any food at the last step), episode length.
 */
import { coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { ParticleEnv, particleActionSpace, type EntityDef, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "coll"). */
const ENV_STREAM = 0x636f6c6c;
const N_AGENTS = 6;
const N_FOOD = 6;
const SIZE = 0.05;
const TYPES = [0, 0, 1, 1, 2, 2];
const TYPE_NAMES = ['purple', 'blue', 'green'];
const COLORS: [number, number, number][] = [
  [0.55, 0.3, 0.75],
  [0.25, 0.45, 0.9],
  [0.3, 0.7, 0.35],
];
const OCCUPY = 0.1;
const WALL = 1;
const SLOT = 6;

export const collectionSchema = {
  episodeLimit: { type: 'int', default: 50, min: 1, max: 100_000, doc: 'Steps per episode (paper silent; drima.md: 50); a time limit.' },
  fieldOfView: { type: 'float', default: 0.6, min: 0, doc: 'Radius within which an agent sees food and other agents (drima.md: 0.6).' },
  matchedReward: { type: 'float', default: 2, doc: 'Per-step reward for occupying food of its own type (drima.md: 2).' },
  unmatchedReward: { type: 'float', default: 1, doc: 'Per-step reward for occupying food of another type (drima.md: 1).' },
  distanceCoef: { type: 'float', default: 0.05, min: 0, doc: 'Per-step cost per unit distance to the nearest food (drima.md: 0.05).' },
} as const satisfies Schema;

export interface CollectionConfig {
  readonly episodeLimit: number;
  readonly fieldOfView: number;
  readonly matchedReward: number;
  readonly unmatchedReward: number;
  readonly distanceCoef: number;
}

export function parseCollectionConfig(config: Values): CollectionConfig {
  const v: Values = defaults(collectionSchema);
  for (const [k, spec] of Object.entries(collectionSchema as Schema)) if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  return v as unknown as CollectionConfig;
}

const WORLD: WorldDef = {
  agents: TYPES.map((t, i): EntityDef => ({ name: `${TYPE_NAMES[t]} agent ${(i % 2) + 1}`, size: SIZE, movable: true, collide: true, accel: 3, maxSpeed: 1, color: COLORS[t] })),
  landmarks: TYPES.map((t, i): EntityDef => ({ name: `${TYPE_NAMES[t]} food ${(i % 2) + 1}`, size: SIZE, movable: false, collide: false, color: COLORS[t] })),
  dimC: 0,
};

const METRICS: MetricSpec[] = [
  { key: 'group_reward', title: 'Group reward', role: 'return', headline: true, description: 'sum over agents and steps of their rewards' },
  { key: 'match_count', title: 'Match count', headline: true, description: 'agents on food of their own type at the last step (0-6)' },
  { key: 'match_rate', title: 'Matched agents (share)', role: 'success', description: 'match count / 6' },
  { key: 'occupied_count', title: 'Occupied food', description: 'agents on any food at the last step (0-6)' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function collectionSpec(c: CollectionConfig): EnvSpec {
  const layout = [
    features('own velocity', 2),
    features('own position', 2),
    features('own type one-hot', 3),
    features('food in view, nearest first: position - own, type, visible', SLOT * N_FOOD),
    features('agents in view, nearest first: position - own, type, visible', SLOT * (N_AGENTS - 1)),
  ];
  const agents = WORLD.agents.map((e) => agent(e.name, 0, particleActionSpace(e, 0, 'discrete'), layout));
  const spec = buildSpec({
    id: 'drima-collection',
    agents,
    teams: [team('collectors', agents.map((_, i) => i))],
    stateLayout: [features('agent positions', 2 * N_AGENTS), features('agent velocities', 2 * N_AGENTS), features('food positions', 2 * N_FOOD), features('agent and food types', N_AGENTS + N_FOOD)],
    episodeLimit: c.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
  return { ...spec, positionDims: 2 };
}

export class CollectionVecEnv extends ParticleEnv {
  readonly config: CollectionConfig;
  readonly agentPositions: Float64Array;
  /** [B, N] food index agent i occupies, -1 for none. */
  private readonly occupies: Int32Array;
  private readonly groupReward: Float64Array;
  private readonly order: { d: number; k: number }[] = [];

  constructor(config: CollectionConfig, options: EnvOptions) {
    super(collectionSpec(config), WORLD, 'discrete', options, ENV_STREAM);
    this.config = config;
    this.agentPositions = new Float64Array(this.numEnvs * N_AGENTS * 2);
    this.occupies = new Int32Array(this.numEnvs * N_AGENTS).fill(-1);
    this.groupReward = new Float64Array(this.numEnvs);
    this.reset(0);
  }

  private dist(b: number, x: number, y: number): number {
    const o = b * this.E * 2;
    return Math.hypot(this.pos[o + 2 * x] - this.pos[o + 2 * y], this.pos[o + 2 * x + 1] - this.pos[o + 2 * y + 1]);
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.placeUniform(b, rng, 0, N_AGENTS);
    for (let guard = 0; guard < 1000; guard++) {
      let clash = -1;
      for (let x = 0; x < N_AGENTS && clash < 0; x++) for (let y = x + 1; y < N_AGENTS; y++) if (this.dist(b, x, y) < 2 * SIZE) clash = y;
      if (clash < 0) break;
      this.placeUniform(b, rng, clash, clash + 1);
    }
    for (let f = 0; f < N_FOOD; f++) {
      const e = N_AGENTS + f;
      for (let guard = 0; guard < 1000; guard++) {
        this.placeUniform(b, rng, e, e + 1, -0.9, 0.9);
        let ok = true;
        for (let g = 0; g < f && ok; g++) if (this.dist(b, e, N_AGENTS + g) < 0.2) ok = false;
        if (ok) break;
      }
    }
    this.occupies.fill(-1, b * N_AGENTS, (b + 1) * N_AGENTS);
    this.groupReward[b] = 0;
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const o = b * this.E * 2;
    const pos = this.pos;
    for (let i = 0; i < N_AGENTS; i++) {
      for (let d = 0; d < 2; d++) {
        const k = o + 2 * i + d;
        if (pos[k] > WALL || pos[k] < -WALL) {
          pos[k] = Math.sign(pos[k]) * WALL;
          this.vel[k] = 0;
        }
      }
    }
    // Occupancy: candidates by nearest food, each food to its nearest candidate.
    const cand = new Int32Array(N_AGENTS).fill(-1);
    const candD = new Float64Array(N_AGENTS);
    const nearest = new Float64Array(N_AGENTS);
    for (let i = 0; i < N_AGENTS; i++) {
      let best = -1;
      let bd = Infinity;
      for (let f = 0; f < N_FOOD; f++) {
        const d = this.dist(b, i, N_AGENTS + f);
        if (d < bd) {
          bd = d;
          best = f;
        }
      }
      nearest[i] = bd;
      if (bd < OCCUPY) {
        cand[i] = best;
        candD[i] = bd;
      }
    }
    const occ = this.occupies;
    for (let i = 0; i < N_AGENTS; i++) occ[b * N_AGENTS + i] = -1;
    for (let f = 0; f < N_FOOD; f++) {
      let who = -1;
      for (let i = 0; i < N_AGENTS; i++) if (cand[i] === f && (who < 0 || candD[i] < candD[who])) who = i;
      if (who >= 0) occ[b * N_AGENTS + who] = f;
    }
    const c = this.config;
    let step = 0;
    for (let i = 0; i < N_AGENTS; i++) {
      const f = occ[b * N_AGENTS + i];
      const r = -c.distanceCoef * nearest[i] + (f < 0 ? 0 : TYPES[f] === TYPES[i] ? c.matchedReward : c.unmatchedReward);
      rew[i] += r;
      step += r;
    }
    this.groupReward[b] += step;
    return false;
  }

  /** Slots of the entities in [from, to) within view of agent i, nearest first. */
  private writeSlots(b: number, i: number, from: number, to: number, slots: number, out: Float32Array, w: number): void {
    const o = b * this.E * 2;
    const R = this.config.fieldOfView;
    this.order.length = 0;
    for (let e = from; e < to; e++) {
      if (e === i) continue;
      const d = this.dist(b, i, e);
      if (d <= R) this.order.push({ d, k: e });
    }
    this.order.sort((x, y) => x.d - y.d || x.k - y.k);
    out.fill(0, w, w + slots * SLOT);
    this.order.slice(0, slots).forEach(({ k }, s) => {
      const q = w + s * SLOT;
      out[q] = this.pos[o + 2 * k] - this.pos[o + 2 * i];
      out[q + 1] = this.pos[o + 2 * k + 1] - this.pos[o + 2 * i + 1];
      out[q + 2 + TYPES[k < N_AGENTS ? k : k - N_AGENTS]] = 1;
      out[q + 5] = 1;
    });
  }

  protected observe(b: number, _full: boolean): void {
    const O = this.spec.obsSize;
    const o = b * this.E * 2;
    const obs = this.obs;
    for (let i = 0; i < N_AGENTS; i++) {
      const w = (b * N_AGENTS + i) * O;
      obs[w] = this.vel[o + 2 * i];
      obs[w + 1] = this.vel[o + 2 * i + 1];
      obs[w + 2] = this.pos[o + 2 * i];
      obs[w + 3] = this.pos[o + 2 * i + 1];
      obs.fill(0, w + 4, w + 7);
      obs[w + 4 + TYPES[i]] = 1;
      this.writeSlots(b, i, N_AGENTS, N_AGENTS + N_FOOD, N_FOOD, obs, w + 7);
      this.writeSlots(b, i, 0, N_AGENTS, N_AGENTS - 1, obs, w + 7 + SLOT * N_FOOD);
      this.agentPositions[(b * N_AGENTS + i) * 2] = this.pos[o + 2 * i];
      this.agentPositions[(b * N_AGENTS + i) * 2 + 1] = this.pos[o + 2 * i + 1];
    }
    let s = b * this.spec.stateSize;
    for (let i = 0; i < 2 * N_AGENTS; i++) this.state[s++] = this.pos[o + i];
    for (let i = 0; i < 2 * N_AGENTS; i++) this.state[s++] = this.vel[o + i];
    for (let i = 2 * N_AGENTS; i < 2 * this.E; i++) this.state[s++] = this.pos[o + i];
    for (let i = 0; i < N_AGENTS + N_FOOD; i++) this.state[s++] = TYPES[i % N_AGENTS];
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    let match = 0;
    let occupied = 0;
    for (let i = 0; i < N_AGENTS; i++) {
      const f = this.occupies[b * N_AGENTS + i];
      if (f < 0) continue;
      occupied++;
      if (TYPES[f] === TYPES[i]) match++;
    }
    m.group_reward = this.groupReward[b];
    m.match_count = match;
    m.match_rate = match / N_AGENTS;
    m.occupied_count = occupied;
    m.episode_length = this.stepCount[b];
  }

  protected override scenarioArrays() {
    return { occupies: this.occupies, groupReward: this.groupReward };
  }

  protected override replayMeta(b: number): Record<string, unknown> {
    return { ...super.replayMeta(b), arena: WALL, renderer: 'world2d' };
  }
}

export const collectionEntry: EnvEntry = {
  id: 'drima-collection',
  title: 'Cooperative Collection (DRIMA): six agents, six food items of three types',
  schema: collectionSchema,
  spec: (config: Values) => collectionSpec(parseCollectionConfig(config)),
  create: (config: Values, options: EnvOptions) => new CollectionVecEnv(parseCollectionConfig(config), options),
};
