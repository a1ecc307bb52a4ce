/**
 * Interquartile mean (IQM), the aggregate Agarwal et al. (2021, "Deep RL at the Edge of the
 * Statistical Precipice") recommend over the mean and the median for few-seed results.
 *
 * Exact definition used here: treat the n values as an empirical distribution in which each
 * sorted value x_(i) (i = 1..n) occupies the probability interval [(i-1)/n, i/n). The IQM is
 * the mean of that distribution restricted to the middle half, i.e.
 *
 *     IQM = 2 * integral over p in [0.25, 0.75] of Q(p) dp
 *         = sum_i w_i x_(i) / 0.5,   w_i = |[(i-1)/n, i/n) intersected with [0.25, 0.75]|
 *
 * so a value that straddles a quartile counts with the fraction of its mass inside the middle
 * half. When n is a multiple of 4 this is exactly the 25%-trimmed mean (rliable's
 * `scipy.stats.trim_mean(x, 0.25)`); otherwise trim_mean drops floor(n/4) whole values from
 * each end instead, and the two can differ. Examples: IQM([1,2,3,4]) = 2.5;
 * IQM([1,2,3,4,5]) = (0.15*2 + 0.2*3 + 0.15*4) / 0.5 = 3; IQM([x]) = x.
 * Non-finite values are ignored; no finite values -> NaN.
 */
export function iqm(values: ArrayLike<number>): number {
  const sorted: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) sorted.push(values[i]);
  const n = sorted.length;
  if (n === 0) return NaN;
  sorted.sort((a, b) => a - b);
  const lo = 0.25;
  const hi = 0.75;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const a = i / n;
    const b = (i + 1) / n;
    const w = Math.min(b, hi) - Math.max(a, lo);
    if (w > 0) acc += w * sorted[i];
  }
  return acc / (hi - lo);
}
