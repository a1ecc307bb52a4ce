/**
 * Exact Hessian-vector products through the recurrent policy by Pearlmutter's R-operator
 * (forward-over-reverse), on CPU buffers with a few matmuls per step.
 *
 * The policy is the one of algos/recurrent-actor.ts: Linear(obs -> H) -> act -> GRUCell(H)
 * (nn/gru.ts, PyTorch gates) -> Linear(H -> A) -> masked log-softmax (nn/categorical.ts, with
 * the optional epsilon floor), G groups of weights. The objective is linear in the log-probs,
 *   J(theta) = sum over rows and actions of w[row, a] * log pi(a | row),
 * and for a direction v in parameter space this computes R_v{grad J} = H_J v exactly, plus
 * R_v{J} = grad J . v (Pearlmutter 1994: R_v{f(theta)} = d/dr f(theta + r v) at r = 0, pushed
 * through every forward and backward equation by the chain and product rules).
 *
 * Why not the tape: tfjs has no forward mode, so nn/hvp.ts differentiates the taped
 * first-order backward once more (reverse-over-reverse). Through a GRU unrolled on the tape
 * that is three passes of ~13-40 small kernels per step (~35k kernel calls per round of the
 * self-correction term, ~85% of its time). Here:
 *   R{forward}   R{pre} = x V1 + vb1; R{e} = act'(pre) R{pre}; R{gi} = R{e} Wih + e Vih + vbih;
 *                per step R{gh} = R{h_{t-1}} Whh + h_{t-1} Vhh + vbhh (one matmul of
 *                [R{h} | h] by [Whh; Vhh]), then on the CPU
 *                  R{r} = r(1-r)(R{gi_r} + R{gh_r}),  R{z} likewise,
 *                  R{n} = (1-n^2)(R{gi_n} + R{r} ghn + r R{ghn}),
 *                  R{h} = (1-z) R{n} + R{z}(h_{t-1} - n) + z R{h_{t-1}};
 *                R{logits} = R{h} W2 + h V2 + vb2.
 *   log-softmax  dJ/dl and R{dJ/dl} per row in closed form (below).
 *   R{backward}  the hand-written BPTT of GRUCell.sequence, differentiated once more by hand:
 *                per step one matmul of [dgh | R{dgh}] by [[Whh^T, Vhh^T], [0, Whh^T]] gives
 *                the first-order carry and its R at once; the gate rules are
 *                  dn = dh (1-z)(1-n^2),  dz = dh (h_{t-1} - n) z(1-z),  dr = dn ghn r(1-r)
 *                and their R by the product rule (see `hvp`).
 *   weights      R{dW} = R{X}^T dY + X^T R{dY}: one matmul per weight over all rows, the two
 *                products stacked along K; biases are column sums of R{dY}.
 * So a product costs ~3 matmuls per step plus ~12 per call (tfjs kernel calls; on wasm, calls of
 * the wasm kernel, below), instead of ~35k tfjs kernel calls.
 *
 * Layout: rows are time-major over all groups, row (t, g, r) = (t G + g) R + r for R
 * sequences per group, each from a zero state: the layout of GruTrace with G R rows per
 * step, so the rollout's recorded activations can be reused (`setBatch`'s `trace`), as the
 * fused first-order BPTT does.
 *
 * Masked log-softmax, eps = 0 (pi the softmax over available actions, W = sum_a w_a m_a):
 *   dJ/dl_b = w_b m_b - W pi_b,   R{dJ/dl_b} = -W pi_b (R{l_b} - sum_c pi_c R{l_c}).
 * With the epsilon floor, p = (1-eps) s + eps/A (s the unmasked softmax), Z = sum_c m_c p_c:
 *   u_c = m_c (w_c / p_c - W / Z),  U = sum_c s_c u_c,  dJ/dl_b = (1-eps) s_b (u_b - U),
 * and R of each factor by the product rule.
 *
 * Where the matmuls run (issue-15r): on the wasm backend in the hand-written wasm kernel's
 * `matmul` (nn/wasm/gru-gates.as.ts through nn/gru-simd.ts's one instance), which sums each
 * product in XNNPACK's order, so the results are tfjs-wasm's to the bit (test/nn/policy-rop.test.ts
 * compares every output of both paths). Each call's right operands (the weight matrices built
 * from the current weights and v) are copied into the kernel's memory once and stay there while
 * no other kernel user lays it out (`staged`); the left operands are copied in per product, and
 * the weight gradients' operands are built there directly, X's rows as they are (`matmulAT`
 * reads them transposed, so no CPU transpose; the same bits again). That drops the R-pass's
 * ~460 tfjs kernel calls per round (each an upload, a matmul and a read-back) to none. On other
 * backends (cpu, tfjs-node) the matmuls stay tf.matMul; `policyRopKernel.matmul = false` takes
 * that path on wasm too (bench/rop-ab.ts A/B).
 *
 * Arithmetic runs in float64 on float32 buffers; the tape runs in float32, so the two agree
 * to float32 rounding, not bit for bit. test/nn/policy-rop.test.ts checks gradient and H v
 * against the tape (nn/hvp.ts) and against central differences of the fused gradient.
 */
import { ScratchBuffers } from './scratch';
import { GruTrace, gateRowsFor, type GruGates } from './gru';
import { gateKernel, type GateKernel } from './gru-simd';
import type { Activation } from './mlp';
import type { Tensor, Tf } from './tf';

