/**
 * Optimisers with PyTorch's update rules, state exposed for checkpoints.
 *
 * Why not tf.train: tf.train.rmsprop divides by sqrt(ms + eps) (eps INSIDE the root) and
 * defaults decay to 0.9; PyTorch divides by sqrt(ms) + eps. With eps = 1e-5 and the tiny
 * squared gradients of a sparse-reward task the two differ by orders of magnitude in step size
 * early on. tf.train optimisers also keep state under engine-global variable names, which
 * makes exact save/restore awkward.
 *
 *   RMSprop (torch.optim.RMSprop, centered=False, momentum=0, weight_decay=0):
 *     ms <- alpha ms + (1 - alpha) g^2
 *     p  <- p - lr * g / (sqrt(ms) + eps)
 *   Adam (torch.optim.Adam, amsgrad=False, weight_decay=0), step k = 1, 2, ...:
 *     m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *     p <- p - (lr / (1 - b1^k)) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)
 *
 * The update runs on all parameters at once, flattened into one vector: the same elementwise
 * float32 arithmetic as per-tensor updates (so the same values), but ~10 kernel calls per step
 * instead of ~10 per parameter tensor, which matters for small networks stepped often (the
 * released code's per-time-step critic updates). A parameter without a gradient in a step is
 * left alone, state included, as PyTorch does.
 *
 * State is created at construction (zeros), so the number of live tensors does not change
 * after the first step. Checkpoints store it per parameter (`${param}/${slot}`).
 */
import type { ParamSet } from './params';
import type { Tensor, TensorRecord, Tf, Variable } from './tf';

export interface OptimizerState {
  tensors: Record<string, TensorRecord>;
  extra: Record<string, number>;
}

export interface Optimizer {
  /** Learning rate used by the next step (schedules may change it between steps). */
  lr: number;
  /** Apply one update from gradients keyed by parameter name (missing names are skipped). */
  step(grads: Record<string, Tensor>): void;
  getState(): OptimizerState;
  setState(s: OptimizerState): void;
  dispose(): void;
}

interface Slot {
  name: string;
  shape: number[];
  size: number;
  offset: number;
}

abstract class Base implements Optimizer {
  protected readonly layout: Slot[] = [];
  protected readonly total: number;
  /** One flat state vector per slot name (e.g. square_avg), parameters concatenated in order. */
  protected readonly state: Variable[];

  constructor(
    protected readonly tf: Tf,
    protected readonly params: ParamSet,
    public lr: number,
    private readonly slotNames: readonly string[],
  ) {
    if (!(lr >= 0)) throw new Error(`optimizer: lr must be >= 0, got ${lr}`);
    let offset = 0;
    for (const name of params.names()) {
      const v = params.get(name);
      this.layout.push({ name, shape: v.shape.slice(), size: v.size, offset });
      offset += v.size;
    }
    this.total = offset;
    this.state = slotNames.map(() => {
      const zeros = tf.zeros([this.total]);
      const s = tf.variable(zeros, false);
      zeros.dispose(); // the variable holds its own reference to the data
      return s;
    });
  }

  /**
   * The update rule on flat vectors: given the flat gradient and parameters, return the new
   * parameters and the new state vectors (all inside the caller's tidy).
   */
  protected abstract rule(g: Tensor, p: Tensor, state: Tensor[]): { p: Tensor; state: Tensor[] };
  protected abstract beforeStep(): void;
  protected abstract extra(): Record<string, number>;
  protected abstract setExtra(e: Record<string, number>): void;

