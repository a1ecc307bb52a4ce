/**
 * Recurrent training pieces for PPO over short chunks that start from stored hidden states
 * (MAPPO's "data chunks": every chunk of L steps restarts from the state the rollout stored).
 * Differentiable by the tape; only kernels with registered gradients are used.
 *
 * Same GRU cell as nn/gru.ts (PyTorch gate semantics, weights [G, in, 3H] / [G, H, 3H], flat
 * biases, gates r, z, n), and the same LayerNorm as `GRUCell.output` (eps 1e-5).
 *
 * Why not `GRUCell.step` in a loop (the reference the tests compare against): profiling a PPO
 * minibatch on the wasm backend showed its last-axis gate split (SplitV, which wasm runs as a
 * copy per piece) and Tanh (several times slower than Sigmoid there) costing as much as the
 * matmuls, plus, with G > 1 groups, a per-step Unpack of the state. Here:
 * - each gate has its own weight slice, taken once per group and call from the group's piece
 *   of the variable (GroupPieces), so nothing is split per step;
 * - tanh(a) = 2 sigmoid(2a) - 1;
 * - a group's weights and states are handled as [1, rows, .] tensors, never unstacked (the
 *   weights differ per group, so its matmuls are per group anyway, as in nn/mlp.ts).
 * (A fully fused variant with the gates on the CPU, like GRUCell.sequence, measured slower:
 * at ~1,000 rows per step the JS gate loops cost more than wasm's elementwise kernels.)
 *
 * The trainer (PpoNet.sequence) uses the batched forms below, which give the same bits as
 * gateStep + layerNormLast per step with ~3x fewer kernels (issue 15): blockLinear (a layer
 * once over all steps) and lnGruLayer (the GRU layer, input side included, as one op with a
 * hand-written backward whose weight gradients share XNNPACK's packed operand; lnGruSequence
 * is its recurrence alone, kept for the legacy staging that bench/ppo-ab.ts compares against).
 */
import { concatDiff } from './conv';
import type { GRUCell } from './gru';
import { applyActivation, groupedLinear, type Activation } from './mlp';
import { upload } from './tensor-io';
import type { Tensor, Tf } from './tf';

/**
 * Per-group pieces of grouped tensors ([G, ...] weights, flat [G * n] biases, [G, rows, .]
 * activations), split ONCE along the group axis and handed out by group.
 *
 * Why not a Slice per group: the gradient of a Slice is its dy padded back to the FULL input
 * shape, so G per-group slices of a [G, in, out] variable put G full-size gradients on the tape
 * (G^2 in out floats, held until the backward pass ends). With 128 per-agent networks (IPPO on a
 * 64 vs 64 battle) that was over 8 GB and overran the wasm backend's 4 GiB heap, where a failed
 * allocation surfaces as "memory access out of bounds". A split's gradient is one concatenation
 * of the G pieces' gradients: G in out floats.
 */
export class GroupPieces {
  private readonly cache = new Map<Tensor, Tensor[]>();
  constructor(
    private readonly tf: Tf,
    readonly groups: number,
  ) {}
  /** Group g's piece of `v` (v itself when there is one group). */
  get(v: Tensor, g: number): Tensor {
    if (this.groups === 1) return v;
    let p = this.cache.get(v);
    if (!p) {
      p = this.tf.split(v, this.groups, 0);
      this.cache.set(v, p);
    }
    return p[g];
  }
}

/**
 * Why layers run once over L blocks of rows (the L steps of a chunk) still sum their parameter
 * gradients block by block: the reference network calls each layer once per step, and the tape
 * adds the L per-step gradients in reverse recording order (last step first), each of them an
 * XNNPACK matmul or a column sum over that step's rows only. Summing over all rows at once
 * (one matmul, one column sum) rounds differently; it was measured (about 17% fewer kernels
 * for a chunk of 10, CPU time within the noise) and not kept, so results stay bit-identical.
 *
 * Sum of t [1, L*R, n] over its rows, as [n]: each block of R rows summed on its own (row 0
 * first, float32) and the block sums added last block first.
 */
