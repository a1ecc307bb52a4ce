/**
 * Named experiment presets: the paper's PG experiments, their released-code twins, and the
 * random baseline. A preset is a partial experiment config; anything it leaves out takes the
 * schema default (the paper's value), and users override fields with `--set`.
 *
 * `-released-code` presets switch on together everything the published code does differently
 * from the paper's text (see the header of src-shared/algos/pg.ts and
 * shared/specs/manitokan-learners.md): 300-step episodes, agents not drawn in observations,
 * lr 5e-4, exact GELU, an epsilon floor annealed 0.8 -> 0.01 over 2e6 lock-step steps, frozen
 * initial observations, the terminated-sum critic bootstrap, per-step reverse-time critic
 * updates, and a target copy every 200 critic steps.
 */
import type { PartialExperiment } from './experiment';

export interface Preset {
  /** Identifier used by `--preset` and the UI (kebab-case). */
  name: string;
  /** One line for lists. */
  title: string;
  /** What the preset reproduces and how it differs from its neighbours. */
  description: string;
  /** Where in the paper this comes from, e.g. "§3.3, Fig. 5". */
  paper?: string;
  config: PartialExperiment;
}

const PAPER_TRAIN = { episodes: 10_000, numEnvs: 32 };

const RELEASED_ENV = { episodeLimit: 300, showOtherAgents: false };

/** One algorithm family: its paper settings, and what the released code runs instead. */
interface Family {
  algo: string;
  label: string;
  /** The paper's settings, for descriptions. */
  paperSummary: string;
  /** The released code's settings, for descriptions. */
  releasedSummary: string;
  /** Algorithm fields the released-code preset sets. */
  releasedAlgo: Record<string, unknown>;
}

const PG: Family = {
  algo: 'pg',
  label: 'PG',
  paperSummary: 'Paper hyperparameters (Table 3): lr 5e-5, ReLU, RMSprop, 150-step episodes, 10,000 rounds of 32 parallel episodes.',
  releasedSummary:
    '300-step episodes, agents not drawn, lr 5e-4, GELU, epsilon floor 0.8 -> 0.01 over 2e6 steps, frozen initial observations, ' +
    'terminated-sum bootstrap, per-step reverse-time critic updates, target copy every 200 critic steps.',
  releasedAlgo: {
    lr: 5e-4,
    criticLr: 5e-4,
    activation: 'gelu',
    epsilonStart: 0.8,
    epsilonFinish: 0.01,
    epsilonAnnealSteps: 2_000_000,
    observation: 'frozen-initial',
    criticBootstrap: 'terminated-sum',
    criticUpdate: 'per-step-reverse',
    targetUpdateCriticSteps: 200,
  },
};

const COMA: Family = {
  algo: 'coma',
  label: 'COMA',
  paperSummary:
    'Paper hyperparameters (Table 4): shared GRU actor, shared critic on the own observation with one Q per action and the counterfactual ' +
    'baseline, target critic copied every round, replay buffer of 320 episodes sampled 32 at a time, RMSprop lr 5e-5, TD(lambda = 1), ReLU, ' +
    '150-step episodes, 10,000 rounds of 32 parallel episodes.',
  releasedSummary:
    'hidden 128, 300-step episodes, agents not drawn, lr 5e-4, GELU, 1000-episode buffer sampled 32 at a time, epsilon floor 0.8 -> 0.01 ' +
    'over 2e6 steps, frozen initial observations, terminated-sum bootstrap, per-step reverse-time critic updates, target copy every 200 ' +
    'critic steps, actor clipped at 10.',
  releasedAlgo: {
    lr: 5e-4,
    criticLr: 5e-4,
    hiddenDim: 128,
    criticHiddenDim: 128,
    activation: 'gelu',
    criticInput: 'observation',
    bufferSize: 1000,
    batchSize: 32,
    epsilonStart: 0.8,
    epsilonFinish: 0.01,
    epsilonAnnealSteps: 2_000_000,
    observation: 'frozen-initial',
    criticBootstrap: 'terminated-sum',
    criticUpdate: 'per-step-reverse',
    targetUpdateCriticSteps: 200,
    actorGradClip: 10,
  },
};

interface Variant {
  suffix: string;
  title: string;
  what: string;
  paper: string;
  env: Record<string, unknown>;
}

/** The observation settings of sections 3.1-3.3, shared by every family. */
const VARIANTS: Variant[] = [
  {
    suffix: '',
    title: ', observation only',
    what: 'On the basic task: each agent sees only its 3x3 egocentric view.',
    paper: '§3.1, Fig. 2-3',
    env: {},
  },
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
    what: "Appends the one-hot of the agent's own previous action to the actor's input (critics still see the view only).",
    paper: '§3.3, Fig. 5',
    env: { obsLastAction: true },
  },
];

/** A family's three paper presets and their three `-released-code` twins. */
function familyPresets(f: Family): Preset[] {
  const name = `manitokan-${f.algo}`;
  return [
    ...VARIANTS.map(
      (v): Preset => ({
        name: `${name}${v.suffix}`,
        title: `${f.label}${v.title}`,
        description: `${v.what} ${f.paperSummary}`,
        paper: v.paper,
        config: { env: { id: 'manitokan', ...v.env }, algo: { id: f.algo }, train: { ...PAPER_TRAIN } },
      }),
    ),
    ...VARIANTS.map(
      (v): Preset => ({
        name: `${name}${v.suffix}-released-code`,
        title: `${f.label}${v.title} (released code)`,
        description: `${v.what} With what the released code runs instead of the paper's text: ${f.releasedSummary}`,
        paper: `${v.paper} (released code)`,
        config: {
          env: { id: 'manitokan', ...v.env, ...RELEASED_ENV },
          algo: { id: f.algo, ...f.releasedAlgo },
          train: { ...PAPER_TRAIN },
        },
      }),
    ),
  ];
}

const PRESETS: Preset[] = [
  ...familyPresets(PG),
  ...familyPresets(COMA),
  {
    name: 'manitokan-random',
    title: 'Uniform random policy',
    description: 'Every agent picks uniformly among its available actions: the reference line of Fig. 2-5.',
    paper: '§3.1, Fig. 2',
    config: { env: { id: 'manitokan' }, algo: { id: 'random' }, train: { ...PAPER_TRAIN } },
  },
];

/** All presets, in display order. Returns copies, so callers may modify them. */
export function listPresets(): Preset[] {
  return PRESETS.map(clonePreset);
}

/** The preset with this name, or undefined. */
export function getPreset(name: string): Preset | undefined {
  const p = PRESETS.find((x) => x.name === name);
  return p ? clonePreset(p) : undefined;
}

function clonePreset(p: Preset): Preset {
  return {
    ...p,
    config: { env: { ...p.config.env }, algo: { ...p.config.algo }, train: { ...p.config.train } },
  };
}
