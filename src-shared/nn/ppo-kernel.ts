/**
 * PpoNet's GRU layer over all its G parameter groups at once (lnGruLayerGroups), with the
 * layer's matmuls in the float32 SIMD wasm kernel of nn/wasm/gru-gates.as.ts (`matmul`, loaded by
 * nn/gru-simd.ts) instead of tfjs-wasm's MatMul / _FusedMatMul: the same bits as lnGruLayer per
 * group (nn/ppo-gru.ts), with fewer tfjs kernels (issue 15, wt-15i).
 *
 * Why: IPPO's networks have one group per agent, and tfjs-wasm runs a matmul with a batch of
 * G > 1 through its generic loop (slow, and summing in other blocks), so every per-step op of
 * the recurrence ran once per group. The gate arithmetic and the LayerNorm are row-wise, so they
 * can run once over all groups' rows if the per-group matmuls write side by side into one
 * tensor: the kernel does exactly that (its output is a pointer), and a [G, S, H] upload of its
 * memory is one copy. So per chunk step the ~40 elementwise kernels run once instead of G times,
 * the hidden state is gathered without concats, and the weights' gradients come out whole
 * ([G, ...], no per-group pieces, splits or concats on the tape). In process-CPU terms the
 * kernel's matmul is about as fast as XNNPACK's here (~18 GFLOP/s each in a layer benchmark on
 * the loaded machine), so what is saved is tfjs's per-kernel cost, packing, transposes and
 * concats as kernels: IPPO 81k -> 57k kernel calls per round, MAPPO 36.5k -> 31k
 * (docs/performance.md, "issue-15i").
 *
 * Same bits: the kernel sums every output from its bias (or 0) in ascending k with separate
 * float32 multiply and add, as XNNPACK's GEMM does (test/nn/gru-simd.test.ts checks that
 * against tfjs bit for bit; long K is blocked, the partial sums round-trip through float32
 * memory, which is exact). Every product keeps its operands and its order:
 * - forward: x W_ij + b_ij and h W_hj + b_hj per gate and group, as the _FusedMatMul calls did;
 * - the state's gradient: dz_j W_hj^T per gate, added by the same tfjs Add kernels as before;
 * - weight gradients per step block k: dW^T = dz_k^T x_k (the products x[r, i] dz[r, j] summed
 *   over the block's rows from row 0, as the tape's x_k^T dz_k; a * b = b * a exactly), with
 *   dz_k^T written by the kernel's columnsT and x_k / h_{k-1} read in place (issue-15f; before,
 *   x_k was transposed in JS with a row of ones), the blocks added last first in float32
 *   (addF32: AddN's order); the bias gradients as columnsT's column sums (float32 from 0 in row
 *   order: the stock Sum's order and bytes), the blocks added last first (the leading-axis
 *   Sum's order);
 * - the input gradient: dX_j W_ij^T per gate, added (dx_n + dx_z) + dx_r in float32 (addF32).
 *
 * Since issue-15f the feed-forward layers around it run the same way (ppoTrunkGroups: conv,
 * fc1, fc2; ppoHeadGroups: the head; and their rollout forms ppoTrunkInfer / ppoHeadInfer), so
 * PpoNet.sequence on wasm is three ops for all groups: trunk, GRU layer, head.
 * Checked by test/algos/ppo-sequence.test.ts (against the per-step reference, G = 1 and 2, and
 * at MAPPO's and IPPO's sizes against the legacy staging byte for byte, both ways of the
 * switch) and the golden series.
 *
 * Only on the wasm backend, where those are tfjs's bits; elsewhere (cpu, tfjs-node, webgl)
 * PpoNet runs lnGruLayer per group. `ppoKernel.matmul = false` does that on wasm too (the path
 * before; bench A/B and checks).
 * On wasm-blas (a host gemm set: kernelHostGemm) lnGruLayerGroups hands the layer to
 * lnGruLayerHost (nn/ppo-gru-host.ts: the gate kernel's fused gates and whole-operand gemms,
 * other rounding) unless `ppoKernel.hostGates` is false; on wasm it never does (issue-15q).
 *
 * The kernel's memory is shared by every user in the process and laid out per call
 * (gru-simd.ts): the forward and the backward each lay out what they need when they start and
 * use it only until they return (no other kernel user runs in between).
 */
import { gateKernel, kernelHostGemm } from './gru-simd';
import { layerNormOut, layerOpArgs, lnGruLayerHost } from './ppo-gru-host';
import type { GRUCell } from './gru';
import { blockSums, lnGruGateGrads } from './ppo-gru';
import { readInto, upload } from './tensor-io';
import type { Tensor, Tf } from './tf';

/**
 * Bench and check switches (same bits either way): `matmul` false = lnGruLayer per group with
 * tfjs's matmuls (the path before issue-15i); `layers` false = the feed-forward layers (conv,
 * fc1, fc2, head) per group on tfjs (blockLinear, the path before issue-15f), the GRU layer
 * still all groups at once. `hostGates` (wasm-blas only, other rounding): false = the GRU layer
 * as lnGruLayerGroups' per-step tfjs ops there too, true = lnGruLayerHost (nn/ppo-gru-host.ts).
 */
export const ppoKernel = { matmul: true, layers: true, hostGates: true };