export function blockSums(tf: Tf, t: Tensor, L: number): Tensor {
  const n = t.shape[2] as number;
  if (L === 1) return tf.reshape(tf.sum(t, [0, 1]), [n]);
  const R = (t.shape[1] as number) / L;
  // Per block: the stock wasm Sum over a middle axis (C++: row 0 first, float32), not the
  // leading-axis override, whose JS loop is slower on these large gradients.
  const perBlock = tf.sum(tf.reshape(t, [L, R, n]), 1);
  return tf.sum(tf.reverse(perBlock, 0), 0);
}

/**
 * Weight and bias gradients of y = x w + b over L blocks of rows (x [1, L*R, in], dz
 * [1, L*R, out]): dw [1, in, out], db [out], summed block by block (see blockSums).
 */
export function blockParamGrads(tf: Tf, x: Tensor, dz: Tensor, L: number): { dw: Tensor; db: Tensor } {
  return blockParamGradsT(tf, transposedBlocks(tf, x, L), dz, L);
}

/**
 * Bench switch (`bench/ppo-ab.ts`): the operand staging before issue 15m (a transpose of the
 * whole [1, L*R, in] then a split along its last axis; the conv's patches transposed by a
 * kernel too). Both give the same bytes; only the copies differ.
 */
export const ppoStaging = { legacy: false };

/**
 * x [1, L*R, in] as its L blocks transposed, [1, in, R] each (the weight gradient's left operand).
 * Why [L, R, in] -> [L, in, R] and a split along the leading axis: the pieces are contiguous, so
 * the split is views on wasm; a split of [1, in, L*R] along its last axis is strided, i.e. a copy
 * of the whole operand in JS (row by row) on top of the transpose. Same values either way.
 */
function transposedBlocks(tf: Tf, x: Tensor, L: number): Tensor[] {
  if (ppoStaging.legacy) {
    const xT = tf.transpose(x, [0, 2, 1]);
    return L === 1 ? [xT] : tf.split(xT, L, 2);
  }
  const t = transposedWhole(tf, x, L);
  return L === 1 ? [t] : tf.split(t, L, 0);
}

/** x [1, L*R, in] as [L, in, R]: its L blocks transposed, in one tensor. */
function transposedWhole(tf: Tf, x: Tensor, L: number): Tensor {
  const R = (x.shape[1] as number) / L;
  return L === 1 ? tf.transpose(x, [0, 2, 1]) : tf.transpose(tf.reshape(x, [L, R, x.shape[2] as number]), [0, 2, 1]);
}

/**
 * The L blocks of R rows of a data operand x [L*R, in] (CPU, row-major, starting at x[off]),
 * each transposed to [1, in, R], made on the CPU (no kernel): what transposedBlocks would give
 * for the uploaded x, byte for byte. `buf` is scratch of at least L*R*in values, reused by the
 * caller; `upload` copies it (tensor-io.ts).
 *
 * `onesRow`: each block gets a last row of ones, [1, in + 1, R], so that the weight gradient's
 * matmul also yields the bias gradient as its last row: XNNPACK sums every output over the R
 * rows in order from zero (one accumulator per output, products by 1 exact), which is what the
 * stock Sum does (row 0 first, float32), so db comes out the same bytes without a Sum kernel.
 * That Sum (over a middle axis) transposes its whole input first: for the state critic's
 * convolution, [L, S*16, 32] per minibatch, ~3% of a MAPPO update.
 */
export function uploadTransposedBlocks(tf: Tf, x: Float32Array, off: number, L: number, R: number, inDim: number, buf: Float32Array, onesRow = false): Tensor[] {
  const out: Tensor[] = [];
  const n = R * inDim;
  const rowsT = onesRow ? inDim + 1 : inDim;
  const dst = buf.subarray(0, rowsT * R);
  if (onesRow) dst.fill(1, n, n + R);
  for (let k = 0; k < L; k++) {
    const src = off + k * n;
    for (let r = 0; r < R; r++) {
      const s = src + r * inDim;
      for (let j = 0, d = r; j < inDim; j++, d += R) dst[d] = x[s + j];
    }
    out.push(upload(tf, dst, [1, rowsT, R]));
  }
  return out;
}

/**
 * blockParamGrads with x given as transposedBlocks(x), when several gradients share it. With
 * `onesRow` the blocks carry a last row of ones (uploadTransposedBlocks) and db is that row of
 * the summed product: the same sums in the same order as blockSums (per block from row 0, then
 * the blocks last first, as AddN adds into a zeroed output).
 */
