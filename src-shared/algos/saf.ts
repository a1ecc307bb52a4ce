/**
 * SAF: the Stateful Active Facilitator (Liu et al. 2023), as the hidden-gifts paper runs it
 * (Malenfant & Richards 2025, §3 and Table 5; specs/manitokan-learners.md §4): a meta-learning
 * learner in which the agents share a knowledge source and each acts through a policy chosen
 * from a small pool, trained by PPO.
 *
 * Networks (Table 5 sizes as defaults; D = `stateDim` 64, H = `hiddenDim` 128, S = `slots` 4,
 * K = `policies` 4):
 *   encoder   shared ("Joint") 1-layer CNN, 64 channels, kernel 2, ReLU, over the agent's view
 *             planes (3x3x3 -> 4 patches; nn/conv.ts im2col + one dense layer), mean-pooled
 *             over the patches to D, then the env's extra features (door/key flags, last
 *             action) appended; state projector tanh(Linear(D + extras -> D)) = s_i.
 *   knowledge source (perceiver-style, shared): S learned latents [S, D]. Write: the latents
 *             cross-attend to the agents' states of the same copy and step (1 head, D
 *             channels, residual), then `selfAttentionBlocks` (2) passes of a block of
 *             `selfAttentionLayers` (2) layers (weights shared across passes, as the perceiver
 *             repeats its block), each layer a residual self-attention over the latents and a
 *             residual 2-layer tanh MLP. Read: each agent's query projector tanh(Linear(s_i))
 *             cross-attends to the written latents -> m_i (D).
 *   combined  state projector tanh(Linear([s_i ; m_i] (2D = 128) -> D)) = c_i.
 *   pool      K policies ("Disjoint": K parameter groups), each MLP D -> H -> H (tanh) -> A.
 *   selection the policy projector tanh(Linear([s_i ; m_i] -> D)) = u_i is the query against K
 *             learned slot keys [K, D]: w_i = softmax(u_i . key_k / sqrt(D)). The agent acts
 *             with the mixture pi(a) = sum_k w_ik pi_k(a) (each pi_k masked to the available
 *             actions, so the mixture is too).
 *   value     one MLP ("Joint") D -> H -> H (tanh) -> 1 on c_i, per agent: centralised through
 *             the knowledge source, which every agent of the copy wrote to.
 * Attention softmaxes are exp(logSoftmax) over the last axis and attention products batched
 * matmuls: every op has a gradient in Cairn's set (nn/gradients.ts).
 *
 * One round = one paper "episode": every copy plays an episode in lock-step (core/rollout.ts),
 * acting with the current networks; then PPO: advantages A = G - V (Table 5: "GAE not used",
 * i.e. lambda = 1, bootstrapped with V(final observation) only after a time-limit cut),
 * normalised over valid steps; `epochs` passes over `minibatches` shuffled minibatches of
 * copy-steps (a copy-step keeps its N agents together: they attend to each other); per
 * minibatch one Adam step on
 *   - mean w min(r A, clip(r, 1 - 0.2, 1 + 0.2) A) - entropyCoef mean H(pi)
 *     + valueCoef mean huber_10(G - V),
 * with the global gradient norm clipped to 9.
 *
 * Paper text (Table 5) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e, saf.yaml and
 * stateful_active_facilitator/*; specs §4) and Cairn's defaults; `manitokan-saf*-released-code`
 * switch the code values on together:
 *
 *   option        paper (default here)          released code
 *   epochs        15                            10 (update_epochs)
 *   valueCoef     1                             0.5 (vf_coef)
 *   minibatches   5 ("Mini-batch Size 5" read   1
 *                 as the number of minibatches,
 *                 as Tables 1-2's "1")
 *   lrDecayRounds 0 (no decay; paper silent)    linear decay to 0 over the run (anneal_lr):
 *                                               set it to the run's rounds (10,000)
 *   lr 3e-4, Adam eps 1e-5, entropy 0.01, clip 0.2, grad clip 9, 4 policies, 4 slot keys: both.
 *   hidden 128, encoder output 64: both. env episodeLimit 150 (code 300), agents drawn (code:
 *   not drawn), as for every Manitokan learner.
 *
 * Where the paper is silent or its numbers do not fit, Cairn chose:
 * - no GRU: Table 5 lists none for SAF (§3 says every learner had a recurrent component; the
 *   table wins for the layer list). With `obsLastAction` the agent still sees its last action.
 * - the encoder's 2x2x64 output is mean-pooled to 64 (Table 5's next layers take 64); the
 *   projectors' "input 128" is read as [s_i ; m_i] where that fits (combined state, policy
 *   projector) and as D where only s_i exists (state and query projectors); the policy
 *   projector's "output 164" as 64 (it is a query against 64-dimensional keys).
 * - no latent encoder / prior: Table 5 lists them (input 128 -> 16, the value's input 80 =
 *   64 + 16), but the released yaml leaves their weight (`latent_kl`) an unresolved
 *   placeholder, so whether they acted in the paper's runs is unverified; the value reads c_i
 *   (64). Not built rather than guessed.
 * - the pool acts as the expectation of its selection (a mixture), so PPO's ratio is over the
 *   agent's actual action distribution and the selection is learned by the same gradient; no
 *   LayerNorm in the perceiver (Table 5 lists none); dropout 0 (Table 5).
 * - initialisation: PyTorch-default uniform layers (nn/mlp.ts), latents and keys ~ U(+-1/sqrt(D)).
 */