/** Whether PpoNet's GRU layer runs as lnGruLayerGroups here (the same bits only on wasm). */
export function ppoKernelOn(tf: Tf): boolean {
  return ppoKernel.matmul && tf.getBackend() === 'wasm';
}

/** w [rows][cols] (row-major) transposed into dst [cols][rows]. */
function transposeInto(w: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let i = 0; i < rows; i++) {
    const s = i * cols;
    for (let j = 0, d = i; j < cols; j++, d += rows) dst[d] = w[s + j];
  }
}

/**
 * Sum of t [G, L*S, n] over each group's rows, as [G * n]: per group, each block of S rows
 * summed from row 0 (float32) and the block sums added last block first, i.e. blockSums per
 * group (G = 1: blockSums itself).
 */
function groupBlockSums(tf: Tf, t: Tensor, G: number, L: number): Tensor {
  const n = t.shape[2] as number;
  if (G === 1) return blockSums(tf, t, L);
  const S = (t.shape[1] as number) / L;
  if (L === 1) return tf.reshape(tf.sum(t, 1), [G * n]);
  const perBlock = tf.sum(tf.reshape(t, [G, L, S, n]), 2);
  return tf.reshape(tf.sum(tf.reverse(perBlock, 1), 1), [G * n]);
}

/**
 * The GRU layer of PpoNet over ALL its G groups at once (IPPO: one per agent): xs[g] [1, L*S,
 * in] -> the LayerNorm outputs [G, L*S, H] (rows [group][step][sequence]), from the cell's
 * whole variables (no per-group pieces). Values and gradients are lnGruLayer's per group, bit
 * for bit: every matmul stays per group (in the kernel, written side by side into one buffer),
 * and the gate arithmetic and LayerNorm, which are row-wise, run once over the G groups' rows
 * ([G, S, H] per step) instead of once per group: half of IPPO's per-step kernels.
 */