function blockParamGradsT(tf: Tf, xTs: readonly Tensor[], dz: Tensor, L: number, onesRow = false): { dw: Tensor; db: Tensor } {
  let full: Tensor;
  if (L === 1) full = tf.matMul(xTs[0] as never, dz as never);
  else {
    const dzs = tf.split(dz, L, 1);
    const parts: Tensor[] = [];
    for (let k = L - 1; k >= 0; k--) parts.push(tf.matMul(xTs[k] as never, dzs[k] as never));
    // AddN adds its inputs in order into a zeroed output: the tape's order, last block first.
    full = tf.addN(parts);
  }
  if (!onesRow) return { dw: full, db: blockSums(tf, dz, L) };
  const [inDim, out] = [(full.shape[1] as number) - 1, full.shape[2] as number];
  return { dw: tf.slice(full, [0, 0, 0], [1, inDim, out]), db: tf.reshape(tf.slice(full, [0, inDim, 0], [1, 1, out]), [out]) };
}

/**
 * groupedLinear for ONE group over L blocks of R rows at once: x [1, L*R, in], w [1, in, out],
 * b [out] (rank 1, as the wasm fused matmul requires). The forward values and dL/dx are those
 * of L per-block calls (every output row depends on its input row only, and XNNPACK sums each
 * dot product in the same order whatever the number of rows); dL/dw and dL/db are summed block
 * by block (blockSums). Why not groupedLinear over all rows: its weight gradient sums over all
 * L*R rows in one pass, which rounds differently from the per-block reference.
 * `xT`: x's blocks already transposed ([1, in, R] each, e.g. from uploadTransposedBlocks when x
 * is data), so the weight gradient needs no Transpose kernel of x; [1, in + 1, R] with a last
 * row of ones gives the bias gradient from the same matmul (no Sum kernel).
 */
export function blockLinear(tf: Tf, x: Tensor, w: Tensor, b: Tensor, act: Activation, inputGrad: boolean, L: number, xT?: readonly Tensor[]): Tensor {
  const fused: 'relu' | 'linear' = act === 'relu' ? 'relu' : 'linear';
  const rows = x.shape[1] as number;
  if (x.rank !== 3 || x.shape[0] !== 1 || w.shape[0] !== 1 || rows % L !== 0) {
    throw new Error(`blockLinear: expected x [1, L*R, in] with L = ${L} and one group of weights, got x [${x.shape}], w [${w.shape}]`);
  }
  const inDim = x.shape[2] as number;
  if (xT && (xT.length !== L || (xT[0].shape[1] !== inDim && xT[0].shape[1] !== inDim + 1))) {
    throw new Error(`blockLinear: expected ${L} transposed blocks of x, [1, ${inDim} (+1 with a ones row), R], got ${xT.length} of [${xT[0]?.shape}]`);
  }
  const onesRow = xT !== undefined && xT[0].shape[1] === inDim + 1;
  const op = tf.customGrad((...args: unknown[]) => {
    const [xi, wi, bi] = args as Tensor[];
    const save = args[3] as (ts: Tensor[]) => void;
    const attrs = { transposeA: false, transposeB: false, activation: fused, leakyreluAlpha: 0.2 };
    const y = tf.engine().runKernel('_FusedMatMul', { a: xi, b: wi, bias: bi }, attrs as never) as Tensor;
    // The caller's transposed blocks are saved too: the tidy that made them ends before the backward.
    save([xi, wi, y, ...(xT ?? [])]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const [xs, ws, ys] = saved;
        const dz = fused === 'relu' ? tf.mul(dy, tf.step(ys)) : dy;
        const dx = inputGrad ? tf.matMul(dz as never, tf.transpose(ws, [0, 2, 1]) as never) : tf.zerosLike(xs);
        const { dw, db } = xT ? blockParamGradsT(tf, saved.slice(3), dz, L, onesRow) : blockParamGrads(tf, xs, dz, L);
        return [dx, dw, db];
      });
    return { value: y, gradFunc };
  });
  return tf.tidy(() => {
    const y = op(x, w, b);
    return act === 'relu' || act === 'linear' ? y : applyActivation(tf, y, act);
  });
}

