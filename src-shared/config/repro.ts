/**
 * One-click reproductions of the hidden-gifts paper's figures (Malenfant & Richards 2025).
 *
 * A reproduction is a set of variants (preset + overrides) run over the same seeds as ONE
 * experiment; each run carries its variant label, so comparisons and the report group by
 * variant with bands over seeds. The `paper` budget is the paper's (10 seeds x 10,000 rounds
 * of 32 envs, 26,000 for Fig. 6, 11,000 for Fig. 15); `small` finishes in minutes on a laptop
 * and is meant for a quick look, not for conclusions.
 *
 * Figs. 2-5 run all nine of the paper's learners (PG, IPPO, MAPPO, COMA, VDN, QMIX, QTRAN,
 * MAVEN, SAF) and the random policy. Key drops are charted under both definitions the env
 * declares: `key_drop_choices` (drop chosen while holding the key, the released code's logged
 * count, i.e. what Figs. 3a and 8 plot) and `key_drops` (drops that landed).
 */
import type { PartialExperiment } from './experiment';
import { defaults, type Values } from './schema';
import { headlineMetrics } from '../metrics';
import { manitokanEntry } from '../envs/manitokan';
import { DRIMA_REPROS, type RunOutcome } from './repro-drima';
import { alitaRepros } from './repro-alita';
import { f2a2Repros } from './repro-f2a2';
import { f2a2BattleRepros } from './repro-f2a2-battle';

export interface ReproVariant {
  label: string;
  preset: string;
  overrides?: PartialExperiment;
  /**
   * Extra overrides at one budget only (e.g. a cheaper estimator schedule at `small`). A
   * `train.episodes` here sets this variant's rounds at that budget (unless `--rounds` is given).
   */
  budgetOverrides?: { [B in BudgetName]?: PartialExperiment };
  /**
   * Label of another variant of the same reproduction whose run (same seed) is this variant's
   * frozen opponent (`train.opponentRun`): such variants run in a second stage, after the
   * first stage's runs end (F2A2 Fig. 7: F2A2-ISAC against the IQL trained by self-play).
   */
  opponentFrom?: string;
  /**
   * The metric whose time to convergence the report prints for this variant, when it is not
   * the reproduction's `convergence.key` (F2A2 Fig. 7: F2A2-ISAC plays blue, its curve is
   * blue_return).
   */
  convergenceKey?: string;
}

export interface Budget {
  episodes: number;
  seeds: number;
  numEnvs: number;
  /** Labels of the variants run at this budget (default: all of them). */
  variants?: string[];
}

/** `medium` is optional: a budget between the quick look and the paper's, where one was measured. */
export type BudgetName = 'paper' | 'small' | 'medium';
export const BUDGET_NAMES: readonly BudgetName[] = ['paper', 'small', 'medium'];

export interface Repro {
  name: string;
  figure: string;
  title: string;
  description: string;
  variants: ReproVariant[];
  /** Metrics charted in the report, in order. */
  keys: string[];
  budgets: { paper: Budget; small: Budget; medium?: Budget };
  /**
   * Optional verdict per run for the report and the CLI: what the run ended at (from its env
   * config and its summary, the last 10% of rounds) and whether that is the figure's target.
   */
  outcome?: (env: { id: string } & Values, final: Record<string, number>) => RunOutcome;
  /** The paper's table, printed in its layout next to ours (mean and std over seeds). */
  reference?: ReferenceTable;
  /** Print the time to convergence of this metric's curve per variant (F2A2 Fig. 7b). */
  convergence?: { key: string };
  /**
   * Print the communication cost (F2A2 §6.6): per group, each variant's cumulative scalars sent
   * per env step and its ratio to the group's `baseline` variant (labels of this reproduction).
   */
  communication?: { groups: { baseline: string; variants: string[] }[] };
}

/**
 * A paper's table of final numbers, in the paper's layout: rows (methods) x columns, each cell
 * naming the variant and metric it compares with and the paper's value. Ours is the mean over
 * seeds of each run's summary (the metric's mean over its last 10% of rounds), with the std
 * across seeds; `scale` converts units (100 for a rate the paper prints in %).
 */