  step(grads: Record<string, Tensor>): void {
    const tf = this.tf;
    const present = this.layout.map((s) => grads[s.name] !== undefined);
    if (!present.some(Boolean)) return;
    this.beforeStep();
    tf.tidy(() => {
      const flat = (ts: Tensor[]) => (ts.length === 1 ? tf.reshape(ts[0], [-1]) : tf.concat(ts.map((t) => tf.reshape(t, [-1]))));
      const g = flat(this.layout.map((s, i) => (present[i] ? grads[s.name] : tf.zeros([s.size]))));
      const p = flat(this.layout.map((s) => this.params.get(s.name)));
      let { p: pNew, state: sNew } = this.rule(g, p, this.state);
      if (!present.every(Boolean)) {
        // Keep parameters without a gradient, and their state, exactly as they were.
        const mask = new Uint8Array(this.total);
        this.layout.forEach((s, i) => mask.fill(present[i] ? 1 : 0, s.offset, s.offset + s.size));
        const keep = tf.tensor1d(mask, 'bool');
        pNew = tf.where(keep, pNew, p);
        sNew = sNew.map((s, k) => tf.where(keep, s, this.state[k]));
      }
      sNew.forEach((s, k) => this.state[k].assign(s));
      const parts = this.layout.length === 1 ? [pNew] : tf.split(pNew, this.layout.map((s) => s.size));
      this.layout.forEach((s, i) => this.params.get(s.name).assign(tf.reshape(parts[i], s.shape)));
    });
  }

  getState(): OptimizerState {
    const tensors: Record<string, TensorRecord> = {};
    this.state.forEach((v, k) => {
      const data = v.dataSync() as Float32Array;
      for (const s of this.layout) {
        tensors[`${s.name}/${this.slotNames[k]}`] = {
          shape: s.shape.slice(),
          data: Float32Array.from(data.subarray(s.offset, s.offset + s.size)),
        };
      }
    });
    return { tensors, extra: { lr: this.lr, ...this.extra() } };
  }

  setState(st: OptimizerState): void {
    this.state.forEach((v, k) => {
      const data = new Float32Array(this.total);
      for (const s of this.layout) {
        const key = `${s.name}/${this.slotNames[k]}`;
        const rec = st.tensors[key];
        if (!rec || !this.tf.util.arraysEqual(rec.shape, s.shape)) {
          throw new Error(`optimizer: state tensor "${key}" missing or of the wrong shape`);
        }
        data.set(rec.data, s.offset);
      }
      const t = this.tf.tensor1d(data);
      v.assign(t);
      t.dispose();
    });
    if (typeof st.extra.lr === 'number') this.lr = st.extra.lr;
    this.setExtra(st.extra);
  }

  dispose(): void {
    for (const v of this.state) v.dispose();
    this.state.length = 0;
  }
}

export interface RmspropOptions {
  lr: number;
  /** Smoothing constant (PyTorch `alpha`, default 0.99). */
  alpha?: number;
  /** Added to sqrt(ms) (PyTorch default 1e-8). */
  eps?: number;
}

export class RMSprop extends Base {
  readonly alpha: number;
  readonly eps: number;

  constructor(tf: Tf, params: ParamSet, opts: RmspropOptions) {
    super(tf, params, opts.lr, ['square_avg']);
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
  }

  protected rule(g: Tensor, p: Tensor, [ms]: Tensor[]): { p: Tensor; state: Tensor[] } {
    const tf = this.tf;
    const msNew = tf.add(tf.mul(ms, this.alpha), tf.mul(tf.square(g), 1 - this.alpha));
    const denom = tf.add(tf.sqrt(msNew), this.eps);
    return { p: tf.sub(p, tf.mul(tf.div(g, denom), this.lr)), state: [msNew] };
  }

  protected beforeStep(): void {}
  protected extra(): Record<string, number> {
    return {};
  }
  protected setExtra(): void {}
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam extends Base {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Steps taken (PyTorch's `step` state). */
  stepCount = 0;

  constructor(tf: Tf, params: ParamSet, opts: AdamOptions) {
    super(tf, params, opts.lr, ['exp_avg', 'exp_avg_sq']);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  protected beforeStep(): void {
    this.stepCount += 1;
  }

  protected rule(g: Tensor, p: Tensor, [m, v]: Tensor[]): { p: Tensor; state: Tensor[] } {
    const tf = this.tf;
    const k = this.stepCount;
    const bc1 = 1 - Math.pow(this.beta1, k);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(this.beta2, k));
    const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
    return { p: tf.sub(p, tf.mul(tf.div(mNew, denom), this.lr / bc1)), state: [mNew, vNew] };
  }

  protected extra(): Record<string, number> {
    return { step: this.stepCount };
  }
  protected setExtra(e: Record<string, number>): void {
    this.stepCount = e.step ?? 0;
  }
}
