/**
 * Presets of Cooperative Navigation (spread.ts), discrete actions, with PG as the learner.
 *
 * MADDPG's protocol for the particle tasks: 25-step episodes, about 25,000 training episodes,
 * gamma 0.95 (openai/maddpg train.py). Here a round is one episode in each of 32 copies, so 800
 * rounds = 25,600 episodes. PG's own defaults were tuned for Manitokan; these presets choose
 * (paper silent for PG here) gamma 0.95 as MADDPG, and learning rates 5e-4 (actor) and 1e-3
 * (critic), as for the matrix games.
 */
import type { Preset } from '../config/presets';

const PG = { id: 'pg', gamma: 0.95, lr: 5e-4, criticLr: 1e-3 };
const TRAIN = { episodes: 800, numEnvs: 32 };

export const spreadPresets: Preset[] = [3, 6].map((n) => ({
  name: `spread-n${n}-pg`,
  title: `Cooperative Navigation, N = ${n}, PG (discrete)`,
  description: `MPE simple_spread with ${n} agents and ${n} landmarks, 25-step episodes, the OpenAI shared reward (-N x sum of nearest distances, collision penalties), 5 discrete moves; PG with one shared recurrent actor. ALITA Table 2 reports distance and collisions for N = ${n}.`,
  paper: 'ALITA Table 2; MADDPG §5 (cooperative navigation)',
  config: { env: { id: 'spread', numAgents: n, actions: 'discrete' }, algo: { ...PG }, train: { ...TRAIN } },
}));