export function lnGruLayerGroups(tf: Tf, xIn: readonly Tensor[] | Tensor, cell: GRUCell, h0: Float32Array, L: number, S: number): Tensor {
  // One [G, L*S, in] tensor (ppoTrunkGroups' output) stands for its G groups' rows: the same
  // values, read with one copy, and its gradient comes back as one tensor.
  const stacked = !Array.isArray(xIn);
  const xs: readonly Tensor[] = stacked ? [xIn as Tensor] : (xIn as readonly Tensor[]);
  const G = stacked ? ((xIn as Tensor).shape[0] as number) : xs.length;
  const H = cell.hiddenSize;
  const inDim = cell.inputSize;
  const rows = L * S;
  const n = S * H;
  const gn = G * n;
  if (G !== cell.groups || !cell.lnWeight || !cell.lnBias || h0.length !== gn || xs.some((x) => x.rank !== 3 || x.shape[0] !== (stacked ? G : 1) || x.shape[1] !== rows || x.shape[2] !== inDim)) {
    throw new Error(`lnGruLayerGroups: ${G} inputs [${xs[0]?.shape}] and h0 of ${h0.length} values do not match ${cell.groups} groups of ${L} x ${S} rows, in ${inDim}, H ${H} (LayerNorm needed)`);
  }
  // On wasm-blas (a host gemm set) the whole recurrence in the gate kernel and BLAS: other
  // rounding, so never on wasm, whose bits the goldens pin.
  const hostGemm = kernelHostGemm();
  if (hostGemm && ppoKernel.hostGates) return lnGruLayerHost(tf, hostGemm, xIn, cell, h0, L, S);
  const wBytes = (g: number, j: number, d: number) => ((g * 3 + j) * d * H) << 2;
  /** w [G][d][3H] (row-major) into dst as [G][3][d][H]; `transpose`: [G][3][H][d] (W_j^T). */
  const stageW = (w: Float32Array, d: number, dst: Float32Array, transpose: boolean): void => {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < 3; j++) {
        const o = (g * 3 + j) * d * H;
        for (let i = 0; i < d; i++) {
          const s = g * d * 3 * H + i * 3 * H + j * H;
          if (transpose) for (let c = 0; c < H; c++) dst[o + c * d + i] = w[s + c];
          else dst.set(w.subarray(s, s + H), o + i * H);
        }
      }
    }
  };
  const op = tf.customGrad((...args: unknown[]) => {
    const nx = xs.length;
    const { xs: xsA, params: [wiV, biV, whV, bhV, lnwV, lnbV], save } = layerOpArgs(args, nx);
    const K = gateKernel();
    const [pWi, pBi, pWh, pBh, pX, pPre, pHb, pOut, pAll] = K.layout(G * 3 * inDim * H, G * 3 * H, G * 3 * H * H, G * 3 * H, G * rows * inDim, 3 * L * gn, gn, 3 * gn, G * rows * H);
    stageW(wiV.dataSync() as Float32Array, inDim, K.f32(pWi, G * 3 * inDim * H), false);
    stageW(whV.dataSync() as Float32Array, H, K.f32(pWh, G * 3 * H * H), false);
    K.f32(pBi, G * 3 * H).set(biV.dataSync() as Float32Array);
    K.f32(pBh, G * 3 * H).set(bhV.dataSync() as Float32Array);
    if (stacked) readInto(tf, xsA[0], K.f32(pX, G * rows * inDim));
    else for (let g = 0; g < G; g++) readInto(tf, xsA[g], K.f32(pX + ((g * rows * inDim) << 2), rows * inDim));
    // Input side of the gates, per (gate, step) as [G, S, H]: group g's block of step k.
    const pre: Tensor[][] = [[], [], []];
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < L; k++) {
        const o = pPre + (((j * L + k) * gn) << 2);
        for (let g = 0; g < G; g++) K.k.matmul(S, inDim, H, pX + ((g * rows + k * S) * inDim << 2), pWi + wBytes(g, j, inDim), pBi + ((g * 3 + j) * H << 2), o + ((g * n) << 2), 0);
        pre[j].push(upload(tf, K.f32(o, gn), [G, S, H]));
      }
    }
    const hb = K.f32(pHb, gn);
    const all = K.f32(pAll, G * rows * H);
    const h0t = upload(tf, h0, [G, S, H]);
    let h = h0t;
    const kept: Tensor[] = []; // per step: r, z, hidden side of n, s = sigmoid(2a), d = h - n
    for (let k = 0; k < L; k++) {
      if (k === 0) hb.set(h0);
      else readInto(tf, h, hb);
      const gh = [0, 1, 2].map((j) => {
        for (let g = 0; g < G; g++) K.k.matmul(S, H, H, pHb + ((g * n) << 2), pWh + wBytes(g, j, H), pBh + ((g * 3 + j) * H << 2), pOut + ((j * gn + g * n) << 2), 0);
        return upload(tf, K.f32(pOut + ((j * gn) << 2), gn), [G, S, H]);
      });
      // The ops of recurrenceForward (nn/ppo-gru.ts), on all groups' rows.
      const r = tf.sigmoid(tf.add(pre[0][k], gh[0]));
      const z = tf.sigmoid(tf.add(pre[1][k], gh[1]));
      const hn = gh[2];
      const sg = tf.sigmoid(tf.mul(tf.add(pre[2][k], tf.mul(r, hn)), 2));
      const nt = tf.sub(tf.mul(sg, 2), 1);
      const d = tf.sub(h, nt);
      h = tf.add(nt, tf.mul(z, d));
      kept.push(r, z, hn, sg, d);
      readInto(tf, h, hb);
      for (let g = 0; g < G; g++) all.set(hb.subarray(g * n, (g + 1) * n), (g * L + k) * n);
    }
    const hAll = upload(tf, all, [G, rows, H]);
    const { gainR, centred, inv, normed, y } = layerNormOut(tf, hAll, lnwV, lnbV, G, H);
    save([...xsA, wiV, whV, gainR, hAll, centred, inv, normed, ...kept]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const xsS = saved.slice(0, nx);
        const [wiS, whS, gainS, hAllS, cS, invS, nS] = saved.slice(nx, nx + 7);
        const st = saved.slice(nx + 7);
        const inW = Math.max(inDim, H);
        const [pWiT, pWhT, pA, pR, pXb, pAllb, pDc, pDz, pT, pP, pDx, pAX, pAH, pB4, pS4, pH0, pDxAll] = K.layout(
          G * 3 * H * inDim, G * 3 * H * H, gn, 3 * gn, G * rows * inDim, G * rows * H, 2 * G * rows * H, 4 * L * gn, 4 * H * S, inW * H, 3 * rows * inDim,
          G * 3 * H * inDim, G * 3 * H * H, G * 4 * H, 4 * H, gn, stacked ? G * rows * inDim : 0,
        );
        stageW(wiS.dataSync() as Float32Array, inDim, K.f32(pWiT, G * 3 * H * inDim), true);
        stageW(whS.dataSync() as Float32Array, H, K.f32(pWhT, G * 3 * H * H), true);
        // ---- LayerNorm backward over all rows (the ops of recurrenceBackward).
        const dNormed = tf.mul(dy, gainS);
        const dGain = groupBlockSums(tf, tf.mul(dy, nS), G, L);
        const dBias = groupBlockSums(tf, dy, G, L);
        const dc1 = tf.mul(dNormed, invS);
        const dInv = tf.reshape(tf.sum(tf.mul(dNormed, cS), [2]), [G, rows, 1]);
        const dVar = tf.mul(dInv, tf.mul(tf.mul(tf.square(invS), invS), -0.5));
        const dSq = tf.div(dVar, H);
        const dc = tf.add(dc1, tf.mul(dSq, tf.mul(cS, 2)));
        const dMu = tf.reshape(tf.sum(tf.neg(dc), [2]), [G, rows, 1]);
        const dMean = tf.div(dMu, H); // [G, rows, 1], broadcast by the Add that reads it
        // Per step pieces of dc [G, S, H] and dMean [G, S, 1] (group g's block k of each).
        const dcv = readInto(tf, dc, K.f32(pDc, G * rows * H));
        const dmv = readInto(tf, dMean, K.f32(pDc + ((G * rows * H) << 2), G * rows));
        const stepOf = (v: Float32Array, k: number, w: number): Tensor => {
          const a = K.f32(pA, G * S * w);
          for (let g = 0; g < G; g++) a.set(v.subarray((g * L + k) * S * w, (g * L + k + 1) * S * w), g * S * w);
          return upload(tf, a, [G, S, w]);
        };
        const mm = (a: Tensor, j: number): Tensor => {
          readInto(tf, a, K.f32(pA, gn));
          for (let g = 0; g < G; g++) K.k.matmul(S, H, H, pA + ((g * n) << 2), pWhT + wBytes(g, j, H), 0, pR + ((j * gn + g * n) << 2), 0);
          return upload(tf, K.f32(pR + ((j * gn) << 2), gn), [G, S, H]);
        };
        const dzAt = (gate: number, k: number, g: number) => pDz + (((gate * L + k) * gn + g * n) << 2);
        let carry: Tensor | null = null;
        for (let k = L - 1; k >= 0; k--) {
          const [r, z, hn, sg, d] = st.slice(5 * k, 5 * k + 5);
          const dck = stepOf(dcv, k, H);
          const dmk = stepOf(dmv, k, 1);
          const dh: Tensor = tf.add(carry === null ? dck : tf.add(carry, dck), dmk);
          const { dd, da, dhn, dpz, dpr } = lnGruGateGrads(tf, dh, r, z, hn, sg, d);
          [dpr, dpz, da, dhn].forEach((t, gate) => readInto(tf, t, K.f32(dzAt(gate, k, 0), gn)));
          carry = k > 0 ? tf.add(tf.add(tf.add(dd, mm(dhn, 2)), mm(dpz, 1)), mm(dpr, 0)) : null;
        }
        // ---- weight and bias gradients per group, per step block, blocks added last first.
        const X = K.f32(pXb, G * rows * inDim);
        if (stacked) readInto(tf, xsS[0], X);
        else for (let g = 0; g < G; g++) readInto(tf, xsS[g], X.subarray(g * rows * inDim, (g + 1) * rows * inDim));
        // h_{k-1} of the blocks k > 0 (the forward's states), h0 of the blocks k = 0.
        readInto(tf, hAllS, K.f32(pAllb, G * rows * H));
        K.f32(pH0, gn).set(h0);
        // Per group and step block k (last first): dz^T of the four gate gradients (r, z, a, hn)
        // with their column sums (columnsT: float32, row 0 first, the stock Sum's order), then
        // dW^T = dz_k^T v_k with v_k = x_k (input side, gates r z a) or h_{k-1} (hidden side, r z
        // hn; h0 for k = 0), read in place: the products x[r, i] dz[r, j] over the block's rows
        // from row 0, as x_k^T dz_k (a * b = b * a exactly). The blocks are added last first in
        // float32 (addF32: AddN's order); the last block's results go straight to the sums.
        const prodB = pP;
        for (let g = 0; g < G; g++) {
          for (let k = L - 1; k >= 0; k--) {
            const last = k === L - 1;
            for (let q = 0; q < 4; q++) {
              const acc = pB4 + (((g * 4 + q) * H) << 2);
              const sums = last ? acc : pS4 + ((q * H) << 2);
              K.f32(sums, H).fill(0);
              K.k.columnsT(S, H, dzAt(q, k, g), 0, pT + ((q * H * S) << 2), sums, 0);
              if (!last) K.k.addF32(H, acc, acc, sums);
            }
            const xk = pXb + (((g * rows + k * S) * inDim) << 2);
            const hk = k === 0 ? pH0 + ((g * n) << 2) : pAllb + (((g * L + k - 1) * n) << 2);
            for (let j = 0; j < 3; j++) {
              const ax = pAX + (((g * 3 + j) * H * inDim) << 2);
              K.k.matmul(H, S, inDim, pT + ((j * H * S) << 2), xk, 0, last ? ax : prodB, 0);
              if (!last) K.k.addF32(H * inDim, ax, ax, prodB);
              const ah = pAH + (((g * 3 + j) * H * H) << 2);
              K.k.matmul(H, S, H, pT + (((j === 2 ? 3 : j) * H * S) << 2), hk, 0, last ? ah : prodB, 0);
              if (!last) K.k.addF32(H * H, ah, ah, prodB);
            }
          }
        }
        // ---- input gradients per group: (dX_n W_n^T + dX_z W_z^T) + dX_r W_r^T, in float32.
        const m = rows * inDim;
        const dxs: Tensor[] = [];
        for (let g = 0; g < G; g++) {
          for (let j = 0; j < 3; j++) {
            for (let k = 0; k < L; k++) K.k.matmul(S, H, inDim, dzAt(j, k, g), pWiT + wBytes(g, j, inDim), 0, pDx + ((j * m + k * S * inDim) << 2), 0);
          }
          K.k.addF32(m, pDx + ((2 * m) << 2), pDx + ((2 * m) << 2), pDx + (m << 2));
          K.k.addF32(m, stacked ? pDxAll + ((g * m) << 2) : pDx, pDx + ((2 * m) << 2), pDx);
          if (!stacked) dxs.push(upload(tf, K.f32(pDx, m), [1, rows, inDim]));
        }
        if (stacked) dxs.push(upload(tf, K.f32(pDxAll, G * m), [G, rows, inDim]));
        const dWi = new Float32Array(G * inDim * 3 * H);
        const dBi = new Float32Array(G * 3 * H);
        const dWh = new Float32Array(G * H * 3 * H);
        const dBh = new Float32Array(G * 3 * H);
        const AX = K.f32(pAX, G * 3 * H * inDim);
        const AH = K.f32(pAH, G * 3 * H * H);
        const B4 = K.f32(pB4, G * 4 * H);
        for (let g = 0; g < G; g++) {
          for (let j = 0; j < 3; j++) {
            // dW^T [H][d] of gate j into the variable's [d][3H] rows.
            const ox = (g * 3 + j) * H * inDim;
            for (let c = 0; c < H; c++) for (let i = 0; i < inDim; i++) dWi[g * inDim * 3 * H + i * 3 * H + j * H + c] = AX[ox + c * inDim + i];
            const oh = (g * 3 + j) * H * H;
            for (let c = 0; c < H; c++) for (let i = 0; i < H; i++) dWh[g * H * 3 * H + i * 3 * H + j * H + c] = AH[oh + c * H + i];
            dBi.set(B4.subarray((g * 4 + j) * H, (g * 4 + j + 1) * H), (g * 3 + j) * H);
            dBh.set(B4.subarray((g * 4 + (j === 2 ? 3 : j)) * H, (g * 4 + (j === 2 ? 3 : j) + 1) * H), (g * 3 + j) * H);
          }
        }
        return [
          ...dxs,
          upload(tf, dWi, [G, inDim, 3 * H]),
          upload(tf, dBi, [G * 3 * H]),
          upload(tf, dWh, [G, H, 3 * H]),
          upload(tf, dBh, [G * 3 * H]),
          dGain,
          dBias,
        ];
      });
    return { value: y, gradFunc };
  });
  return op(...xs, cell.weightIh, cell.biasIh, cell.weightHh, cell.biasHh, cell.lnWeight, cell.lnBias);
}

