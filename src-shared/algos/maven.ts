/**
 * MAVEN: multi-agent variational exploration (Mahajan et al. 2019) as run in Malenfant & Richards
 * 2025 (Table 9, Figs. 2-3, 8, 11-12; specs/manitokan-learners.md §4 "MAVEN").
 *
 * A latent z (one-hot over `noiseDim` values) is drawn per episode and held fixed through it, so
 * exploration is committed to one joint behaviour mode:
 *   hierarchical policy  pi_z(z | s_0) = softmax(Linear(s_0)) on the episode's first mixer state,
 *                        trained by REINFORCE on the episode's discounted team return with the
 *                        batch's mean return as baseline (`latentPolicy = uniform`: z ~ U).
 *   agents               the shared recurrent Q-network sees [observation, one-hot z].
 *   mixer                QMIX's monotonic mixer conditioned on [s, z] (Table 9's "noise mixing
 *                        network": one-layer hypernetworks, embed 32, V(s, z) with 32 hidden).
 *   discriminator        q(z | s_t, softmax Q_1..N(tau_t)) = MLP -> 32 relu -> noiseDim, per step
 *                        (Table 9: skip connection and RNN aggregation off); the mutual-information
 *                        loss is its cross-entropy with the episode's z, averaged over valid steps;
 *                        its gradient reaches the agents through the softmax of their Q.
 *   loss                 L = L_td(Q_tot) + miLoss L_mi + L_hierarchical, one optimiser over every
 *                        network (the three terms' parameters overlap only in the agents and mixer).
 * Rollout, buffer, TD(lambda) targets and schedules: value-mixing-trainer.ts (z is stored with the
 * episode as the last entries of every state row).
 *
 * Paper (Table 9) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e: maven.yaml, maven_learner.py,
 * noise_controller.py, noise_rnn_agent.py, MAVEN.py, returns_bandit.py), and Cairn's defaults. The
 * `manitokan-maven*-released-code` presets switch every code value on together.
 *
 *   option                  paper (default here)               released code
 *   agent network           Linear(27 -> 64) relu -> GRU(64)    hidden 128; z enters through a
 *                           -> Linear(64 -> 6); z appended to   hypernetwork on the output layer
 *                           the input (the table lists no z     (noise_rnn_agent)
 *                           input: Cairn's choice)
 *   optimizer, lr           RMSprop alpha 0.99 eps 1e-5, 5e-5   RMSprop 5e-4
 *                           (no decay in Table 9)
 *   epsilon                 not in Table 9: 1.0 -> 0.05 over    1.0 -> 0.05 over 50,000 t_env
 *                           50,000 t_env (the code's)
 *   target update           hard, every round ("1 episode")     hard, every 100 updates
 *   double Q                off (not given)                     on
 *   latent policy           hierarchical (MAVEN's; not given)   returns bandit (not ported)
 *   noise dim, MI weight    2, 1 (not given: the code's)        2, 1
 *   observation             fresh                               frozen-initial (runner quirk §0.1)
 *   buffer / batch / warmup 1000 / 32 / 32 episodes             1000 / 32 / -
 *   env episodeLimit        150                                 300
 *
 * Table 9's widths (116 inputs to every mixer hypernetwork and the discriminator) do not fit any
 * Manitokan state with z (54 + 2 = 56 here): the widths follow the inputs Cairn actually feeds.
 */
import { type Schema, typedValues } from '../config/schema';
import { maskedLogProbs, maskedProbs, sampleIndex } from '../nn/categorical';
import { concatDiff } from '../nn/conv';
import { QmixMixer } from '../nn/mixers';
import { Linear, Mlp } from '../nn/mlp';
import type { Tensor, Tf } from '../nn/tf';
import { mixerOptions, qmixMixerSchema } from './qmix';
import { RecurrentQPolicy } from './recurrent-q';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';
import { ValueMixingTrainer, maskedMean, maskedTdLoss, valueMixingProblems, valueMixingSchema, type ValueMixingAlgo } from './value-mixing-trainer';

