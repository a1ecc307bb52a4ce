/**
 * The hyperparameter fields IPPO and MAPPO share, and the MLP variants' PPO2 defaults (split out
 * of ppo-trainer.ts; each algorithm file sets its own defaults and docs on top).
 */
import type { Schema } from '../config/schema';

/** Fields IPPO and MAPPO share; each algorithm file sets its own defaults and docs. */
export const ppoCommonSchema = {
  lr: { type: 'float', default: 1e-5, min: 0, max: 1, doc: 'Actor Adam learning rate (paper Tables 1-2 and code: 1e-5; App. E.4 randomised: 1e-6).' },
  criticLr: { type: 'float', default: 1e-5, min: 0, max: 1, doc: 'Critic Adam learning rate (paper and code: 1e-5; App. E.4 randomised: 1e-3).' },
  adamEps: { type: 'float', default: 1e-5, min: 0, doc: 'Adam epsilon (paper silent; code opti_eps: 1e-5).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount factor (paper and code: 0.99).' },
  clip: { type: 'float', default: 0.2, min: 0, max: 1, doc: 'PPO clip range epsilon, also the value-clipping range (paper and code: 0.2).' },
  entropyCoef: { type: 'float', default: 1e-4, min: 0, doc: 'Entropy bonus coefficient (paper and code: 1e-4).' },
  valueCoef: { type: 'float', default: 1, min: 0, doc: 'Value loss coefficient (paper and code: 1).' },
  huberDelta: { type: 'float', default: 10, min: 0, doc: 'Huber loss delta of the value loss; 0 = squared error e^2/2 (paper and code: 10).' },
  valueClip: { type: 'bool', default: true, doc: 'Clip the value update around the rollout value, max(loss, clipped loss) (paper silent; code: on).' },
  epochs: { type: 'int', default: 15, min: 1, max: 1000, doc: 'PPO epochs per round (paper and code: 15).' },
  chunkLength: { type: 'int', default: 10, min: 1, max: 10_000, doc: 'Recurrent chunk length: sequences start from the stored rollout hidden state every this many steps (paper and code: 10).' },
  hiddenDim: { type: 'int', default: 64, min: 2, max: 4096, doc: 'MLP and GRU width; the CNN has hiddenDim / 2 channels (paper: 64, CNN 32).' },
  activation: { type: 'enum', default: 'relu', values: ['relu', 'gelu'], doc: 'Hidden activation (paper: relu; released code: exact GELU).' },
  outputGain: { type: 'float', default: 0.01, min: 0, doc: "Orthogonal-init gain of the policy head (paper 'Gain' and code: 0.01)." },
  advantageNorm: { type: 'bool', default: true, doc: 'Normalise advantages to zero mean, unit std over valid steps (paper silent; code: on).' },
  inputScale: { type: 'float', default: 1, min: 0, doc: 'Factor on env observation/state values (paper silent: 1; released code: 1/255). Never applied to the last-action one-hot.' },
  actorObservation: {
    type: 'enum',
    default: 'own',
    values: ['own', 'joint', 'joint-with-last-action'],
    doc:
      "Actor input: own observation (paper); joint = every agent's env observation plus its own last action; " +
      'joint-with-last-action = joint only when the last action is observed (released code, last_action_obs quirk), else own.',
  },
  updateThreads: {
    type: 'enum',
    default: 'auto',
    values: ['auto', '1', '2'],
    doc:
      "Threads for the PPO update: 2 runs the critic's steps on a helper thread beside the actor's (same results, " +
      'bit for bit); pays only when a core is free. auto: the host (CLI, app) decides per run, between rounds, from ' +
      "its cores, its live runs and the load average, and logs the choice; 1 where nothing decides (tests, bench).",
  },
} as const satisfies Schema;

/**
 * The independent MLP PPO of the exploration learners (EITI, EDTI, Social Influence on the
 * sparse grids; algos/eiti.ts): the fields of IPPO with the defaults of the EITI/EDTI code's
 * learner, OpenAI Baselines' PPO2 (README command: `--network=mlp --num_layers=3
 * --num_hidden=32 --ent_coef=0.1 --num_env=32`; the rest PPO2's own defaults: lr 3e-4, 4
 * epochs, 4 minibatches, clip 0.2, gamma 0.99, lambda 0.95, value coefficient 0.5, squared
 * value error with clipping, global gradient norm 0.5, tanh units). Cairn differs where its
 * PPO differs: separate actor and critic networks and optimisers (PPO2's `value_network=copy`
 * also gives the value its own network, but one Adam and one clipped norm over both), and
 * advantages normalised over the round rather than per minibatch.
 */
export function ppoMlpSchema<S extends Schema>(ippo: S) {
  return {
    ...ippo,
    lr: { type: 'float', default: 3e-4, min: 0, max: 1, doc: 'Actor Adam learning rate (PPO2 default: 3e-4).' },
    criticLr: { type: 'float', default: 3e-4, min: 0, max: 1, doc: 'Critic Adam learning rate (PPO2: the same 3e-4).' },
    entropyCoef: { type: 'float', default: 0.1, min: 0, doc: 'Entropy bonus coefficient (EITI/EDTI README: --ent_coef=0.1).' },
    valueCoef: { type: 'float', default: 0.5, min: 0, doc: 'Value loss coefficient (PPO2: 0.5).' },
    huberDelta: { type: 'float', default: 0, min: 0, doc: 'Huber delta of the value loss; 0 = squared error (PPO2: squared error).' },
    epochs: { type: 'int', default: 4, min: 1, max: 1000, doc: 'PPO epochs per round (PPO2: noptepochs 4).' },
    minibatches: { type: 'int', default: 4, min: 1, max: 1000, doc: 'Minibatches per epoch (PPO2: nminibatches 4).' },
    chunkLength: { type: 'int', default: 1, min: 1, max: 10_000, doc: 'Steps per minibatch unit; an MLP has no memory, so 1 shuffles single steps as PPO2 does.' },
    hiddenDim: { type: 'int', default: 32, min: 1, max: 4096, doc: 'Width of the three hidden layers (README: --num_hidden=32 --num_layers=3).' },
    activation: { type: 'enum', default: 'tanh', values: ['relu', 'gelu', 'tanh'], doc: "Hidden activation (Baselines' mlp: tanh)." },
    gaeLambda: { type: 'float', default: 0.95, min: 0, max: 1, doc: 'GAE lambda (PPO2: 0.95).' },
    actorGradClip: { type: 'float', default: 0.5, min: 0, doc: 'Per-agent global-norm clip of actor gradients, 0 = none (PPO2: max_grad_norm 0.5).' },
    criticGradClip: { type: 'float', default: 0.5, min: 0, doc: 'Per-agent global-norm clip of critic gradients, 0 = none (PPO2: 0.5).' },
  } as const satisfies Schema;
}
