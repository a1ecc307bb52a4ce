/**
 * Social Influence with a model of other agents (MOA) (Jaques et al., ICML 2019; reference
 * implementation eugenevinitsky/sequential_social_dilemma_games, `common_funcs_moa.py`;
 * shared/specs/alita.md §8), a baseline of ALITA Table 1, on the same independent MLP PPO as
 * EITI and EDTI (ppo-trainer.ts, `inputs: 'features'`, defaults `ppoMlpSchema`).
 *
 * Each agent k owns a MOA: an MLP that, from k's observation o_t and the joint action a_t
 * (one-hots), predicts every other agent's NEXT action a_j^{t+1} (a softmax per teammate),
 * trained by cross-entropy on the round's pairs (t, t+1) of the same episode. Agent k's
 * influence reward at step t is, by enumerating k's counterfactual actions a~:
 *
 *   c_k = sum_{j != k} KL( p(a_j^{t+1} | a_k^t, a_-k^t, o) || sum_a~ pi_k(a~ | o) p(a_j^{t+1} | a~, a_-k^t, o) )
 *
 * with pi_k the policy's (masked) probabilities at t. The reward becomes
 * r_k + w(steps) min(c_k, clip), w ramping linearly from 0 to `influenceWeight` over the first
 * `influenceRampSteps` env steps (the reference's influence_reward_schedule). Influence is
 * computed with the MOA as it was before the round's MOA update (as the reference does: the
 * batch's influence comes from the model that acted), then the MOA trains.
 *
 * Paper / reference / here (the ALITA paper gives no learner or hyperparameters for its Social
 * Influence runs: every number below is "our configuration"):
 * | aspect | Jaques et al. | reference code | here |
 * |---|---|---|---|
 * | learner | A3C, conv + LSTM | PPO, conv + LSTM | independent PPO, MLP 3 x 32 (EITI's) |
 * | MOA | conv + LSTM, shared trunk | the same, a separate head | its own MLP per agent, 2 x 64 ReLU, Adam 1e-3, 4 full-batch steps per round |
 * | MOA input | o_t and a_t (and the LSTM state) | the same | o_t and the one-hot joint action a_t (no memory) |
 * | divergence | KL to the marginal | KL, clipped | the same; clip 10 (the reference's influence_reward_clip) |
 * | weight | 1 after a schedule | influence_reward_weight with a step schedule | 1, linear ramp over the first 200,000 env steps |
 * The grid rewards are 1000 per success; a KL of at most log 5 per step keeps the influence of
 * a 300-step episode (<= 300 x 1.6 x 1) of the order of one success: the reason for weight 1.
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { Mlp } from '../nn/mlp';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor } from '../nn/tf';
import { envProblems } from './core/compat';
import { ippoSchema } from './ippo';
import { PPO_FEATURE_NEEDS, PpoPolicy, PpoTrainer, ppoMlpSchema, type PpoHookContext, type PpoHooks, type PpoShapeInput, type PpoVariant } from './ppo-trainer';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';

/** More agents make the per-agent MOA and the enumeration grow as N^2 A: beyond the Table 1 tasks' scale. */
const MAX_AGENTS = 8;
/** (t, b) pairs per MOA forward pass when computing influence (bounds the input tensor). */
const CHUNK = 2048;

export const socialInfluenceSchema = {
  ...ppoMlpSchema(ippoSchema),
  influenceWeight: { type: 'float', default: 1, min: 0, doc: 'Weight of the influence reward after the ramp (our configuration: 1; the ALITA paper gives none).' },
  influenceClip: { type: 'float', default: 10, min: 0, doc: "Upper clip of the summed KL before weighting (the reference code's influence_reward_clip: 10)." },
  influenceRampSteps: { type: 'int', default: 200_000, min: 0, doc: 'Env steps over which the weight ramps linearly from 0 (0 = full weight at once; our configuration).' },
  moaHidden: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Width of the two hidden ReLU layers of each MOA (our configuration).' },
  moaLr: { type: 'float', default: 1e-3, min: 0, max: 1, doc: 'MOA Adam learning rate (our configuration).' },
  moaSteps: { type: 'int', default: 4, min: 0, max: 1000, doc: 'Full-batch MOA Adam steps per round, on the round\'s (t, t+1) pairs (our configuration).' },
} as const satisfies Schema;

type SiConfig = Values<typeof socialInfluenceSchema>;

export function socialInfluenceProblems(spec: EnvSpec): string[] {
  const out = envProblems(PPO_FEATURE_NEEDS, spec);
  if (spec.numAgents < 2) out.push('a single agent has no one to influence');
  if (spec.numAgents > MAX_AGENTS) out.push(`${spec.numAgents} agents (the per-agent models of other agents are built for at most ${MAX_AGENTS})`);
  return out;
}

