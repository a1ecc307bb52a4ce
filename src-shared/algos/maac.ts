/**
 * MAAC (Iqbal & Sha 2019, "Actor-Attention-Critic for Multi-Agent RL") as the F2A2 paper runs it
 * as a baseline (shared/specs/f2a2.md §4 and §4.3): per-agent softmax policies, one attention
 * critic for all agents (nn/attention-critic.ts), a soft actor-critic update with a
 * counterfactual baseline. The rollout, replay and checkpoint plumbing is the off-policy trainer
 * of algos/maddpg-trainer.ts; this file builds the networks and writes the update.
 *
 * One update (`updatesPerCycle` of them every `updateEvery` env transitions, once the replay
 * holds `warmup`), on one minibatch for all agents, in the code's order:
 * 1. critic: next actions a' sampled from the target policies; per agent
 *      y_i = r_i + gamma (1 - term) (Q'_i(o', a') - alpha log pi'_i(a'_i | o'_i))   ('paper')
 *      y_i = r_i + gamma (1 - term) Q'_i(o', a') - alpha log pi'_i(a'_i | o'_i)     ('code')
 *    loss sum_i mean (Q_i(o, a) - y_i)^2 + sum_i attention-logit regulariser; the shared modules'
 *    gradients times 1/n, global-norm clip 10 n, Adam with weight decay (L2 in the gradient);
 * 2. policies: every agent's action re-sampled from its current policy, one critic pass gives
 *    q_all_i; A_i = q_i(a_i) - sum_b pi_i(b) q_all_i(b); loss
 *    mean log pi_i(a_i) sg(alpha log pi_i(a_i) - A_i) + 1e-3 mean(logits^2), clip 0.5, Adam;
 *    the critic gets no gradient from it;
 * 3. soft target updates of policies and critic (tau).
 * Rewards are standardised per agent by the replay's running mean and std (MAAC's buffer).
 * Policies and critic normalise their inputs with affine-free BatchNorm: batch statistics in
 * updates, the policies' running statistics when acting (MAAC's prep_training / prep_rollouts).
 *
 * Paper (F2A2 appendix G; default) vs the released MAAC code (shariqiqbal2810/MAAC @ 6174a01),
 * where they differ; `maac-released-code` presets switch both:
 *
 *   option           paper (default)                      released code
 *   tau              0.005 (F2A2 appendix G)               0.001 (main.py default)
 *   maacTargetForm   'paper': entropy inside gamma (1-d)   'code': -alpha log pi after gamma and the done mask
 *
 * Everything else is the code's, the paper being silent: policies and critic as §4.3 (128 units,
 * 4 heads of 32, LeakyReLU 0.01, PyTorch default init), Adam 1e-3 for both, critic weight decay
 * 1e-3, alpha 0.01 (reward_scale 100), gamma 0.99, minibatch 1024, replay 1e6, 4 updates per 100
 * env steps from 1024 stored steps.
 *
 * Cairn's choices where both are silent: a time-limit end bootstraps (MAAC's MPE runs never
 * store done); a reward column with zero std is centred but not scaled (the code would divide by
 * zero); B env copies (12 in the presets, the code's n_rollout_threads) feed one replay and the
 * update cadence counts their transitions, as the code's t += n_rollout_threads.
 */
import { ConfigError, typedValues, type Schema } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { AttentionCritic, addWeightDecay, counterfactualBaseline, scaleGrads } from '../nn/attention-critic';
import { clipByGlobalNorm } from '../nn/clip';
import { gumbelNoise, gumbelSoftmax } from '../nn/gumbel';
import { maskedLogProbs } from '../nn/categorical';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { MASKED_LOGIT } from './core/action-codec';
import { envProblems } from './core/compat';
import { softUpdate } from './core/target';
import { buildActor, MaddpgPolicy, MaddpgTrainer, type Batch, type DdpgFamilyConfig, type DdpgVariant } from './maddpg-trainer';
import type { AlgoEntry } from './types';

