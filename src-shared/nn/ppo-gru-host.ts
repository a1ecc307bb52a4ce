/**
 * PpoNet's LayerNorm-GRU layer over all G groups on the `wasm-blas` backend (issue-15q): the
 * recurrence's gate arithmetic in the SIMD kernel's fused `gatesForward` / `gatesBackward`
 * (nn/wasm/gru-gates.as.ts, as GRUCell.sequence uses them) and every product on the host's
 * gemm over whole operands, instead of lnGruLayerGroups' per-step tfjs elementwise kernels.
 *
 * Why: with the products on BLAS, IPPO's update spent more CPU on what surrounds them than in
 * them: per chunk step ~12 tfjs kernels forward and ~25 backward, each with its copies in and
 * out of tfjs's heap (upload/move, readInto), and the weight gradients per step block through
 * transposed copies (columnsT) and float32 block sums. Here a step is one gemm per group and
 * one kernel call each way; the input side and the weight and input gradients are one gemm
 * per group over all L*S rows (transposed operands read in place by gemm's transA/transB).
 *
 * Other float rounding than lnGruLayerGroups (the kernel's sigmoid/tanh, GRUCell's order of the
 * gate formula, float64 bias sums, BLAS summation over all rows at once), so it runs only when
 * the host gemm is set (kernelHostGemm: wasm-blas, whose results are not wasm's bits anyway);
 * on `wasm` lnGruLayerGroups runs unchanged and the goldens replay. `ppoKernel.hostGates =
 * false` keeps lnGruLayerGroups on wasm-blas too (bench A/B, tests). Checked against it by
 * test/nn/ppo-gru-host.test.ts within a float tolerance.
 *
 * The LayerNorm over the outputs stays in tfjs (a few kernels over all rows, once per call).
 * Layouts: rows [group][step][sequence] as lnGruLayerGroups ([N][T][B] of the gate kernels with
 * N = G, T = L, B = S); the kernels' per-step arrays are [step][group][sequence].
 */
import { gateKernel, type MemoryGemm } from './gru-simd';
import type { GRUCell } from './gru';
import { readInto, upload } from './tensor-io';
import type { Tensor, Tf } from './tf';

/**
 * Reused trace buffers per cell (megabytes at IPPO's sizes, one per forward until its backward
 * ran): a fresh array per call cost its zeroing and the GC. A forward whose backward never runs
 * (no tape) leaves its buffer to the GC.
 */
const traces = new WeakMap<GRUCell, Float32Array[]>();

function takeTrace(cell: GRUCell, n: number): Float32Array {
  const free = traces.get(cell);
  const i = free ? free.findIndex((b) => b.length === n) : -1;
  return i >= 0 ? free!.splice(i, 1)[0] : new Float32Array(n);
}

function giveTrace(cell: GRUCell, b: Float32Array): void {
  const free = traces.get(cell) ?? [];
  // A few at most: shapes change rarely, and a sweep of sizes should not pin memory.
  if (free.length < 4) free.push(b);
  traces.set(cell, free);
}

/**
 * The layer's LayerNorm over the states hAll [G][rows][H] (per group's gain and bias), with the
 * intermediates its backward keeps; the op order is the reference's, so the bits are too.
 */
export function layerNormOut(tf: Tf, hAll: Tensor, lnw: Tensor, lnb: Tensor, G: number, H: number) {
  const gainR = tf.reshape(lnw, [G, 1, H]);
  const centred = tf.sub(hAll, tf.mean(hAll, -1, true));
  const inv = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
  const normed = tf.mul(centred, inv);
  return { gainR, centred, inv, normed, y: tf.add(tf.mul(normed, gainR), tf.reshape(lnb, [G, 1, H])) };
}

/**
 * A LayerNorm-GRU layer op's arguments as its callers pass them to tf.customGrad: the nx inputs,
 * the six layer parameters (w_ih, b_ih, w_hh, b_hh, LayerNorm weight and bias), then tfjs's save.
 */