/** One group's GRU weights split by gate (r, z, n): [1, in, H], [1, H, H] and biases [H]. */
export interface GateWeights {
  readonly wi: Tensor[];
  readonly wh: Tensor[];
  readonly bi: Tensor[];
  readonly bh: Tensor[];
}

/**
 * Group g's weights of `cell`, per gate. Slices of the variables, so gradients flow back to
 * them; biases are fresh rank-1 tensors, as the wasm fused matmul requires.
 */
export function gateWeights(tf: Tf, cell: GRUCell, g: number, pieces: GroupPieces = new GroupPieces(tf, cell.groups)): GateWeights {
  const H = cell.hiddenSize;
  const I = cell.inputSize;
  const gates = [0, 1, 2];
  // The gate slices are of the group's own piece, so their padded gradients are one group big.
  const wi = pieces.get(cell.weightIh, g);
  const wh = pieces.get(cell.weightHh, g);
  const bi = pieces.get(cell.biasIh, g);
  const bh = pieces.get(cell.biasHh, g);
  return {
    wi: gates.map((k) => tf.slice(wi, [0, 0, k * H], [1, I, H])),
    wh: gates.map((k) => tf.slice(wh, [0, 0, k * H], [1, H, H])),
    bi: gates.map((k) => tf.slice(bi, k * H, H)),
    bh: gates.map((k) => tf.slice(bh, k * H, H)),
  };
}

/** One GRU step for one group: x [1, R, in], h [1, R, H] -> h' [1, R, H]. */
export function gateStep(tf: Tf, w: GateWeights, x: Tensor, h: Tensor): Tensor {
  return tf.tidy(() => {
    const pre = (k: number) => tf.add(groupedLinear(tf, x, w.wi[k], w.bi[k]), groupedLinear(tf, h, w.wh[k], w.bh[k]));
    const r = tf.sigmoid(pre(0));
    const z = tf.sigmoid(pre(1));
    const a = tf.add(groupedLinear(tf, x, w.wi[2], w.bi[2]), tf.mul(r, groupedLinear(tf, h, w.wh[2], w.bh[2])));
    const n = tf.sub(tf.mul(tf.sigmoid(tf.mul(a, 2)), 2), 1); // tanh(a)
    return tf.add(n, tf.mul(z, tf.sub(h, n))); // (1 - z) n + z h
  });
}

/**
 * The recurrent part of one group's PPO network over S sequences of L steps, as ONE op with a
 * hand-written backward: the GRU (hidden side of the gates and the gate arithmetic) step by
 * step, then the LayerNorm of every step's state. xr, xz, xn [1, L*S, H] are the input side of
 * the gates for all steps (rows [step][sequence]), wh [1, H, 3H] / bh [3H] the group's hidden
 * weights (gates r, z, n), gain / bias [H] the LayerNorm's; h0 [1, S, H] is data. Returns the
 * LayerNorm outputs [1, L*S, H].
 *
 * Values and gradients are those of the taped per-step network (gateStep then layerNormLast
 * per step): the forward runs the same kernels on the same rows; the backward runs, per step,
 * exactly the ops the registered gradients (nn/gradients.ts) would run, and adds the
 * contributions to each tensor in the tape's order (reverse recording order), e.g. the
 * state's gradient is ((((dd + c_n) + c_z) + c_r) + dLN_sub) + dLN_mean. What it saves: the
 * tape bookkeeping, the per-step Reshape/Identity/zero-gradient kernels, per-step transposes of
 * the weights, the gradients of the constant operands, and per-step LayerNorm work (it is
 * row-wise, so it runs once over all steps).
 */
