/**
 * Presets of Physical Deception (adversary.ts) with PG training both teams, the learner every
 * discrete env already has; the MADDPG/DDPG/ALITA pairings of ALITA Table 4 live with those
 * learners. Protocol as for Cooperative Navigation (spread-presets.ts): 25-step episodes, 800
 * rounds of 32 copies = 25,600 episodes, gamma 0.95.
 */
import type { Preset } from '../config/presets';

export const adversaryPresets: Preset[] = [
  {
    name: 'adversary-pg',
    title: 'Physical Deception, 2 good agents vs 1 adversary, PG (discrete)',
    description:
      'MPE simple_adversary: 2 good agents know which of 2 landmarks is the target, the adversary does not; good agents are rewarded for the closest one reaching it and for the adversary staying away, the adversary (-squared distance) for reaching it. 25-step episodes, 5 discrete moves; PG trains both teams. ALITA Table 4 reports good-agent and adversary success.',
    paper: 'ALITA Table 4; MADDPG §5 (physical deception)',
    config: { env: { id: 'adversary', numGood: 2, actions: 'discrete' }, algo: { id: 'pg', gamma: 0.95, lr: 5e-4, criticLr: 1e-3 }, train: { episodes: 800, numEnvs: 32 } },
  },
];