export const maacSchema = {
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: "Units of each of the policies' two hidden layers (MAAC: 128)." },
  criticHiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: "Attention critic width: encoders, the heads' concatenation and the Q heads' hidden layer (MAAC: 128)." },
  attendHeads: { type: 'int', default: 4, min: 1, max: 64, doc: 'Attention heads; criticHiddenDim must be a multiple (MAAC: 4, so 32 dims each).' },
  lrActor: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'Adam learning rate of the policies (F2A2 appendix G and MAAC: 1e-3).' },
  lrCritic: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'Adam learning rate of the critic (F2A2 appendix G and MAAC: 1e-3).' },
  criticWeightDecay: { type: 'float', default: 1e-3, min: 0, max: 1, doc: "L2 weight decay of the critic's Adam (MAAC: 1e-3)." },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount (F2A2 appendix G and MAAC: 0.99).' },
  tau: { type: 'float', default: 0.005, min: 0, max: 1, doc: 'Soft target rate (F2A2 appendix G: 0.005; released MAAC code: 0.001).' },
  alpha: { type: 'float', default: 0.01, min: 0, max: 10, doc: 'Entropy temperature (F2A2 appendix G: 0.01; MAAC reward_scale 100 = 1/alpha).' },
  maacTargetForm: {
    type: 'enum',
    default: 'paper',
    values: ['paper', 'code'],
    doc: "Soft target: r + gamma (1 - d) (Q' - alpha log pi') (paper) or r + gamma (1 - d) Q' - alpha log pi' (released code).",
  },
  batchSize: { type: 'int', default: 1024, min: 2, max: 1_000_000, doc: 'Minibatch (timesteps) per update, shared by all agents (F2A2 appendix G and MAAC: 1024; at least 2 for BatchNorm).' },
  bufferSize: { type: 'int', default: 1_000_000, min: 2, max: 10_000_000, doc: 'Replay capacity in joint transitions (F2A2 appendix G and MAAC: 1e6).' },
  updateEvery: { type: 'int', default: 100, min: 1, max: 1_000_000, doc: 'Env transitions (over all copies) between update cycles (MAAC steps_per_update: 100).' },
  updatesPerCycle: { type: 'int', default: 4, min: 1, max: 1000, doc: 'Updates per cycle, each on its own minibatch (F2A2 appendix G and MAAC num_updates: 4).' },
  warmup: { type: 'int', default: 1024, min: 1, max: 10_000_000, doc: 'Stored transitions before the first update (MAAC: the batch size). Capped at bufferSize.' },
  gradClip: { type: 'float', default: 0.5, min: 0, doc: 'Global gradient-norm clip of each policy (MAAC: 0.5; 0 = none).' },
  criticClipPerAgent: { type: 'float', default: 10, min: 0, doc: "The critic's global gradient-norm clip is this times the number of agents (MAAC: 10 n; 0 = none)." },
  actorLogitReg: { type: 'float', default: 1e-3, min: 0, doc: 'Weight of mean(logits^2) in each policy loss (MAAC: 1e-3).' },
  attendReg: { type: 'float', default: 1e-3, min: 0, doc: 'Weight of the mean squared attention logits in the critic loss, per agent and head (MAAC: 1e-3).' },
  rewardNorm: { type: 'bool', default: true, doc: "Standardise each agent's sampled rewards by that agent's mean and std over the replay (MAAC's buffer)." },
  inputBatchNorm: { type: 'bool', default: true, doc: 'Affine-free BatchNorm on policy and critic inputs (MAAC norm_in).' },
} as const satisfies Schema;

type MaacConfig = ReturnType<typeof parseMaac>;
function parseMaac(config: Record<string, unknown>) {
  return typedValues('algo', maacSchema, config);
}

/** What MAAC fixes in the shared trainer: one-hot replay actions, MAAC's policy network. */
const MAAC_FIXED: Partial<DdpgFamilyConfig> = {
  storeAction: 'onehot',
  layerNorm: false,
  activation: 'leaky-relu',
  init: 'torch',
  critic: 'centralised',
  sharedSample: true,
  boxPolicy: 'tanh',
};

export const MAAC_VARIANT: DdpgVariant = { id: 'maac', schema: maacSchema, fixed: MAAC_FIXED };

export function maacProblems(spec: EnvSpec): string[] {
  const out = envProblems({ actions: 'discrete' }, spec);
  if (spec.numAgents < 2) out.push('MAAC needs at least 2 agents (each attends over the others)');
  return out;
}

