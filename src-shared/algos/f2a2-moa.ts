/**
 * F2A2's models of other agents (MOA; shared/specs/f2a2.md §3, paper §5.2): agent i keeps one
 * network per other agent j that predicts j's action from what j saw, trained online by
 * cross-entropy against j's executed actions, and samples the others' actions from it inside
 * its own learning (f2a2.ts, spec §1.4) instead of reading the others' policies.
 *
 * What is built: the **impromptu prediction net** of §3.1 for every ordered pair (i, j), an MLP
 * x_t -> hidden -> hidden -> logits over A^j with x_t = o^j_t (the spec's default input), trained
 * on the most recent `fifo` (1,200) joint steps of the replay, the whole FIFO as one minibatch
 * (§3.2), one Adam step per update iteration (§3.3).
 *
 * What is not built (left out, not stubbed): the natural prediction net with its character GRU
 * (1,000 random-policy trajectories) and mental GRU (the last 5 steps of the episode). Those
 * need per-episode windows that the transition replay does not keep; with them absent the
 * combined model pi~ is the impromptu net alone (the spec's `combine` options do not apply).
 *
 * Layout: all n (n - 1) pair networks live in one batched parameter set with a leading pair
 * axis (weights [P, in, out]), so one batched matmul runs every pair; inputs are padded to the
 * widest observation and outputs to the largest action count, padded logits masked to -1e9.
 * Adam is elementwise, so one Adam over the batched tensors is exactly one Adam per pair.
 * Each layer runs as one plain 2D matmul per pair (`copyMatMul`), not one batched matmul: the
 * wasm backend runs the latter through a generic loop, ~4x slower at these sizes (issue 11).
 */
import { copyMatMul } from '../nn/attention-critic-copies';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { MASKED_LOGIT } from './core/action-codec';

export interface MoaShape {
  readonly n: number;
  /** Observation width of each agent. */
  readonly obsSizes: readonly number[];
  /** Discrete action count of each agent. */
  readonly actSizes: readonly number[];
  readonly hidden: number;
}

export class MoaBank {
  readonly params: ParamSet;
  readonly opt: Adam;
  /** Pair p = (observer, target): observer i models agent j != i. */
  readonly pairs: readonly (readonly [number, number])[];
  readonly inDim: number;
  readonly outDim: number;
  /** [P, 1, outDim] 0/1 mask of each pair's real action entries. */
  private readonly outMask: Tensor;
  /** pairIndex[i * n + j] = p, or -1 on the diagonal. */
  private readonly pairIndex: Int32Array;

