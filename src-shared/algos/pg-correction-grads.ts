/**
 * PG's correction terms as gradients of their share of the actor loss (paper §4-4.1, eq. 2-5,
 * Theorem 1, App. P; released code specs §2.1, §2.4): the paper's H(J_c) Psi by the R-pass or
 * by double backprop on the tape, and the released code's finite-difference terms, plus how
 * they are added to the PG gradient with their statistics. The symbols and the choices behind
 * them are below; the reward-side pieces they use are in pg-correction.ts. Split from pg.ts so
 * the trainer reads as the paper's update.
 *
 * CORRECTION TERMS (paper §4-4.1, eq. 2-5, Theorem 1, App. P; `correction`, default `hvp`).
 * The actor's ascent direction becomes  grad(sum m A log pi / sum m) + coef * s * C  (s = -1
 * under `antiCollective`, App. E.7, which minimises the term), with C a Hessian-vector product
 * of a collective objective J_c (eq. 5: the term is added to the policy gradient):
 *     C = grad_theta [ grad_theta J_c(theta) . Psi ]  =  H(J_c) Psi      (Psi held constant)
 * computed by double backprop through the GRU (nn/hvp.ts; recurrent-actor.ts `tapeLogits` runs
 * the cell on the tape, because the fused BPTT op is first-order only). M.2 says the paper
 * approximated the Hessian with Pearlmutter's trick: this is that, exactly (no approximation
 * beyond float32). How each symbol is realised, and why:
 * - J_c (eq. 2: the sub-objective E[sum_t r^c]) as the REINFORCE surrogate
 *       J_c = sum_a sum_{(t,b) in S_a} (G_c - V) log pi(a_t | h_t) / |S_a|
 *   G_c = the discounted Monte-Carlo return of the collective reward alone (the individual r_i
 *   is excluded, as J_c = J - E[sum r^i]); the collective reward is the part all agents receive
 *   alike on a copy's terminating step (`collectiveSplit`). V = the baseline of the
 *   collective return alone (`correctionBaseline`): by default a second set of per-agent
 *   critics (same MLP on the env observation, trained each round by one batch RMSprop step on
 *   G_c over every valid agent-step, the pre-update values used, as for the PG critic);
 *   `none` drops it. (Before issue 8 this was the PG term's full-return critic: its value
 *   includes the individual reward that J_c excludes, and since (G_c - V) multiplies a
 *   second-order term the offset is not variance-only: E[V grad^2 log pi] = -E[V score
 *   score^T] != 0, roughly V F Psi with F the Fisher matrix. Kept as `full-critic`, the
 *   released code's v'.) (G_c - V) is detached. The Hessian is the surrogate's, sum
 *   (G_c - V) grad^2 log pi: what Pearlmutter's trick on a policy-gradient loss gives. (It omits the
 *   score-outer-product part E[G grad log p grad log p^T] of the Hessian of E[G], which needs
 *   trajectory-level score products as in DiCE; the paper does not mention it.)
 * - S_a, the steps of agent a's collective sub-policy pi_c^a (`correctionSteps`):
 *     self  (§4.1, grad_i grad_i J_c(theta_i) Psi(pi_c^i)): a's steps strictly after a's own
 *           door opened. Eq. 3 conditions J_c on the door being open, where J_c no longer
 *           depends on pi_d.
 *     cross (eq. 5, grad_i grad_j J_c(theta_j) Psi(pi_c^j)): for each copy whose first door was
 *           opened by agent i, every valid step of the other agents j. Theorem 1 assumes i
 *           opened first, so j's whole policy is its collective policy. The term is agent i's;
 *           with the shared actor (paper "Joint"), theta_i = theta_j = theta and grad_i grad_j
 *           is the Hessian in theta, so the terms of all pairs add into the one update. With
 *           per-agent actors the mixed derivative of j's surrogate w.r.t. theta_i is zero, so
 *           `cross` is refused there (under hvp).
 *   A door's opening is read from the rewards (the env interface has no door state): an
 *   agent's first positive non-collective reward (r_i = 0.5 by default). Limits: under
 *   rewardMode collective-only no opening is visible (the terms are then zero), and the
 *   toggle-only holding penalty makes the opening step net 0 (missed).
 * - Psi, "the reciprocal of the expected grad log pi_c" (eq. 4 and P.1, a vector in parameter
 *   space): the Moore-Penrose inverse of the mean score g = mean_{S} grad_theta log pi(a_t|h_t),
 *       Psi = g / (|g|^2 + lambda),   lambda = `psiDamping` (0: the exact pseudo-inverse).
 *   It is the minimum-norm vector with g . Psi = 1, the property eq. 15 uses (grad J_c . Psi =
 *   E[Q_c] when grad J_c = g E[Q_c], eq. 14). An elementwise reciprocal would instead give
 *   (number of parameters) x E[Q_c] and blow up on near-zero components. Eq. 4 (expectation
 *   outside the reciprocal) and P.1 (inside) disagree; we follow P.1, the form that is finite.
 *   Psi is data (no gradient through it), as v in Pearlmutter's H v; g comes from one
 *   first-order pass of the fused BPTT (taped) or of the R-pass module's own BPTT on the
 *   sequences with S steps (r-pass; rows outside S have zero weight in g). Shared actor: one
 *   Psi from the pooled S steps (one policy network); per-agent actors: one Psi per agent, in
 *   its own parameter block.
 *   Caveat, measured: on-policy E[grad log pi] = 0, so g is a small, noisy vector. At
 *   initialisation (history preset, 32 copies) |g|^2 ~ 0.02-0.09 and the term's gradient norm
 *   is ~1-8 against ~0.01-0.02 for the PG term, so RMSprop follows the term; in a 200-round
 *   test (8 copies, lr 1e-3) `self` drove door opening below the random policy's rate while
 *   vanilla PG tripled it. `psiDamping` and `correctionCoef` are the knobs;
 *   `charts/correction_value` logs grad J_c . Psi, which eq. 15 identifies with E[Q_c].
 * - `correctionStart` (the code's kick_in): the term acts from that update on (1 = always).
 * - Stats (when correction is not none): charts/correction_norm = norm of the term's share of
 *   the actor-loss gradient; charts/correction_dot_pg = cosine between that and the PG loss
 *   gradient (> 0: the term pushes the way PG does); charts/correction_steps = agent-steps in
 *   J_c (hvp) or gated entries (released-fd); charts/correction_value as above (hvp).
 * The released code's version (`correctionImpl: released-fd`, specs §2.1) is a per-entry
 * scalar, not a parameter-space product: at steps with reward >= 1 (the success step, both
 * agents) C = (H00 + H11) / log p with H the diagonal of a 2x2 central finite difference
 * (eps 1e-6, float32) of f(p, v) = m (G_c - v) log p in the taken action's probability p and
 * the baseline v (the released code's v' = V of the full critic: `correctionBaseline:
 * full-critic` in the released-code presets; the default puts the collective baseline there
 * too); analytic limit m [(G_c - V)/(p log p) - 1] (`releasedFdTerm`). Loss -(sum L
 * + sum C)/sum m, gradient through p only. `cross` under released-fd is the code's
 * update_order, which swaps agents before a total sum: identical to self. Under
 * antiCollectiveScope released-individual, the code's his_disc + anti_coop path adds the
 * individual analogue C_i = D_i / p (specs §2.4: at individual-reward steps, D_i from
 * f_i = m (G_ind - v'') log p, v'' = V - (sum r_col / 1.5) p) while C keeps its sign; with
 * scope collective, C is negated (what E.7 describes; no flag of the code does that).
 * correctionCoef scales every correction term, released ones included (the code: 1).
 */
