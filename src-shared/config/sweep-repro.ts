/**
 * A reproduction as a named sweep: one `variants` axis (the figure's labelled presets) over
 * the budget's seeds, with the budget's rounds and parallel envs as the base overrides.
 */
import type { Budget, Repro } from './repro';
import type { SweepSpec } from './sweep';

/**
 * `roundsGiven`: the rounds in `b` came from the command line (`--rounds`), so they win over a
 * variant's budget-specific `train.episodes` too.
 */
export function reproSweep(rep: Repro, budgetName: string, b: Budget, seeds: number[], roundsGiven = false): SweepSpec {
  return {
    name: `repro ${rep.name} (${rep.figure}, ${budgetName} budget): ${rep.title}`,
    overrides: { train: { episodes: b.episodes, numEnvs: b.numEnvs } },
    axes: [
      {
        variants: rep.variants.map((v) => {
          const extra = budgetName === 'paper' || budgetName === 'small' || budgetName === 'medium' ? v.budgetOverrides?.[budgetName] : undefined;
          // The budget wins over a variant's own rounds, as it always has for `cairn repro`;
          // a variant's rounds at this budget (budgetOverrides) are part of the budget.
          const episodes = !roundsGiven && extra?.train?.episodes !== undefined ? extra.train.episodes : b.episodes;
          return {
            label: v.label,
            preset: v.preset,
            overrides: {
              ...v.overrides,
              ...extra,
              env: { ...v.overrides?.env, ...extra?.env },
              algo: { ...v.overrides?.algo, ...extra?.algo },
              train: { ...v.overrides?.train, ...extra?.train, episodes, numEnvs: b.numEnvs },
            },
          };
        }),
      },
    ],
    seeds,
  };
}
