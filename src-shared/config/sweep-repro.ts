/**
 * A reproduction as a named sweep: one `variants` axis (the figure's labelled presets) over
 * the budget's seeds, with the budget's rounds and parallel envs as the base overrides.
 */
import type { Budget, Repro } from './repro';
import type { SweepSpec } from './sweep';

export function reproSweep(rep: Repro, budgetName: string, b: Budget, seeds: number[]): SweepSpec {
  return {
    name: `repro ${rep.name} (${rep.figure}, ${budgetName} budget): ${rep.title}`,
    overrides: { train: { episodes: b.episodes, numEnvs: b.numEnvs } },
    axes: [
      {
        variants: rep.variants.map((v) => {
          const extra = budgetName === 'paper' || budgetName === 'small' ? v.budgetOverrides?.[budgetName] : undefined;
          return {
            label: v.label,
            preset: v.preset,
            // The budget wins over a variant's own rounds, as it always has for `cairn repro`.
            overrides: {
              ...v.overrides,
              ...extra,
              env: { ...v.overrides?.env, ...extra?.env },
              algo: { ...v.overrides?.algo, ...extra?.algo },
              train: { ...v.overrides?.train, ...extra?.train, episodes: b.episodes, numEnvs: b.numEnvs },
            },
          };
        }),
      },
    ],
    seeds,
  };
}
