/**
 * C copies of MAAC's attention critic (nn/attention-critic.ts) as ONE batched network: every
 * weight has a leading copy axis ([C, in, out], biases [C, 1, out]) and every layer is one
 * batched matmul over all copies, so F2A2-SAC's per-agent critic copies (spec §1.7, §2.1: agent
 * i keeps its own copy of the n-agent critic and evaluates only its own Q) cost one pass instead
 * of C. Copy c evaluates the Q of agent `c` only, on its own minibatch: inputs are [C, K, .].
 *
 * Why: on tfjs-wasm each kernel call costs ~10-20 us of dispatch; the per-copy critic ran ~250
 * kernels per forward and F2A2-SAC ~11 forwards per agent and iteration (docs/performance.md).
 * Batched, the kernel count of a forward no longer grows with the number of copies.
 *
 * Per copy the network is exactly AttentionCritic's with `agents: [c]`:
 *   e_j = LeakyReLU(W_e^j BN([o_j, a_j]))        (every j, including c: keys and values)
 *   s   = LeakyReLU(W_s BN(o_c))                  (agent c's state encoder)
 *   l_j = (W_q s) . (W_k e_j) per head, softmax over j != c of l_j / sqrt(d), x = sum_j w_j V(e_j)
 *   Q_c(o, a^-c, .) = zeta_c([s, x])
 * BatchNorm (affine-free, batch statistics in training, per copy over its own K rows) moves
 * running estimates [C, 1, d] as nn/batch-norm.ts does. Only what copy c uses is stored: the
 * state encoder and head of agent c (AttentionCritic keeps all n, but copy c never reads the
 * others', so they cannot change any result). Agents' observation and action sizes may differ:
 * the state encoder's input is padded to the widest observation and the head's output to the
 * largest action set; padded inputs are zero and padded weights start at zero, so padded
 * outputs are 0 and no loss term reaches them (a padded Q column meets a 0 action or
 * probability).
 *
 * Results vs C separate AttentionCritics: the same function and gradients; float rounding can
 * differ in the last bits (batched matmul and reductions over [C, K, .] instead of [K, .]).
 * test/nn/attention-critic-copies.test.ts compares values and gradients with the per-copy
 * network.
 */
import { AttentionCritic } from './attention-critic';
import { registerOffPolicyGradients } from './gradients-offpolicy';
import { LEAKY_SLOPE, leakyRelu } from './mlp';
import { ParamSet } from './params';
import type { Tensor, Tf } from './tf';

export interface CopiesForward {
  /** Q of every own action of copy c's agent [C, K, aMax] (padded columns 0). */
  readonly allQ: Tensor;
  /** Q of the own action in `ownAct` [C, K, 1]. */
  readonly q: Tensor;
  /** Attention-logit regulariser per copy [C] (already weighted). */
  readonly reg: Tensor;
}

export interface CopiesForwardOptions {
  readonly training?: boolean;
  readonly updateStats?: boolean;
}

export class AttentionCriticCopies {
  readonly C: number;
  readonly n: number;
  readonly hidden: number;
  readonly heads: number;
  readonly headDim: number;
  readonly attendReg: number;
  readonly oMax: number;
  readonly aMax: number;
  readonly params: ParamSet;
  readonly stats: ParamSet;
  training = true;
  private readonly bn: boolean;
  private readonly momentum = 0.1;
  private readonly eps = 1e-5;
  private readonly slope: number;
  private readonly names = { attention: [] as string[], encoders: [] as string[] };
  /** [C, 1, 1, n]: -1e9 at j = c (weight exactly 0 on the own slot). */
  private readonly selfMask: Tensor;
  /** [C, 1, n, 1]: 0 at j = c, 1 elsewhere (the logit regulariser's mean over the others). */
  private readonly othersMask: Tensor;

