/**
 * GRU cell with PyTorch's gate semantics, plus a fused sequence op for fast BPTT.
 *
 *   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))     <- r multiplies AFTER the matmul
 *   h' = (1 - z) * n + z * h
 *
 * (Keras' default `resetAfter = false` applies r before the matmul: a different cell.)
 * Weights are stored [G, in, 3H] and [G, H, 3H] (PyTorch: [3H, in], [3H, H]), biases flat
 * [G * 3H]; gates in PyTorch's order r, z, n; G groups as in mlp.ts. Initialisation is
 * PyTorch's: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
 *
 * Optional LayerNorm normalises the cell's OUTPUT, not the recurrent state: MAPPO's "GRU with
 * LayerNorm" (RNNLayer) runs the GRU, carries the raw hidden state, and applies LayerNorm to
 * what it passes to the next layer. `output(h)` does that (gain 1, bias 0, eps 1e-5).
 *
 * Three ways to run the same cell:
 * - `step`: plain tfjs ops, differentiable by the tape. The reference; use it anywhere speed
 *   does not matter.
 * - `stepRows`: one rollout step for R rows: the two matmuls run in tfjs, the gates on the CPU
 *   (gate pre-activations read back once per matmul, into the cell's reused buffers: a
 *   `dataSync` per step on wasm is a fresh copy and garbage). Optionally records every
 *   activation into a `GruTrace`.
 * - `sequence`: a whole [N, T, B] sequence from a zero initial state as ONE differentiable op
 *   (tf.customGrad) with a hand-written BPTT: per step only the recurrent matmul runs in tfjs
 *   (the gate derivatives are CPU loops); the input and weight gradients are three big matmuls
 *   over all T steps at the end (their transposed operands written by the same loop, not by
 *   Transpose kernels), the bias gradients sums accumulated in the loop. Without a trace the
 *   forward records into the cell's own reused trace. All of it is bit-identical to the
 *   per-step tfjs version it replaced (docs/performance.md, "The GRU path of COMA and PG").
 *
 * The gate math of `stepRows` and `sequence` (forward gates, BPTT gate derivatives) runs on one
 * of two kernels, `gates` (GRU_GATES): 'f64-js', float64 JS loops with Math.exp (the reference,
 * and this class's default), or 'f32-simd', a hand-written float32 SIMD wasm kernel
 * (nn/wasm/gru-gates.as.ts via nn/gru-simd.ts; polynomial exp and tanh within ~1 float32 eps,
 * test/nn/gru-simd.test.ts), about 2x faster for the gate loops; on the wasm and cpu backends
 * 'f32-simd' also runs the per-step hidden matmuls, the BPTT's matmuls over all rows and (via
 * `actorStep`) a recurrent actor's whole acting step in that kernel, in XNNPACK's summation
 * order (on wasm the same bits as 'f32-simd-tfjs-matmul', which keeps them in tfjs). The PG
 * and COMA learners default to 'f32-simd' (their `gruGates`). How far results move: on the golden series
 * (test/algos/golden.test.ts, `-f32-simd` twins of the same seeds) episodes and replays are
 * identical and the statistics differ by at most 7e-8 relative (PG), 3e-7 (COMA), 5e-5
 * (charts/correction_value of self-correction, a difference of larger terms); same inputs give
 * the same bits on either kernel.
 *
 * Why the fused path: networks this small are dispatch-bound. Unrolled on the tape, a GRU step
 * is ~13 forward and ~40 backward kernel calls, plus one gradient accumulation per weight per
 * step; on the wasm backend that is ~0.3 ms per step forward alone. Per-step slicing of a big
 * tensor is also slow there (the wasm Slice kernel copies its whole input). The fused op does
 * one small matmul per step each way. When the rollout already ran the same weights on the same
 * inputs (on-policy training), pass its trace and the forward costs nothing: the values are
 * the same ones the rollout computed. test/nn/gru.test.ts checks values and all gradients
 * against the tape through `step`.
 */
import { ScratchBuffers } from './scratch';
import type { Rng } from '../rng';
import { uniform } from './init';
import { gateKernel, gateRowsSimd } from './gru-simd';
import { groupMatMul, groupedLinear, linearInfer, transposeLast } from './mlp';
import type { ParamSet } from './params';
import { readInto, upload } from './tensor-io';
import type { Tensor, Tf, Variable } from './tf';

export interface GruOptions {
  inputSize: number;
  hiddenSize: number;
  /** Independent weight groups G (rows [G, R, .]); default 1. */
  groups?: number;
  /** LayerNorm on the output (see file header); default false. */
  layerNorm?: boolean;
  /** Which kernel computes the gate math of stepRows / sequence (see GRU_GATES); default 'f64-js'. */
  gates?: GruGates;
}

/**
 * The gate math of `stepRows` and `sequence` (forward gates and BPTT gate derivatives):
 * - 'f64-js': JS loops in float64 with Math.exp, values stored as float32: the reference.
 * - 'f32-simd': the hand-written float32 SIMD wasm kernel (nn/wasm/gru-gates.as.ts, loaded by
 *   nn/gru-simd.ts): polynomial exp/tanh (max errors in test/nn/gru-simd.test.ts), float32
 *   arithmetic, bias-gradient sums still float64. Same values to float32 rounding (~1e-7
 *   relative per gate), not the same bits; deterministic (same inputs, same bits).
 *   On the wasm and cpu backends the hidden-side matmuls run in the same kernel too: the
 *   rollout step's gh = h W_hh + b_hh, each recomputed forward step's, and the BPTT's
 *   dG_hh W_hh^T per step (nn/wasm/gru-gates.as.ts `matmul`, XNNPACK's summation order: on
 *   wasm the same bits as the tfjs matmuls it replaces, with no kernel dispatch, upload or
 *   read-back per step). On other backends (tfjs-node, -gpu) those matmuls stay tfjs's.
 *   A recurrent actor's whole training pass (input layer, GRU, head; forward and backward) is
 *   one kernel op too (`actorSequence`, ActorSequenceKernel).
 * - 'f32-simd-tfjs-matmul': the same gate kernel with every matmul in tfjs (the path before the
 *   matmuls moved into the kernel; on wasm the same bits as 'f32-simd', kept to check that).
 */
export const GRU_GATES = ['f32-simd', 'f64-js', 'f32-simd-tfjs-matmul'] as const;
export type GruGates = (typeof GRU_GATES)[number];

/** `gateRows` on the chosen kernel (same arguments). */
export function gateRowsFor(gates: GruGates): typeof gateRows {
  return gates === 'f64-js' ? gateRows : gateRowsSimd;
}

/**
 * Whether `gates` runs the per-step hidden-side matmuls in the wasm kernel on the current
 * backend: wasm (the same bits as XNNPACK) and cpu (faster than tfjs-cpu's JS matmul; its
 * blocked summation gives other rounding). Elsewhere the backend's own matmul runs.
 */