/**
 * KL(p || m) summed over teammates of the counterfactual marginal, for one (row, agent k):
 * `logits` [A (counterfactual a~), N-1 teammates, A] of the MOA for each a~, `pi` [A] the
 * policy's probabilities, `actual` the action k took. Exported for the hand-computed test.
 */
export function influenceKl(logits: ArrayLike<number>, off: number, pi: ArrayLike<number>, piOff: number, actual: number, teammates: number, A: number): number {
  let total = 0;
  const p = new Float64Array(A);
  const m = new Float64Array(A);
  for (let j = 0; j < teammates; j++) {
    m.fill(0);
    for (let c = 0; c < A; c++) {
      const o = off + (c * teammates + j) * A;
      let mx = -Infinity;
      for (let x = 0; x < A; x++) mx = Math.max(mx, logits[o + x]);
      let z = 0;
      for (let x = 0; x < A; x++) z += Math.exp(logits[o + x] - mx);
      const w = pi[piOff + c];
      for (let x = 0; x < A; x++) {
        const q = Math.exp(logits[o + x] - mx) / z;
        m[x] += w * q;
        if (c === actual) p[x] = q;
      }
    }
    for (let x = 0; x < A; x++) if (p[x] > 0) total += p[x] * (Math.log(p[x]) - Math.log(Math.max(m[x], 1e-30)));
  }
  return Math.max(0, total);
}

class SocialInfluence implements PpoHooks {
  readonly params: Record<string, ParamSet>;
  readonly optimisers: Record<string, Adam>;
  private readonly cfg: SiConfig;
  private readonly moaParams: ParamSet;
  private readonly moa: Mlp;
  private readonly opt: Adam;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly O: number; // env observation values per agent
  private readonly rowO: number; // observation row length
  private readonly inDim: number;
  private readonly obs: Float32Array; // [L][B][N][O]
  private readonly acts: Int32Array; // [L][B][N]
  private readonly live: Uint8Array; // [L][B]
  private envSteps = 0;

  constructor(private readonly ctx: TrainContext, config: Values) {
    this.cfg = typedValues('algo', socialInfluenceSchema, config);
    const spec = ctx.env.spec;
    const problems = socialInfluenceProblems(spec);
    if (problems.length > 0) throw new Error(`social-influence: env "${spec.id}" cannot be used: ${problems.join('; ')}`);
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.O = spec.envObsSize;
    this.rowO = spec.obsSize;
    this.inDim = this.O + this.N * this.A;
    const { N, B, A } = this;
    const H = this.cfg.moaHidden;
    this.moaParams = new ParamSet(ctx.tf);
    this.moa = new Mlp(ctx.tf, this.moaParams, 'moa', [this.inDim, H, H, (N - 1) * A], 'relu', N, ctx.rng);
    this.opt = new Adam(ctx.tf, this.moaParams, { lr: this.cfg.moaLr });
    this.params = { 'moa/': this.moaParams };
    this.optimisers = { moa: this.opt };
    const L = spec.episodeLimit;
    this.obs = new Float32Array(L * B * N * this.O);
    this.acts = new Int32Array(L * B * N);
    this.live = new Uint8Array(L * B);
  }

  beforeStep(t: number, actions: Int32Array): void {
    const { N, B, O, rowO } = this;
    const env = this.ctx.env;
    for (let b = 0; b < B; b++) {
      const live = env.finished[b] ? 0 : 1;
      this.live[t * B + b] = live;
      if (!live) continue;
      this.envSteps++;
      for (let i = 0; i < N; i++) {
        const k = (t * B + b) * N + i;
        this.obs.set(env.obs.subarray((b * N + i) * rowO, (b * N + i) * rowO + O), k * O);
        this.acts[k] = actions[b * N + i];
      }
    }
  }

  /** Write agent k's MOA input for (t, b) with its own action replaced by `own` at inp[off..]. */
  private writeInput(inp: Float32Array, off: number, t: number, b: number, k: number, own: number): void {
    const { N, B, A, O } = this;
    const base = (t * B + b) * N;
    inp.set(this.obs.subarray((base + k) * O, (base + k + 1) * O), off);
    for (let i = 0; i < N; i++) inp[off + O + i * A + (i === k ? own : this.acts[base + i])] = 1;
  }

