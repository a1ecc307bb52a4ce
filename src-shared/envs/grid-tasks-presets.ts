/**
 * Presets of the sparse grid tasks of ALITA Table 1, Push-Box (push-box.ts) and Secret Room
 * (secret-room.ts), with PG, the learner every discrete env already has; the ALITA, EITI, EDTI
 * and Social Influence presets live with those learners.
 *
 * Budget: Table 1 is "after 20000 updates"; read as 20,000 MADDPG update rounds of 100 env
 * steps (alita.md §7.4) that is 2,000,000 env steps, about 6,667 episodes of 300 steps; PG
 * updates once per round of 32 episodes, so 210 rounds = 6,720 episodes = 2,016,000 steps.
 * The paper is silent for PG here: gamma 0.99 (300-step episodes with one sparse reward need a
 * long horizon; the EITI code's PPO also uses 0.99), learning rates as the particle presets.
 * The `-released-code` twins switch on what the EITI code does differently (Push-Box: the
 * scoring step's observation shows the box on the wall; Secret Room: no door bits).
 */
import type { Preset } from '../config/presets';

const PG = { id: 'pg', gamma: 0.99, lr: 5e-4, criticLr: 1e-3 };
const TRAIN = { episodes: 210, numEnvs: 32 };

export const gridTasksPresets: Preset[] = [
  {
    name: 'push-box-pg',
    title: 'Sparse Push-Box 15x15, PG',
    description:
      'Two agents start at (1, 1) of a 15x15 room and must push a heavy box (it moves only when both push the same way in the same step) into a wall for 1000 each; the box respawns and the 300-step episode continues. PG, about 2M env steps (Table 1 reads "20000 updates").',
    paper: 'ALITA §4.1, Table 1',
    config: { env: { id: 'push-box' }, algo: { ...PG }, train: { ...TRAIN } },
  },
  {
    name: 'push-box-pg-released-code',
    title: 'Sparse Push-Box 15x15, PG, EITI-code observation',
    description:
      'As push-box-pg, with the EITI code’s observation timing (pushball_environment.py): on a scoring step the observation still shows the box on the wall; the respawned box is seen one step later.',
    paper: 'ALITA §4.1, Table 1 (released code)',
    config: { env: { id: 'push-box', boxObservation: 'code' }, algo: { ...PG }, train: { ...TRAIN } },
  },
  {
    name: 'secret-room-pg',
    title: 'Sparse Secret Room 25x25, PG',
    description:
      'Two agents start in the large left room of a 25x25 grid; a switch there opens all three doors to the small rooms on the right (for 8 steps after it is left), each small room has a switch for its own door; 1000 each and the episode ends when both stand in the top room. Observation: both agents’ one-hot rows and columns plus 3 door bits (the paper). PG, about 2M env steps.',
    paper: 'ALITA §4.1, Table 1',
    config: { env: { id: 'secret-room' }, algo: { ...PG }, train: { ...TRAIN } },
  },
  {
    name: 'secret-room-pg-released-code',
    title: 'Sparse Secret Room 25x25, PG, EITI-code observation',
    description: 'As secret-room-pg, with the EITI code’s observation (three_pass_environment.py): the agents’ one-hot rows and columns only (100 values), no door bits.',
    paper: 'ALITA §4.1, Table 1 (released code)',
    config: { env: { id: 'secret-room', observation: 'code' }, algo: { ...PG }, train: { ...TRAIN } },
  },
];
