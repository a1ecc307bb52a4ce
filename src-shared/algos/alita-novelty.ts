/**
 * ALITA's novelty (eq. 10): an autoencoder on the influencer's own (o_k, a_k) whose
 * reconstruction error psi is the influencer's bonus and scales its influencees' penalty
 * (eq. 11). The trainer (alita.ts) owns one per influencer and decides when it trains.
 *
 * The autoencoder: [o_k, a_k] -> 128-64-12-3-12-64-128 -> d, ReLU except the linear 3-unit
 * bottleneck, tanh output (`aeOutput: 'linear'`), He-normal weights, zero biases, Adam 3e-3
 * with L2 1e-3 added to the gradient. Trained after every round for one shuffled epoch in
 * minibatches of 64 over the transitions of the last `aeWindowRounds` (3) rounds: the spec's
 * "every 5 episodes on the last 15" seen per episode, i.e. every transition about 3 times.
 */
import { DenseNet } from '../nn/dense-net';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';

/** A network with its parameters and optimiser (ALITA's autoencoders and influence estimators). */
export interface TrainedNet {
  params: ParamSet;
  net: DenseNet;
  opt: Optimizer;
}

/** [o, a] (d values) -> 128-64-12-3-12-64-128 -> d, ReLU except the linear 3-unit bottleneck. */
export function makeAutoencoder(tf: Tf, d: number, rng: Rng, cfg: { aeOutput: 'tanh' | 'linear'; aeLr: number }): TrainedNet {
  const params = new ParamSet(tf);
  const net = new DenseNet(tf, params, 'net', [d, 128, 64, 12, 3, 12, 64, 128, d], rng, {
    activations: ['relu', 'relu', 'relu', 'linear', 'relu', 'relu', 'relu'],
    output: cfg.aeOutput,
    init: 'he-normal',
  });
  return { params, net, opt: new Adam(tf, params, { lr: cfg.aeLr }) };
}

/** psi(o, a) [K, 1] for batch rows (no gradient): the squared reconstruction error, or its norm. */
export function noveltyPsi(tf: Tf, ae: TrainedNet, obs: Tensor, act: Tensor, form: 'sq' | 'norm'): Tensor {
  return tf.tidy(() => {
    const v = tf.concat([obs, act], 1);
    const sq = tf.sum(tf.square(tf.sub(ae.net.forward(v), v)), 1, true);
    return form === 'sq' ? sq : tf.sqrt(sq);
  });
}

/**
 * One epoch of the autoencoder over `rows` in an order shuffled by `rng`, in minibatches of
 * `batch`; `input(row, out, at)` writes a row's d values. The L2 `weightDecay` is added to
 * the gradient (as the released code's Adam weight_decay). Returns each minibatch's loss.
 */
export function autoencoderEpoch(
  tf: Tf,
  ae: TrainedNet,
  rows: Int32Array,
  d: number,
  input: (row: number, out: Float32Array, at: number) => void,
  cfg: { aeBatch: number; aeWeightDecay: number },
  rng: Rng,
): number[] {
  const L = rows.length;
  const losses: number[] = [];
  const order = rng.shuffle(Int32Array.from(rows));
  for (let s = 0; s < L; s += cfg.aeBatch) {
    const n = Math.min(cfg.aeBatch, L - s);
    const v = new Float32Array(n * d);
    for (let r = 0; r < n; r++) input(order[s + r], v, r * d);
    const x = tf.tensor2d(v, [n, d]);
    const { value, grads } = ae.params.grads(() => tf.mean(tf.square(tf.sub(ae.net.forward(x), x))) as never);
    if (cfg.aeWeightDecay > 0) {
      for (const [name, g] of Object.entries(grads)) {
        grads[name] = tf.tidy(() => tf.add(g, tf.mul(ae.params.get(name), cfg.aeWeightDecay)));
        g.dispose();
      }
    }
    ae.opt.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    x.dispose();
    losses.push(value);
  }
  return losses;
}
