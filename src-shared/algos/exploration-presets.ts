/**
 * Presets of ALITA Table 1 on the sparse grid tasks (Push-Box, Secret Room; envs/push-box.ts,
 * envs/secret-room.ts): the exploration baselines EITI, EDTI and Social Influence (independent
 * MLP PPO, eiti.ts / edti.ts / social-influence.ts), and ALITA and MADDPG with the grids'
 * hyperparameters, each with a `-released-code` twin running the EITI code's observation
 * (Push-Box: the scoring step still shows the box on the wall; Secret Room: no door bits) and,
 * for EITI and EDTI, the count form of the interaction term (`interaction: 'count'`).
 *
 * Budget: Table 1 is "after 20000 updates", read as 20,000 MADDPG update rounds of 100 env
 * steps (alita.md §7.4): 2,000,000 env steps = 210 rounds of 32 copies x 300 steps (2,016,000),
 * for every learner (the EITI code also runs 32 envs). ALITA on the grids (Tables 5-6, lambda =
 * beta INFERRED): Push-Box lambda 0.15, lambda_pi 0.1, omega 0.1; Secret Room 0.1, 0.1, 0.1;
 * D_t by exact (o, a) matches (the spec's choice for grids). MADDPG/ALITA act on the discrete
 * actions through Gumbel-softmax samples (their default for discrete envs) with gamma 0.95
 * (appendix D); the PPO baselines use their code's gamma 0.99.
 */
import type { Preset } from '../config/presets';

export const GRID_TRAIN = { episodes: 210, numEnvs: 32 };

export interface GridTask {
  /** Preset-name prefix and env id. */
  readonly id: 'push-box' | 'secret-room';
  readonly label: string;
  /** The EITI code's observation (released-code twins). */
  readonly codeEnv: Record<string, unknown>;
  readonly alita: Record<string, unknown>;
}

export const GRID_TASKS: readonly GridTask[] = [
  { id: 'push-box', label: 'Sparse Push-Box 15x15', codeEnv: { boxObservation: 'code' }, alita: { lambda: 0.15, lambdaPi: 0.1, omega: 0.1 } },
  { id: 'secret-room', label: 'Sparse Secret Room 25x25', codeEnv: { observation: 'code' }, alita: { lambda: 0.1, lambdaPi: 0.1, omega: 0.1 } },
];

export interface GridLearner {
  /** Preset-name part. */
  readonly name: string;
  readonly label: string;
  readonly algo: (task: GridTask) => Record<string, unknown>;
  /** What the released-code twin changes in the learner (EITI/EDTI: the count form of the interaction). */
  readonly codeAlgo?: Record<string, unknown>;
  readonly blurb: string;
}

export const TABLE1_LEARNERS: readonly GridLearner[] = [
  { name: 'alita', label: 'ALITA', algo: (t) => ({ id: 'alita', dtMode: 'exact', ...t.alita }), blurb: 'ALITA (MADDPG with the influence function and the autoencoder bonus/penalty), Tables 5-6 weights, exact D_t' },
  { name: 'maddpg', label: 'MADDPG', algo: () => ({ id: 'maddpg' }), blurb: 'MADDPG (centralised critics, Gumbel-softmax actors)' },
  { name: 'eiti', label: 'EITI', algo: () => ({ id: 'eiti' }), codeAlgo: { interaction: 'count' }, blurb: 'EITI (independent PPO, count curiosity eta / sqrt(n + 1) and the MI interaction term; our configuration eta 10, beta_T 10)' },
  { name: 'edti', label: 'EDTI', algo: () => ({ id: 'edti' }), codeAlgo: { interaction: 'count' }, blurb: 'EDTI (independent PPO, count curiosity and the value of interaction with extrinsic and intrinsic value heads; README weights)' },
  {
    name: 'social-influence',
    label: 'Social Influence',
    algo: () => ({ id: 'social-influence' }),
    blurb: 'Social Influence (independent PPO, an MLP model of other agents, counterfactual KL influence reward; our configuration)',
  },
];

function presetsFor(task: GridTask, l: GridLearner): Preset[] {
  const name = `${task.id}-${l.name}`;
  const base: Preset = {
    name,
    title: `${task.label}, ${l.label}`,
    description: `${l.blurb} on ${task.label}; about 2M env steps (Table 1's "20000 updates" read as MADDPG update rounds).`,
    paper: 'ALITA §4.1, Table 1',
    config: { env: { id: task.id }, algo: l.algo(task), train: { ...GRID_TRAIN } },
  };
  const twin: Preset = {
    ...base,
    name: `${name}-released-code`,
    title: `${base.title}, EITI-code observation`,
    description: `As ${name}, with the EITI code's observation (${task.id === 'push-box' ? 'the scoring step still shows the box on the wall' : 'no door bits, 100 values'})${l.codeAlgo ? " and the count form of the interaction term (our reading of the code's approximation)" : ''}.`,
    paper: 'ALITA §4.1, Table 1 (EITI released code)',
    config: { env: { id: task.id, ...task.codeEnv }, algo: { ...l.algo(task), ...l.codeAlgo }, train: { ...GRID_TRAIN } },
  };
  return [base, twin];
}

export const explorationPresets: Preset[] = GRID_TASKS.flatMap((t) => TABLE1_LEARNERS.flatMap((l) => presetsFor(t, l)));