import { type Schema, type Values, typedValues } from '../config/schema';
import type { EnvSpec, VecEnv } from '../envs/types';
import { argmaxMasked, maskedLogProbs, sampleIndex } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { concatDiff, im2col, patchCount } from '../nn/conv';
import { registerGradients } from '../nn/gradients';
import { uniform } from '../nn/init';
import { Linear, Mlp } from '../nn/mlp';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import { clippedSurrogate, gae, huber, normaliseAdvantages } from '../nn/ppo';
import type { Tensor, Tf, Variable } from '../nn/tf';
import type { Rng } from '../rng';
import { counter, loadLearner, saveLearner, type LearnerParts } from './core/checkpoint';
import { envProblems, leadingPlanes, type EnvNeeds } from './core/compat';
import { LockstepRollout } from './core/rollout';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

// ================================================================= config

export const safSchema = {
  lr: { type: 'float', default: 3e-4, min: 0, max: 1, doc: 'Adam learning rate (paper Table 5 and code: 3e-4).' },
  adamEps: { type: 'float', default: 1e-5, min: 0, doc: 'Adam epsilon (paper and code: 1e-5).' },
  lrDecayRounds: {
    type: 'int',
    default: 0,
    min: 0,
    doc: "Linear lr decay to 0 over this many rounds, 0 = constant (paper silent; released code anneal_lr over the run: set the run's rounds).",
  },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount factor (paper: 0.99).' },
  clip: { type: 'float', default: 0.2, min: 0, max: 1, doc: 'PPO clip ratio (paper and code: 0.2).' },
  entropyCoef: { type: 'float', default: 0.01, min: 0, doc: 'Entropy bonus coefficient (paper and code: 0.01).' },
  valueCoef: { type: 'float', default: 1, min: 0, doc: 'Value loss coefficient (paper: 1; released code vf_coef 0.5).' },
  huberDelta: { type: 'float', default: 10, min: 0, doc: 'Huber delta of the value loss; 0 = squared error (paper: 10).' },
  gradClip: { type: 'float', default: 9, min: 0, doc: 'Global-norm gradient clip, 0 = none (paper and code: 9).' },
  epochs: { type: 'int', default: 15, min: 1, max: 1000, doc: 'PPO epochs per round (paper: 15; released code: 10).' },
  minibatches: { type: 'int', default: 5, min: 1, max: 1000, doc: "Minibatches per epoch (paper 'Mini-batch Size 5'; released code: 1)." },
  advantageNorm: { type: 'bool', default: true, doc: 'Normalise advantages over valid steps (paper silent; code: on).' },
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Width of the policies and the value MLP (paper and code: 128).' },
  stateDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Encoder channels, state, latent and attention width D (paper: 64).' },
  slots: { type: 'int', default: 4, min: 1, max: 64, doc: "Knowledge-source latents (paper: 4, 'latents = 4')." },
  policies: { type: 'int', default: 4, min: 1, max: 64, doc: 'Policies in the pool, each with one slot key (paper: 4 policies, 4 slot keys).' },
  selfAttentionBlocks: { type: 'int', default: 2, min: 0, max: 16, doc: 'Passes of the perceiver self-attention block over the latents (paper: 2).' },
  selfAttentionLayers: { type: 'int', default: 2, min: 1, max: 16, doc: 'Layers in that block (paper: 2 each).' },
  kernel: { type: 'int', default: 2, min: 1, max: 16, doc: "The shared encoder's convolution kernel (paper: 2)." },
} as const satisfies Schema;

