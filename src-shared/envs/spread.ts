/**
 * Cooperative Navigation (MPE `simple_spread`), N agents and N landmarks, on the particle world
 * (particle-world.ts). shared/specs/environments.md §3.3 and alita.md §7.3-7.4.
 *
 * Entities: agents "agent i" (size 0.15, collide, silent, mass 1, no accel: sensitivity 5, no
 * max speed), landmarks "landmark j" (size 0.05, immobile, no collision); dim_c = 2, unused
 * since every agent is silent. Reset: every agent, then every landmark, uniform in [-1, 1)^2
 * (x then y), velocities and channels 0. No termination; the episode is cut at `episodeLimit`
 * (25 as MADDPG and PettingZoo) as a truncation.
 *
 * Observation of agent i (6N values: 18 for N = 3, 36 for N = 6): own velocity (2), own
 * position (2), each landmark's position minus own (2N), each other agent's position minus own
 * (2(N-1), ascending index), each other agent's channel (dim_c (N-1), always 0).
 * Global state (Cairn's choice, MPE has none): agent positions (2N), agent velocities (2N),
 * landmark positions (2N).
 *
 * Reward, with D = sum over landmarks of the distance to the nearest agent and c_i = number of
 * other agents within 0.3 (size sum) of agent i (`reward` option):
 * - openai (default; the OpenAI scenario, which MADDPG and the ALITA baselines ran): agent i's
 *   own term is r_i = -D - (1 + c_i), because MPE's collision count includes the agent itself
 *   (a constant -1 per agent per step), and the collaborative world hands every agent the sum
 *   over agents, -N D - N - 2 C (C = colliding pairs);
 * - openai-no-self: the same without the self-collision constant: -N D - 2 C;
 * - pettingzoo (local_ratio 0.5): r_i = -D / 2 - c_i / 2, per agent.
 *
 * Metrics (ALITA Table 2 and MPE's benchmark): `landmark_distance` = D per step averaged over
 * the episode's steps; `collisions` = colliding unordered pairs of distinct agents summed over
 * the episode; `occupied_landmarks` = landmarks with an agent within 0.1 at the last step;
 * `all_occupied` = 1 when that is every landmark (the success measure, Cairn's choice: the
 * paper's table has none); `return_total` = sum over agents of their returns (MADDPG's logged
 * episode reward); `episode_length`.
 *
 * Replays: the particle world's columns (pos, vel; no comm since all are silent) and meta; no
 * extra columns. How the random policy's figures were checked against MPE's definition:
 * docs/envs.md ("Checking Cooperative Navigation").
 */
