/**
 * Dense layers and MLPs, grouped so that several independent networks share one call.
 *
 * Every layer holds G groups of weights ([G, in, out], bias flat [G * out]) and maps inputs
 * [G, R, in] to [G, R, out]: group g's rows only meet group g's weights. G = 1 is an ordinary
 * layer; G = N gives "one network per agent" (per-agent actors) behind one interface. On the
 * wasm backend G > 1 runs one plain matmul per group (see groupMatMul), so G = 1 networks are
 * the fast path; the PG critics are N separate G = 1 MLPs for that reason.
 *
 * Speed notes (wasm backend, measured): plain [R, K] @ [K, M] matmuls go through XNNPACK;
 * transposed or batched (batch > 1) matmuls take a slow generic loop (5-10x slower); a matmul
 * whose right operand is a fresh tensor pays for XNNPACK repacking it; tf.fused.matMul adds
 * reshapes and a custom-gradient wrapper per call. Hence the explicit transposes, the row sums
 * for bias gradients and the direct kernel calls in `linearForward`.
 */
import type { Rng } from '../rng';
import { defaultBound, uniform } from './init';
import { gateKernel } from './gru-simd';
import type { ParamSet } from './params';
import { readInto, upload } from './tensor-io';
import type { Tensor, Tf, Variable } from './tf';

export type Activation = 'relu' | 'gelu' | 'tanh' | 'linear' | 'leaky-relu';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'tanh', 'linear'];

/** PyTorch's default LeakyReLU slope (`nn.LeakyReLU()`, `F.leaky_relu`), what MAAC's networks use. */
export const LEAKY_SLOPE = 0.01;

/**
 * max(x, slope x) for slope < 1, written as slope x + (1 - slope) relu(x): built from kernels
 * whose gradients nn/gradients.ts registers (tfjs-core's LeakyRelu has none in Node).
 */
export function leakyRelu(tf: Tf, x: Tensor, slope = LEAKY_SLOPE): Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, slope), tf.mul(tf.relu(x), 1 - slope)));
}

/**
 * Exact (erf) GELU, 0.5 x (1 + erf(x / sqrt 2)), as PyTorch's default `nn.GELU()`.
 * tfjs-core has no gelu op; erf has a gradient (nn/gradients.ts), so this is differentiable.
 */
export function gelu(tf: Tf, x: Tensor): Tensor {
  return tf.tidy(() => tf.mul(x, tf.add(0.5, tf.mul(tf.erf(tf.mul(x, Math.SQRT1_2)), 0.5))));
}

export function applyActivation(tf: Tf, x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return gelu(tf, x);
    case 'leaky-relu':
      return leakyRelu(tf, x);
    case 'tanh':
      return tf.tanh(x);
    case 'linear':
      return x;
  }
}

/**
 * [G, R, K] @ [G, K, M] as one plain 2D matmul per group. The wasm backend runs matmuls with a
 * batch dimension > 1 (and transposed matmuls) through a slow generic loop, 5-10x slower than
 * its XNNPACK path at our sizes; G separate matmuls plus an unstack/stack stay fast.
 */
export function groupMatMul(tf: Tf, a: Tensor, b: Tensor): Tensor {
  if (a.shape[0] === 1 && b.shape[0] === 1) return tf.matMul(a as never, b as never);
  return tf.tidy(() => {
    const as = tf.unstack(a);
    const bs = tf.unstack(b);
    return tf.stack(as.map((ai, g) => tf.matMul(ai as never, bs[g] as never)));
  });
}

/** [G, R, C] -> [G, C, R]. */
export function transposeLast(tf: Tf, x: Tensor): Tensor {
  return tf.transpose(x, [0, 2, 1]);
}

/**
 * The forward computation of groupedLinear, without gradient bookkeeping: callers either need
 * no gradient (acting) or provide their own (the custom-gradient op). For G = 1 it invokes the
 * fused matmul kernel directly: `tf.fused.matMul` adds three reshapes and a custom-gradient
 * wrapper per call, and un-fuses the activation whenever a tape is recording.
 */