import { maskedLogProbs } from '../nn/categorical';
import type { GruTrace } from '../nn/gru';
import { doubleBackprop, secondOrderOps } from '../nn/hvp';
import { RecurrentPolicyRop, type PolicyArrays, type PolicyTensors } from '../nn/policy-rop';
import { discountedReturns } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import { collectiveSplit, correctionSteps, releasedFdTerm } from './pg-correction';
import type { PgConfig } from './pg';
import { type RecurrentActor, tapeLogits, timeToGroup } from './recurrent-actor';

/** The trainer's sizes, actor and rollout storage (time-major [t][agent][copy][...]) the terms read. */
export interface PgRolloutView {
  readonly tf: Tf;
  readonly cfg: PgConfig;
  readonly N: number;
  readonly B: number;
  readonly A: number;
  readonly obsSize: number;
  readonly actor: RecurrentActor;
  readonly trace: GruTrace;
  readonly xs: Float32Array;
  readonly avail: Float32Array;
  readonly acts: Int32Array;
  readonly rews: Float32Array;
  readonly pTaken: Float32Array;
  readonly endStep: Int32Array;
  readonly endTrunc: Uint8Array;
}

/** One correction term's gradients (of its share of the actor loss) and statistics. */
export interface CorrectionPart {
  grads: Record<string, Tensor>;
  steps: number;
  value?: number;
}

