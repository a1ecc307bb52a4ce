/**
 * Presets of the ALITA paper's particle-task experiments (Tables 2-4): MADDPG, DDPG and ALITA on
 * MPE scenarios, each with a `-released-code` twin that runs openai/maddpg's own sizes (64-unit
 * MLPs, no LayerNorm) instead of ALITA appendix D's (128 units, LayerNorm).
 *
 * MPE protocol (shared/specs/alita.md §7.3, Cairn's choice): 25-step episodes, 25,000 training
 * episodes, the OpenAI soft action interface. Cairn's particle envs take that interface as
 * their `continuous` action mode (a Box(0, 1)^5 move vector, u_x = a2 - a1, u_y = a4 - a3; the
 * speaker's message vector), and the learners feed it Gumbel-softmax vectors
 * (`boxPolicy: 'gumbel-softmax'`), exactly what openai/maddpg hands MPE. A round is one
 * episode in each of 50 copies, so 500 rounds = 25,000 episodes; updates still come once per
 * 100 transitions.
 */
import type { Preset } from '../config/presets';

export const MPE_TRAIN = { episodes: 500, numEnvs: 50 };
/** openai/maddpg's network where ALITA appendix D differs (maddpg.ts header). */
export const RELEASED_MADDPG = { hiddenDim: 64, layerNorm: false };
const SOFT = { boxPolicy: 'gumbel-softmax' };

export interface MpeLearner {
  /** Preset-name part and label. */
  readonly name: string;
  readonly label: string;
  readonly algo: Record<string, unknown>;
}

export const MPE_LEARNERS: readonly MpeLearner[] = [
  { name: 'maddpg', label: 'MADDPG', algo: { id: 'maddpg', ...SOFT } },
  { name: 'ddpg', label: 'DDPG', algo: { id: 'ddpg', ...SOFT } },
  // MPE hyperparameters of Tables 5-6: lambda (beta) 0.1, lambda_pi 0.01, omega 0.01 (the defaults).
  { name: 'alita', label: 'ALITA', algo: { id: 'alita', ...SOFT, lambda: 0.1, lambdaPi: 0.01, omega: 0.01 } },
];

/**
 * The spec's `fast` ALITA (§2.7 cost note): estimator updates every 25 lock-step steps, D_t of
 * 64 rows, and (ours) F on 256 rows of the minibatch; what the reproductions' small budget runs.
 */
export const ALITA_FAST = { cloneUpdateEvery: 25, dtBatch: 64, influenceBatch: 256 };

function twins(name: string, title: string, description: string, paper: string, config: Preset['config']): Preset[] {
  return [
    { name, title, description, paper, config },
    {
      name: `${name}-released-code`,
      title: `${title} (openai/maddpg sizes)`,
      description: `${description} Released-code twin: 64-unit MLPs without LayerNorm (openai/maddpg) instead of ALITA appendix D's 128 units with LayerNorm.`,
      paper,
      config: { ...config, algo: { ...config.algo, ...RELEASED_MADDPG } },
    },
  ];
}

const spreadFast: Preset[] = [3, 6].map((n) => ({
  name: `spread-n${n}-alita-fast`,
  title: `Cooperative Navigation, N = ${n}, ALITA (fast estimator schedule)`,
  description: `ALITA on simple_spread with ${n} agents with the spec's fast schedule: influence estimators updated every 25 lock-step steps on 64-row D_t, F evaluated on 256 rows; otherwise as spread-n${n}-alita.`,
  paper: 'ALITA Table 2 (cost-reduced)',
  config: { env: { id: 'spread', numAgents: n, actions: 'continuous', episodeLimit: 25, reward: 'openai' }, algo: { ...MPE_LEARNERS[2].algo, ...ALITA_FAST }, train: { ...MPE_TRAIN } },
}));

export const alitaPresets: Preset[] = [
  ...[3, 6].flatMap((n) =>
  MPE_LEARNERS.flatMap((l) =>
    twins(
      `spread-n${n}-${l.name}`,
      `Cooperative Navigation, N = ${n}, ${l.label}`,
      `MPE simple_spread with ${n} agents and landmarks, 25-step episodes, OpenAI shared reward and soft action vectors; ${l.label} with ALITA appendix D sizes, 25,000 episodes.`,
      'ALITA Table 2',
      { env: { id: 'spread', numAgents: n, actions: 'continuous', episodeLimit: 25, reward: 'openai' }, algo: { ...l.algo }, train: { ...MPE_TRAIN } },
    ),
  ),
  ),
  ...spreadFast,
];

/** Cooperative Communication (ALITA Table 3): speaker and listener, soft message and move vectors. */
const SPEAKER_ENV = { id: 'speaker-listener', actions: 'continuous', episodeLimit: 25, reward: 'openai' };
alitaPresets.push(
  ...MPE_LEARNERS.flatMap((l) =>
    twins(
      `speaker-listener-${l.name}`,
      `Cooperative Communication, ${l.label}`,
      `MPE simple_speaker_listener, 25-step episodes, soft message (3) and move (5) vectors; ${l.label} with ALITA appendix D sizes, 25,000 episodes.`,
      'ALITA Table 3',
      { env: { ...SPEAKER_ENV }, algo: { ...l.algo }, train: { ...MPE_TRAIN } },
    ),
  ),
);

/**
 * Physical Deception (ALITA Table 4): the good agents' learner against the adversary's, as one
 * run each. The env's teams are [adversary, good agents]; `teamCritics` gives each team its
 * critic (1 MADDPG, 0 DDPG), and ALITA's influencer is a good agent (its largest learned team).
 */
export const TABLE4_PAIRS = [
  { agents: 'alita', adversary: 'maddpg' },
  { agents: 'maddpg', adversary: 'maddpg' },
  { agents: 'maddpg', adversary: 'ddpg' },
  { agents: 'ddpg', adversary: 'maddpg' },
  { agents: 'ddpg', adversary: 'ddpg' },
] as const;
const critic = (l: string) => (l === 'ddpg' ? 0 : 1);
alitaPresets.push(
  ...TABLE4_PAIRS.flatMap(({ agents, adversary }) =>
    twins(
      `adversary-${agents}-vs-${adversary}`,
      `Physical Deception, ${agents.toUpperCase()} agents vs ${adversary.toUpperCase()} adversary`,
      `MPE simple_adversary with 2 good agents and 1 adversary, 25-step episodes, soft move vectors; the good agents learn with ${agents.toUpperCase()}, the adversary with ${adversary.toUpperCase()} (per-team critics), ALITA appendix D sizes, 25,000 episodes.`,
      'ALITA Table 4',
      {
        env: { id: 'adversary', numGood: 2, actions: 'continuous', episodeLimit: 25 },
        algo: { ...(agents === 'alita' ? MPE_LEARNERS[2].algo : { id: 'maddpg', ...SOFT }), teamCritics: [critic(adversary), critic(agents)] },
        train: { ...MPE_TRAIN },
      },
    ),
  ),
);
