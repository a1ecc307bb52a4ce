/**
 * Exponential moving average with TensorBoard's debiasing, so the smoothed line starts at the
 * first value instead of rising from zero. `weight` 0 returns the input unchanged; 0.99 is very
 * smooth. Non-finite values pass through without disturbing the average.
 */
export function ema(values: readonly number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return values.slice();
  const out = new Array<number>(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}