export function layerOpArgs(args: unknown[], nx: number): { xs: Tensor[]; params: Tensor[]; save: (ts: Tensor[]) => void } {
  return { xs: args.slice(0, nx) as Tensor[], params: args.slice(nx, nx + 6) as Tensor[], save: args[nx + 6] as (ts: Tensor[]) => void };
}

/**
 * lnGruLayerGroups' contract (xs: G tensors [1, L*S, in] or one [G, L*S, in]; h0 [G][S][H];
 * returns the LayerNorm outputs [G, L*S, H]) with the host gemm `gemm`. The caller checked
 * the shapes.
 */
export function lnGruLayerHost(tf: Tf, gemm: MemoryGemm, xIn: readonly Tensor[] | Tensor, cell: GRUCell, h0: Float32Array, L: number, S: number): Tensor {
  const stacked = !Array.isArray(xIn);
  const xs: readonly Tensor[] = stacked ? [xIn as Tensor] : (xIn as readonly Tensor[]);
  const G = cell.groups;
  const H = cell.hiddenSize;
  const H3 = 3 * H;
  const I = cell.inputSize;
  const rows = L * S;
  const n = S * H;
  const gn = G * n;
  const TH = L * gn;
  /** The trace (r, z, n, ghn, h of every step), laid out first in the forward and the backward alike, so it is one slice and one set. */
  const traceCounts = [TH, TH, TH, TH, TH];
  const readX = (K: ReturnType<typeof gateKernel>, ts: readonly Tensor[], p: number): void => {
    if (stacked) readInto(tf, ts[0], K.f32(p, G * rows * I));
    else for (let g = 0; g < G; g++) readInto(tf, ts[g], K.f32(p + ((g * rows * I) << 2), rows * I));
  };
  const op = tf.customGrad((...args: unknown[]) => {
    const nx = xs.length;
    const { xs: xsA, params: [wiV, biV, whV, bhV, lnwV, lnbV], save } = layerOpArgs(args, nx);
    const K = gateKernel();
    const [pR, pZ, pN, pGhn, pH, pX, pWi, pBi, pWh, pBh, pGI, pGh, pH0, pAll] = K.layout(
      ...traceCounts, G * rows * I, G * I * H3, G * H3, G * H * H3, G * H3, G * rows * H3, gn * 3, gn, G * rows * H,
    );
    const mem = K.k.memory.buffer;
    readX(K, xsA, pX);
    readInto(tf, wiV, K.f32(pWi, G * I * H3));
    readInto(tf, biV, K.f32(pBi, G * H3));
    readInto(tf, whV, K.f32(pWh, G * H * H3));
    readInto(tf, bhV, K.f32(pBh, G * H3));
    K.f32(pH0, gn).set(h0);
    // Input side of the gates of all steps, one product per group (the weights in their own [in][3H] layout).
    for (let g = 0; g < G; g++) gemm(mem, 1, rows, H3, I, pX + ((g * rows * I) << 2), 0, 0, pWi + ((g * I * H3) << 2), 0, 0, pGI + ((g * rows * H3) << 2), pBi + ((g * H3) << 2), 0);
    for (let t = 0; t < L; t++) {
      const hp = t === 0 ? pH0 : pH + (((t - 1) * gn) << 2);
      for (let g = 0; g < G; g++) gemm(mem, 1, S, H3, H, hp + ((g * n) << 2), 0, 0, pWh + ((g * H * H3) << 2), 0, 0, pGh + ((g * S * H3) << 2), pBh + ((g * H3) << 2), 0);
      const o = (t * gn) << 2;
      K.k.gatesForward(G, S, H, pGI + ((t * S * H3) << 2), (L * S * H3) << 2, pGh, hp, pH + o, pR + o, pZ + o, pN + o, pGhn + o);
    }
    // The states from [step][group][sequence] into the outputs' [group][step][sequence].
    const hs = K.f32(pH, TH);
    const all = K.f32(pAll, G * rows * H);
    for (let t = 0; t < L; t++) for (let g = 0; g < G; g++) all.set(hs.subarray((t * G + g) * n, (t * G + g + 1) * n), (g * L + t) * n);
    const trace = takeTrace(cell, pX / 4 - pR / 4);
    trace.set(K.f32(pR, trace.length));
    const hAll = upload(tf, all, [G, rows, H]);
    const { gainR, centred, inv, normed, y } = layerNormOut(tf, hAll, lnwV, lnbV, G, H);
    save([...xsA, wiV, whV, gainR, centred, inv, normed]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] =>
      tf.tidy(() => {
        const xsS = saved.slice(0, nx);
        const [wiS, whS, gainS, cS, invS, nS] = saved.slice(nx, nx + 6);
        // ---- LayerNorm backward over all rows (tfjs), into dL/dh of every step.
        const dNormed = tf.mul(dy, gainS);
        const dGain = tf.reshape(tf.sum(tf.mul(dy, nS), 1), [G * H]);
        const dBias = tf.reshape(tf.sum(dy, 1), [G * H]);
        const dInv = tf.sum(tf.mul(dNormed, cS), 2, true);
        const dVar = tf.mul(dInv, tf.mul(tf.mul(tf.square(invS), invS), -0.5));
        const dc = tf.add(tf.mul(dNormed, invS), tf.mul(tf.div(dVar, H), tf.mul(cS, 2)));
        const dHsT = tf.add(dc, tf.div(tf.sum(tf.neg(dc), 2, true), H));
        const Kb = gateKernel();
        const [qR, qZ, qN, qGhn, qH, qH0, qDHs, qDGI, qDGH, qHPrev, qDh, qBack, qOnes, qDBi, qDBh, qWh, qX, qWi, qDX, qDWi, qDWh] = Kb.layout(
          ...traceCounts, gn, G * rows * H, G * rows * H3, G * rows * H3, G * rows * H, gn, gn, rows, G * H3, G * H3,
          G * H * H3, G * rows * I, G * I * H3, G * rows * I, G * I * H3, G * H * H3,
        );
        const memB = Kb.k.memory.buffer;
        const k = Kb.k;
        Kb.f32(qR, trace.length).set(trace);
        giveTrace(cell, trace);
        Kb.f32(qH0, gn).set(h0);
        readInto(tf, dHsT, Kb.f32(qDHs, G * rows * H));
        readInto(tf, whS, Kb.f32(qWh, G * H * H3));
        Kb.f32(qDh, gn).fill(0);
        Kb.f32(qOnes, rows).fill(1);
        for (let t = L - 1; t >= 0; t--) {
          const o = (t * gn) << 2;
          k.gatesBackwardRows(G, S, L, t, H, qDh, t === L - 1 ? 0 : qBack, qDHs, qR + o, qZ + o, qN + o, qGhn + o, t > 0 ? qH + o - (gn << 2) : qH0, qDGI, qDGH, qHPrev);
          // dL/dh_{t-1}'s recurrent part dG_hh W_hh^T (step t's rows of each group; W_hh [H][3H] read transposed in place).
          if (t > 0) for (let g = 0; g < G; g++) gemm(memB, 1, S, H, H3, qDGH + (((g * L + t) * S * H3) << 2), 0, 0, qWh + ((g * H * H3) << 2), 0, 1, qBack + ((g * n) << 2), 0, 0);
        }
        readX(Kb, xsS, qX);
        readInto(tf, wiS, Kb.f32(qWi, G * I * H3));
        for (let g = 0; g < G; g++) {
          const dgi = qDGI + ((g * rows * H3) << 2);
          const dgh = qDGH + ((g * rows * H3) << 2);
          // dW_ih = X^T dG_ih, dW_hh = H_prev^T dG_hh, dX = dG_ih W_ih^T in the variables' layouts
          // (transposed operands read in place); the biases' gradients as column sums (1^T dG).
          gemm(memB, 1, I, H3, rows, qX + ((g * rows * I) << 2), 0, 1, dgi, 0, 0, qDWi + ((g * I * H3) << 2), 0, 0);
          gemm(memB, 1, H, H3, rows, qHPrev + ((g * rows * H) << 2), 0, 1, dgh, 0, 0, qDWh + ((g * H * H3) << 2), 0, 0);
          gemm(memB, 1, rows, I, H3, dgi, 0, 0, qWi + ((g * I * H3) << 2), 0, 1, qDX + ((g * rows * I) << 2), 0, 0);
          gemm(memB, 1, 1, H3, rows, qOnes, 0, 0, dgi, 0, 0, qDBi + ((g * H3) << 2), 0, 0);
          gemm(memB, 1, 1, H3, rows, qOnes, 0, 0, dgh, 0, 0, qDBh + ((g * H3) << 2), 0, 0);
        }
        const dxs = stacked
          ? [upload(tf, Kb.f32(qDX, G * rows * I), [G, rows, I])]
          : Array.from({ length: G }, (_, g) => upload(tf, Kb.f32(qDX + ((g * rows * I) << 2), rows * I), [1, rows, I]));
        return [
          ...dxs,
          upload(tf, Kb.f32(qDWi, G * I * H3), [G, I, H3]),
          upload(tf, Kb.f32(qDBi, G * H3), [G * H3]),
          upload(tf, Kb.f32(qDWh, G * H * H3), [G, H, H3]),
          upload(tf, Kb.f32(qDBh, G * H3), [G * H3]),
          dGain,
          dBias,
        ];
      });
    return { value: y, gradFunc };
  });
  return op(...xs, cell.weightIh, cell.biasIh, cell.weightHh, cell.biasHh, cell.lnWeight!, cell.lnBias!);
}

