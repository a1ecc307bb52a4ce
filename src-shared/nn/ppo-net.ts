/**
 * The PPO learners' network (MAPPO, IPPO and the exploration baselines): CNN -> MLP -> MLP ->
 * LayerNorm GRU -> head in G parameter groups, with its batched training forward and the
 * per-step reference it is checked against. Moved out of algos/ppo-trainer.ts so the trainer
 * reads as the PPO update; the reasons for each kernel choice are at the functions.
 * On wasm-blas (a host gemm set) the GRU runs on it and the gate kernel in the update
 * (lnGruLayerHost) and in the rollout step (gruStepHost): nn/ppo-gru-host.ts, issue-15q.
 */
import { concatDiff } from './conv';
import { GRUCell } from './gru';
import { blockLinear, gateStep, gateWeights, GroupPieces, layerNormWeights, layerNormLast, lnGruLayer, lnGruSequence, ppoStaging, uploadTransposedBlocks } from './ppo-gru';
import { Linear, groupedLinear, type Activation } from './mlp';
import { kernelHostGemm } from './gru-simd';
import { gruStepHost } from './ppo-gru-host';
import { lnGruLayerGroups, ppoHeadGroups, ppoHeadInfer, ppoKernel, ppoKernelOn, ppoTrunkGroups, ppoTrunkInfer, type TrunkParams, type TrunkShape } from './ppo-kernel';
import { ParamSet } from './params';
import { assignConstant, assignOrthogonal } from './ppo';
import type { Tensor, Tf } from './tf';
import type { Rng } from '../rng';

/** Shape of one network input row: P patches of K values (the CNN's input) and E extras. */
export interface InputShape {
  readonly P: number;
  readonly K: number;
  readonly E: number;
}

/**
 * Which training forward PpoNet.sequence runs: the batched one (default) or, with `reference`
 * set, the per-step network it replaced (sequenceReference). Both give the same bits; the
 * switch exists for `cairn bench --ab-ppo`, which times the two alternately on one trainer.
 */
export const ppoSequencePath = { reference: false };

/**
 * CNN -> MLP -> MLP -> GRU (LayerNorm output) -> linear head, in G groups (G = 1 shared,
 * G = N one network per agent; nn/mlp.ts). Parameters: conv, fc1, fc2, gru, head.
 */
export class PpoNet {
  readonly params: ParamSet;
  readonly conv: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly gru: GRUCell | null;
  readonly head: Linear;
  readonly C: number;

  constructor(
    private readonly tf: Tf,
    readonly shape: InputShape,
    readonly groups: number,
    readonly hidden: number,
    readonly outputs: number,
    readonly activation: Activation,
    outputGain: number,
    rng: Rng,
    /** false: an MLP (no GRU, a first layer of `hidden` units); the 'features' variants. */
    readonly recurrent = true,
  ) {
    const G = groups;
    const H = hidden;
    this.C = recurrent ? H / 2 : H;
    this.params = new ParamSet(tf);
    this.conv = new Linear(tf, this.params, 'conv', shape.K, this.C, G, rng);
    this.fc1 = new Linear(tf, this.params, 'fc1', shape.P * this.C + shape.E, H, G, rng);
    this.fc2 = new Linear(tf, this.params, 'fc2', H, H, G, rng);
    this.gru = recurrent ? new GRUCell(tf, this.params, 'gru', { inputSize: H, hiddenSize: H, groups: G, layerNorm: true }, rng) : null;
    this.head = new Linear(tf, this.params, 'head', H, outputs, G, rng);
    // Orthogonal init with zero biases (MAPPO's use_orthogonal); see the file header.
    const gain = activation === 'relu' ? Math.SQRT2 : 1;
    for (const layer of [this.conv, this.fc1, this.fc2]) {
      assignOrthogonal(tf, layer.weight, rng, gain);
      assignConstant(tf, layer.bias, 0);
    }
    if (this.gru) {
      assignOrthogonal(tf, this.gru.weightIh, rng, 1);
      assignOrthogonal(tf, this.gru.weightHh, rng, 1);
      assignConstant(tf, this.gru.biasIh, 0);
      assignConstant(tf, this.gru.biasHh, 0);
    }
    assignOrthogonal(tf, this.head.weight, rng, outputGain);
    assignConstant(tf, this.head.bias, 0);
  }