/**
 * The soft TD target [K, 1] from rewards r, termination flags, the target critic's Q' and
 * log pi' of the sampled next actions: 'paper' r + gamma (1 - d) (Q' - alpha log pi'),
 * 'code' r + gamma (1 - d) Q' - alpha log pi' (the released code; the entropy term survives a
 * terminal step).
 */
export function maacSoftTarget(tf: Tf, r: Tensor, term: Tensor, qNext: Tensor, logpiNext: Tensor, gamma: number, alpha: number, form: 'paper' | 'code'): Tensor {
  return tf.tidy(() => {
    const cont = tf.mul(tf.sub(1, term), gamma);
    const ent = tf.mul(logpiNext, alpha);
    return form === 'paper' ? tf.add(r, tf.mul(cont, tf.sub(qNext, ent))) : tf.sub(tf.add(r, tf.mul(cont, qNext)), ent);
  });
}

/** One-hot categorical samples of (masked) logits by the Gumbel-max trick, and log pi of every action. */
function sampleDiscrete(tf: Tf, logits: Tensor, mask: Tensor | null, rng: Rng): { onehot: Tensor; logp: Tensor } {
  return tf.tidy(() => {
    const [R, A] = logits.shape as [number, number];
    const masked = mask ? tf.add(logits, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : logits;
    const onehot = gumbelSoftmax(tf, masked, tf.tensor2d(gumbelNoise(rng, R * A), [R, A]), 1, true);
    const logp = mask ? maskedLogProbs(tf, logits, mask) : tf.logSoftmax(logits);
    return { onehot, logp };
  });
}

export class MaacTrainer extends MaddpgTrainer {
  // Set in createNetworks, which the base constructor calls: `declare` keeps the subclass from
  // re-initialising them afterwards.
  declare private mcfg: MaacConfig;
  declare private attn: AttentionCritic;
  declare private attnTarget: AttentionCritic;
  declare private criticOpt: Optimizer;

  protected override createNetworks(rng: Rng): void {
    const { tf, lay, N } = this;
    const m = (this.mcfg = parseMaac(this.ctx.config));
    if (m.criticHiddenDim % m.attendHeads !== 0) {
      throw new ConfigError('algo.criticHiddenDim', `a multiple of attendHeads (${m.attendHeads})`, m.criticHiddenDim);
    }
    for (let i = 0; i < N; i++) {
      const pol = buildActor(tf, lay, i, this.cfg, rng);
      const polT = buildActor(tf, lay, i, this.cfg, rng, false);
      polT.params.copyFrom(pol.params);
      this.actors.push(pol);
      this.actorTargets.push(polT);
      this.actorOpts.push(new Adam(tf, pol.params, { lr: m.lrActor }));
    }
    const dims = { obsSizes: lay.obsSizes, actSizes: lay.codecs.map((c) => c.dim) };
    const opts = { hidden: m.criticHiddenDim, heads: m.attendHeads, batchNorm: m.inputBatchNorm, attendReg: m.attendReg };
    this.attn = new AttentionCritic(tf, new ParamSet(tf), new ParamSet(tf, false), 'critic', dims, rng, opts);
    this.attnTarget = new AttentionCritic(tf, new ParamSet(tf, false), new ParamSet(tf, false), 'critic', dims, rng, opts);
    this.attnTarget.params.copyFrom(this.attn.params);
    this.criticOpt = new Adam(tf, this.attn.params, { lr: m.lrCritic });
  }

  protected override setTraining(on: boolean): void {
    super.setTraining(on);
    this.attn.training = on;
    this.attnTarget.training = on;
  }

  protected override extraParts(): { params: Record<string, ParamSet>; optimisers: Record<string, Optimizer> } {
    return {
      params: {
        'attnCritic/': this.attn.params,
        'attnCriticStats/': this.attn.stats,
        'attnCriticTarget/': this.attnTarget.params,
        'attnCriticTargetStats/': this.attnTarget.stats,
      },
      optimisers: { attnCritic: this.criticOpt },
    };
  }

  protected override update(): void {
    const b = this.sampleBatch(0);
    this.criticStep(b);
    this.policySteps(b);
    const tau = this.mcfg.tau;
    for (let i = 0; i < this.N; i++) softUpdate(this.tf, this.actorTargets[i].params, this.actors[i].params, tau);
    softUpdate(this.tf, this.attnTarget.params, this.attn.params, tau);
    this.disposeBatch(b);
    this.updates++;
    this.afterUpdate();
  }

  private criticStep(b: Batch): void {
    const { tf, N } = this;
    const m = this.mcfg;
    const rng = this.ctx.rng;
    const y = tf.tidy(() => {
      const next = this.actorTargets.map((p, i) => sampleDiscrete(tf, p.net.forward(b.nobs[i]), b.nmask[i], rng));
      const f = this.attnTarget.forward(
        b.nobs,
        next.map((s) => s.onehot),
      );
      return f.q.map((q, i) => {
        const logpi = tf.sum(tf.mul(next[i].logp, next[i].onehot), 1, true);
        return maacSoftTarget(tf, tf.slice(b.rew, [0, i], [b.K, 1]), b.term, q, logpi, m.gamma, m.alpha, m.maacTargetForm);
      });
    });
    let reg = 0;
    const { value, grads } = this.attn.params.grads(() => {
      const f = this.attn.forward(b.obs, b.act);
      let loss: Tensor = tf.scalar(0);
      f.q.forEach((q, i) => (loss = tf.add(loss, tf.mean(tf.square(tf.sub(q, y[i]))))));
      f.reg.forEach((r) => (loss = tf.add(loss, r)));
      reg = tf.addN(f.reg.map((r) => tf.reshape(r, [1]))).dataSync()[0];
      return loss as never;
    });
    tf.dispose(y);
    scaleGrads(tf, grads, this.attn.sharedNames(), 1 / N);
    if (m.criticClipPerAgent > 0) clipByGlobalNorm(tf, grads, m.criticClipPerAgent * N);
    addWeightDecay(tf, grads, this.attn.params, m.criticWeightDecay);
    this.criticOpt.step(grads);
    tf.dispose(Object.values(grads));
    this.stats.add('losses/critic', value);
    this.stats.add('losses/attend_reg', reg);
  }

  private policySteps(b: Batch): void {
    const { tf, N } = this;
    const m = this.mcfg;
    const rng = this.ctx.rng;
    // Current actions of every agent and what each policy's loss holds fixed: the sampled
    // action, and sg(alpha log pi(a) - (q(a) - sum_b pi(b) q(b))).
    const cur = tf.tidy(() => this.actors.map((p, i) => sampleDiscrete(tf, p.net.forward(b.obs[i]), b.mask[i], rng)));
    const coef = tf.tidy(() => {
      const f = this.attn.forward(
        b.obs,
        cur.map((s) => s.onehot),
      );
      return f.allQ.map((allQ, i) => {
        const base = counterfactualBaseline(tf, allQ, tf.exp(cur[i].logp));
        const logpi = tf.sum(tf.mul(cur[i].logp, cur[i].onehot), 1, true);
        return tf.sub(tf.mul(logpi, m.alpha), tf.sub(f.q[i], base));
      });
    });
    for (let i = 0; i < N; i++) {
      const { value, grads } = this.actors[i].params.grads(() => {
        const logits = this.actors[i].net.forward(b.obs[i], false);
        const logp = b.mask[i] ? maskedLogProbs(tf, logits, b.mask[i]!) : tf.logSoftmax(logits);
        const logpi = tf.sum(tf.mul(logp, cur[i].onehot), 1, true);
        return tf.add(tf.mean(tf.mul(logpi, coef[i])), tf.mul(tf.mean(tf.square(logits)), m.actorLogitReg)) as never;
      });
      if (m.gradClip > 0) clipByGlobalNorm(tf, grads, m.gradClip);
      this.actorOpts[i].step(grads);
      tf.dispose(Object.values(grads));
      this.stats.add(`losses/actor_${i}`, value);
    }
    tf.dispose(coef);
    for (const s of cur) tf.dispose([s.onehot, s.logp]);
  }
}

export const maacEntry: AlgoEntry = {
  id: 'maac',
  title: 'MAAC: soft actor-critic with one attention critic for all agents (Iqbal & Sha 2019; F2A2 appendix G settings)',
  schema: maacSchema,
  accepts: maacProblems,
  createTrainer: (ctx) => new MaacTrainer(ctx, MAAC_VARIANT),
  createPolicy: (ctx) => new MaddpgPolicy(ctx, MAAC_FIXED),
};