/** The policy's parameters, by the names RecurrentActor's ParamSet gives them. */
export const POLICY_PARAM_NAMES = [
  'input/weight',
  'input/bias',
  'gru/weight_ih',
  'gru/weight_hh',
  'gru/bias_ih',
  'gru/bias_hh',
  'head/weight',
  'head/bias',
] as const;
export type PolicyParamName = (typeof POLICY_PARAM_NAMES)[number];
/** One flat array per parameter, in the parameter's own layout ([G, in, out] / [G * out]). */
export type PolicyArrays = Record<PolicyParamName, Float32Array>;
export type PolicyTensors = Record<PolicyParamName, Tensor>;

export interface PolicyBatch {
  /** Steps per sequence and sequences per group. */
  T: number;
  R: number;
  /** Inputs [T][G][R][obs] (see the header for the row order). */
  x: Float32Array;
  /** Action masks [T][G][R][A], 1 = available. */
  avail: Float32Array;
  /** Epsilon floor of the distribution (0: the plain masked softmax). */
  eps: number;
  /**
   * The rollout's GRU activations, recorded by GRUCell.stepRows with the CURRENT weights on
   * these very inputs: `cols[g][r]` is the trace row of group g's sequence r (fewer than R:
   * the rest are padding, which must carry zero objective weight). Then the GRU forward is
   * not recomputed; a trace from other weights or inputs gives silently wrong products.
   */
  trace?: { trace: GruTrace; cols: number[][] };
}

/**
 * Bench and check switch: `matmul` false = every matmul through tfjs (tf.matMul on tensors
 * uploaded per call), the path before issue-15r; true = through the wasm kernel's `matmul` when
 * the backend is wasm (the same bits: see the header). Other backends always take tfjs's.
 */
export const policyRopKernel = { matmul: true };

/** The right operand [rows, cols] of a matmul: CPU data, a tensor made only on the tfjs path. */
interface Mat {
  data: Float32Array;
  rows: number;
  cols: number;
  t: Tensor | null;
  /** Where the tensor goes when made (disposed with the matrices of its call). */
  keep: Tensor[];
}

interface WPart {
  X: Float32Array;
  /** Row width and first column of X's slice. */
  xw: number;
  xo: number;
  /** X is h and the product needs h_{t-1} (zeros at t = 0). */
  shift?: boolean;
  D: Float32Array;
  dw: number;
  do: number;
}

