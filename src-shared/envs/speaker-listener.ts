/**
 * Cooperative Communication (MPE `simple_speaker_listener`) on the particle world
 * (particle-world.ts). shared/specs/environments.md §3.4 and alita.md §7.3-7.4.
 *
 * Entities: agent 0 "speaker" (immobile, speaks, size 0.075, no collision), agent 1 "listener"
 * (moves, silent, size 0.075, no collision, sensitivity 5, no max speed), three landmarks of
 * size 0.04 coloured red, green and blue; dim_c = 3. Reset, in MPE's draw order: the goal
 * landmark uniformly among the three, then the speaker, the listener and each landmark uniform
 * in [-1, 1)^2, velocities and channels 0. No termination; the episode is cut at
 * `episodeLimit` (25, as MADDPG) as a truncation.
 *
 * Actions (per-agent spaces): the speaker only talks, Discrete(3) (one-hot message) or
 * Box(0, 1)^3 written to its channel as is; the listener only moves, Discrete(5) or the
 * particle world's Box(0, 1)^5. Observations (rows 11 wide, the speaker's zero-padded):
 * - speaker (3): the goal landmark's colour (MPE's goal_color);
 * - listener (11): own velocity (2), each landmark's position minus its own (6), the speaker's
 *   channel (3). The message sent at step t is in the observation step t returns.
 * Global state (Cairn's choice, MPE has none): listener position (2) and velocity (2),
 * landmark positions (6), goal one-hot (3), speaker channel (3) = 16.
 *
 * Reward, with d = |listener - goal landmark| after the step (`reward` option):
 * - openai (default): each agent's scenario reward is -d^2 and the collaborative world hands
 *   both the sum over the two agents, -2 d^2 (the OpenAI code the MADDPG/DDPG baselines ran);
 * - pettingzoo: -d^2 to each agent.
 * The paper's prose says the agents are "collectively rewarded at the end of an episode"; the
 * MPE code it cites rewards every step, and the MADDPG/DDPG rows of Table 3 were produced by
 * it, so every step is the default. `rewardTiming: final-step` gives the prose's reading (the
 * same reward, paid only on the episode's last step).
 *
 * Metrics (ALITA Table 3, definitions from alita.md §7.4, since MPE's benchmark hook for this
 * task is broken and the paper gives none): `target_reached` = 1 when the listener's
 * final-step distance to the goal is below `successRadius` (default 0.115 = 0.075 + 0.04, the
 * touching distance); `target_distance` = that final-step distance; `mean_distance` = d
 * averaged over the episode's steps; `return_total` = sum of both agents' returns;
 * `episode_length`.
 *
 * Replays: the particle world's columns (pos, vel, comm: the speaker's message at every
 * frame) and meta, with MPE's colours of the episode: the listener painted in its goal's
 * colour lightened by 0.45; meta `goal` = the goal's landmark index (0..2).
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { ParticleEnv, particleActionSpace, type ActionMode, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "spkl"). */
const ENV_STREAM = 0x73706b6c;
const DIM_C = 3;
const L = 3;
/** MPE's landmark colours (red, green, blue); the speaker observes its goal's. */
const LANDMARK_COLORS: readonly (readonly [number, number, number])[] = [
  [0.65, 0.15, 0.15],
  [0.15, 0.65, 0.15],
  [0.15, 0.15, 0.65],
];

