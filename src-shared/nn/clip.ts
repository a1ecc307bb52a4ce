/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_:
 *
 *   norm  = sqrt(sum over all tensors of sum(g^2))
 *   scale = maxNorm / (norm + 1e-6);  if scale < 1, every g <- g * scale
 *
 * The pre-clip norm is returned because it is the number worth logging.
 */
import type { Tensor, Tf } from './tf';

/**
 * Global L2 norm of a set of tensors (one read-back). The tensors are concatenated first:
 * three kernels in all instead of two per tensor, which matters when it runs every step.
 */
export function globalNorm(tf: Tf, tensors: readonly Tensor[]): number {
  if (tensors.length === 0) return 0;
  let norm = 0;
  tf.tidy(() => {
    const flat = tensors.length === 1 ? tf.reshape(tensors[0], [-1]) : tf.concat(tensors.map((g) => tf.reshape(g, [-1])));
    norm = tf.sqrt(tf.sum(tf.square(flat))).dataSync()[0];
  });
  return norm;
}

/**
 * Clip `grads` in place (entries are replaced and the old tensors disposed) so that their
 * global norm is at most `maxNorm`; `maxNorm <= 0` only measures. Returns the pre-clip norm.
 */
export function clipByGlobalNorm(tf: Tf, grads: Record<string, Tensor>, maxNorm: number): number {
  const norm = globalNorm(tf, Object.values(grads));
  if (maxNorm > 0) {
    const scale = maxNorm / (norm + 1e-6);
    if (scale < 1) {
      for (const [k, g] of Object.entries(grads)) {
        grads[k] = tf.mul(g, scale);
        g.dispose();
      }
    }
  }
  return norm;
}

/**
 * Clip every gradient tensor separately to L2 norm `maxNorm` (TensorFlow's `clip_by_norm` per
 * variable, as openai/maddpg's `minimize_and_clip`): g <- g * maxNorm / max(|g|, maxNorm).
 * In place (old tensors disposed), no read-back; `maxNorm <= 0` leaves the gradients alone.
 */
export function clipPerTensor(tf: Tf, grads: Record<string, Tensor>, maxNorm: number): void {
  if (!(maxNorm > 0)) return;
  for (const [k, g] of Object.entries(grads)) {
    grads[k] = tf.tidy(() => tf.mul(g, tf.div(maxNorm, tf.maximum(tf.norm(g), maxNorm))));
    g.dispose();
  }
}