type SafConfig = Values<typeof safSchema>;

function parseConfig(values: Values): SafConfig {
  return typedValues('algo', safSchema, values);
}

/** Discrete agents alike (one shared encoder and pool), whose observations start with view planes. */
const SAF_NEEDS: EnvNeeds = { actions: 'discrete', uniformAgents: true, planesFirst: true };

/** What SAF needs of an env, in plain words (empty = it can train there). */
export function safProblems(spec: EnvSpec, kernel: number = safSchema.kernel.default): string[] {
  const out = envProblems(SAF_NEEDS, spec);
  const v = out.length === 0 ? leadingPlanes(spec.agents[0].obsLayout) : null;
  if (v && v.order !== 'xyc') out.push(`the view planes are stored in '${v.order}' order (the encoder reads 'xyc')`);
  if (v && (v.width < kernel || v.height < kernel)) out.push(`the view ${v.width}x${v.height} is smaller than the ${kernel}x${kernel} kernel`);
  return out;
}

// ================================================================= networks

/** Row geometry read from the spec: view planes, then E extra values (flags, history). */
interface Geometry {
  readonly O: number;
  readonly W: number;
  readonly Hh: number;
  readonly C: number;
  readonly P: number; // patches per view
  readonly Kc: number; // values per patch
  readonly E: number; // extras after the view
}

function geometry(spec: EnvSpec, kernel: number): Geometry {
  const problems = safProblems(spec, kernel);
  if (problems.length > 0) throw new Error(`saf: env "${spec.id}" cannot be used: ${problems.join('; ')}`);
  const v = leadingPlanes(spec.agents[0].obsLayout)!;
  const view = v.width * v.height * v.channels;
  const k: number = kernel;
  return { O: spec.obsSize, W: v.width, Hh: v.height, C: v.channels, P: patchCount(v.width, v.height, k), Kc: k * k * v.channels, E: spec.obsSize - view };
}

/** Patches [P * Kc] and extras [E] of one observation row at obs[o..]. */
function writeInput(g: Geometry, kernel: number, obs: Float32Array, o: number, patches: Float32Array, pOff: number, extras: Float32Array, eOff: number): void {
  im2col(obs, o, g.W, g.Hh, g.C, kernel, patches, pOff);
  const view = g.W * g.Hh * g.C;
  for (let k = 0; k < g.E; k++) extras[eOff + k] = obs[o + view + k];
}

/** What one forward pass gives, per agent row (copy-major: row = unit * N + agent). */
export interface SafOutputs {
  /** Mixture action probabilities [M, A] (0 on unavailable actions). */
  probs: Tensor;
  /** Values [M]. */
  value: Tensor;
  /** Policy-selection weights [M, K] (rows sum to 1). */
  selection: Tensor;
}

/**
 * Attention of queries q [U, Q, D] over keys k, values v [U, X, D]: softmax_X(q.k / sqrt D) v,
 * as two batched matmuls (their gradient, transposes included, is in Cairn's set).
 */
export function attend(tf: Tf, q: Tensor, k: Tensor, v: Tensor): { out: Tensor; weights: Tensor } {
  return tf.tidy(() => {
    const D = q.shape[2]!;
    const scores = tf.mul(tf.matMul(q as never, k as never, false, true), 1 / Math.sqrt(D));
    const weights = tf.exp(tf.logSoftmax(scores));
    const out = tf.matMul(weights as never, v as never);
    return { out, weights };
  });
}