export function lnGruSequence(
  tf: Tf,
  xr: Tensor,
  xz: Tensor,
  xn: Tensor,
  wh: Tensor,
  bh: Tensor,
  gain: Tensor,
  bias: Tensor,
  h0: Tensor,
  L: number,
): Tensor {
  const S = h0.shape[1] as number;
  const H = h0.shape[2] as number;
  if (xr.shape[1] !== L * S || wh.shape[2] !== 3 * H) {
    throw new Error(`lnGruSequence: inputs [${xr.shape}] and weights [${wh.shape}] do not match ${L} steps of h0 [${h0.shape}]`);
  }
  const op = tf.customGrad((...args: unknown[]) => {
    const [xrA, xzA, xnA, whA, bhA, gainA, biasA] = args as Tensor[];
    const save = args[7] as (ts: Tensor[]) => void;
    const f = recurrenceForward(tf, [xrA, xzA, xnA], whA, bhA, gainA, biasA, h0, L);
    save(f.saved);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const b = recurrenceBackward(tf, dy, saved, L);
        // Concatenating along rows is one copy per piece; the gates are joined only in the
        // small [H, 3H] results (a per-step concat along the last axis copies row by row).
        const cat = (ts: Tensor[]) => (L === 1 ? ts[0] : tf.concat(ts, 1));
        const hT = transposedBlocks(tf, b.hPrev, L);
        const [dXr, dXz, dXn] = [cat(b.dxr), cat(b.dxz), cat(b.dxn)];
        const gates = [dXr, dXz, cat(b.dhn)].map((dz) => blockParamGradsT(tf, hT, dz, L));
        const dw = tf.concat(gates.map((g) => g.dw), 2);
        const db = tf.concat(gates.map((g) => g.db), 0);
        return [dXr, dXz, dXn, dw, db, b.dGain, b.dBias];
      });
    return { value: f.y, gradFunc };
  });
  return op(xr, xz, xn, wh, bh, gain, bias);
}

/**
 * The GRU layer of one group's PPO network over S sequences of L steps, input side included:
 * x [1, L*S, in] -> the LayerNorm outputs [1, L*S, H], with wi / bi the input weights of the
 * gates r, z, n ([1, in, H] and [H] each, as the three blockLinear calls it replaces took
 * them), the rest as lnGruSequence. Same values and gradients as
 * lnGruSequence(blockLinear(x, wi[0], bi[0]), ..., ...) bit for bit; what differs is how the
 * weight gradients are formed.
 *
 * Why: on wasm a matmul packs its right operand (XNNPACK's "weights") on every call unless that
 * tensor was the right operand before (tfjs-wasm caches the packed form by tensor id), and for
 * the per-step weight gradients (64 x R x 64) the packing costs as much as the arithmetic. As
 * xT_k dz_k, each of the six gate weight gradients packs its own dz_k every step; taken
 * transposed, dW^T = dz_k^T x_k, the right operands are x_k and h_{k-1}, packed ONCE per step for
 * the three gates of each side (2 packings instead of 6). The sums are the same products in the
 * same order (over the R rows, row 0 first; a * b = b * a exactly), the L blocks are added last
 * first as before, and a transpose of the [H, in] result moves no arithmetic: same bits.
 */