export function kernelMatmul(tf: Tf, gates: GruGates): boolean {
  if (gates !== 'f32-simd') return false;
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/**
 * Activations of a GRU over `rows` rows per step for up to `maxSteps` steps, time-major
 * ([t][row][unit]). `ghn` is the hidden-side n pre-activation W_hn h + b_hn, needed by BPTT.
 */
export class GruTrace {
  readonly r: Float32Array;
  readonly z: Float32Array;
  readonly n: Float32Array;
  readonly ghn: Float32Array;
  /** h_t after step t. */
  readonly h: Float32Array;
  /** Steps recorded so far (set by the writer). */
  steps = 0;

  constructor(
    readonly maxSteps: number,
    readonly rows: number,
    readonly hidden: number,
  ) {
    const size = maxSteps * rows * hidden;
    this.r = new Float32Array(size);
    this.z = new Float32Array(size);
    this.n = new Float32Array(size);
    this.ghn = new Float32Array(size);
    this.h = new Float32Array(size);
  }

  /** Step t's activations, each `rows * hidden` long, from a kernel's output views. */
  recordStep(t: number, r: Float32Array, z: Float32Array, n: Float32Array, ghn: Float32Array, h: Float32Array): void {
    const off = t * this.rows * this.hidden;
    this.r.set(r, off);
    this.z.set(z, off);
    this.n.set(n, off);
    this.ghn.set(ghn, off);
    this.h.set(h, off);
    this.steps = Math.max(this.steps, t + 1);
  }
}

/**
 * Gates for `rows` consecutive rows on the CPU. gi/gh rows are [3H] (r, z, n pre-activations
 * including biases); writes h' rows and the trace at `trOff`. Exported for nn/policy-rop.ts,
 * whose forward must be this cell's to the last bit of rounding.
 */
export function gateRows(
  rows: number,
  H: number,
  gi: Float32Array,
  giOff: number,
  gh: Float32Array,
  ghOff: number,
  hp: Float32Array | null,
  hpOff: number,
  ho: Float32Array,
  hoOff: number,
  tr: GruTrace | null,
  trOff: number,
): void {
  const H3 = 3 * H;
  for (let i = 0; i < rows; i++) {
    const gio = giOff + i * H3;
    const gho = ghOff + i * H3;
    const hpo = hpOff + i * H;
    const hoo = hoOff + i * H;
    const tro = trOff + i * H;
    for (let j = 0; j < H; j++) {
      const r = 1 / (1 + Math.exp(-(gi[gio + j] + gh[gho + j])));
      const z = 1 / (1 + Math.exp(-(gi[gio + H + j] + gh[gho + H + j])));
      const ghn = gh[gho + 2 * H + j];
      // tanh(x) = 1 - 2 / (exp(2x) + 1): one exp is ~2x cheaper than Math.tanh in V8, exact
      // at the extremes, and accurate to ~1e-16 absolute (we store float32).
      const n = 1 - 2 / (Math.exp(2 * (gi[gio + 2 * H + j] + r * ghn)) + 1);
      const h = hp === null ? 0 : hp[hpo + j];
      ho[hoo + j] = (1 - z) * n + z * h;
      if (tr !== null) {
        tr.r[tro + j] = r;
        tr.z[tro + j] = z;
        tr.n[tro + j] = n;
        tr.ghn[tro + j] = ghn;
      }
    }
  }
}

/** Row counts an op keeps an own forward trace for (see OwnTraces). */
const OWN_TRACES = 3;

/**
 * The forward traces an op records into when its caller gives none, one per row count, reused
 * across calls: an op called alternately with two batch sizes (F2A2's mental cells: training
 * and prediction rows; COMA's actor update split into two parts of a batch) keeps a trace for
 * each instead of reallocating tens of MB per call. `take(..., reserve)` holds the trace until
 * `release` (a taped call's gradient still needs it); while held, callers get a fresh one.
 */
class OwnTraces {
  private readonly byRows = new Map<number, GruTrace>();
  private readonly held = new Set<GruTrace>();

  take(T: number, rows: number, hidden: number, reserve: boolean): GruTrace {
    let tr = this.byRows.get(rows);
    if (tr && this.held.has(tr)) return new GruTrace(T, rows, hidden);
    if (!tr || tr.maxSteps < T || tr.hidden !== hidden) {
      tr = new GruTrace(T, rows, hidden);
      // A few row counts at most; beyond that drop the oldest trace not held by a tape.
      if (!this.byRows.has(rows) && this.byRows.size >= OWN_TRACES) {
        for (const [k, v] of this.byRows) {
          if (!this.held.has(v)) {
            this.byRows.delete(k);
            break;
          }
        }
      }
      this.byRows.set(rows, tr);
    }
    tr.steps = 0;
    if (reserve) this.held.add(tr);
    return tr;
  }

  release(tr: GruTrace): void {
    this.held.delete(tr);
  }

  /** The traces kept, oldest row count first (what the tests check for reuse). */
  kept(): GruTrace[] {
    return [...this.byRows.values()];
  }
}

export class GRUCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly groups: number;
  readonly layerNorm: boolean;
  readonly gates: GruGates;
  readonly weightIh: Variable;
  readonly weightHh: Variable;
  readonly biasIh: Variable;
  readonly biasHh: Variable;
  readonly lnWeight: Variable | null = null;
  readonly lnBias: Variable | null = null;
  /** Reusable CPU buffers for `sequence` (grown on demand). */
  private readonly work = new ScratchBuffers();
  /** The forward traces of `sequence` calls given none (OwnTraces: one per row count). */
  private readonly ownTraces = new OwnTraces();

  /** Parameters: `${name}/weight_ih|weight_hh|bias_ih|bias_hh` (+ `ln_weight|ln_bias`). */
  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    opts: GruOptions,
    rng: Rng,
  ) {
    const G = opts.groups ?? 1;
    const I = opts.inputSize;
    const H = opts.hiddenSize;
    if (!(I > 0 && H > 0 && G > 0)) {
      throw new Error(`GRUCell ${name}: inputSize, hiddenSize and groups must be positive (got ${I}, ${H}, ${G})`);
    }
    this.inputSize = I;
    this.hiddenSize = H;
    this.groups = G;
    this.layerNorm = opts.layerNorm ?? false;
    this.gates = opts.gates ?? 'f64-js';
    if (!(GRU_GATES as readonly string[]).includes(this.gates)) {
      throw new Error(`GRUCell ${name}: gates must be one of ${GRU_GATES.join(', ')} (got ${String(this.gates)})`);
    }
    const bound = 1 / Math.sqrt(H);
    this.weightIh = params.add(`${name}/weight_ih`, [G, I, 3 * H], uniform(rng, G * I * 3 * H, bound));
    this.weightHh = params.add(`${name}/weight_hh`, [G, H, 3 * H], uniform(rng, G * H * 3 * H, bound));
    // Biases flat [G * 3H]: see groupedLinear (mlp.ts) for why rank 1.
    this.biasIh = params.add(`${name}/bias_ih`, [G * 3 * H], uniform(rng, G * 3 * H, bound));
    this.biasHh = params.add(`${name}/bias_hh`, [G * 3 * H], uniform(rng, G * 3 * H, bound));
    if (this.layerNorm) {
      this.lnWeight = params.add(`${name}/ln_weight`, [G * H], new Float32Array(G * H).fill(1));
      this.lnBias = params.add(`${name}/ln_bias`, [G * H], new Float32Array(G * H));
    }
  }


  /** Reference step in tfjs ops: x [G, R, in], h [G, R, H] -> h' [G, R, H]. Differentiable. */
  step(x: Tensor, h: Tensor): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const gi = groupedLinear(tf, x, this.weightIh, this.biasIh);
      const gh = groupedLinear(tf, h, this.weightHh, this.biasHh);
      const [giR, giZ, giN] = tf.split(gi, 3, 2);
      const [ghR, ghZ, ghN] = tf.split(gh, 3, 2);
      const r = tf.sigmoid(tf.add(giR, ghR));
      const z = tf.sigmoid(tf.add(giZ, ghZ));
      const n = tf.tanh(tf.add(giN, tf.mul(r, ghN)));
      return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
    });
  }

  /** What the next layer sees: LayerNorm(h) when enabled, else h itself. h [G, R, H]. */
  output(h: Tensor): Tensor {
    const tf = this.tf;
    if (!this.layerNorm) return h;
    return tf.tidy(() => {
      const G = this.groups;
      const H = this.hiddenSize;
      const mean = tf.mean(h, -1, true);
      const centred = tf.sub(h, mean);
      const variance = tf.mean(tf.square(centred), -1, true);
      const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5)));
      return tf.add(tf.mul(normed, tf.reshape(this.lnWeight!, [G, 1, H])), tf.reshape(this.lnBias!, [G, 1, H]));
    });
  }

  /**
   * One rollout step for `rows` = G * R rows (not differentiable). e [G, R, in] is the cell
   * input; `hPrev`/`hNext` hold [rows, H] on the CPU (they may not alias). When `trace` is given,
   * records step `t` into it. Returns h' as a tensor [G, R, H] (a copy; caller disposes).
   */
  stepRows(e: Tensor, hPrev: Float32Array, hNext: Float32Array, trace?: GruTrace, t = 0): Tensor {
    const tf = this.tf;
    const G = this.groups;
    const H = this.hiddenSize;
    const es = e.shape as number[];
    const rows = es[0] * es[1];
    if (es[0] !== G || es[2] !== this.inputSize) {
      throw new Error(`GRUCell.stepRows: input shape [${e.shape}] does not match [${G}, R, ${this.inputSize}]`);
    }
    if (hPrev.length !== rows * H || hNext.length !== rows * H) {
      throw new Error(`GRUCell.stepRows: hidden buffers must hold ${rows * H} values`);
    }
    if (trace && (trace.rows !== rows || trace.hidden !== H || t >= trace.maxSteps)) {
      throw new Error(`GRUCell.stepRows: trace is for ${trace.rows} rows x ${trace.maxSteps} steps, got ${rows} rows at t=${t}`);
    }
    // Both read-backs land in the cell's buffers (no per-step garbage); the two matmuls stay
    // separate because r needs W_hn h + b_hn on its own, and one fused [e | h] matmul would
    // also sum in another order.
    const H3 = 3 * H;
    if (this.gates !== 'f64-js') return this.stepRowsSimd(e, hPrev, hNext, rows, trace, t);
    const gi = this.work.get('stepGi', rows * H3);
    const gh = this.work.get('stepGh', rows * H3);
    tf.tidy(() => {
      readInto(tf, linearInfer(tf, e, this.weightIh, this.biasIh), gi);
      const hT = tf.tensor3d(hPrev, [G, rows / G, H]);
      readInto(tf, linearInfer(tf, hT, this.weightHh, this.biasHh), gh);
    });
    const off = t * rows * H;
    gateRows(rows, H, gi, 0, gh, 0, hPrev, 0, hNext, 0, trace ?? null, off);
    if (trace) {
      trace.h.set(hNext, off);
      trace.steps = Math.max(trace.steps, t + 1);
    }
    return upload(tf, hNext, [G, rows / G, H]);
  }

  /**
   * gh = h W_hh + b_hh for R rows per group in the kernel's memory (h [G][R][H] at pH, W_hh
   * [G][H][3H] at pW, b_hh [G][3H] at pB, gh [G][R][3H] at pGh): one kernel matmul per group,
   * the bits of the grouped tfjs matmul it replaces on wasm.
   */
  private hiddenMatmul(pH: number, pW: number, pB: number, pGh: number, R: number): void {
    const K = gateKernel();
    const H = this.hiddenSize;
    const H3 = 3 * H;
    for (let g = 0; g < this.groups; g++) {
      K.k.matmul(R, H, H3, pH + g * R * H * 4, pW + g * H * H3 * 4, pB + g * H3 * 4, pGh + g * R * H3 * 4, 0);
    }
  }

  /**
   * The whole acting step of Linear(in -> H) -> relu/linear -> this cell -> Linear(H -> A) in
   * the wasm kernel (`stepActor`), or null when it cannot run there (gates other than
   * 'f32-simd', a backend other than wasm/cpu, an activation other than relu/linear): then the
   * caller runs its tfjs layers and `stepRows`.
   */
  actorStep(inputAct: string): ActorStepKernel | null {
    if (!kernelMatmul(this.tf, this.gates) || (inputAct !== 'relu' && inputAct !== 'linear')) return null;
    return (this.actorKernel ??= new ActorStepKernel(this.tf, this));
  }
  private actorKernel: ActorStepKernel | undefined;

  /**
   * The on-policy training pass of the same network over a whole sequence in the wasm kernel
   * (`ActorSequenceKernel`), or null where `actorStep` is null: then the caller composes its
   * tfjs layers with `sequence`.
   */
  actorSequence(inputAct: string): ActorSequenceKernel | null {
    if (!kernelMatmul(this.tf, this.gates) || (inputAct !== 'relu' && inputAct !== 'linear')) return null;
    return (this.actorSeqKernel ??= new ActorSequenceKernel(this.tf, this));
  }
  private actorSeqKernel: ActorSequenceKernel | undefined;

  /** [G][r][c] -> [G][c][r] into the cell's buffer `name`. */
  private transposeGroups(src: Float32Array, r: number, c: number, name: string): Float32Array {
    const out = this.work.get(name, src.length);
    for (let g = 0; g < src.length / (r * c); g++) {
      const o = g * r * c;
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[o + j * r + i] = src[o + i * c + j];
    }
    return out;
  }

  /** stepRows on the SIMD kernel: the matmul outputs are read straight into its memory. */
  private stepRowsSimd(e: Tensor, hPrev: Float32Array, hNext: Float32Array, rows: number, trace: GruTrace | undefined, t: number): Tensor {
    const tf = this.tf;
    const G = this.groups;
    const H = this.hiddenSize;
    const H3 = 3 * H;
    const nh = rows * H;
    const K = gateKernel();
    const inKernel = kernelMatmul(tf, this.gates);
    const wN = inKernel ? G * H * H3 : 0;
    const [pGi, pGh, pHp, pHo, pR, pZ, pN, pGhn, pW, pB] = K.layout(rows * H3, rows * H3, nh, nh, nh, nh, nh, nh, wN, inKernel ? G * H3 : 0);
    K.f32(pHp, nh).set(hPrev);
    tf.tidy(() => {
      readInto(tf, linearInfer(tf, e, this.weightIh, this.biasIh), K.f32(pGi, rows * H3));
      if (inKernel) return;
      const hT = tf.tensor3d(hPrev, [G, rows / G, H]);
      readInto(tf, linearInfer(tf, hT, this.weightHh, this.biasHh), K.f32(pGh, rows * H3));
    });
    if (inKernel) {
      readInto(tf, this.weightHh, K.f32(pW, wN));
      readInto(tf, this.biasHh, K.f32(pB, G * H3));
      this.hiddenMatmul(pHp, pW, pB, pGh, rows / G);
    }
    K.k.gatesForward(1, rows, H, pGi, 0, pGh, pHp, pHo, trace ? pR : 0, pZ, pN, pGhn);
    hNext.set(K.f32(pHo, nh));
    if (trace) trace.recordStep(t, K.f32(pR, nh), K.f32(pZ, nh), K.f32(pN, nh), K.f32(pGhn, nh), hNext);
    return upload(tf, hNext, [G, rows / G, H]);
  }

  /**
   * The forward of `sequence` on the SIMD kernel: the input-side gates of all steps and each
   * step's hidden-side gates are read straight into the kernel's memory, the activations of all
   * T steps stay there and are copied into `tr` once at the end.
   */
  private sequenceForwardSimd(eIn: Tensor, wih: Tensor, bih: Tensor, whh: Tensor, bhh: Tensor, N: number, T: number, B: number, tr: GruTrace): void {
    const tf = this.tf;
    this.forwardSimd(whh, bhh, N, T, B, tr, null, (pGI) => {
      tf.tidy(() => {
        readInto(tf, linearInfer(tf, eIn, wih, bih), gateKernel().f32(pGI, N * T * B * 3 * this.hiddenSize));
      });
    });
  }

  /**
   * The core of `sequenceForwardSimd`: the input-side gates [N][T][B][3H] (biases included) at
   * io.gi, laid out by the caller before io.base (kernel matmuls only), or written by `fill`
   * into this call's own layout.
   */
  forwardSimd(whh: Tensor, bhh: Tensor, N: number, T: number, B: number, tr: GruTrace, io: { base: number; gi: number } | null, fill: (pGI: number) => void): void {
    const tf = this.tf;
    const G = this.groups;
    const H = this.hiddenSize;
    const H3 = 3 * H;
    const rows = N * B;
    const nh = rows * H;
    const TH = T * nh;
    const K = gateKernel();
    const inKernel = kernelMatmul(tf, this.gates);
    if (io && !inKernel) throw new Error('GRUCell.forwardSimd: caller arrays need the kernel matmuls (gates f32-simd on wasm/cpu)');
    const wN = inKernel ? G * H * H3 : 0;
    const counts = [io ? 0 : N * T * B * H3, rows * H3, TH, TH, TH, TH, TH, wN, inKernel ? G * H3 : 0, inKernel ? nh : 0];
    const ptrs = io ? K.layoutFrom(io.base, ...counts) : K.layout(...counts);
    const [, pGh, pR, pZ, pN, pGhn, pH, pW, pB, pZero] = ptrs;
    const pGI = io ? io.gi : ptrs[0];
    if (!io) fill(pGI);
    if (inKernel) {
      readInto(tf, whh, K.f32(pW, wN));
      readInto(tf, bhh, K.f32(pB, G * H3));
      K.f32(pZero, nh).fill(0);
    }
    // h_0 = 0: gh = b_hh + a sum of +-0 products, which is b_hh itself unless an entry of b_hh
    // is a zero (a -0 bias can come out +0), so copy the bias rows then and skip the matmul.
    const biasRows = inKernel && K.f32(pB, G * H3).every((v) => v !== 0);
    for (let t = 0; t < T; t++) {
      const o = t * nh * 4;
      if (t === 0 && biasRows) {
        const R = rows / G;
        const gh = K.f32(pGh, rows * H3);
        for (let g = 0; g < G; g++) {
          const b = K.f32(pB + g * H3 * 4, H3);
          for (let r = 0; r < R; r++) gh.set(b, (g * R + r) * H3);
        }
      } else if (inKernel) {
        this.hiddenMatmul(t === 0 ? pZero : pH + o - nh * 4, pW, pB, pGh, rows / G);
      } else {
        tf.tidy(() => {
          const hT = t === 0 ? tf.zeros([G, rows / G, H]) : upload(tf, K.f32(pH + o - nh * 4, nh), [G, rows / G, H]);
          readInto(tf, linearInfer(tf, hT, whh, bhh), K.f32(pGh, rows * H3));
        });
      }
      // Step t's rows of block a start at input-gate row (a T + t) B.
      K.k.gatesForward(N, B, H, pGI + t * B * H3 * 4, T * B * H3 * 4, pGh, t === 0 ? 0 : pH + o - nh * 4, pH + o, pR + o, pZ + o, pN + o, pGhn + o);
    }
    tr.r.set(K.f32(pR, TH));
    tr.z.set(K.f32(pZ, TH));
    tr.n.set(K.f32(pN, TH));
    tr.ghn.set(K.f32(pGhn, TH));
    tr.h.set(K.f32(pH, TH));
  }

  /**
   * The BPTT of `sequence` on the SIMD kernel: per step one kernel call (all gate derivatives,
   * the transposed weight-gradient operands, the bias sums) and the recurrent matmul. Returns
   * dX, dW_ih, db_ih, dW_hh, db_hh as the float64 path does.
   */
  private sequenceBackwardSimd(dy: Tensor, tr: GruTrace, eS: Tensor, wihS: Tensor, whhT: Tensor, N: number, T: number, B: number, inputGrad: boolean): Tensor[] {
    const tf = this.tf;
    const G = this.groups;
    const H3 = 3 * this.hiddenSize;
    const I = this.inputSize;
    const n = N * T * B;
    const m = n / G;
    const K = gateKernel();
    const o = this.bpttSimd(tr, wihS, whhT, N, T, B, inputGrad, null, (pDHs, pE) => {
      readInto(tf, dy, K.f32(pDHs, n * this.hiddenSize));
      if (pE) readInto(tf, eS, K.f32(pE, n * I));
    });
    if (o.inKernel) {
      return tf.tidy(() => [
        inputGrad ? upload(tf, K.f32(o.pDX, n * I), [G, m, I]) : tf.zeros([G, m, I]),
        upload(tf, o.dWih!, [G, I, H3]),
        tf.tensor1d(Float32Array.from(o.dBih)),
        upload(tf, o.dWhh!, [G, this.hiddenSize, H3]),
        tf.tensor1d(Float32Array.from(o.dBhh)),
      ]);
    }
    const { pDGI, pDGIT, pDGHT, pHPrev } = o;
    const H = this.hiddenSize;
    return tf.tidy(() => [
      inputGrad ? groupMatMul(tf, upload(tf, K.f32(pDGI, n * H3), [G, m, H3]), transposeLast(tf, wihS)) : tf.zeros([G, m, I]),
      transposeLast(tf, groupMatMul(tf, upload(tf, K.f32(pDGIT, n * H3), [G, H3, m]), eS)),
      tf.tensor1d(Float32Array.from(o.dBih)),
      transposeLast(tf, groupMatMul(tf, upload(tf, K.f32(pDGHT, n * H3), [G, H3, m]), upload(tf, K.f32(pHPrev, n * H), [G, m, H]))),
      tf.tensor1d(Float32Array.from(o.dBhh)),
    ]);
  }

  /**
   * The BPTT core of `sequenceBackwardSimd` in the kernel's memory. `io`: the caller's own
   * arrays there (dL/dh of every step [G][m][H] at io.dHs, the input e [G][m][in] at io.e) and
   * where this call may start laying out its own (io.base); the caller laid them out with the
   * same `layout` call that returned io.base. Without `io` this lays out from the start and
   * `fill(pDHs, pE)` writes dL/dh and, when the matmuls run in the kernel (pE != 0), e.
   * With the matmuls in the kernel it returns dX at pDX ([G][m][in], when inputGrad) and the
   * weight gradients as [G][in][3H], [G][H][3H]; otherwise the operands of the tfjs matmuls.
   */
  bpttSimd(
    tr: GruTrace,
    wihS: Tensor,
    whhT: Tensor,
    N: number,
    T: number,
    B: number,
    inputGrad: boolean,
    io: { base: number; dHs: number; e: number } | null,
    fill: (pDHs: number, pE: number) => void,
  ): BpttOut {
    const tf = this.tf;
    const G = this.groups;
    const H = this.hiddenSize;
    const H3 = 3 * H;
    const rows = N * B;
    const n = N * T * B;
    const m = n / G;
    const nh = rows * H;
    const TH = T * nh;
    const K = gateKernel();
    const inKernel = kernelMatmul(tf, this.gates);
    if (io && !inKernel) throw new Error('GRUCell.bpttSimd: caller arrays need the kernel matmuls (gates f32-simd on wasm/cpu)');
    const wN = inKernel ? G * H3 * H : 0;
    const I = this.inputSize;
    // In the kernel also the three matmuls over all rows at the end (their operands are already
    // in its memory; tfjs would take ~20 MB of uploads): e, W_ih^T and the outputs laid out too.
    const counts = [
      TH, TH, TH, TH, TH, io ? 0 : n * H, n * H3, n * H3, n * H3, n * H, rows * H3, nh, nh, -G * H3, -G * H3, wN,
      inKernel && !io ? n * I : 0, inKernel ? G * H3 * I : 0, inKernel ? n * I : 0, inKernel ? G * H3 * I : 0, inKernel ? G * H3 * H : 0,
    ];
    const ptrs = io ? K.layoutFrom(io.base, ...counts) : K.layout(...counts);
    const [pR, pZ, pN, pGhn, pH, , pDGI, pDGIT, pDGHT, pHPrev, pDgh, pDh, pBack, pBih, pBhh, pWT, , pWihT, pDX, pDWih, pDWhh] = ptrs;
    const pDHs = io ? io.dHs : ptrs[5];
    const pE = io ? io.e : inKernel ? ptrs[16] : 0;
    if (inKernel) readInto(tf, whhT, K.f32(pWT, wN));
    const R = rows / G;
    K.f32(pR, TH).set(tr.r.subarray(0, TH));
    K.f32(pZ, TH).set(tr.z.subarray(0, TH));
    K.f32(pN, TH).set(tr.n.subarray(0, TH));
    K.f32(pGhn, TH).set(tr.ghn.subarray(0, TH));
    K.f32(pH, TH).set(tr.h.subarray(0, TH));
    if (!io) fill(pDHs, pE);
    K.f32(pDh, nh).fill(0);
    const dBih = K.f64(pBih, G * H3).fill(0);
    const dBhh = K.f64(pBhh, G * H3).fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const o = t * nh * 4;
      K.k.gatesBackward(
        N, B, T, t, H, m,
        pDh, t === T - 1 ? 0 : pBack, pDHs, pR + o, pZ + o, pN + o, pGhn + o, t > 0 ? pH + o - nh * 4 : 0,
        pDGI, pDGIT, pDGHT, pHPrev, pDgh, pBih, pBhh,
      );
      if (t > 0 && inKernel) {
        // dL/dh_{t-1}'s recurrent part, dG_hh W_hh^T, per group (W_hh^T [G][3H][H] at pWT).
        for (let g = 0; g < G; g++) K.k.matmul(R, H3, H, pDgh + g * R * H3 * 4, pWT + g * H3 * H * 4, 0, pBack + g * R * H * 4, 0);
      } else if (t > 0) {
        tf.tidy(() => {
          const d = upload(tf, K.f32(pDgh, rows * H3), [G, R, H3]);
          readInto(tf, groupMatMul(tf, d, whhT), K.f32(pBack, nh));
        });
      }
    }
    for (let g = 0; g < G; g++) for (let c = 0; c < 2 * H; c++) dBhh[g * H3 + c] = dBih[g * H3 + c];
    if (!inKernel) return { inKernel, pDX: 0, pDGI, pDGIT, pDGHT, pHPrev, dWih: null, dWhh: null, dBih, dBhh };
    // The products the tfjs path computes, in the same summation order (so the same bits on
    // wasm): dX = dG_ih W_ih^T; dW^T = dG^T X, transposed here rather than by a kernel.
    if (inputGrad) {
      tf.tidy(() => {
        readInto(tf, transposeLast(tf, wihS), K.f32(pWihT, G * H3 * I));
      });
    }
    for (let g = 0; g < G; g++) {
      if (inputGrad) K.k.matmul(m, H3, I, pDGI + g * m * H3 * 4, pWihT + g * H3 * I * 4, 0, pDX + g * m * I * 4, 0);
      K.k.matmul(H3, m, I, pDGIT + g * H3 * m * 4, pE + g * m * I * 4, 0, pDWih + g * H3 * I * 4, 0);
      K.k.matmul(H3, m, H, pDGHT + g * H3 * m * 4, pHPrev + g * m * H * 4, 0, pDWhh + g * H3 * H * 4, 0);
    }
    const dWih = this.transposeGroups(K.f32(pDWih, G * H3 * I), H3, I, 'dWih');
    const dWhh = this.transposeGroups(K.f32(pDWhh, G * H3 * H), H3, H, 'dWhh');
    return { inKernel, pDX, pDGI, pDGIT, pDGHT, pHPrev, dWih, dWhh, dBih, dBhh };
  }

  /**
   * The whole sequence from h_0 = 0, differentiable w.r.t. e and the cell's weights.
   * e is [G, N*T*B/G, in] laid out [N][T][B] (group = a block of N/G outer indices); returns
   * hidden states h_1..h_T in the same layout, [G, N*T*B/G, H]. Step t processes the N*B rows
   * (n, t, b) together, in [N][B] order: the order `stepRows` and `GruTrace` use.
   *
   * `trace`: activations recorded by `stepRows` for exactly these inputs and the CURRENT
   * weights (steps 0..T-1, rows N*B). Then the forward is not recomputed. Passing a trace made
   * with other weights or inputs silently gives wrong gradients.
   *
   * `inputGrad = false`: e is data (the first layer of a stack), so its gradient is returned as
   * zeros without the [rows, 3H] x [3H, in] matmul; the weight gradients are unchanged.
   */
  sequence(e: Tensor, N: number, T: number, B: number, trace?: GruTrace, inputGrad = true): Tensor {
    const tf = this.tf;
    const G = this.groups;
    const H = this.hiddenSize;
    const I = this.inputSize;
    const rows = N * B;
    if (N % G !== 0) throw new Error(`GRUCell.sequence: N=${N} must be a multiple of groups=${G}`);
    const es = e.shape as number[];
    if (e.rank !== 3 || es[0] !== G || es[1] * G !== N * T * B || es[2] !== I) {
      throw new Error(`GRUCell.sequence: input shape [${e.shape}] does not match [${G}, ${(N * T * B) / G}, ${I}]`);
    }
    if (trace && (trace.rows !== rows || trace.hidden !== H || trace.steps < T)) {
      throw new Error(
        `GRUCell.sequence: trace has ${trace.steps} steps of ${trace.rows} rows, need ${T} steps of ${rows}`,
      );
    }
    const H3 = 3 * H;
    const seqShape: [number, number, number] = [G, (N * T * B) / G, H];

    // The forward's activations go into the cell's own trace when no caller's trace is given;
    // it stays reserved until the gradient has used it (a second call before then gets a
    // fresh one), and is not reserved at all when no tape records this call.
    const taped = (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
    const own = trace ? null : this.ownTraces.take(T, rows, H, taped);

    const op = tf.customGrad((...args: unknown[]) => {
      const [eIn, wih, bih, whh, bhh] = args as Tensor[];
      const save = args[5] as (ts: Tensor[]) => void;
      save([eIn, wih, whh]);

      // ---- forward (or reuse the rollout's trace) ----
      let tr = trace;
      if (!tr && this.gates !== 'f64-js') {
        tr = own!;
        this.sequenceForwardSimd(eIn, wih, bih, whh, bhh, N, T, B, tr);
        tr.steps = T;
      } else if (!tr) {
        tr = own!;
        const GI = this.work.get('GI', N * T * B * H3);
        const gh = this.work.get('stepGh', rows * H3);
        tf.tidy(() => {
          readInto(tf, linearInfer(tf, eIn, wih, bih), GI);
        });
        for (let t = 0; t < T; t++) {
          const hPrev = t === 0 ? null : tr.h.subarray((t - 1) * rows * H, t * rows * H);
          tf.tidy(() => {
            const hT = hPrev === null ? tf.zeros([G, rows / G, H]) : tf.tensor3d(hPrev, [G, rows / G, H]);
            readInto(tf, linearInfer(tf, hT, whh, bhh), gh);
          });
          for (let a = 0; a < N; a++) {
            const off = (t * rows + a * B) * H;
            gateRows(B, H, GI, (a * T + t) * B * H3, gh, a * B * H3, hPrev, a * B * H, tr.h, off, tr, off);
          }
        }
        tr.steps = T;
      }
      const hs = this.work.get('hs', N * T * B * H);
      for (let a = 0; a < N; a++) {
        for (let t = 0; t < T; t++) {
          const src = (t * rows + a * B) * H;
          hs.set(tr.h.subarray(src, src + B * H), (a * T + t) * B * H);
        }
      }
      const value = upload(tf, hs, seqShape);
      const trFinal = tr;

      // ---- hand-written BPTT ----
      // Plain (untransposed) matmuls only: the wasm backend's transposed matmuls are slow.
      // Every buffer comes from the cell's workspace (reused across calls: no GC), and the
      // transposed operands of the weight gradients are written here rather than by Transpose
      // kernels (the same bytes: a transpose only moves values).
      const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => {
        const [eS, wihS, whhS] = saved;
        if (this.gates !== 'f64-js') {
          const whhTs = transposeLast(tf, whhS);
          const out = this.sequenceBackwardSimd(dy, trFinal, eS, wihS, whhTs, N, T, B, inputGrad);
          whhTs.dispose();
          if (own) this.ownTraces.release(own);
          return out;
        }
        const n = N * T * B;
        const m = n / G; // rows per group
        const dHs = readInto(tf, dy, this.work.get('dHs', n * H));
        const dGI = this.work.get('dGI', n * H3); // [N][T][B][3H], fully written below
        // dG^T per group, [G][3H][m], for the weight gradients; written in the loop (its B
        // consecutive rows per block keep the strided stores within a few cache lines).
        const dGIT = this.work.get('dGIT', n * H3);
        const dGHT = this.work.get('dGHT', n * H3);
        const hPrev = this.work.get('hPrev', n * H); // h_{t-1} in [N][T][B] order
        const dghStep = this.work.get('dghStep', rows * H3);
        const back = this.work.get('back', rows * H);
        let dh = this.work.get('dhA', rows * H).fill(0);
        let dhNext = this.work.get('dhB', rows * H);
        const { r: R, z: Z, n: Nn, ghn: GHN, h: Hs } = trFinal;
        const whhT = transposeLast(tf, whhS); // [G, 3H, H]
        // Bias gradients are column sums of dGI / dGH: accumulated here, because a ones-row
        // matmul makes XNNPACK repack the whole fresh [rows, 3H] operand (~15 ms per call).
        const dBih = new Float64Array(G * H3);
        const dBhh = new Float64Array(G * H3);
        for (let t = T - 1; t >= 0; t--) {
          const trt = t * rows * H;
          for (let a = 0; a < N; a++) {
            const s0 = (a * T + t) * B; // first [N][T][B] row of this agent block
            const i0 = a * B; // first step row
            const g = Math.floor(s0 / m); // this block's group (blocks never straddle groups)
            const bo = g * H3;
            const tb = g * H3 * m - g * m; // dG^T offset of (group g, column 0, row s) is tb + s
            for (let k = 0; k < B; k++) {
              const i = i0 + k;
              const s = s0 + k;
              const tro = trt + i * H;
              const hpo = tro - rows * H;
              const gio = s * H3;
              const dgo = i * H3;
              const dho = i * H;
              const dso = s * H;
              const ts = tb + s;
              for (let j = 0; j < H; j++) {
                const dhj = dh[dho + j] + dHs[dso + j];
                const z = Z[tro + j];
                const r = R[tro + j];
                const nv = Nn[tro + j];
                const hp = t > 0 ? Hs[hpo + j] : 0;
                const dn = dhj * (1 - z) * (1 - nv * nv);
                const dz = dhj * (hp - nv) * z * (1 - z);
                const dr = dn * GHN[tro + j] * r * (1 - r);
                const dnr = dn * r;
                dGI[gio + j] = dr;
                dGI[gio + H + j] = dz;
                dGI[gio + 2 * H + j] = dn;
                const tj = ts + j * m;
                dGIT[tj] = dr;
                dGIT[tj + H * m] = dz;
                dGIT[tj + 2 * H * m] = dn;
                dGHT[tj] = dr;
                dGHT[tj + H * m] = dz;
                dGHT[tj + 2 * H * m] = dnr;
                dghStep[dgo + j] = dr;
                dghStep[dgo + H + j] = dz;
                dghStep[dgo + 2 * H + j] = dnr;
                dBih[bo + j] += dr;
                dBih[bo + H + j] += dz;
                dBih[bo + 2 * H + j] += dn;
                dBhh[bo + 2 * H + j] += dnr;
                dh[dho + j] = dhj * z; // the direct path h_{t-1} -> h_t; matmul path added below
              }
            }
            // h_{t-1} rows of this block, for dW_hh (zeros at t = 0).
            if (t > 0) hPrev.set(Hs.subarray(trt - rows * H + i0 * H, trt - rows * H + (i0 + B) * H), s0 * H);
            else hPrev.fill(0, s0 * H, (s0 + B) * H);
          }
          if (t > 0) {
            // dL/dh_{t-1} = dh * z + dgh @ W_hh^T
            tf.tidy(() => {
              const d = tf.tensor3d(dghStep, [G, rows / G, H3]);
              readInto(tf, groupMatMul(tf, d, whhT), back);
            });
            for (let k = 0; k < rows * H; k++) dhNext[k] = dh[k] + back[k];
            [dh, dhNext] = [dhNext, dh];
          }
        }
        // r and z columns of the two bias gradients are equal.
        for (let g = 0; g < G; g++) for (let c = 0; c < 2 * H; c++) dBhh[g * H3 + c] = dBih[g * H3 + c];
        const grads = tf.tidy(() => {
          const dGIt = tf.tensor3d(dGI, [G, m, H3]);
          // Weight gradients as (dG^T @ X)^T: with K = m rows that long, XNNPACK is ~2x faster
          // with the 3H side as the output rows than as the columns.
          return [
            inputGrad ? groupMatMul(tf, dGIt, transposeLast(tf, wihS)) : tf.zeros([G, m, this.inputSize]),
            transposeLast(tf, groupMatMul(tf, tf.tensor3d(dGIT, [G, H3, m]), eS)),
            tf.tensor1d(Float32Array.from(dBih)),
            transposeLast(tf, groupMatMul(tf, tf.tensor3d(dGHT, [G, H3, m]), tf.tensor3d(hPrev, [G, m, H]))),
            tf.tensor1d(Float32Array.from(dBhh)),
          ];
        });
        whhT.dispose();
        if (own) this.ownTraces.release(own);
        return grads;
      };
      return { value, gradFunc };
    });
    return op(e, this.weightIh, this.biasIh, this.weightHh, this.biasHh);
  }
}