/** SAF's networks in one parameter set (one Adam over all, as the released learner). */
export class SafNet {
  readonly params: ParamSet;
  private readonly conv: Linear;
  private readonly stateProj: Linear;
  private readonly latents: Variable;
  private readonly write: { q: Linear; k: Linear; v: Linear; o: Linear };
  private readonly self: { q: Linear; k: Linear; v: Linear; o: Linear; m1: Linear; m2: Linear }[];
  private readonly queryProj: Linear;
  private readonly read: { q: Linear; k: Linear; v: Linear };
  private readonly combined: Linear;
  private readonly policyProj: Linear;
  private readonly keys: Variable;
  private readonly pool: Mlp;
  private readonly valueNet: Mlp;

  constructor(
    private readonly tf: Tf,
    readonly geo: Geometry,
    readonly cfg: SafConfig,
    readonly numActions: number,
    rng: Rng,
  ) {
    const D = cfg.stateDim;
    const H = cfg.hiddenDim;
    const p = (this.params = new ParamSet(tf));
    const lin = (name: string, i: number, o: number) => new Linear(tf, p, name, i, o, 1, rng);
    this.conv = lin('encoder/conv', geo.Kc, D);
    this.stateProj = lin('encoder/state_proj', D + geo.E, D);
    const bound = 1 / Math.sqrt(D);
    this.latents = p.add('ks/latents', [cfg.slots, D], uniform(rng, cfg.slots * D, bound));
    this.write = { q: lin('ks/write/q', D, D), k: lin('ks/write/k', D, D), v: lin('ks/write/v', D, D), o: lin('ks/write/o', D, D) };
    this.self = Array.from({ length: cfg.selfAttentionLayers }, (_, l) => ({
      q: lin(`ks/self/${l}/q`, D, D),
      k: lin(`ks/self/${l}/k`, D, D),
      v: lin(`ks/self/${l}/v`, D, D),
      o: lin(`ks/self/${l}/o`, D, D),
      m1: lin(`ks/self/${l}/mlp1`, D, D),
      m2: lin(`ks/self/${l}/mlp2`, D, D),
    }));
    this.queryProj = lin('ks/query_proj', D, D);
    this.read = { q: lin('ks/read/q', D, D), k: lin('ks/read/k', D, D), v: lin('ks/read/v', D, D) };
    this.combined = lin('combined_proj', 2 * D, D);
    this.policyProj = lin('policy_proj', 2 * D, D);
    this.keys = p.add('pool/keys', [cfg.policies, D], uniform(rng, cfg.policies * D, bound));
    this.pool = new Mlp(tf, p, 'pool/policy', [D, H, H, numActions], 'tanh', cfg.policies, rng);
    this.valueNet = new Mlp(tf, p, 'value', [D, H, H, 1], 'tanh', 1, rng);
  }

  /** Gradient bookkeeping on (training) or plain kernels (acting): see nn/mlp.ts linearInfer. */
  private grad = true;

  /** Linear over the last axis of x [..., in] (rows flattened into one group). */
  private dense(layer: Linear, x: Tensor, act: 'tanh' | 'relu' | 'linear' = 'linear', inputGrad = true): Tensor {
    const tf = this.tf;
    const shape = x.shape as number[];
    const x3 = tf.reshape(x, [1, -1, shape[shape.length - 1]]);
    const y = this.grad ? layer.forward(x3, act, inputGrad) : layer.infer(x3, act);
    return tf.reshape(y, [...shape.slice(0, -1), layer.outDim]);
  }

  /** `forward` without gradient bookkeeping, for acting and bootstrap values (same numbers). */
  infer(patches: Tensor, extras: Tensor | null, mask: Tensor, U: number, N: number): SafOutputs {
    this.grad = false;
    try {
      return this.forward(patches, extras, mask, U, N);
    } finally {
      this.grad = true;
    }
  }