const mavenOwnSchema = {
  noiseDim: { type: 'int', default: 2, min: 1, max: 64, doc: 'Values of the latent z (released code: noise_dim 2; paper silent).' },
  miLoss: { type: 'float', default: 1, min: 0, doc: 'Weight of the mutual-information (discriminator) loss (released code: 1; paper silent).' },
  latentPolicy: {
    type: 'enum',
    default: 'hierarchical',
    values: ['hierarchical', 'uniform'],
    doc: "How z is drawn per episode: hierarchical = MAVEN's policy on the initial state, trained by REINFORCE; uniform = z ~ U (released code: a returns bandit, not ported).",
  },
  discrimHidden: { type: 'int', default: 32, min: 1, max: 4096, doc: 'Hidden units of the discriminator (paper Table 9: 32).' },
} as const satisfies Schema;

export const mavenSchema = {
  ...valueMixingSchema,
  ...qmixMixerSchema,
  ...mavenOwnSchema,
  optimizer: { ...valueMixingSchema.optimizer, default: 'rmsprop', doc: 'Optimiser (paper Table 9 and released code: RMSprop).' },
  lr: { ...valueMixingSchema.lr, default: 5e-5, doc: 'Learning rate (paper Table 9: 5e-5; released code: 5e-4).' },
  lrSchedule: { ...valueMixingSchema.lrSchedule, default: 'constant', doc: 'Learning-rate schedule (paper Table 9: no decay, constant; released code: constant).' },
  hypernetLayers: { ...qmixMixerSchema.hypernetLayers, default: 1, doc: "Layers of each weight hypernetwork of the noise mixer (paper Table 9 and released code: 1)." },
  valueHidden: { ...qmixMixerSchema.valueHidden, default: 32, doc: 'Hidden units of V(s, z) (paper Table 9 and released code: 32).' },
} as const satisfies Schema;

export interface MavenNet {
  readonly mixer: QmixMixer;
  readonly discrim: Mlp;
  readonly zPolicy: Linear;
  /** Mixer state width without the latent. */
  readonly Sm: number;
  readonly Z: number;
  readonly N: number;
  readonly A: number;
  readonly miLoss: number;
  readonly latentPolicy: 'hierarchical' | 'uniform';
}

/**
 * The discriminator's cross-entropy with the episodes' latents, mean over valid rows: logits
 * [R, Z], latent one-hot rows [R, Z], mask [R, 1].
 */
export function discriminatorLoss(tf: Tf, logits: Tensor, zHot: Tensor, mask: Tensor, count: number): Tensor {
  return tf.tidy(() => {
    const ce = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), zHot), 1, true));
    return tf.div(tf.sum(tf.mul(ce, mask)), Math.max(1, count));
  });
}