export const speakerListenerSchema = {
  actions: {
    type: 'enum',
    default: 'discrete',
    values: ['discrete', 'continuous'],
    doc: 'discrete: the speaker says one of 3 messages, the listener picks one of 5 moves; continuous: the speaker writes Box(0, 1)^3 to its channel, the listener pushes Box(0, 1)^5 (PettingZoo continuous).',
  },
  episodeLimit: { type: 'int', default: 25, min: 1, max: 100_000, doc: 'Steps per episode (MADDPG and PettingZoo: 25; ALITA appendix D: 100); a time limit, never a termination.' },
  reward: {
    type: 'enum',
    default: 'openai',
    values: ['openai', 'pettingzoo'],
    doc: 'openai: both agents get -2 d^2 (the collaborative sum of -d^2 over the two agents, OpenAI MPE); pettingzoo: -d^2 each. d = listener to goal landmark.',
  },
  rewardTiming: {
    type: 'enum',
    default: 'every-step',
    values: ['every-step', 'final-step'],
    doc: "every-step: MPE's code (the default); final-step: the paper's prose, the same reward paid only on the episode's last step.",
  },
  successRadius: {
    type: 'float',
    default: 0.115,
    min: 0,
    max: 10,
    doc: 'Target reached when the final-step listener-goal distance is below this (0.115 = listener size 0.075 + landmark size 0.04, the touching distance; the paper gives none).',
  },
} as const satisfies Schema;

export type SpeakerListenerConfig = Values<typeof speakerListenerSchema>;

export function speakerListenerWorld(): WorldDef {
  return {
    agents: [
      { name: 'speaker', size: 0.075, movable: false, collide: false, silent: false, color: [0.25, 0.25, 0.25] },
      { name: 'listener', size: 0.075, movable: true, collide: false, silent: true, color: [0.25, 0.25, 0.25] },
    ],
    landmarks: LANDMARK_COLORS.map((color, j) => ({ name: `landmark ${j}`, size: 0.04, movable: false, collide: false, color })),
    dimC: DIM_C,
  };
}