  /**
   * Forward for U copy-steps of N agents each (M = U N rows, copy-major). patches [U N P, Kc],
   * extras [U N, E] (null when E = 0), mask [U N, A] (1 = available). Differentiable.
   */
  forward(patches: Tensor, extras: Tensor | null, mask: Tensor, U: number, N: number): SafOutputs {
    const tf = this.tf;
    const { cfg, geo } = this;
    const D = cfg.stateDim;
    const K = cfg.policies;
    const M = U * N;
    return tf.tidy(() => {
      // Shared encoder: conv over patches, mean over patches, extras appended, projected.
      const conv = tf.reshape(this.dense(this.conv, patches, 'relu', false), [M, geo.P, D]);
      let e = tf.mean(conv, 1);
      if (extras) e = concatDiff(tf, [e, extras], 1);
      const s = this.dense(this.stateProj, e, 'tanh'); // [M, D]
      const sU = tf.reshape(s, [U, N, D]);
      // Knowledge source, write: latents attend to the copy's agents, then self-attention.
      const z0 = tf.mul(tf.reshape(this.latents, [1, cfg.slots, D]), tf.ones([U, 1, 1]));
      const w = this.write;
      let z = tf.add(z0, this.dense(w.o, attend(tf, this.dense(w.q, z0), this.dense(w.k, sU), this.dense(w.v, sU)).out));
      for (let b = 0; b < cfg.selfAttentionBlocks; b++) {
        for (const l of this.self) {
          z = tf.add(z, this.dense(l.o, attend(tf, this.dense(l.q, z), this.dense(l.k, z), this.dense(l.v, z)).out));
          z = tf.add(z, this.dense(l.m2, this.dense(l.m1, z, 'tanh')));
        }
      }
      // Read: each agent's query attends to the written latents.
      const q = this.dense(this.queryProj, sU, 'tanh');
      const m = tf.reshape(attend(tf, this.dense(this.read.q, q), this.dense(this.read.k, z), this.dense(this.read.v, z)).out, [M, D]);
      const sm = concatDiff(tf, [s, m], 1); // [M, 2D]
      const c = this.dense(this.combined, sm, 'tanh');
      // Policy selection: the projected query against the pool's slot keys.
      const u = this.dense(this.policyProj, sm, 'tanh');
      const scores = tf.mul(tf.matMul(u as never, this.keys as never, false, true), 1 / Math.sqrt(D));
      const selection = tf.exp(tf.logSoftmax(scores)); // [M, K]
      // The pool: K policies on c, each masked; the agent's distribution is their mixture.
      const cK = tf.mul(tf.reshape(c, [1, M, D]), tf.ones([K, 1, 1]));
      const logits = this.grad ? this.pool.forward(cK) : this.pool.infer(cK);
      const pk = tf.mul(tf.exp(maskedLogProbs(tf, logits, mask)), mask); // [K, M, A]
      const A = this.numActions;
      let probs: Tensor = tf.mul(tf.slice(selection, [0, 0], [M, 1]), tf.reshape(tf.slice(pk, [0, 0, 0], [1, M, A]), [M, A]));
      for (let k = 1; k < K; k++) {
        probs = tf.add(probs, tf.mul(tf.slice(selection, [0, k], [M, 1]), tf.reshape(tf.slice(pk, [k, 0, 0], [1, M, A]), [M, A])));
      }
      const c3 = tf.reshape(c, [1, M, D]);
      const value = tf.reshape(this.grad ? this.valueNet.forward(c3) : this.valueNet.infer(c3), [M]);
      return { probs, value, selection };
    });
  }
}

/** log pi of taken actions and the entropy of pi from mixture probabilities [M, A]. */
function logProbAndEntropy(tf: Tf, probs: Tensor, onehot: Tensor): { logp: Tensor; entropy: Tensor } {
  return tf.tidy(() => ({
    logp: tf.log(tf.add(tf.sum(tf.mul(probs, onehot), -1), 1e-10)),
    entropy: tf.neg(tf.sum(tf.mul(probs, tf.log(tf.add(probs, 1e-10))), -1)),
  }));
}

// ================================================================= trainer

class SafTrainer implements Trainer {
  private readonly tf: Tf;
  private readonly cfg: SafConfig;
  private readonly geo: Geometry;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly L: number;
  private readonly net: SafNet;
  private readonly opt: Adam;
  private readonly rollout: LockstepRollout;

  // Rollout storage, [t][b][agent][...]; slot L holds final observations for bootstraps.
  private readonly patches: Float32Array;
  private readonly extras: Float32Array;
  private readonly avail: Float32Array;
  private readonly acts: Int32Array;
  private readonly oldLogp: Float32Array;
  private readonly values: Float32Array; // [L+1][b][agent]
  private readonly rews: Float32Array;
  private readonly finalPatches: Float32Array; // [B][N][P Kc]
  private readonly finalExtras: Float32Array;

  private updates = 0;

