/**
 * Value mixers: how agents' utilities Q_i(tau_i, u_i) combine into a joint Q_tot(s, u).
 *
 * - VDN (Sunehag et al. 2017): Q_tot = sum_i Q_i.
 * - QMIX (Rashid et al. 2018): a one-hidden-layer network over the agents' Q whose weights
 *   come from hypernetworks of the global state s; the weights pass through |.|, so
 *   dQ_tot/dQ_i >= 0 for every agent (monotonic mixing), biases and V(s) are unconstrained:
 *     hidden = elu(q W1(s) + b1(s)),  Q_tot = hidden . w2(s) + V(s),
 *     W1 = |hyper_w1(s)| [N x E],  w2 = |hyper_w2(s)| [E],  V(s) = Linear -> relu -> Linear.
 *   Hypernetworks are one linear layer, or (hypernetLayers = 2) Linear -> relu -> Linear with
 *   `hypernetEmbed` hidden units (PyMARL's QMixer). MAVEN conditions the same mixer on [s, z].
 * - QTRAN (Son et al. 2019, PyMARL's `qtran_paper` joint network): the agents' hidden states
 *   and one-hot actions are encoded per agent by a shared MLP and summed; the joint action
 *   value Q_jt(s, u) = MLP([s, sum_i enc(h_i, u_i)]) and the state value V_jt(s) = MLP(s).
 *
 * Layouts. Per-agent inputs are agent-major [N, R] (R rows = time-major (t, copy) pairs, the
 * order the recurrent agent network produces them in); states are [R, S]; outputs [R, 1].
 * Only ops with gradients in Cairn's set are used (nn/gradients.ts): |x| = relu(x) + relu(-x),
 * elu(x) = relu(x) + exp(-relu(-x)) - 1, agent columns by split (no transpose).
 */
import type { Rng } from '../rng';
import { concatDiff } from './conv';
import { Linear, Mlp } from './mlp';
import type { ParamSet } from './params';
import type { Tensor, Tf } from './tf';

/** |x| from differentiable ops (the Abs kernel has no gradient in Cairn's set). */
export function absDiff(tf: Tf, x: Tensor): Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.relu(tf.neg(x))));
}

/** ELU with alpha = 1 (PyTorch's F.elu) from differentiable ops. */
export function eluDiff(tf: Tf, x: Tensor): Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.sub(tf.exp(tf.neg(tf.relu(tf.neg(x)))), 1)));
}

/** min(x, 0) from differentiable ops. */
export function negPart(tf: Tf, x: Tensor): Tensor {
  return tf.tidy(() => tf.neg(tf.relu(tf.neg(x))));
}

/** Agent-major [N, R] -> N columns [R, 1]. */
export function agentColumns(tf: Tf, q: Tensor): Tensor[] {
  const [N, R] = q.shape as number[];
  if (N === 1) return [tf.reshape(q, [R, 1])];
  return tf.split(q, N, 0).map((c) => tf.reshape(c, [R, 1]));
}

/** VDN: Q_tot = sum_i Q_i; q [N, R] -> [R, 1]. */
export function vdnMix(tf: Tf, q: Tensor): Tensor {
  return tf.tidy(() => tf.reshape(tf.sum(q, 0), [q.shape[1] as number, 1]));
}

export interface QmixOptions {
  numAgents: number;
  /** Width of the conditioning input (the state, or [state, z] for MAVEN). */
  stateSize: number;
  /** E: units of the mixing hidden layer (PyMARL `mixing_embed_dim`, 32). */
  embedDim: number;
  /** Hidden units of two-layer hypernetworks (PyMARL `hypernet_embed`, 64). */
  hypernetEmbed: number;
  /** 1: each hypernetwork is one linear layer; 2: Linear -> relu -> Linear. */
  hypernetLayers: 1 | 2;
  /** Hidden units of V(s) (Linear -> relu -> Linear). */
  valueHidden: number;
}

/** One hypernetwork: s -> out, one or two layers. */
function hyper(tf: Tf, params: ParamSet, name: string, S: number, out: number, o: QmixOptions, rng: Rng): Mlp {
  const sizes = o.hypernetLayers === 2 ? [S, o.hypernetEmbed, out] : [S, out];
  return new Mlp(tf, params, name, sizes, 'relu', 1, rng);
}

