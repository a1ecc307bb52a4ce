/**
 * Physical Deception (MPE `simple_adversary`) on the particle world (particle-world.ts):
 * `numGood` good agents (2 in MPE and ALITA Table 4) and one adversary, as many landmarks as
 * good agents, one of them the target. shared/specs/environments.md §3.5 and alita.md §7.3-7.4.
 *
 * Two teams, each driven by its own learner where the learner supports it: team 0
 * "adversary" (agent 0) and team 1 "good agents" (agents 1..numGood, one shared reward).
 *
 * Entities: agents of size 0.15, no collision, silent, sensitivity 5, no max speed (adversary
 * first, as MPE orders them); landmarks of size 0.08, immobile, no collision; dim_c = 2,
 * unused. Reset, in MPE's draw order: the target landmark uniformly, then every agent and
 * every landmark uniform in [-1, 1)^2, velocities 0. No termination; the episode is cut at
 * `episodeLimit` (25, as MADDPG) as a truncation.
 *
 * Observations (relative positions are other minus own; rows 2 + 4 G wide, G = numGood):
 * - adversary (4 G = 8): landmark positions (2 G), other agents' positions (2 G, ascending
 *   index); it is not told which landmark is the target;
 * - good agent (2 + 4 G = 10): the target's position (2), landmark positions (2 G), other
 *   agents' positions (2 G).
 * Global state (Cairn's choice, MPE has none): agent positions (2 (G+1)) and velocities
 * (2 (G+1)), landmark positions (2 G), target one-hot (G).
 *
 * Rewards, MPE's shaped ones (the active branch of the scenario), with distances after the step:
 * - each good agent: -min over good agents g of |g - target| + sum over adversaries of
 *   |adversary - target| (the same for every good agent);
 * - adversary (`reward` option): openai (default, the code MADDPG ran) -|adversary - target|^2;
 *   pettingzoo -|adversary - target|.
 * MPE's world is not collaborative here: rewards are individual, never summed.
 *
 * Metrics (ALITA Table 4; the paper says only "within a small distance from the target", so the
 * definitions are alita.md §7.4's): `good_success` = 1 when the good agent closest to the target
 * is within `successRadius` (default 0.23 = agent size 0.15 + landmark size 0.08, touching) at
 * the last step; `adversary_success` = the same test for the adversary; `success_gap` =
 * good_success - adversary_success (its mean is the table's delta); `good_distance` and
 * `adversary_distance` = those final-step distances (kept raw, as the thresholds are a guess);
 * `good_return` = a good agent's episode return (identical for all good agents);
 * `adversary_return`; `episode_length`.
 *
 * Replays: the particle world's columns (pos, vel) and meta; the target landmark is drawn in
 * MPE's green, the others dark grey, the adversary red, good agents blue; meta `target` = the
 * target's landmark index.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { ParticleEnv, particleActionSpace, type ActionMode, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "advs"). */
const ENV_STREAM = 0x61647673;
const DIM_C = 2;
const TARGET_COLOR: readonly [number, number, number] = [0.15, 0.65, 0.15];

export const adversarySchema = {
  numGood: { type: 'int', default: 2, min: 1, max: 8, doc: 'Good agents G, and as many landmarks (MPE and ALITA Table 4: 2); one adversary.' },
  actions: {
    type: 'enum',
    default: 'discrete',
    values: ['discrete', 'continuous'],
    doc: 'discrete: 5 moves (no-op, -x, +x, -y, +y); continuous: a force vector Box(0, 1)^5 with u_x = a2 - a1, u_y = a4 - a3 (PettingZoo continuous).',
  },
  episodeLimit: { type: 'int', default: 25, min: 1, max: 100_000, doc: 'Steps per episode (MADDPG and PettingZoo: 25; ALITA appendix D: 100); a time limit, never a termination.' },
  reward: {
    type: 'enum',
    default: 'openai',
    values: ['openai', 'pettingzoo'],
    doc: "The adversary's reward: openai -|adversary - target|^2 (OpenAI MPE); pettingzoo -|adversary - target|. Good agents: -(closest good agent's distance) + (adversary's distance) in both.",
  },
  successRadius: {
    type: 'float',
    default: 0.23,
    min: 0,
    max: 10,
    doc: 'Success when the final-step distance to the target is below this (0.23 = agent size 0.15 + landmark size 0.08, touching; the paper gives none).',
  },
} as const satisfies Schema;