/**
 * Psi = g / (|g|^2 + damping) per parameter group (G = 1: the shared actor; G = N: one block
 * per agent), g = the mean score given per parameter in name order.
 */
function psiOf(gs: Float32Array[], G: number, damping: number): Float32Array[] {
  const norm2 = new Float64Array(G);
  for (const g of gs) {
    const per = g.length / G;
    for (let k = 0; k < g.length; k++) norm2[Math.floor(k / per)] += g[k] * g[k];
  }
  return gs.map((g) => {
    const per = g.length / G;
    const out = new Float32Array(g.length);
    for (let k = 0; k < g.length; k++) {
      const d = norm2[Math.floor(k / per)] + damping;
      out[k] = d > 0 ? g[k] / d : 0;
    }
    return out;
  });
}

/** The correction terms of one trainer; holds the R-pass workspace between rounds. */
export class PgCorrection {
  /** The R-pass workspace (hvpMethod r-pass), made on first use. */
  private rop: RecurrentPolicyRop | null = null;

  constructor(private readonly v: PgRolloutView) {}

  /**
   * The paper's term by double backprop (see the header), as the gradient of its share of the
   * actor LOSS: -coef * sign * H(J_c) Psi. Null when no agent-step qualifies. X / avail: the
   * round's actor inputs in the fused layout (for the mean score, first order).
   */
  hvp(
    X: Tensor,
    avail: Tensor,
    T: number,
    masks: Float32Array,
    baseline: Float32Array,
    eps: number,
  ): { grads: Record<string, Tensor>; steps: number; value: number } | null {
    const { tf, cfg, N, B, A } = this.v;
    const O = this.v.obsSize;
    const M = N * B;
    const G = this.v.actor.groups;
    const { collective, tOpen } = collectiveSplit(this.v.rews.subarray(0, T * M), masks, this.v.endStep, this.v.endTrunc, T, N, B);
    const inS = correctionSteps(cfg.correction === 'cross' ? 'cross' : 'self', tOpen, masks, T, N, B);
    const Gc = discountedReturns(collective, masks, T, M, cfg.gamma);
    // Sequences (agent a, copy b) with steps in S_a, each run from t = 0 (the GRU state) to the
    // last step any of them needs; grouped like the actor (G = 1: all in one group).
    const count = new Float64Array(N);
    const seqs: number[][] = Array.from({ length: G }, () => []); // column a * B + b per group
    let Tp = 0;
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        let any = false;
        for (let t = 0; t < T; t++) {
          if (!inS[t * M + a * B + b]) continue;
          any = true;
          count[a]++;
          Tp = Math.max(Tp, t + 1);
        }
        if (any) seqs[G === 1 ? 0 : a].push(a * B + b);
      }
    }
    const steps = count.reduce((x, y) => x + y, 0);
    if (steps === 0) return null;
    const total = G === 1 ? [steps] : Array.from(count);
    const sign = cfg.antiCollective && cfg.antiCollectiveScope === 'collective' ? -1 : 1;
    const k = -cfg.correctionCoef * sign;
    if (cfg.hvpMethod === 'r-pass') {
      const { value, hvp } = this.rpass(Tp, seqs, inS, Gc, baseline, count, total, eps);
      const out: Record<string, Tensor> = {};
      for (const n of this.v.actor.params.names()) {
        out[n] = tf.tensor(hvp[n as keyof PolicyArrays].map((h) => h * k), this.v.actor.params.get(n).shape, 'float32');
      }
      return { grads: out, steps, value };
    }

    // Psi = g / (|g|^2 + lambda) per group, g = the mean score over the group's S steps, by the
    // fused first-order BPTT on the round's full batch (rows [N][T][B] per the PG loss).
    const rowsAll = (N * T * B) / G;
    const wLall = new Float32Array(N * T * B * A);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const i = t * M + a * B + b;
          if (inS[i]) wLall[((a * T + t) * B + b) * A + this.v.acts[i]] = 1 / total[G === 1 ? 0 : a];
        }
      }
    }
    const names = this.v.actor.params.names();
    const vars = this.v.actor.params.variables();
    const psi = tf.tidy(() => {
      const W = tf.tensor3d(wLall, [G, rowsAll, A]);
      const { grads } = this.v.actor.params.grads(
        () => tf.sum(tf.mul(W, maskedLogProbs(tf, this.v.actor.sequenceLogits(X, N, T, B, this.v.trace), avail, eps))) as never,
      );
      const gs = names.map((n) => grads[n].dataSync() as Float32Array);
      return psiOf(gs, G, cfg.psiDamping).map((out, i) => tf.tensor(out, vars[i].shape, 'float32'));
    });

    // The sequences on the tape: x [G, Tp * R, O], rows time-major; weights (G_c - V) / n on S.
    const R = Math.max(...seqs.map((q) => q.length));
    const { x, av, wJ } = this.sequences(Tp, R, seqs, inS, Gc, baseline, count, null, (g, t, r) => (g * Tp + t) * R + r);
    const so = secondOrderOps(tf);
    const { value: psiDotGrad, grads } = doubleBackprop(tf, vars, (grad) => {
      const logits = tapeLogits(tf, this.v.actor.weights(), tf.tensor3d(x, [G, Tp * R, O]), Tp, cfg.activation);
      const J = tf.sum(tf.mul(tf.tensor3d(wJ, [G, Tp * R, A]), so.maskedLogProbs(logits, tf.tensor3d(av, [G, Tp * R, A]), eps)));
      const gJ = grad(J as never, vars);
      let dot: Tensor = tf.scalar(0);
      gJ.forEach((g, i) => {
        dot = tf.add(dot, tf.sum(tf.mul(g, psi[i])));
      });
      return dot as never;
    });
    psi.forEach((t) => t.dispose());
    const out: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      out[n] = tf.mul(grads[i], k);
      grads[i].dispose();
    });
    return { grads: out, steps, value: psiDotGrad };
  }

  /**
   * hvp() by the R-pass (nn/policy-rop.ts): the same Psi and H(J_c) Psi, on the
   * sequences with S steps only (the mean score's other rows have zero weight), reusing the
   * rollout's GRU activations (the weights have not changed since). Returns H(J_c) Psi per
   * parameter and grad J_c . Psi.
   */
  private rpass(
    Tp: number,
    seqs: number[][],
    inS: Float32Array,
    Gc: Float32Array,
    baseline: Float32Array,
    count: Float64Array,
    total: number[],
    eps: number,
  ): { value: number; hvp: PolicyArrays } {
    const { tf, cfg } = this.v;
    const G = this.v.actor.groups;
    const R = Math.max(...seqs.map((q) => q.length));
    // Rows [Tp][G][R] (time-major, as the trace).
    const { x, av, wL, wJ } = this.sequences(Tp, R, seqs, inS, Gc, baseline, count, total, (g, t, r) => (t * G + g) * R + r);
    if (!this.rop) this.rop = new RecurrentPolicyRop(tf, cfg.activation);
    const rop = this.rop;
    rop.setBatch(this.v.actor.weights() as unknown as PolicyTensors, { T: Tp, R, x, avail: av, eps, trace: { trace: this.v.trace, cols: seqs } });
    // Psi = g / (|g|^2 + lambda) per group, as in hvp().
    const g = rop.gradient(wL).grads;
    const names = this.v.actor.params.names() as (keyof PolicyArrays)[];
    const psiArrays = psiOf(names.map((name) => g[name]), G, cfg.psiDamping);
    const psi = {} as PolicyArrays;
    names.forEach((name, i) => {
      psi[name] = psiArrays[i];
    });
    return rop.hvp(wJ, psi);
  }

  /**
   * The released code's terms (specs §2.1, §2.4) as the gradient of their share of the actor
   * loss, -coef (s_c sum C + sum C_i) / sum(m), through the fused BPTT (first order suffices:
   * the terms are functions of the taken action's probability p). `collectiveTerm`: C, gated
   * at r_col != 0, with s_c = -1 under antiCollective with scope collective; `individualTerm`:
   * C_i = -s D_i Psi_i with s = -1 (it is only on under antiCollective, scope
   * released-individual, where the code's anti_coop flips it).
   */
  released(
    X: Tensor,
    avail: Tensor,
    T: number,
    masks: Float32Array,
    baseline: Float32Array,
    collBaseline: Float32Array,
    split: { ind: Float32Array; col: Float32Array },
    collectiveTerm: boolean,
    individualTerm: boolean,
    eps: number,
    valid: number,
  ): { grads: Record<string, Tensor>; steps: number } {
    const { tf, cfg, N, B, A } = this.v;
    const M = N * B;
    const G = this.v.actor.groups;
    const n = T * M;
    const rowsAll = n / G;
    const group = (src: Float32Array) => timeToGroup(src, T, N, B, 1, new Float32Array(n));
    const onehot = new Float32Array(n * A);
    for (let t = 0; t < T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const i = t * M + a * B + b;
          onehot[((a * T + t) * B + b) * A + this.v.acts[i]] = 1;
        }
      }
    }
    let steps = 0;
    const terms: Array<{ G: Float32Array; v: Float32Array; gate: Float32Array; psi: 'inv-log-p' | 'inv-p'; sign: number }> = [];
    if (collectiveTerm) {
      const gate = new Float32Array(n);
      for (let i = 0; i < n; i++) gate[i] = masks[i] && split.col[i] !== 0 ? 1 : 0;
      const Gc = discountedReturns(split.col, masks, T, M, cfg.gamma);
      const sc = cfg.antiCollective && cfg.antiCollectiveScope === 'collective' ? -1 : 1;
      terms.push({ G: group(Gc), v: group(collBaseline.subarray(0, n)), gate: group(gate), psi: 'inv-log-p', sign: sc });
    }
    if (individualTerm) {
      // v'' = V - c p with c = sum(r_col) / 1.5, one scalar for the batch (the code's literal 1.5).
      let c = 0;
      const col = split.col;
      for (let i = 0; i < n; i++) c += col[i];
      c /= 1.5;
      const v2 = new Float32Array(n);
      const gate = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        v2[i] = baseline[i] - c * this.v.pTaken[i];
        gate[i] = masks[i] && split.ind[i] !== 0 ? 1 : 0;
      }
      const Gi = discountedReturns(split.ind, masks, T, M, cfg.gamma);
      terms.push({ G: group(Gi), v: group(v2), gate: group(gate), psi: 'inv-p', sign: 1 });
    }
    for (const term of terms) for (const g of term.gate) steps += g;
    const mG = group(masks);
    const { grads } = tf.tidy(() => {
      const oh = tf.tensor3d(onehot, [G, rowsAll, A]);
      return this.v.actor.params.grads(() => {
        const logp = maskedLogProbs(tf, this.v.actor.sequenceLogits(X, N, T, B, this.v.trace), avail, eps);
        const p = tf.reshape(tf.exp(tf.sum(tf.mul(oh, logp), -1)), [n]);
        let obj: Tensor = tf.scalar(0);
        for (const term of terms) {
          const c = tf.sum(releasedFdTerm(tf, p, mG, term.G, term.v, term.gate, term.psi));
          obj = tf.add(obj, tf.mul(c, term.sign));
        }
        return tf.mul(obj, -cfg.correctionCoef / valid) as never;
      }) as never;
    }) as { value: number; grads: Record<string, Tensor> };
    return { grads, steps };
  }

  /**
   * The sequences with S steps as rows `row(g, t, r)` of G * Tp * R (r: the sequence's place in
   * its group): actor inputs x, action masks av (1 on padding), and weights on the taken action
   * of S steps: wJ = (G_c - V) / n for J_c and, given `total`, wL = 1 / |S| for the mean score.
   */
  private sequences(
    Tp: number,
    R: number,
    seqs: number[][],
    inS: Float32Array,
    Gc: Float32Array,
    baseline: Float32Array,
    count: Float64Array,
    total: number[] | null,
    row: (g: number, t: number, r: number) => number,
  ): { x: Float32Array; av: Float32Array; wL: Float32Array; wJ: Float32Array } {
    const { N, B, A } = this.v;
    const O = this.v.obsSize;
    const M = N * B;
    const G = seqs.length;
    const n = G * Tp * R;
    const x = new Float32Array(n * O);
    const av = new Float32Array(n * A).fill(1);
    const wL = new Float32Array(total ? n * A : 0);
    const wJ = new Float32Array(n * A);
    for (let g = 0; g < G; g++) {
      seqs[g].forEach((col, r) => {
        const a = Math.floor(col / B);
        for (let t = 0; t < Tp; t++) {
          const src = t * M + col;
          const dst = row(g, t, r);
          x.set(this.v.xs.subarray(src * O, (src + 1) * O), dst * O);
          av.set(this.v.avail.subarray(src * A, (src + 1) * A), dst * A);
          if (!inS[src]) continue;
          if (total) wL[dst * A + this.v.acts[src]] = 1 / total[G === 1 ? 0 : a];
          wJ[dst * A + this.v.acts[src]] = (Gc[src] - baseline[src]) / count[a];
        }
      });
    }
    return { x, av, wL, wJ };
  }

  dispose(): void {
    this.rop?.dispose();
  }
}