  constructor(private readonly ctx: TrainContext) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    this.cfg = parseConfig(ctx.config);
    const spec = ctx.env.spec;
    this.geo = geometry(spec, this.cfg.kernel);
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.L = spec.episodeLimit;
    this.net = new SafNet(tf, this.geo, this.cfg, this.A, ctx.rng);
    this.opt = new Adam(tf, this.net.params, { lr: this.cfg.lr, eps: this.cfg.adamEps });
    this.rollout = new LockstepRollout(ctx.env, ctx.seed, this.L);
    const { N, B, A, L } = this;
    const rows = L * B * N;
    const pk = this.geo.P * this.geo.Kc;
    this.patches = new Float32Array(rows * pk);
    this.extras = new Float32Array(rows * this.geo.E);
    this.avail = new Float32Array(rows * A);
    this.acts = new Int32Array(rows);
    this.oldLogp = new Float32Array(rows);
    this.values = new Float32Array((L + 1) * B * N);
    this.rews = new Float32Array(rows);
    this.finalPatches = new Float32Array(B * N * pk);
    this.finalExtras = new Float32Array(B * N * this.geo.E);
  }

  /** One no-gradient forward over U copy-steps whose rows start at `row` in the given buffers. */
  private infer(patches: Float32Array, extras: Float32Array, avail: Float32Array, U: number): { probs: Float32Array; value: Float32Array } {
    const { tf, N, A, geo } = this;
    const M = U * N;
    return tf.tidy(() => {
      const out = this.net.infer(
        tf.tensor2d(patches.subarray(0, M * geo.P * geo.Kc), [M * geo.P, geo.Kc]),
        geo.E > 0 ? tf.tensor2d(extras.subarray(0, M * geo.E), [M, geo.E]) : null,
        tf.tensor2d(avail.subarray(0, M * A), [M, A]),
        U,
        N,
      );
      return { probs: out.probs.dataSync() as Float32Array, value: out.value.dataSync() as Float32Array };
    });
  }

  async round(): Promise<RoundResult> {
    const { tf, cfg, N, B, A, geo } = this;
    const env = this.ctx.env;
    const rng = this.ctx.rng;
    const pk = geo.P * geo.Kc;
    const rows = B * N;
    const ro = this.rollout;
    ro.begin();

    // ---------------------------------------------------------------- rollout
    let entSum = 0;
    let entN = 0;
    const { T, envSteps, episodes } = ro.run({
      act: (t) => {
        const base = t * rows;
        for (let r = 0; r < rows; r++) {
          writeInput(geo, cfg.kernel, env.obs, r * geo.O, this.patches, (base + r) * pk, this.extras, (base + r) * geo.E);
          for (let k = 0; k < A; k++) this.avail[(base + r) * A + k] = env.actionMask[r * A + k];
        }
        const { probs, value } = this.infer(
          this.patches.subarray(base * pk),
          this.extras.subarray(base * geo.E),
          this.avail.subarray(base * A),
          B,
        );
        for (let b = 0; b < B; b++) {
          for (let a = 0; a < N; a++) {
            const r = b * N + a;
            this.values[base + r] = value[r];
            if (!ro.valid[t * B + b]) {
              ro.actions[r] = 0;
              this.acts[base + r] = 0;
              this.oldLogp[base + r] = 0;
              continue;
            }
            const act = sampleIndex(probs, r * A, A, rng);
            ro.actions[r] = act;
            this.acts[base + r] = act;
            this.oldLogp[base + r] = Math.log(probs[r * A + act] + 1e-10);
            let h = 0;
            for (let k = 0; k < A; k++) {
              const p = probs[r * A + k];
              if (p > 0) h -= p * Math.log(p);
            }
            entSum += h;
            entN++;
          }
        }
      },
      observe: (t) => {
        for (let r = 0; r < rows; r++) this.rews[t * rows + r] = env.rewards[r];
      },
      onEnd: (b) => {
        for (let a = 0; a < N; a++) {
          const r = b * N + a;
          writeInput(geo, cfg.kernel, env.obs, r * geo.O, this.finalPatches, r * pk, this.finalExtras, r * geo.E);
        }
      },
    });

    // ---------------------------------------------------------------- returns (lambda = 1)
    const M = rows;
    const masks = new Float32Array(T * M);
    const terminated = new Float32Array(T * M);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let a = 0; a < N; a++) masks[t * M + b * N + a] = ro.valid[t * B + b];
    const vals = new Float32Array((T + 1) * M);
    vals.set(this.values.subarray(0, T * M));
    const finalAvail = new Float32Array(M * A).fill(1);
    const fin = this.infer(this.finalPatches, this.finalExtras, finalAvail, B);
    for (let b = 0; b < B; b++) {
      const t = ro.endStep[b];
      for (let a = 0; a < N; a++) {
        if (ro.endTrunc[b]) vals[(t + 1) * M + b * N + a] = fin.value[b * N + a];
        else terminated[t * M + b * N + a] = 1;
      }
    }
    const { advantages, returns } = gae(this.rews.subarray(0, T * M), vals, masks, terminated, T, M, cfg.gamma, 1);
    if (cfg.advantageNorm) normaliseAdvantages(advantages, masks, T, M);

    // ---------------------------------------------------------------- PPO update
    if (cfg.lrDecayRounds > 0) this.opt.lr = cfg.lr * Math.max(0, 1 - this.updates / cfg.lrDecayRounds);
    const units: number[] = [];
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (ro.valid[t * B + b]) units.push(t * B + b);
    let lossA = 0;
    let lossV = 0;
    let entropy = 0;
    let clipFrac = 0;
    let gradNorm = 0;
    let selMax = 0;
    let steps = 0;
    const mbCount = Math.min(cfg.minibatches, units.length);
    for (let ep = 0; ep < cfg.epochs; ep++) {
      // Fisher-Yates with the run's Rng.
      for (let i = units.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const x = units[i];
        units[i] = units[j];
        units[j] = x;
      }
      for (let mb = 0; mb < mbCount; mb++) {
        const lo = Math.floor((mb * units.length) / mbCount);
        const hi = Math.floor(((mb + 1) * units.length) / mbCount);
        const U = hi - lo;
        const Mb = U * N;
        const P = new Float32Array(Mb * pk);
        const X = new Float32Array(Mb * geo.E);
        const AV = new Float32Array(Mb * A);
        const OH = new Float32Array(Mb * A);
        const OLD = new Float32Array(Mb);
        const ADV = new Float32Array(Mb);
        const RET = new Float32Array(Mb);
        for (let k = 0; k < U; k++) {
          const src = units[lo + k] * N; // (t * B + b) * N = row of agent 0 in [t][b][a]
          for (let a = 0; a < N; a++) {
            const s = src + a;
            const d = k * N + a;
            P.set(this.patches.subarray(s * pk, (s + 1) * pk), d * pk);
            if (geo.E > 0) X.set(this.extras.subarray(s * geo.E, (s + 1) * geo.E), d * geo.E);
            AV.set(this.avail.subarray(s * A, (s + 1) * A), d * A);
            OH[d * A + this.acts[s]] = 1;
            OLD[d] = this.oldLogp[s];
            ADV[d] = advantages[s];
            RET[d] = returns[s];
          }
        }
        const stats = tf.tidy(() => {
          const pT = tf.tensor2d(P, [Mb * geo.P, geo.Kc]);
          const xT = geo.E > 0 ? tf.tensor2d(X, [Mb, geo.E]) : null;
          const mT = tf.tensor2d(AV, [Mb, A]);
          const ohT = tf.tensor2d(OH, [Mb, A]);
          const oldT = tf.tensor1d(OLD);
          const advT = tf.tensor1d(ADV);
          const retT = tf.tensor1d(RET);
          let parts: number[] = [];
          const { grads } = this.net.params.grads(() => {
            const out = this.net.forward(pT, xT, mT, U, N);
            const { logp, entropy: H } = logProbAndEntropy(tf, out.probs, ohT);
            const { surrogate, ratio } = clippedSurrogate(tf, logp, oldT, advT, cfg.clip);
            const actor = tf.neg(tf.mean(surrogate));
            const ent = tf.mean(H);
            const value = tf.mean(huber(tf, tf.sub(retT, out.value), cfg.huberDelta));
            const clipped = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), cfg.clip), 'float32'));
            parts = [actor.dataSync()[0], value.dataSync()[0], ent.dataSync()[0], clipped.dataSync()[0], tf.mean(tf.max(out.selection, -1)).dataSync()[0]];
            return tf.add(tf.sub(actor, tf.mul(ent, cfg.entropyCoef)), tf.mul(value, cfg.valueCoef)) as never;
          });
          const norm = clipByGlobalNorm(tf, grads, cfg.gradClip);
          this.opt.step(grads);
          return [...parts, norm];
        });
        lossA += stats[0];
        lossV += stats[1];
        entropy += stats[2];
        clipFrac += stats[3];
        selMax += stats[4];
        gradNorm += stats[5];
        steps++;
      }
    }
    this.updates++;
    const n = Math.max(1, steps);
    return {
      episodes,
      envSteps,
      stats: {
        'losses/actor': lossA / n,
        'losses/value': lossV / n,
        'losses/entropy': entropy / n,
        'charts/entropy': entN > 0 ? entSum / entN : 0,
        'charts/clip_fraction': clipFrac / n,
        'charts/selection_max': selMax / n,
        'charts/grad_norm': gradNorm / n,
        'charts/lr': this.opt.lr,
      },
    };
  }

  private parts(): LearnerParts {
    return { algo: 'saf', version: 1, ctx: this.ctx, rollout: this.rollout, params: { 'net/': this.net.params }, optimisers: { adam: this.opt } };
  }

  async save(): Promise<Checkpoint> {
    return saveLearner(this.parts(), { updates: this.updates });
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts());
    this.updates = counter(e, 'updates', 'saf');
  }

  dispose(): void {
    this.opt.dispose();
    this.net.params.dispose();
  }
}

