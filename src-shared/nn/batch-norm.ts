/**
 * BatchNorm1d over the features of 2-D inputs [R, dim], PyTorch's rule (torch.nn.BatchNorm1d):
 *
 * - training: normalise with the batch's mean and biased variance, and differentiate through
 *   them (the gradient sees the batch statistics, as PyTorch's does); then move the running
 *   estimates, running <- (1 - momentum) running + momentum batch, with the *unbiased* variance
 *   (R / (R - 1)), as PyTorch does;
 * - evaluation: normalise with the running estimates (start: mean 0, variance 1).
 * y = (x - mean) / sqrt(var + eps), then gain and bias when `affine` (MAAC and maddpg-pytorch
 * use affine = False on their input norms).
 *
 * Why the running estimates live in their own ParamSet (`stats`): they are state, not weights.
 * Optimisers must not step them, soft target updates must not blend them (PyTorch's
 * `soft_update` walks `parameters()`, which leaves buffers out), yet checkpoints must carry them.
 * The owner puts `stats` into its checkpoint parts next to the weights.
 *
 * `training` mirrors PyTorch's module mode: the owner flips it (MAAC's `prep_rollouts` /
 * `prep_training`), and `forward` reads it unless told otherwise.
 */
import type { ParamSet } from './params';
import type { Tensor, Tf, Variable } from './tf';

export interface BatchNormOptions {
  /** Learned gain and bias after normalising (PyTorch default true; MAAC's input norms: false). */
  readonly affine?: boolean;
  /** Weight of the batch in the running estimates (PyTorch default 0.1). */
  readonly momentum?: number;
  /** Added to the variance (PyTorch default 1e-5). */
  readonly eps?: number;
}

export class BatchNorm {
  readonly runningMean: Variable;
  readonly runningVar: Variable;
  readonly gain: Variable | null;
  readonly bias: Variable | null;
  readonly momentum: number;
  readonly eps: number;
  /** Module mode: batch statistics (and running-estimate updates) when true. */
  training = true;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    stats: ParamSet,
    readonly name: string,
    readonly dim: number,
    opts: BatchNormOptions = {},
  ) {
    if (!(Number.isInteger(dim) && dim > 0)) throw new Error(`BatchNorm ${name}: dim must be a positive integer, got ${dim}`);
    this.momentum = opts.momentum ?? 0.1;
    this.eps = opts.eps ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`BatchNorm ${name}: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.eps > 0)) throw new Error(`BatchNorm ${name}: eps must be > 0, got ${this.eps}`);
    if (stats.trainable) throw new Error(`BatchNorm ${name}: the running statistics need a non-trainable ParamSet`);
    this.runningMean = stats.add(`${name}/running_mean`, [dim], new Float32Array(dim));
    this.runningVar = stats.add(`${name}/running_var`, [dim], new Float32Array(dim).fill(1));
    const affine = opts.affine ?? true;
    this.gain = affine ? params.add(`${name}/weight`, [dim], new Float32Array(dim).fill(1)) : null;
    this.bias = affine ? params.add(`${name}/bias`, [dim], new Float32Array(dim)) : null;
  }

  /**
   * x [R, dim] -> [R, dim]. `training` defaults to the module mode; `updateStats` (training
   * only, default true) moves the running estimates: pass false for a second pass over the same
   * batch that must not count twice.
   */
  forward(x: Tensor, training = this.training, updateStats = true): Tensor {
    const tf = this.tf;
    if (x.rank !== 2 || x.shape[1] !== this.dim) throw new Error(`BatchNorm ${this.name}: expects [R, ${this.dim}], got [${x.shape}]`);
    const R = x.shape[0];
    return tf.tidy(() => {
      let y: Tensor;
      if (training) {
        if (R < 2) throw new Error(`BatchNorm ${this.name}: training needs more than 1 row per batch (got ${R}), as PyTorch's`);
        const mean = tf.mean(x, 0, true);
        const centred = tf.sub(x, mean);
        const variance = tf.mean(tf.square(centred), 0, true);
        y = tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
        if (updateStats && this.momentum > 0) {
          const m = this.momentum;
          this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(tf.reshape(mean, [this.dim]), m)));
          const unbiased = tf.mul(tf.reshape(variance, [this.dim]), R / (R - 1));
          this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
        }
      } else {
        y = tf.mul(tf.sub(x, this.runningMean), tf.rsqrt(tf.add(this.runningVar, this.eps)));
      }
      if (this.gain && this.bias) y = tf.add(tf.mul(y, this.gain), this.bias);
      return y;
    });
  }
}
