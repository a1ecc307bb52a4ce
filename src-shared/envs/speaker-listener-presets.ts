/**
 * Presets of Cooperative Communication (speaker-listener.ts) with PG, the learner every
 * discrete env already has; the MADDPG/DDPG/ALITA presets of ALITA Table 3 live with those
 * learners. Protocol as for Cooperative Navigation (spread-presets.ts): 25-step episodes,
 * 800 rounds of 32 copies = 25,600 episodes (the table's "after 25000 episodes"), gamma 0.95.
 */
import type { Preset } from '../config/presets';

export const speakerListenerPresets: Preset[] = [
  {
    name: 'speaker-listener-pg',
    title: 'Cooperative Communication, PG (discrete)',
    description:
      'MPE simple_speaker_listener: an immobile speaker sees the goal colour and says one of 3 messages, the listener hears it and moves (5 moves) to the goal among 3 landmarks; 25-step episodes, the OpenAI shared reward -2 d^2 per step. PG with per-agent actors. ALITA Table 3 reports target reach % and final distance.',
    paper: 'ALITA Table 3; MADDPG §5 (cooperative communication)',
    config: { env: { id: 'speaker-listener', actions: 'discrete' }, algo: { id: 'pg', gamma: 0.95, lr: 5e-4, criticLr: 1e-3 }, train: { episodes: 800, numEnvs: 32 } },
  },
];
