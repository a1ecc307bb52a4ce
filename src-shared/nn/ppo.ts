/**
 * PPO building blocks: GAE, value normalisation, the clipped surrogate, Huber and clipped value
 * losses, per-group gradient clipping and orthogonal initialisation (MAPPO, Yu et al. 2022, and
 * its `on-policy` code, which the hidden-gifts paper's IPPO/MAPPO runs are built on).
 *
 * CPU side (plain Float32Array / number math, checkable by hand):
 *   gae            A_t = delta_t + gamma lambda (1 - term_t) A_{t+1},
 *                  delta_t = r_t + gamma (1 - term_t) V_{t+1} - V_t;  returns R_t = A_t + V_t.
 *                  Time-major [T, M] like nn/returns.ts; values have T + 1 rows.
 *   ValueNorm      running mean / mean-square with decay beta and a debiasing term, variance
 *                  clamped at 1e-2 (on-policy's ValueNorm; PopArt's statistics are the same).
 *   normaliseAdvantages  (A - mean) / (std + 1e-5) over valid entries (numpy nanmean/nanstd).
 *   orthogonal     torch.nn.init.orthogonal_: QR of a Gaussian matrix, signs fixed by diag(R).
 *
 * tfjs side: every piecewise function is written with Relu, so only kernels that nn/gradients.ts
 * already differentiates are used, and no new kernel gradient has to be registered:
 *   min(a, b)         = a - relu(a - b)
 *   max(a, b)         = a + relu(b - a)
 *   clamp(x, lo, hi)  = lo + relu(x - lo) - relu(x - hi)
 *   |e|               = relu(e) + relu(-e)
 *   huber_delta(e)    = 0.5 min(|e|, delta)^2 + delta relu(|e| - delta)
 *                     = e^2 / 2 if |e| <= delta, else delta (|e| - delta / 2)
 * At the kinks the gradient is that of the left branch (tfjs' relu derivative at 0 is 0), which
 * matches torch.clamp / torch.min wherever their two branches have equal values.
 */
import type { Rng } from '../rng';
import type { Tensor, Tf, Variable } from './tf';

// ================================================================= returns

/**
 * Generalised advantage estimation, per column of a time-major [T, M] batch.
 *
 * `masks` are 1 on valid steps (a column's valid steps form a prefix); `terminated` is 1 on a
 * step that truly ended the episode (no bootstrap after it). `values` has T + 1 rows: row t is
 * V(s_t); after a column's last valid step t the row t + 1 must hold the bootstrap value
 * V(final observation) when the episode was cut by the time limit (terminated = 0), and is
 * ignored when terminated = 1. Padding steps get advantage and return 0.
 *
 * lambda = 1 gives A_t = G_t - V_t with G_t the discounted return (bootstrapped only at
 * truncation): the "no GAE" advantage of the paper's IPPO (Table 2).
 */
export function gae(
  rewards: Float32Array,
  values: Float32Array,
  masks: Float32Array,
  terminated: Float32Array,
  T: number,
  M: number,
  gamma: number,
  lambda: number,
  advantages: Float32Array = new Float32Array(T * M),
  returns: Float32Array = new Float32Array(T * M),
): { advantages: Float32Array; returns: Float32Array } {
  checkLen('rewards', rewards, T * M);
  checkLen('values', values, (T + 1) * M);
  checkLen('masks', masks, T * M);
  checkLen('terminated', terminated, T * M);
  for (let m = 0; m < M; m++) {
    let A = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * M + m;
      if (!masks[i]) {
        advantages[i] = 0;
        returns[i] = 0;
        A = 0;
        continue;
      }
      const last = t === T - 1 || !masks[i + M];
      const notTerm = 1 - terminated[i];
      const delta = rewards[i] + gamma * notTerm * values[i + M] - values[i];
      A = delta + (last ? 0 : gamma * lambda * notTerm * A);
      advantages[i] = A;
      returns[i] = A + values[i];
    }
  }
  return { advantages, returns };
}

/**
 * In place: (A - mean) / (std + 1e-5) with mean and population std over the entries whose mask
 * is 1, separately for each group of columns (`groupOf(m)` in 0..groups-1; all one group by
 * default). Masked entries are set to 0.
 */
export function normaliseAdvantages(
  adv: Float32Array,
  masks: Float32Array,
  T: number,
  M: number,
  groups = 1,
  groupOf: (m: number) => number = () => 0,
): void {
  const sum = new Float64Array(groups);
  const sq = new Float64Array(groups);
  const cnt = new Float64Array(groups);
  for (let t = 0; t < T; t++) {
    for (let m = 0; m < M; m++) {
      const i = t * M + m;
      if (!masks[i]) continue;
      const g = groupOf(m);
      sum[g] += adv[i];
      sq[g] += adv[i] * adv[i];
      cnt[g]++;
    }
  }
  const mean = new Float64Array(groups);
  const std = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    if (cnt[g] === 0) continue;
    mean[g] = sum[g] / cnt[g];
    std[g] = Math.sqrt(Math.max(0, sq[g] / cnt[g] - mean[g] * mean[g]));
  }
  for (let t = 0; t < T; t++) {
    for (let m = 0; m < M; m++) {
      const i = t * M + m;
      if (!masks[i]) {
        adv[i] = 0;
        continue;
      }
      const g = groupOf(m);
      adv[i] = (adv[i] - mean[g]) / (std[g] + 1e-5);
    }
  }
}

