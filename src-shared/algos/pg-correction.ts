/**
 * PG's reward-side and correction-term pieces (paper §4-4.1, App. E.6-E.7, P; released code
 * specs §1.9, §2.1-2.4): the reward injection, the collective/individual split of the rewards,
 * which agent-steps enter each correction objective, the released entropy penalty and the
 * released finite-difference term. The correction's symbols and the choices behind them are
 * explained in pg-correction-grads.ts's header; the trainer composes these in its update.
 *
 * MAX-ENTROPY (§4.1, Fig. 6; `maxEntropy`, `entropyCoef` 1e-4 = the code's policy_ent_coeff:
 * the paper gives no coefficient). `bonus`: an entropy-regularised PG (the paper cites Ahmed et
 * al. 2019 and Haarnoja et al. 2018): the actor loss gets - alpha sum m H(pi(.|o_t)) / sum m,
 * the entropy's own gradient at the visited states, which makes the updated policy more random
 * there. Not the soft-RL reward r + alpha H: measured on one batch, that raises the returns of
 * every sampled action before the critic catches up and SHARPENS the policy. `released-penalty`:
 * the code's r <- r - alpha H (H of the behaviour distribution, detached) before the critic
 * targets and returns (specs §1.9; `entropyPenalty`). On one batch that too RAISES the policy's
 * entropy (every sampled action's return drops, so all are pushed down; measured dH = +1.7e-4
 * at alpha 1e-4, lr 1e-3, 6 copies); an entropy-lowering effect can only come through which
 * states are reached, over many updates.
 */
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';

// ================================================================= reward injection (App. E.6)

/**
 * The released code's `spike_variation`, on time-major rewards [T][N][B] (in place). Per
 * (agent, copy) column: at the first step t* whose reward equals rInd, add
 * d |xi| kappa / (max(t*, 1) - i + 1) for i in max(t*-15, 0)..t* and d |xi| kappa / (i - t* + 16)
 * for i in t*+1 .. min(t*+15, L-1)-1, xi ~ N(0, 1) fresh per step; at the first step with
 * reward >= rBig, add d |xi| kappa / (max(t*, 1) - i + 1) for i in max(t*-15, 0)..t*,
 * xi ~ N(0, 15^2). Both searches read the rewards before injection. L = episode limit.
 * Exported for tests.
 */
export function injectRewards(
  rewards: Float32Array,
  T: number,
  N: number,
  B: number,
  rInd: number,
  rBig: number,
  d: number,
  kappa: number,
  episodeLimit: number,
  rng: Rng,
): void {
  const M = N * B;
  const ri = Math.fround(rInd);
  for (let col = 0; col < M; col++) {
    let tInd = -1;
    let tBig = -1;
    for (let t = 0; t < T; t++) {
      const r = rewards[t * M + col];
      if (tInd < 0 && r === ri) tInd = t;
      if (tBig < 0 && r >= rBig) tBig = t;
    }
    const add = (t: number, v: number) => {
      if (t < T) rewards[t * M + col] += v;
    };
    if (tInd >= 0) {
      for (let i = Math.max(tInd - 15, 0); i <= tInd; i++) add(i, (d * Math.abs(rng.normal()) * kappa) / (Math.max(tInd, 1) - i + 1));
      for (let i = tInd + 1; i <= Math.min(tInd + 15, episodeLimit - 1) - 1; i++) {
        add(i, (d * Math.abs(rng.normal()) * kappa) / (i - tInd + 16));
      }
    }
    if (tBig >= 0) {
      for (let i = Math.max(tBig - 15, 0); i <= tBig; i++) {
        add(i, (d * Math.abs(15 * rng.normal()) * kappa) / (Math.max(tBig, 1) - i + 1));
      }
    }
  }
}

// ================================================================= correction terms (paper §4, App. P)

/**
 * The collective part of each reward and the step each agent's door opened, from the raw env
 * rewards [T][N][B] (before injection or entropy terms) and how each copy ended. The
 * collective reward is what every agent receives alike on a copy's terminating step (not a
 * time-limit end): the minimum over the agents of that step's rewards, if positive. A door
 * opening is an agent's first step with a positive non-collective reward (the individual
 * reward r_i; under the default rewards 0.5 at the opening step, or 0.5 on top of the
 * collective 1.0 for the last opener). tOpen[a * B + b] = that step, or -1. Exported for tests.
 */
export function collectiveSplit(
  raw: Float32Array,
  masks: Float32Array,
  endStep: Int32Array,
  endTrunc: Uint8Array,
  T: number,
  N: number,
  B: number,
): { collective: Float32Array; tOpen: Int32Array } {
  const M = N * B;
  const collective = new Float32Array(T * M);
  for (let b = 0; b < B; b++) {
    const t = endStep[b];
    if (endTrunc[b] || t < 0 || t >= T) continue;
    let min = Infinity;
    for (let a = 0; a < N; a++) min = Math.min(min, raw[t * M + a * B + b]);
    if (min > 0) for (let a = 0; a < N; a++) collective[t * M + a * B + b] = min;
  }
  const tOpen = new Int32Array(M).fill(-1);
  for (let col = 0; col < M; col++) {
    for (let t = 0; t < T; t++) {
      const i = t * M + col;
      if (masks[i] && raw[i] - collective[i] > 0) {
        tOpen[col] = t;
        break;
      }
    }
  }
  return { collective, tOpen };
}