export interface ReferenceTable {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: readonly {
    readonly label: string;
    readonly cells: readonly (ReferenceCell | null)[];
  }[];
  /** How the paper's numbers were measured vs ours, orderings to check, caveats. */
  readonly note?: string;
}

export interface ReferenceCell {
  readonly variant: string;
  readonly key: string;
  /** The paper's value (null: not reported). */
  readonly paper: number | null;
  readonly paperStd?: number;
  readonly scale?: number;
  readonly digits?: number;
}

const PAPER: Budget = { episodes: 10_000, seeds: 10, numEnvs: 32 };
const SMALL: Budget = { episodes: 200, seeds: 3, numEnvs: 8 };
/** IPPO and MAPPO run 15 epochs per round (~0.5k env-steps/s on two wasm cores): fewer rounds. */
const SMALL_PPO: Budget = { episodes: 100, seeds: 3, numEnvs: 8 };
/** Fig. 8 (four replay-buffer learners and random) end to end in a few minutes on two cores. */
const SMALL_MIXING: Budget = { episodes: 30, seeds: 2, numEnvs: 8 };

/**
 * Figs. 2-4 chart the env's declared headline metrics (success, return, key drops, as
 * Manitokan declares them) plus the panels of Figs. 3b, 11a and 12a.
 */
const HEADLINE = [
  ...headlineMetrics(manitokanEntry.spec(defaults(manitokanEntry.schema)).metrics).map((m) => m.key),
  'key_drop_choices',
  'key_drops_nonzero',
  'agent_distance',
  'first_reward_step',
];

/** The nine learners of Figs. 2-5 plus the uniform random baseline, on one observation setting. */
function baselines(suffix: '' | '-doorkey' | '-history', env: Record<string, unknown>): ReproVariant[] {
  return [
    { label: 'PG', preset: `manitokan-pg${suffix}` },
    { label: 'IPPO', preset: `manitokan-ippo${suffix}` },
    { label: 'MAPPO', preset: `manitokan-mappo${suffix}` },
    { label: 'COMA', preset: `manitokan-coma${suffix}` },
    ...VALUE_MIXING.map(([label, id]) => ({ label, preset: `manitokan-${id}${suffix}` })),
    { label: 'SAF', preset: `manitokan-saf${suffix}` },
    { label: 'random', preset: 'manitokan-random', overrides: { env } },
  ];
}

/** The learners that mix values into a global value (Fig. 8, App. E.2), with their preset ids. */
const VALUE_MIXING: [string, string][] = [
  ['VDN', 'vdn'],
  ['QMIX', 'qmix'],
  ['QTRAN', 'qtran'],
  ['MAVEN', 'maven'],
];

/** Fig. 8's panels: both key-drop definitions, per agent (the paper's figure has one curve per agent). */
const KEY_DROPS = ['key_drop_choices', 'key_drop_choices_0', 'key_drop_choices_1', 'key_drops', 'key_drops_nonzero', 'key_pickups_0', 'key_pickups_1', 'collective_success'];

const pgHistory = (label: string, overrides?: PartialExperiment): ReproVariant => ({ label, preset: 'manitokan-pg-history', overrides });