/** One dense layer of the backward, G groups of L blocks of R rows (pointers into the kernel's memory). */
interface DenseBack {
  G: number;
  L: number;
  R: number;
  inDim: number;
  out: number;
  /** the layer's input [G][L*R][inDim] */
  x: number;
  /** dL/dy [G][L*R][out]; overwritten by dz (= dy * step(y) with a mask) */
  dy: number;
  /** the layer's relu output (same layout as dy), 0 for a linear layer */
  mask: number;
  /** W^T [G][out][dxCols] for the input gradient (the first dxCols columns of the input), 0 for none */
  wT: number;
  dxCols: number;
  /** dL/dx [G][L*R][dxCols] */
  dx: number;
  /** scratch: dz^T of one block [out][R], one block product [out][inDim], column sums [out] */
  dzT: number;
  prod: number;
  sums: number;
  /** the results: dW^T [G][out][inDim] and db [G][out] (float32 sums of the blocks, last first) */
  accW: number;
  accB: number;
}

/**
 * The backward of y = act(x W + b) per group over L blocks of R rows, as blockLinear's gradient
 * gives it bit for bit: dz = dy * step(y) (relu; columnsT keeps tfjs's bits, -0 included); per
 * block the weight gradient as dW^T = dz_k^T x_k (the products x[r, i] dz[r, j] summed over the
 * block's rows from row 0, as x_k^T dz_k was; a * b = b * a exactly) and the bias gradient as
 * the block's column sums (float32, row 0 first: the stock Sum's order), the blocks added last
 * first in float32 (AddN's and the leading-axis Sum's order); the input gradient dz W^T over all
 * rows at once (row-wise). Why dz^T on the left: columnsT writes it while it applies the relu
 * mask, and x_k is then read in place as the matmul's right operand (no transpose of x: the JS
 * block transposes of issue-15i's GRU path); the blocks are added by the kernel's addF32.
 * Returns views of dW^T [G][out][inDim] and db [G][out] at accW / accB.
 */