/**
 * Which agent-steps enter agent a's collective objective J_c^a, as a 0/1 mask [T][N][B]:
 *   self   steps strictly after a's own door opened (eq. 3: J_c conditioned on the door being
 *          open, where the collective sub-policy pi_c^a acts);
 *   cross  every valid step of a in copies where another agent opened its door first (Theorem
 *          1: agent i opened first, so agent j's whole policy is its collective policy); the
 *          resulting term is the one agent i receives. No first opener (nobody opened, or a
 *          tie) means no term.
 * Exported for tests.
 */
export function correctionSteps(kind: 'self' | 'cross', tOpen: Int32Array, masks: Float32Array, T: number, N: number, B: number): Float32Array {
  const M = N * B;
  const out = new Float32Array(T * M);
  const first = new Int32Array(B).fill(-1);
  if (kind === 'cross') {
    for (let b = 0; b < B; b++) {
      let best = -1;
      let tie = false;
      for (let a = 0; a < N; a++) {
        const t = tOpen[a * B + b];
        if (t < 0) continue;
        if (best < 0 || t < tOpen[best * B + b]) {
          best = a;
          tie = false;
        } else if (t === tOpen[best * B + b]) tie = true;
      }
      first[b] = tie ? -1 : best;
    }
  }
  for (let t = 0; t < T; t++) {
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const i = t * M + a * B + b;
        if (!masks[i]) continue;
        const open = tOpen[a * B + b];
        const inS = kind === 'self' ? open >= 0 && t > open : first[b] >= 0 && first[b] !== a;
        if (inS) out[i] = 1;
      }
    }
  }
  return out;
}

/** Released code §2.1 step 1: r_ind = r where r < 1 (else 0), r_col = r where r >= 1 (else 0). */
export function releasedRewardSplit(r: Float32Array): { ind: Float32Array; col: Float32Array } {
  const ind = new Float32Array(r.length);
  const col = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) {
    if (r[i] >= 1) col[i] = r[i];
    else ind[i] = r[i];
  }
  return { ind, col };
}

/**
 * The released code's max-entropy reward adjustment (specs §1.9, §2.1 step 2), in place:
 * r <- r - alpha H on valid steps, H the behaviour entropy at that step (detached); with the
 * released reward split, also r_ind and r_col where they are non-zero. Exported for tests.
 */
export function entropyPenalty(
  rewards: Float32Array,
  ents: Float32Array,
  masks: Float32Array,
  alpha: number,
  split: { ind: Float32Array; col: Float32Array } | null,
): void {
  for (let i = 0; i < rewards.length; i++) {
    if (!masks[i]) continue;
    const d = alpha * ents[i];
    rewards[i] -= d;
    if (split && split.ind[i] !== 0) split.ind[i] -= d;
    if (split && split.col[i] !== 0) split.col[i] -= d;
  }
}

/** The released code's finite-difference step (specs §2.1 step 6). */
export const RELEASED_FD_EPS = 1e-6;

/**
 * The released code's per-entry term (specs §2.1 steps 5-8; §2.4 for the individual
 * analogue): with f(p, v) = m (G - v) log p and (G - v) a constant, the diagonal of the 2x2
 * central finite difference in x = (p, v), eps = 1e-6, in float32 as PyTorch computes it:
 *   H00 = (f(p + eps/2, v) - f(p - eps/2, v)) / eps  ~  m (G - v) / p
 *   H11 = (f(p, v + eps/2) - f(p, v - eps/2)) / eps  ~  -m log p
 * times Psi = gate / log p (`psi` 'inv-log-p', collective) or gate / p ('inv-p', individual),
 * where gate = 1 on the entries the code gates in (r_col != 0, resp. r_ind != 0). Analytic
 * limit of the collective term: m [(G - v) / (p log p) - 1]. p carries the gradient (inside
 * the logs and through Psi, as in the code); G, v, m, gate are data. Exported for tests.
 */
export function releasedFdTerm(
  tf: Tf,
  p: Tensor,
  m: Float32Array,
  G: Float32Array,
  v: Float32Array,
  gate: Float32Array,
  psi: 'inv-log-p' | 'inv-p',
): Tensor {
  const h = RELEASED_FD_EPS / 2;
  const n = m.length;
  const adv = new Float32Array(n);
  const advUp = new Float32Array(n); // G - (v + eps/2)
  const advDown = new Float32Array(n); // G - (v - eps/2)
  for (let i = 0; i < n; i++) {
    adv[i] = G[i] - v[i];
    advUp[i] = G[i] - Math.fround(v[i] + h);
    advDown[i] = G[i] - Math.fround(v[i] - h);
  }
  return tf.tidy(() => {
    const shape = p.shape;
    const mk = (a: Float32Array) => tf.tensor(a, shape, 'float32');
    const mt = mk(m);
    const g = mk(gate);
    // Ungated entries get p = 0.5: finite everywhere, and gate = 0 removes them (and their gradient).
    const pg = tf.add(tf.mul(p, g), tf.mul(tf.sub(1, g), 0.5));
    const logp = tf.log(pg);
    const ma = tf.mul(mt, mk(adv));
    const h00 = tf.div(tf.sub(tf.mul(ma, tf.log(tf.add(pg, h))), tf.mul(ma, tf.log(tf.sub(pg, h)))), RELEASED_FD_EPS);
    const h11 = tf.div(tf.sub(tf.mul(tf.mul(mt, mk(advUp)), logp), tf.mul(tf.mul(mt, mk(advDown)), logp)), RELEASED_FD_EPS);
    const psiT = tf.div(g, psi === 'inv-log-p' ? logp : pg);
    return tf.mul(tf.add(h00, h11), psiT);
  });
}