/**
 * Add the correction parts' gradients to the PG loss gradients `actorGrads` (in place; the parts'
 * tensors are consumed) and return the correction statistics (see pg.ts's header).
 */
export function addCorrection(tf: Tf, actorGrads: Record<string, Tensor>, parts: CorrectionPart[]): Record<string, number> {
  const corrStats: Record<string, number> = {};
  corrStats['charts/correction_steps'] = parts.reduce((n, p) => n + p.steps, 0);
  corrStats['charts/correction_value'] = parts.reduce((n, p) => n + (p.value ?? 0), 0);
  const corr: Record<string, Tensor> = {};
  for (const name of Object.keys(actorGrads)) {
    const ts = parts.map((p) => p.grads[name]).filter((t) => t !== undefined);
    corr[name] = ts.length === 0 ? tf.zerosLike(actorGrads[name]) : ts.length === 1 ? ts[0] : tf.addN(ts);
    if (ts.length > 1) ts.forEach((t) => t.dispose());
  }
  let dot = 0;
  let nc = 0;
  let np = 0;
  tf.tidy(() => {
    for (const name of Object.keys(actorGrads)) {
      dot += tf.sum(tf.mul(corr[name], actorGrads[name])).dataSync()[0];
      nc += tf.sum(tf.square(corr[name])).dataSync()[0];
      np += tf.sum(tf.square(actorGrads[name])).dataSync()[0];
    }
  });
  corrStats['charts/correction_norm'] = Math.sqrt(nc);
  corrStats['charts/correction_dot_pg'] = nc > 0 && np > 0 ? dot / Math.sqrt(nc * np) : 0;
  for (const name of Object.keys(actorGrads)) {
    const sum = tf.add(actorGrads[name], corr[name]);
    actorGrads[name].dispose();
    corr[name].dispose();
    actorGrads[name] = sum;
  }
  return corrStats;
}
