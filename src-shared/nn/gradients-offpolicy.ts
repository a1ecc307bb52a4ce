/**
 * Gradients for the kernels the deterministic-policy learners (DDPG, MADDPG, ALITA)
 * differentiate through beyond nn/gradients.ts's set: `Concat` (critic inputs built from
 * observations and actions, with the actor's action in the middle) and `Softmax` (Gumbel-softmax
 * actions). Same rules as gradients.ts (registered only when no gradient exists yet), kept in
 * their own file so the recurrent learners' list stays as it was; test/nn/gumbel.test.ts checks
 * both against finite differences.
 */
import { registerGradients } from './gradients';
import type { Tensor, Tf } from './tf';

export const OFFPOLICY_GRADIENT_KERNELS = ['Concat', 'Softmax'] as const;

export function registerOffPolicyGradients(tf: Tf): void {
  registerGradients(tf);
  const single = (dy: Tensor | Tensor[]): Tensor => (Array.isArray(dy) ? dy[0] : dy);
  const configs = [
    {
      kernelName: 'Concat',
      saveAllInputs: true,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>) => {
        const axis = tf.util.parseAxisParam(attrs.axis as number, saved[0].shape)[0];
        const parts = tf.split(single(dy), saved.map((t) => t.shape[axis]), axis);
        return parts.map((p) => () => p) as unknown as Record<string, () => Tensor>;
      },
    },
    {
      kernelName: 'Softmax',
      outputsToSave: [true],
      gradFunc: (dy: Tensor | Tensor[], [y]: Tensor[], attrs: Record<string, unknown>) => ({
        logits: () => {
          const d = single(dy);
          const dim = attrs.dim as number;
          const dyTimesY = tf.mul(d, y);
          return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
        },
      }),
    },
  ];
  for (const c of configs) {
    if (tf.getGradient(c.kernelName) == null) tf.registerGradient(c as unknown as Parameters<Tf['registerGradient']>[0]);
  }
}