export function lnGruLayer(
  tf: Tf,
  x: Tensor,
  wi: readonly Tensor[],
  bi: readonly Tensor[],
  wh: Tensor,
  bh: Tensor,
  gain: Tensor,
  bias: Tensor,
  h0: Tensor,
  L: number,
): Tensor {
  const S = h0.shape[1] as number;
  const H = h0.shape[2] as number;
  const rows = L * S;
  const inDim = x.shape[2] as number;
  if (x.rank !== 3 || x.shape[0] !== 1 || x.shape[1] !== rows || wi.length !== 3 || bi.length !== 3 || wh.shape[2] !== 3 * H || wi[0].shape[1] !== inDim) {
    throw new Error(`lnGruLayer: x [${x.shape}], wi [${wi[0]?.shape}] x ${wi.length}, wh [${wh.shape}] do not match ${L} steps of h0 [${h0.shape}]`);
  }
  const fused = (a: Tensor, w: Tensor, b: Tensor): Tensor =>
    tf.engine().runKernel('_FusedMatMul', { a, b: w, bias: b }, { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0.2 } as never) as Tensor;
  const op = tf.customGrad((...args: unknown[]) => {
    const [xA, wr, wz, wn, br, bz, bn, whA, bhA, gainA, biasA] = args as Tensor[];
    const save = args[11] as (ts: Tensor[]) => void;
    const wis = [wr, wz, wn];
    // The input side of the three gates over all steps, as blockLinear ran it.
    const pre = [0, 1, 2].map((j) => fused(xA, wis[j], [br, bz, bn][j]));
    const f = recurrenceForward(tf, pre, whA, bhA, gainA, biasA, h0, L);
    save([xA, wr, wz, wn, ...f.saved]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const [xs, ...wiS] = saved.slice(0, 4);
        const b = recurrenceBackward(tf, dy, saved.slice(4), L);
        const cat = (ts: Tensor[]) => (L === 1 ? ts[0] : tf.concat(ts, 1));
        const [dXr, dXz, dXn, dHn] = [cat(b.dxr), cat(b.dxz), cat(b.dxn), cat(b.dhn)];
        // Each gate gradient transposed once ([L, R, H] -> [L, H, R]; its blocks split along the
        // leading axis: views); dXr and dXz serve both sides. The bias gradients are sums over
        // the innermost axis of the same tensors (rows in order from 0, as blockSums, whose Sum
        // over a middle axis transposes its input first), so each is formed once.
        const whole = [dXr, dXz, dXn, dHn].map((d) => transposedWhole(tf, d, L));
        const [tr, tz, tn, thn] = whole.map((t) => (L === 1 ? [t] : tf.split(t, L, 0)));
        const [sr, sz, sn, shn] = whole.map((t) => (L === 1 ? tf.reshape(tf.sum(t, 2), [H]) : tf.sum(tf.reverse(tf.sum(t, 2), 0), 0)));
        const xBlocks = L === 1 ? [xs] : tf.split(xs, L, 1);
        const hBlocks = L === 1 ? [b.hPrev] : tf.split(b.hPrev, L, 1);
        // sum_k (last first) dz_k^T v_k: [1, H, in]; the same right operand v_k for every gate.
        const wGradT = (dzT: Tensor[], v: Tensor[]): Tensor => {
          if (L === 1) return tf.matMul(dzT[0] as never, v[0] as never);
          const parts: Tensor[] = [];
          for (let k = L - 1; k >= 0; k--) parts.push(tf.matMul(dzT[k] as never, v[k] as never));
          return tf.addN(parts);
        };
        const dWi = [tr, tz, tn].map((t) => tf.transpose(wGradT(t, xBlocks), [0, 2, 1]));
        const dBi = [sr, sz, sn];
        // [3H, H] stacked along rows (contiguous), then one transpose to [H, 3H].
        const dWh = tf.transpose(tf.concat([tr, tz, thn].map((t) => wGradT(t, hBlocks)), 1), [0, 2, 1]);
        const dBh = tf.concat([sr, sz, shn], 0);
        // x feeds three ops in the reference (gates r, z, n, recorded in that order); the tape
        // adds their input gradients in reverse recording order.
        const dxj = [dXr, dXz, dXn].map((d, j) => tf.matMul(d as never, tf.transpose(wiS[j], [0, 2, 1]) as never));
        const dx = tf.add(tf.add(dxj[2], dxj[1]), dxj[0]);
        return [dx, ...dWi, ...dBi, dWh, dBh, b.dGain, b.dBias];
      });
    return { value: f.y, gradFunc };
  });
  return op(x, wi[0], wi[1], wi[2], bi[0], bi[1], bi[2], wh, bh, gain, bias);
}

/**
 * The recurrence's forward (hidden side of the gates, gate arithmetic, LayerNorm over all
 * steps' rows) given the input side of the gates [1, L*S, H] each. `saved` is what
 * recurrenceBackward reads.
 */
function recurrenceForward(tf: Tf, xIn: Tensor[], whA: Tensor, bhA: Tensor, gainA: Tensor, biasA: Tensor, h0: Tensor, L: number): { y: Tensor; saved: Tensor[] } {
  const fused = (a: Tensor, w: Tensor, b: Tensor): Tensor =>
    tf.engine().runKernel('_FusedMatMul', { a, b: w, bias: b }, { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0.2 } as never) as Tensor;
  const [xrA, xzA, xnA] = xIn;
  const whs = tf.split(whA, 3, 2);
  const bhs = tf.split(bhA, 3);
  const xrs = L === 1 ? [xrA] : tf.split(xrA, L, 1);
  const xzs = L === 1 ? [xzA] : tf.split(xzA, L, 1);
  const xns = L === 1 ? [xnA] : tf.split(xnA, L, 1);
  let h = h0;
  const hs: Tensor[] = [];
  const kept: Tensor[] = []; // per step: r, z, hidden side of n, s = sigmoid(2a), d = h - n
  for (let k = 0; k < L; k++) {
    const r = tf.sigmoid(tf.add(xrs[k], fused(h, whs[0], bhs[0])));
    const z = tf.sigmoid(tf.add(xzs[k], fused(h, whs[1], bhs[1])));
    const hn = fused(h, whs[2], bhs[2]);
    const sg = tf.sigmoid(tf.mul(tf.add(xns[k], tf.mul(r, hn)), 2));
    const n = tf.sub(tf.mul(sg, 2), 1); // tanh(a) = 2 sigmoid(2a) - 1
    const d = tf.sub(h, n);
    h = tf.add(n, tf.mul(z, d)); // (1 - z) n + z h
    hs.push(h);
    kept.push(r, z, hn, sg, d);
  }
  const hAll = L === 1 ? hs[0] : tf.concat(hs, 1);
  const hPrev = L === 1 ? h0 : tf.concat([h0, ...hs.slice(0, L - 1)], 1);
  // LayerNorm (layerNormLast) over all steps' rows at once: row-wise, so the same values.
  const centred = tf.sub(hAll, tf.mean(hAll, -1, true));
  const inv = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
  const normed = tf.mul(centred, inv);
  const y = tf.add(tf.mul(normed, gainA), biasA);
  return { y, saved: [whA, gainA, hPrev, centred, inv, normed, ...kept] };
}

