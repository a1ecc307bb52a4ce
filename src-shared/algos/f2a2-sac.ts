/**
 * F2A2-SAC (Li et al. 2023, Prop 6, appendix E.2; shared/specs/f2a2.md §1.7, §2.1): the SAC
 * instantiation of F2A2 with MAAC's attention critic. It runs on F2A2's trainer (f2a2.ts: the
 * replay with behaviour distributions pi0, the importance ratios, MOA, the consensus over the
 * communication graph, the reward statistics, checkpoints); this file builds the networks and
 * writes the update. `sacTrainerClass` is a class factory because f2a2.ts dispatches to it and
 * an ESM module cannot `extends` a class of a module that imports it back.
 *
 * Networks of agent i: a softmax policy pi^i (the DDPG-family actor MLP; the presets make it
 * MAAC's: LeakyReLU, PyTorch init, input BatchNorm), and its own copies of TWO attention critics
 * Q1, Q2 (nn/attention-critic.ts, the full n-agent network of which agent i evaluates only its
 * own head with `agents: [i]`), each with a target. Consensus exchanges phi_sh = the key,
 * selector and value extractors of both critics (spec §2.1; `shareEncoders` adds the (o, a)
 * encoders); the state and (o, a) encoders, the heads zeta^i and the policy stay individual.
 *
 * Per update iteration, for each agent i on its own minibatch (reward form, spec §0, §1.7):
 *   a = stored joint action (buffer terms), a^ = (a^i ~ pi^i, a~^-i from agent i's MOA),
 *   rho = min(epsIS, pi(a^i)/pi0(a^i)), rhobar = min(epsIS, pi0(a^i^)/pi(a^i^)), both sg;
 *   y = r^i + gamma (1 - d) [min_j Qbar_j(o', a') - alpha log pibar^i(a'^i)]  ('paper'; 'code':
 *       the entropy term after gamma and the done mask), a'^i ~ pibar^i, a'^-i from the MOA at o';
 *   critic step (Q1): -a1 rho Q1(a) - a1 Q1(a^) + a2 (Q1(a) - y)^2 + a2 rhobar (Q1(a^) - y)^2,
 *               (Q2): a2 (Q2(a) - y)^2 + a2 rhobar (Q2(a^) - y)^2   (Q2 has no actor term);
 *   actor step (Gauss-Seidel: coefficients from the updated critics, same minibatch and sample):
 *     -a1 rho l(a^i) sg(A) - a1 l(a^i^) sg(A^) + a2 rhobar l(a^i^) sg(d^1^2 + d^2^2),
 *     l = log pi^i, A = Q1(a) - alpha l(a^i) - B(a^-i), B = sum_b pi^i(b) q1(o, a^-i)[b]
 *     (the counterfactual baseline; the paper drops grad B);
 *   "w/o JOINT" (§1.11): critic a2 (Q_j(a) - y)^2 only, actor -a1 l(a^i^) sg(A^) only.
 * R (§1.1, the MAAC baseline's regularisers, so both regularise alike): the attention-logit
 * penalty (1e-3) in the critic loss, critic weight decay 1e-3 (Adam's L2 form) and global-norm
 * clip 10 per agent copy (MAAC: 10 n over the sum of n agents' losses), policy penalty
 * 1e-3 mean(logits^2) and clip 0.5.
 *
 * Paper vs choices (no F2A2 code exists, so no released-code preset):
 *   option           default                                   source
 *   temperature      0.01 on MPE                                paper G ("0.01 for MAAC and F2A2-SAC")
 *   twinQ            true (Q1, Q2, min in the target)           Prop 6; false = one critic (spec option)
 *   shareEncoders    false (only the attention extractors)      spec §1.7 DESIGN CHOICE; true = MAAC's
 *                                                               shared modules in phi_sh
 *   maacTargetForm   'paper' (entropy inside gamma (1 - d))      paper; 'code' = MAAC's released form
 *   attendHeads      4 (of hiddenDim / 4 = 32 dims)              MAAC code
 * Choices where both are silent: every copy of both critics starts from one common draw (spec
 * §2.2); the target's own next action is a sample of the target policy (MAAC code), the
 * others' next actions MOA samples; BatchNorm in the critics uses batch statistics in every
 * forward (as MAAC's critic, always in training mode when used).
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import { AttentionCritic, addWeightDecay, counterfactualBaseline } from '../nn/attention-critic';
import { maskedLogProbs } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { gumbelNoise } from '../nn/gumbel';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor } from '../nn/tf';
import type { Rng } from '../rng';
import { softUpdate } from './core/target';
import type { F2a2Trainer } from './f2a2';
import { maacSoftTarget } from './maac';
import { buildActor, type Batch } from './maddpg-trainer';

const SAC = { field: 'instantiation', is: 'sac' } as const;

export const f2a2SacSchema = {
  temperature: { type: 'float', default: 0.01, min: 0, max: 10, doc: 'SAC entropy temperature alpha (paper G: 0.01 on MPE for MAAC and F2A2-SAC).', when: SAC },
  twinQ: { type: 'bool', default: true, doc: 'Two attention critics with the min in the target (Prop 6); false = one critic (spec §1.7 option).', when: SAC },
  shareEncoders: { type: 'bool', default: false, doc: "Also exchange the (o, a) encoders through consensus (MAAC's shared modules); default: only the attention extractors (spec §2.1).", when: SAC },
  attendHeads: { type: 'int', default: 4, min: 1, max: 64, doc: 'Attention heads of each critic; hiddenDim must be a multiple (MAAC: 4 of 32 dims).', when: SAC },
  attendReg: { type: 'float', default: 1e-3, min: 0, doc: 'Weight of the mean squared attention logits in the critic loss (MAAC: 1e-3).', when: SAC },
  criticWeightDecay: { type: 'float', default: 1e-3, min: 0, max: 1, doc: "L2 weight decay of each critic copy's Adam (MAAC: 1e-3).", when: SAC },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: "Global-norm clip of each critic copy's gradient (MAAC: 10 per agent; 0 = none).", when: SAC },
  maacTargetForm: {
    type: 'enum',
    default: 'paper',
    values: ['paper', 'code'],
    doc: "Soft target: r + gamma (1 - d) (Q' - alpha log pi') (paper) or r + gamma (1 - d) Q' - alpha log pi' (MAAC's released code).",
    when: SAC,
  },
} as const satisfies Schema;

type SacConfig = Values<typeof f2a2SacSchema>;

/** What agent i's critic and actor steps share (disposed after the actor step). */
export interface SacInputs {
  readonly i: number;
  readonly K: number;
  /** Joint actions of the buffer terms (own slot: the stored action). */
  readonly aBuf: Tensor[];
  /** Joint actions of the resampled terms (own slot: the resampled one-hot). */
  readonly aHat: Tensor[];
  readonly y: Tensor; //      [K, 1]
  readonly rho: Tensor; //    [K, 1]
  readonly rhoBar: Tensor; // [K, 1]
}

