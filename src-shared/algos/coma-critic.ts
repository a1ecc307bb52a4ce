/**
 * COMA's critic step without the autodiff tape (issue 15): the ReLU MLP's forward over all
 * rows, the squared TD loss and its gradient in one CPU pass over the read-back Q, and the
 * backward as explicit kernels.
 *
 * Why: the taped step (ParamSet.grads over Mlp.forward and the loss ops) spent a third of its
 * time on things that are not the network's arithmetic: the loss's eight small kernels and
 * their gradients (a `ones` seed, Sub/Square/Mul/Sum and back), the tape's bookkeeping, and a
 * [rows, out] -> [out, rows] transpose inside every bias gradient (tfjs' Sum over the middle
 * axis of [1, rows, out] permutes first). And when the target critic was copied from the
 * critic after the last critic step (the paper's hard copy every round), the target's forward
 * over the T+1 slots computes the very values the critic's forward recomputes over the first
 * T: one forward over the T+1 slots then serves the bootstrap values, the pre-update Q of the
 * actor's baseline and the activations of the backward (`ComaCritic.step`'s `shared`).
 *
 * Same results, bit for bit, as the taped path (on the wasm backend, which the golden series
 * pins): every product is the kernel the registered gradients run (nn/mlp.ts groupedLinear:
 * dW = X^T dZ as an explicit transpose and a plain matmul, dX = dZ W^T, dZ = dY * step(Y));
 * the bias gradient is the same sequential float32 column sum, row 0 first, taken through
 * Sum over the leading axis of [rows, out] (src-main/backend/wasm-kernels.ts sums leading
 * axes in the stock kernel's order, without the transpose), or for the output layer summed on
 * the CPU in the same order while dL/dQ is written; the loss's gradient is
 * fl(W * fl(2 * fl(Q - y))), what the tape's Square and Mul gradients compute in float32, and
 * the loss value the same float32 sequential sum of fl(W * fl(x * x)) as the Sum kernel.
 * XNNPACK's GEMM accumulates each output over K in one order whatever the number of rows, so
 * a row's Q is the same whether it ran with the bootstrap slot's rows or beside other rows.
 * test/algos/coma-critic.test.ts compares gradients, Q and loss with the taped step's bytes.
 *
 * `comaCriticPath.reference = true` switches COMA back to the taped step (A/B runs, tests);
 * GELU critics (released code) always take it: its derivative would need its own rule.
 */
import type { Mlp } from '../nn/mlp';
import { groupMatMul, transposeLast } from '../nn/mlp';
import type { ParamSet } from '../nn/params';
import { readInto, upload } from '../nn/tensor-io';
import type { Tensor, Tf } from '../nn/tf';

/** Switch for A/B measurements and tests: the taped critic step instead of this module's. */
export const comaCriticPath = { reference: false };

/** Does this critic take the tape-free step? (ReLU hidden layers, one group.) */
export function explicitCriticApplies(mlp: Mlp): boolean {
  return !comaCriticPath.reference && mlp.activation === 'relu' && mlp.groups === 1;
}

/** The forward's kept tensors: the input of every layer (X, then each hidden output) and Q. */
export interface CriticPass {
  inputs: Tensor[];
  q: Tensor;
}

/**
 * Forward over x [1, n, F] with no tape, keeping each layer's input for the backward. The
 * kernel is the one groupedLinear's forward runs (_FusedMatMul with the bias and ReLU fused),
 * so the values are the taped forward's.
 */
export function criticForward(tf: Tf, mlp: Mlp, x: Tensor): CriticPass {
  const inputs: Tensor[] = [x];
  let h = x;
  mlp.layers.forEach((layer, i) => {
    const last = i + 1 === mlp.layers.length;
    const attrs = { transposeA: false, transposeB: false, activation: last ? 'linear' : 'relu', leakyreluAlpha: 0.2 };
    h = tf.engine().runKernel('_FusedMatMul', { a: h, b: layer.weight, bias: layer.bias }, attrs as never) as Tensor;
    if (!last) inputs.push(h);
  });
  return { inputs, q: h };
}

