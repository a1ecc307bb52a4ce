/**
 * Rover-Tower (MAAC's `multi_speaker_listener`, Iqbal & Sha 2019; the F2A2 paper's "RT") on the
 * particle world (particle-world.ts). shared/specs/environments.md §4.1, §4.3; F2A2 settings in
 * shared/specs/f2a2.md §5.
 *
 * Entities: agents 0-3 "rover i" (listeners: move, silent, no collision, size 0.075, accel 1.5,
 * mass 1, max speed 1), agents 4-7 "tower i" (speakers: immobile, speak, no collision, size
 * 0.075), landmarks 8-13 (size 0.04, no collision, seaborn's default palette). dim_c = 5.
 *
 * Reset, in the released code's draw order: a random permutation pairs tower i with rover
 * perm[i]; each tower draws its goal landmark uniformly (two towers may share one); then every
 * agent and every landmark uniform in [-1, 1)^2, at rest, channels 0.
 *
 * Actions: a rover picks one of 5 moves (no-op, -x, +x, -y, +y), a tower one of 5 messages (a
 * one-hot written to its channel; the rover sees the message sent at step t in the observation
 * step t returns). Physics (`physics`): 'maac' (default, the fork the paper ran) accelerates a
 * rover by mass x accel x accel = 2.25 per unit direction; 'openai' by accel / mass = 1.5.
 *
 * Observations (rows 13 wide, towers zero-padded):
 * - rover (13): one-hot of its tower's index (4), its tower's channel (5), own position (2),
 *   own velocity (2); it never sees the landmarks;
 * - tower (8): one-hot of its rover's index (4), the rover's position (2), its goal's position (2).
 * Global state (Cairn's choice; MAAC has none): rover positions (8) and velocities (8), landmark
 * positions (12), per tower its rover one-hot (16) and goal one-hot (24), tower channels (20) = 88.
 *
 * Reward per pair i (tower i and its rover), after the step: dsq = |rover - goal|^2 (squared,
 * as the code); r = -dsq, plus 10 when dsq < (0.075 + 0.04) x 1.5 = 0.1725 (a squared distance
 * against a linear threshold, as the code does). Both members of the pair receive r; pairs do
 * not share (`share_rews = False`).
 *
 * Metrics: `mean_return` = mean over the 8 agents of their episode return (the F2A2 tables'
 * metric, f2a2.md §6), `return_total`, `goal_distance` (mean over rovers of the final distance
 * to their goal), `mean_goal_distance` (over rovers and steps), `on_goal_share` (share of
 * rover-steps that earned the +10), `episode_length`.
 *
 * Colours as the code paints them: landmarks from the palette, each rover in its goal's colour
 * + 0.25, towers grey (0.25). Replay meta adds `towerRover` (rover of tower i) and `goals`
 * (goal landmark of tower i); the comm column holds the towers' messages.
 */
import { coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { ParticleEnv, particleActionSpace, type EntityDef, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "rvtw"). */
const ENV_STREAM = 0x72767477;
export const RT_ROVERS = 4;
const P = RT_ROVERS;
const NA = 2 * P;
const NL = 6;
const DIM_C = 5;
const ROVER_SIZE = 0.075;
const LANDMARK_SIZE = 0.04;
/** The code's bonus threshold on the squared distance. */
export const RT_BONUS_DSQ = (ROVER_SIZE + LANDMARK_SIZE) * 1.5;
/** seaborn's default ("deep") palette, six colours. */
export const RT_LANDMARK_COLORS: readonly (readonly [number, number, number])[] = [
  [0.298, 0.447, 0.69],
  [0.867, 0.518, 0.322],
  [0.333, 0.659, 0.408],
  [0.769, 0.306, 0.322],
  [0.506, 0.447, 0.702],
  [0.576, 0.471, 0.376],
];

export const roverTowerSchema = {
  episodeLimit: { type: 'int', default: 25, min: 1, max: 100_000, doc: 'Steps per episode (MAAC README and F2A2 §6: 25); a time limit, never a termination.' },
  physics: {
    type: 'enum',
    default: 'maac',
    values: ['maac', 'openai'],
    doc: "maac: the MAAC fork's action force mass x accel x (accel u), rovers accelerate 2.25 per unit direction (what the paper ran); openai: OpenAI MPE's force u x accel, 1.5.",
  },
} as const satisfies Schema;

export interface RoverTowerConfig {
  readonly episodeLimit: number;
  readonly physics: 'maac' | 'openai';
}

export function parseRoverTowerConfig(config: Values): RoverTowerConfig {
  const v: Values = defaults(roverTowerSchema);
  for (const [k, spec] of Object.entries(roverTowerSchema as Schema)) if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  return v as unknown as RoverTowerConfig;
}

export function roverTowerWorld(physics: 'maac' | 'openai'): WorldDef {
  const agents: EntityDef[] = [];
  for (let i = 0; i < P; i++) agents.push({ name: `rover ${i}`, size: ROVER_SIZE, movable: true, collide: false, silent: true, mass: 1, accel: 1.5, maxSpeed: 1, color: [0.5, 0.5, 0.5] });
  for (let i = 0; i < P; i++) agents.push({ name: `tower ${i}`, size: ROVER_SIZE, movable: false, collide: false, silent: false, mass: 1, accel: 1.5, maxSpeed: 1, color: [0.25, 0.25, 0.25] });
  const landmarks: EntityDef[] = RT_LANDMARK_COLORS.map((color, k) => ({ name: `landmark ${k}`, size: LANDMARK_SIZE, movable: false, collide: false, color }));
  return { agents, landmarks, dimC: DIM_C, physics };
}

const METRICS: MetricSpec[] = [
  { key: 'mean_return', title: 'Mean episode reward (per agent)', role: 'return', headline: true, description: 'mean over the 8 agents of their episode return (F2A2 Tables 4-5, Fig. 5)' },
  { key: 'return_total', title: 'Return (all agents)', description: 'sum over the 8 agents of their episode return' },
  { key: 'goal_distance', title: 'Rover distance to goal', headline: true, higherIsBetter: false, description: 'mean over rovers of the distance to their goal landmark at the last step' },
  { key: 'mean_goal_distance', title: 'Mean rover distance to goal', higherIsBetter: false, description: 'rover-goal distance averaged over rovers and steps' },
  { key: 'on_goal_share', title: 'Steps on goal', role: 'success', headline: true, description: 'share of rover-steps within the bonus threshold (squared distance < 0.1725)' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function roverTowerSpec(cfg: RoverTowerConfig): EnvSpec {
  const world = roverTowerWorld(cfg.physics);
  const roverLayout = [features("own tower's index one-hot", P), features("own tower's channel", DIM_C), features('own position', 2), features('own velocity', 2)];
  const towerLayout = [features("own rover's index one-hot", P), features("own rover's position", 2), features('goal landmark position', 2)];
  const agents = world.agents.map((e, i) => agent(e.name, i < P ? 0 : 1, particleActionSpace(e, DIM_C, 'discrete'), i < P ? roverLayout : towerLayout));
  return buildSpec({
    id: 'rover-tower',
    agents,
    teams: [team('rovers', [0, 1, 2, 3]), team('towers', [4, 5, 6, 7])],
    stateLayout: [
      features('rover positions', 2 * P),
      features('rover velocities', 2 * P),
      features('landmark positions', 2 * NL),
      features("towers' rover one-hot", P * P),
      features("towers' goal one-hot", P * NL),
      features('tower channels', P * DIM_C),
    ],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

export class RoverTowerVecEnv extends ParticleEnv {
  readonly config: RoverTowerConfig;
  /** [B, 4] rover paired with tower i. */
  private readonly towerRover: Int32Array;
  /** [B, 4] tower paired with rover r. */
  private readonly roverTower: Int32Array;
  /** [B, 4] goal landmark of tower i. */
  private readonly goal: Int32Array;
  private readonly distSum: Float64Array;
  private readonly onGoal: Int32Array;

  constructor(config: RoverTowerConfig, options: EnvOptions) {
    super(roverTowerSpec(config), roverTowerWorld(config.physics), 'discrete', options, ENV_STREAM);
    this.config = config;
    const B = this.numEnvs;
    this.towerRover = new Int32Array(B * P);
    this.roverTower = new Int32Array(B * P);
    this.goal = new Int32Array(B * P);
    this.distSum = new Float64Array(B);
    this.onGoal = new Int32Array(B);
    this.reset(0);
  }

  protected resetCopy(b: number, rng: Rng): void {
    const perm = Int32Array.from({ length: P }, (_, k) => k);
    rng.shuffle(perm);
    for (let i = 0; i < P; i++) {
      this.towerRover[b * P + i] = perm[i];
      this.roverTower[b * P + perm[i]] = i;
      this.goal[b * P + i] = rng.int(NL);
    }
    this.placeUniform(b, rng, 0, this.E);
    this.clearComm(b);
    this.distSum[b] = 0;
    this.onGoal[b] = 0;
  }

  /** Squared distance of tower i's rover to tower i's goal in copy b. */
  private pairDsq(b: number, i: number): number {
    const o = b * this.E * 2;
    const r = this.towerRover[b * P + i];
    const g = NA + this.goal[b * P + i];
    const dx = this.pos[o + 2 * r] - this.pos[o + 2 * g];
    const dy = this.pos[o + 2 * r + 1] - this.pos[o + 2 * g + 1];
    return dx * dx + dy * dy;
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    for (let i = 0; i < P; i++) {
      const dsq = this.pairDsq(b, i);
      const bonus = dsq < RT_BONUS_DSQ;
      const r = -dsq + (bonus ? 10 : 0);
      rew[this.towerRover[b * P + i]] += r;
      rew[P + i] += r;
      this.distSum[b] += Math.sqrt(dsq);
      if (bonus) this.onGoal[b]++;
    }
    return false;
  }

  protected observe(b: number, _full: boolean): void {
    const O = this.spec.obsSize;
    const pos = this.pos;
    const o = b * this.E * 2;
    const obs = this.obs;
    for (let r = 0; r < P; r++) {
      let w = (b * NA + r) * O;
      const t = this.roverTower[b * P + r];
      for (let k = 0; k < P; k++) obs[w++] = k === t ? 1 : 0;
      const c = (b * NA + P + t) * DIM_C;
      for (let k = 0; k < DIM_C; k++) obs[w++] = this.comm[c + k];
      obs[w++] = pos[o + 2 * r];
      obs[w++] = pos[o + 2 * r + 1];
      obs[w++] = this.vel[o + 2 * r];
      obs[w++] = this.vel[o + 2 * r + 1];
    }
    for (let i = 0; i < P; i++) {
      const w0 = (b * NA + P + i) * O;
      let w = w0;
      const r = this.towerRover[b * P + i];
      const g = NA + this.goal[b * P + i];
      for (let k = 0; k < P; k++) obs[w++] = k === r ? 1 : 0;
      obs[w++] = pos[o + 2 * r];
      obs[w++] = pos[o + 2 * r + 1];
      obs[w++] = pos[o + 2 * g];
      obs[w++] = pos[o + 2 * g + 1];
      for (; w < w0 + O; w++) obs[w] = 0;
    }
    const st = this.state;
    let s = b * this.spec.stateSize;
    for (let k = 0; k < 2 * P; k++) st[s++] = pos[o + k];
    for (let k = 0; k < 2 * P; k++) st[s++] = this.vel[o + k];
    for (let k = 2 * NA; k < 2 * this.E; k++) st[s++] = pos[o + k];
    for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) st[s++] = this.towerRover[b * P + i] === k ? 1 : 0;
    for (let i = 0; i < P; i++) for (let k = 0; k < NL; k++) st[s++] = this.goal[b * P + i] === k ? 1 : 0;
    for (let i = 0; i < P; i++) for (let k = 0; k < DIM_C; k++) st[s++] = this.comm[(b * NA + P + i) * DIM_C + k];
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const len = this.stepCount[b];
    let total = 0;
    for (let i = 0; i < NA; i++) total += this.episodeReturn(b, i);
    let fin = 0;
    for (let i = 0; i < P; i++) fin += Math.sqrt(this.pairDsq(b, i));
    m.mean_return = total / NA;
    m.return_total = total;
    m.goal_distance = fin / P;
    m.mean_goal_distance = len > 0 ? this.distSum[b] / (len * P) : fin / P;
    m.on_goal_share = len > 0 ? this.onGoal[b] / (len * P) : 0;
    m.episode_length = len;
  }

  protected override scenarioArrays() {
    return { towerRover: this.towerRover, roverTower: this.roverTower, goal: this.goal, distSum: this.distSum, onGoal: this.onGoal };
  }

  protected override scenarioMeta(b: number): Record<string, unknown> {
    return { renderer: 'world2d', towerRover: Array.from(this.towerRover.subarray(b * P, (b + 1) * P)), goals: Array.from(this.goal.subarray(b * P, (b + 1) * P)) };
  }

  protected override entityColor(b: number, e: number): readonly [number, number, number] {
    if (e < P) {
      const g = RT_LANDMARK_COLORS[this.goal[b * P + this.roverTower[b * P + e]]];
      return [Math.min(1, g[0] + 0.25), Math.min(1, g[1] + 0.25), Math.min(1, g[2] + 0.25)];
    }
    return super.entityColor(b, e);
  }
}

export const roverTowerEntry: EnvEntry = {
  id: 'rover-tower',
  title: 'Rover-Tower (MAAC multi_speaker_listener): 4 rovers guided by 4 towers',
  schema: roverTowerSchema,
  variants: [{ name: 'OpenAI MPE physics', config: { physics: 'openai' } }],
  spec: (config: Values) => roverTowerSpec(parseRoverTowerConfig(config)),
  create: (config: Values, options: EnvOptions) => new RoverTowerVecEnv(parseRoverTowerConfig(config), options),
};