/** What `GRUCell.bpttSimd` leaves: pointers into the kernel's memory and the gradients. */
export interface BpttOut {
  inKernel: boolean;
  /** dL/de [G][m][in] (kernel matmuls and inputGrad only). */
  pDX: number;
  pDGI: number;
  pDGIT: number;
  pDGHT: number;
  pHPrev: number;
  /** [G][in][3H] and [G][H][3H] in the cell's scratch (kernel matmuls only). */
  dWih: Float32Array | null;
  dWhh: Float32Array | null;
  /** Views of the kernel's memory (valid until its next layout). */
  dBih: Float64Array;
  dBhh: Float64Array;
}

/** A layer as the kernel sees it: weight [G, in, out], bias flat [G * out]. */
export interface KernelLinear {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly inDim: number;
  readonly outDim: number;
}

/**
 * One acting step of input layer -> GRU -> head for all rows as one pass through the wasm
 * kernel: four matmuls per group and the gates, no tfjs kernel, upload or read-back. On wasm
 * the same bits as the tfjs path (linearInfer's _FusedMatMul with relu, stepRows, the head's
 * _FusedMatMul): the kernel's matmul sums in XNNPACK's order (test/nn/gru-simd.test.ts).
 *
 * The weights (about 60k floats at H = 64) are copied into the kernel's memory only when they
 * changed: the optimiser and checkpoint loads `assign`, which gives a variable a new dataId,
 * and the copy is kept only while no other caller has laid out the kernel's memory since this
 * step's previous call (GateKernel.layouts).
 */
