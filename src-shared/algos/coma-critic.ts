/**
 * COMA's critic step without the autodiff tape (issue 15): the ReLU MLP's forward over all
 * rows, the squared TD loss and its gradient in one CPU pass over the read-back Q, and the
 * backward as explicit kernels.
 *
 * Why (measured at the bench's size, 9,600 rows of 27 -> 64 -> 64 -> 6, process CPU time,
 * interleaved: the step with its target forward went from ~33 ms to ~21 ms):
 * - the weight gradients: XNNPACK packs a matmul's right operand on every call, and X^T dZ
 *   packs dZ [rows, 64]: for these shapes the packing and the rows-long panels cost more than
 *   the product (~8 ms for 79 MFLOP, against ~3 ms for the forward's). (dZ^T X)^T packs X
 *   instead ([rows, 27] for the first layer) and needs no transpose of X: 2-2.5x faster;
 * - the loss's eight small kernels and their gradients (a `ones` seed, Sub/Square/Mul/Sum and
 *   back), the tape's bookkeeping, and a [rows, out] -> [out, rows] transpose inside every
 *   bias gradient (tfjs' Sum over the middle axis of [1, rows, out] permutes first);
 * - when the target critic was copied from the critic after the last critic step (the paper's
 *   hard copy every round), the target's forward over the T+1 slots computed the very values
 *   the critic's forward recomputed over the first T: the critic's forward now serves the
 *   bootstrap values, the pre-update Q of the actor's baseline and the backward
 *   (`forwardRows`' extra rows: the bootstrap slot, Q only).
 *
 * Same results, bit for bit, as the taped path (on the wasm backend, which the golden series
 * pins): every product is a plain matmul as in the registered gradients (nn/mlp.ts
 * groupedLinear: dW = X^T dZ, dX = dZ W^T, dZ = dY * step(Y)); a hidden layer's dW taken as
 * (dZ^T X)^T sums the same products (they commute) in the same order, because XNNPACK's GEMM
 * accumulates each output along K one product at a time (also what nn/gru-simd.ts relies on);
 * the bias gradients are the same sequential float32 column sums, row 0 first (the Sum kernel
 * along the last axis of dZ^T, or for the output layer on the CPU while dL/dQ is written); the
 * loss's gradient is fl(W * fl(2 * fl(Q - y))), what the tape's Square and Mul gradients give
 * in float32, and the loss value the same float32 sequential sum of fl(W * fl(x * x)) as the
 * Sum kernel. A row's Q does not depend on the rows beside it in a GEMM, so the bootstrap
 * slot's Q from its own small forward is the target's. test/algos/coma-critic.test.ts compares
 * gradients, Q and loss with the taped step's bytes, and whole runs either way.
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
 * Per hidden layer: dZ = dY * step(Y) as the tape's ReLU gradient computes it; dZ^T by one
 * Transpose kernel, which serves both the weight gradient (below) and the bias gradient as a
 * sum along the last axis (the Sum kernel's sequential float32 order, row 0 first, with no
 * permutation: tfjs' Sum over the middle axis of [1, rows, out] transposes first).
 * (A single JS pass writing dZ, dZ^T and the column sums was measured too: slower than these
 * three kernels.)
 */
export function criticBackward(tf: Tf, mlp: Mlp, params: ParamSet, name: string, pass: CriticPass, n: number, work: ComaCriticWork): Record<string, Tensor> {
  const byName = new Map<string, Tensor>();
  const L = mlp.layers.length;
  tf.tidy(() => {
    const A = mlp.layers[L - 1].outDim;
    let dz = upload(tf, work.dq.subarray(0, n * A), [1, n, A]);
    let dzT: Tensor | null = null;
    let db: Float32Array | null = work.db.subarray(0, A);
    let dbT: Tensor | null = null;
    for (let i = L - 1; i >= 0; i--) {
      const layer = mlp.layers[i];
      const x = pass.inputs[i];
      if (x.shape[1] !== n) throw new Error(`coma critic: the kept forward has ${x.shape[1]} rows, the loss ${n}`);
      // Hidden layers: (dZ^T X)^T. XNNPACK packs its
      // right operand on every call, and for a [rows, width] operand that costs more than the
      // product: X [rows, in] is the smaller one, and X needs no Transpose kernel. Each entry
      // is the same products summed over the rows in the same order (XNNPACK accumulates
      // along K one product at a time; products commute), so the same bits.
      const dw = dzT ? transposeLast(tf, groupMatMul(tf, dzT, x)) : groupMatMul(tf, transposeLast(tf, x), dz);
      byName.set(`${name}/${i}/weight`, tf.keep(dw));
      byName.set(`${name}/${i}/bias`, tf.keep(db ? upload(tf, db, [layer.outDim]) : dbT!));
      // The first layer's input is data: no gradient (groupedLinear's inputGrad = false).
      if (i === 0) break;
      const dy = groupMatMul(tf, dz, transposeLast(tf, layer.weight));
      const out = layer.inDim;
      // The previous layer's ReLU: dZ = dY * step(Y), Y its output (this layer's input).
      dz = tf.mul(dy, tf.step(x));
      dzT = transposeLast(tf, dz);
      // Its bias gradient: column sums of dZ = sums along the last axis of dZ^T, which the Sum
      // kernel takes in the same order (row 0 first, float32) without a permutation.
      db = null;
      dbT = tf.reshape(tf.sum(dzT, 2), [out]);
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
  readonly db: Float32Array; // the output layer's bias gradient

  /** `rows`: the most rows of one forward. */
  constructor(rows: number, A: number) {
    this.q = new Float32Array(rows * A);
    this.dq = new Float32Array(rows * A);
    this.db = new Float32Array(A);
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