/**
 * The parameter gradients for dL/dQ = work.dq [n, A] (and its column sums work.db) through a
 * forward over the same n rows kept in `pass`. Returned in the parameter set's order (the order
 * ParamSet.grads gives, which the global-norm clip sums in).
 *
 * A hidden layer's dZ = dY * step(Y) and its bias gradient (column sums of dZ) are one CPU
 * pass over dY and Y read back from wasm memory, instead of the Step, Mul and Sum kernels:
 * dY * 1 and dY * 0 are exact in float64 and stored as float32 (the signed zero and NaN of
 * the Mul kernel included), and the column sums are float32 partial sums, row 0 first (the
 * Sum kernel's order).
 */
export function criticBackward(tf: Tf, mlp: Mlp, params: ParamSet, name: string, pass: CriticPass, n: number, work: ComaCriticWork): Record<string, Tensor> {
  const byName = new Map<string, Tensor>();
  const L = mlp.layers.length;
  tf.tidy(() => {
    const A = mlp.layers[L - 1].outDim;
    let dz = upload(tf, work.dq.subarray(0, n * A), [1, n, A]);
    let db = work.db.subarray(0, A);
    for (let i = L - 1; i >= 0; i--) {
      const layer = mlp.layers[i];
      const x = pass.inputs[i];
      if (x.shape[1] !== n) throw new Error(`coma critic: the kept forward has ${x.shape[1]} rows, the loss ${n}`);
      byName.set(`${name}/${i}/weight`, tf.keep(groupMatMul(tf, transposeLast(tf, x), dz)));
      byName.set(`${name}/${i}/bias`, tf.keep(upload(tf, db, [layer.outDim])));
      // The first layer's input is data: no gradient (groupedLinear's inputGrad = false).
      if (i === 0) break;
      const dy = groupMatMul(tf, dz, transposeLast(tf, layer.weight));
      const out = layer.inDim;
      const dyv = readInto(tf, dy, work.dy);
      const yv = readInto(tf, x, work.y); // the previous layer's ReLU output
      const dzv = work.dz.subarray(0, n * out);
      db = work.db.subarray(0, out).fill(0);
      for (let r = 0, k = 0; r < n; r++) {
        for (let j = 0; j < out; j++, k++) {
          const y = yv[k];
          const g = dyv[k] * (y !== y ? NaN : y > 0 ? 1 : 0);
          dzv[k] = g;
          db[j] += g;
        }
      }
      dz = upload(tf, dzv, [1, n, out]);
    }
  });
  const grads: Record<string, Tensor> = {};
  for (const p of params.names()) {
    const g = byName.get(p);
    if (g) grads[p] = g;
  }
  return grads;
}

/**
 * The squared TD loss of the taken actions and its gradient w.r.t. Q, in one pass over the
 * read-back Q (rows [0, n), time-major):
 *   loss = sum_rows,u W (Q - y)^2,  W = [mask] one-hot(u_taken) / count,
 *   dq   = W * 2 (Q - y)  (every entry, so a zero weight gives the tape's signed zero),
 *   db   = column sums of dq (the output layer's bias gradient, float32 db[0, A)).
 * Float32 at every step, in the tape's order (module header). Returns the loss.
 */
export function tdLossGrad(
  q: Float32Array,
  targets: Float32Array,
  masks: Float32Array,
  acts: Int32Array,
  r0: number,
  n: number,
  A: number,
  count: number,
  dq: Float32Array,
  db: Float32Array,
): number {
  const f = Math.fround;
  const w = f(1 / count);
  let loss = 0;
  db.fill(0, 0, A);
  for (let i = 0; i < n; i++) {
    const y = targets[r0 + i];
    const taken = masks[r0 + i] ? acts[r0 + i] : -1;
    for (let u = 0; u < A; u++) {
      const k = i * A + u;
      const x = f(q[k] - y);
      const wk = u === taken ? w : 0;
      const g = f(wk * f(2 * x));
      dq[k] = g;
      db[u] += g; // float32 store: the Sum kernel's float partial sums, row 0 first
      loss = f(loss + f(wk * f(x * x)));
    }
  }
  return loss;
}

