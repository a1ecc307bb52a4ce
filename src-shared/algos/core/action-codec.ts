/**
 * How a deterministic-policy learner (DDPG, MADDPG, ALITA) turns an actor's output into the
 * action vector its critics see and the action the env receives, per agent:
 *
 * - 'gumbel' (a discrete space, or a box read as a distribution, MPE's soft action interface):
 *   the actor outputs logits over `dim` entries; acting and training use a Gumbel-softmax
 *   sample (nn/gumbel.ts), openai/maddpg's only exploration. A discrete env receives the
 *   argmax (an exact categorical sample); a box env receives the soft vector itself, which is
 *   exactly what OpenAI MPE consumes (the box must contain [0, 1]).
 * - 'tanh' (a box): the actor outputs `dim` values squashed by tanh into [-1, 1] (the vector
 *   the critics see); acting adds Gaussian noise of std `noise` (in that unit range) and clips;
 *   the env receives low + (v + 1) / 2 (high - low). DDPG's continuous form.
 *
 * Masks: unavailable discrete actions get logit -1e9 (probability 0) in training and are never
 * sampled when acting.
 */
import type { AgentSpec, BoxSpace, EnvSpec } from '../../envs/types';
import { gumbelNoise, gumbelSoftmax, gumbelSoftmaxRow } from '../../nn/gumbel';
import type { Tensor, Tf } from '../../nn/tf';
import type { Rng } from '../../rng';

export type ActKind = 'gumbel' | 'tanh';
export type BoxPolicy = 'tanh' | 'gumbel-softmax';

export interface AgentCodec {
  readonly agent: number;
  readonly kind: ActKind;
  /** Actor outputs = entries of the stored action vector. */
  readonly dim: number;
  /** The env takes an integer (discrete space) rather than a vector. */
  readonly discrete: boolean;
  readonly box: BoxSpace | null;
}

export const MASKED_LOGIT = -1e9;

export function agentCodec(spec: EnvSpec, i: number, boxPolicy: BoxPolicy): AgentCodec {
  const a: AgentSpec = spec.agents[i];
  if (a.action.kind === 'discrete') return { agent: i, kind: 'gumbel', dim: a.action.n, discrete: true, box: null };
  const box = a.action;
  if (boxPolicy === 'gumbel-softmax' && box.low.some((l, k) => l > 0 || box.high[k] < 1)) {
    throw new Error(`agent ${i} (${a.name}): algo.boxPolicy 'gumbel-softmax' needs a box containing [0, 1] (a soft action vector); use 'tanh'`);
  }
  return { agent: i, kind: boxPolicy === 'gumbel-softmax' ? 'gumbel' : 'tanh', dim: box.size, discrete: false, box };
}

/**
 * Act on the CPU from one agent's actor outputs `raw` [R, dim]: write the stored action vector
 * of row r into `vec[r * vecStride + vecOff ..]`, and the env action (an int, or box values)
 * through `emit`. `explore` = Gumbel sample / Gaussian noise; otherwise the greedy action
 * (argmax, softmax of the logits for a soft box, the plain tanh output).
 */
export function actRows(
  c: AgentCodec,
  raw: Float32Array,
  R: number,
  explore: boolean,
  noiseStd: number,
  rng: Rng,
  vec: Float32Array,
  vecStride: number,
  vecOff: number,
  mask: ((r: number) => { arr: ArrayLike<number>; off: number }) | null,
  emit: (r: number, action: number, values: Float32Array) => void,
  oneHotStore = false,
): void {
  const D = c.dim;
  const tmp = new Float32Array(D);
  for (let r = 0; r < R; r++) {
    if (c.kind === 'gumbel') {
      const m = c.discrete && mask ? mask(r) : null;
      const arg = gumbelSoftmaxRow(raw, r * D, D, explore ? rng : null, tmp, 0, m?.arr, m?.off ?? 0);
      if (oneHotStore && c.discrete) {
        tmp.fill(0);
        tmp[arg] = 1;
      }
      vec.set(tmp, r * vecStride + vecOff);
      if (c.discrete) emit(r, arg, tmp);
      else {
        // Greedy on a soft box: softmax of the logits (no noise), already in tmp.
        emit(r, -1, tmp);
      }
    } else {
      const box = c.box!;
      for (let k = 0; k < D; k++) {
        let v = Math.tanh(raw[r * D + k]);
        if (explore && noiseStd > 0) v = Math.min(1, Math.max(-1, v + noiseStd * rng.normal()));
        vec[r * vecStride + vecOff + k] = v;
        tmp[k] = box.low[k] + ((v + 1) / 2) * (box.high[k] - box.low[k]);
      }
      emit(r, -1, tmp);
    }
  }
}

/**
 * Differentiable action vector from actor outputs `raw` [R, dim] (training): a Gumbel-softmax
 * sample with fresh noise from `rng` (optionally masked), or tanh(raw). `sample = false` gives
 * softmax(raw) (the policy's probabilities, e.g. ALITA's eq. 11 with the 'softmax' option).
 */
export function actionTensor(tf: Tf, c: AgentCodec, raw: Tensor, rng: Rng, mask: Tensor | null, sample = true): Tensor {
  return tf.tidy(() => {
    if (c.kind === 'tanh') return tf.tanh(raw);
    const logits = mask ? tf.add(raw, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : raw;
    if (!sample) return tf.softmax(logits);
    const R = raw.shape[0] as number;
    const g = tf.tensor2d(gumbelNoise(rng, R * c.dim), [R, c.dim]);
    return gumbelSoftmax(tf, logits, g);
  });
}
