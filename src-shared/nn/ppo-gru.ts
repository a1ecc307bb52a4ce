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
 */
import { concatDiff } from './conv';
import type { GRUCell } from './gru';
import { groupedLinear } from './mlp';
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
