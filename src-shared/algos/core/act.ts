/**
 * Actions of an evaluation policy from its logits: masked argmax (greedy) or a masked sample
 * per learner row, 0 for copies that sit finished. Logits rows are agent-major (row a * B + b),
 * actions copy-major ([B, N]), as every recurrent learner here lays them out.
 */
import { argmaxMasked, maskedProbs, sampleIndex } from '../../nn/categorical';
import type { VecEnv } from '../../envs/types';
import type { Rng } from '../../rng';

export function writePolicyActions(
  logits: ArrayLike<number>,
  env: VecEnv,
  N: number,
  B: number,
  A: number,
  greedy: boolean,
  probs: Float64Array | Float32Array,
  rng: Rng,
  actions: Int32Array,
): void {
  for (let b = 0; b < B; b++) {
    for (let a = 0; a < N; a++) {
      const envRow = (b * N + a) * A;
      const r = a * B + b;
      if (env.finished[b]) {
        actions[b * N + a] = 0;
        continue;
      }
      if (greedy) {
        actions[b * N + a] = argmaxMasked(logits, r * A, env.actionMask, envRow, A);
      } else {
        maskedProbs(logits, r * A, env.actionMask, envRow, A, 0, probs, 0);
        actions[b * N + a] = sampleIndex(probs, 0, A, rng);
      }
    }
  }
}