function linearForward(tf: Tf, x: Tensor, w: Tensor, b: Tensor, act: 'relu' | 'linear'): Tensor {
  const [g, , out] = w.shape as number[];
  if (g === 1 && x.rank === 3) {
    const attrs = { transposeA: false, transposeB: false, activation: act, leakyreluAlpha: 0.2 };
    return tf.engine().runKernel('_FusedMatMul', { a: x, b: w, bias: b }, attrs as never) as Tensor;
  }
  return tf.tidy(() => {
    if (g === 1) return tf.fused.matMul({ a: x as never, b: w as never, bias: b, activation: act });
    const xs = tf.unstack(x);
    const ws = tf.unstack(w);
    return tf.stack(
      xs.map((xg, k) => tf.fused.matMul({ a: xg as never, b: ws[k] as never, bias: tf.slice(b, k * out, out), activation: act })),
    );
  });
}

/**
 * groupedLinear for inference only (acting, targets): the same values without the custom
 * gradient, whose per-call bookkeeping is a noticeable share of a rollout step at our sizes.
 * Gives no gradient: never use it inside a loss.
 */
export function linearInfer(tf: Tf, x: Tensor, w: Tensor, b: Tensor, act: Activation = 'linear'): Tensor {
  const y = linearForward(tf, x, w, b, act === 'relu' ? 'relu' : 'linear');
  if (act === 'relu' || act === 'linear') return y;
  return tf.tidy(() => {
    const out = applyActivation(tf, y, act);
    y.dispose();
    return out;
  });
}

/**
 * x [G, R, in] @ w [G, in, out] + b, then the activation; b is stored flat, [G * out].
 *
 * A custom-gradient op, because the generic path is slow where it matters (wasm backend):
 * the fused matmul's own gradient and tfjs' matMul gradient use transposed (and, for G > 1,
 * batched) matmuls, which wasm runs through a slow generic loop. Here every product is a plain
 * matmul per group (explicit transposes), and the bias gradient a row sum (a ones-row matmul
 * would make XNNPACK repack the fresh [R, out] operand on every call).
 * `inputGrad = false` skips dL/dx for inputs that are data (first layers), saving a matmul.
 * Biases are rank 1 because the wasm fused matmul accepts only a rank-1 bias and checks the
 * rank of the underlying buffer (a reshaped view does not help).
 */
export function groupedLinear(
  tf: Tf,
  x: Tensor,
  w: Tensor,
  b: Tensor,
  act: Activation = 'linear',
  inputGrad = true,
): Tensor {
  const fusedAct: 'relu' | 'linear' = act === 'relu' ? 'relu' : 'linear';
  const op = tf.customGrad((...args: unknown[]) => {
    const [xi, wi, bi] = args as Tensor[];
    const save = args[3] as (ts: Tensor[]) => void;
    const [g, , out] = wi.shape as number[];
    const y = linearForward(tf, xi, wi, bi, fusedAct);
    save([xi, wi, y]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const [xs, ws, ys] = saved;
        const dz = fusedAct === 'relu' ? tf.mul(dy, tf.step(ys)) : dy;
        const dx = inputGrad ? groupMatMul(tf, dz, transposeLast(tf, ws)) : tf.zerosLike(xs);
        const dw = groupMatMul(tf, transposeLast(tf, xs), dz);
        const db = tf.reshape(tf.sum(dz, 1), [g * out]);
        return [dx, dw, db];
      });
    return { value: y, gradFunc };
  });
  return tf.tidy(() => {
    const y = op(x, w, b);
    return act === 'relu' || act === 'linear' ? y : applyActivation(tf, y, act);
  });
}

/**
 * A grouped dense layer, PyTorch-default initialised. Parameters: `${name}/weight` [G, in, out]
 * and `${name}/bias` [G * out].
 */
export class Linear {
  readonly weight: Variable;
  readonly bias: Variable;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    readonly inDim: number,
    readonly outDim: number,
    readonly groups: number,
    rng: Rng,
  ) {
    if (!(inDim > 0 && outDim > 0 && groups > 0)) {
      throw new Error(`Linear ${name}: inDim, outDim and groups must be positive (got ${inDim}, ${outDim}, ${groups})`);
    }
    const bound = defaultBound(inDim);
    this.weight = params.add(`${name}/weight`, [groups, inDim, outDim], uniform(rng, groups * inDim * outDim, bound));
    this.bias = params.add(`${name}/bias`, [groups * outDim], uniform(rng, groups * outDim, bound));
  }

  /** Inference only (no gradient): x [G, R, in] -> [G, R, out]. */
  infer(x: Tensor, act: Activation = 'linear'): Tensor {
    return linearInfer(this.tf, x, this.weight, this.bias, act);
  }

  /** x [G, R, in] -> [G, R, out]. `inputGrad = false` when x is data (see groupedLinear). */
  forward(x: Tensor, act: Activation = 'linear', inputGrad = true): Tensor {
    return groupedLinear(this.tf, x, this.weight, this.bias, act, inputGrad);
  }
}