export type AdversaryConfig = Values<typeof adversarySchema>;

export function adversaryWorld(G: number): WorldDef {
  return {
    agents: [
      { name: 'adversary', size: 0.15, movable: true, collide: false, silent: true, color: [0.85, 0.35, 0.35] },
      ...Array.from({ length: G }, (_, i) => ({ name: `good ${i}`, size: 0.15, movable: true, collide: false, silent: true, color: [0.35, 0.35, 0.85] as const })),
    ],
    landmarks: Array.from({ length: G }, (_, j) => ({ name: `landmark ${j}`, size: 0.08, movable: false, collide: false, color: [0.15, 0.15, 0.15] as const })),
    dimC: DIM_C,
  };
}

const METRICS: MetricSpec[] = [
  { key: 'good_success', title: 'Good-agent success', role: 'success', headline: true, description: "the good agent closest to the target is within successRadius of it at the last step (ALITA Table 4 'AG succ %')" },
  { key: 'adversary_success', title: 'Adversary success', headline: true, higherIsBetter: false, description: "the adversary is within successRadius of the target at the last step (ALITA Table 4 'ADV succ %')" },
  { key: 'success_gap', title: 'Success gap (good - adversary)', headline: true, description: "good_success - adversary_success; its mean is ALITA Table 4's delta" },
  { key: 'good_distance', title: 'Closest good agent to target', higherIsBetter: false, description: 'final-step distance of the good agent closest to the target' },
  { key: 'adversary_distance', title: 'Adversary to target', description: "final-step distance of the adversary to the target (higher is better for the good team)" },
  { key: 'good_return', title: 'Return (good agent)', role: 'return', headline: true, description: "a good agent's episode return (the same for every good agent)" },
  { key: 'adversary_return', title: 'Return (adversary)', higherIsBetter: false, description: "the adversary's episode return" },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function adversarySpec(cfg: AdversaryConfig): EnvSpec {
  const G = cfg.numGood;
  if (!Number.isInteger(G) || G < 1) throw new ConfigError('env.numGood', 'an integer from 1 to 8', G);
  const world = adversaryWorld(G);
  const mode = cfg.actions as ActionMode;
  const others = features('other agents positions (relative)', 2 * G);
  const landmarks = features('landmark positions (relative)', 2 * G);
  const agents = world.agents.map((e, i) =>
    i === 0
      ? agent(e.name, 0, particleActionSpace(e, DIM_C, mode), [landmarks, others])
      : agent(e.name, 1, particleActionSpace(e, DIM_C, mode), [features('target position (relative)', 2), landmarks, others]),
  );
  return buildSpec({
    id: 'adversary',
    agents,
    teams: [
      team('adversary', [0], { sharedReward: false }),
      team('good agents', Array.from({ length: G }, (_, i) => i + 1), { sharedReward: true }),
    ],
    stateLayout: [
      features('agent positions', 2 * (G + 1)),
      features('agent velocities', 2 * (G + 1)),
      features('landmark positions', 2 * G),
      features('target (one-hot)', G),
    ],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

export class AdversaryVecEnv extends ParticleEnv {
  readonly config: AdversaryConfig;
  private readonly G: number;
  /** [B] target landmark index (0..G-1). */
  private readonly target: Int32Array;

  constructor(config: AdversaryConfig, options: EnvOptions) {
    super(adversarySpec(config), adversaryWorld(config.numGood), config.actions as ActionMode, options, ENV_STREAM);
    this.config = config;
    this.G = config.numGood;
    this.target = new Int32Array(this.numEnvs);
    this.reset(0);
  }

  /** Distance of agent i to copy b's target now. */
  private toTarget(b: number, i: number): number {
    const o = b * this.E * 2;
    const t = o + 2 * (this.N + this.target[b]);
    const dx = this.pos[o + 2 * i] - this.pos[t];
    const dy = this.pos[o + 2 * i + 1] - this.pos[t + 1];
    return Math.sqrt(dx * dx + dy * dy);
  }

  private closestGood(b: number): number {
    let best = Infinity;
    for (let i = 1; i < this.N; i++) best = Math.min(best, this.toTarget(b, i));
    return best;
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.target[b] = rng.int(this.G);
    this.placeUniform(b, rng, 0, this.E);
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const adv = this.toTarget(b, 0);
    const good = -this.closestGood(b) + adv;
    rew[0] += this.config.reward === 'openai' ? -adv * adv : -adv;
    for (let i = 1; i < this.N; i++) rew[i] += good;
    return false;
  }

  protected observe(b: number, _full: boolean): void {
    const N = this.N;
    const G = this.G;
    const O = this.spec.obsSize;
    const pos = this.pos;
    const obs = this.obs;
    const o = b * this.E * 2;
    const lo = o + 2 * N;
    const t = lo + 2 * this.target[b];
    for (let i = 0; i < N; i++) {
      let k = (b * N + i) * O;
      const px = pos[o + 2 * i];
      const py = pos[o + 2 * i + 1];
      if (i > 0) {
        obs[k++] = pos[t] - px;
        obs[k++] = pos[t + 1] - py;
      }
      for (let l = 0; l < G; l++) {
        obs[k++] = pos[lo + 2 * l] - px;
        obs[k++] = pos[lo + 2 * l + 1] - py;
      }
      for (let j = 0; j < N; j++) {
        if (j === i) continue;
        obs[k++] = pos[o + 2 * j] - px;
        obs[k++] = pos[o + 2 * j + 1] - py;
      }
    }
    const st = this.state;
    let s = b * this.spec.stateSize;
    for (let k = 0; k < 2 * N; k++) st[s++] = pos[o + k];
    for (let k = 0; k < 2 * N; k++) st[s++] = this.vel[o + k];
    for (let k = 0; k < 2 * G; k++) st[s++] = pos[lo + k];
    for (let l = 0; l < G; l++) st[s++] = l === this.target[b] ? 1 : 0;
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const r = this.config.successRadius;
    const good = this.closestGood(b);
    const adv = this.toTarget(b, 0);
    const ag = good < r ? 1 : 0;
    const as = adv < r ? 1 : 0;
    m.good_success = ag;
    m.adversary_success = as;
    m.success_gap = ag - as;
    m.good_distance = good;
    m.adversary_distance = adv;
    m.good_return = this.episodeReturn(b, 1);
    m.adversary_return = this.episodeReturn(b, 0);
    m.episode_length = this.stepCount[b];
  }

  protected override scenarioArrays() {
    return { target: this.target };
  }

  protected override scenarioMeta(b: number): Record<string, unknown> {
    return { target: this.target[b] };
  }

  protected override entityColor(b: number, e: number): readonly [number, number, number] {
    return e === this.N + this.target[b] ? TARGET_COLOR : super.entityColor(b, e);
  }
}

function parse(config: Values): AdversaryConfig {
  return typedValues('env', adversarySchema, config);
}

export const adversaryEntry: EnvEntry = {
  id: 'adversary',
  title: 'Physical Deception (MPE simple_adversary)',
  schema: adversarySchema,
  variants: [{ name: 'continuous actions, 3 good agents, PettingZoo reward', config: { actions: 'continuous', numGood: 3, reward: 'pettingzoo' } }],
  spec: (config: Values) => adversarySpec(parse(config)),
  create: (config: Values, options: EnvOptions) => new AdversaryVecEnv(parse(config), options),
};
