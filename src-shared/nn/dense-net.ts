/**
 * A plain feed-forward network for the off-policy actor-critics (DDPG, MADDPG, ALITA): one
 * network per agent, 2-D inputs [R, in] -> [R, out], each hidden block Linear -> LayerNorm
 * (optional) -> activation, then a plain Linear output.
 *
 * Init: Glorot (Xavier) uniform weights, U(+-sqrt(6 / (in + out))), zero biases, LayerNorm gain
 * 1 and bias 0: openai/maddpg's layers (tf.contrib.layers.fully_connected defaults) and ALITA
 * appendix D ("Glorot init, LayerNorm"); `init: 'he-normal'` (N(0, 2 / fan_in), zero bias) is
 * what ALITA's autoencoder uses; `init: 'torch'` is PyTorch's nn.Linear default (weights and biases
 * U(+-1/sqrt(fan_in)), nn/init.ts), what MAAC's and maddpg-pytorch's networks start from. LayerNorm normalises the pre-activations over the features
 * (eps 1e-5, PyTorch's default).
 *
 * With `inputNorm`, an affine-free BatchNorm first normalises the input (training mode: batch
 * statistics; `training = false`: running estimates).
 *
 * Parameters: `${name}/${i}/weight` [in, out], `${name}/${i}/bias` [out] and, with LayerNorm,
 * `${name}/${i}/ln_gain`, `${name}/${i}/ln_bias` [out] for hidden layer i.
 */
import type { Rng } from '../rng';
import { BatchNorm } from './batch-norm';
import { defaultBound, uniform } from './init';
import { applyActivation, type Activation } from './mlp';
import type { ParamSet } from './params';
import type { Tensor, Tf, Variable } from './tf';

export type DenseInit = 'glorot' | 'he-normal' | 'torch';

export interface DenseNetOptions {
  /** Activation after every hidden block (default relu). */
  readonly activation?: Activation;
  /** Per hidden layer: LayerNorm or not (default false); one value applies to all. */
  readonly layerNorm?: boolean | readonly boolean[];
  /** Per hidden layer: activation override (e.g. a linear bottleneck). */
  readonly activations?: readonly Activation[];
  /** Activation of the output layer (default linear). */
  readonly output?: Activation;
  readonly init?: DenseInit;
  /**
   * Affine-free BatchNorm on the input (MAAC's and maddpg-pytorch's `norm_in`), its running
   * estimates in this non-trainable set (nn/batch-norm.ts), which the owner checkpoints.
   */
  readonly inputNorm?: ParamSet;
}

interface Layer {
  w: Variable;
  b: Variable;
  gain: Variable | null;
  bias: Variable | null;
  act: Activation;
}

export class DenseNet {
  private readonly layers: Layer[] = [];
  /** Input BatchNorm (`inputNorm`), or null. */
  readonly inputBn: BatchNorm | null;

  constructor(
    private readonly tf: Tf,
    readonly params: ParamSet,
    readonly name: string,
    readonly sizes: readonly number[],
    rng: Rng,
    readonly opts: DenseNetOptions = {},
  ) {
    if (sizes.length < 2 || sizes.some((s) => !(Number.isInteger(s) && s > 0))) {
      throw new Error(`DenseNet ${name}: sizes must be at least [in, out] of positive integers, got [${sizes}]`);
    }
    this.inputBn = opts.inputNorm ? new BatchNorm(tf, params, opts.inputNorm, `${name}/in_bn`, sizes[0], { affine: false }) : null;
    const L = sizes.length - 1;
    for (let i = 0; i < L; i++) {
      const fin = sizes[i];
      const fout = sizes[i + 1];
      const w = new Float32Array(fin * fout);
      const init = opts.init ?? 'glorot';
      let b0: Float32Array = new Float32Array(fout);
      if (init === 'glorot') {
        const bound = Math.sqrt(6 / (fin + fout));
        for (let k = 0; k < w.length; k++) w[k] = (2 * rng.float() - 1) * bound;
      } else if (init === 'torch') {
        w.set(uniform(rng, w.length, defaultBound(fin)));
        b0 = uniform(rng, fout, defaultBound(fin));
      } else {
        const std = Math.sqrt(2 / fin);
        for (let k = 0; k < w.length; k++) w[k] = rng.normal() * std;
      }
      const hidden = i + 1 < L;
      const ln = hidden && (Array.isArray(opts.layerNorm) ? Boolean(opts.layerNorm[i]) : opts.layerNorm === true);
      this.layers.push({
        w: params.add(`${name}/${i}/weight`, [fin, fout], w),
        b: params.add(`${name}/${i}/bias`, [fout], b0),
        gain: ln ? params.add(`${name}/${i}/ln_gain`, [fout], new Float32Array(fout).fill(1)) : null,
        bias: ln ? params.add(`${name}/${i}/ln_bias`, [fout], new Float32Array(fout)) : null,
        act: hidden ? (opts.activations?.[i] ?? opts.activation ?? 'relu') : (opts.output ?? 'linear'),
      });
    }
  }

  /** BatchNorm mode (PyTorch's train() / eval()); no effect without `inputNorm`. */
  get training(): boolean {
    return this.inputBn?.training ?? true;
  }
  set training(on: boolean) {
    if (this.inputBn) this.inputBn.training = on;
  }

  get inDim(): number {
    return this.sizes[0];
  }
  get outDim(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /**
   * x [R, in] -> [R, out]; differentiable in the parameters and in x. `updateStats = false`
   * keeps a training-mode input BatchNorm's running estimates (a second pass over one batch).
   */
  forward(x: Tensor, updateStats = true): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      let h = this.inputBn ? this.inputBn.forward(x, this.inputBn.training, updateStats) : x;
      for (const l of this.layers) {
        h = tf.add(tf.matMul(h as never, l.w as never), l.b);
        if (l.gain && l.bias) {
          const centred = tf.sub(h, tf.mean(h, -1, true));
          const variance = tf.mean(tf.square(centred), -1, true);
          h = tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), l.gain), l.bias);
        }
        h = applyActivation(tf, h, l.act);
      }
      return h;
    });
  }
}
