/**
 * Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017) as openai/maddpg samples discrete
 * actions: a = softmax((logits + g) / temperature) with g_k = -log(-log u_k), u_k ~ U(0, 1).
 *
 * The noise is drawn on the CPU from the run's seeded Rng (never tfjs' own random ops), so a
 * run stays a function of (config, seed) on every backend; u is clamped to [1e-20, 1) so that
 * neither log sees 0. The argmax of a sample is an exact categorical sample of softmax(logits)
 * (the Gumbel-max trick). `hard` gives the straight-through estimator: the forward value is the
 * one-hot of the argmax, the gradient that of the soft sample (openai/maddpg uses soft samples;
 * the option is for learners that must emit one-hots).
 */
import type { Rng } from '../rng';
import type { Tensor, Tf } from './tf';

/** Smallest u drawn, so -log(-log u) stays finite. */
export const GUMBEL_EPS = 1e-20;

/** One standard Gumbel draw. */
export function gumbel(rng: Rng): number {
  const u = Math.min(Math.max(rng.float(), GUMBEL_EPS), 1 - 2 ** -32);
  return -Math.log(-Math.log(u));
}

/** `n` standard Gumbel draws (into `out` when given). */
export function gumbelNoise(rng: Rng, n: number, out: Float32Array = new Float32Array(n)): Float32Array {
  for (let i = 0; i < n; i++) out[i] = gumbel(rng);
  return out;
}

/**
 * Differentiable Gumbel-softmax over the last axis: softmax((logits + noise) / temperature).
 * `noise` has the logits' shape (from `gumbelNoise`); with `hard` the value is the one-hot of
 * the argmax and the gradient the soft sample's (straight-through).
 */
export function gumbelSoftmax(tf: Tf, logits: Tensor, noise: Tensor, temperature = 1, hard = false): Tensor {
  if (!(temperature > 0)) throw new Error(`gumbelSoftmax: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const soft = tf.softmax(tf.div(tf.add(logits, noise), temperature));
    if (!hard) return soft;
    const n = soft.shape[soft.shape.length - 1] as number;
    // Forward: the one-hot of the argmax; backward: the identity onto the soft sample.
    const straight = tf.customGrad((x: unknown) => ({
      value: tf.cast(tf.oneHot(tf.argMax(x as Tensor, -1), n), 'float32'),
      gradFunc: (dy: Tensor | Tensor[]) => (Array.isArray(dy) ? dy[0] : dy),
    }));
    return straight(soft);
  });
}

/**
 * CPU twin of `gumbelSoftmax` for one row (acting): writes softmax((logits + g) / T) into
 * `out[outOff..]`, drawing g from `rng`; entries with `mask[maskOff + k] = 0` get 0. Returns the
 * argmax (the sampled action).
 */
export function gumbelSoftmaxRow(
  logits: ArrayLike<number>,
  off: number,
  n: number,
  rng: Rng | null,
  out: Float32Array,
  outOff: number,
  mask?: ArrayLike<number>,
  maskOff = 0,
  temperature = 1,
): number {
  let max = -Infinity;
  let arg = -1;
  for (let k = 0; k < n; k++) {
    const ok = !mask || mask[maskOff + k];
    const z = ok ? (logits[off + k] + (rng ? gumbel(rng) : 0)) / temperature : -Infinity;
    out[outOff + k] = z;
    if (z > max) {
      max = z;
      arg = k;
    }
  }
  if (arg < 0) {
    // No available entry (a row nobody acts on): uniform, action 0.
    out.fill(1 / n, outOff, outOff + n);
    return 0;
  }
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const e = out[outOff + k] === -Infinity ? 0 : Math.exp(out[outOff + k] - max);
    out[outOff + k] = e;
    sum += e;
  }
  for (let k = 0; k < n; k++) out[outOff + k] /= sum;
  return arg;
}
