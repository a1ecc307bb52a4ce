/**
 * Percentile bootstrap confidence intervals (Efron 1979; the interval rliable and most RL papers
 * report for "mean over seeds").
 *
 * Definition used here: draw `resamples` samples of size n with replacement from the n values,
 * compute the statistic (default: the mean) on each, and return the empirical alpha/2 and
 * 1 - alpha/2 quantiles of those statistics, with quantiles interpolated linearly between order
 * statistics (the "type 7" rule of R and NumPy's default). Resampling draws from a seeded
 * {@link Rng}, so the same values, seed and resample count always give the same interval.
 *
 * Degenerate inputs: no values -> all NaN; one value -> lo = hi = the value (a single seed has
 * no spread to resample).
 */
import { Rng } from '../rng';

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 2000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number;
  /** Statistic of a sample (default: arithmetic mean). */
  statistic?: (sample: Float64Array) => number;
}

export interface Interval {
  /** The statistic on the original sample. */
  estimate: number;
  lo: number;
  hi: number;
}

export const DEFAULT_RESAMPLES = 2000;

export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return s / n;
}

/** Linear-interpolation quantile (type 7) of an ascending-sorted array; q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const i = Math.floor(h);
  const f = h - i;
  return i + 1 < n ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

function checkOptions(resamples: number, confidence: number): void {
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`resamples: expected an integer >= 1, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence: expected a number in (0, 1), got ${confidence}`);
  }
}

/** Percentile bootstrap CI of a statistic (default: the mean) of `values`. */
export function bootstrapCI(values: ArrayLike<number>, opts: BootstrapOptions = {}): Interval {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? 0.95;
  checkOptions(resamples, confidence);
  const stat = opts.statistic ?? mean;
  const n = values.length;
  const data = Float64Array.from(values as ArrayLike<number>);
  if (n === 0) return { estimate: NaN, lo: NaN, hi: NaN };
  const estimate = stat(data);
  if (n === 1) return { estimate, lo: estimate, hi: estimate };
  const rng = new Rng(opts.seed ?? 0, 0x0b00);
  const stats = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = data[rng.int(n)];
    stats[r] = stat(sample);
  }
  stats.sort();
  const alpha = 1 - confidence;
  return { estimate, lo: quantileSorted(stats, alpha / 2), hi: quantileSorted(stats, 1 - alpha / 2) };
}

/**
 * Bootstrap CI of the mean at many x positions at once (a confidence band over seeds).
 *
 * `columns[s]` is seed s's curve on a shared grid; NaN marks "no value at this x" and is
 * excluded there. One resampling plan (which seeds each resample draws) is drawn once per
 * sample size and reused at every x: the band is then as smooth as the curves, and the cost is
 * resamples x seeds per x. Returns mean, lo, hi per x (NaN where no seed has a value).
 */
export function bootstrapBand(
  columns: readonly ArrayLike<number>[],
  opts: Omit<BootstrapOptions, 'statistic'> = {},
): { mean: Float64Array; lo: Float64Array; hi: Float64Array; n: Uint32Array } {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? 0.95;
  checkOptions(resamples, confidence);
  const alpha = 1 - confidence;
  const len = columns.reduce((m, c) => Math.max(m, c.length), 0);
  const out = {
    mean: new Float64Array(len).fill(NaN),
    lo: new Float64Array(len).fill(NaN),
    hi: new Float64Array(len).fill(NaN),
    n: new Uint32Array(len),
  };
  const plans = new Map<number, Uint32Array>();
  const plan = (n: number): Uint32Array => {
    let p = plans.get(n);
    if (!p) {
      const rng = new Rng(opts.seed ?? 0, 0x0b00 + n);
      p = new Uint32Array(resamples * n);
      for (let i = 0; i < p.length; i++) p[i] = rng.int(n);
      plans.set(n, p);
    }
    return p;
  };
  const present = new Float64Array(columns.length);
  const stats = new Float64Array(resamples);
  for (let x = 0; x < len; x++) {
    let n = 0;
    for (const c of columns) {
      const v = x < c.length ? c[x] : NaN;
      if (Number.isFinite(v)) present[n++] = v;
    }
    out.n[x] = n;
    if (n === 0) continue;
    let s = 0;
    for (let i = 0; i < n; i++) s += present[i];
    const m = s / n;
    out.mean[x] = m;
    if (n === 1) {
      out.lo[x] = m;
      out.hi[x] = m;
      continue;
    }
    const p = plan(n);
    for (let r = 0; r < resamples; r++) {
      let acc = 0;
      const base = r * n;
      for (let i = 0; i < n; i++) acc += present[p[base + i]];
      stats[r] = acc / n;
    }
    stats.sort();
    out.lo[x] = quantileSorted(stats, alpha / 2);
    out.hi[x] = quantileSorted(stats, 1 - alpha / 2);
  }
  return out;
}