/** QMIX's monotonic mixing network (see the file header). Parameters under `${name}/`. */
export class QmixMixer {
  readonly hyperW1: Mlp;
  readonly hyperB1: Linear;
  readonly hyperW2: Mlp;
  readonly value: Mlp;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    readonly opts: QmixOptions,
    rng: Rng,
  ) {
    const { numAgents: N, stateSize: S, embedDim: E } = opts;
    if (!(N > 0 && S > 0 && E > 0)) throw new Error(`QmixMixer ${name}: numAgents, stateSize and embedDim must be positive (got ${N}, ${S}, ${E})`);
    // PyMARL's construction order: hyper_w_1, hyper_w_final, hyper_b_1, V.
    this.hyperW1 = hyper(tf, params, `${name}/hyper_w1`, S, N * E, opts, rng);
    this.hyperW2 = hyper(tf, params, `${name}/hyper_w2`, S, E, opts, rng);
    this.hyperB1 = new Linear(tf, params, `${name}/hyper_b1`, S, E, 1, rng);
    this.value = new Mlp(tf, params, `${name}/value`, [S, opts.valueHidden, 1], 'relu', 1, rng);
  }

  /** The non-negative mixing weights for states s [R, S]: w1 [R, N*E] (agent-major blocks), w2 [R, E]. */
  weights(s: Tensor): { w1: Tensor; w2: Tensor } {
    const tf = this.tf;
    const R = s.shape[0] as number;
    const s3 = tf.reshape(s, [1, R, this.opts.stateSize]);
    const w1 = tf.reshape(absDiff(tf, this.hyperW1.forward(s3, false)), [R, this.opts.numAgents * this.opts.embedDim]);
    const w2 = tf.reshape(absDiff(tf, this.hyperW2.forward(s3, false)), [R, this.opts.embedDim]);
    s3.dispose();
    return { w1, w2 };
  }

  /** Q_tot for agent utilities q [N, R] in states s [R, S]: [R, 1]. Differentiable in q and the weights. */
  forward(q: Tensor, s: Tensor): Tensor {
    const tf = this.tf;
    const { numAgents: N, embedDim: E, stateSize: S } = this.opts;
    return tf.tidy(() => {
      const R = s.shape[0] as number;
      const s3 = tf.reshape(s, [1, R, S]);
      const { w1, w2 } = this.weights(s);
      const b1 = tf.reshape(this.hyperB1.forward(s3, 'linear', false), [R, E]);
      const cols = agentColumns(tf, q);
      const blocks = N === 1 ? [w1] : tf.split(w1, N, 1);
      let pre = b1;
      for (let i = 0; i < N; i++) pre = tf.add(pre, tf.mul(cols[i], blocks[i]));
      const hidden = eluDiff(tf, pre);
      const v = tf.reshape(this.value.forward(s3, false), [R, 1]);
      return tf.add(tf.sum(tf.mul(hidden, w2), 1, true), v);
    });
  }
}

export interface QtranOptions {
  numAgents: number;
  numActions: number;
  stateSize: number;
  /** Width of the agents' hidden states h_i. */
  agentHidden: number;
  /** Hidden units of the joint Q and V networks (PyMARL `mixing_embed_dim`, 32). */
  embedDim: number;
}

/** QTRAN's joint action-value and state-value networks (see the file header). */
export class QtranJoint {
  readonly encoder: Mlp;
  readonly q: Mlp;
  readonly v: Mlp;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    readonly opts: QtranOptions,
    rng: Rng,
  ) {
    const { stateSize: S, agentHidden: H, numActions: A, embedDim: E } = opts;
    const ae = H + A;
    // PyMARL's order: Q, V, action encoding.
    this.q = new Mlp(tf, params, `${name}/q`, [S + ae, E, E, 1], 'relu', 1, rng);
    this.v = new Mlp(tf, params, `${name}/v`, [S, E, E, 1], 'relu', 1, rng);
    this.encoder = new Mlp(tf, params, `${name}/action_encoding`, [ae, ae, ae], 'relu', 1, rng);
  }

  /**
   * Q_jt(s, u) for agent hidden states h [N, R, H], one-hot actions u [N, R, A] and states
   * s [R, S]: [R, 1]. Differentiable in h and the weights.
   */
  jointQ(h: Tensor, u: Tensor, s: Tensor): Tensor {
    const tf = this.tf;
    const { numAgents: N, agentHidden: H, numActions: A, stateSize: S } = this.opts;
    return tf.tidy(() => {
      const R = s.shape[0] as number;
      const x = concatDiff(tf, [h, u], 2); // [N, R, H + A]
      const enc = tf.reshape(this.encoder.forward(tf.reshape(x, [1, N * R, H + A])), [N, R, H + A]);
      const summed = tf.sum(enc, 0); // [R, H + A]
      const inp = concatDiff(tf, [s, summed], 1);
      return tf.reshape(this.q.forward(tf.reshape(inp, [1, R, S + H + A])), [R, 1]);
    });
  }

  /** V_jt(s) for states s [R, S]: [R, 1]. */
  stateValue(s: Tensor): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const R = s.shape[0] as number;
      return tf.reshape(this.v.forward(tf.reshape(s, [1, R, this.opts.stateSize]), false), [R, 1]);
    });
  }
}

/**
 * QTRAN's three losses (Son et al. 2019, eq. 6-8; PyMARL qtran_learner, `qtran_paper`), each a
 * mean over the valid rows (mask [R, 1], count = sum of the mask):
 *   L_td   = (Q_jt(s, u) - y)^2
 *   L_opt  = (sum_i Q_i(ubar_i) - Q_jt(s, ubar)^detached + V(s))^2      ubar = greedy actions
 *   L_nopt = min(sum_i Q_i(u_i) - Q_jt(s, u)^detached + V(s), 0)^2
 * Inputs [R, 1]: qJtTaken (differentiable, for L_td), qJtTakenConst and qJtGreedyConst (the same
 * values as data, so no gradient reaches Q_jt through L_opt / L_nopt), sumTaken, sumGreedy, v, y, mask.
 */
export function qtranLosses(
  tf: Tf,
  x: { qJtTaken: Tensor; qJtTakenConst: Tensor; qJtGreedyConst: Tensor; sumTaken: Tensor; sumGreedy: Tensor; v: Tensor; y: Tensor; mask: Tensor; count: number },
): { td: Tensor; opt: Tensor; nopt: Tensor } {
  return tf.tidy(() => {
    const c = Math.max(1, x.count);
    const mean = (e: Tensor) => tf.div(tf.sum(tf.mul(tf.square(e), x.mask)), c);
    const td = mean(tf.sub(x.qJtTaken, x.y));
    const opt = mean(tf.add(tf.sub(x.sumGreedy, x.qJtGreedyConst), x.v));
    const nopt = mean(negPart(tf, tf.add(tf.sub(x.sumTaken, x.qJtTakenConst), x.v)));
    return { td, opt, nopt };
  });
}