export class ActorStepKernel {
  private stamp = -1;
  private keys: object[] = [];
  private sizes = '';

  constructor(
    private readonly tf: Tf,
    private readonly cell: GRUCell,
  ) {}

  /**
   * x [G][R][in] (rows in the cell's order), hPrev/hNext [rows][H] on the CPU; records step t
   * into `trace` when given. Returns the logits [rows][A] (a fresh array).
   */
  run(x: Float32Array | Tensor, input: KernelLinear, relu: boolean, head: KernelLinear, hPrev: Float32Array, hNext: Float32Array, trace?: GruTrace, t = 0): Float32Array {
    const tf = this.tf;
    const cell = this.cell;
    const G = cell.groups;
    const H = cell.hiddenSize;
    const H3 = 3 * H;
    const O = input.inDim;
    const A = head.outDim;
    const rows = hPrev.length / H;
    const R = rows / G;
    const nh = rows * H;
    const xn = x instanceof Float32Array ? x.length : x.size;
    if (xn !== rows * O) throw new Error(`ActorStepKernel: x has ${xn} values, expected ${rows} rows x ${O}`);
    if (input.outDim !== cell.inputSize || head.inDim !== H || hNext.length !== nh || !Number.isInteger(R)) {
      throw new Error(`ActorStepKernel: layer sizes ${O}->${input.outDim}, GRU ${cell.inputSize}->${H}, head ${head.inDim}->${A}, ${rows} rows for ${G} groups do not fit`);
    }
    if (trace && (trace.rows !== rows || trace.hidden !== H || t >= trace.maxSteps)) {
      throw new Error(`ActorStepKernel: trace is for ${trace.rows} rows x ${trace.maxSteps} steps, got ${rows} rows at t=${t}`);
    }
    const K = gateKernel();
    const wIn = G * O * H;
    const wG = G * H * H3;
    const wHd = G * H * A;
    const sizes = `${rows},${O},${H},${A},${G}`;
    const [pWin, pBin, pWih, pBih, pWhh, pBhh, pWhd, pBhd, pX, pE, pGi, pGh, pHp, pHo, pR, pZ, pN, pGhn, pL] = K.layout(
      wIn, G * H, wG, G * H3, wG, G * H3, wHd, G * A,
      rows * O, nh, rows * H3, rows * H3, nh, nh, nh, nh, nh, nh, rows * A,
    );
    const ts = [input.weight, input.bias, cell.weightIh, cell.biasIh, cell.weightHh, cell.biasHh, head.weight, head.bias];
    const keys = ts.map((w) => w.dataId as object);
    const fresh = this.stamp === K.layouts - 1 && this.sizes === sizes && keys.every((k, i) => k === this.keys[i]);
    if (!fresh) {
      const ptrs = [pWin, pBin, pWih, pBih, pWhh, pBhh, pWhd, pBhd];
      ts.forEach((w, i) => readInto(tf, w, K.f32(ptrs[i], w.size)));
      this.keys = keys;
      this.sizes = sizes;
    }
    this.stamp = K.layouts;
    if (x instanceof Float32Array) K.f32(pX, rows * O).set(x);
    else readInto(tf, x, K.f32(pX, rows * O));
    K.f32(pHp, nh).set(hPrev);
    const k = K.k;
    for (let g = 0; g < G; g++) {
      const e = pE + g * R * H * 4;
      k.matmul(R, O, H, pX + g * R * O * 4, pWin + g * O * H * 4, pBin + g * H * 4, e, relu ? 1 : 0);
      k.matmul(R, H, H3, e, pWih + g * H * H3 * 4, pBih + g * H3 * 4, pGi + g * R * H3 * 4, 0);
      k.matmul(R, H, H3, pHp + g * R * H * 4, pWhh + g * H * H3 * 4, pBhh + g * H3 * 4, pGh + g * R * H3 * 4, 0);
    }
    k.gatesForward(1, rows, H, pGi, 0, pGh, pHp, pHo, trace ? pR : 0, pZ, pN, pGhn);
    for (let g = 0; g < G; g++) {
      k.matmul(R, H, A, pHo + g * R * H * 4, pWhd + g * H * A * 4, pBhd + g * A * 4, pL + g * R * A * 4, 0);
    }
    hNext.set(K.f32(pHo, nh));
    if (trace) trace.recordStep(t, K.f32(pR, nh), K.f32(pZ, nh), K.f32(pN, nh), K.f32(pGhn, nh), hNext);
    return K.f32(pL, rows * A).slice();
  }
}

