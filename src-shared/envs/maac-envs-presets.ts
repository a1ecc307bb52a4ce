/**
 * Presets of Cooperative Treasure Collection (treasure-collection.ts) and Rover-Tower
 * (rover-tower.ts) with the centralised baselines F2A2 compares against, configured as the F2A2
 * paper's appendix G says (shared/specs/f2a2.md §4): 12 parallel rollouts, one replay of 1e6
 * joint steps, 4 updates of 1024-step minibatches per 100 env steps (here one update every 25
 * transitions), Adam 1e-3, tau 0.005, gamma 0.99, hidden 128; 50,000 training episodes (the
 * MAAC code's default, f2a2.md §4's DESIGN CHOICE) = 4,167 rounds of 12 copies.
 *
 * Not carried over (the learners have no such option): MAAC's input BatchNorm and its per-agent
 * reward standardisation at sampling time (f2a2.md §4 "Common MPE settings").
 * COMA (f2a2.md §4.2): centralised critic, TD(lambda 0.8), epsilon floor 0.5 -> 0.01 over 50k
 * steps, target copy every 200 critic steps, on-policy rounds of ~1,000 env steps (the paper's
 * "most recent 1024 timesteps": 10 copies x 100 steps on CTC, 40 x 25 on RT), hidden 128, lr 1e-3.
 */
import type { Preset } from '../config/presets';

interface Task {
  readonly key: 'treasure-collection' | 'rover-tower';
  readonly title: string;
  readonly what: string;
  readonly comaCopies: number;
}

const TASKS: readonly Task[] = [
  {
    key: 'treasure-collection',
    title: 'Cooperative Treasure Collection',
    what: 'MAAC fullobs_collect_treasure: 6 hunters pick up treasures of 2 types and deliver them to the 2 banks of their type; 100-step episodes, per-agent rewards',
    comaCopies: 10,
  },
  {
    key: 'rover-tower',
    title: 'Rover-Tower',
    what: 'MAAC multi_speaker_listener: 4 towers see their rover and its goal and send 5 messages, 4 blind rovers move to the goal; 25-step episodes, per-pair rewards',
    comaCopies: 40,
  },
];

export const F2A2_MPE_TRAIN = { episodes: 4167, numEnvs: 12 };
export const F2A2_MPE_OFFPOLICY = { gamma: 0.99, batchSize: 1024, bufferSize: 1_000_000, updateEvery: 25, warmup: 1024 };

export const maacEnvPresets: Preset[] = TASKS.flatMap((t): Preset[] => [
  {
    name: `${t.key}-maddpg`,
    title: `${t.title}, MADDPG (F2A2 appendix G)`,
    description: `${t.what}. MADDPG with Gumbel-softmax actors and per-agent centralised critics, F2A2 appendix G settings (12 rollouts, Adam 1e-3, tau 0.005, 4 updates of 1024 per 100 steps); the metric of F2A2 Fig. 5 and Tables 4-5 is mean_return.`,
    paper: 'F2A2 §6.1, Fig. 5; appendix G',
    config: {
      env: { id: t.key },
      algo: { id: 'maddpg', hiddenDim: 128, layerNorm: false, lrActor: 1e-3, lrCritic: 1e-3, tau: 0.005, gradClip: 0.5, ...F2A2_MPE_OFFPOLICY },
      train: { ...F2A2_MPE_TRAIN },
    },
  },
  {
    name: `${t.key}-coma`,
    title: `${t.title}, COMA (F2A2 appendix G)`,
    description: `${t.what}. COMA with a centralised critic, TD(lambda = 0.8), an epsilon floor 0.5 -> 0.01, target copies every 200 critic steps, on-policy rounds of about 1,000 env steps; the metric of F2A2 Fig. 5 is mean_return.`,
    paper: 'F2A2 §6.1, Fig. 5; appendix G',
    config: {
      env: { id: t.key },
      algo: {
        id: 'coma',
        lr: 1e-3,
        criticLr: 1e-3,
        gamma: 0.99,
        tdLambda: 0.8,
        hiddenDim: 128,
        criticHiddenDim: 128,
        criticInput: 'centralised',
        bufferSize: 0,
        epsilonStart: 0.5,
        epsilonFinish: 0.01,
        epsilonAnnealSteps: Math.round(50_000 / t.comaCopies),
        targetUpdateCriticSteps: 200,
      },
      train: { episodes: Math.round(50_000 / t.comaCopies), numEnvs: t.comaCopies },
    },
  },
]);