// ================================================================= evaluation policy

class SafPolicy implements Policy {
  private readonly net: SafNet;
  private readonly geo: Geometry;
  private readonly cfg: SafConfig;
  private readonly probs: Float64Array;

  constructor(private readonly ctx: PolicyContext) {
    registerGradients(ctx.tf);
    this.cfg = parseConfig(ctx.config);
    this.geo = geometry(ctx.spec, this.cfg.kernel);
    this.net = new SafNet(ctx.tf, this.geo, this.cfg, ctx.spec.numActions, ctx.rng);
    if (ctx.checkpoint) this.net.params.loadRecords(ctx.checkpoint.tensors, 'net/');
    this.probs = new Float64Array(ctx.spec.numActions);
  }

  resetCopy(): void {}

  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const tf = this.ctx.tf;
    const { geo, cfg } = this;
    const B = env.numEnvs;
    const N = env.spec.numAgents;
    const A = env.spec.numActions;
    const M = B * N;
    const patches = new Float32Array(M * geo.P * geo.Kc);
    const extras = new Float32Array(M * geo.E);
    for (let r = 0; r < M; r++) writeInput(geo, cfg.kernel, env.obs, r * geo.O, patches, r * geo.P * geo.Kc, extras, r * geo.E);
    const probs = tf.tidy(() => {
      const out = this.net.infer(
        tf.tensor2d(patches, [M * geo.P, geo.Kc]),
        geo.E > 0 ? tf.tensor2d(extras, [M, geo.E]) : null,
        tf.tensor2d(Float32Array.from(env.actionMask), [M, A]),
        B,
        N,
      );
      return out.probs.dataSync() as Float32Array;
    });
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < N; a++) {
        const r = b * N + a;
        if (env.finished[b]) {
          actions[r] = 0;
          continue;
        }
        if (greedy) actions[r] = argmaxMasked(probs, r * A, env.actionMask, r * A, A);
        else {
          for (let k = 0; k < A; k++) this.probs[k] = probs[r * A + k];
          actions[r] = sampleIndex(this.probs, 0, A, this.ctx.rng);
        }
      }
    }
  }

  dispose(): void {
    this.net.params.dispose();
  }
}

// ================================================================= entry

export const safEntry: AlgoEntry = {
  id: 'saf',
  title: 'SAF: stateful active facilitator, knowledge source + policy pool, PPO (Malenfant & Richards 2025, Table 5)',
  schema: safSchema,
  accepts: (spec) => safProblems(spec),
  createTrainer: (ctx: TrainContext) => new SafTrainer(ctx),
  createPolicy: (ctx: PolicyContext) => new SafPolicy(ctx),
};