  /**
   * The copies start from `from` (one common draw, spec §2.2): every copy holds its encoders and
   * extractors, copy c agent c's state encoder and head. Its BatchNorm running estimates too.
   */
  constructor(
    private readonly tf: Tf,
    readonly name: string,
    from: AttentionCritic,
    trainable: boolean,
  ) {
    registerOffPolicyGradients(tf);
    registerTransposeGradient(tf);
    const { obsSizes, actSizes } = from.dims;
    const n = (this.n = from.n);
    const C = (this.C = n);
    const H = (this.hidden = from.hidden);
    this.heads = from.heads;
    this.headDim = from.headDim;
    this.attendReg = from.attendReg;
    this.slope = LEAKY_SLOPE;
    this.oMax = Math.max(...obsSizes);
    this.aMax = Math.max(...actSizes);
    const src = from.params;
    this.bn = src.names().some((k) => k.includes('/bn/')) || from.stats.names().length > 0;
    this.params = new ParamSet(tf, trainable);
    this.stats = new ParamSet(tf, false);
    const read = (set: ParamSet, k: string) => set.get(k).dataSync() as Float32Array;
    /** [C, rows, cols] from per-copy [rows0, cols0] blocks (zero-padded to rows x cols). */
    const stack = (blocks: Float32Array[], r0s: number[], c0s: number[], rows: number, cols: number) => {
      const out = new Float32Array(C * rows * cols);
      blocks.forEach((b, c) => {
        for (let r = 0; r < r0s[c]; r++) out.set(b.subarray(r * c0s[c], (r + 1) * c0s[c]), (c * rows + r) * cols);
      });
      return out;
    };
    const same = (k: string, rows: number, cols: number) => {
      const b = read(src, k);
      return stack(Array(C).fill(b), Array(C).fill(rows), Array(C).fill(cols), rows, cols);
    };
    const add = (k: string, rows: number, cols: number, data: Float32Array, group: string[] | null) => {
      this.params.add(`${name}/${k}`, [C, rows, cols], data);
      group?.push(`${name}/${k}`);
    };
    const pre = from.name;
    for (let j = 0; j < n; j++) {
      const sa = obsSizes[j] + actSizes[j];
      add(`sa_enc/${j}/weight`, sa, H, same(`${pre}/sa_enc/${j}/weight`, sa, H), this.names.encoders);
      add(`sa_enc/${j}/bias`, 1, H, same(`${pre}/sa_enc/${j}/bias`, 1, H), this.names.encoders);
    }
    const perCopy = (k: (c: number) => string, r0: (c: number) => number, c0: (c: number) => number, rows: number, cols: number) => {
      const cs = [...Array(C).keys()];
      return stack(cs.map((c) => read(src, k(c))), cs.map(r0), cs.map(c0), rows, cols);
    };
    add('s_enc/weight', this.oMax, H, perCopy((c) => `${pre}/s_enc/${c}/weight`, (c) => obsSizes[c], () => H, this.oMax, H), null);
    add('s_enc/bias', 1, H, perCopy((c) => `${pre}/s_enc/${c}/bias`, () => 1, () => H, 1, H), null);
    add('key/weight', H, H, same(`${pre}/key/weight`, H, H), this.names.attention);
    add('selector/weight', H, H, same(`${pre}/selector/weight`, H, H), this.names.attention);
    add('value/weight', H, H, same(`${pre}/value/weight`, H, H), this.names.attention);
    add('value/bias', 1, H, same(`${pre}/value/bias`, 1, H), this.names.attention);
    add('q/0/weight', 2 * H, H, perCopy((c) => `${pre}/q/${c}/0/weight`, () => 2 * H, () => H, 2 * H, H), null);
    add('q/0/bias', 1, H, perCopy((c) => `${pre}/q/${c}/0/bias`, () => 1, () => H, 1, H), null);
    add('q/1/weight', H, this.aMax, perCopy((c) => `${pre}/q/${c}/1/weight`, () => H, (c) => actSizes[c], H, this.aMax), null);
    add('q/1/bias', 1, this.aMax, perCopy((c) => `${pre}/q/${c}/1/bias`, () => 1, (c) => actSizes[c], 1, this.aMax), null);
    if (this.bn) {
      const st = from.stats;
      const stat = (k: string, d: number, fill: number, data?: (c: number) => Float32Array, width?: (c: number) => number) => {
        const out = new Float32Array(C * d).fill(fill);
        if (data) for (let c = 0; c < C; c++) out.set(data(c).subarray(0, width ? width(c) : d), c * d);
        this.stats.add(`${name}/${k}`, [C, 1, d], out);
      };
      for (let j = 0; j < n; j++) {
        const sa = obsSizes[j] + actSizes[j];
        stat(`sa_enc/${j}/bn/running_mean`, sa, 0, () => read(st, `${pre}/sa_enc/${j}/bn/running_mean`));
        stat(`sa_enc/${j}/bn/running_var`, sa, 1, () => read(st, `${pre}/sa_enc/${j}/bn/running_var`));
      }
      stat('s_enc/bn/running_mean', this.oMax, 0, (c) => read(st, `${pre}/s_enc/${c}/bn/running_mean`), (c) => obsSizes[c]);
      stat('s_enc/bn/running_var', this.oMax, 1, (c) => read(st, `${pre}/s_enc/${c}/bn/running_var`), (c) => obsSizes[c]);
    }
    const self = new Float32Array(C * n);
    const others = new Float32Array(C * n).fill(1);
    for (let c = 0; c < C; c++) {
      self[c * n + c] = -1e9;
      others[c * n + c] = 0;
    }
    this.selfMask = tf.tensor4d(self, [C, 1, 1, n]);
    this.othersMask = tf.tensor4d(others, [C, 1, n, 1]);
  }