/**
 * The training forward and backward of input layer -> GRU -> head over a whole [N][T][B]
 * sequence, reusing the rollout's trace when given one, as ONE differentiable op whose matmuls
 * all run in the wasm kernel (the updates of PG and COMA; `GRUCell.actorSequence`). It replaces
 * groupedLinear (input) -> `sequence` -> groupedLinear (head), whose input and head layers ran
 * in tfjs over all rows (two _FusedMatMuls forward; four matmuls, three Transposes, a Step, two
 * Sums and ~100 reshapes and copies backward, with every operand uploaded).
 *
 * Same bits on wasm as that composition: every product is the same kernel matmul in XNNPACK's
 * summation order with the operands of the tfjs path (weight gradients as (dZ^T X)^T, the
 * transpose moving values only, so the long-K side is the rows and the packed operand X), the
 * relu derivative multiplies by step(e) as tfjs does (so -0 stays -0), and the bias gradients
 * are float32 sums from row 0, as tfjs-wasm's Sum (test/nn/gru-simd.test.ts checks values and
 * all nine gradients against the tfjs path).
 */
export class ActorSequenceKernel {
  constructor(
    private readonly tf: Tf,
    private readonly cell: GRUCell,
  ) {}

  /** Reusable JS buffers (grown on demand). */
  private readonly work = new ScratchBuffers();
  /**
   * The forward traces of calls without one, one per row count (OwnTraces): COMA's split update
   * calls this op with two row counts per round, which with a single trace reallocated it at
   * every call (2.5-5% of a one-thread update, docs/performance.md issue-15c).
   */
  private readonly traces = new OwnTraces();

