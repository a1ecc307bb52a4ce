/**
 * Smoothing for metric charts. Both skip non-finite values (they stay NaN in the output) and
 * never look ahead, so a live chart's last point does not move when new points arrive.
 */

/**
 * Trailing moving average over the last `window` finite points (fewer at the start).
 * window <= 1 returns a copy.
 */
export function movingAverage(values: ArrayLike<number>, window: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  const w = Math.max(1, Math.floor(window));
  if (w === 1) {
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  }
  // Ring of the last w finite values with a running sum; re-summed periodically so float
  // error does not accumulate over a million points.
  const ring = new Float64Array(w);
  let head = 0;
  let count = 0;
  let sum = 0;
  let sinceResum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = NaN;
      continue;
    }
    if (count === w) sum -= ring[head];
    else count++;
    ring[head] = v;
    head = (head + 1) % w;
    sum += v;
    if (++sinceResum >= 100_000) {
      sum = 0;
      for (let j = 0; j < count; j++) sum += ring[j];
      sinceResum = 0;
    }
    out[i] = sum / count;
  }
  return out;
}

/**
 * Exponential moving average with TensorBoard's debiasing: weight in [0, 1) is the share of the
 * previous average (0 = no smoothing, 0.99 = heavy). Debiasing divides by 1 - weight^k so the
 * first points are not pulled towards zero.
 */
export function ema(values: ArrayLike<number>, weight: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  const w = Math.min(Math.max(weight, 0), 0.999999);
  let last = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = NaN;
      continue;
    }
    last = last * w + (1 - w) * v;
    k++;
    out[i] = w === 0 ? v : last / (1 - Math.pow(w, k));
  }
  return out;
}