  constructor(
    private readonly tf: Tf,
    readonly shape: MoaShape,
    lr: number,
    rng: Rng,
  ) {
    const { n, obsSizes, actSizes, hidden } = shape;
    const pairs: [number, number][] = [];
    this.pairIndex = new Int32Array(n * n).fill(-1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        this.pairIndex[i * n + j] = pairs.length;
        pairs.push([i, j]);
      }
    }
    this.pairs = pairs;
    this.inDim = Math.max(...obsSizes);
    this.outDim = Math.max(...actSizes);
    const P = pairs.length;
    this.params = new ParamSet(tf);
    const sizes = [this.inDim, hidden, hidden, this.outDim];
    for (let l = 0; l < 3; l++) {
      const fin = sizes[l];
      const fout = sizes[l + 1];
      const w = new Float32Array(P * fin * fout);
      // Glorot uniform over each pair's real fan-in (padded input rows are always 0 anyway).
      const bound = Math.sqrt(6 / (fin + fout));
      for (let k = 0; k < w.length; k++) w[k] = (2 * rng.float() - 1) * bound;
      this.params.add(`moa/${l}/weight`, [P, fin, fout], w);
      this.params.add(`moa/${l}/bias`, [P, 1, fout], new Float32Array(P * fout));
    }
    const m = new Float32Array(P * this.outDim);
    pairs.forEach(([, j], p) => m.fill(1, p * this.outDim, p * this.outDim + actSizes[j]));
    this.outMask = tf.tensor3d(m, [P, 1, this.outDim]);
    this.opt = new Adam(tf, this.params, { lr });
  }

  pair(i: number, j: number): number {
    return this.pairIndex[i * this.shape.n + j];
  }

  /** Observations of agent j padded to the bank's input width: [K, inDim]. */
  private pad(x: Tensor, j: number): Tensor {
    const w = this.shape.obsSizes[j];
    return w === this.inDim ? x : this.tf.pad(x, [
      [0, 0],
      [0, this.inDim - w],
    ]);
  }

  /**
   * Logits [count, K, outDim] of the pairs start..start+count-1 (all when omitted; an observer's
   * pairs are contiguous), each on the inputs of its target agent: `obs[j]` [K, obsSize_j]. Padded action entries are masked.
   */
  logits(obs: readonly Tensor[], start = 0, count = this.pairs.length): Tensor {
    const tf = this.tf;
    const P = this.pairs.length;
    const rows = <T extends Tensor>(t: T): Tensor => (start === 0 && count === P ? t : tf.slice(t, [start, 0, 0], [count, -1, -1]));
    return tf.tidy(() => {
      const ps = Array.from({ length: count }, (_, k) => start + k);
      const X = tf.stack(ps.map((p) => this.pad(obs[this.pairs[p][1]], this.pairs[p][1])));
      const layer = (h: Tensor, l: number, act: boolean): Tensor => {
        // Per-pair 2D matmuls: wasm runs a batched matmul through a generic loop ~4x slower.
        const y = tf.add(copyMatMul(tf, h, rows(this.params.get(`moa/${l}/weight`))), rows(this.params.get(`moa/${l}/bias`)));
        return act ? tf.relu(y) : y;
      };
      const out = layer(layer(layer(X, 0, true), 1, true), 2, false);
      return tf.add(out, tf.mul(tf.sub(1, rows(this.outMask)), MASKED_LOGIT));
    });
  }

  /**
   * Summed over pairs of the mean cross-entropy of each pair's softmax against the executed
   * action of its target: `act[j]` [K, A_j] one-hot. Each pair's parameters only see its own
   * term, so the sum is every pair's own loss at once.
   */
  loss(obs: readonly Tensor[], act: readonly Tensor[]): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const lg = this.logits(obs);
      const logp = tf.logSoftmax(lg);
      const Y = tf.stack(this.pairs.map(([, j]) => this.padAct(act[j], j)));
      // -sum_a y log p, mean over rows, summed over pairs.
      return tf.sum(tf.mean(tf.neg(tf.sum(tf.mul(Y, logp), -1)), -1));
    });
  }

  private padAct(a: Tensor, j: number): Tensor {
    const w = this.shape.actSizes[j];
    return w === this.outDim ? a : this.tf.pad(a, [
      [0, 0],
      [0, this.outDim - w],
    ]);
  }

  /** One Adam step on `loss`; returns the loss (summed over pairs). */
  step(obs: readonly Tensor[], act: readonly Tensor[]): number {
    const { value, grads } = this.params.grads(() => this.loss(obs, act) as never);
    this.opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    return value;
  }

  /**
   * Agent i's predicted actions of every other agent j at `obs[j]`: a one-hot sample of pi~^{ij}
   * (Gumbel-max with `noise` drawn by the caller from the run's Rng, [n - 1, K, outDim]) or, with
   * `probs`, the predicted distribution itself. Returns [K, A_j] per agent (null at j = i).
   */
  predict(i: number, obs: readonly Tensor[], mode: 'sample' | 'probs', noise: Float32Array | null): (Tensor | null)[] {
    const tf = this.tf;
    const n = this.shape.n;
    const ps: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) ps.push(this.pair(i, j));
    const parts = tf.tidy(() => {
      const lg = this.logits(obs, ps[0], ps.length);
      let dist: Tensor;
      if (mode === 'probs') dist = tf.softmax(lg);
      else {
        const K = lg.shape[1] as number;
        if (!noise || noise.length !== ps.length * K * this.outDim) throw new Error(`MoaBank.predict: noise must hold ${ps.length * K * this.outDim} values`);
        dist = tf.cast(tf.oneHot(tf.argMax(tf.add(lg, tf.tensor3d(noise, [ps.length, K, this.outDim])), -1), this.outDim), 'float32');
      }
      return tf.unstack(dist).map((p, k) => tf.slice(p, [0, 0], [p.shape[0] as number, this.shape.actSizes[this.pairs[ps[k]][1]]]));
    });
    const out: (Tensor | null)[] = [];
    let k = 0;
    for (let j = 0; j < n; j++) out.push(j === i ? null : parts[k++]);
    return out;
  }

  /** The constant mask (the parameters and Adam state are disposed by their owner's checkpoint parts). */
  disposeConstants(): void {
    this.outMask.dispose();
  }
}