/**
 * One rollout step of the GRU on the host gemm and the gate kernel (PpoNet.step on wasm-blas):
 * x [G, R, in] and h_{t-1} [G][R][H] -> h_t into hNext and as [G, R, H]. Instead of
 * GRUCell.stepRows, whose PPO cells run the float64 JS gates ('f64-js', the wasm bits) with two
 * tfjs matmuls per step: here the gate formulas are the kernel's, as lnGruLayerHost's forward
 * uses them in the update, so the update's first epoch recomputes the rollout's states with the
 * same gate arithmetic.
 */
export function gruStepHost(tf: Tf, gemm: MemoryGemm, cell: GRUCell, x: Tensor, hPrev: Float32Array, hNext: Float32Array): Tensor {
  const G = cell.groups;
  const H = cell.hiddenSize;
  const H3 = 3 * H;
  const I = cell.inputSize;
  const R = x.shape[1] as number;
  const rows = G * R;
  const nh = rows * H;
  if (x.rank !== 3 || x.shape[0] !== G || x.shape[2] !== I || hPrev.length !== nh || hNext.length !== nh) {
    throw new Error(`gruStepHost: x [${x.shape}] and hidden buffers of ${hPrev.length} / ${hNext.length} values do not match [${G}, R, ${I}] with ${H} units`);
  }
  const K = gateKernel();
  const [pX, pWi, pBi, pWh, pBh, pGi, pGh, pHp, pHo] = K.layout(rows * I, G * I * H3, G * H3, G * H * H3, G * H3, rows * H3, rows * H3, nh, nh);
  readInto(tf, x, K.f32(pX, rows * I));
  readInto(tf, cell.weightIh, K.f32(pWi, G * I * H3));
  readInto(tf, cell.biasIh, K.f32(pBi, G * H3));
  readInto(tf, cell.weightHh, K.f32(pWh, G * H * H3));
  readInto(tf, cell.biasHh, K.f32(pBh, G * H3));
  K.f32(pHp, nh).set(hPrev);
  const mem = K.k.memory.buffer;
  for (let g = 0; g < G; g++) {
    gemm(mem, 1, R, H3, I, pX + ((g * R * I) << 2), 0, 0, pWi + ((g * I * H3) << 2), 0, 0, pGi + ((g * R * H3) << 2), pBi + ((g * H3) << 2), 0);
    gemm(mem, 1, R, H3, H, pHp + ((g * R * H) << 2), 0, 0, pWh + ((g * H * H3) << 2), 0, 0, pGh + ((g * R * H3) << 2), pBh + ((g * H3) << 2), 0);
  }
  K.k.gatesForward(1, rows, H, pGi, 0, pGh, pHp, pHo, 0, 0, 0, 0);
  hNext.set(K.f32(pHo, nh));
  return upload(tf, hNext, [G, R, H]);
}