  /** Inference: CNN and MLPs, patches [G, R*P, K], extras [G, R, E] or null -> [G, R, H]. */
  private features(patches: Tensor, extras: Tensor | null, R: number): Tensor {
    const tf = this.tf;
    const act = this.activation;
    return tf.tidy(() => {
      let f = tf.reshape(this.conv.infer(patches, act), [this.groups, R, this.shape.P * this.C]);
      if (extras) f = tf.concat([f, extras], 2);
      return this.fc2.infer(this.fc1.infer(f, act), act);
    });
  }

  /** The GRU's rollout step: on wasm-blas the host gemm and gate kernel (gruStepHost, other rounding), elsewhere GRUCell.stepRows. */
  private gruStep(x: Tensor, hPrev: Float32Array, hNext: Float32Array): Tensor {
    const gemm = kernelHostGemm();
    return gemm && ppoKernel.hostGates ? gruStepHost(this.tf, gemm, this.gru!, x, hPrev, hNext) : this.gru!.stepRows(x, hPrev, hNext);
  }

  /**
   * One rollout step for R rows per group (not differentiable): reads hPrev, writes hNext
   * ([G * R, H] on the CPU). Returns the head outputs [G * R, outputs], read back once.
   */
  step(patches: Tensor, extras: Tensor | null, R: number, hPrev: Float32Array, hNext: Float32Array): Float32Array {
    const tf = this.tf;
    let out!: Float32Array;
    if (this.gru && this.activation === 'relu' && ppoKernel.layers && ppoKernelOn(tf)) {
      // The trunk and head in the wasm kernel (nn/ppo-kernel.ts; the same bits), the GRU step
      // and its LayerNorm as before.
      const gru = this.gru;
      tf.tidy(() => {
        const x = ppoTrunkInfer(tf, this.trunkShape(), this.trunkParams(), patches, extras, R);
        out = ppoHeadInfer(tf, gru.output(this.gruStep(x, hPrev, hNext)), this.head.weight, this.head.bias);
      });
      return out;
    }
    tf.tidy(() => {
      const x = this.features(patches, extras, R);
      const y = this.gru ? this.gru.output(this.gruStep(x, hPrev, hNext)) : x;
      out = this.head.infer(y).dataSync() as Float32Array;
    });
    return out;
  }

  private trunkShape(): TrunkShape {
    return { G: this.groups, ...this.shape, C: this.C, H: this.hidden };
  }

  private trunkParams(): TrunkParams {
    return { convW: this.conv.weight, convB: this.conv.bias, fc1W: this.fc1.weight, fc1B: this.fc1.bias, fc2W: this.fc2.weight, fc2B: this.fc2.bias };
  }

  private scratchBuf = new Float32Array(0);
  /** Reused CPU scratch of at least n values (staging only: `upload` copies out of it). */
  private scratch(n: number): Float32Array {
    if (this.scratchBuf.length < n) this.scratchBuf = new Float32Array(n);
    return this.scratchBuf;
  }

  /** Group g's weight [1, in, out] and bias [out] of a layer (pieces of one split when G > 1). */
  private groupLayer(layer: Linear, g: number, pieces: GroupPieces): { w: Tensor; b: Tensor } {
    return { w: pieces.get(layer.weight, g), b: pieces.get(layer.bias, g) };
  }