/** A&S 7.1.26 (|error| < 1.5e-7, below float32 resolution of what uses it). */
function erf(x: number): number {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return x < 0 ? -y : y;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export class RecurrentPolicyRop {
  private readonly work = new ScratchBuffers();
  /** Matrices built from the current weights (disposed by the next setBatch / dispose). */
  private held: Tensor[] = [];
  private G = 0;
  private O = 0;
  private H = 0;
  private A = 0;
  private T = 0;
  private R = 0;
  private GR = 0;
  private n = 0;
  private eps = 0;
  private w: PolicyArrays | null = null;
  private x: Float32Array = new Float32Array(0);
  private avail: Float32Array = new Float32Array(0);
  private fw: GruTrace | null = null;
  private e: Float32Array = new Float32Array(0);
  /** act'(pre) and act''(pre) (the latter null where it is zero: relu, linear). */
  private d1: Float32Array = new Float32Array(0);
  private d2: Float32Array | null = null;
  private logits: Float32Array = new Float32Array(0);
  private mats: { whhT: Mat[]; wihT: Mat[]; w2T: Mat[] } | null = null;
  /** The wasm kernel when the matmuls run in it (set by setBatch), else null: tfjs's. */
  private kn: GateKernel | null = null;
  /**
   * Right operands staged in the kernel's memory from byte 64 to kTop, valid while the
   * kernel's layout count is still kAt (any other user's layout overwrites them).
   */
  private kStaged = new Map<Mat, number>();
  private kTop = 64;
  private kAt = -1;

  /**
   * `gates`: the kernel of the GRU cell this R-pass differentiates (GRUCell's `gates`), used
   * when no rollout trace is given so the recomputed forward is that cell's to the bit.
   */
  constructor(
    private readonly tf: Tf,
    readonly activation: Activation,
    readonly gates: GruGates = 'f64-js',
  ) {}


  /** Per-group 2D matrices [rows, cols] from `make(g)` (fresh arrays: tensors may alias them). */
  private mats2d(rows: number, cols: number, make: (g: number) => Float32Array, keep: Tensor[]): Mat[] {
    return Array.from({ length: this.G }, (_, g) => ({ data: make(g), rows, cols, t: null, keep }));
  }

  private tensorOf(b: Mat): Tensor {
    if (!b.t) {
      b.t = this.tf.tensor2d(b.data, [b.rows, b.cols]);
      b.keep.push(b.t);
    }
    return b.t;
  }

  /** Byte offset of b in the kernel's memory, copied there on first use since the last foreign layout. */
  private staged(kn: GateKernel, b: Mat): number {
    if (this.kAt !== kn.layouts) {
      this.kStaged.clear();
      this.kTop = 64;
    }
    let p = this.kStaged.get(b);
    if (p === undefined) {
      [p] = kn.layoutFrom(this.kTop, b.data.length);
      kn.f32(p, b.data.length).set(b.data);
      this.kTop = kn.top;
      this.kAt = kn.layouts;
      this.kStaged.set(b, p);
    }
    return p;
  }

  /**
   * Room for one product's operands [M, K] and [M, N] in the kernel's memory just past the
   * staged matrices (which stay valid: the layout is ours).
   */
  private kernelOperands(kn: GateKernel, M: number, K: number, N: number): [number, number] {
    const [pa, py] = kn.layoutFrom(this.kTop, M * K, M * N);
    this.kAt = kn.layouts;
    return [pa, py];
  }

  /** out[outOff..] = a[aOff..] (M x K) @ b (K x N): one kernel call. */
  private mm(a: Float32Array, aOff: number, M: number, K: number, b: Mat, out: Float32Array, outOff: number): void {
    const kn = this.kn;
    if (kn) {
      const pb = this.staged(kn, b);
      const [pa, py] = this.kernelOperands(kn, M, K, b.cols);
      kn.f32(pa, M * K).set(a.subarray(aOff, aOff + M * K));
      kn.k.matmul(M, K, b.cols, pa, pb, 0, py, 0);
      out.set(kn.f32(py, M * b.cols), outOff);
      return;
    }
    const tf = this.tf;
    const at = tf.tensor2d(a.subarray(aOff, aOff + M * K), [M, K]);
    const y = tf.matMul(at, this.tensorOf(b));
    out.set(y.dataSync() as Float32Array, outOff);
    at.dispose();
    y.dispose();
  }

  /** out [n][N] = a [n][K] @ bs[g] row by row (each row with its group's matrix). */
  private mmRows(a: Float32Array, K: number, bs: Mat[], N: number, out: Float32Array): void {
    const { G, R, T, n } = this;
    if (G === 1) return this.mm(a, 0, n, K, bs[0], out, 0);
    const m = T * R;
    const kn = this.kn;
    for (let g = 0; g < G; g++) {
      // The kernel path gathers the group's rows straight into the kernel's memory.
      let ga: Float32Array;
      let go: Float32Array;
      if (kn) {
        const pb = this.staged(kn, bs[g]);
        const [pa, py] = this.kernelOperands(kn, m, K, N);
        ga = kn.f32(pa, m * K);
        go = kn.f32(py, m * N);
        for (let t = 0; t < T; t++) ga.set(a.subarray((t * G + g) * R * K, ((t * G + g) * R + R) * K), t * R * K);
        kn.k.matmul(m, K, N, pa, pb, 0, py, 0);
      } else {
        ga = this.work.get('mm.a', m * K);
        go = this.work.get('mm.o', m * N);
        for (let t = 0; t < T; t++) ga.set(a.subarray((t * G + g) * R * K, ((t * G + g) * R + R) * K), t * R * K);
        this.mm(ga, 0, m, K, bs[g], go, 0);
      }
      for (let t = 0; t < T; t++) out.set(go.subarray(t * R * N, (t + 1) * R * N), (t * G + g) * R * N);
    }
  }

  /** One step's rows: out [GR][N] = a [GR][K] (at aOff) @ bs[g] per group. */
  private mmStep(a: Float32Array, aOff: number, K: number, bs: Mat[], N: number, out: Float32Array): void {
    const R = this.R;
    for (let g = 0; g < this.G; g++) this.mm(a, aOff + g * R * K, R, K, bs[g], out, g * R * N);
  }

  /** Adds bias [G * N] to rows [n][N] (or one step's [GR][N]) by group. */
  private addBias(y: Float32Array, rowsPerStep: number, N: number, bias: Float32Array): void {
    const R = this.R;
    const rows = y.length / N;
    for (let i = 0; i < rows; i++) {
      const g = Math.floor((i % rowsPerStep) / R);
      const yo = i * N;
      const bo = g * N;
      for (let c = 0; c < N; c++) y[yo + c] += bias[bo + c];
    }
  }

  /**
   * sum_rows X_rows^T D_rows per group, the parts' products added (stacked along K): one
   * matmul per group, [in, K] @ [K, out]. On tfjs the transpose is made on the CPU (wasm's
   * transposed matmuls take a slow generic loop); in the kernel X's rows are copied as they
   * are, [K, in], and `matmulAT` reads them transposed (the same bits). Returns [G][in][out].
   */
  private wgrad(parts: WPart[], I: number, C: number): Float32Array {
    const { G, R, T, GR, tf } = this;
    const m = T * R;
    const K = parts.length * m;
    const out = new Float32Array(G * I * C);
    // On the kernel path both operands are built in its memory (no staged matrix is needed).
    const kn = this.kn;
    let pL = 0;
    let pD = 0;
    let pO = 0;
    if (kn) {
      [pL, pD, pO] = kn.layoutFrom(this.kTop, I * K, K * C, I * C);
      this.kAt = kn.layouts;
    }
    const Lt = kn ? kn.f32(pL, I * K) : this.work.get('wg.L', I * K);
    const Dg = kn ? kn.f32(pD, K * C) : this.work.get('wg.D', K * C);
    for (let g = 0; g < G; g++) {
      parts.forEach((p, pi) => {
        for (let t = 0; t < T; t++) {
          for (let r = 0; r < R; r++) {
            const k = pi * m + t * R + r;
            const row = (t * G + g) * R + r;
            if (kn) {
              if (p.shift && t === 0) Lt.fill(0, k * I, (k + 1) * I);
              else {
                const xb = (p.shift ? row - GR : row) * p.xw + p.xo;
                Lt.set(p.X.subarray(xb, xb + I), k * I);
              }
            } else if (p.shift && t === 0) {
              for (let i = 0; i < I; i++) Lt[i * K + k] = 0;
            } else {
              const xb = (p.shift ? row - GR : row) * p.xw + p.xo;
              for (let i = 0; i < I; i++) Lt[i * K + k] = p.X[xb + i];
            }
            const db = row * p.dw + p.do;
            Dg.set(p.D.subarray(db, db + C), k * C);
          }
        }
      });
      if (kn) {
        kn.k.matmulAT(I, K, C, pL, pD, pO);
        out.set(kn.f32(pO, I * C), g * I * C);
        continue;
      }
      const a = tf.tensor2d(Lt, [I, K]);
      const b = tf.tensor2d(Dg, [K, C]);
      const y = tf.matMul(a, b);
      out.set(y.dataSync() as Float32Array, g * I * C);
      a.dispose();
      b.dispose();
      y.dispose();
    }
    return out;
  }

  /** Column sums of D's slice [do, do + C) per group: a bias gradient [G * C]. */
  private colSums(D: Float32Array, dw: number, dOff: number, C: number): Float32Array {
    const { G, R, n } = this;
    const acc = new Float64Array(G * C);
    for (let row = 0; row < n; row++) {
      const g = Math.floor(row / R) % G;
      const db = row * dw + dOff;
      const ab = g * C;
      for (let c = 0; c < C; c++) acc[ab + c] += D[db + c];
    }
    return Float32Array.from(acc);
  }

  private disposeHeld(): void {
    for (const t of this.held) t.dispose();
    this.held = [];
    this.mats = null;
    this.kStaged.clear();
    this.kAt = -1;
  }

  /**
   * Reads the weights once, stores the batch and runs (or gathers) the forward: input layer,
   * GRU, logits. Valid until the next call; the weights must not change in between.
   */
  setBatch(weights: PolicyTensors, batch: PolicyBatch): void {
    this.disposeHeld();
    this.kn = policyRopKernel.matmul && this.tf.getBackend() === 'wasm' ? gateKernel() : null;
    const ws = weights['gru/weight_hh'].shape as number[];
    const G = ws[0];
    const H = ws[1];
    const O = (weights['input/weight'].shape as number[])[1];
    const A = (weights['head/weight'].shape as number[])[2];
    const { T, R } = batch;
    if (!(T > 0 && R > 0)) throw new Error(`RecurrentPolicyRop: T and R must be positive (got ${T}, ${R})`);
    const n = T * G * R;
    if (batch.x.length !== n * O || batch.avail.length !== n * A) {
      throw new Error(`RecurrentPolicyRop: x and avail must hold ${n} rows of ${O} and ${A} values (T=${T}, G=${G}, R=${R})`);
    }
    Object.assign(this, { G, H, O, A, T, R, GR: G * R, n, eps: batch.eps, x: batch.x, avail: batch.avail });
    const w = {} as PolicyArrays;
    for (const name of POLICY_PARAM_NAMES) w[name] = Float32Array.from(weights[name].dataSync() as Float32Array);
    this.w = w;
    const H3 = 3 * H;
    const blk = (a: Float32Array, g: number, rows: number, cols: number) => a.subarray(g * rows * cols, (g + 1) * rows * cols);
    const keep = this.held;
    const w1 = this.mats2d(O, H, (g) => blk(w['input/weight'], g, O, H).slice(), keep);
    this.mats = {
      whhT: this.mats2d(H3, H, (g) => transpose(blk(w['gru/weight_hh'], g, H, H3), H, H3), keep),
      wihT: this.mats2d(H3, H, (g) => transpose(blk(w['gru/weight_ih'], g, H, H3), H, H3), keep),
      w2T: this.mats2d(A, H, (g) => transpose(blk(w['head/weight'], g, H, A), H, A), keep),
    };

    // Input layer and activation with its first two derivatives.
    const pre = this.work.get('f.pre', n * H);
    this.mmRows(batch.x, O, w1, H, pre);
    this.addBias(pre, this.GR, H, w['input/bias']);
    const e = (this.e = this.work.get('f.e', n * H));
    const d1 = (this.d1 = this.work.get('f.d1', n * H));
    const d2 = (this.d2 = this.activation === 'gelu' || this.activation === 'tanh' ? this.work.get('f.d2', n * H) : null);
    for (let k = 0; k < n * H; k++) {
      const p = pre[k];
      switch (this.activation) {
        case 'relu':
          e[k] = p > 0 ? p : 0;
          d1[k] = p > 0 ? 1 : 0;
          break;
        case 'linear':
          e[k] = p;
          d1[k] = 1;
          break;
        case 'tanh': {
          const y = Math.tanh(p);
          e[k] = y;
          d1[k] = 1 - y * y;
          d2![k] = -2 * y * (1 - y * y);
          break;
        }
        case 'gelu': {
          const phi = INV_SQRT_2PI * Math.exp(-0.5 * p * p);
          const Phi = 0.5 * (1 + erf(p * Math.SQRT1_2));
          e[k] = p * Phi;
          d1[k] = Phi + p * phi;
          d2![k] = phi * (2 - p * p);
          break;
        }
      }
    }

    // GRU: the rollout's activations, or the forward of GRUCell.sequence.
    const GR = this.GR;
    if (!this.fw || this.fw.maxSteps < T || this.fw.rows !== GR || this.fw.hidden !== H) this.fw = new GruTrace(T, GR, H);
    const fw = this.fw;
    if (batch.trace) {
      const { trace, cols } = batch.trace;
      if (trace.hidden !== H || trace.steps < T || cols.length !== G) {
        throw new Error(`RecurrentPolicyRop: the trace holds ${trace.steps} steps of width ${trace.hidden} and cols ${cols.length} groups; need ${T} steps of ${H} and ${G} groups`);
      }
      for (let g = 0; g < G; g++) {
        if (cols[g].length > R) throw new Error(`RecurrentPolicyRop: group ${g} has ${cols[g].length} sequences, more than R=${R}`);
        for (const c of cols[g]) if (!(c >= 0 && c < trace.rows)) throw new Error(`RecurrentPolicyRop: trace row ${c} out of range [0, ${trace.rows})`);
      }
      for (let t = 0; t < T; t++) {
        for (let g = 0; g < G; g++) {
          for (let r = 0; r < R; r++) {
            const dst = ((t * G + g) * R + r) * H;
            const col = cols[g][r];
            for (const key of ['r', 'z', 'n', 'ghn', 'h'] as const) {
              if (col === undefined) fw[key].fill(0, dst, dst + H);
              else fw[key].set(trace[key].subarray((t * trace.rows + col) * H, (t * trace.rows + col + 1) * H), dst);
            }
          }
        }
      }
    } else {
      const wih = this.mats2d(H, H3, (g) => blk(w['gru/weight_ih'], g, H, H3).slice(), keep);
      const whh = this.mats2d(H, H3, (g) => blk(w['gru/weight_hh'], g, H, H3).slice(), keep);
      const GI = this.work.get('f.gi', n * H3);
      this.mmRows(e, H, wih, H3, GI);
      this.addBias(GI, GR, H3, w['gru/bias_ih']);
      const gh = this.work.get('f.gh', GR * H3);
      for (let t = 0; t < T; t++) {
        if (t === 0) gh.fill(0);
        else this.mmStep(fw.h, (t - 1) * GR * H, H, whh, H3, gh);
        this.addBias(gh, GR, H3, w['gru/bias_hh']);
        const off = t * GR * H;
        gateRowsFor(this.gates)(GR, H, GI, t * GR * H3, gh, 0, t === 0 ? null : fw.h, off - GR * H, fw.h, off, fw, off);
      }
    }
    fw.steps = T;

    const w2 = this.mats2d(H, A, (g) => blk(w['head/weight'], g, H, A).slice(), keep);
    const logits = (this.logits = this.work.get('f.logits', n * A));
    this.mmRows(fw.h.subarray(0, n * H), H, w2, A, logits);
    this.addBias(logits, GR, A, w['head/bias']);
  }

  /** The batch's logits [n][A] (a view; valid until the next setBatch). */
  logitsView(): Float32Array {
    return this.logits;
  }

  private checkObjective(wt: Float32Array): void {
    if (!this.w) throw new Error('RecurrentPolicyRop: setBatch first');
    if (wt.length !== this.n * this.A) throw new Error(`RecurrentPolicyRop: objective weights must hold ${this.n} x ${this.A} values, got ${wt.length}`);
  }

  /** J = sum w log pi and the gradient of J w.r.t. every parameter (first order, exact BPTT). */
  gradient(wt: Float32Array): { value: number; grads: PolicyArrays } {
    this.checkObjective(wt);
    const { n, GR, H, A, T, O } = this;
    const H3 = 3 * H;
    const mats = this.mats!;
    const dl = this.work.get('s.dl', n * A);
    const value = this.scoreRows(wt, dl, A, 0, null, null);
    const dHs = this.work.get('s.dH', n * H);
    this.mmRows(dl, A, mats.w2T, H, dHs);
    const dGI = this.work.get('s.GIc', n * H3);
    const dGH = this.work.get('s.GHc', n * H3);
    const dh = this.work.get('g.dh', GR * H).fill(0);
    const back = this.work.get('g.back', GR * H);
    const { r: Rg, z: Zg, n: Ng, ghn: GHN, h: Hs } = this.fw!;
    for (let t = T - 1; t >= 0; t--) {
      for (let i = 0; i < GR; i++) {
        const ro = (t * GR + i) * H;
        const o3 = (t * GR + i) * H3;
        for (let j = 0; j < H; j++) {
          const o = ro + j;
          const dhj = dh[i * H + j] + dHs[o];
          const z = Zg[o];
          const r = Rg[o];
          const nv = Ng[o];
          const hp = t > 0 ? Hs[o - GR * H] : 0;
          const dn = dhj * (1 - z) * (1 - nv * nv);
          const dz = dhj * (hp - nv) * z * (1 - z);
          const dr = dn * GHN[o] * r * (1 - r);
          dGI[o3 + j] = dr;
          dGI[o3 + H + j] = dz;
          dGI[o3 + 2 * H + j] = dn;
          dGH[o3 + j] = dr;
          dGH[o3 + H + j] = dz;
          dGH[o3 + 2 * H + j] = dn * r;
          dh[i * H + j] = dhj * z;
        }
      }
      if (t > 0) {
        this.mmStep(dGH, t * GR * H3, H3, mats.whhT, H, back);
        for (let k = 0; k < GR * H; k++) dh[k] += back[k];
      }
    }
    const dpre = this.work.get('s.dpre', n * H);
    this.mmRows(dGI, H3, mats.wihT, H, dpre);
    for (let k = 0; k < n * H; k++) dpre[k] *= this.d1[k];
    const hs = this.fw!.h;
    const grads: PolicyArrays = {
      'input/weight': this.wgrad([{ X: this.x, xw: O, xo: 0, D: dpre, dw: H, do: 0 }], O, H),
      'input/bias': this.colSums(dpre, H, 0, H),
      'gru/weight_ih': this.wgrad([{ X: this.e, xw: H, xo: 0, D: dGI, dw: H3, do: 0 }], H, H3),
      'gru/weight_hh': this.wgrad([{ X: hs, xw: H, xo: 0, shift: true, D: dGH, dw: H3, do: 0 }], H, H3),
      'gru/bias_ih': this.colSums(dGI, H3, 0, H3),
      'gru/bias_hh': this.colSums(dGH, H3, 0, H3),
      'head/weight': this.wgrad([{ X: hs, xw: H, xo: 0, D: dl, dw: A, do: 0 }], H, A),
      'head/bias': this.colSums(dl, A, 0, A),
    };
    return { value, grads };
  }

  /**
   * H_J v and grad J . v for J = sum w log pi, by the R-pass (see the header). v: one array
   * per parameter, in the parameters' shapes.
   */
  hvp(wt: Float32Array, v: PolicyArrays): { value: number; hvp: PolicyArrays } {
    this.checkObjective(wt);
    const { n, GR, H, A, T, O } = this;
    const H2 = 2 * H;
    const H3 = 3 * H;
    const H6 = 6 * H;
    const w = this.w!;
    for (const name of POLICY_PARAM_NAMES) {
      if (v[name]?.length !== w[name].length) throw new Error(`RecurrentPolicyRop.hvp: v['${name}'] must hold ${w[name].length} values`);
    }
    const blk = (a: Float32Array, g: number, rows: number, cols: number) => a.subarray(g * rows * cols, (g + 1) * rows * cols);
    const keep: Tensor[] = [];
    try {
      const wih = (g: number) => blk(w['gru/weight_ih'], g, H, H3);
      const vih = (g: number) => blk(v['gru/weight_ih'], g, H, H3);
      const whh = (g: number) => blk(w['gru/weight_hh'], g, H, H3);
      const vhh = (g: number) => blk(v['gru/weight_hh'], g, H, H3);
      const w2 = (g: number) => blk(w['head/weight'], g, H, A);
      const v2 = (g: number) => blk(v['head/weight'], g, H, A);
      const v1m = this.mats2d(O, H, (g) => blk(v['input/weight'], g, O, H).slice(), keep);
      // [R{e} | e] @ [Wih; Vih], [R{h} | h] @ [Whh; Vhh], [R{h} | h] @ [W2; V2]
      const ihStack = this.mats2d(H2, H3, (g) => concat(wih(g), vih(g)), keep);
      const hhStack = this.mats2d(H2, H3, (g) => concat(whh(g), vhh(g)), keep);
      const headStack = this.mats2d(H2, A, (g) => concat(w2(g), v2(g)), keep);
      // [dl | R{dl}] @ [[W2^T, V2^T], [0, W2^T]] = [dh | R{dh}]; the same shape for the GRU.
      const headBack = this.mats2d(2 * A, H2, (g) => upperBlock(transpose(w2(g), H, A), transpose(v2(g), H, A), A, H), keep);
      const hhBack = this.mats2d(H6, H2, (g) => upperBlock(transpose(whh(g), H, H3), transpose(vhh(g), H, H3), H3, H), keep);
      // [R{dgi} | dgi] @ [[Wih^T, 0], [Vih^T, Wih^T]] = [R{de} | de] (de only where act'' != 0).
      const d2 = this.d2;
      const ihBack = this.mats2d(H6, d2 ? H2 : H, (g) => {
        const wt = transpose(wih(g), H, H3);
        const vt = transpose(vih(g), H, H3);
        return d2 ? lowerBlock(wt, vt, H3, H) : concat(wt, vt);
      }, keep);

      // ---- R{forward}
      const Rpre = this.work.get('r.pre', n * H);
      this.mmRows(this.x, O, v1m, H, Rpre);
      this.addBias(Rpre, GR, H, v['input/bias']);
      const ReE = this.work.get('r.ReE', n * H2); // [R{e} | e]
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < H; j++) ReE[i * H2 + j] = this.d1[i * H + j] * Rpre[i * H + j];
        ReE.set(this.e.subarray(i * H, (i + 1) * H), i * H2 + H);
      }
      const RGI = this.work.get('r.gi', n * H3);
      this.mmRows(ReE, H2, ihStack, H3, RGI);
      this.addBias(RGI, GR, H3, v['gru/bias_ih']);
      const fw = this.fw!;
      const { r: Rg, z: Zg, n: Ng, ghn: GHN, h: Hs } = fw;
      const Rr = this.work.get('r.r', n * H);
      const Rz = this.work.get('r.z', n * H);
      const Rn = this.work.get('r.n', n * H);
      const Rghn = this.work.get('r.ghn', n * H);
      const RhH = this.work.get('r.RhH', n * H2); // [R{h} | h], the next step's and the head's input
      const Rgh = this.work.get('r.gh', GR * H3);
      for (let t = 0; t < T; t++) {
        if (t === 0) Rgh.fill(0);
        else this.mmStep(RhH, (t - 1) * GR * H2, H2, hhStack, H3, Rgh);
        this.addBias(Rgh, GR, H3, v['gru/bias_hh']);
        for (let i = 0; i < GR; i++) {
          const row = t * GR + i;
          const o3 = row * H3;
          const i3 = i * H3;
          for (let j = 0; j < H; j++) {
            const o = row * H + j;
            const r = Rg[o];
            const z = Zg[o];
            const nv = Ng[o];
            const hp = t > 0 ? Hs[o - GR * H] : 0;
            const Rhp = t > 0 ? RhH[(row - GR) * H2 + j] : 0;
            const rr = r * (1 - r) * (RGI[o3 + j] + Rgh[i3 + j]);
            const rz = z * (1 - z) * (RGI[o3 + H + j] + Rgh[i3 + H + j]);
            const rghn = Rgh[i3 + 2 * H + j];
            const rn = (1 - nv * nv) * (RGI[o3 + 2 * H + j] + rr * GHN[o] + r * rghn);
            Rr[o] = rr;
            Rz[o] = rz;
            Rn[o] = rn;
            Rghn[o] = rghn;
            RhH[row * H2 + j] = (1 - z) * rn + rz * (hp - nv) + z * Rhp;
          }
          RhH.set(Hs.subarray(row * H, (row + 1) * H), row * H2 + H);
        }
      }
      const Rl = this.work.get('r.l', n * A);
      this.mmRows(RhH, H2, headStack, A, Rl);
      this.addBias(Rl, GR, A, v['head/bias']);

      // ---- log-softmax: [dl | R{dl}] per row, and R{J} = sum dl R{l}
      const dlR = this.work.get('s.dl', n * 2 * A);
      const value = this.scoreRows(wt, dlR, 2 * A, 0, Rl, A);
      const dH = this.work.get('s.dH', n * H2); // [dh | R{dh}] from the head
      this.mmRows(dlR, 2 * A, headBack, H2, dH);

      // ---- R{backward}: first-order BPTT and its R together, backwards in time
      const GHc = this.work.get('s.GHc', n * H6); // [dgh | R{dgh}]
      const GIc = this.work.get('s.GIc', n * H6); // [R{dgi} | dgi]
      const dh = this.work.get('r.dh', GR * H).fill(0);
      const Rdh = this.work.get('r.Rdh', GR * H).fill(0);
      const back = this.work.get('r.back', GR * H2);
      for (let t = T - 1; t >= 0; t--) {
        for (let i = 0; i < GR; i++) {
          const row = t * GR + i;
          const o6 = row * H6;
          for (let j = 0; j < H; j++) {
            const o = row * H + j;
            const c = i * H + j;
            const dhj = dh[c] + dH[row * H2 + j];
            const Rdhj = Rdh[c] + dH[row * H2 + H + j];
            const r = Rg[o];
            const z = Zg[o];
            const nv = Ng[o];
            const ghn = GHN[o];
            const hp = t > 0 ? Hs[o - GR * H] : 0;
            const Rhp = t > 0 ? RhH[(row - GR) * H2 + j] : 0;
            const rr = Rr[o];
            const rz = Rz[o];
            const rn = Rn[o];
            const omz = 1 - z;
            const tn = 1 - nv * nv;
            const sz = z * omz;
            const sr = r * (1 - r);
            const dn = dhj * omz * tn;
            const Rdn = Rdhj * omz * tn - dhj * rz * tn - 2 * dhj * omz * nv * rn;
            const dz = dhj * (hp - nv) * sz;
            const Rdz = (Rdhj * (hp - nv) + dhj * (Rhp - rn)) * sz + dhj * (hp - nv) * (1 - 2 * z) * rz;
            const dr = dn * ghn * sr;
            const Rdr = (Rdn * ghn + dn * Rghn[o]) * sr + dn * ghn * (1 - 2 * r) * rr;
            GHc[o6 + j] = dr;
            GHc[o6 + H + j] = dz;
            GHc[o6 + 2 * H + j] = dn * r;
            GHc[o6 + H3 + j] = Rdr;
            GHc[o6 + H3 + H + j] = Rdz;
            GHc[o6 + H3 + 2 * H + j] = Rdn * r + dn * rr;
            GIc[o6 + j] = Rdr;
            GIc[o6 + H + j] = Rdz;
            GIc[o6 + 2 * H + j] = Rdn;
            GIc[o6 + H3 + j] = dr;
            GIc[o6 + H3 + H + j] = dz;
            GIc[o6 + H3 + 2 * H + j] = dn;
            dh[c] = dhj * z;
            Rdh[c] = Rdhj * z + dhj * rz;
          }
        }
        if (t > 0) {
          this.mmStep(GHc, t * GR * H6, H6, hhBack, H2, back);
          for (let i = 0; i < GR; i++) {
            for (let j = 0; j < H; j++) {
              dh[i * H + j] += back[i * H2 + j];
              Rdh[i * H + j] += back[i * H2 + H + j];
            }
          }
        }
      }

      // ---- input layer: R{dpre} = R{de} act'(pre) + de act''(pre) R{pre}
      const deW = d2 ? H2 : H;
      const Rde = this.work.get('r.de', n * deW);
      this.mmRows(GIc, H6, ihBack, deW, Rde);
      const Rdpre = this.work.get('s.dpre', n * H);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < H; j++) {
          const k = i * H + j;
          let y = Rde[i * deW + j] * this.d1[k];
          if (d2) y += Rde[i * deW + H + j] * d2[k] * Rpre[k];
          Rdpre[k] = y;
        }
      }

      // ---- R{dW} = R{X}^T dY + X^T R{dY}
      const out: PolicyArrays = {
        'input/weight': this.wgrad([{ X: this.x, xw: O, xo: 0, D: Rdpre, dw: H, do: 0 }], O, H),
        'input/bias': this.colSums(Rdpre, H, 0, H),
        'gru/weight_ih': this.wgrad(
          [
            { X: ReE, xw: H2, xo: 0, D: GIc, dw: H6, do: H3 },
            { X: ReE, xw: H2, xo: H, D: GIc, dw: H6, do: 0 },
          ],
          H,
          H3,
        ),
        'gru/weight_hh': this.wgrad(
          [
            { X: RhH, xw: H2, xo: 0, shift: true, D: GHc, dw: H6, do: 0 },
            { X: RhH, xw: H2, xo: H, shift: true, D: GHc, dw: H6, do: H3 },
          ],
          H,
          H3,
        ),
        'gru/bias_ih': this.colSums(GIc, H6, 0, H3),
        'gru/bias_hh': this.colSums(GHc, H6, H3, H3),
        'head/weight': this.wgrad(
          [
            { X: RhH, xw: H2, xo: 0, D: dlR, dw: 2 * A, do: 0 },
            { X: RhH, xw: H2, xo: H, D: dlR, dw: 2 * A, do: A },
          ],
          H,
          A,
        ),
        'head/bias': this.colSums(dlR, 2 * A, A, A),
      };
      return { value, hvp: out };
    } finally {
      for (const t of keep) t.dispose();
      // This call's matrices are dropped: start the staging afresh (else it would only grow).
      this.kStaged.clear();
      this.kAt = -1;
    }
  }

  /**
   * Per row: dJ/dl into out[row * ow + oo ..] and, given R{l} (Rl), R{dJ/dl} after it (at
   * + A). Returns J (first order) or R{J} = sum dl R{l} (with Rl). Rows without objective
   * weight get zeros and are skipped.
   */
  private scoreRows(wt: Float32Array, out: Float32Array, ow: number, oo: number, Rl: Float32Array | null, rOff: number | null): number {
    const { n, A, eps } = this;
    const L = this.logits;
    const m = this.avail;
    const p = new Float64Array(A);
    const u = new Float64Array(A);
    const rs = new Float64Array(A);
    const Rs = new Float64Array(A);
    const Ru = new Float64Array(A);
    let total = 0;
    for (let row = 0; row < n; row++) {
      const off = row * A;
      const ob = row * ow + oo;
      let W = 0;
      for (let a = 0; a < A; a++) W += wt[off + a] * m[off + a];
      let any = false;
      for (let a = 0; a < A; a++) if (wt[off + a] !== 0 && m[off + a]) any = true;
      if (!any) {
        out.fill(0, ob, ob + A);
        if (Rl) out.fill(0, ob + rOff!, ob + rOff! + A);
        continue;
      }
      if (eps === 0) {
        // pi = softmax over the available actions.
        let max = -Infinity;
        for (let a = 0; a < A; a++) if (m[off + a]) max = Math.max(max, L[off + a]);
        let sum = 0;
        for (let a = 0; a < A; a++) {
          p[a] = m[off + a] ? Math.exp(L[off + a] - max) : 0;
          sum += p[a];
        }
        const logSum = Math.log(sum);
        let S = 0;
        for (let a = 0; a < A; a++) {
          p[a] /= sum;
          if (Rl) S += p[a] * Rl[off + a];
        }
        for (let a = 0; a < A; a++) {
          const dl = wt[off + a] * m[off + a] - W * p[a];
          out[ob + a] = dl;
          if (Rl) {
            out[ob + rOff! + a] = -W * p[a] * (Rl[off + a] - S);
            total += dl * Rl[off + a];
          } else if (m[off + a]) total += wt[off + a] * (L[off + a] - max - logSum);
        }
      } else {
        // s = the unmasked softmax, p = (1 - eps) s + eps / A, Z = sum m p.
        let max = -Infinity;
        for (let a = 0; a < A; a++) max = Math.max(max, L[off + a]);
        let sum = 0;
        for (let a = 0; a < A; a++) {
          rs[a] = Math.exp(L[off + a] - max);
          sum += rs[a];
        }
        let Z = 0;
        for (let a = 0; a < A; a++) {
          rs[a] /= sum; // s
          p[a] = (1 - eps) * rs[a] + eps / A;
          Z += m[off + a] * p[a];
        }
        let U = 0;
        for (let a = 0; a < A; a++) {
          u[a] = m[off + a] ? wt[off + a] / p[a] - W / Z : 0;
          U += rs[a] * u[a];
        }
        for (let a = 0; a < A; a++) out[ob + a] = (1 - eps) * rs[a] * (u[a] - U);
        if (!Rl) {
          const logZ = Math.log(Z);
          for (let a = 0; a < A; a++) if (m[off + a]) total += wt[off + a] * (Math.log(p[a]) - logZ);
          continue;
        }
        let Sl = 0;
        for (let a = 0; a < A; a++) Sl += rs[a] * Rl[off + a];
        // R{s}, R{Z}, R{u}, R{U} (R{p} = (1 - eps) R{s}).
        let RZ = 0;
        for (let a = 0; a < A; a++) {
          Rs[a] = rs[a] * (Rl[off + a] - Sl);
          RZ += m[off + a] * (1 - eps) * Rs[a];
        }
        let RU = 0;
        for (let a = 0; a < A; a++) {
          Ru[a] = m[off + a] ? (-wt[off + a] * (1 - eps) * Rs[a]) / (p[a] * p[a]) + (W * RZ) / (Z * Z) : 0;
          RU += Rs[a] * u[a] + rs[a] * Ru[a];
        }
        for (let a = 0; a < A; a++) {
          out[ob + rOff! + a] = (1 - eps) * (Rs[a] * (u[a] - U) + rs[a] * (Ru[a] - RU));
          total += out[ob + a] * Rl[off + a];
        }
      }
    }
    return total;
  }

  dispose(): void {
    this.disposeHeld();
    this.work.clear();
  }
}

/** [rows, cols] -> [cols, rows] (a fresh array). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Rows of a, then rows of b (same width): a fresh array. */
function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** [[X, Y], [0, X]] for X, Y [r, c]: [2r, 2c]. */
function upperBlock(X: Float32Array, Y: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(4 * r * c);
  for (let i = 0; i < r; i++) {
    out.set(X.subarray(i * c, (i + 1) * c), i * 2 * c);
    out.set(Y.subarray(i * c, (i + 1) * c), i * 2 * c + c);
    out.set(X.subarray(i * c, (i + 1) * c), (r + i) * 2 * c + c);
  }
  return out;
}

/** [[X, 0], [Y, X]] for X, Y [r, c]: [2r, 2c]. */
function lowerBlock(X: Float32Array, Y: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(4 * r * c);
  for (let i = 0; i < r; i++) {
    out.set(X.subarray(i * c, (i + 1) * c), i * 2 * c);
    out.set(Y.subarray(i * c, (i + 1) * c), (r + i) * 2 * c);
    out.set(X.subarray(i * c, (i + 1) * c), (r + i) * 2 * c + c);
  }
  return out;
}