  /** Key, selector and value extractors (F2A2-SAC's consensus part phi_sh), in AttentionCritic's order. */
  attentionNames(): string[] {
    return [...this.names.attention];
  }
  /** MAAC's shared modules: attention extractors and (o, a) encoders. */
  sharedNames(): string[] {
    return [...this.names.attention, ...this.names.encoders];
  }

  private w(k: string): Tensor {
    return this.params.get(`${this.name}/${k}`);
  }

  private dense(x: Tensor, k: string, bias = true): Tensor {
    // One plain 2D matmul per copy: wasm runs a matmul with a batch dimension through a generic
    // loop ~4x slower than C XNNPACK calls (measured [8, 1024, 128] x [8, 128, 128]: 111 vs 25 ms).
    const y = copyMatMul(this.tf, x, this.w(`${k}/weight`));
    return bias ? this.tf.add(y, this.w(`${k}/bias`)) : y;
  }

  /** Per-copy BatchNorm of x [C, K, d] over its K rows (nn/batch-norm.ts, affine-free). */
  private norm(x: Tensor, k: string, training: boolean, upd: boolean): Tensor {
    const tf = this.tf;
    if (!this.bn) return x;
    const rm = this.stats.get(`${this.name}/${k}/running_mean`);
    const rv = this.stats.get(`${this.name}/${k}/running_var`);
    if (!training) return tf.mul(tf.sub(x, rm), tf.rsqrt(tf.add(rv, this.eps)));
    const K = x.shape[1] as number;
    if (K < 2) throw new Error(`AttentionCriticCopies ${this.name}: training BatchNorm needs more than 1 row per copy (got ${K})`);
    const mean = tf.mean(x, 1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), 1, true);
    if (upd) {
      const m = this.momentum;
      rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(mean, m)));
      rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(tf.mul(variance, K / (K - 1)), m)));
    }
    return tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
  }

  /**
   * obs[j], act[j]: [C, K, obsSize_j], [C, K, actSize_j] (copy c's minibatch, every agent j);
   * ownObs [C, K, oMax] (copy c: o_c padded), ownAct [C, K, aMax] (copy c: its one-hot a_c padded).
   * The returned tensors belong to the caller.
   */
  forward(obs: readonly Tensor[], act: readonly Tensor[], ownObs: Tensor, ownAct: Tensor, opts: CopiesForwardOptions = {}): CopiesForward {
    const tf = this.tf;
    const { n, C, heads: Hh, headDim: d, hidden: H } = this;
    if (obs.length !== n || act.length !== n) throw new Error(`AttentionCriticCopies ${this.name}: expects ${n} observation and action tensors, got ${obs.length} and ${act.length}`);
    const K = obs[0].shape[1] as number;
    const training = opts.training ?? this.training;
    const upd = opts.updateStats ?? true;
    const leaky = (x: Tensor) => leakyRelu(tf, x, this.slope);
    return tf.tidy(() => {
      // e_j of every agent, stacked [C, K, n, H] -> rows [C, K*n, H] for one matmul per extractor.
      const es = obs.map((o, j) => leaky(this.dense(this.norm(tf.concat([o, act[j]], 2), `sa_enc/${j}/bn`, training, upd), `sa_enc/${j}`)));
      const E = tf.reshape(tf.concat(es.map((e) => tf.reshape(e, [C, K, 1, H])), 2), [C, K * n, H]);
      const keys = tf.reshape(this.dense(E, 'key', false), [C, K, n, Hh, d]);
      const vals = tf.reshape(leaky(this.dense(E, 'value')), [C, K, n, Hh, d]);
      const s = leaky(this.dense(this.norm(ownObs, 's_enc/bn', training, upd), 's_enc'));
      const sel = tf.reshape(this.dense(s, 'selector', false), [C, K, 1, Hh, d]);
      const logits = tf.sum(tf.mul(sel, keys), 4); // [C, K, n, Hh]
      const scaled = tf.add(tf.transpose(tf.mul(logits, 1 / Math.sqrt(d)), [0, 1, 3, 2]), this.selfMask); // [C, K, Hh, n]
      const w = tf.transpose(tf.softmax(scaled), [0, 1, 3, 2]); // [C, K, n, Hh]
      const x = tf.reshape(tf.sum(tf.mul(tf.reshape(w, [C, K, n, Hh, 1]), vals), 2), [C, K, H]);
      const h = leaky(this.dense(tf.concat([s, x], 2), 'q/0'));
      const allQ = this.dense(h, 'q/1');
      const q = tf.sum(tf.mul(allQ, ownAct), 2, true);
      const reg = tf.mul(tf.sum(tf.mul(tf.square(logits), this.othersMask), [1, 2, 3]), this.attendReg / (K * (n - 1)));
      return { allQ, q, reg };
    });
  }

  /**
   * Move the BatchNorm running estimates exactly as a training `forward` at these inputs would,
   * without the rest of the pass: a caller that drops a forward whose outputs another pass
   * already gives (F2A2-SAC's diagnostics) keeps the estimates, and so the checkpoints, as before.
   */
  updateStats(obs: readonly Tensor[], act: readonly Tensor[], ownObs: Tensor): void {
    const tf = this.tf;
    if (!this.bn) return;
    tf.tidy(() => {
      obs.forEach((o, j) => this.norm(tf.concat([o, act[j]], 2), `sa_enc/${j}/bn`, true, true));
      this.norm(ownObs, 's_enc/bn', true, true);
    });
  }

  /** Constant masks (parameters and statistics belong to their owner's checkpoint parts). */
  disposeConstants(): void {
    this.selfMask.dispose();
    this.othersMask.dispose();
  }
}

