/**
 * Presets of the repeated matrix games (matrix-game.ts), with PG as the learner.
 *
 * DRIMA's matrix-game protocol (shared/specs/drima.md §2.1): a constant observation, 25-step
 * segments that never terminate, 2,000 segments per seed (4,000 for Maintain). PG is the hidden
 * gifts paper's REINFORCE learner; its paper defaults were tuned for Manitokan, so these presets
 * choose (paper silent for PG on matrix games): one actor per player (a shared actor would force
 * both players of a constant-observation game onto the same policy, and Maintain's players do
 * not even share action names), and DRIMA's A2C learning rates (actor 5e-4, critic 1e-3, §2.5).
 */
import type { Preset } from '../config/presets';

const PG = { id: 'pg', actorSharing: 'per-agent', lr: 5e-4, criticLr: 1e-3 };

export const matrixGamePresets: Preset[] = [
  {
    name: 'pd-pg',
    title: "Iterated Prisoner's Dilemma, PG",
    description: "DRIMA's Prisoner's Dilemma (CC 10/10, CD 0/18, DC 18/0, DD 2/2) played as a 25-step repeated game with a constant observation; independent PG learners (one actor per player). Independent learners are expected to end near (D, D), total reward 4 per step; the optimum is 20.",
    paper: 'DRIMA §3.2, Fig. 1, Fig. 3',
    config: { env: { id: 'matrix-game', game: 'prisoners-dilemma' }, algo: { ...PG }, train: { episodes: 2000, numEnvs: 32 } },
  },
  {
    name: 'pd-pg-previous-action',
    title: "Iterated Prisoner's Dilemma, PG, previous joint action observed",
    description: "As pd-pg, but each player observes the previous joint action (LOLA-style iterated protocol, environments.md §6.2), which lets reciprocating strategies be represented.",
    paper: 'environments.md §6.2 (alternative protocol)',
    config: { env: { id: 'matrix-game', game: 'prisoners-dilemma', observation: 'previous-joint-action' }, algo: { ...PG }, train: { episodes: 2000, numEnvs: 32 } },
  },
  {
    name: 'maintain-pg',
    title: 'Maintain (3x3 general-sum), PG',
    description: "Bi-AC's Maintain game (optimum A-X 20/15, NEs B-Y 10/5 and C-Z 5/10) as a 25-step repeated game with a constant observation; independent PG learners. DRIMA reports that independent learners settle at B-Y (total 15 per step); the optimum is 35.",
    paper: 'DRIMA Table 1, Fig. 3; Bi-AC (Zhang et al. 2020)',
    config: { env: { id: 'matrix-game', game: 'maintain' }, algo: { ...PG }, train: { episodes: 4000, numEnvs: 32 } },
  },
];