  /**
   * Logits [G, N*T*B/G, A] of the rows x [G, N*T*B/G, in] ([N][T][B] layout). `traceIn`: their
   * GRU activations as the rollout recorded them (steps 0..T-1 of N*B rows, with the current
   * weights and these inputs: `GRUCell.sequence`'s contract); without it the GRU's forward runs
   * here. x is data: its gradient is zeros.
   */
  logits(x: Tensor, input: KernelLinear, relu: boolean, head: KernelLinear, N: number, T: number, B: number, traceIn?: GruTrace): Tensor {
    const tf = this.tf;
    const cell = this.cell;
    const G = cell.groups;
    const H = cell.hiddenSize;
    const O = input.inDim;
    const A = head.outDim;
    const n = N * T * B;
    const m = n / G;
    const rows = N * B;
    const xs = x.shape as number[];
    if (N % G !== 0 || x.rank !== 3 || xs[0] !== G || xs[1] !== m || xs[2] !== O) {
      throw new Error(`ActorSequenceKernel: input shape [${x.shape}] does not match [${G}, ${m}, ${O}] (N=${N} must be a multiple of groups=${G})`);
    }
    if (input.outDim !== cell.inputSize || head.inDim !== H) {
      throw new Error(`ActorSequenceKernel: layer sizes ${O}->${input.outDim}, GRU ${cell.inputSize}->${H}, head ${head.inDim}->${A} do not fit`);
    }
    if (traceIn && (traceIn.rows !== rows || traceIn.hidden !== H || traceIn.steps < T)) {
      throw new Error(`ActorSequenceKernel: trace has ${traceIn.steps} steps of ${traceIn.rows} rows, need ${T} steps of ${rows}`);
    }
    // No trace (other weights or episodes than the rollout's): the GRU's forward runs here too,
    // into this op's own trace, held until the gradient has used it (as GRUCell.sequence does).
    const taped = (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
    const own = traceIn ? null : this.traces.take(T, rows, H, taped);
    const trace = traceIn ?? own!;
    const H3 = 3 * H;
    const K = gateKernel();
    const nh = n * H;
    // One layout for the forward's arrays and the backward's own (the BPTT lays out after them).
    const counts = [n * O, G * O * H, G * H, nh, nh, G * H * A, G * A, n * A, n * A, n * A, G * A * H, G * A * H, nh, nh, G * H * O, G * A, G * H];
    // Without a trace also W_ih, b_ih and the input-side gates of all steps.
    if (own) counts.push(G * H * H3, G * H3, n * H3);
    let ready = !own;
    let stamp = -1;
    let ptrs: number[] = [];
    /** x, the two layers' weights, e = act(x W_in + b_in) and the GRU outputs h into the kernel's memory. */
    const stage = (xT: Tensor, wIn: Tensor, bIn: Tensor, wHd: Tensor, bHd: Tensor): void => {
      ptrs = K.layout(...counts);
      stamp = K.layouts;
      const [pX, pWin, pBin, pE, , pWhd, pBhd] = ptrs;
      readInto(tf, xT, K.f32(pX, n * O));
      readInto(tf, wIn, K.f32(pWin, G * O * H));
      readInto(tf, bIn, K.f32(pBin, G * H));
      readInto(tf, wHd, K.f32(pWhd, G * H * A));
      readInto(tf, bHd, K.f32(pBhd, G * A));
      // G > 1 with relu: tf.fused.matMul, which groupedLinear runs per group then, un-fuses the
      // activation while a tape records: relu(x W + b), the bias added after the sum (not
      // first, as in the fused kernel) and rounded once more; the same here.
      const split = G > 1 && relu;
      for (let g = 0; g < G; g++) {
        K.k.matmul(m, O, H, pX + g * m * O * 4, pWin + g * O * H * 4, split ? 0 : pBin + g * H * 4, pE + g * m * H * 4, relu && !split ? 1 : 0);
      }
      if (split) {
        const e = K.f32(pE, nh);
        const b = K.f32(pBin, G * H);
        for (let g = 0; g < G; g++) {
          for (let k = g * m; k < (g + 1) * m; k++) {
            for (let j = 0; j < H; j++) {
              const v = Math.fround(e[k * H + j] + b[g * H + j]);
              e[k * H + j] = v < 0 ? 0 : v;
            }
          }
        }
      }
      if (ready) copyHs();
    };
    /** The trace is time-major [t][N][B][H]; the rows here are [N][T][B]. */
    const copyHs = (): void => {
      const hs = K.f32(ptrs[4], nh);
      for (let a = 0; a < N; a++) {
        for (let t = 0; t < T; t++) {
          const src = (t * rows + a * B) * H;
          hs.set(trace.h.subarray(src, src + B * H), (a * T + t) * B * H);
        }
      }
    };

    const op = tf.customGrad((...args: unknown[]) => {
      const [xIn0, wIn0, bIn0, wih0, , whh0, , wHd0, bHd0] = args as Tensor[];
      (args[9] as (t: Tensor[]) => void)([xIn0, wIn0, bIn0, wih0, whh0, wHd0, bHd0]);
      stage(xIn0, wIn0, bIn0, wHd0, bHd0);
      if (own) {
        // The products `sequence`'s forward computes (input-side gates as linearInfer's fused
        // matmul, bias first), then its per-step loop, on the kernel's memory.
        const [pWih, pBih, pGI] = ptrs.slice(17, 20);
        readInto(tf, wih0, K.f32(pWih, G * H * H3));
        readInto(tf, args[4] as Tensor, K.f32(pBih, G * H3));
        const pE = ptrs[3];
        for (let g = 0; g < G; g++) {
          K.k.matmul(m, H, H3, pE + g * m * H * 4, pWih + g * H * H3 * 4, pBih + g * H3 * 4, pGI + g * m * H3 * 4, 0);
        }
        cell.forwardSimd(whh0, args[6] as Tensor, N, T, B, own, { base: K.top, gi: pGI }, () => {});
        own.steps = T;
        // forwardSimd laid out after this op's arrays: they are intact.
        stamp = K.layouts;
        ready = true;
        copyHs();
      }
      const [, , , , pHs, pWhd, pBhd, pL] = ptrs;
      for (let g = 0; g < G; g++) {
        K.k.matmul(m, H, A, pHs + g * m * H * 4, pWhd + g * H * A * 4, pBhd + g * A * 4, pL + g * m * A * 4, 0);
      }
      const value = upload(tf, K.f32(pL, n * A), [G, m, A]);

      const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => {
        const [xIn, wIn, bIn, wih, whh, wHd, bHd] = saved;
        // Another caller may have laid out the kernel's memory since the forward: stage again.
        if (stamp !== K.layouts) stage(xIn, wIn, bIn, wHd, bHd);
        const [pX, , , pE, pHs2, , , , pDL, pDLT, pWhdT, pDWhdT, pDHs, pDZT, pDWinT, pBhd, pBin] = ptrs;
        const top = K.top;
        // ---- head: dW^T = dL^T H, db = column sums of dL, dL/dh = dL W^T
        readInto(tf, dy, K.f32(pDL, n * A));
        K.f32(pBhd, G * A).fill(0);
        for (let g = 0; g < G; g++) K.k.columnsT(m, A, pDL + g * m * A * 4, 0, pDLT + g * A * m * 4, pBhd + g * A * 4, 0);
        transposeInto(K.f32(ptrs[5], G * H * A), G, H, A, K.f32(pWhdT, G * A * H));
        for (let g = 0; g < G; g++) {
          K.k.matmul(A, m, H, pDLT + g * A * m * 4, pHs2 + g * m * H * 4, 0, pDWhdT + g * A * H * 4, 0);
          K.k.matmul(m, A, H, pDL + g * m * A * 4, pWhdT + g * A * H * 4, 0, pDHs + g * m * H * 4, 0);
        }
        const dWhd = transposeInto(K.f32(pDWhdT, G * A * H), G, A, H, this.work.get('dWhd', G * H * A));
        // ---- GRU: the BPTT over the trace, dL/de left at o.pDX
        const whhT = transposeLast(tf, whh);
        const o = cell.bpttSimd(trace, wih, whhT, N, T, B, true, { base: top, dHs: pDHs, e: pE }, () => {});
        whhT.dispose();
        // ---- input layer: dz = dL/de * step(e) (tfjs's relu derivative: a product, so -0
        // stays -0), written transposed for dW^T = dz^T X; db = column sums of dz
        K.f32(pBin, G * H).fill(0);
        for (let g = 0; g < G; g++) {
          K.k.columnsT(m, H, o.pDX + g * m * H * 4, relu ? pE + g * m * H * 4 : 0, pDZT + g * H * m * 4, pBin + g * H * 4, 0);
        }
        for (let g = 0; g < G; g++) {
          K.k.matmul(H, m, O, pDZT + g * H * m * 4, pX + g * m * O * 4, 0, pDWinT + g * H * O * 4, 0);
        }
        const dWin = transposeInto(K.f32(pDWinT, G * H * O), G, H, O, this.work.get('dWin', G * O * H));
        if (own) this.traces.release(own);
        // Views taken now: the BPTT's layout may have grown the memory (detaching older views).
        const dBin = K.f32(pBin, G * H);
        const dBhd = K.f32(pBhd, G * A);
        return tf.tidy(() => [
          tf.zeros([G, m, O]),
          upload(tf, dWin, [G, O, H]),
          upload(tf, dBin, [G * H]),
          upload(tf, o.dWih!, [G, H, 3 * H]),
          tf.tensor1d(Float32Array.from(o.dBih)),
          upload(tf, o.dWhh!, [G, H, 3 * H]),
          tf.tensor1d(Float32Array.from(o.dBhh)),
          upload(tf, dWhd, [G, H, A]),
          upload(tf, dBhd, [G * A]),
        ]);
      };
      return { value, gradFunc };
    });
    return op(x, input.weight, input.bias, cell.weightIh, cell.biasIh, cell.weightHh, cell.biasHh, head.weight, head.bias);
  }
}

/** [G][r][c] -> [G][c][r] into `out` (returned). */
function transposeInto(src: Float32Array, G: number, r: number, c: number, out: Float32Array): Float32Array {
  for (let g = 0; g < G; g++) {
    const o = g * r * c;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[o + j * r + i] = src[o + i * c + j];
  }
  return out;
}