/**
 * [C, R, I] @ [C, I, O] as C plain 2D matmuls (nn/mlp.ts groupMatMul's idea), built from kernels
 * with registered gradients (SplitV, Reshape, Concat; groupMatMul's Unpack/Pack have none here).
 */
export function copyMatMul(tf: Tf, a: Tensor, b: Tensor): Tensor {
  const C = a.shape[0] as number;
  if (C === 1) return tf.matMul(a as never, b as never);
  return tf.tidy(() => {
    const as = tf.split(a, C, 0);
    const bs = tf.split(b, C, 0);
    // [1, R, I] @ [1, I, O] as they come out of the split: the wasm kernel views its inputs as
    // rank 3 anyway, so this is the same XNNPACK call as [R, I] @ [I, O] (bit-identical), without
    // three Reshape kernels per copy and their gradients (~a quarter of F2A2-SAC's kernel calls).
    return tf.concat(as.map((ai, c) => tf.matMul(ai as never, bs[c] as never)), 0);
  });
}

/**
 * Transpose's gradient (the inverse permutation of dy), which Cairn's gradient set lacked;
 * registered only when none exists, as nn/gradients-offpolicy.ts does.
 */
export function registerTransposeGradient(tf: Tf): void {
  if (tf.getGradient('Transpose') != null) return;
  tf.registerGradient({
    kernelName: 'Transpose',
    gradFunc: (dy: Tensor | Tensor[], _saved: Tensor[], attrs: Record<string, unknown>) => {
      const perm = attrs.perm as number[];
      const inv = new Array<number>(perm.length);
      perm.forEach((p, k) => (inv[p] = k));
      return { x: () => tf.transpose(Array.isArray(dy) ? dy[0] : dy, inv) };
    },
  } as unknown as Parameters<Tf['registerGradient']>[0]);
}

/**
 * clip_grad_norm_ per copy: each copy's gradients (slice c of every [C, ...] tensor) scaled by
 * min(1, maxNorm / (norm_c + 1e-6)), in place, on the device (no read-back). Returns nothing:
 * per-copy norms are not logged.
 */
export function clipPerCopy(tf: Tf, grads: Record<string, Tensor>, maxNorm: number): void {
  if (!(maxNorm > 0)) return;
  const entries = Object.entries(grads);
  if (entries.length === 0) return;
  const C = entries[0][1].shape[0] as number;
  const factor = tf.tidy(() => {
    const sq = tf.concat(entries.map(([, g]) => tf.reshape(tf.square(g), [C, -1])), 1);
    const norm = tf.sqrt(tf.sum(sq, 1));
    return tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  });
  for (const [k, g] of entries) {
    grads[k] = tf.tidy(() => tf.mul(g, tf.reshape(factor, [C, ...Array(g.rank - 1).fill(1)])));
    g.dispose();
  }
  factor.dispose();
}
