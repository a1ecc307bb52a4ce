/**
 * F2A2-COMA (Li, Jin, Wang, Yan, Zha; JMLR 24, 2023, §5.1.1 Prop 3, appendix D.1, G; spec
 * shared/specs/f2a2.md §1.8, §2): the on-policy instantiation of F2A2. Every agent i trains its
 * own policy pi^i(o^i) and its own copy phi~^i of one shared centralised COMA critic on the
 * joint objective, the copies are kept together by primal-dual consensus over the
 * communication graph (algos/consensus/, w_sh = the whole critic, spec §2.1), and agent i
 * predicts the others' next actions with its MOA models (f2a2-moa.ts) instead of reading their
 * policies.
 *
 * Why a learner of its own (`f2a2-coma`) rather than `f2a2`'s `instantiation: coma`: its
 * defaults differ from the off-policy instantiations' in kind, not value (the data is the most
 * recent 1024 steps instead of a 1e6 replay, acting is an epsilon-bounded softmax instead of a
 * Gumbel sample, no importance ratios, a COMA critic with |A| outputs), so one schema would need
 * per-instantiation defaults; and f2a2.ts cannot import a subclass of its own trainer back (ESM
 * cycle). The trainer extends F2a2Trainer and reuses all of its consensus, MOA, checkpoint and
 * replay plumbing (and through it maddpg-trainer.ts's rollout, buffer and cadence); only the
 * networks' heads, acting and the update iteration are COMA's.
 *
 * Critic (spec §1.8): Q(o, a^-i, onehot(i)) -> |A^i| values, an MLP 2 x 128 (LeakyReLU), input
 * [o_1..o_N | one-hot a_1..a_N with agent i's own block zeroed | onehot(i)] (COMA's layout, as
 * algos/coma.ts builds it). Agents whose action sets differ read the first |A^i| outputs.
 * Counterfactual baseline B(o, a^-i) = sum_b pi^i(b|o^i) Q(o, a^-i)[b].
 *
 * Surrogate of agent i, reward form (spec §0, §1.8; Prop 3's gradients after the sign change),
 * k over the most recent `bufferSize` (1024) joint steps, l = log pi^i_eps(a^i_k | o^i_k):
 *   critic step:  L_phi = mean_k[ -a1 Q_k + a2 (Q_k - sg y_k)^2 ]        (grad (a1 + 2 a2 delta) dQ, cost form)
 *   actor step:   L_psi = mean_k[ -a1 l sg(Q_k - B_k) + a2 l sg(delta_k^2) ]
 * with Q_k = Q(o_k, a^-i_k, i)[a^i_k], delta_k = Q_k - y_k, the actor step recomputing Q, B and
 * delta with the critic its step just updated (Gauss-Seidel, spec §2.3), and
 *   y_k = r^i_k + gamma (1 - term_k) Qbar^i(o'_k, a~'^-i_k, i)[a'^i_k]          (TD(0), Prop 3)
 * where Qbar^i is agent i's target copy, a~'^-i are sampled from agent i's MOA models at o'
 * (Algorithm 1 line 10) and a'^i is agent i's own next action. "w/o JOINT" (`joint: false`,
 * spec §1.11): L_phi = a2 delta^2, L_psi = -a1 l sg(Q - B) (plain COMA steps).
 *
 * Defaults: paper appendix G (MPE) where it speaks, the spec's choices where it does not:
 *
 *   option            default                                         alternative / source
 *   bufferSize        1024: every update trains on the most recent    (paper G "for COMA and
 *                     1024 joint steps, all of them                   F2A2-COMA ... the most
 *                                                                     recent 1024 timesteps")
 *   updateEvery,      4 update iterations per 100 env steps           (paper G)
 *   updateIters
 *   lrActor/lrCritic  Adam 1e-3; hidden 128, LeakyReLU; gamma 0.99    (paper G)
 *   epsilon*          bounded softmax, eps 0.5 -> 0.01 over the first (paper G gives it for SC2;
 *                     50k env steps (all copies counted)              spec §1.8 uses it on MPE)
 *   tau               soft target 0.005 after consensus (spec §2.3,   targetCopyEvery > 0: COMA's
 *                     paper G "update the target networks (if there   hard copy every N update
 *                     are)")                                          iterations (COMA: 200)
 *   gradClip          10 (global norm; COMA / PyMARL's 10; the paper  any; 0 = none
 *                     names clipping only as R's regulariser)
 *   alpha1, alpha2,   1, 1, full topology, exchange every iteration,  as f2a2.ts (spec §1.12, §2)
 *   consensus         beta 0.5, eta 1
 *   moa               'on' (impromptu nets of f2a2-moa.ts)            'off' = w/o MOA: the others'
 *                                                                     current policies, sampled
 *   strictEstimation  false (stored others' actions in Q_k)           true: MOA samples there too
 *   rewardNorm        on: each agent's rewards standardised over the  off
 *                     window (= this learner's buffer; MAAC's buffer)
 *
 * Cairn's choices where paper and spec are silent or cannot be followed literally:
 * - own next action a'^i: a fresh sample of agent i's current epsilon-bounded policy at o'^i.
 *   The spec names "the stored next action"; the transition replay does not keep it, and a
 *   sample of the same on-policy distribution has the same expectation (it is also defined after
 *   a time-limit truncation, where no next action was taken).
 * - policies are per-agent MLPs (paper G's MPE set-up); Table 1's GRU policies (SC2) are not
 *   built (the spec's `recurrentPolicy` option is left out, as is `tdLambda`: Prop 3 is TD(0)).
 * - pi in B and in l is the epsilon-bounded behaviour distribution (what sampled a^i, as
 *   algos/coma.ts does), at the current epsilon.
 * - no importance ratios (spec §1.8: on-policy, the window is a few update cycles old).
 * - the evaluation policy samples the learned softmax without the epsilon floor (greedy: argmax).
 *
 * Logged: losses per agent, `f2a2/delta` (mean TD error), `charts/advantage_mean`,
 * `charts/counterfactual_baseline`, `charts/epsilon`, `moa/loss`, `moa/accuracy` and the
 * consensus counters of f2a2.ts.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import { maskedLogProbs, maskedProbs, sampleIndex } from '../nn/categorical';
import { DenseNet } from '../nn/dense-net';
import { gumbelNoise } from '../nn/gumbel';
import { ParamSet } from '../nn/params';
import type { Tensor } from '../nn/tf';
import type { Rng } from '../rng';
import { counter } from './core/checkpoint';
import { softUpdate } from './core/target';
import { f2a2Problems, f2a2Schema, F2a2Trainer } from './f2a2';
import { MOA_PREV_FIELD, moaNaturalSchema } from './f2a2-moa-natural';
import { denseOptions, MaddpgPolicy, type Batch, type DdpgVariant, type Net } from './maddpg-trainer';
import { epsilonAt } from './recurrent-actor';
import type { AlgoEntry, RoundResult, TrainContext } from './types';

const s = f2a2Schema;

export const f2a2ComaSchema = {
  hiddenDim: s.hiddenDim,
  activation: { ...s.activation, default: 'leaky-relu', doc: 'Hidden activation of actors and critics (paper G: "Leaky Rectified Linear Units").' },
  init: { ...s.init, default: 'torch', doc: "Weights: PyTorch's nn.Linear default (the PyTorch code base of the paper's MPE runs) or Glorot uniform." },
  layerNorm: s.layerNorm,
  lrActor: s.lrActor,
  lrCritic: s.lrCritic,
  gamma: s.gamma,
  tau: { ...s.tau, doc: 'Soft target update rate of the critic copies after each iteration (paper G: 0.005); unused with targetCopyEvery > 0.' },
  bufferSize: { ...s.bufferSize, default: 1024, min: 1, max: 1_000_000, doc: 'Every update iteration trains on the most recent bufferSize joint steps, all of them (paper G: 1024 for COMA and F2A2-COMA).' },
  updateEvery: s.updateEvery,
  updateIters: s.updateIters,
  gradClip: { ...s.gradClip, default: 10, doc: 'Global gradient-norm clip of actor and critic steps, 0 = none (paper: clipping as the regulariser R, no value; COMA / PyMARL: 10).' },
  epsilonStart: { type: 'float', default: 0.5, min: 0, max: 1, doc: 'Bounded softmax: pi = (1 - eps) softmax + eps / |A| (masked, renormalised), eps at the start (paper G: 0.5).' },
  epsilonFinish: { type: 'float', default: 0.01, min: 0, max: 1, doc: 'eps after annealing (paper G: 0.01).' },
  epsilonAnnealSteps: { type: 'int', default: 50_000, min: 0, max: 1e9, doc: 'Env steps (all copies counted) over which eps anneals linearly (paper G: the first 50k).' },
  targetCopyEvery: { type: 'int', default: 0, min: 0, max: 1_000_000, doc: "0 = soft target updates with tau after every iteration (paper G, spec §2.3); N = hard copy every N update iterations (COMA's every 200 critic updates)." },
  alpha1: s.alpha1,
  alpha2: s.alpha2,
  joint: { ...s.joint, doc: 'Joint training (both steps descend one objective). false = "w/o JOINT": critic a2 delta^2 only, actor -a1 log pi (Q - B) only.' },
  moa: { ...s.moa, doc: "Others' next actions in the target from agent i's MOA models (on), or sampled from the others' true current policies ('off' = \"w/o MOA\")." },
  moaOthers: s.moaOthers,
  strictEstimation: { ...s.strictEstimation, doc: "Also replace the others' stored actions in Q(o, a^-i) by MOA samples (spec §1.4 option)." },
  moaHidden: s.moaHidden,
  moaFifo: s.moaFifo,
  moaLr: s.moaLr,
  // The full MOA (character, mental and natural nets, f2a2-moa-natural.ts) as in f2a2.
  ...moaNaturalSchema,
  topology: s.topology,
  edgeFraction: s.edgeFraction,
  directed: s.directed,
  exchangeMean: s.exchangeMean,
  exchangeStd: s.exchangeStd,
  secondParamIsVariance: s.secondParamIsVariance,
  beta: s.beta,
  consensusEta: s.consensusEta,
  consensusWeights: s.consensusWeights,
  consensusMode: s.consensusMode,
  rewardNorm: { ...s.rewardNorm, doc: "Standardise each agent's training rewards by the mean and std of its rewards in the buffer (MAAC code's buffer; spec §4)." },
} as const satisfies Schema;

export type F2a2ComaConfig = Values<typeof f2a2ComaSchema>;

export const F2A2_COMA_VARIANT: DdpgVariant = { id: 'f2a2-coma', schema: f2a2ComaSchema };

/** Agent i's per-iteration constants (disposed after its actor step). */
export interface ComaInputs {
  readonly i: number;
  /** Critic input actions: agent i's own block zeroed, the others' stored (or MOA) one-hots. */
  readonly acts: Tensor[];
  readonly id: Tensor; //  [K, N]
  readonly y: Tensor; //   [K, 1] TD(0) target
}