export const REPROS: readonly Repro[] = [
  {
    name: 'fig2',
    figure: 'Figs. 2, 3, 11a, 12a',
    title: 'All algorithms on the basic task (observation only)',
    description:
      'Collective success (Fig. 2a), cumulative reward (2b), key-drop rate (3a), non-zero key-drop rate (3b), agent distance (11a) and first-reward step (12a) of PG, IPPO, MAPPO and COMA against the uniform random policy. Paper: every method ends below random in collective success.',
    variants: baselines('', {}),
    keys: HEADLINE,
    budgets: { paper: PAPER, small: SMALL_PPO },
  },
  {
    name: 'fig4',
    figure: 'Fig. 4',
    title: 'Door and key flags in the observation',
    description: 'The same agents with door-open and has-key flags (section 3.2). Paper: no rescue; MAPPO and COMA still collapse.',
    variants: baselines('-doorkey', { obsDoorFlag: true, obsKeyFlag: true }),
    keys: HEADLINE,
    budgets: { paper: PAPER, small: SMALL_PPO },
  },
  {
    name: 'fig5',
    figure: 'Fig. 5',
    title: 'Last action in the observation',
    description:
      'The same agents with their own last action as input (section 3.3). Paper: PG with action history rises well above random; the MARL baselines do not.',
    variants: baselines('-history', { obsLastAction: true }),
    keys: HEADLINE,
    budgets: { paper: PAPER, small: SMALL_PPO },
  },
  {
    name: 'fig6',
    figure: 'Figs. 6, 11b, 12b',
    title: 'PG with action history: max-entropy, correction and self-correction',
    description:
      'Vanilla PG vs max-entropy PG vs the correction term (eq. 5) vs the self-correction term (section 4.1), all with last-action input, over 26,000 rounds. Paper: similar success; variance across seeds (6c) lowest with self-correction, then correction.',
    variants: [
      pgHistory('PG'),
      { label: 'max entropy', preset: 'manitokan-pg-history-maxent' },
      { label: 'correction', preset: 'manitokan-pg-history-correction' },
      { label: 'self-correction', preset: 'manitokan-pg-history-self-correction' },
    ],
    keys: ['collective_success', 'return_total', 'agent_distance', 'first_reward_step', 'key_drops'],
    budgets: { paper: { ...PAPER, episodes: 26_000 }, small: { ...SMALL, episodes: 150 } },
  },
  {
    name: 'fig7',
    figure: 'Fig. 7 (App. E.1)',
    title: "COMA's policy loss and counterfactual baseline",
    description: "COMA on the basic task: its policy loss and counterfactual baseline grow unstable before settling near 0 (appendix E.1).",
    variants: [{ label: 'COMA', preset: 'manitokan-coma' }],
    keys: ['losses/actor', 'charts/counterfactual_baseline', 'collective_success', 'key_drops'],
    budgets: { paper: PAPER, small: SMALL },
  },
  {
    name: 'fig8',
    figure: 'Fig. 8 (App. E.2)',
    title: 'Key drops of the value-mixing learners',
    description:
      "Key drops per episode of VDN, QMIX, QTRAN and MAVEN against the uniform random policy, including episodes without drops (Fig. 8 plots the released code's count: drop chosen while holding the key, key_drop_choices; key_drops counts the drops that landed). Paper: the mixers collapse to dropping the key less often than random.",
    variants: [...VALUE_MIXING.map(([label, id]) => ({ label, preset: `manitokan-${id}` })), { label: 'random', preset: 'manitokan-random' }],
    keys: KEY_DROPS,
    budgets: { paper: PAPER, small: SMALL_MIXING },
  },
  {
    name: 'fig9',
    figure: 'Fig. 9 (App. E.3)',
    title: 'Which agent acts first',
    description:
      "PG with action history under a fixed, alternating or random agent order, with Fig. 9's collective-success residual (r^c - r^i) r^i per agent. The paper does not name E.3's learner; PG with action history is Cairn's choice. Paper: alternating and random orders hurt collective success.",
    variants: [
      pgHistory('fixed order'),
      pgHistory('alternating order', { env: { agentOrder: 'alternating' } }),
      pgHistory('random order', { env: { agentOrder: 'random' } }),
    ],
    keys: ['collective_success', 'collective_residual_0', 'collective_residual_1', 'return_0', 'return_1', 'return_total'],
    budgets: { paper: PAPER, small: SMALL },
  },
  {
    name: 'fig10',
    figure: 'Fig. 10 (App. E.4)',
    title: 'Randomised policies',
    description:
      'MAPPO and IPPO with actor lr 1e-6 and critic lr 1e-3, VDN and QMIX with a much longer epsilon decay (App. E.4), against the uniform random policy. Paper: success slightly above Fig. 2a, lower return for the PPO agents; VDN and QMIX near random, no collapse.',
    variants: [
      { label: 'MAPPO randomised', preset: 'manitokan-mappo-randomized' },
      { label: 'IPPO randomised', preset: 'manitokan-ippo-randomized' },
      { label: 'VDN randomised', preset: 'manitokan-vdn-randomized' },
      { label: 'QMIX randomised', preset: 'manitokan-qmix-randomized' },
      { label: 'random', preset: 'manitokan-random' },
    ],
    keys: ['collective_success', 'return_total', 'key_drop_choices', 'key_drops'],
    budgets: { paper: PAPER, small: SMALL_PPO },
  },
  {
    name: 'fig13',
    figure: 'Fig. 13 (App. E.6)',
    title: 'Reward variants: oracle, punishment, injection',
    description:
      'PG with action history under the normal reward, an oracle reward for the first key drop after opening one\'s door, a punishment for holding the key after opening, and decaying reward injection. Paper: oracle learns faster; punishment makes agents avoid the key; injection lowers success but also variance.',
    variants: [
      pgHistory('normal'),
      pgHistory('oracle', { env: { oracleDropReward: 1 } }),
      pgHistory('punishment', { env: { holdingKeyPenalty: 0.5 } }),
      pgHistory('injection', { algo: { rewardInjection: true } }),
    ],
    keys: ['collective_success', 'return_total', 'key_drops'],
    budgets: { paper: PAPER, small: SMALL },
  },
  {
    name: 'fig14',
    figure: 'Fig. 14 (App. E.6)',
    title: 'Dissociated rewards',
    description:
      'PG with action history with both rewards, only the individual reward, or only the collective reward. Paper: individual-only removes collective success; collective-only severely inhibits it.',
    variants: [
      pgHistory('both rewards'),
      pgHistory('individual only', { env: { rewardMode: 'individual-only' } }),
      pgHistory('collective only', { env: { rewardMode: 'collective-only' } }),
    ],
    keys: ['collective_success', 'return_total', 'door_opened_0', 'door_opened_1'],
    budgets: { paper: PAPER, small: SMALL },
  },
  {
    name: 'fig15',
    figure: 'Fig. 15 (App. E.7)',
    title: 'Anti-collective PG (negated self-correction)',
    description:
      'PG with action history minimising the self-correction term, over 11,000 rounds and 9 seeds. Paper: rewards rise while collective success falls; agents compete for the key.',
    variants: [{ label: 'anti-collective', preset: 'manitokan-pg-history-anti-collective' }, pgHistory('PG')],
    keys: ['collective_success', 'return_normalised', 'return_total', 'key_drops'],
    budgets: { paper: { ...PAPER, episodes: 11_000, seeds: 9 }, small: SMALL },
  },
  ...DRIMA_REPROS,
  ...alitaRepros,
  ...f2a2Repros(),
  ...f2a2BattleRepros,
];

