/**
 * MAAC's attention critic (Iqbal & Sha 2019; shariqiqbal2810/MAAC @ 6174a01, utils/critics.py,
 * `AttentionCritic`), as shared/specs/f2a2.md §4.3 describes it. One network serves n agents:
 *
 *   e_j = LeakyReLU(W_e^j BN([o_j, a_j]))      per-agent (o, a) encoders            [K, hidden]
 *   s_i = LeakyReLU(W_s^i BN(o_i))             per-agent state encoders             [K, hidden]
 *   per head h (hidden / heads dims each; key and selector without bias, value with bias + LeakyReLU):
 *     l_ij = (W_q^h s_i) . (W_k^h e_j)         j != i, the attention logits
 *     w_ij = softmax_j(l_ij / sqrt(d))          over the others
 *     x_i^h = sum_j w_ij LeakyReLU(W_v^h e_j + b_v^h)
 *   Q_i(o, a^{-i}, .) = zeta_i([s_i, x_i^1..x_i^H])   Linear 2 hidden -> hidden -> LeakyReLU -> |A_i|
 *
 * so Q_i gives a value for every own action with the others' actions fixed (the counterfactual
 * baseline's q_all); the taken action's value is gathered from it. BatchNorm is affine-free
 * (nn/batch-norm.ts). The regulariser is 1e-3 sum_h mean_{k, j != i} l_ij^2 on the *unscaled*
 * logits, per agent, as the code adds it to each agent's critic loss.
 *
 * Parameter groups (names returned by the methods of the same name), for the two ways the
 * network is used:
 * - MAAC (one critic for all agents): `sharedNames()` = attention extractors + (o, a) encoders,
 *   MAAC's `shared_modules`, whose gradients it scales by 1/n (`scaleGrads`) because every
 *   agent's loss flows through them;
 * - F2A2-SAC (spec §1.7, one copy per agent evaluating only its own Q with `agents: [i]`):
 *   `attentionNames()` = {W_key, W_query, V}_h, the consensus part phi_sh; `encoderNames()` for
 *   the option that shares the encoders too.
 *
 * Heads are stored concatenated ([hidden, heads * d]), so one matmul per agent computes all
 * heads; column block h is head h, the order in which MAAC concatenates the heads' outputs.
 * Init: PyTorch's nn.Linear default (nn/init.ts).
 *
 * Differs from the code, on purpose: agents may have different observation and action sizes
 * (per-agent encoders, as the code); the code's logger outputs (attention entropies) are not
 * computed; `forward` returns the attention weights for tests and the run view.
 */
import type { Rng } from '../rng';
import { BatchNorm } from './batch-norm';
import { registerOffPolicyGradients } from './gradients-offpolicy';
import { defaultBound, uniform } from './init';
import { LEAKY_SLOPE, leakyRelu } from './mlp';
import type { ParamSet } from './params';
import type { Tensor, Tf, Variable } from './tf';

export interface AttentionCriticDims {
  /** Observation size of every agent (n >= 2). */
  readonly obsSizes: readonly number[];
  /** Action-vector (one-hot) size of every agent; also the size of its Q output. */
  readonly actSizes: readonly number[];
}

export interface AttentionCriticOptions {
  /** Units of encoders, heads' concatenation and the Q heads' hidden layer (MAAC: 128). */
  readonly hidden?: number;
  /** Attention heads; hidden must be divisible by it (MAAC: 4, so 32 dims each). */
  readonly heads?: number;
  /** Affine-free BatchNorm on the encoder inputs (MAAC `norm_in=True`). */
  readonly batchNorm?: boolean;
  /** Weight of the attention-logit regulariser (MAAC: 1e-3). */
  readonly attendReg?: number;
  readonly slope?: number;
}

export interface AttentionForwardOptions {
  /** Agents whose Q is wanted, in the order of the outputs (default: all). */
  readonly agents?: readonly number[];
  /** BatchNorm mode (default: the critic's `training` flag). */
  readonly training?: boolean;
  /** Move BatchNorm running estimates (training only; default true). */
  readonly updateStats?: boolean;
}

export interface AttentionForward {
  /** Per requested agent, Q for every own action [K, |A_i|]. */
  readonly allQ: Tensor[];
  /** Per requested agent, Q of the action in `act` [K, 1] (act must be one-hot for that agent). */
  readonly q: Tensor[];
  /** Per requested agent, the attention-logit regulariser (scalar, already weighted). */
  readonly reg: Tensor[];
  /** Attention weights [K, heads, m, n] (m requested agents; weight 0 on j = i). */
  readonly attention: Tensor;
}

interface Lin {
  w: Variable;
  b: Variable | null;
}

export class AttentionCritic {
  readonly n: number;
  readonly hidden: number;
  readonly heads: number;
  readonly headDim: number;
  readonly attendReg: number;
  private readonly slope: number;
  private readonly saBn: (BatchNorm | null)[] = [];
  private readonly sBn: (BatchNorm | null)[] = [];
  private readonly saEnc: Lin[] = [];
  private readonly sEnc: Lin[] = [];
  private readonly key: Lin;
  private readonly sel: Lin;
  private readonly val: Lin;
  private readonly q1: Lin[] = [];
  private readonly q2: Lin[] = [];
  private readonly names = { attention: [] as string[], encoders: [] as string[] };
  private trainingMode = true;