function denseBackward(K: ReturnType<typeof gateKernel>, d: DenseBack): { dWT: Float32Array; db: Float32Array } {
  const { G, L, R, inDim, out } = d;
  const rows = L * R;
  const m = out * inDim;
  for (let g = 0; g < G; g++) {
    const aw = d.accW + ((g * m) << 2);
    const ab = d.accB + ((g * out) << 2);
    for (let k = L - 1; k >= 0; k--) {
      const base = g * rows + k * R;
      const last = k === L - 1;
      // The last block's product and sums go straight to the accumulators, the others are added.
      const sums = last ? ab : d.sums;
      K.f32(sums, out).fill(0);
      const dyk = d.dy + ((base * out) << 2);
      K.k.columnsT(R, out, dyk, d.mask === 0 ? 0 : d.mask + ((base * out) << 2), d.dzT, sums, dyk);
      K.k.matmul(out, R, inDim, d.dzT, d.x + ((base * inDim) << 2), 0, last ? aw : d.prod, 0);
      if (!last) {
        K.k.addF32(m, aw, aw, d.prod);
        K.k.addF32(out, ab, ab, d.sums);
      }
    }
    if (d.wT !== 0) K.k.matmul(rows, out, d.dxCols, d.dy + ((g * rows * out) << 2), d.wT + ((g * out * d.dxCols) << 2), 0, d.dx + ((g * rows * d.dxCols) << 2), 0);
  }
  return { dWT: K.f32(d.accW, G * m), db: K.f32(d.accB, G * out) };
}

/** dW^T [G][out][in] as the variable's layout [G][in][out]. */
function untransposeGroups(dWT: Float32Array, G: number, out: number, inDim: number): Float32Array {
  const w = new Float32Array(G * inDim * out);
  for (let g = 0; g < G; g++) transposeInto(dWT.subarray(g * out * inDim, (g + 1) * out * inDim), out, inDim, w.subarray(g * inDim * out));
  return w;
}

/** Group weights w [G][in][out] (a variable) into the kernel at p. */
function stageGroupWeights(tf: Tf, K: ReturnType<typeof gateKernel>, w: Tensor, G: number, inDim: number, out: number, p: number): void {
  readInto(tf, w, K.f32(p, G * inDim * out));
}