  /**
   * Training forward over S sequences of L steps per group, each from its stored hidden state.
   * Inputs come from CPU arrays laid out [group][step][sequence]: patches (P * K per row),
   * extras (E per row), h0 [G * S * H]. Returns the head outputs [G, L*S, outputs] in the same
   * row order, differentiable w.r.t. the parameters.
   *
   * Per group, the feed-forward layers (conv, fc1, fc2) and the input side of the GRU gates run
   * ONCE over all L*S rows (blockLinear, and lnGruLayer for the gates: one matmul each, weight
   * gradients summed in the per-step order); only the recurrent part (the hidden side of the
   * gates, LayerNorm and head, whose gradients the tape accumulates step by step into h) runs
   * per step, on views of the batched activations (Slice/SplitV read views on wasm).
   * `sequenceReference` is the per-step network this replaces; both give the same bits.
   */
  sequence(patches: Float32Array, extras: Float32Array, h0: Float32Array, L: number, S: number): Tensor {
    if (ppoSequencePath.reference) return this.sequenceReference(patches, extras, h0, L, S);
    const tf = this.tf;
    const { P, K, E } = this.shape;
    const { C, hidden: H, activation: act } = this;
    const rows = L * S;
    // On the wasm kernel the GRU layer runs once over all groups (lnGruLayerGroups): the
    // feed-forward layers run per group first, the head per group after.
    const batched = this.gru !== null && !ppoStaging.legacy && ppoKernelOn(tf);
    // And the feed-forward layers too, as one op each over all groups (relu only: the other
    // activations run per group).
    if (batched && ppoKernel.layers && act === 'relu') {
      return tf.tidy(() => {
        const x = ppoTrunkGroups(tf, this.trunkShape(), this.trunkParams(), patches, extras, L, S);
        const y = lnGruLayerGroups(tf, x, this.gru!, h0, L, S);
        return ppoHeadGroups(tf, y, this.head.weight, this.head.bias, L, S);
      });
    }
    return tf.tidy(() => {
      const outs: Tensor[] = [];
      const xs: Tensor[] = [];
      const pieces = new GroupPieces(tf, this.groups);
      for (let g = 0; g < this.groups; g++) {
        const conv = this.groupLayer(this.conv, g, pieces);
        const fc1 = this.groupLayer(this.fc1, g, pieces);
        const fc2 = this.groupLayer(this.fc2, g, pieces);
        const head = this.groupLayer(this.head, g, pieces);
        const q0 = g * rows;
        const p = tf.tensor3d(patches.subarray(q0 * P * K, (q0 + rows) * P * K), [1, rows * P, K]);
        // The conv's weight gradient reads the patches transposed per step: written from the CPU
        // rows here (the patches are data) instead of a Transpose kernel of the largest operand
        // of the update (the state critic's 16 patches per row), with a row of ones whose
        // product is the bias gradient (uploadTransposedBlocks).
        const pT = ppoStaging.legacy ? undefined : uploadTransposedBlocks(tf, patches, q0 * P * K, L, S * P, K, this.scratch(S * P * (K + 1)), true);
        let f = tf.reshape(blockLinear(tf, p, conv.w, conv.b, act, false, L, pT), [1, rows, P * C]);
        if (E > 0) f = concatDiff(tf, [f, tf.tensor3d(extras.subarray(q0 * E, (q0 + rows) * E), [1, rows, E])], 2);
        const x = blockLinear(tf, blockLinear(tf, f, fc1.w, fc1.b, act, true, L), fc2.w, fc2.b, act, true, L);
        if (batched) {
          xs.push(x);
          continue;
        }
        const cell = this.gru;
        if (!cell) {
          // The MLP variant: the head reads fc2's output; no recurrent part.
          outs.push(blockLinear(tf, x, head.w, head.b, 'linear', true, L));
          continue;
        }
        const ln = layerNormWeights(tf, cell, g, pieces)!;
        const { wi, wh, bi, bh } = this.gruGroup(cell, g, pieces);
        const h0t = tf.tensor3d(h0.subarray(g * S * H, (g + 1) * S * H), [1, S, H]);
        let y: Tensor;
        if (ppoStaging.legacy) {
          // Input side of the gates r, z, n, each over all steps (the order the tape saw them).
          const [xr, xz, xn] = [0, 1, 2].map((k) => blockLinear(tf, x, wi[k], bi[k], 'linear', true, L));
          y = lnGruSequence(tf, xr, xz, xn, wh, bh, ln.gain, ln.bias, h0t, L);
        } else y = lnGruLayer(tf, x, wi, bi, wh, bh, ln.gain, ln.bias, h0t, L);
        outs.push(blockLinear(tf, y, head.w, head.b, 'linear', true, L));
      }
      if (batched) {
        const yAll = lnGruLayerGroups(tf, xs, this.gru!, h0, L, S);
        const ys = this.groups === 1 ? [yAll] : tf.split(yAll, this.groups, 0);
        for (let g = 0; g < this.groups; g++) {
          const head = this.groupLayer(this.head, g, pieces);
          outs.push(blockLinear(tf, ys[g], head.w, head.b, 'linear', true, L));
        }
      }
      return this.groups === 1 ? outs[0] : concatDiff(tf, outs, 0);
    });
  }