/**
 * Linear -> act -> ... -> Linear. `sizes` = [in, hidden..., out]; the activation follows every
 * layer but the last. Parameters: `${name}/${i}/weight|bias`.
 */
export class Mlp {
  readonly layers: Linear[] = [];

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    readonly sizes: readonly number[],
    readonly activation: Activation,
    readonly groups: number,
    rng: Rng,
  ) {
    if (sizes.length < 2) throw new Error(`Mlp ${name}: sizes needs at least [in, out], got [${sizes}]`);
    for (let i = 0; i + 1 < sizes.length; i++) {
      this.layers.push(new Linear(tf, params, `${name}/${i}`, sizes[i], sizes[i + 1], groups, rng));
    }
  }

  /** Inference only (no gradient): x [G, R, in] -> [G, R, out]. */
  infer(x: Tensor): Tensor {
    return this.tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.infer(h, i + 1 < this.layers.length ? this.activation : 'linear');
      });
      return h;
    });
  }

  /**
   * `forward(x, false)` (x data) of a G = 1 relu/linear MLP as one op whose matmuls, forward
   * and backward, run in the float32 SIMD wasm kernel (nn/wasm/gru-gates.as.ts `matmul`, XNNPACK's
   * summation order; `columnsT` for the relu derivative, the transposed operand of dW^T = dz^T x
   * and the bias sums): on wasm the same bits as `forward`, without its ~30 tfjs kernels,
   * Transposes and uploads per layer. Null where it cannot run (other backends than wasm/cpu,
   * groups > 1, another activation): use `forward`.
   */
  forwardKernel(x: Tensor): Tensor | null {
    const tf = this.tf;
    const b = tf.getBackend();
    if ((b !== 'wasm' && b !== 'cpu') || this.groups !== 1 || (this.activation !== 'relu' && this.activation !== 'linear')) return null;
    return (this.kernel ??= new MlpKernel(tf, this)).forward(x);
  }
  private kernel: MlpKernel | undefined;

  /** x [G, R, in] -> [G, R, out]. `inputGrad = false` when x is data. */
  forward(x: Tensor, inputGrad = true): Tensor {
    return this.tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.forward(h, i + 1 < this.layers.length ? this.activation : 'linear', i > 0 || inputGrad);
      });
      return h;
    });
  }
}

/** Mlp.forwardKernel's op (see there). Keeps the hidden activations between forward and backward. */
class MlpKernel {
  private readonly saved: Float32Array[] = [];

  constructor(
    private readonly tf: Tf,
    private readonly mlp: Mlp,
  ) {}