/** W^T of group weights w [G][in][out]: the first `cols` input rows of each group's W transposed, [G][out][cols], into the kernel at wT. */
function stageGroupWeightsT(tf: Tf, K: ReturnType<typeof gateKernel>, w: Tensor, G: number, inDim: number, out: number, wT: number, cols = inDim): void {
  const v = readInto(tf, w, new Float32Array(G * inDim * out));
  const t = K.f32(wT, G * out * cols);
  for (let g = 0; g < G; g++) transposeInto(v.subarray(g * inDim * out, g * inDim * out + cols * out), cols, out, t.subarray(g * out * cols));
}

/** The sizes of a PpoNet trunk (ppoTrunkGroups). */
export interface TrunkShape {
  G: number;
  /** patches per row, values per patch, extras per row */
  P: number;
  K: number;
  E: number;
  /** conv channels, hidden units */
  C: number;
  H: number;
}

/** The trunk's layer parameters, variables [G, in, out] and [G * out]. */
export interface TrunkParams {
  convW: Tensor;
  convB: Tensor;
  fc1W: Tensor;
  fc1B: Tensor;
  fc2W: Tensor;
  fc2B: Tensor;
}

/** Where the trunk's forward finds its operands in the kernel's memory (byte offsets). */
interface TrunkPtrs {
  pP: number;
  pWc: number;
  pBc: number;
  pW1: number;
  pB1: number;
  pW2: number;
  pB2: number;
  pC: number;
  pF: number;
  pY1: number;
  pY2: number;
}

/**
 * The trunk's forward in the kernel, shared by the update's op and the rollout's: stages the
 * weights, then per group conv (relu) over `rows` staged patch rows at p.pP, each row's P*C conv
 * outputs followed by its E extras (concatDiff's layout), fc1 and fc2 (relu); fc2's output is
 * left at p.pY2, the conv's at p.pC and fc1's at p.pY1 (the backward reads them).
 */
function trunkForward(tf: Tf, Kn: ReturnType<typeof gateKernel>, s: TrunkShape, w: TrunkParams, rows: number, p: TrunkPtrs, extras: Float32Array): void {
  const { G, P, K: KK, E, C, H } = s;
  const F = P * C + E;
  const pc = P * C;
  stageGroupWeights(tf, Kn, w.convW, G, KK, C, p.pWc);
  stageGroupWeights(tf, Kn, w.fc1W, G, F, H, p.pW1);
  stageGroupWeights(tf, Kn, w.fc2W, G, H, H, p.pW2);
  readInto(tf, w.convB, Kn.f32(p.pBc, G * C));
  readInto(tf, w.fc1B, Kn.f32(p.pB1, G * H));
  readInto(tf, w.fc2B, Kn.f32(p.pB2, G * H));
  for (let g = 0; g < G; g++) {
    Kn.k.matmul(rows * P, KK, C, p.pP + ((g * rows * P * KK) << 2), p.pWc + ((g * KK * C) << 2), p.pBc + ((g * C) << 2), p.pC + ((g * rows * pc) << 2), 1);
  }
  let pIn = p.pC;
  if (E > 0) {
    pIn = p.pF;
    const f = Kn.f32(p.pF, G * rows * F);
    const c = Kn.f32(p.pC, G * rows * pc);
    for (let q = 0; q < G * rows; q++) {
      f.set(c.subarray(q * pc, (q + 1) * pc), q * F);
      f.set(extras.subarray(q * E, (q + 1) * E), q * F + pc);
    }
  }
  for (let g = 0; g < G; g++) {
    Kn.k.matmul(rows, F, H, pIn + ((g * rows * F) << 2), p.pW1 + ((g * F * H) << 2), p.pB1 + ((g * H) << 2), p.pY1 + ((g * rows * H) << 2), 1);
    Kn.k.matmul(rows, H, H, p.pY1 + ((g * rows * H) << 2), p.pW2 + ((g * H * H) << 2), p.pB2 + ((g * H) << 2), p.pY2 + ((g * rows * H) << 2), 1);
  }
}

/**
 * PpoNet's trunk over ALL G groups as one op (relu only): patches [G][L*S][P*K] and extras
 * [G][L*S][E] (data, CPU, rows [group][step][sequence]) -> fc2's output [G, L*S, H]. Per group
 * conv (a matmul over the L*S*P patch rows), the extras appended to each row's P*C conv
 * outputs, fc1, fc2: the values of PpoNet's per-group blockLinear calls bit for bit (the
 * kernel's matmul is XNNPACK's summation, row-wise, so all rows at once equal the per-block
 * calls), and the gradients of its tfjs path bit for bit (denseBackward). fc1's input gradient
 * is formed for the conv's P*C columns only (the extras are data): the same dot products.
 * Replaces per group 3 blockLinear ops, a concat and their ~30 kernels per pass (IPPO's actor
 * and critic: G = 2 each) with one op, and the per-step weight-gradient BatchMatMuls and
 * transposes with the kernel's matmuls on views of the saved activations.
 */
