/**
 * Presets of the value-mixing learners (VDN, QMIX, QTRAN, MAVEN; hidden-gifts Tables 6-9):
 * per learner, the paper's settings and a `-released-code` twin for each observation variant
 * (built by presets.ts's family helper: `manitokan-<id>`, `-doorkey`, `-history`, each with
 * `-released-code`), plus App. E.4's randomised VDN and QMIX.
 *
 * The released-code values are specs/manitokan-learners.md §4 (and the headers of algos/vdn.ts,
 * qmix.ts, qtran.ts, maven.ts, which set them side by side with the paper's).
 */
import type { Preset } from './presets';

/** The shape presets.ts's `familyPresets` takes (kept structural: no runtime import cycle). */
export interface ValueMixingFamily {
  algo: string;
  label: string;
  paperSummary: string;
  releasedSummary: string;
  releasedAlgo: Record<string, unknown>;
}

/** What the released QMIX-family code (qmixer.yaml, qmix_learner.py) runs for VDN, QMIX and QTRAN. */
const RELEASED_QMIX_FAMILY = {
  rnnHiddenDim: 128,
  activation: 'gelu',
  optimizer: 'rmsprop',
  lr: 0.1,
  lrSchedule: 'constant',
  epsilonStart: 1,
  epsilonFinish: 0.05,
  epsilonAnnealSteps: 3_000_000,
  epsilonScope: 'step',
  updatesPerRound: 5,
  targetUpdateInterval: 200,
  targetTau: 0.05,
  doubleQ: false,
  gradClip: 10,
};
const RELEASED_QMIX_SUMMARY =
  'GRU 128, GELU, RMSprop lr 0.1 constant, epsilon 1 -> 0.05 over 3e6 steps with one coin per step for every agent, 5 updates per round, ' +
  'soft target update (tau 0.05) every 200 updates, 300-step episodes, agents not drawn.';
const PAPER_COMMON =
  'Adam lr 1e-2 decaying to 1e-6, epsilon-greedy 1 -> 0.05, target network copied every round, TD(lambda = 1) on the team reward, ' +
  'replay of 1000 episodes sampled 32 at a time after 32 warm-up episodes, 150-step episodes, 10,000 rounds of 32 parallel episodes.';

export const VALUE_MIXING_FAMILIES: readonly ValueMixingFamily[] = [
  {
    algo: 'vdn',
    label: 'VDN',
    paperSummary: `Paper hyperparameters (Table 6): shared GRU agent network (64 -> GRU 128 -> 6), Q_tot = sum of the agents' Q, ${PAPER_COMMON}`,
    releasedSummary: RELEASED_QMIX_SUMMARY,
    releasedAlgo: { ...RELEASED_QMIX_FAMILY },
  },
  {
    algo: 'qmix',
    label: 'QMIX',
    paperSummary:
      "Paper hyperparameters (Table 7): shared GRU agent network (64 -> GRU 64 -> 6), monotonic hypernetwork mixer (two-layer hypernetworks, " +
      `embed 32) on the agents' concatenated observations, ${PAPER_COMMON}`,
    releasedSummary: `one-layer hypernetworks, V(s) hidden 32, ${RELEASED_QMIX_SUMMARY}`,
    releasedAlgo: { ...RELEASED_QMIX_FAMILY, hypernetLayers: 1, valueHidden: 32 },
  },
  {
    algo: 'qtran',
    label: 'QTRAN',
    paperSummary:
      'Paper hyperparameters (Table 8): shared GRU agent network (64 -> GRU 64 -> 6), joint action-value network over the state and the ' +
      "summed (hidden state, action) encodings and a state-value network (32 -> 32 -> 1 each), TD + opt + 0.1 nopt losses, " +
      PAPER_COMMON,
    releasedSummary: RELEASED_QMIX_SUMMARY,
    releasedAlgo: { ...RELEASED_QMIX_FAMILY },
  },
  {
    algo: 'maven',
    label: 'MAVEN',
    paperSummary:
      'Paper hyperparameters (Table 9): shared GRU agent network (64 -> GRU 64 -> 6) conditioned on a per-episode latent z (2 values) drawn by ' +
      "a hierarchical policy on the initial state, QMIX mixer on [observations, z] with one-layer hypernetworks, discriminator (32 hidden) " +
      'for the mutual-information loss, RMSprop lr 5e-5, epsilon-greedy 1 -> 0.05 over 50,000 steps, target copied every round, TD(lambda = 1) ' +
      'on the team reward, replay of 1000 episodes sampled 32 at a time, 150-step episodes, 10,000 rounds of 32 parallel episodes.',
    releasedSummary:
      'GRU 128, RMSprop lr 5e-4, hard target copy every 100 updates, double Q, frozen initial observations, 300-step episodes, agents not drawn ' +
      "(the released returns bandit for z is not ported: z keeps the hierarchical policy).",
    releasedAlgo: { rnnHiddenDim: 128, lr: 5e-4, targetUpdateInterval: 100, targetTau: 1, doubleQ: true, observation: 'frozen-initial' },
  },
];

const PAPER_TRAIN = { episodes: 10_000, numEnvs: 32 };

/** App. E.4: VDN and QMIX kept random longer by a longer epsilon decay (the whole budget). */
export const VALUE_MIXING_EXTRA_PRESETS: readonly Preset[] = (['vdn', 'qmix'] as const).map(
  (id): Preset => ({
    name: `manitokan-${id}-randomized`,
    title: `${id.toUpperCase()}, randomised policy (App. E.4)`,
    description:
      `${id.toUpperCase()} with epsilon annealed over the whole budget (1.5e6 lock-step steps = 10,000 rounds of 150 steps) instead of ` +
      "50,000, so the policy stays near random for longer (App. E.4: 'simply increasing the time of decay'; the paper gives no number); otherwise " +
      `Table ${id === 'vdn' ? 6 : 7}.`,
    paper: 'App. E.4, Fig. 10',
    config: { env: { id: 'manitokan' }, algo: { id, epsilonAnnealSteps: 1_500_000 }, train: { ...PAPER_TRAIN } },
  }),
);