  forward(x: Tensor): Tensor {
    const tf = this.tf;
    const mlp = this.mlp;
    const sz = mlp.sizes;
    const L = sz.length - 1;
    const xs = x.shape as number[];
    if (x.rank !== 3 || xs[0] !== 1 || xs[2] !== sz[0]) throw new Error(`Mlp.forwardKernel: input shape [${x.shape}] does not match [1, R, ${sz[0]}]`);
    const R = xs[1];
    const relu = mlp.activation === 'relu';
    const K = gateKernel();
    const wide = Math.max(...sz);
    // x, then per layer W, b, y; then the backward's: two dL/dy buffers, dz, dz^T, per layer
    // W^T, dW^T, db.
    const counts = [R * sz[0]];
    for (let i = 0; i < L; i++) counts.push(sz[i] * sz[i + 1], sz[i + 1], R * sz[i + 1]);
    counts.push(R * wide, R * wide, R * wide, R * wide);
    for (let i = 0; i < L; i++) counts.push(sz[i] * sz[i + 1], sz[i] * sz[i + 1], sz[i + 1]);
    let ptrs: number[] = [];
    let stamp = -1;
    const pW = (i: number) => ptrs[1 + 3 * i];
    const pB = (i: number) => ptrs[2 + 3 * i];
    const pY = (i: number) => ptrs[3 + 3 * i];
    const pIn = (i: number) => (i === 0 ? ptrs[0] : pY(i - 1));
    const bw = 1 + 3 * L;
    const stage = (xT: Tensor, ws: Tensor[]): void => {
      ptrs = K.layout(...counts);
      stamp = K.layouts;
      readInto(tf, xT, K.f32(ptrs[0], R * sz[0]));
      for (let i = 0; i < L; i++) {
        readInto(tf, ws[2 * i], K.f32(pW(i), sz[i] * sz[i + 1]));
        readInto(tf, ws[2 * i + 1], K.f32(pB(i), sz[i + 1]));
      }
    };
    const op = tf.customGrad((...args: unknown[]) => {
      const ts = args.slice(0, 1 + 2 * L) as Tensor[];
      (args[1 + 2 * L] as (t: Tensor[]) => void)(ts);
      stage(ts[0], ts.slice(1));
      for (let i = 0; i < L; i++) {
        K.k.matmul(R, sz[i], sz[i + 1], pIn(i), pW(i), pB(i), pY(i), relu && i < L - 1 ? 1 : 0);
      }
      // Hidden activations kept outside the kernel's memory: other ops lay it out before the
      // backward runs (the other critics' forwards, at least).
      for (let i = 0; i < L - 1; i++) {
        const n = R * sz[i + 1];
        if (!this.saved[i] || this.saved[i].length < n) this.saved[i] = new Float32Array(n);
        this.saved[i].set(K.f32(pY(i), n));
      }
      const value = upload(tf, K.f32(pY(L - 1), R * sz[L]), [1, R, sz[L]]);
      const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => {
        const [xIn, ...ws] = saved;
        if (stamp !== K.layouts) {
          stage(xIn, ws);
          for (let i = 0; i < L - 1; i++) K.f32(pY(i), R * sz[i + 1]).set(this.saved[i].subarray(0, R * sz[i + 1]));
        }
        const [pD0, pD1, pDZ, pDZT] = ptrs.slice(bw, bw + 4);
        const pWT = (i: number) => ptrs[bw + 4 + 3 * i];
        const pDWT = (i: number) => ptrs[bw + 5 + 3 * i];
        const pDB = (i: number) => ptrs[bw + 6 + 3 * i];
        readInto(tf, dy, K.f32(pD0, R * sz[L]));
        let cur = pD0;
        let next = pD1;
        for (let i = L - 1; i >= 0; i--) {
          const [n, o] = [sz[i], sz[i + 1]];
          K.f32(pDB(i), o).fill(0);
          // dz = dL/dy * step(y) for relu layers (groupedLinear's derivative), dz^T, db.
          K.k.columnsT(R, o, cur, relu && i < L - 1 ? pY(i) : 0, pDZT, pDB(i), i > 0 ? pDZ : 0);
          K.k.matmul(o, R, n, pDZT, pIn(i), 0, pDWT(i), 0);
          if (i > 0) {
            const w = K.f32(pW(i), n * o);
            const wt = K.f32(pWT(i), n * o);
            for (let r = 0; r < n; r++) for (let c = 0; c < o; c++) wt[c * n + r] = w[r * o + c];
            K.k.matmul(R, o, n, pDZ, pWT(i), 0, next, 0);
            [cur, next] = [next, cur];
          }
        }
        return tf.tidy(() => {
          const grads: Tensor[] = [tf.zerosLike(xIn)];
          for (let i = 0; i < L; i++) {
            const [n, o] = [sz[i], sz[i + 1]];
            const dwt = K.f32(pDWT(i), n * o);
            const dw = new Float32Array(n * o);
            for (let r = 0; r < o; r++) for (let c = 0; c < n; c++) dw[c * o + r] = dwt[r * n + c];
            grads.push(tf.tensor3d(dw, [1, n, o]), upload(tf, K.f32(pDB(i), o), [o]));
          }
          return grads;
        });
      };
      return { value, gradFunc };
    });
    const params: Tensor[] = [];
    for (const layer of mlp.layers) params.push(layer.weight, layer.bias);
    return op(x, ...params);
  }
}
