/**
 * Limits the CLI, the form and the host share, so one experiment gets the same runs wherever
 * it is launched from: seeds are numbered from `SEED_DEFAULT_FIRST` (S, S+1, ..., S+K-1) and
 * at most `SEEDS_MAX` of them go into one experiment.
 *
 * Seeds start at 1 because the CLI and `cairn repro` always have, and the paper's seeds are
 * 1-based; 1000 is the CLI's long-standing cap (the form used 100), large enough for any
 * seed study and small enough that a typo cannot queue a million runs.
 */
export const SEED_DEFAULT_FIRST = 1;
export const SEEDS_MAX = 1000;
export const SEED_MAX_VALUE = 2 ** 31 - 1;

/** The seeds S, S+1, ..., S+K-1. */
export function seedRange(first: number, count: number): number[] {
  return Array.from({ length: Math.max(0, count) }, (_, i) => first + i);
}

/**
 * The first problem with a (count, first seed) pair, naming the field, or null. Shared by
 * the form (instant check) and the host (launch).
 */
export function seedProblem(count: number, first: number): { field: 'seeds' | 'firstSeed'; message: string } | null {
  if (!Number.isInteger(count) || count < 1 || count > SEEDS_MAX) {
    return { field: 'seeds', message: `seeds: expected an integer in [1, ${SEEDS_MAX}]` };
  }
  if (!Number.isInteger(first) || first < 0 || first + count - 1 > SEED_MAX_VALUE) {
    return { field: 'firstSeed', message: `first seed: expected an integer in [0, ${SEED_MAX_VALUE - count + 1}]` };
  }
  return null;
}