export function ppoTrunkGroups(tf: Tf, s: TrunkShape, w: TrunkParams, patches: Float32Array, extras: Float32Array, L: number, S: number): Tensor {
  const { G, P, K: KK, E, C, H } = s;
  const rows = L * S;
  const F = P * C + E;
  if (patches.length < G * rows * P * KK || extras.length < G * rows * E) {
    throw new Error(`ppoTrunkGroups: patches (${patches.length}) or extras (${extras.length}) shorter than ${G} groups x ${rows} rows x (${P * KK}, ${E})`);
  }
  const op = tf.customGrad((...args: unknown[]) => {
    const [convW, convB, fc1W, fc1B, fc2W, fc2B] = args.slice(0, 6) as Tensor[];
    const save = args[6] as (ts: Tensor[]) => void;
    const Kn = gateKernel();
    const [pP, pWc, pBc, pW1, pB1, pW2, pB2, pC, pF, pY1, pY2] = Kn.layout(
      G * rows * P * KK, G * KK * C, G * C, G * F * H, G * H, G * H * H, G * H, G * rows * P * C, E > 0 ? G * rows * F : 0, G * rows * H, G * rows * H,
    );
    Kn.f32(pP, G * rows * P * KK).set(patches.subarray(0, G * rows * P * KK));
    trunkForward(tf, Kn, s, { convW, convB, fc1W, fc1B, fc2W, fc2B }, rows, { pP, pWc, pBc, pW1, pB1, pW2, pB2, pC, pF, pY1, pY2 }, extras);
    const pc = P * C;
    const y = upload(tf, Kn.f32(pY2, G * rows * H), [G, rows, H]);
    // What the backward reads (the kernel's memory is laid out anew by the next user).
    const keep = [
      upload(tf, Kn.f32(pP, G * rows * P * KK), [G * rows * P * KK]),
      upload(tf, Kn.f32(pC, G * rows * pc), [G * rows * pc]),
      E > 0 ? upload(tf, Kn.f32(pF, G * rows * F), [G * rows * F]) : null,
      upload(tf, Kn.f32(pY1, G * rows * H), [G * rows * H]),
    ];
    save([fc1W, fc2W, y, ...(keep.filter((t) => t !== null) as Tensor[])]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const [f1W, f2W, yS, pS, cS, ...rest] = saved;
        const fS = E > 0 ? rest[0] : cS;
        const y1S = rest[E > 0 ? 1 : 0];
        const mx = Math.max(KK, F, H);
        const [qP, qC, qF, qY1, qY2, qW1T, qW2T, qDy, qD1, qD0, qDzT, qProd, qSums, qA2, qB2, qA1, qB1, qA0, qB0] = Kn.layout(
          G * rows * P * KK, G * rows * pc, E > 0 ? G * rows * F : 0, G * rows * H, G * rows * H, G * H * pc, G * H * H, G * rows * H, G * rows * H, G * rows * pc,
          Math.max(H * S, C * S * P), mx * H, Math.max(H, C), G * H * H, G * H, G * H * F, G * H, G * C * KK, G * C,
        );
        readInto(tf, pS, Kn.f32(qP, G * rows * P * KK));
        readInto(tf, cS, Kn.f32(qC, G * rows * pc));
        if (E > 0) readInto(tf, fS, Kn.f32(qF, G * rows * F));
        readInto(tf, y1S, Kn.f32(qY1, G * rows * H));
        readInto(tf, yS, Kn.f32(qY2, G * rows * H));
        readInto(tf, dy, Kn.f32(qDy, G * rows * H));
        stageGroupWeightsT(tf, Kn, f2W, G, H, H, qW2T);
        const fc2 = denseBackward(Kn, { G, L, R: S, inDim: H, out: H, x: qY1, dy: qDy, mask: qY2, wT: qW2T, dxCols: H, dx: qD1, dzT: qDzT, prod: qProd, sums: qSums, accW: qA2, accB: qB2 });
        // fc1's W^T for the conv's columns only (the extras are data).
        stageGroupWeightsT(tf, Kn, f1W, G, F, H, qW1T, pc);
        const fc1 = denseBackward(Kn, { G, L, R: S, inDim: F, out: H, x: E > 0 ? qF : qC, dy: qD1, mask: qY1, wT: qW1T, dxCols: pc, dx: qD0, dzT: qDzT, prod: qProd, sums: qSums, accW: qA1, accB: qB1 });
        const conv = denseBackward(Kn, { G, L, R: S * P, inDim: KK, out: C, x: qP, dy: qD0, mask: qC, wT: 0, dxCols: 0, dx: 0, dzT: qDzT, prod: qProd, sums: qSums, accW: qA0, accB: qB0 });
        return [
          upload(tf, untransposeGroups(conv.dWT, G, C, KK), [G, KK, C]),
          upload(tf, conv.db, [G * C]),
          upload(tf, untransposeGroups(fc1.dWT, G, H, F), [G, F, H]),
          upload(tf, fc1.db, [G * H]),
          upload(tf, untransposeGroups(fc2.dWT, G, H, H), [G, H, H]),
          upload(tf, fc2.db, [G * H]),
        ];
      });
    return { value: y, gradFunc };
  });
  return op(w.convW, w.convB, w.fc1W, w.fc1B, w.fc2W, w.fc2B);
}

/**
 * PpoNet's head over ALL G groups as one op: x [G, L*S, H] -> x W_g + b_g [G, L*S, out], the
 * values of the per-group blockLinear calls and their concat, and their gradients (input,
 * weight per block, bias) bit for bit (denseBackward with no mask).
 */
