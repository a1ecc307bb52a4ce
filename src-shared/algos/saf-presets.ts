/**
 * SAF presets on Manitokan (algos/saf.ts, paper Table 5): the three observation settings of
 * §3.1-3.3 under the family naming of config/presets.ts (`manitokan-saf`, `-doorkey`,
 * `-history`), each with a `-released-code` twin that switches on what the released code runs
 * instead (the table in saf.ts's header): 10 epochs, one minibatch, value coefficient 0.5,
 * linear lr decay over the 10,000 rounds, 300-step episodes, agents not drawn.
 */
import type { Preset } from '../config/presets';

const TRAIN = { episodes: 10_000, numEnvs: 32 };
const RELEASED_ENV = { episodeLimit: 300, showOtherAgents: false };
const RELEASED_ALGO = { epochs: 10, minibatches: 1, valueCoef: 0.5, lrDecayRounds: 10_000 };

const PAPER =
  'Paper hyperparameters (Table 5): shared CNN encoder (64 channels, kernel 2), perceiver knowledge source (4 latents, 64 channels, ' +
  '2 self-attention blocks of 2 layers), a pool of 4 policies (MLP 128, tanh) chosen by 4 slot keys, tanh value MLP, PPO with Adam 3e-4, ' +
  'clip 0.2, entropy 0.01, 15 epochs, 5 minibatches, grad clip 9, Huber value loss (delta 10), no GAE, 150-step episodes, 10,000 rounds of 32 parallel episodes.';
const RELEASED = '10 epochs, one minibatch, value coefficient 0.5, lr decayed linearly over 10,000 rounds, 300-step episodes, agents not drawn.';

const VARIANTS = [
  { suffix: '', title: ', observation only', what: 'On the basic task: each agent sees only its 3x3 egocentric view.', paper: '§3.1, Fig. 2-3', env: {} },
  {
    suffix: '-doorkey',
    title: ' + door and key flags',
    what: 'Adds the door-opened and holding-key flags to every observation.',
    paper: '§3.2, Fig. 4',
    env: { obsDoorFlag: true, obsKeyFlag: true },
  },
  {
    suffix: '-history',
    title: ' + last action',
    what: "Appends the one-hot of the agent's own previous action to its input.",
    paper: '§3.3, Fig. 5',
    env: { obsLastAction: true },
  },
];

export const safPresets: Preset[] = VARIANTS.flatMap((v): Preset[] => [
  {
    name: `manitokan-saf${v.suffix}`,
    title: `SAF${v.title}`,
    description: `${v.what} ${PAPER}`,
    paper: v.paper,
    config: { env: { id: 'manitokan', ...v.env }, algo: { id: 'saf' }, train: { ...TRAIN } },
  },
  {
    name: `manitokan-saf${v.suffix}-released-code`,
    title: `SAF${v.title} (released code)`,
    description: `${v.what} With what the released code runs instead of the paper's text: ${RELEASED}`,
    paper: `${v.paper} (released code)`,
    config: { env: { id: 'manitokan', ...v.env, ...RELEASED_ENV }, algo: { id: 'saf', ...RELEASED_ALGO }, train: { ...TRAIN } },
  },
]);
