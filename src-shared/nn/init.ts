/**
 * Parameter initialisation from the run's Rng (never Math.random, never tfjs' own seeded
 * initialisers), so (config, seed) determines every weight.
 *
 * PyTorch defaults: `nn.Linear` draws weight and bias from U(-1/sqrt(fan_in), +1/sqrt(fan_in))
 * (kaiming_uniform with a = sqrt(5) reduces to exactly that bound); `nn.GRUCell` draws every
 * weight and bias from U(-1/sqrt(hidden), +1/sqrt(hidden)). Values are drawn in storage order
 * (our weights are stored [in, out], PyTorch's [out, in]); the distribution is what matters, the
 * streams are not meant to match PyTorch's.
 */
import type { Rng } from '../rng';

/** `n` values from U(-bound, bound), as float32. */
export function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.float() - 1) * bound;
  return out;
}

/** PyTorch's default bound for a layer with `fanIn` inputs: 1/sqrt(fan_in). */
export function defaultBound(fanIn: number): number {
  if (!(fanIn > 0)) throw new Error(`init: fanIn must be positive, got ${fanIn}`);
  return 1 / Math.sqrt(fanIn);
}