/**
 * The recurrence's backward from dy [1, L*S, H]: per step the gradients of the gates' input
 * side (dxr, dxz, dxn: those of r's and z's pre-activations and of a) and of n's hidden side
 * (dhn), the LayerNorm's dGain / dBias, and h_{k-1} of every step (hPrev [1, L*S, H]).
 */
function recurrenceBackward(
  tf: Tf,
  dy: Tensor,
  saved: Tensor[],
  L: number,
): { dxr: Tensor[]; dxz: Tensor[]; dxn: Tensor[]; dhn: Tensor[]; dGain: Tensor; dBias: Tensor; hPrev: Tensor } {
  const [whS, gainS, hPrevS, cS, invS, nS] = saved;
  const st = saved.slice(6);
  const rows = dy.shape[1] as number;
  const H = dy.shape[2] as number;
  // ---- LayerNorm backward, all rows at once (each op as its registered gradient).
  const dNormed = tf.mul(dy, gainS);
  const dGain = blockSums(tf, tf.mul(dy, nS), L);
  const dBias = blockSums(tf, dy, L);
  const dc1 = tf.mul(dNormed, invS);
  const dInv = tf.reshape(tf.sum(tf.mul(dNormed, cS), [2]), [1, rows, 1]);
  const dVar = tf.mul(dInv, tf.mul(tf.mul(tf.square(invS), invS), -0.5));
  // The registered gradients of the two means broadcast [1, rows, 1] over H columns by a
  // multiply with ones, then divide by H; the same values per element come from dividing the
  // [1, rows, 1] column and letting the next op broadcast it (x * 1 is exact): no ones tensor
  // (tfjs fills it in JS) and two [rows, H] kernels fewer. Same bits.
  const dSq = tf.div(dVar, H);
  const dc = tf.add(dc1, tf.mul(dSq, tf.mul(cS, 2)));
  const dMu = tf.reshape(tf.sum(tf.neg(dc), [2]), [1, rows, 1]);
  const dMean = tf.div(dMu, H);
  const dcs = L === 1 ? [dc] : tf.split(dc, L, 1);
  const dMeans = L === 1 ? [dMean] : tf.split(dMean, L, 1);
  // ---- GRU backward, last step first.
  const whT = tf.split(tf.transpose(whS, [0, 2, 1]), 3, 1); // [1, H, H] each: W_k^T
  const dxr: Tensor[] = new Array(L);
  const dxz: Tensor[] = new Array(L);
  const dxn: Tensor[] = new Array(L);
  const dhns: Tensor[] = new Array(L);
  let carry: Tensor | null = null; // this step's state gradient from step k + 1's gates
  for (let k = L - 1; k >= 0; k--) {
    const [r, z, hn, sg, d] = st.slice(5 * k, 5 * k + 5);
    const dh: Tensor = tf.add(carry === null ? dcs[k] : tf.add(carry, dcs[k]), dMeans[k]);
    const { dd, da, dhn, dpz, dpr } = lnGruGateGrads(tf, dh, r, z, hn, sg, d);
    dxr[k] = dpr;
    dxz[k] = dpz;
    dxn[k] = da;
    dhns[k] = dhn;
    // The gradient of h0 (data) is not needed.
    carry = k > 0 ? tf.add(tf.add(tf.add(dd, tf.matMul(dhn as never, whT[2] as never)), tf.matMul(dpz as never, whT[1] as never)), tf.matMul(dpr as never, whT[0] as never)) : null;
  }
  return { dxr, dxz, dxn, dhn: dhns, dGain, dBias, hPrev: hPrevS };
}