/**
 * Running value statistics (on-policy's ValueNorm with norm_axes = 1, per_element_update off):
 *
 *   mean    <- beta mean    + (1 - beta) batch_mean(x)
 *   meanSq  <- beta meanSq  + (1 - beta) batch_mean(x^2)
 *   debias  <- beta debias  + (1 - beta)
 *   mu = mean / max(debias, eps),  var = max(meanSq / max(debias, eps) - mu^2, 1e-2)
 *   normalise(x) = (x - mu) / sqrt(var),  denormalise(y) = y sqrt(var) + mu
 *
 * Before the first update mu = 0 and var = 1e-2 (std 0.1), as in the original. Double precision.
 */
export class ValueNorm {
  mean = 0;
  meanSq = 0;
  debias = 0;

  constructor(
    readonly beta = 0.99999,
    readonly epsilon = 1e-5,
  ) {}

  /** Update with the entries of `x` whose mask is 1 (all entries without a mask). */
  update(x: ArrayLike<number>, mask?: ArrayLike<number>): void {
    let s = 0;
    let sq = 0;
    let n = 0;
    for (let i = 0; i < x.length; i++) {
      if (mask && !mask[i]) continue;
      s += x[i];
      sq += x[i] * x[i];
      n++;
    }
    if (n === 0) return;
    const b = this.beta;
    this.mean = b * this.mean + (1 - b) * (s / n);
    this.meanSq = b * this.meanSq + (1 - b) * (sq / n);
    this.debias = b * this.debias + (1 - b);
  }

  /** Debiased mean and standard deviation. */
  stats(): { mean: number; std: number } {
    const d = Math.max(this.debias, this.epsilon);
    const mu = this.mean / d;
    const v = Math.max(this.meanSq / d - mu * mu, 1e-2);
    return { mean: mu, std: Math.sqrt(v) };
  }

  normalise(x: number): number {
    const { mean, std } = this.stats();
    return (x - mean) / std;
  }

  denormalise(y: number): number {
    const { mean, std } = this.stats();
    return y * std + mean;
  }

  getState(): [number, number, number] {
    return [this.mean, this.meanSq, this.debias];
  }

  setState(s: readonly number[]): void {
    if (s.length !== 3 || !s.every(Number.isFinite)) throw new Error('ValueNorm: state must be [mean, meanSq, debias]');
    [this.mean, this.meanSq, this.debias] = s;
  }
}

// ================================================================= losses (tfjs)

/** Elementwise min(a, b) = a - relu(a - b). */
export function minimum(tf: Tf, a: Tensor, b: Tensor): Tensor {
  return tf.tidy(() => tf.sub(a, tf.relu(tf.sub(a, b))));
}

/** Elementwise max(a, b) = a + relu(b - a). */
export function maximum(tf: Tf, a: Tensor, b: Tensor): Tensor {
  return tf.tidy(() => tf.add(a, tf.relu(tf.sub(b, a))));
}

/** Elementwise clamp(x, lo, hi) = lo + relu(x - lo) - relu(x - hi) (lo <= hi). */
export function clampRange(tf: Tf, x: Tensor, lo: number, hi: number): Tensor {
  return tf.tidy(() => tf.sub(tf.add(tf.relu(tf.sub(x, lo)), lo), tf.relu(tf.sub(x, hi))));
}

/** Elementwise |e| = relu(e) + relu(-e). */
export function absolute(tf: Tf, e: Tensor): Tensor {
  return tf.tidy(() => tf.add(tf.relu(e), tf.relu(tf.neg(e))));
}

/**
 * Huber loss per element (torch-style, as on-policy's `huber_loss`): e^2/2 for |e| <= delta,
 * delta (|e| - delta/2) beyond. delta <= 0 gives the squared error e^2/2 (on-policy's mse_loss).
 */
export function huber(tf: Tf, e: Tensor, delta: number): Tensor {
  return tf.tidy(() => {
    if (!(delta > 0)) return tf.mul(tf.square(e), 0.5);
    const a = absolute(tf, e);
    const excess = tf.relu(tf.sub(a, delta));
    const inside = tf.sub(a, excess); // min(|e|, delta)
    return tf.add(tf.mul(tf.square(inside), 0.5), tf.mul(excess, delta));
  });
}

/**
 * The PPO clipped surrogate per element, min(r A, clamp(r, 1 - eps, 1 + eps) A) with
 * r = exp(logp - oldLogp). Returns the surrogate (to be maximised) and the ratio.
 */