/** Reusable CPU buffers of the critic step, sized for the largest batch. */
export class ComaCriticWork {
  readonly q: Float32Array; //  Q of every action over the forward's rows
  readonly dq: Float32Array; // dL/dQ
  readonly db: Float32Array; // a layer's bias gradient
  readonly dy: Float32Array; // a hidden layer's output gradient, read back
  readonly y: Float32Array; //  its output, read back
  readonly dz: Float32Array; // its pre-activation gradient

  /** `rows`: the most rows of one forward; `width`: the widest hidden layer. */
  constructor(rows: number, A: number, width: number) {
    this.q = new Float32Array(rows * A);
    this.dq = new Float32Array(rows * A);
    this.db = new Float32Array(Math.max(A, width));
    this.dy = new Float32Array(rows * width);
    this.y = new Float32Array(rows * width);
    this.dz = new Float32Array(rows * width);
  }
}

/**
 * The critic's forward over rows [r0, r0 + rows) of `feats` (time-major, F wide), kept for a
 * backward, and Q only (nothing kept) over the `extra` rows after them (the bootstrap slot when
 * the forward stands in for the target's): Q of every action of all rows + extra is read back
 * into work.q. Two forwards rather than one longer one and a slice of its activations: a
 * slice copies, and a row's values do not depend on the rows beside it. The caller disposes
 * the pass (`disposePass`) after `explicitCriticGrads`.
 */
export function forwardRows(
  tf: Tf,
  mlp: Mlp,
  feats: Float32Array,
  F: number,
  r0: number,
  rows: number,
  work: ComaCriticWork,
  extra = 0,
): { pass: CriticPass; q: Float32Array } {
  const A = mlp.sizes[mlp.sizes.length - 1];
  const pass = tf.tidy(() => {
    const p = criticForward(tf, mlp, upload(tf, feats.subarray(r0 * F, (r0 + rows) * F), [1, rows, F]));
    // tidy keeps tensors found in the returned object
    return { inputs: p.inputs, q: p.q } as never;
  }) as CriticPass;
  readInto(tf, pass.q, work.q.subarray(0, rows * A));
  if (extra > 0) {
    tf.tidy(() => {
      const x = upload(tf, feats.subarray((r0 + rows) * F, (r0 + rows + extra) * F), [1, extra, F]);
      readInto(tf, criticForward(tf, mlp, x).q, work.q.subarray(rows * A, (rows + extra) * A));
    });
  }
  return { pass, q: work.q.subarray(0, (rows + extra) * A) };
}

export function disposePass(pass: CriticPass): void {
  for (const t of pass.inputs) t.dispose();
  pass.q.dispose();
}

/**
 * The loss and gradients of one critic step on the first n rows of a forward `pass` made by
 * `forwardRows` at row r0 (its Q in work.q): targets, masks and actions are indexed from r0.
 * Returns the loss value and the gradients (the caller owns them).
 */
export function explicitCriticGrads(
  tf: Tf,
  mlp: Mlp,
  params: ParamSet,
  name: string,
  pass: CriticPass,
  r0: number,
  n: number,
  targets: Float32Array,
  masks: Float32Array,
  acts: Int32Array,
  count: number,
  work: ComaCriticWork,
): { value: number; grads: Record<string, Tensor> } {
  const A = mlp.sizes[mlp.sizes.length - 1];
  const value = tdLossGrad(work.q, targets, masks, acts, r0, n, A, count, work.dq, work.db);
  const grads = criticBackward(tf, mlp, params, name, pass, n, work);
  return { value, grads };
}