/** LayerNorm over the last axis with gain [H] and bias [H] (eps 1e-5, as GRUCell.output). */
export function layerNormLast(tf: Tf, x: Tensor, gain: Tensor, bias: Tensor): Tensor {
  return tf.tidy(() => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), gain), bias);
  });
}

/** Group g's LayerNorm gain and bias of `cell` ([H] each), or null without LayerNorm. */
export function layerNormWeights(tf: Tf, cell: GRUCell, g: number, pieces: GroupPieces = new GroupPieces(tf, cell.groups)): { gain: Tensor; bias: Tensor } | null {
  if (!cell.lnWeight || !cell.lnBias) return null;
  return { gain: pieces.get(cell.lnWeight, g), bias: pieces.get(cell.lnBias, g) };
}

/**
 * Hidden states of `cell` over S sequences of L steps per group: e [G, L*S, in] (rows
 * [step][sequence] within each group), h0 [G*S*H] on the CPU ([group][sequence][unit]).
 * Returns h_1..h_L as [G, L*S, H] in the same row order (raw states). The building blocks
 * above in their simplest arrangement; trainers with CPU-side inputs call them per step
 * instead, so that no large activation has to be split (see algos/mappo.ts).
 */
export function gruChunks(tf: Tf, cell: GRUCell, e: Tensor, h0: Float32Array, L: number, S: number): Tensor {
  const G = cell.groups;
  const H = cell.hiddenSize;
  const I = cell.inputSize;
  const es = e.shape as number[];
  if (e.rank !== 3 || es[0] !== G || es[1] !== L * S || es[2] !== I) {
    throw new Error(`gruChunks: input shape [${e.shape}] does not match [${G}, ${L * S}, ${I}]`);
  }
  if (h0.length !== G * S * H) throw new Error(`gruChunks: h0 must hold ${G * S * H} values, got ${h0.length}`);
  return tf.tidy(() => {
    const outs: Tensor[] = [];
    const pieces = new GroupPieces(tf, G);
    for (let g = 0; g < G; g++) {
      const w = gateWeights(tf, cell, g, pieces);
      const x = pieces.get(e, g);
      const xs = L === 1 ? [x] : tf.split(x, L, 1);
      let h: Tensor = tf.tensor3d(h0.subarray(g * S * H, (g + 1) * S * H), [1, S, H]);
      const hs: Tensor[] = [];
      for (let k = 0; k < L; k++) {
        h = gateStep(tf, w, xs[k], h);
        hs.push(h);
      }
      outs.push(L === 1 ? hs[0] : concatDiff(tf, hs, 1));
    }
    return G === 1 ? outs[0] : concatDiff(tf, outs, 0);
  });
}

/**
 * One step's gate derivatives of the LayerNorm GRU from the state gradient dh, with the
 * registered gradients' own ops in their order (so the per-group and all-groups paths,
 * nn/ppo-kernel.ts, keep the taped reference's bits): dd flows to the previous state directly,
 * da / dhn / dpz / dpr are the candidate's, the reset-scaled hidden's and the two gates'
 * pre-activation gradients.
 */
export function lnGruGateGrads(tf: Tf, dh: Tensor, r: Tensor, z: Tensor, hn: Tensor, sg: Tensor, d: Tensor) {
  const dz = tf.mul(dh, d);
  const dd: Tensor = tf.mul(dh, z);
  const dn = tf.add(dh, tf.neg(dd));
  const da = tf.mul(tf.mul(tf.mul(dn, 2), tf.mul(sg, tf.sub(1, sg))), 2);
  const dr = tf.mul(da, hn);
  const dhn = tf.mul(da, r);
  const dpz = tf.mul(dz, tf.mul(z, tf.sub(1, z)));
  const dpr = tf.mul(dr, tf.mul(r, tf.sub(1, r)));
  return { dd, da, dhn, dpz, dpr };
}