  shape(x: PpoShapeInput): Record<string, number> {
    const { N, B, A, inDim } = this;
    const tf = this.ctx.tf;
    const M = N * B;
    const cfg = this.cfg;
    const weight = cfg.influenceWeight * (cfg.influenceRampSteps > 0 ? Math.min(1, this.envSteps / cfg.influenceRampSteps) : 1);
    const pairs: number[] = [];
    for (let t = 0; t < x.T; t++) for (let b = 0; b < B; b++) if (x.valid[t * B + b]) pairs.push(t * B + b);
    const klSum = new Float64Array(N);
    const rewSum = new Float64Array(N);
    const D = (N - 1) * A;
    for (let c0 = 0; c0 < pairs.length; c0 += CHUNK) {
      const chunk = pairs.slice(c0, c0 + CHUNK);
      const R = chunk.length * A;
      const inp = new Float32Array(N * R * inDim);
      for (let k = 0; k < N; k++) {
        chunk.forEach((tb, p) => {
          const t = Math.floor(tb / B);
          const b = tb % B;
          for (let c = 0; c < A; c++) this.writeInput(inp, ((k * chunk.length + p) * A + c) * inDim, t, b, k, c);
        });
      }
      const logits = tf.tidy(() => this.moa.infer(tf.tensor3d(inp, [N, R, inDim])).dataSync() as Float32Array);
      for (let k = 0; k < N; k++) {
        chunk.forEach((tb, p) => {
          const t = Math.floor(tb / B);
          const b = tb % B;
          const actual = this.acts[(t * B + b) * N + k];
          const piOff = (t * M + k * B + b) * A;
          const kl = influenceKl(logits, (k * chunk.length + p) * A * D, x.probs, piOff, actual, N - 1, A);
          const r = weight * Math.min(kl, cfg.influenceClip);
          x.rewards[t * M + k * B + b] += r;
          klSum[k] += kl;
          rewSum[k] += r;
        });
      }
    }
    const loss = this.trainMoa(x);
    const stats: Record<string, number> = { 'influence/moa_loss': loss, 'influence/weight': weight };
    for (let k = 0; k < N; k++) {
      stats[`influence/kl_agent${k}`] = pairs.length > 0 ? klSum[k] / pairs.length : 0;
      stats[`intrinsic/influence_agent${k}`] = pairs.length > 0 ? rewSum[k] / pairs.length : 0;
    }
    return stats;
  }

  /** Cross-entropy steps on the round's (t, t + 1) pairs of one episode; returns the last loss. */
  private trainMoa(x: PpoShapeInput): number {
    const { N, B, A, inDim } = this;
    const tf = this.ctx.tf;
    const rows: number[] = [];
    for (let t = 0; t + 1 < x.T; t++) for (let b = 0; b < B; b++) if (x.valid[t * B + b] && x.valid[(t + 1) * B + b]) rows.push(t * B + b);
    const R = rows.length;
    if (R === 0 || this.cfg.moaSteps === 0) return 0;
    const inp = new Float32Array(N * R * inDim);
    const tgt = new Float32Array(N * R * (N - 1) * A);
    for (let k = 0; k < N; k++) {
      rows.forEach((tb, r) => {
        const t = Math.floor(tb / B);
        const b = tb % B;
        this.writeInput(inp, (k * R + r) * inDim, t, b, k, this.acts[(t * B + b) * N + k]);
        let slot = 0;
        for (let j = 0; j < N; j++) {
          if (j === k) continue;
          tgt[((k * R + r) * (N - 1) + slot) * A + this.acts[((t + 1) * B + b) * N + j]] = 1;
          slot++;
        }
      });
    }
    let last = 0;
    const inT = tf.tensor3d(inp, [N, R, inDim]);
    const tgtT = tf.tensor4d(tgt, [N, R, N - 1, A]);
    for (let s = 0; s < this.cfg.moaSteps; s++) {
      const { value, grads } = this.moaParams.grads(() => {
        const logits = tf.reshape(this.moa.forward(inT, false), [N, R, N - 1, A]);
        const logp = tf.logSoftmax(logits, -1);
        // Each agent's model is its own: the sum over agents of per-agent mean cross-entropies.
        return tf.div(tf.neg(tf.sum(tf.mul(logp, tgtT))), R) as never;
      });
      this.opt.step(grads);
      for (const g of Object.values(grads)) (g as Tensor).dispose();
      last = value / N;
    }
    inT.dispose();
    tgtT.dispose();
    return last;
  }

  save(): Record<string, unknown> {
    return { envSteps: this.envSteps };
  }

  load(st: Record<string, unknown>): void {
    const v = Number(st.envSteps);
    if (!Number.isFinite(v)) throw new Error('social-influence: checkpoint has no envSteps counter');
    this.envSteps = v;
  }

  dispose(): void {
    this.opt.dispose();
    this.moaParams.dispose();
  }
}

export const SOCIAL_INFLUENCE_VARIANT: PpoVariant = {
  id: 'social-influence',
  schema: socialInfluenceSchema,
  independent: true,
  inputs: 'features',
  hooks: ({ train, config }: PpoHookContext) => new SocialInfluence(train, config),
};

export const socialInfluenceEntry: AlgoEntry = {
  id: 'social-influence',
  title: 'Social Influence: independent PPO with a model of other agents and the counterfactual influence reward (Jaques et al. 2019)',
  schema: socialInfluenceSchema,
  accepts: socialInfluenceProblems,
  createTrainer: (ctx: TrainContext) => new PpoTrainer(ctx, SOCIAL_INFLUENCE_VARIANT),
  createPolicy: (ctx: PolicyContext) => new PpoPolicy(ctx, SOCIAL_INFLUENCE_VARIANT),
};