export function ppoHeadGroups(tf: Tf, x: Tensor, w: Tensor, b: Tensor, L: number, S: number): Tensor {
  const [G, rows, H] = x.shape as number[];
  const out = w.shape[2] as number;
  if (x.rank !== 3 || rows !== L * S || w.shape[0] !== G || w.shape[1] !== H) {
    throw new Error(`ppoHeadGroups: x [${x.shape}] and w [${w.shape}] do not match ${G} groups of ${L} x ${S} rows`);
  }
  const op = tf.customGrad((...args: unknown[]) => {
    const [xA, wA, bA] = args.slice(0, 3) as Tensor[];
    const save = args[3] as (ts: Tensor[]) => void;
    const Kn = gateKernel();
    const [pX, pW, pB, pY] = Kn.layout(G * rows * H, G * H * out, G * out, G * rows * out);
    readInto(tf, xA, Kn.f32(pX, G * rows * H));
    stageGroupWeights(tf, Kn, wA, G, H, out, pW);
    readInto(tf, bA, Kn.f32(pB, G * out));
    for (let g = 0; g < G; g++) Kn.k.matmul(rows, H, out, pX + ((g * rows * H) << 2), pW + ((g * H * out) << 2), pB + ((g * out) << 2), pY + ((g * rows * out) << 2), 0);
    const y = upload(tf, Kn.f32(pY, G * rows * out), [G, rows, out]);
    save([xA, wA]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const [xS, wS] = saved;
        const [qX, qWT, qDy, qDx, qDzT, qProd, qSums, qA, qB] = Kn.layout(G * rows * H, G * out * H, G * rows * out, G * rows * H, out * S, out * H, out, G * out * H, G * out);
        readInto(tf, xS, Kn.f32(qX, G * rows * H));
        readInto(tf, dy, Kn.f32(qDy, G * rows * out));
        stageGroupWeightsT(tf, Kn, wS, G, H, out, qWT);
        const r = denseBackward(Kn, { G, L, R: S, inDim: H, out, x: qX, dy: qDy, mask: 0, wT: qWT, dxCols: H, dx: qDx, dzT: qDzT, prod: qProd, sums: qSums, accW: qA, accB: qB });
        return [upload(tf, Kn.f32(qDx, G * rows * H), [G, rows, H]), upload(tf, untransposeGroups(r.dWT, G, out, H), [G, H, out]), upload(tf, r.db, [G * out])];
      });
    return { value: y, gradFunc };
  });
  return op(x, w, b);
}

/**
 * The rollout's side of ppoTrunkGroups (no gradient): patches [G, R*P, K] and extras [G, R, E]
 * (tensors, as PpoNet.step gets them) -> fc2's output [G, R, H], every matmul in the kernel per
 * group: the values of PpoNet's `features` (linearInfer: one fused matmul per group, relu) bit
 * for bit, with one upload instead of ~10 tfjs kernels per group (unstack, matmul, stack,
 * reshape, concat).
 */
export function ppoTrunkInfer(tf: Tf, s: TrunkShape, w: TrunkParams, patches: Tensor, extras: Tensor | null, R: number): Tensor {
  const { G, P, K: KK, E, C, H } = s;
  const F = P * C + E;
  const pc = P * C;
  if (patches.size !== G * R * P * KK || (E > 0 ? extras?.size !== G * R * E : extras !== null)) {
    throw new Error(`ppoTrunkInfer: patches [${patches.shape}] / extras [${extras?.shape}] do not match ${G} groups x ${R} rows x (${P} x ${KK}, ${E})`);
  }
  const Kn = gateKernel();
  const [pP, pE, pWc, pBc, pW1, pB1, pW2, pB2, pC, pF, pY1, pY2] = Kn.layout(G * R * P * KK, G * R * E, G * KK * C, G * C, G * F * H, G * H, G * H * H, G * H, G * R * pc, G * R * F, G * R * H, G * R * H);
  readInto(tf, patches, Kn.f32(pP, G * R * P * KK));
  const ev = E > 0 ? readInto(tf, extras!, Kn.f32(pE, G * R * E)) : new Float32Array(0);
  trunkForward(tf, Kn, s, w, R, { pP, pWc, pBc, pW1, pB1, pW2, pB2, pC, pF, pY1, pY2 }, ev);
  return upload(tf, Kn.f32(pY2, G * R * H), [G, R, H]);
}

/** The rollout's head (no gradient): y [G, R, H] -> y W_g + b_g as [G * R * out] on the CPU (a fresh array), per group in the kernel: linearInfer's values bit for bit. */
export function ppoHeadInfer(tf: Tf, y: Tensor, w: Tensor, b: Tensor): Float32Array {
  const [G, R, H] = y.shape as number[];
  const out = w.shape[2] as number;
  const Kn = gateKernel();
  const [pX, pW, pB, pY] = Kn.layout(G * R * H, G * H * out, G * out, G * R * out);
  readInto(tf, y, Kn.f32(pX, G * R * H));
  stageGroupWeights(tf, Kn, w, G, H, out, pW);
  readInto(tf, b, Kn.f32(pB, G * out));
  for (let g = 0; g < G; g++) Kn.k.matmul(R, H, out, pX + ((g * R * H) << 2), pW + ((g * H * out) << 2), pB + ((g * out) << 2), pY + ((g * R * out) << 2), 0);
  return Kn.f32(pY, G * R * out).slice();
}