export function listRepros(): readonly Repro[] {
  return REPROS;
}

export function getRepro(name: string): Repro | undefined {
  return REPROS.find((r) => r.name === name);
}

/** The budgets a reproduction offers, in BUDGET_NAMES order (`medium` only where it has one). */
export function budgetNames(rep: Repro): BudgetName[] {
  return BUDGET_NAMES.filter((b) => rep.budgets[b] !== undefined);
}

/**
 * Budget `name` of `rep`, or an error naming `--budget` and the budgets that reproduction has.
 */
export function reproBudget(rep: Repro, name: string): { name: BudgetName; budget: Budget } {
  const offered = budgetNames(rep);
  const b = offered.find((x) => x === name);
  if (!b) throw new Error(`--budget: ${rep.name} offers ${offered.join(', ')}; got ${JSON.stringify(name)}`);
  return { name: b, budget: rep.budgets[b]! };
}

/** The variants run at a budget (`Budget.variants`; all when it names none). */
export function budgetVariants(rep: Repro, b: Budget): ReproVariant[] {
  if (!b.variants) return rep.variants;
  for (const l of b.variants) if (!rep.variants.some((v) => v.label === l)) throw new Error(`repro ${rep.name}: budget names variant "${l}", which it does not have`);
  return rep.variants.filter((v) => b.variants!.includes(v.label));
}