/** Standardise each of the N columns of a [K, N] row-major array in place (population std; constant columns only centred). */
export function standardiseColumns(x: Float32Array, K: number, N: number): void {
  for (let j = 0; j < N; j++) {
    let m = 0;
    for (let k = 0; k < K; k++) m += x[k * N + j];
    m /= K;
    let v = 0;
    for (let k = 0; k < K; k++) v += (x[k * N + j] - m) ** 2;
    const sd = Math.sqrt(v / K);
    for (let k = 0; k < K; k++) x[k * N + j] = (x[k * N + j] - m) / (sd > 1e-8 ? sd : 1);
  }
}

export class F2a2ComaTrainer extends F2a2Trainer {
  readonly c: F2a2ComaConfig;
  /** Env steps so far (all copies), for epsilon. */
  tEnv = 0;
  private readonly probs: Float64Array;

  constructor(ctx: TrainContext) {
    const c = typedValues('algo', f2a2ComaSchema, ctx.config);
    // The replay holds the window (and the MOA's FIFO, which may be longer); updates wait for a full window.
    const bufferSize = Math.max(c.bufferSize, c.moa === 'on' ? c.moaFifo : 0);
    // rewardNorm off below: the window is standardised here (recentBatch), never by the base
    // trainer's or F2A2's own statistics on top.
    super({ ...ctx, config: { ...ctx.config, bufferSize, warmup: c.bufferSize, batchSize: c.bufferSize, clipMode: 'global', updatesPerCycle: 1, rewardNorm: false } }, F2A2_COMA_VARIANT);
    this.c = c;
    this.probs = new Float64Array(Math.max(1, ...this.lay.codecs.map((d) => d.dim)));
  }