  constructor(
    private readonly tf: Tf,
    readonly params: ParamSet,
    /** Non-trainable set for the BatchNorm running estimates (checkpointed by the owner). */
    readonly stats: ParamSet,
    readonly name: string,
    readonly dims: AttentionCriticDims,
    rng: Rng,
    opts: AttentionCriticOptions = {},
  ) {
    registerOffPolicyGradients(tf);
    const n = dims.obsSizes.length;
    if (n < 2) throw new Error(`AttentionCritic ${name}: needs at least 2 agents (each attends over the others), got ${n}`);
    if (dims.actSizes.length !== n) throw new Error(`AttentionCritic ${name}: actSizes has ${dims.actSizes.length} entries for ${n} agents`);
    for (const s of [...dims.obsSizes, ...dims.actSizes]) {
      if (!(Number.isInteger(s) && s > 0)) throw new Error(`AttentionCritic ${name}: sizes must be positive integers, got obs [${dims.obsSizes}] act [${dims.actSizes}]`);
    }
    this.n = n;
    this.hidden = opts.hidden ?? 128;
    this.heads = opts.heads ?? 4;
    if (!(Number.isInteger(this.hidden) && this.hidden > 0 && Number.isInteger(this.heads) && this.heads > 0 && this.hidden % this.heads === 0)) {
      throw new Error(`AttentionCritic ${name}: hidden (${this.hidden}) must be a positive multiple of heads (${this.heads})`);
    }
    this.headDim = this.hidden / this.heads;
    this.attendReg = opts.attendReg ?? 1e-3;
    this.slope = opts.slope ?? LEAKY_SLOPE;
    const bn = opts.batchNorm ?? true;
    const H = this.hidden;
    const lin = (pname: string, fin: number, fout: number, bias: boolean, group: string[] | null): Lin => {
      const bound = defaultBound(fin);
      const w = params.add(`${pname}/weight`, [fin, fout], uniform(rng, fin * fout, bound));
      const b = bias ? params.add(`${pname}/bias`, [fout], uniform(rng, fout, bound)) : null;
      group?.push(`${pname}/weight`, ...(bias ? [`${pname}/bias`] : []));
      return { w, b };
    };
    for (let i = 0; i < n; i++) {
      const sa = dims.obsSizes[i] + dims.actSizes[i];
      this.saBn.push(bn ? new BatchNorm(tf, params, stats, `${name}/sa_enc/${i}/bn`, sa, { affine: false }) : null);
      this.saEnc.push(lin(`${name}/sa_enc/${i}`, sa, H, true, this.names.encoders));
      this.sBn.push(bn ? new BatchNorm(tf, params, stats, `${name}/s_enc/${i}/bn`, dims.obsSizes[i], { affine: false }) : null);
      this.sEnc.push(lin(`${name}/s_enc/${i}`, dims.obsSizes[i], H, true, null));
    }
    this.key = lin(`${name}/key`, H, H, false, this.names.attention);
    this.sel = lin(`${name}/selector`, H, H, false, this.names.attention);
    this.val = lin(`${name}/value`, H, H, true, this.names.attention);
    for (let i = 0; i < n; i++) {
      this.q1.push(lin(`${name}/q/${i}/0`, 2 * H, H, true, null));
      this.q2.push(lin(`${name}/q/${i}/1`, H, dims.actSizes[i], true, null));
    }
  }

  /** BatchNorm mode of every norm in the critic (PyTorch's train() / eval()). */
  get training(): boolean {
    return this.trainingMode;
  }
  set training(on: boolean) {
    this.trainingMode = on;
    for (const b of [...this.saBn, ...this.sBn]) if (b) b.training = on;
  }

  /** Key, selector and value extractors of every head (F2A2-SAC's consensus part phi_sh). */
  attentionNames(): string[] {
    return [...this.names.attention];
  }
  /** The (o, a) encoders of all agents. */
  encoderNames(): string[] {
    return [...this.names.encoders];
  }
  /** MAAC's `shared_modules`: attention extractors and (o, a) encoders. */
  sharedNames(): string[] {
    return [...this.names.attention, ...this.names.encoders];
  }

  private dense(x: Tensor, l: Lin): Tensor {
    const y = this.tf.matMul(x as never, l.w as never);
    return l.b ? this.tf.add(y, l.b) : y;
  }