export function sacTrainerClass(Base: typeof F2a2Trainer) {
  return class F2a2SacTrainer extends Base {
    // Set in createNetworks, which the base constructor calls: `declare` keeps them from being
    // re-initialised afterwards.
    /** [critic c][agent i]: agent i's copy of critic c, its target and optimiser. */
    declare sq: AttentionCritic[][];
    declare sqTarget: AttentionCritic[][];
    declare sqOpts: Optimizer[][];
    declare sac: SacConfig;

    protected override createNetworks(rng: Rng): void {
      const { tf, lay, N } = this;
      const s = (this.sac = typedValues('algo', f2a2SacSchema, this.ctx.config));
      const H = this.cfg.hiddenDim;
      if (H % s.attendHeads !== 0) throw new ConfigError('algo.attendHeads', `a divisor of hiddenDim (${H})`, s.attendHeads);
      if (N < 2) throw new ConfigError('algo.instantiation', "'ddpg' or 'td3' with one agent (F2A2-SAC's attention critic attends over the others)", 'sac');
      for (let i = 0; i < N; i++) {
        const pol = buildActor(tf, lay, i, this.cfg, rng);
        const polT = buildActor(tf, lay, i, this.cfg, rng, false);
        polT.params.copyFrom(pol.params);
        this.actors.push(pol);
        this.actorTargets.push(polT);
        this.actorOpts.push(new Adam(tf, pol.params, { lr: this.cfg.lrActor }));
      }
      const dims = { obsSizes: lay.obsSizes, actSizes: lay.codecs.map((c) => c.dim) };
      const opts = { hidden: H, heads: s.attendHeads, batchNorm: this.cfg.inputBatchNorm, attendReg: s.attendReg };
      this.sq = [];
      this.sqTarget = [];
      this.sqOpts = [];
      for (let c = 0; c < (s.twinQ ? 2 : 1); c++) {
        const mk = (trainable: boolean) => new AttentionCritic(tf, new ParamSet(tf, trainable), new ParamSet(tf, false), `q${c + 1}`, dims, rng, opts);
        const copies: AttentionCritic[] = [];
        const targets: AttentionCritic[] = [];
        for (let i = 0; i < N; i++) {
          const q = mk(true);
          if (i > 0) q.params.copyFrom(copies[0].params);
          const t = mk(false);
          t.params.copyFrom(copies[0]?.params ?? q.params);
          copies.push(q);
          targets.push(t);
        }
        this.sq.push(copies);
        this.sqTarget.push(targets);
        this.sqOpts.push(copies.map((q) => new Adam(tf, q.params, { lr: this.cfg.lrCritic })));
      }
    }

    /** The copies share one draw already (createNetworks). */
    protected override initCritics(): void {}

    protected override sharedEntries(i: number): [ParamSet, string[]][] {
      return this.sq.map((copies) => [copies[i].params, this.sac.shareEncoders ? copies[i].sharedNames() : copies[i].attentionNames()]);
    }

    protected override setTraining(on: boolean): void {
      super.setTraining(on);
      for (const list of [...(this.sq ?? []), ...(this.sqTarget ?? [])]) for (const q of list) q.training = on;
    }

    /** Q of agent i's copy of critic c at joint action `act`: { q [K,1], allQ [K,|A_i|], reg }. */
    sacQ(i: number, c: number, obs: readonly Tensor[], act: readonly Tensor[], target = false) {
      const f = (target ? this.sqTarget : this.sq)[c][i].forward(obs, act, { agents: [i] });
      this.tf.dispose(f.attention);
      return { q: f.q[0], allQ: f.allQ[0], reg: f.reg[0] };
    }

    /** log pi^i of every own action [K, |A_i|] at obs (masked actions: -inf-like). */
    logPi(i: number, obs: Tensor, mask: Tensor | null, target = false): { logp: Tensor; logits: Tensor } {
      const tf = this.tf;
      const logits = (target ? this.actorTargets : this.actors)[i].net.forward(obs);
      return { logp: mask ? maskedLogProbs(tf, logits, mask) : tf.logSoftmax(logits), logits };
    }

    /** One-hot Gumbel-max samples of log-probabilities (no gradient). */
    sampleFrom(logp: Tensor): Tensor {
      const tf = this.tf;
      const [K, D] = logp.shape as [number, number];
      return tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(tf.add(logp, tf.tensor2d(gumbelNoise(this.ctx.rng, K * D), [K, D])), -1), D), 'float32'));
    }

    /** The minibatch-level quantities of agent i's surrogate (spec §1.2-1.4, §1.7). */
    prepareSac(i: number, b: Batch): SacInputs {
      const tf = this.tf;
      const f = this.f;
      const K = b.K;
      const D = this.lay.codecs[i].dim;
      const { own, rho, rhoBar } = tf.tidy(() => {
        const logp = this.logPi(i, b.obs[i], b.mask[i]).logp;
        const pi = tf.exp(logp);
        const own = this.sampleFrom(logp);
        const pi0 = tf.slice(tf.tensor2d(b.fields.pi0, [K, this.lay.actTotal]), [0, this.lay.actOff[i]], [K, D]);
        const at = (p: Tensor, a: Tensor) => tf.maximum(tf.sum(tf.mul(p, a), -1, true), 1e-8);
        return { own, rho: tf.minimum(tf.div(at(pi, b.act[i]), at(pi0, b.act[i])), f.epsIS), rhoBar: tf.minimum(tf.div(at(pi0, own), at(pi, own)), f.epsIS) };
      });
      // The full MOA predicts from these rows' mental windows (f2a2-moa-natural.ts).
      const mental = this.moaNatural?.mentalFor(i, this.buffer, b.index);
      const oth = this.others(i, b.obs, b.mask, mental?.now);
      const aHat = oth.map((t, j) => (j === i ? own : t!));
      const aBuf = f.strictEstimation ? oth.map((t, j) => (j === i ? b.act[i] : t!)) : [...b.act];
      const nextOth = this.others(i, b.nobs, b.nmask, mental?.next);
      mental?.now.dispose();
      mental?.next.dispose();
      const y = tf.tidy(() => {
        const { logp } = this.logPi(i, b.nobs[i], b.nmask[i], true);
        const ownNext = this.sampleFrom(logp);
        const next = nextOth.map((t, j) => (j === i ? ownNext : t!));
        let qn = this.sacQ(i, 0, b.nobs, next, true).q;
        for (let c = 1; c < this.sq.length; c++) qn = tf.minimum(qn, this.sacQ(i, c, b.nobs, next, true).q);
        const logpi = tf.sum(tf.mul(logp, ownNext), 1, true);
        return maacSoftTarget(tf, this.trainingReward(i, b), b.term, qn, logpi, this.cfg.gamma, this.sac.temperature, this.sac.maacTargetForm);
      });
      for (const t of nextOth) t?.dispose();
      return { i, K, aBuf, aHat, y, rho, rhoBar };
    }

    disposeSac(x: SacInputs, b: Batch): void {
      const done = new Set<Tensor>(b.act);
      for (const t of [...x.aBuf, ...x.aHat]) if (!done.has(t)) done.add(t) && t.dispose();
      for (const t of [x.y, x.rho, x.rhoBar]) t.dispose();
    }

    /**
     * Agent i's surrogate as the step of critic c sees it (separable in the critics): Q1: -a1 rho
     * Q1(a) - a1 Q1(a^) + a2 (Q1(a) - y)^2 + a2 rhobar (Q1(a^) - y)^2; Q2: the a2 terms; w/o
     * JOINT: a2 (Q_c(a) - y)^2; plus the attention-logit penalty.
     */
    sacCriticLoss(x: SacInputs, b: Batch, c: number): Tensor {
      const tf = this.tf;
      const { alpha1: a1, alpha2: a2, joint } = this.f;
      return tf.tidy(() => {
        const fa = this.sacQ(x.i, c, b.obs, x.aBuf);
        let l = tf.mul(tf.square(tf.sub(fa.q, x.y)), a2);
        if (joint) {
          const qh = this.sacQ(x.i, c, b.obs, x.aHat).q;
          l = tf.add(l, tf.mul(tf.mul(tf.square(tf.sub(qh, x.y)), x.rhoBar), a2));
          if (c === 0) l = tf.sub(l, tf.mul(tf.add(tf.mul(x.rho, fa.q), qh), a1));
        }
        return tf.add(tf.mean(l), fa.reg);
      });
    }

    /**
     * The per-sample coefficients the actor loss holds fixed, from the current critics:
     * [cBuf, cHat] with loss = mean(l(a^i) cBuf + l(a^i^) cHat): cBuf = -a1 rho A,
     * cHat = -a1 A^ + a2 rhobar (d^1^2 + d^2^2) (w/o JOINT: cBuf = 0, cHat = -a1 A^).
     */
    actorCoefs(x: SacInputs, b: Batch): [Tensor, Tensor] {
      const tf = this.tf;
      const { alpha1: a1, alpha2: a2, joint } = this.f;
      const alpha = this.sac.temperature;
      const i = x.i;
      return tf.tidy(() => {
        const logp = this.logPi(i, b.obs[i], b.mask[i]).logp;
        const pi = tf.exp(logp);
        const adv = (act: readonly Tensor[]) => {
          const f = this.sacQ(i, 0, b.obs, act);
          const l = tf.sum(tf.mul(logp, act[i]), 1, true);
          return { A: tf.sub(tf.sub(f.q, tf.mul(l, alpha)), counterfactualBaseline(tf, f.allQ, pi)), q1: f.q };
        };
        const hat = adv(x.aHat);
        let cHat = tf.mul(hat.A, -a1);
        if (!joint) return [tf.zerosLike(cHat), cHat] as [Tensor, Tensor];
        let sq = tf.square(tf.sub(hat.q1, x.y));
        for (let c = 1; c < this.sq.length; c++) sq = tf.add(sq, tf.square(tf.sub(this.sacQ(i, c, b.obs, x.aHat).q, x.y)));
        cHat = tf.add(cHat, tf.mul(tf.mul(sq, x.rhoBar), a2));
        return [tf.mul(tf.mul(adv(x.aBuf).A, x.rho), -a1), cHat] as [Tensor, Tensor];
      });
    }

    /** Agent i's actor surrogate with the coefficients held fixed, plus the logit penalty. */
    sacActorLoss(x: SacInputs, b: Batch, coefs: readonly [Tensor, Tensor]): Tensor {
      const tf = this.tf;
      const i = x.i;
      return tf.tidy(() => {
        const { logp, logits } = this.logPi(i, b.obs[i], b.mask[i]);
        const lBuf = tf.sum(tf.mul(logp, x.aBuf[i]), 1, true);
        const lHat = tf.sum(tf.mul(logp, x.aHat[i]), 1, true);
        const l = tf.add(tf.mul(lBuf, coefs[0]), tf.mul(lHat, coefs[1]));
        return tf.add(tf.mean(l), tf.mul(tf.mean(tf.square(logits)), this.cfg.actorLogitReg));
      });
    }

    private criticStep(x: SacInputs, b: Batch, c: number): number {
      const tf = this.tf;
      const q = this.sq[c][x.i];
      const { value, grads } = q.params.grads((() => this.sacCriticLoss(x, b, c)) as never);
      if (this.sac.criticGradClip > 0) clipByGlobalNorm(tf, grads, this.sac.criticGradClip);
      addWeightDecay(tf, grads, q.params, this.sac.criticWeightDecay);
      this.sqOpts[c][x.i].step(grads);
      tf.dispose(Object.values(grads));
      return value;
    }

    private sacDiagnostics(x: SacInputs, b: Batch): void {
      const tf = this.tf;
      const { alpha1: a1, alpha2: a2 } = this.f;
      const vals = tf.tidy(() => {
        const d = tf.mean(tf.sub(this.sacQ(x.i, 0, b.obs, x.aBuf).q, x.y));
        const dh = tf.sub(this.sacQ(x.i, 0, b.obs, x.aHat).q, x.y);
        return tf.stack([d, tf.mean(tf.sub(a1, tf.mul(tf.mul(dh, x.rhoBar), 2 * a2))), tf.mean(x.rho), tf.mean(x.rhoBar)]);
      });
      const v = vals.dataSync();
      vals.dispose();
      ['f2a2/delta', 'f2a2/coef', 'f2a2/rho', 'f2a2/rhobar'].forEach((k, m) => this.stats.add(k, v[m]));
    }

    /** One update iteration (spec §2.3): every agent's critic then actor step, consensus, MOA, targets. */
    override iteration(): void {
      const tf = this.tf;
      const tau = this.f.tau;
      for (let i = 0; i < this.N; i++) {
        const b = this.sampleBatch(0);
        const x = this.prepareSac(i, b);
        this.sacDiagnostics(x, b);
        for (let c = 0; c < this.sq.length; c++) this.stats.add(c === 0 ? `losses/critic_${i}` : `losses/critic2_${i}`, this.criticStep(x, b, c));
        const coefs = this.actorCoefs(x, b);
        this.stats.add(`losses/actor_${i}`, this.stepNet(this.actors[i].params, this.actorOpts[i], () => this.sacActorLoss(x, b, coefs)));
        tf.dispose(coefs);
        this.disposeSac(x, b);
        this.disposeBatch(b);
      }
      this.consensusStep();
      if (this.moaBank) this.moaStep();
      for (let i = 0; i < this.N; i++) {
        softUpdate(tf, this.actorTargets[i].params, this.actors[i].params, tau);
        for (let c = 0; c < this.sq.length; c++) softUpdate(tf, this.sqTarget[c][i].params, this.sq[c][i].params, tau);
      }
      this.iters++;
    }

    protected override extraParts(): { params: Record<string, ParamSet>; optimisers: Record<string, Optimizer> } {
      const { params, optimisers } = super.extraParts();
      (this.sq ?? []).forEach((copies, c) =>
        copies.forEach((q, i) => {
          params[`sacCritic${c + 1}/${i}/`] = q.params;
          params[`sacCritic${c + 1}Stats/${i}/`] = q.stats;
          params[`sacCritic${c + 1}Target/${i}/`] = this.sqTarget[c][i].params;
          params[`sacCritic${c + 1}TargetStats/${i}/`] = this.sqTarget[c][i].stats;
          optimisers[`sacCritic${c + 1}_${i}`] = this.sqOpts[c][i];
        }),
      );
      return { params, optimisers };
    }
  };
}
