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
 *   a2Baseline       'none' (Prop 6's a2 rhobar l(a^) d^2)        'counterfactual': minus its pi-mean over
 *                                                               the own actions (not in the paper, issue-11a)
 *   jointTerms       'both' (Prop 6's critic and actor steps)    'critic' / 'actor': keep only the a1 terms
 *                                                               in the critic step / only the a2 term in
 *                                                               the actor step (a diagnostic, issue-11s)
 *   attendHeads      4 (of hiddenDim / 4 = 32 dims)              MAAC code
 * Choices where both are silent: every copy of both critics starts from one common draw (spec
 * §2.2); the target's own next action is a sample of the target policy (MAAC code), the
 * others' next actions MOA samples; BatchNorm in the critics uses batch statistics in every
 * forward (as MAAC's critic, always in training mode when used).
 *
 * Speed (issue 11, docs/performance.md "F2A2-SAC: the agents' critic copies as one network"):
 * the N agents' copies of each critic are ONE batched network (nn/attention-critic-copies.ts,
 * weights [N, in, out], copy i evaluating agent i's Q on agent i's minibatch), stepped by one
 * Adam over the stacked tensors (elementwise, so exactly N Adams) with the clip per copy. The
 * iteration therefore runs in phases over all agents: every agent's minibatch, samples, ratios
 * and MOA predictions (per agent, in the old order, so the run's Rng draws are the same), then
 * one batched target, critic steps and actor coefficients, then each agent's actor step. With
 * `moa: 'off'` (the others' current policies) every agent now samples the others from the
 * policies as they were at the start of the iteration (Jacobi), where the per-agent loop saw
 * the actors already stepped this iteration for j < i (Gauss-Seidel across agents); with the
 * MOA (default) nothing an agent reads changes within the iteration, so the order is moot.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import { AttentionCritic, addWeightDecay } from '../nn/attention-critic';
import { AttentionCriticCopies, clipPerCopy, type CopiesForward } from '../nn/attention-critic-copies';
import { maskedLogProbs } from '../nn/categorical';
import { gumbelNoise } from '../nn/gumbel';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Variable } from '../nn/tf';
import type { Rng } from '../rng';
import { softUpdate } from './core/target';
import { gatherStacked, scatterStacked } from './consensus/stacked';
import type { F2a2Trainer } from './f2a2';
import type { Checkpoint } from './types';
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
  a2Baseline: {
    type: 'enum',
    default: 'none',
    values: ['none', 'counterfactual'],
    doc: "The actor's a2 score term weights l(a^) by rhobar (d1^2 + d2^2) (Prop 6, 'none'); 'counterfactual' subtracts sum_b pi(b) (d1_b^2 + d2_b^2) over the own actions b (not in the paper: removes the push of pi away from the behaviour policy, docs/design.md 'issue-11a').",
    when: SAC,
  },
  jointTerms: {
    type: 'enum',
    default: 'both',
    values: ['both', 'critic', 'actor'],
    doc: "Which half of the joint objective is kept: 'both' (Prop 6); 'critic' keeps Prop 6's critic steps (critic 1's a1 actor terms, both critics' rhobar-weighted error at a^) and drops the actor's a2 rhobar l(a^) d^2 term; 'actor' keeps that actor term and steps both critics on (Q(a) - y)^2 alone. A diagnostic ablation, not in the paper (docs/design.md 'issue-11s').",
    when: [SAC, { field: 'joint', is: true }],
  },
  maacTargetForm: {
    type: 'enum',
    default: 'paper',
    values: ['paper', 'code'],
    doc: "Soft target: r + gamma (1 - d) (Q' - alpha log pi') (paper) or r + gamma (1 - d) Q' - alpha log pi' (MAAC's released code).",
    when: SAC,
  },
} as const satisfies Schema;

type SacConfig = Values<typeof f2a2SacSchema>;

/**
 * What one iteration's critic and actor steps share, all agents at once: copy (= agent) i's
 * rows are slice i of every [N, K, .] tensor (disposed after the actor steps).
 */
export interface SacInputs {
  readonly K: number;
  /** Per agent j, [N, K, obs_j]: copy i's minibatch. */
  readonly obs: Tensor[];
  /** Copy i's own observation o_i, padded to the widest: [N, K, oMax]. */
  readonly ownObs: Tensor;
  /** Joint actions of the buffer terms per agent j [N, K, A_j] (own slot: the stored action). */
  readonly aBuf: Tensor[];
  /** Joint actions of the resampled terms (own slot: the resampled one-hot). */
  readonly aHat: Tensor[];
  /** Copy i's own action in each, padded to the largest action set: [N, K, aMax]. */
  readonly ownBuf: Tensor;
  readonly ownHat: Tensor;
  /** Per agent, its own actions [K, A_i] of each kind (views of the rows above, for the actor steps). */
  readonly ownBufRows: Tensor[];
  readonly ownHatRows: Tensor[];
  readonly y: Tensor; //      [N, K, 1]
  readonly rho: Tensor; //    [N, K, 1]
  readonly rhoBar: Tensor; // [N, K, 1]
}

export function sacTrainerClass(Base: typeof F2a2Trainer) {
  return class F2a2SacTrainer extends Base {
    // Set in createNetworks, which the base constructor calls: `declare` keeps them from being
    // re-initialised afterwards.
    /** [critic c]: every agent's copy of critic c as one batched network, its target and optimiser. */
    declare sq: AttentionCriticCopies[];
    declare sqTarget: AttentionCriticCopies[];
    declare sqOpts: Optimizer[];
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
        // Every copy and target starts from the first draw (spec §2.2). The per-copy networks are
        // still drawn, one online and one target per agent as before batching, so the run's Rng
        // stream (and every later draw) is unchanged; only the first one's weights are kept.
        let first: AttentionCritic | null = null;
        for (let k = 0; k < 2 * N; k++) {
          const q = new AttentionCritic(tf, new ParamSet(tf, k % 2 === 0), new ParamSet(tf, false), `q${c + 1}`, dims, rng, opts);
          if (first === null) first = q;
          else {
            q.params.dispose();
            q.stats.dispose();
          }
        }
        const online = new AttentionCriticCopies(tf, `q${c + 1}`, first!, true);
        const target = new AttentionCriticCopies(tf, `q${c + 1}`, first!, false);
        first!.params.dispose();
        first!.stats.dispose();
        this.sq.push(online);
        this.sqTarget.push(target);
        this.sqOpts.push(new Adam(tf, online.params, { lr: this.cfg.lrCritic }));
      }
    }

    /** The copies share one draw already (createNetworks). */
    protected override initCritics(): void {}

    /** Unused: the shared part lives in the stacked critics (gatherShared/scatterShared below). */
    protected override sharedEntries(): [ParamSet, string[]][] {
      return [];
    }

    private sharedNames(c: number): string[] {
      return this.sac.shareEncoders ? this.sq[c].sharedNames() : this.sq[c].attentionNames();
    }

    protected override sharedSize(): number {
      return this.sq.reduce((s, q, c) => s + this.sharedNames(c).reduce((t, n) => t + q.params.get(n).size / this.N, 0), 0);
    }

    /** Every agent's shared copy, flattened [N, P] in the per-copy order (critic, then name). */
    /** The exchanged variables of both critics, in the consensus layout. */
    private sharedVars(): Variable[] {
      return this.sq.flatMap((q, c) => this.sharedNames(c).map((name) => q.params.get(name)));
    }

    override gatherShared(): Float32Array {
      return gatherStacked(this.sharedVars(), this.N, this.sharedP);
    }

    override scatterShared(copies: Float32Array): void {
      scatterStacked(this.tf, this.sharedVars(), copies, this.N, this.sharedP);
    }

    protected override setTraining(on: boolean): void {
      super.setTraining(on);
      for (const q of [...(this.sq ?? []), ...(this.sqTarget ?? [])]) q.training = on;
    }

    /** Critic c (online or target) of every copy at joint action `act` (own action `own`, padded). */
    sacQ(c: number, x: Pick<SacInputs, 'obs' | 'ownObs'>, act: readonly Tensor[], own: Tensor, target = false): CopiesForward {
      return (target ? this.sqTarget : this.sq)[c].forward(x.obs, act, x.ownObs, own);
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

    /** [K, A] -> [K, aMax] (zero columns). */
    private padCols(t: Tensor, to: number): Tensor {
      const w = t.shape[1] as number;
      return w === to ? t : this.tf.pad(t, [[0, 0], [0, to - w]]);
    }

    /**
     * The minibatch-level quantities of every agent's surrogate (spec §1.2-1.4, §1.7), agent i on
     * `batches[i]`. The per-agent part (samples, ratios, MOA predictions) runs agent by agent in
     * the order of the per-agent update, so the Rng draws are the same; the target is one
     * batched pass over all copies.
     */
    prepareSac(batches: readonly Batch[]): SacInputs {
      const { tf, f, N } = this;
      const K = batches[0].K;
      const oMax = this.sq[0].oMax;
      const aMax = this.sq[0].aMax;
      const aBufs: Tensor[][] = [];
      const aHats: Tensor[][] = [];
      const nexts: Tensor[][] = [];
      const logpiNext: Tensor[] = [];
      const rhos: Tensor[] = [];
      const rhoBars: Tensor[] = [];
      for (let i = 0; i < N; i++) {
        const b = batches[i];
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
        aHats.push(oth.map((t, j) => (j === i ? own : t!)));
        aBufs.push(oth.map((t, j) => tf.clone(f.strictEstimation && j !== i ? t! : b.act[j])));
        const nextOth = this.others(i, b.nobs, b.nmask, mental?.next);
        mental?.now.dispose();
        mental?.next.dispose();
        const { ownNext, lp } = tf.tidy(() => {
          const { logp } = this.logPi(i, b.nobs[i], b.nmask[i], true);
          const ownNext = this.sampleFrom(logp);
          return { ownNext, lp: tf.sum(tf.mul(logp, ownNext), 1, true) };
        });
        nexts.push(nextOth.map((t, j) => (j === i ? ownNext : t!)));
        logpiNext.push(lp);
        rhos.push(rho);
        rhoBars.push(rhoBar);
      }
      const stackAgent = (per: Tensor[][], j: number) => tf.stack(per.map((a) => a[j]));
      const obs = this.lay.obsSizes.map((_, j) => tf.stack(batches.map((b) => b.obs[j])));
      const ownObs = tf.tidy(() => tf.stack(batches.map((b, i) => this.padCols(b.obs[i], oMax))));
      const aBuf = this.lay.codecs.map((_, j) => stackAgent(aBufs, j));
      const aHat = this.lay.codecs.map((_, j) => stackAgent(aHats, j));
      const ownBuf = tf.tidy(() => tf.stack(aBufs.map((a, i) => this.padCols(a[i], aMax))));
      const ownHat = tf.tidy(() => tf.stack(aHats.map((a, i) => this.padCols(a[i], aMax))));
      const ownBufRows = aBufs.map((a, i) => a[i]);
      const ownHatRows = aHats.map((a, i) => a[i]);
      const y = tf.tidy(() => {
        const nobs = { obs: this.lay.obsSizes.map((_, j) => tf.stack(batches.map((b) => b.nobs[j]))), ownObs: tf.stack(batches.map((b, i) => this.padCols(b.nobs[i], oMax))) };
        const next = this.lay.codecs.map((_, j) => stackAgent(nexts, j));
        const ownNext = tf.stack(nexts.map((a, i) => this.padCols(a[i], aMax)));
        let qn = this.sacQ(0, nobs, next, ownNext, true).q;
        for (let c = 1; c < this.sq.length; c++) qn = tf.minimum(qn, this.sacQ(c, nobs, next, ownNext, true).q);
        const r = tf.stack(batches.map((b, i) => this.trainingReward(i, b)));
        const term = tf.stack(batches.map((b) => b.term));
        return maacSoftTarget(tf, r, term, qn, tf.stack(logpiNext), this.cfg.gamma, this.sac.temperature, this.sac.maacTargetForm);
      });
      aBufs.forEach((a, i) => a.forEach((t, j) => j !== i && t.dispose()));
      aHats.forEach((a, i) => a.forEach((t, j) => j !== i && t.dispose()));
      tf.dispose([...nexts.flat(), ...logpiNext]);
      const rho = tf.stack(rhos);
      const rhoBar = tf.stack(rhoBars);
      tf.dispose([...rhos, ...rhoBars]);
      return { K, obs, ownObs, aBuf, aHat, ownBuf, ownHat, ownBufRows, ownHatRows, y, rho, rhoBar };
    }

    disposeSac(x: SacInputs): void {
      this.tf.dispose([...x.obs, x.ownObs, ...x.aBuf, ...x.aHat, x.ownBuf, x.ownHat, ...x.ownBufRows, ...x.ownHatRows, x.y, x.rho, x.rhoBar]);
    }

    /**
     * Every copy's surrogate as the step of critic c sees it, [N] (separable in the critics): Q1:
     * -a1 rho Q1(a) - a1 Q1(a^) + a2 (Q1(a) - y)^2 + a2 rhobar (Q1(a^) - y)^2; Q2: the a2 terms;
     * w/o JOINT: a2 (Q_c(a) - y)^2; each the mean over the copy's rows plus its attention-logit penalty.
     */
    sacCopyLosses(x: SacInputs, c: number, seen?: (qBuf: Tensor, qHat: Tensor) => void): Tensor {
      const tf = this.tf;
      const { alpha1: a1, alpha2: a2, joint } = this.f;
      return tf.tidy(() => {
        const fa = this.sacQ(c, x, x.aBuf, x.ownBuf);
        let l = tf.mul(tf.square(tf.sub(fa.q, x.y)), a2);
        // 'actor' steps on the TD error alone; it runs the pass at a^ only for the diagnostics.
        const full = joint && this.sac.jointTerms !== 'actor';
        if (full || (joint && seen)) {
          const qh = this.sacQ(c, x, x.aHat, x.ownHat).q;
          seen?.(fa.q, qh);
          if (full) {
            l = tf.add(l, tf.mul(tf.mul(tf.square(tf.sub(qh, x.y)), x.rhoBar), a2));
            if (c === 0) l = tf.sub(l, tf.mul(tf.add(tf.mul(x.rho, fa.q), qh), a1));
          }
        }
        return tf.add(tf.mean(l, [1, 2]), fa.reg);
      });
    }

    /** The sum over copies of their losses: each copy's parameters only see their own term. */
    sacCriticLoss(x: SacInputs, c: number): Tensor {
      return this.tf.tidy(() => this.tf.sum(this.sacCopyLosses(x, c)));
    }

    /**
     * The per-sample coefficients the actor losses hold fixed, from the current critics, [N, K, 1]
     * each: [cBuf, cHat] with agent i's loss = mean(l(a^i) cBuf_i + l(a^i^) cHat_i): cBuf = -a1
     * rho A, cHat = -a1 A^ + a2 rhobar (d^1^2 + d^2^2) (w/o JOINT: cBuf = 0, cHat = -a1 A^).
     */
    actorCoefs(x: SacInputs, batches: readonly Batch[]): [Tensor, Tensor] {
      const { tf, N } = this;
      const { alpha1: a1, alpha2: a2, joint } = this.f;
      const alpha = this.sac.temperature;
      const aMax = this.sq[0].aMax;
      return tf.tidy(() => {
        const logps = Array.from({ length: N }, (_, i) => this.logPi(i, batches[i].obs[i], batches[i].mask[i]).logp);
        const pi = tf.stack(logps.map((lp) => this.padCols(tf.exp(lp), aMax)));
        const lOwn = (rows: Tensor[]) => tf.stack(logps.map((lp, i) => tf.sum(tf.mul(lp, rows[i]), 1, true)));
        const adv = (f: CopiesForward, rows: Tensor[]) => tf.sub(tf.sub(f.q, tf.mul(lOwn(rows), alpha)), tf.sum(tf.mul(f.allQ, pi), 2, true));
        const hatQ1 = this.sacQ(0, x, x.aHat, x.ownHat);
        let cHat = tf.mul(adv(hatQ1, x.ownHatRows), -a1);
        if (!joint) return [tf.zerosLike(cHat), cHat] as [Tensor, Tensor];
        // 'counterfactual': the squared errors at every own action b (the others' actions fixed),
        // their pi-mean subtracted. With rhobar truncated the subtraction changes the expected
        // step: it removes the part that pushes pi away from pi0 (docs/design.md, issue-11a).
        const cBuf = (): Tensor => tf.mul(tf.mul(adv(this.sacQ(0, x, x.aBuf, x.ownBuf), x.ownBufRows), x.rho), -a1);
        if (this.sac.jointTerms === 'critic') return [cBuf(), cHat] as [Tensor, Tensor];
        const cf = this.sac.a2Baseline === 'counterfactual';
        let sq = tf.square(tf.sub(hatQ1.q, x.y));
        let sqAll = cf ? tf.square(tf.sub(hatQ1.allQ, x.y)) : null;
        for (let c = 1; c < this.sq.length; c++) {
          const f = this.sacQ(c, x, x.aHat, x.ownHat);
          sq = tf.add(sq, tf.square(tf.sub(f.q, x.y)));
          if (sqAll) sqAll = tf.add(sqAll, tf.square(tf.sub(f.allQ, x.y)));
        }
        if (sqAll) sq = tf.sub(sq, tf.sum(tf.mul(sqAll, pi), 2, true));
        cHat = tf.add(cHat, tf.mul(tf.mul(sq, x.rhoBar), a2));
        return [cBuf(), cHat] as [Tensor, Tensor];
      });
    }

    /** Agent i's actor surrogate with its coefficients (rows i of `coefs`) held fixed, plus the logit penalty. */
    sacActorLoss(x: SacInputs, i: number, b: Batch, coefs: readonly [Tensor, Tensor]): Tensor {
      const tf = this.tf;
      return tf.tidy(() => {
        const { logp, logits } = this.logPi(i, b.obs[i], b.mask[i]);
        const row = (t: Tensor) => tf.reshape(tf.slice(t, [i, 0, 0], [1, x.K, 1]), [x.K, 1]);
        const lBuf = tf.sum(tf.mul(logp, x.ownBufRows[i]), 1, true);
        const lHat = tf.sum(tf.mul(logp, x.ownHatRows[i]), 1, true);
        const l = tf.add(tf.mul(lBuf, row(coefs[0])), tf.mul(lHat, row(coefs[1])));
        return tf.add(tf.mean(l), tf.mul(tf.mean(tf.square(logits)), this.cfg.actorLogitReg));
      });
    }

    /**
     * One step of critic c over all copies; returns each copy's loss. With `diag` (critic 1, joint
     * objective) the step's own forwards at a and a^, taken before the step as the diagnostics'
     * were, also give the diagnostics (sacDiagnostics without its two extra passes; same values).
     */
    private criticStep(x: SacInputs, c: number, diag = false): Float32Array {
      const tf = this.tf;
      const q = this.sq[c];
      let per = new Float32Array(0);
      let dv: Tensor | null = null;
      // The two dropped passes moved the BatchNorm running estimates: move them the same way.
      if (diag) for (const a of [x.aBuf, x.aHat]) q.updateStats(x.obs, a, x.ownObs);
      const { grads } = q.params.grads((() =>
        tf.tidy(() => {
          const l = this.sacCopyLosses(x, c, diag ? (qBuf, qHat) => (dv = tf.keep(this.diagValues(x, qBuf, qHat))) : undefined);
          per = Float32Array.from(l.dataSync() as Float32Array);
          return tf.sum(l);
        })) as never);
      if (diag) {
        if (!dv) throw new Error('f2a2 sac: the fused diagnostics need the joint objective');
        this.recordDiagnostics(dv);
      }
      clipPerCopy(tf, grads, this.sac.criticGradClip);
      addWeightDecay(tf, grads, q.params, this.sac.criticWeightDecay);
      this.sqOpts[c].step(grads);
      tf.dispose(Object.values(grads));
      return per;
    }

    /** [4, N]: per copy mean(Q1(a) - y), the actor coefficient mean(a1 - 2 a2 rhobar (Q1(a^) - y)), mean rho, mean rhobar. */
    private diagValues(x: SacInputs, qBuf: Tensor, qHat: Tensor): Tensor {
      const tf = this.tf;
      const { alpha1: a1, alpha2: a2 } = this.f;
      return tf.tidy(() => {
        const d = tf.mean(tf.sub(qBuf, x.y), [1, 2]);
        const dh = tf.sub(qHat, x.y);
        return tf.stack([d, tf.mean(tf.sub(a1, tf.mul(tf.mul(dh, x.rhoBar), 2 * a2)), [1, 2]), tf.mean(x.rho, [1, 2]), tf.mean(x.rhoBar, [1, 2])]);
      });
    }

    private recordDiagnostics(vals: Tensor): void {
      const v = vals.dataSync();
      vals.dispose();
      const N = this.N;
      for (let i = 0; i < N; i++) ['f2a2/delta', 'f2a2/coef', 'f2a2/rho', 'f2a2/rhobar'].forEach((k, m) => this.stats.add(k, v[m * N + i]));
    }

    /** The diagnostics from their own two passes of critic 1 (w/o JOINT, whose critic step has no a^ pass). */
    private sacDiagnostics(x: SacInputs): void {
      const tf = this.tf;
      this.recordDiagnostics(tf.tidy(() => this.diagValues(x, this.sacQ(0, x, x.aBuf, x.ownBuf).q, this.sacQ(0, x, x.aHat, x.ownHat).q)));
    }

    /**
     * One update iteration (spec §2.3): every agent's critic then actor step (all copies at once,
     * see the header), consensus, MOA, targets.
     */
    override iteration(): void {
      const { tf, N } = this;
      const tau = this.f.tau;
      const batches = Array.from({ length: N }, () => this.sampleBatch(0));
      const x = this.prepareSac(batches);
      // Joint objective: critic 1's step computes the diagnostics from its own passes.
      const fused = this.f.joint;
      if (!fused) this.sacDiagnostics(x);
      for (let c = 0; c < this.sq.length; c++) {
        const per = this.criticStep(x, c, fused && c === 0);
        for (let i = 0; i < N; i++) this.stats.add(c === 0 ? `losses/critic_${i}` : `losses/critic2_${i}`, per[i]);
      }
      const coefs = this.actorCoefs(x, batches);
      for (let i = 0; i < N; i++) this.stats.add(`losses/actor_${i}`, this.stepNet(this.actors[i].params, this.actorOpts[i], () => this.sacActorLoss(x, i, batches[i], coefs)));
      tf.dispose(coefs);
      this.disposeSac(x);
      for (const b of batches) this.disposeBatch(b);
      this.consensusStep();
      if (this.moaBank) this.moaStep();
      for (let i = 0; i < N; i++) softUpdate(tf, this.actorTargets[i].params, this.actors[i].params, tau);
      for (let c = 0; c < this.sq.length; c++) softUpdate(tf, this.sqTarget[c].params, this.sq[c].params, tau);
      this.iters++;
    }

    protected override extraParts(): { params: Record<string, ParamSet>; optimisers: Record<string, Optimizer> } {
      const { params, optimisers } = super.extraParts();
      (this.sq ?? []).forEach((q, c) => {
        params[`sacCritic${c + 1}/`] = q.params;
        params[`sacCritic${c + 1}Stats/`] = q.stats;
        params[`sacCritic${c + 1}Target/`] = this.sqTarget[c].params;
        params[`sacCritic${c + 1}TargetStats/`] = this.sqTarget[c].stats;
        optimisers[`sacCritic${c + 1}`] = this.sqOpts[c];
      });
      return { params, optimisers };
    }

    /**
     * Checkpoints written before the critic copies were batched keep one critic per agent
     * (`sacCritic1/<i>/...`, padded differently). Resuming one would fail deep in the loader
     * on a missing tensor; say what happened instead. The stored checkpoint is untouched and its
     * actors still load for evaluation and replay (MaddpgPolicy reads `actor/<i>/` only).
     */
    override load(ckpt: Checkpoint): void {
      if (Object.keys(ckpt.tensors).some((k) => /^sacCritic\d+(Target)?(Stats)?\/\d+\//.test(k))) {
        throw new Error(
          'f2a2 (instantiation sac): this checkpoint was written before F2A2-SAC batched its per-agent critics, so training cannot resume from it; start a new run (its policy still loads for evaluation and replay)',
        );
      }
      super.load(ckpt);
    }

    override dispose(): void {
      for (const q of [...(this.sq ?? []), ...(this.sqTarget ?? [])]) q.disposeConstants();
      super.dispose();
    }
  };
}