  /**
   * obs[j] [K, obsSize_j], act[j] [K, actSize_j] for every agent j. All returned tensors belong
   * to the caller (inside a loss they are tidied with it).
   */
  forward(obs: readonly Tensor[], act: readonly Tensor[], opts: AttentionForwardOptions = {}): AttentionForward {
    const tf = this.tf;
    const { n, heads: Hh, headDim: d, hidden: H } = this;
    if (obs.length !== n || act.length !== n) throw new Error(`AttentionCritic ${this.name}: expects ${n} observation and action tensors, got ${obs.length} and ${act.length}`);
    const agents = opts.agents ?? Array.from({ length: n }, (_, i) => i);
    for (const i of agents) if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`AttentionCritic ${this.name}: agent ${i} out of range 0..${n - 1}`);
    const m = agents.length;
    const K = obs[0].shape[0];
    const training = opts.training ?? this.trainingMode;
    const upd = opts.updateStats ?? true;
    const leaky = (x: Tensor) => leakyRelu(tf, x, this.slope);
    const norm = (b: BatchNorm | null, x: Tensor) => (b ? b.forward(x, training, upd) : x);
    const out = tf.tidy(() => {
      // Keys and values of every agent, arranged [K, heads, n, d] for the per-row attention.
      const keys: Tensor[] = [];
      const vals: Tensor[] = [];
      for (let j = 0; j < n; j++) {
        const e = leaky(this.dense(norm(this.saBn[j], tf.concat([obs[j], act[j]], 1)), this.saEnc[j]));
        keys.push(tf.reshape(this.dense(e, this.key), [K, Hh, 1, d]));
        vals.push(tf.reshape(leaky(this.dense(e, this.val)), [K, Hh, 1, d]));
      }
      const keyAll = tf.concat(keys, 2);
      const valAll = tf.concat(vals, 2);
      const sEnc: Tensor[] = [];
      const sels: Tensor[] = [];
      for (const i of agents) {
        const s = leaky(this.dense(norm(this.sBn[i], obs[i]), this.sEnc[i]));
        sEnc.push(s);
        sels.push(tf.reshape(this.dense(s, this.sel), [K, Hh, 1, 1, d]));
      }
      const selAll = sels.length === 1 ? sels[0] : tf.concat(sels, 2); // [K, heads, m, 1, d]
      // logits [K, heads, m, n]: selector of i against the key of every j.
      const logits = tf.sum(tf.mul(selAll, tf.reshape(keyAll, [K, Hh, 1, n, d])), 4);
      // Exclude j = i: a large negative added logit gives weight exactly 0 and no gradient there.
      const self = new Float32Array(m * n);
      const others = new Float32Array(m * n).fill(1);
      agents.forEach((i, r) => {
        self[r * n + i] = -1e9;
        others[r * n + i] = 0;
      });
      const selfMask = tf.tensor4d(self, [1, 1, m, n]);
      const attention = tf.softmax(tf.add(tf.mul(logits, 1 / Math.sqrt(d)), selfMask));
      // [K, heads, m, n, 1] x [K, heads, 1, n, d] summed over n -> [K, heads, m, d].
      const attended = tf.sum(tf.mul(tf.reshape(attention, [K, Hh, m, n, 1]), tf.reshape(valAll, [K, Hh, 1, n, d])), 3);
      const sq = tf.mul(tf.square(logits), tf.tensor4d(others, [1, 1, m, n]));
      const allQ: Tensor[] = [];
      const q: Tensor[] = [];
      const reg: Tensor[] = [];
      agents.forEach((i, r) => {
        const x = tf.reshape(tf.slice(attended, [0, 0, r, 0], [K, Hh, 1, d]), [K, H]);
        const h = leaky(this.dense(tf.concat([sEnc[r], x], 1), this.q1[i]));
        const qa = this.dense(h, this.q2[i]);
        allQ.push(qa);
        q.push(tf.sum(tf.mul(qa, act[i]), 1, true));
        // sum over heads of the mean over (rows, others) of the squared logits.
        const sqI = tf.slice(sq, [0, 0, r, 0], [K, Hh, 1, n]);
        reg.push(tf.mul(tf.sum(sqI), this.attendReg / (K * (n - 1))));
      });
      return { allQ, q, reg, attention };
    });
    return out;
  }
}

/** The counterfactual baseline b = sum_a pi(a) Q(a) over the own actions [K, 1] (COMA, MAAC). */
export function counterfactualBaseline(tf: Tf, allQ: Tensor, probs: Tensor): Tensor {
  return tf.tidy(() => tf.sum(tf.mul(allQ, probs), 1, true));
}

/** Multiply the gradients of the named parameters by `factor` in place (MAAC's 1/n on shared modules). */
export function scaleGrads(tf: Tf, grads: Record<string, Tensor>, names: readonly string[], factor: number): void {
  for (const k of names) {
    const g = grads[k];
    if (!g) continue;
    grads[k] = tf.mul(g, factor);
    g.dispose();
  }
}

/**
 * PyTorch Adam's `weight_decay` (an L2 term added to the gradient before the moments, after any
 * clipping), in place: g <- g + wd p. MAAC's critic optimiser uses 1e-3.
 */
export function addWeightDecay(tf: Tf, grads: Record<string, Tensor>, params: ParamSet, wd: number): void {
  if (!(wd > 0)) return;
  for (const [k, g] of Object.entries(grads)) {
    grads[k] = tf.tidy(() => tf.add(g, tf.mul(params.get(k), wd)));
    g.dispose();
  }
}