  // ---- networks -----------------------------------------------------------------------------

  /** COMA critic: [o_1..o_N, a_1..a_N (own block zeroed), onehot(i)] -> hidden -> hidden -> max |A^j|. */
  protected override buildCritic(_i: number, rng: Rng, trainable: boolean): Net {
    const params = new ParamSet(this.tf, trainable);
    const stats = new ParamSet(this.tf, false);
    const out = Math.max(...this.lay.codecs.map((d) => d.dim));
    const inDim = this.lay.obsTotal + this.lay.actTotal + this.N;
    const net = new DenseNet(this.tf, params, 'net', [inDim, this.cfg.hiddenDim, this.cfg.hiddenDim, out], rng, denseOptions(this.cfg, stats));
    return { params, net, stats };
  }

  /** Agent i's Q over its own actions [K, |A^i|] (online or target copy). */
  qAll(i: number, obs: readonly Tensor[], acts: readonly Tensor[], id: Tensor, target = false): Tensor {
    const tf = this.tf;
    const D = this.lay.codecs[i].dim;
    return tf.tidy(() => {
      const q = this.q(i, 0, obs, acts, id, target);
      return q.shape[1] === D ? q : tf.slice(q, [0, 0], [-1, D]);
    });
  }

  /** log pi^i_eps(. | o^i) [K, |A^i|] of the current actor (masked, epsilon-bounded). */
  logPi(i: number, obs: Tensor, mask: Tensor | null, eps: number): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const logits = this.actors[i].net.forward(obs);
      return maskedLogProbs(tf, logits, mask ?? tf.onesLike(logits), eps);
    });
  }

  epsilon(): number {
    return epsilonAt(this.c, this.tEnv);
  }

  // ---- acting: the epsilon-bounded softmax (paper G) ----------------------------------------

  protected override act(_t: number): void {
    const { env, rng } = this.ctx;
    this.setTraining(false);
    const { N, B, A, lay } = this;
    const O = this.spec.obsSize;
    const eps = this.epsilon();
    const ro = this.rollout;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) this.curObs.set(env.obs.subarray((b * N + i) * O, (b * N + i) * O + lay.obsSizes[i]), b * lay.obsTotal + lay.obsOff[i]);
    }
    this.curMask.set(env.actionMask.subarray(0, this.curMask.length));
    this.curAct.fill(0);
    for (let i = 0; i < N; i++) {
      const w = lay.obsSizes[i];
      const D = lay.codecs[i].dim;
      const rows = new Float32Array(B * w);
      for (let b = 0; b < B; b++) rows.set(this.curObs.subarray(b * lay.obsTotal + lay.obsOff[i], b * lay.obsTotal + lay.obsOff[i] + w), b * w);
      const raw = this.actorRaw(i, rows, B);
      for (let b = 0; b < B; b++) {
        maskedProbs(raw, b * D, env.actionMask, (b * N + i) * A, D, eps, this.probs, 0);
        const a = sampleIndex(this.probs, 0, D, rng);
        this.curAct[b * lay.actTotal + lay.actOff[i] + a] = 1;
        ro.actions[b * N + i] = a;
      }
    }
  }

  // No behaviour probabilities in the replay: F2A2-COMA has no importance ratios. The full MOA's
  // episode links (each row's predecessor, for the mental window) are kept as in f2a2.ts.
  protected override extraBufferWidths(): Record<string, number> {
    // Called before the fields are set: the config is read directly.
    const c = typedValues('algo', f2a2ComaSchema, this.ctx.config);
    return c.moa === 'on' && c.moaModel === 'full' ? { [MOA_PREV_FIELD]: 1 } : {};
  }
  protected override extraRows(): Record<string, ArrayLike<number>> {
    return this.moaNatural ? { [MOA_PREV_FIELD]: this.moaNatural.links.row() } : {};
  }
  protected override onActorOutput(): void {}

  protected override afterStore(t: number, valid: Uint8Array): void {
    super.afterStore(t, valid);
    for (let b = 0; b < valid.length; b++) this.tEnv += valid[b];
  }

  /** The window's rewards, standardised in recentBatch when rewardNorm is on. */
  protected override trainingReward(j: number, b: Batch): Tensor {
    return this.tf.slice(b.rew, [0, j], [b.K, 1]);
  }

  // ---- the update ---------------------------------------------------------------------------

  /**
   * The most recent min(bufferSize, stored) joint steps, newest first, as one batch. With
   * rewardNorm each agent's rewards are standardised by their mean and population std over this
   * window, which is F2A2-COMA's whole buffer (MAAC's buffer-wide standardisation, spec §4).
   */
  recentBatch(): Batch {
    const buf = this.buffer;
    const K = Math.min(this.c.bufferSize, buf.count);
    const names = Object.keys(this.sampleWidths());
    const fields: Record<string, Float32Array> = {};
    const index = new Int32Array(K);
    for (const name of names) fields[name] = new Float32Array(K * buf.row(name, 0).length);
    for (let k = 0; k < K; k++) {
      const r = (buf.nextSlot - 1 - k + buf.capacity) % buf.capacity;
      index[k] = r;
      for (const name of names) {
        const row = buf.row(name, r);
        fields[name].set(row, k * row.length);
      }
    }
    if (this.c.rewardNorm && K > 0) standardiseColumns(fields.rew, K, this.N);
    return this.batchFrom(fields, index, K);
  }

  private sampleWidths(): Record<string, true> {
    const w: Record<string, true> = { obs: true, act: true, rew: true, nobs: true, term: true };
    if (this.A > 0) Object.assign(w, { mask: true, nmask: true });
    return w;
  }

  /** Agent i's critic-input actions, its id and its TD(0) target (spec §1.8, §1.4). */
  prepareComa(i: number, b: Batch, eps: number): ComaInputs {
    const tf = this.tf;
    const K = b.K;
    const D = this.lay.codecs[i].dim;
    const zero = tf.zeros([K, D]);
    const id = tf.tidy(() => tf.cast(tf.oneHot(tf.fill([K], i, 'int32'), this.N), 'float32'));
    const mental = this.moaNatural?.mentalFor(i, this.buffer, b.index);
    const strict = this.c.strictEstimation ? this.others(i, b.obs, b.mask, mental?.now) : null;
    const acts = b.act.map((a, j) => (j === i ? zero : strict ? strict[j]! : a));
    const nextOth = this.others(i, b.nobs, b.nmask, mental?.next);
    mental?.now.dispose();
    mental?.next.dispose();
    const next = nextOth.map((t, j) => (j === i ? zero : t!));
    const y = tf.tidy(() => {
      // Own next action: a sample of agent i's current behaviour policy at o'^i (header).
      const lp = this.logPi(i, b.nobs[i], b.nmask[i], eps);
      const own = tf.cast(tf.oneHot(tf.argMax(tf.add(lp, tf.tensor2d(gumbelNoise(this.ctx.rng, K * D), [K, D])), -1), D), 'float32');
      const qn = tf.sum(tf.mul(this.qAll(i, b.nobs, next, id, true), own), -1, true);
      return tf.add(this.trainingReward(i, b), tf.mul(tf.mul(tf.sub(1, b.term), this.cfg.gamma), qn));
    });
    for (const t of nextOth) t?.dispose();
    return { i, acts, id, y };
  }

  disposeComa(x: ComaInputs, b: Batch): void {
    const stored = new Set<Tensor>(b.act);
    for (const t of x.acts) if (!stored.has(t)) t.dispose();
    x.id.dispose();
    x.y.dispose();
  }

  /** Agent i's critic surrogate: mean[-a1 Q + a2 (Q - y)^2] (w/o JOINT: mean[a2 (Q - y)^2]). */
  criticLossComa(x: ComaInputs, b: Batch): Tensor {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint } = this.c;
    return tf.tidy(() => {
      const q = tf.sum(tf.mul(this.qAll(x.i, b.obs, x.acts, x.id), b.act[x.i]), -1, true);
      const td = tf.mul(tf.square(tf.sub(q, x.y)), a2);
      return tf.mean(joint ? tf.sub(td, tf.mul(q, a1)) : td);
    });
  }

  /**
   * The actor step's per-sample coefficient c_k of l_k = log pi(a^i_k), with the current critic:
   * c = -a1 (Q - B) + a2 delta^2 (w/o JOINT: -a1 (Q - B)); also the advantage, baseline and delta.
   */
  actorCoef(x: ComaInputs, b: Batch, eps: number): { coef: Tensor; adv: Tensor; base: Tensor; delta: Tensor } {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint } = this.c;
    return tf.tidy(() => {
      const qa = this.qAll(x.i, b.obs, x.acts, x.id);
      const pi = tf.exp(this.logPi(x.i, b.obs[x.i], b.mask[x.i], eps));
      const base = tf.sum(tf.mul(pi, qa), -1, true);
      const q = tf.sum(tf.mul(qa, b.act[x.i]), -1, true);
      const adv = tf.sub(q, base);
      const delta = tf.sub(q, x.y);
      const coef = joint ? tf.add(tf.mul(adv, -a1), tf.mul(tf.square(delta), a2)) : tf.mul(adv, -a1);
      return { coef, adv, base, delta };
    });
  }

  /** Agent i's actor surrogate mean_k[c_k l_k], c held fixed. */
  actorLossComa(x: ComaInputs, b: Batch, coef: Tensor, eps: number): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const l = tf.sum(tf.mul(this.logPi(x.i, b.obs[x.i], b.mask[x.i], eps), b.act[x.i]), -1, true);
      return tf.mean(tf.mul(l, coef));
    });
  }

  /** One update iteration (spec §2.3): every agent's critic then actor step, consensus, MOA, targets. */
  comaIteration(b: Batch, eps: number): void {
    const tf = this.tf;
    for (let i = 0; i < this.N; i++) {
      const x = this.prepareComa(i, b, eps);
      this.stats.add(`losses/critic_${i}`, this.stepNet(this.critics[i].params, this.criticOpts[i], () => this.criticLossComa(x, b)));
      const { coef, adv, base, delta } = this.actorCoef(x, b, eps);
      this.stats.add(`losses/actor_${i}`, this.stepNet(this.actors[i].params, this.actorOpts[i], () => this.actorLossComa(x, b, coef, eps)));
      const m = tf.tidy(() => tf.stack([tf.mean(adv), tf.mean(base), tf.mean(delta)]));
      const [ma, mb, md] = m.dataSync();
      this.stats.add('charts/advantage_mean', ma);
      this.stats.add('charts/counterfactual_baseline', mb);
      this.stats.add('f2a2/delta', md);
      for (const t of [m, coef, adv, base, delta]) t.dispose();
      this.disposeComa(x, b);
    }
    this.consensusStep();
    if (this.moaBank) this.moaStep();
    const hard = this.c.targetCopyEvery > 0;
    for (let i = 0; i < this.N; i++) {
      if (!hard) softUpdate(tf, this.criticTargets[i].params, this.critics[i].params, this.c.tau);
      else if ((this.iters + 1) % this.c.targetCopyEvery === 0) this.criticTargets[i].params.copyFrom(this.critics[i].params);
    }
    this.iters++;
  }

  protected override update(): void {
    const b = this.recentBatch();
    const eps = this.epsilon();
    for (let u = 0; u < this.c.updateIters; u++) this.comaIteration(b, eps);
    this.disposeBatch(b);
    this.updates++;
    this.afterUpdate();
  }

  override async round(): Promise<RoundResult> {
    const res = await super.round();
    return { ...res, stats: { ...res.stats, 'charts/epsilon': this.epsilon() } };
  }

  protected override extraState(): Record<string, unknown> {
    return { ...super.extraState(), tEnv: this.tEnv };
  }

  protected override loadExtraState(e: Record<string, unknown>): void {
    super.loadExtraState(e);
    this.tEnv = counter(e, 'tEnv', 'f2a2-coma');
  }
}

export const f2a2ComaEntry: AlgoEntry = {
  id: 'f2a2-coma',
  title: 'F2A2-COMA: decentralised on-policy COMA critics on the joint objective, primal-dual consensus, MOA (Li et al. 2023, Prop 3)',
  schema: f2a2ComaSchema,
  accepts: f2a2Problems,
  createTrainer: (ctx) => {
    const c = typedValues('algo', f2a2ComaSchema, ctx.config);
    if (c.epsilonFinish > c.epsilonStart) throw new ConfigError('algo.epsilonFinish', `a value <= epsilonStart (${c.epsilonStart}): epsilon anneals down`, c.epsilonFinish);
    return new F2a2ComaTrainer(ctx);
  },
  createPolicy: (ctx) => new MaddpgPolicy(ctx),
  diagnostics: [
    { prefix: 'consensus', title: 'Consensus and communication', doc: 'Disagreement of the critic copies, consensus events, messages and scalars sent (spec §2.7).' },
    { prefix: 'moa', title: 'Models of other agents', doc: "Cross-entropy and accuracy of each agent's predictions of the others' actions." },
    { prefix: 'f2a2', title: 'Joint objective', doc: 'Mean TD error delta of the joint objective (its a2 delta^2 enters the actor step).' },
  ],
};