import { ConfigError, coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { ParticleEnv, particleActionSpace, type ActionMode, type EntityDef, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "sprd"). */
const ENV_STREAM = 0x73707264;
const AGENT_SIZE = 0.15;
const LANDMARK_SIZE = 0.05;
const DIM_C = 2;
/** MPE benchmark: a landmark is occupied when an agent is closer than this. */
const OCCUPIED = 0.1;

export const spreadSchema = {
  numAgents: { type: 'int', default: 3, min: 1, max: 32, doc: 'Agents N, and as many landmarks (MPE: 3; ALITA also 6).' },
  actions: {
    type: 'enum',
    default: 'discrete',
    values: ['discrete', 'continuous'],
    doc: 'discrete: 5 moves (no-op, -x, +x, -y, +y); continuous: a force vector Box(0, 1)^5 with u_x = a2 - a1, u_y = a4 - a3 (PettingZoo continuous).',
  },
  episodeLimit: { type: 'int', default: 25, min: 1, max: 100_000, doc: 'Steps per episode (MADDPG and PettingZoo: 25); a time limit, never a termination.' },
  reward: {
    type: 'enum',
    default: 'openai',
    values: ['openai', 'openai-no-self', 'pettingzoo'],
    doc: 'openai: every agent gets the sum over agents of -D - (collisions incl. itself) (OpenAI MPE); openai-no-self: without the constant self-collision; pettingzoo: per agent -D/2 - (collisions with others)/2.',
  },
} as const satisfies Schema;

export interface SpreadConfig {
  readonly numAgents: number;
  readonly actions: ActionMode;
  readonly episodeLimit: number;
  readonly reward: 'openai' | 'openai-no-self' | 'pettingzoo';
}

export function parseSpreadConfig(config: Values): SpreadConfig {
  const v: Values = defaults(spreadSchema);
  for (const [k, spec] of Object.entries(spreadSchema as Schema)) {
    if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  }
  const N = v.numAgents as number;
  if (!Number.isInteger(N) || N < 1) throw new ConfigError('env.numAgents', 'an integer from 1 to 32', N);
  return { numAgents: N, actions: v.actions as ActionMode, episodeLimit: v.episodeLimit as number, reward: v.reward as SpreadConfig['reward'] };
}

export function spreadWorld(N: number): WorldDef {
  const agents: EntityDef[] = Array.from({ length: N }, (_, i) => ({ name: `agent ${i}`, size: AGENT_SIZE, movable: true, collide: true, silent: true, color: [0.35, 0.35, 0.85] }));
  const landmarks: EntityDef[] = Array.from({ length: N }, (_, j) => ({ name: `landmark ${j}`, size: LANDMARK_SIZE, movable: false, collide: false, color: [0.25, 0.25, 0.25] }));
  return { agents, landmarks, dimC: DIM_C };
}

const METRICS: MetricSpec[] = [
  { key: 'landmark_distance', title: 'Distance to landmarks', headline: true, higherIsBetter: false, description: 'sum over landmarks of the nearest agent distance, averaged over the steps (ALITA Table 2 "average dist.")' },
  { key: 'collisions', title: 'Collisions', headline: true, higherIsBetter: false, description: 'colliding pairs of distinct agents summed over the episode (ALITA Table 2 "# collisions")' },
  { key: 'occupied_landmarks', title: 'Occupied landmarks', description: 'landmarks with an agent within 0.1 at the last step (MPE benchmark)' },
  { key: 'all_occupied', title: 'All landmarks occupied', role: 'success', headline: true, description: 'every landmark has an agent within 0.1 at the last step' },
  { key: 'return_total', title: 'Return (all agents)', role: 'return', headline: true, description: 'sum over agents of the episode return' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function spreadSpec(cfg: SpreadConfig): EnvSpec {
  const N = cfg.numAgents;
  const world = spreadWorld(N);
  const layout = [
    features('own velocity', 2),
    features('own position', 2),
    features('landmark positions (relative)', 2 * N),
    features('other agents positions (relative)', 2 * (N - 1)),
    features('other agents channels (always 0)', DIM_C * (N - 1)),
  ].filter((b) => b.kind === 'features' && b.size > 0);
  const agents = world.agents.map((e, i) => agent(e.name, 0, particleActionSpace(e, DIM_C, cfg.actions), layout));
  return buildSpec({
    id: 'spread',
    agents,
    teams: [team('agents', agents.map((_, i) => i), { sharedReward: cfg.reward !== 'pettingzoo' })],
    stateLayout: [features('agent positions', 2 * N), features('agent velocities', 2 * N), features('landmark positions', 2 * N)],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

export class SpreadVecEnv extends ParticleEnv {
  readonly config: SpreadConfig;
  private readonly collideDist: number;
  /** [B] sum over the episode's steps of D. */
  private readonly distSum: Float64Array;
  /** [B] colliding pairs summed over the episode. */
  private readonly collisions: Int32Array;
  /** Scratch: per agent, other agents in contact this step. */
  private readonly contacts: Int32Array;

  constructor(config: SpreadConfig, options: EnvOptions) {
    super(spreadSpec(config), spreadWorld(config.numAgents), config.actions, options, ENV_STREAM);
    this.config = config;
    this.collideDist = 2 * AGENT_SIZE;
    this.distSum = new Float64Array(this.numEnvs);
    this.collisions = new Int32Array(this.numEnvs);
    this.contacts = new Int32Array(this.N);
    this.reset(0);
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.placeUniform(b, rng, 0, this.E);
    this.clearComm(b);
    this.distSum[b] = 0;
    this.collisions[b] = 0;
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const N = this.N;
    const pos = this.pos;
    const o = b * this.E * 2;
    const lo = o + 2 * N;
    let D = 0;
    for (let l = 0; l < N; l++) {
      const lx = pos[lo + 2 * l];
      const ly = pos[lo + 2 * l + 1];
      let best = Infinity;
      for (let i = 0; i < N; i++) {
        const dx = pos[o + 2 * i] - lx;
        const dy = pos[o + 2 * i + 1] - ly;
        const d = Math.sqrt(dx * dx + dy * dy);
        if (d < best) best = d;
      }
      D += best;
    }
    const c = this.contacts;
    c.fill(0);
    let pairs = 0;
    const cd = this.collideDist;
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const dx = pos[o + 2 * i] - pos[o + 2 * j];
        const dy = pos[o + 2 * i + 1] - pos[o + 2 * j + 1];
        if (Math.sqrt(dx * dx + dy * dy) < cd) {
          pairs++;
          c[i]++;
          c[j]++;
        }
      }
    }
    this.distSum[b] += D;
    this.collisions[b] += pairs;
    const mode = this.config.reward;
    if (mode === 'pettingzoo') {
      for (let i = 0; i < N; i++) rew[i] += -0.5 * D - 0.5 * c[i];
    } else {
      // Sum over agents of r_i = -D - c_i (- 1 for the self-collision in the OpenAI code).
      let r = 0;
      for (let i = 0; i < N; i++) r += -D - c[i] - (mode === 'openai' ? 1 : 0);
      for (let i = 0; i < N; i++) rew[i] += r;
    }
    return false;
  }

  protected observe(b: number, _full: boolean): void {
    const N = this.N;
    const O = this.spec.obsSize;
    const pos = this.pos;
    const vel = this.vel;
    const obs = this.obs;
    const o = b * this.E * 2;
    const lo = o + 2 * N;
    for (let i = 0; i < N; i++) {
      let k = (b * N + i) * O;
      const px = pos[o + 2 * i];
      const py = pos[o + 2 * i + 1];
      obs[k++] = vel[o + 2 * i];
      obs[k++] = vel[o + 2 * i + 1];
      obs[k++] = px;
      obs[k++] = py;
      for (let l = 0; l < N; l++) {
        obs[k++] = pos[lo + 2 * l] - px;
        obs[k++] = pos[lo + 2 * l + 1] - py;
      }
      for (let j = 0; j < N; j++) {
        if (j === i) continue;
        obs[k++] = pos[o + 2 * j] - px;
        obs[k++] = pos[o + 2 * j + 1] - py;
      }
      // Other agents' channels: silent agents, always 0 (dim_c per other agent).
      for (let j = 0; j < DIM_C * (N - 1); j++) obs[k++] = 0;
    }
    const S = this.spec.stateSize;
    const st = this.state;
    let s = b * S;
    for (let i = 0; i < 2 * N; i++) st[s++] = pos[o + i];
    for (let i = 0; i < 2 * N; i++) st[s++] = vel[o + i];
    for (let i = 0; i < 2 * N; i++) st[s++] = pos[lo + i];
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const N = this.N;
    const len = this.stepCount[b];
    const pos = this.pos;
    const o = b * this.E * 2;
    const lo = o + 2 * N;
    let occupied = 0;
    for (let l = 0; l < N; l++) {
      for (let i = 0; i < N; i++) {
        const dx = pos[o + 2 * i] - pos[lo + 2 * l];
        const dy = pos[o + 2 * i + 1] - pos[lo + 2 * l + 1];
        if (Math.sqrt(dx * dx + dy * dy) < OCCUPIED) {
          occupied++;
          break;
        }
      }
    }
    m.landmark_distance = len > 0 ? this.distSum[b] / len : 0;
    m.collisions = this.collisions[b];
    m.occupied_landmarks = occupied;
    m.all_occupied = occupied === N ? 1 : 0;
    let total = 0;
    for (let i = 0; i < N; i++) total += this.episodeReturn(b, i);
    m.return_total = total;
    m.episode_length = len;
  }

  protected override scenarioArrays() {
    return { distSum: this.distSum, collisions: this.collisions };
  }
}

export const spreadEntry: EnvEntry = {
  id: 'spread',
  title: 'Cooperative Navigation (MPE simple_spread)',
  schema: spreadSchema,
  variants: [
    { name: 'continuous actions', config: { actions: 'continuous' } },
    { name: 'N = 6, PettingZoo reward', config: { numAgents: 6, reward: 'pettingzoo' } },
  ],
  spec: (config: Values) => spreadSpec(parseSpreadConfig(config)),
  create: (config: Values, options: EnvOptions) => new SpreadVecEnv(parseSpreadConfig(config), options),
};