export const mavenAlgo: ValueMixingAlgo<MavenNet> = {
  id: 'maven',
  latentDim: (config) => typedValues('algo', mavenOwnSchema, config).noiseDim,
  build: (tf, params, dims, config, rng) => {
    const cfg = typedValues('algo', mavenSchema, config);
    const Sm = dims.S - dims.Z;
    const mixer = new QmixMixer(tf, params, 'mixer', mixerOptions(dims.N, dims.S, cfg), rng);
    const discrim = new Mlp(tf, params, 'mixer/discriminator', [Sm + dims.N * dims.A, cfg.discrimHidden, dims.Z], 'relu', 1, rng);
    const zPolicy = new Linear(tf, params, 'mixer/latent_policy', Sm, dims.Z, 1, rng);
    return { mixer, discrim, zPolicy, Sm, Z: dims.Z, N: dims.N, A: dims.A, miLoss: cfg.miLoss, latentPolicy: cfg.latentPolicy };
  },
  drawLatents: (tf, net, states0, B, rng, out) => {
    if (net.latentPolicy === 'uniform') {
      for (let b = 0; b < B; b++) out[b] = rng.int(net.Z);
      return;
    }
    let logits!: Float32Array;
    tf.tidy(() => {
      logits = net.zPolicy.infer(tf.tensor3d(states0, [1, B, net.Sm])).dataSync() as Float32Array;
    });
    const ones = new Uint8Array(net.Z).fill(1);
    const p = new Float64Array(net.Z);
    for (let b = 0; b < B; b++) {
      maskedProbs(logits, b * net.Z, ones, 0, net.Z, 0, p, 0);
      out[b] = sampleIndex(p, 0, net.Z, rng);
    }
  },
  targetValue: (_tf, net, v) => net.mixer.forward(v.q, v.states),
  loss: (tf, net, v) => {
    const { R, B } = v;
    const { N, A, Z, Sm } = net;
    // TD loss of the z-conditioned mixer.
    const qTot = net.mixer.forward(v.taken.q, v.taken.states);
    const td = maskedTdLoss(tf, qTot, v.y, v.mask, v.count);
    // Mutual information: the discriminator recovers z from (s_t, softmax Q(tau_t)).
    const pi = tf.exp(maskedLogProbs(tf, v.qAll, v.avail)); // [N, R, A]
    const cols = (N === 1 ? [pi] : tf.split(pi, N, 0)).map((c) => tf.reshape(c, [R, A]));
    const s = tf.slice(v.taken.states, [0, 0], [R, Sm]);
    const dIn = concatDiff(tf, [s, ...cols], 1);
    const logits = tf.reshape(net.discrim.forward(tf.reshape(dIn, [1, R, Sm + N * A])), [R, Z]);
    const zRows = new Float32Array(R * Z);
    for (let r = 0; r < R; r++) zRows[r * Z + v.latent[r % B]] = 1;
    const mi = discriminatorLoss(tf, logits, tf.tensor2d(zRows, [R, Z]), v.mask, v.count);
    let loss = tf.add(td, tf.mul(mi, net.miLoss));
    const stats: Record<string, Tensor> = { 'losses/td': td, 'losses/mi': mi, 'charts/q_tot_taken_mean': maskedMean(tf, qTot, v.mask, v.count) };
    if (net.latentPolicy === 'hierarchical') {
      // REINFORCE on the episodes' returns, baseline = the batch mean.
      let mean = 0;
      for (let b = 0; b < B; b++) mean += v.episodeReturn[b] / B;
      const coef = new Float32Array(B * Z);
      for (let b = 0; b < B; b++) coef[b * Z + v.latent[b]] = -(v.episodeReturn[b] - mean) / B;
      const s0 = tf.slice(v.taken.states, [0, 0], [B, Sm]); // rows t = 0
      const logp = tf.logSoftmax(tf.reshape(net.zPolicy.forward(tf.reshape(s0, [1, B, Sm]), 'linear', false), [B, Z]));
      const hier = tf.sum(tf.mul(logp, tf.tensor2d(coef, [B, Z])));
      loss = tf.add(loss, hier);
      stats['losses/latent_policy'] = hier;
    }
    return { loss, stats };
  },
};

export const mavenEntry: AlgoEntry = {
  id: 'maven',
  title: 'MAVEN: multi-agent variational exploration (Mahajan et al. 2019; Malenfant & Richards 2025, Table 9)',
  schema: mavenSchema,
  accepts: valueMixingProblems,
  createTrainer: (ctx: TrainContext) => new ValueMixingTrainer(ctx, mavenAlgo, typedValues('algo', mavenSchema, ctx.config)),
  createPolicy: (ctx: PolicyContext) => {
    const cfg = typedValues('algo', mavenSchema, ctx.config);
    return new RecurrentQPolicy(ctx, cfg, cfg.noiseDim);
  },
};