export function clippedSurrogate(
  tf: Tf,
  logp: Tensor,
  oldLogp: Tensor,
  adv: Tensor,
  clip: number,
): { surrogate: Tensor; ratio: Tensor } {
  const ratio = tf.tidy(() => tf.exp(tf.sub(logp, oldLogp)));
  const surrogate = tf.tidy(() => minimum(tf, tf.mul(ratio, adv), tf.mul(clampRange(tf, ratio, 1 - clip, 1 + clip), adv)));
  return { surrogate, ratio };
}

/**
 * Value loss per element: huber(target - v), or with `clipRange > 0` the clipped form
 * max(huber(target - v), huber(target - vClip)), vClip = vOld + clamp(v - vOld, -c, c)
 * (on-policy's cal_value_loss with use_clipped_value_loss). v and vOld broadcast against target.
 */
export function valueLossElements(
  tf: Tf,
  v: Tensor,
  vOld: Tensor,
  target: Tensor,
  clipRange: number,
  huberDelta: number,
): Tensor {
  return tf.tidy(() => {
    const plain = huber(tf, tf.sub(target, v), huberDelta);
    if (!(clipRange > 0)) return plain;
    const vClip = tf.add(vOld, clampRange(tf, tf.sub(v, vOld), -clipRange, clipRange));
    return maximum(tf, plain, huber(tf, tf.sub(target, vClip), huberDelta));
  });
}

// ================================================================= gradient clipping

/**
 * clip_grad_norm_ applied separately to each of G parameter groups (one network per agent
 * stored as groups, nn/mlp.ts): every gradient's data is group-major (weights [G, ...], flat
 * biases [G * out]), so group g is row g of the gradient reshaped to [G, -1]. Returns the G
 * pre-clip norms. maxNorm <= 0 only measures. Entries of `grads` are replaced (old disposed).
 */
export function clipByGroupNorm(tf: Tf, grads: Record<string, Tensor>, G: number, maxNorm: number): number[] {
  const entries = Object.entries(grads);
  if (entries.length === 0) return new Array<number>(G).fill(0);
  const norms = tf.tidy(() => {
    const sq = entries.map(([, g]) => tf.sum(tf.square(tf.reshape(g, [G, -1])), 1));
    return Array.from(tf.sqrt(sq.length === 1 ? sq[0] : tf.addN(sq)).dataSync() as Float32Array);
  });
  if (maxNorm > 0) {
    const scale = norms.map((n) => Math.min(1, maxNorm / (n + 1e-6)));
    if (scale.some((s) => s < 1)) {
      for (const [k, g] of entries) {
        grads[k] = tf.tidy(() => tf.reshape(tf.mul(tf.reshape(g, [G, -1]), tf.tensor2d(scale, [G, 1])), g.shape));
        g.dispose();
      }
    }
  }
  return norms;
}

// ================================================================= initialisation

/**
 * torch.nn.init.orthogonal_ for a [rows, cols] matrix (row-major): a Gaussian matrix of the
 * taller shape, QR by modified Gram-Schmidt (R's diagonal comes out positive, which is the
 * sign fix torch applies), transposed back if rows < cols, times `gain`. The result has
 * orthonormal columns (rows >= cols) or orthonormal rows (rows < cols).
 */
export function orthogonal(rng: Rng, rows: number, cols: number, gain = 1): Float64Array {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  // Q stored column-major: column j at q[j * m .. j * m + m).
  const q = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) q[i] = rng.normal();
  for (let j = 0; j < n; j++) {
    const cj = j * m;
    for (let k = 0; k < j; k++) {
      const ck = k * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[ck + i] * q[cj + i];
      for (let i = 0; i < m; i++) q[cj + i] -= dot * q[ck + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[cj + i] * q[cj + i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[cj + i] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows >= cols: out = Q (m = rows); else out = Q^T (m = cols).
      out[r * cols + c] = gain * (rows >= cols ? q[c * m + r] : q[r * m + c]);
    }
  }
  return out;
}

/**
 * Overwrite a grouped weight stored [G, in, out] (nn/mlp.ts, nn/gru.ts layout) with G
 * independent orthogonal matrices of PyTorch's shape [out, in], transposed into storage.
 */
export function assignOrthogonal(tf: Tf, v: Variable, rng: Rng, gain: number): void {
  const [G, I, O] = v.shape as number[];
  if (v.rank !== 3) throw new Error(`assignOrthogonal: expected a [G, in, out] weight, got [${v.shape}]`);
  const data = new Float32Array(G * I * O);
  for (let g = 0; g < G; g++) {
    const w = orthogonal(rng, O, I, gain); // [out, in]
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) data[(g * I + i) * O + o] = w[o * I + i];
  }
  const t = tf.tensor(data, v.shape, 'float32');
  v.assign(t);
  t.dispose();
}

/** Overwrite a variable with a constant (zero biases, LayerNorm gains). */
export function assignConstant(tf: Tf, v: Variable, value: number): void {
  const t = tf.fill(v.shape, value, 'float32');
  v.assign(t);
  t.dispose();
}

function checkLen(name: string, a: Float32Array, n: number): void {
  if (a.length < n) throw new Error(`ppo: ${name} has ${a.length} values, need ${n}`);
}
