/**
 * The centralised baselines of the F2A2 paper configured as shared/specs/f2a2.md §4 says, on
 * Cooperative Treasure Collection, Rover-Tower and (for quick checks) Cooperative Navigation:
 *
 * - `<env>-maac` (+ `-released-code`): MAAC (algos/maac.ts) with appendix G's settings; the twin
 *   runs the released MAAC code's tau 0.001 and target form. These are the names the F2A2
 *   reproductions look up;
 * - `f2a2-<env>-maddpg`: discrete MADDPG as maddpg-pytorch / the MAAC code base runs it (§4.1):
 *   input BatchNorm, LeakyReLU, PyTorch init, hard straight-through Gumbel samples, greedy target
 *   and others' actions, one soft target update after all agents, global clip 0.5, logits
 *   penalty 1e-3, per-agent reward standardisation, 4 updates per 100 env steps, and the
 *   paper's one modification (appendix H.3, Table 8): one critic Q(o, a, onehot(i)) shared by all
 *   agents (`sharedCritic`). The
 *   `<env>-maddpg` presets of envs/maac-envs-presets.ts predate these options and keep
 *   openai/maddpg's update;
 * - `f2a2-<env>-coma`: COMA as §4.2 (centralised critic, TD(lambda 0.8), epsilon-bounded softmax
 *   0.5 -> 0.01 over 50k steps, hard target copy every 200 critic updates, Adam 1e-3, hidden 128)
 *   trained on the most recent ~1024 timesteps (a buffer of 1024 / episode-length episodes, all
 *   of them per update) with 4 updates per 100 env steps of the round.
 *
 * Common (§4): 12 parallel rollouts, gamma 0.99, replay 1e6, minibatch 1024 from 1024 stored
 * steps, 50,000 episodes (MAAC's default) = 4,167 rounds of 12 copies.
 *
 * Differs from the paper's runs, because Cairn's COMA has no other actor: the COMA actor is
 * Cairn's recurrent one (Linear -> GRUCell -> Linear), where the MPE code base uses an MLP.
 */
import type { Preset } from '../config/presets';

interface Task {
  readonly env: Record<string, unknown> & { id: string };
  readonly key: string;
  readonly title: string;
  readonly episodeLimit: number;
}

const TASKS: readonly Task[] = [
  { env: { id: 'treasure-collection' }, key: 'treasure-collection', title: 'Cooperative Treasure Collection', episodeLimit: 100 },
  { env: { id: 'rover-tower' }, key: 'rover-tower', title: 'Rover-Tower', episodeLimit: 25 },
  { env: { id: 'spread', numAgents: 3, episodeLimit: 25 }, key: 'spread', title: 'Cooperative Navigation (N = 3)', episodeLimit: 25 },
];

/** 12 rollouts (appendix G), 50,000 episodes. */
export const F2A2_BASELINE_TRAIN = { episodes: 4167, numEnvs: 12 };
/** F2A2 §4 common off-policy settings. */
const OFFPOLICY = { gamma: 0.99, batchSize: 1024, bufferSize: 1_000_000, updateEvery: 100, updatesPerCycle: 4, warmup: 1024 };

export const F2A2_MADDPG = {
  id: 'maddpg',
  ...OFFPOLICY,
  hiddenDim: 128,
  layerNorm: false,
  activation: 'leaky-relu',
  init: 'torch',
  inputBatchNorm: true,
  lrActor: 1e-3,
  lrCritic: 1e-3,
  tau: 0.005,
  gradClip: 0.5,
  clipMode: 'global',
  actorLogitReg: 1e-3,
  storeAction: 'onehot',
  gumbelHard: true,
  targetActions: 'greedy',
  othersInActorLoss: 'current-greedy',
  targetOrder: 'after-all',
  rewardNorm: true,
  // Appendix H.3 / Table 8: F2A2's MADDPG shares one centralised critic between the agents.
  sharedCritic: true,
};

function comaAlgo(episodeLimit: number): Record<string, unknown> {
  const recent = Math.max(1, Math.round(1024 / episodeLimit));
  return {
    id: 'coma',
    criticInput: 'centralised',
    lr: 1e-3,
    criticLr: 1e-3,
    optimizer: 'adam',
    gamma: 0.99,
    tdLambda: 0.8,
    hiddenDim: 128,
    criticHiddenDim: 128,
    epsilonStart: 0.5,
    epsilonFinish: 0.01,
    // t_env counts lock-step steps: 50k env steps over 12 copies.
    epsilonAnnealSteps: Math.round(50_000 / F2A2_BASELINE_TRAIN.numEnvs),
    targetUpdateCriticSteps: 200,
    bufferSize: recent,
    batchSize: recent,
    // A round is 12 x episodeLimit env steps: 4 updates per 100 of them.
    updatesPerRound: Math.max(1, Math.round((4 * F2A2_BASELINE_TRAIN.numEnvs * episodeLimit) / 100)),
  };
}

export const f2a2BaselinePresets: Preset[] = TASKS.flatMap((t): Preset[] => [
  {
    name: `${t.key}-maac`,
    title: `${t.title}, MAAC (F2A2 appendix G)`,
    description: `MAAC's attention critic and soft actor-critic with F2A2 appendix G's settings: 12 rollouts, 4 updates of 1024 steps per 100 env steps, Adam 1e-3 (critic weight decay 1e-3), tau 0.005, alpha 0.01, entropy term inside the discounted target, reward standardisation per agent.`,
    paper: 'F2A2 §6.1 Fig. 5, Tables 4-5 (centralised column); appendix G',
    config: { env: { ...t.env }, algo: { id: 'maac' }, train: { ...F2A2_BASELINE_TRAIN } },
  },
  {
    name: `${t.key}-maac-released-code`,
    title: `${t.title}, MAAC (released MAAC code)`,
    description: `As ${t.key}-maac with the released MAAC code's values where F2A2's text differs: tau 0.001 and the code's soft target (-alpha log pi outside the discount and done mask).`,
    paper: 'F2A2 appendix G; shariqiqbal2810/MAAC',
    config: { env: { ...t.env }, algo: { id: 'maac', tau: 0.001, maacTargetForm: 'code' }, train: { ...F2A2_BASELINE_TRAIN } },
  },
  {
    name: `f2a2-${t.key}-maddpg`,
    title: `${t.title}, MADDPG as F2A2 configures it`,
    description: `Discrete MADDPG of the MAAC code base (maddpg-pytorch): input BatchNorm, LeakyReLU, hard Gumbel samples, greedy target and others' actions, logits penalty 1e-3, clip 0.5, reward standardisation, one critic shared by all agents (appendix H.3); F2A2 appendix G's 12 rollouts and 4 updates of 1024 per 100 env steps.`,
    paper: 'F2A2 §6.1 Fig. 5; appendix G; spec §4.1',
    config: { env: { ...t.env }, algo: { ...F2A2_MADDPG }, train: { ...F2A2_BASELINE_TRAIN } },
  },
  {
    name: `f2a2-${t.key}-coma`,
    title: `${t.title}, COMA as F2A2 configures it`,
    description: `COMA with a centralised critic on the most recent ~1024 timesteps, 4 updates per 100 env steps, Adam 1e-3, TD(lambda 0.8), epsilon-bounded softmax 0.5 -> 0.01 over 50k steps, hard target copy every 200 critic updates (Cairn's COMA actor is recurrent).`,
    paper: 'F2A2 §6.1 Fig. 5; appendix G; spec §4.2',
    config: { env: { ...t.env }, algo: comaAlgo(t.episodeLimit), train: { ...F2A2_BASELINE_TRAIN } },
  },
]);