const METRICS: MetricSpec[] = [
  { key: 'target_reached', title: 'Target reached', role: 'success', headline: true, description: "listener within successRadius of the goal landmark at the last step (ALITA Table 3 'target reach %')" },
  { key: 'target_distance', title: 'Distance to target', headline: true, higherIsBetter: false, description: "listener-goal distance at the last step (ALITA Table 3 'average distance')" },
  { key: 'mean_distance', title: 'Mean distance to target', higherIsBetter: false, description: 'listener-goal distance averaged over the steps' },
  { key: 'return_total', title: 'Return (both agents)', role: 'return', headline: true, description: 'sum of the two agents’ episode returns' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function speakerListenerSpec(cfg: SpeakerListenerConfig): EnvSpec {
  const world = speakerListenerWorld();
  const mode = cfg.actions as ActionMode;
  const agents = [
    agent('speaker', 0, particleActionSpace(world.agents[0], DIM_C, mode), [features('goal colour', 3)]),
    agent('listener', 0, particleActionSpace(world.agents[1], DIM_C, mode), [
      features('own velocity', 2),
      features('landmark positions (relative)', 2 * L),
      features("speaker's channel", DIM_C),
    ]),
  ];
  return buildSpec({
    id: 'speaker-listener',
    agents,
    teams: [team('speaker and listener', [0, 1], { sharedReward: true })],
    stateLayout: [
      features('listener position', 2),
      features('listener velocity', 2),
      features('landmark positions', 2 * L),
      features('goal (one-hot)', L),
      features("speaker's channel", DIM_C),
    ],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

export class SpeakerListenerVecEnv extends ParticleEnv {
  readonly config: SpeakerListenerConfig;
  /** [B] goal landmark index. */
  private readonly goal: Int32Array;
  /** [B] sum over the episode's steps of the listener-goal distance. */
  private readonly distSum: Float64Array;

  constructor(config: SpeakerListenerConfig, options: EnvOptions) {
    super(speakerListenerSpec(config), speakerListenerWorld(), config.actions as ActionMode, options, ENV_STREAM);
    this.config = config;
    this.goal = new Int32Array(this.numEnvs);
    this.distSum = new Float64Array(this.numEnvs);
    this.reset(0);
  }

  /** Listener-goal distance of copy b now. */
  private distance(b: number): number {
    const o = b * this.E * 2;
    const g = o + 2 * (2 + this.goal[b]);
    const dx = this.pos[o + 2] - this.pos[g];
    const dy = this.pos[o + 3] - this.pos[g + 1];
    return Math.sqrt(dx * dx + dy * dy);
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.goal[b] = rng.int(L);
    this.placeUniform(b, rng, 0, this.E);
    this.clearComm(b);
    this.distSum[b] = 0;
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const d = this.distance(b);
    this.distSum[b] += d;
    const last = this.stepCount[b] + 1 >= this.limit;
    if (this.config.rewardTiming === 'every-step' || last) {
      const r = this.config.reward === 'openai' ? -2 * d * d : -d * d;
      rew[0] += r;
      rew[1] += r;
    }
    return false;
  }

  protected observe(b: number, _full: boolean): void {
    const O = this.spec.obsSize;
    const pos = this.pos;
    const o = b * this.E * 2;
    const obs = this.obs;
    const c = this.goal[b];
    const col = LANDMARK_COLORS[c];
    let k = b * 2 * O;
    obs[k] = col[0];
    obs[k + 1] = col[1];
    obs[k + 2] = col[2];
    k = (b * 2 + 1) * O;
    const px = pos[o + 2];
    const py = pos[o + 3];
    obs[k++] = this.vel[o + 2];
    obs[k++] = this.vel[o + 3];
    for (let l = 0; l < L; l++) {
      obs[k++] = pos[o + 4 + 2 * l] - px;
      obs[k++] = pos[o + 5 + 2 * l] - py;
    }
    const ch = b * 2 * DIM_C; // the speaker's channel (agent 0)
    for (let m = 0; m < DIM_C; m++) obs[k++] = this.comm[ch + m];
    const st = this.state;
    let s = b * this.spec.stateSize;
    st[s++] = px;
    st[s++] = py;
    st[s++] = this.vel[o + 2];
    st[s++] = this.vel[o + 3];
    for (let l = 0; l < 2 * L; l++) st[s++] = pos[o + 4 + l];
    for (let l = 0; l < L; l++) st[s++] = l === c ? 1 : 0;
    for (let m = 0; m < DIM_C; m++) st[s++] = this.comm[ch + m];
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const len = this.stepCount[b];
    const d = this.distance(b);
    m.target_reached = d < this.config.successRadius ? 1 : 0;
    m.target_distance = d;
    m.mean_distance = len > 0 ? this.distSum[b] / len : d;
    m.return_total = this.episodeReturn(b, 0) + this.episodeReturn(b, 1);
    m.episode_length = len;
  }

  protected override scenarioArrays() {
    return { goal: this.goal, distSum: this.distSum };
  }

  protected override scenarioMeta(b: number): Record<string, unknown> {
    return { goal: this.goal[b] };
  }

  protected override entityColor(b: number, e: number): readonly [number, number, number] {
    // MPE paints the listener in its goal's colour, lightened by 0.45.
    if (e === 1) {
      const g = LANDMARK_COLORS[this.goal[b]];
      return [Math.min(1, g[0] + 0.45), Math.min(1, g[1] + 0.45), Math.min(1, g[2] + 0.45)];
    }
    return super.entityColor(b, e);
  }
}

function parse(config: Values): SpeakerListenerConfig {
  return typedValues('env', speakerListenerSchema, config);
}

export const speakerListenerEntry: EnvEntry = {
  id: 'speaker-listener',
  title: 'Cooperative Communication (MPE simple_speaker_listener)',
  schema: speakerListenerSchema,
  variants: [{ name: 'continuous actions, PettingZoo reward paid at the last step', config: { actions: 'continuous', reward: 'pettingzoo', rewardTiming: 'final-step' } }],
  spec: (config: Values) => speakerListenerSpec(parse(config)),
  create: (config: Values, options: EnvOptions) => new SpeakerListenerVecEnv(parse(config), options),
};