  /**
   * Group g's GRU weights: the input side per gate ([1, in, H] and biases [H], so that each
   * gate's input projection is its own matmul, as in the reference) and the hidden side whole
   * ([1, H, 3H], [3H]). Cut from the group's piece of one split (GroupPieces), never sliced
   * from the whole [G, ...] variable: a Slice's gradient is padded to the whole variable.
   */
  private gruGroup(cell: GRUCell, g: number, pieces: GroupPieces): { wi: Tensor[]; bi: Tensor[]; wh: Tensor; bh: Tensor } {
    const tf = this.tf;
    return {
      wi: tf.split(pieces.get(cell.weightIh, g), 3, 2),
      bi: tf.split(pieces.get(cell.biasIh, g), 3, 0),
      wh: pieces.get(cell.weightHh, g),
      bh: pieces.get(cell.biasHh, g),
    };
  }

  /**
   * The per-step network `sequence` replaced, kept as the reference it is checked against
   * (test/algos/ppo-sequence.test.ts): each (group, step) block of S rows is uploaded as its
   * own tensor and run through the whole network with that group's weights.
   */
  sequenceReference(patches: Float32Array, extras: Float32Array, h0: Float32Array, L: number, S: number): Tensor {
    const tf = this.tf;
    const { P, K, E } = this.shape;
    const { C, hidden: H, activation: act } = this;
    return tf.tidy(() => {
      const outs: Tensor[] = [];
      const pieces = new GroupPieces(tf, this.groups);
      for (let g = 0; g < this.groups; g++) {
        const conv = this.groupLayer(this.conv, g, pieces);
        const fc1 = this.groupLayer(this.fc1, g, pieces);
        const fc2 = this.groupLayer(this.fc2, g, pieces);
        const head = this.groupLayer(this.head, g, pieces);
        const gru = this.gru;
        const gates = gru ? gateWeights(tf, gru, g, pieces) : null;
        const ln = gru ? layerNormWeights(tf, gru, g, pieces)! : null;
        let h: Tensor | null = gru ? tf.tensor3d(h0.subarray(g * S * H, (g + 1) * S * H), [1, S, H]) : null;
        const ys: Tensor[] = [];
        for (let k = 0; k < L; k++) {
          const q0 = (g * L + k) * S;
          const p = tf.tensor3d(patches.subarray(q0 * P * K, (q0 + S) * P * K), [1, S * P, K]);
          let f = tf.reshape(groupedLinear(tf, p, conv.w, conv.b, act, false), [1, S, P * C]);
          if (E > 0) f = concatDiff(tf, [f, tf.tensor3d(extras.subarray(q0 * E, (q0 + S) * E), [1, S, E])], 2);
          const x = groupedLinear(tf, groupedLinear(tf, f, fc1.w, fc1.b, act), fc2.w, fc2.b, act);
          if (gates && ln && h) {
            h = gateStep(tf, gates, x, h);
            ys.push(groupedLinear(tf, layerNormLast(tf, h, ln.gain, ln.bias), head.w, head.b));
          } else ys.push(groupedLinear(tf, x, head.w, head.b));
        }
        outs.push(L === 1 ? ys[0] : concatDiff(tf, ys, 1));
      }
      return this.groups === 1 ? outs[0] : concatDiff(tf, outs, 0);
    });
  }
}

