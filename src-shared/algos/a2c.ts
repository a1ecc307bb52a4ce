/**
 * A2C as DRIMA runs it (shared/specs/drima.md §1.8; the paper gives no A2C details and PARL's
 * A2C is a distributed Atari learner, so only its loss shape is reused): one actor and one
 * critic per agent, no parameter sharing, one update per round (a 25-step matrix-game segment
 * or one particle episode in each copy).
 *
 * DRIMA's variants are not this file's business: the reward it learns from is `env.rewards`,
 * which the reward-interaction wrapper (`train.interaction`) makes d (Ind/Dri/naive) or the
 * summed R (Ctde). The one learner-side difference of -Ctde is the critic input (`critic`):
 *   local:       V_i(o_i), MLP 64-64 ReLU (A2C-Ind/Dri/naive);
 *   centralised: V_i(o_1, ..., o_N), the concatenation of every agent's observation row
 *                (fixed agent order), one critic per agent (A2C-Ctde; drima.md's choice).
 *
 * Per step, delta_t = d_t + gamma (1 - terminated) V(o_{t+1}) - V(o_t) (Algorithm 1's TD error,
 * discounted as §2.2 allows); at a time-limit cut the last step bootstraps from the final
 * observation. Advantages are GAE over those deltas with `gaeLambda` (default 0: the one-step
 * TD advantage of the spec; 1: Monte-Carlo). Losses, means over valid steps and agents:
 *   critic 1/2 (target - V(o_t))^2, target = advantage + V(o_t) (stop-gradient);
 *   actor  -advantage * log pi(a_t | o_t) - entropyCoef * H(pi(. | o_t)).
 * Defaults (drima.md §1.8): actor Adam 5e-4, critic Adam 1e-3 (critic >= actor, the paper's two
 * time scales), entropy 0.01, global-norm clip 10, gamma 0.99 (matrix games; presets set 0.95
 * on the particle tasks), hidden 64-64 ReLU. Cairn's choice: the clip is over each network
 * family (all agents' actors together, all critics together), since the groups are one set of
 * tensors; Adam is elementwise, so grouping changes nothing else.
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import { learnerAgents } from '../envs/spaces';
import type { EnvSpec, VecEnv } from '../envs/types';
import type { Rng } from '../rng';
import { argmaxMasked, entropyFromLogProbs, maskedLogProbs, maskedProbs, sampleIndex } from '../nn/categorical';
import { clipByGlobalNorm } from '../nn/clip';
import { Mlp } from '../nn/mlp';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tf } from '../nn/tf';
import { envProblems } from './core/compat';
import { loadLearner, saveLearner } from './core/checkpoint';
import { LockstepRollout } from './core/rollout';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

export const a2cSchema = {
  critic: {
    type: 'enum',
    default: 'local',
    values: ['local', 'centralised'],
    doc: "Critic input: the agent's own observation (A2C-Ind/Dri/naive) or every agent's observation concatenated (A2C-Ctde).",
  },
  lr: { type: 'float', default: 5e-4, min: 0, doc: 'Actor Adam learning rate (drima.md §1.8: 5e-4).' },
  criticLr: { type: 'float', default: 1e-3, min: 0, doc: 'Critic Adam learning rate (drima.md §1.8: 1e-3, >= the actor).' },
  gamma: { type: 'float', default: 0.99, min: 0, max: 1, doc: 'Discount (drima.md: 0.99 on matrix games, 0.95 on the particle tasks).' },
  gaeLambda: { type: 'float', default: 0, min: 0, max: 1, doc: 'GAE lambda over the TD errors: 0 = one-step TD advantage (drima.md default), 1 = Monte-Carlo.' },
  entropyCoef: { type: 'float', default: 0.01, min: 0, doc: 'Entropy bonus coefficient (drima.md: 0.01).' },
  gradClip: { type: 'float', default: 10, min: 0, doc: 'Global-norm gradient clip per network family, 0 = none (drima.md: 10).' },
  hiddenDim: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Width of both hidden layers of actors and critics (drima.md: 64-64 ReLU).' },
} as const satisfies Schema;

type A2cConfig = Values<typeof a2cSchema>;

const NEEDS = { actions: 'discrete', controllers: ['learner', 'script'] } as const;

/** Rows [L, R, O] of the given agents from a [R, N, O] block (R copies or steps x copies). */
function gatherAgents(src: Float32Array, srcOff: number, R: number, N: number, O: number, agents: readonly number[], dst: Float32Array, dstR: number, dstOff: number): void {
  agents.forEach((i, k) => {
    for (let r = 0; r < R; r++) {
      const s = srcOff + (r * N + i) * O;
      dst.set(src.subarray(s, s + O), (k * dstR + dstOff + r) * O);
    }
  });
}

/** Per learner agent actors [L groups], shared by the trainer and the evaluation policy. */
class A2cActors {
  readonly agents: number[];
  readonly params: ParamSet;
  readonly net: Mlp;
  constructor(tf: Tf, spec: EnvSpec, hidden: number, rng: Rng) {
    this.agents = learnerAgents(spec);
    this.params = new ParamSet(tf);
    this.net = new Mlp(tf, this.params, 'actor', [spec.obsSize, hidden, hidden, spec.numActions], 'relu', this.agents.length, rng);
  }

  /**
   * Actions of the learner agents for env's current observations: a masked sample (or argmax)
   * per unfinished copy; rows of finished copies get 0.
   */
  act(tf: Tf, env: VecEnv, actions: Int32Array, greedy: boolean, rng: Rng, probs: Float64Array, x: Float32Array): number {
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const B = env.numEnvs;
    const L = this.agents.length;
    gatherAgents(env.obs, 0, B, N, O, this.agents, x, B, 0);
    const out = tf.tidy(() => this.net.infer(tf.tensor3d(x, [L, B, O])));
    const logits = out.dataSync();
    out.dispose();
    let ent = 0;
    this.agents.forEach((i, k) => {
      for (let b = 0; b < B; b++) {
        const row = b * N + i;
        if (env.finished[b]) {
          actions[row] = 0;
          continue;
        }
        const off = (k * B + b) * A;
        if (greedy) actions[row] = argmaxMasked(logits, off, env.actionMask, row * A, A);
        else {
          maskedProbs(logits, off, env.actionMask, row * A, A, 0, probs, 0);
          actions[row] = sampleIndex(probs, 0, A, rng);
          for (let a = 0; a < A; a++) if (probs[a] > 0) ent -= probs[a] * Math.log(probs[a]);
        }
      }
    });
    return ent;
  }
}

class A2cTrainer implements Trainer {
  private readonly cfg: A2cConfig;
  private readonly tf: Tf;
  private readonly rollout: LockstepRollout;
  private readonly actors: A2cActors;
  private readonly criticParams: ParamSet;
  private readonly critic: Mlp;
  private readonly actorOpt: Adam;
  private readonly criticOpt: Adam;
  private readonly L: number;
  private readonly cIn: number;
  // Round buffers: slots t = 0..T (T + 1 observation slots per copy).
  private readonly obs: Float32Array; // [T + 1, B, N, O]
  private readonly masks: Uint8Array; // [T, B, N, A]
  private readonly acts: Int32Array; // [T, B, N]
  private readonly rews: Float32Array; // [T, B, N]
  private readonly probs: Float64Array;
  private readonly actX: Float32Array;

  constructor(private readonly ctx: TrainContext) {
    const tf = (this.tf = ctx.tf);
    const cfg = (this.cfg = typedValues('algo', a2cSchema, ctx.config));
    const spec = ctx.env.spec;
    const B = ctx.env.numEnvs;
    const { numAgents: N, obsSize: O, numActions: A } = spec;
    this.rollout = new LockstepRollout(ctx.env, ctx.seed);
    this.actors = new A2cActors(tf, spec, cfg.hiddenDim, ctx.rng);
    const L = (this.L = this.actors.agents.length);
    this.cIn = cfg.critic === 'local' ? O : L * O;
    this.criticParams = new ParamSet(tf);
    this.critic = new Mlp(tf, this.criticParams, 'critic', [this.cIn, cfg.hiddenDim, cfg.hiddenDim, 1], 'relu', L, ctx.rng);
    this.actorOpt = new Adam(tf, this.actors.params, { lr: cfg.lr });
    this.criticOpt = new Adam(tf, this.criticParams, { lr: cfg.criticLr });
    const T = spec.episodeLimit;
    this.obs = new Float32Array((T + 1) * B * N * O);
    this.masks = new Uint8Array(T * B * N * A);
    this.acts = new Int32Array(T * B * N);
    this.rews = new Float32Array(T * B * N);
    this.probs = new Float64Array(A);
    this.actX = new Float32Array(L * B * O);
  }

  /** Critic inputs [L, R, cIn] for slots 0..S-1 (R = S * B rows, slot-major). */
  private criticInput(S: number): Float32Array {
    const { numAgents: N, obsSize: O } = this.ctx.env.spec;
    const B = this.ctx.env.numEnvs;
    const L = this.L;
    const R = S * B;
    const agents = this.actors.agents;
    const x = new Float32Array(L * R * this.cIn);
    if (this.cfg.critic === 'local') {
      gatherAgents(this.obs, 0, R, N, O, agents, x, R, 0);
      return x;
    }
    for (let r = 0; r < R; r++) {
      const joint = new Float32Array(this.cIn);
      agents.forEach((i, k) => joint.set(this.obs.subarray((r * N + i) * O, (r * N + i + 1) * O), k * O));
      for (let k = 0; k < L; k++) x.set(joint, (k * R + r) * this.cIn);
    }
    return x;
  }

  async round(): Promise<RoundResult> {
    const { tf, cfg } = this;
    const env = this.ctx.env;
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const B = env.numEnvs;
    const L = this.L;
    const agents = this.actors.agents;
    const ro = this.rollout;
    const BNO = B * N * O;
    let ent = 0;
    ro.begin();
    const res = ro.run({
      act: (t) => {
        this.obs.set(env.obs, t * BNO);
        this.masks.set(env.actionMask, t * B * N * A);
        ent += this.actors.act(tf, env, ro.actions, false, this.ctx.rng, this.probs, this.actX);
        this.acts.set(ro.actions, t * B * N);
      },
      observe: (t) => this.rews.set(env.rewards, t * B * N),
      onEnd: (b, slot) => this.obs.set(env.obs.subarray(b * N * O, (b + 1) * N * O), slot * BNO + b * N * O),
    });
    const T = res.T;
    const R = T * B;

    // ---------------------------------------------------------------- values and advantages
    const vOut = tf.tidy(() => this.critic.infer(tf.tensor3d(this.criticInput(T + 1), [L, (T + 1) * B, this.cIn])));
    const vAll = vOut.dataSync(); // [L, (T + 1) B]
    vOut.dispose();
    const adv = new Float32Array(L * R);
    const target = new Float32Array(L * R);
    const valid = new Float32Array(R);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) valid[t * B + b] = ro.valid[t * B + b];
    const gl = cfg.gamma * cfg.gaeLambda;
    for (let k = 0; k < L; k++) {
      const i = agents[k];
      const V = (t: number, b: number) => vAll[k * (T + 1) * B + t * B + b];
      for (let b = 0; b < B; b++) {
        let g = 0;
        const end = ro.endStep[b];
        for (let t = end; t >= 0; t--) {
          const term = t === end && !ro.endTrunc[b] ? 1 : 0;
          const delta = this.rews[(t * B + b) * N + i] + cfg.gamma * (1 - term) * V(t + 1, b) - V(t, b);
          g = t === end ? delta : delta + gl * g;
          adv[k * R + t * B + b] = g;
          target[k * R + t * B + b] = g + V(t, b);
        }
      }
    }

    // ---------------------------------------------------------------- update
    const nValid = valid.reduce((a, x) => a + x, 0) * L;
    const x = new Float32Array(L * R * O);
    gatherAgents(this.obs, 0, R, N, O, agents, x, R, 0);
    const hot = new Float32Array(L * R * A);
    const mask = new Float32Array(L * R * A);
    agents.forEach((i, k) => {
      for (let r = 0; r < R; r++) {
        hot[(k * R + r) * A + this.acts[r * N + i]] = 1;
        for (let a = 0; a < A; a++) mask[(k * R + r) * A + a] = this.masks[(r * N + i) * A + a];
      }
    });
    const validL = new Float32Array(L * R);
    for (let k = 0; k < L; k++) validL.set(valid, k * R);
    const xs = tf.tensor3d(x, [L, R, O]);
    const w = tf.tensor2d(validL, [L, R]);
    const advT = tf.tensor2d(adv, [L, R]);
    const hotT = tf.tensor3d(hot, [L, R, A]);
    const maskT = tf.tensor3d(mask, [L, R, A]);
    const cx = tf.tensor3d(this.criticInput(T), [L, R, this.cIn]);
    const tgt = tf.tensor2d(target, [L, R]);
    const a = this.actors.params.grads(() => {
      const logp = maskedLogProbs(tf, this.actors.net.forward(xs, false), maskT);
      const lpa = tf.sum(tf.mul(logp, hotT), -1);
      const h = entropyFromLogProbs(tf, logp, maskT);
      const pg = tf.neg(tf.sum(tf.mul(tf.mul(lpa, advT), w)));
      const eb = tf.sum(tf.mul(h, w));
      return tf.div(tf.sub(pg, tf.mul(eb, cfg.entropyCoef)), nValid) as never;
    });
    const actorLoss = a.value;
    const actorNorm = clipByGlobalNorm(tf, a.grads, cfg.gradClip);
    this.actorOpt.step(a.grads);
    const c = this.criticParams.grads(() => {
      const v = tf.reshape(this.critic.forward(cx, false), [L, R]);
      return tf.div(tf.sum(tf.mul(tf.mul(tf.square(tf.sub(tgt, v)), 0.5), w)), nValid) as never;
    });
    const criticLoss = c.value;
    const criticNorm = clipByGlobalNorm(tf, c.grads, cfg.gradClip);
    this.criticOpt.step(c.grads);
    for (const g of [...Object.values(a.grads), ...Object.values(c.grads), xs, w, advT, hotT, maskT, cx, tgt]) g.dispose();
    const entropy = ent / Math.max(1, res.envSteps * L);
    return {
      episodes: res.episodes,
      envSteps: res.envSteps,
      stats: { 'losses/actor': actorLoss, 'losses/critic': criticLoss, 'losses/actor_grad_norm': actorNorm, 'losses/critic_grad_norm': criticNorm, 'charts/entropy': entropy },
    };
  }

  private parts() {
    return {
      algo: 'a2c',
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'actor/': this.actors.params, 'critic/': this.criticParams },
      optimisers: { actor: this.actorOpt, critic: this.criticOpt },
    };
  }

  async save(): Promise<Checkpoint> {
    return saveLearner(this.parts());
  }

  load(ckpt: Checkpoint): void {
    loadLearner(ckpt, this.parts());
  }

  dispose(): void {
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.actors.params.dispose();
    this.criticParams.dispose();
  }
}

class A2cPolicy implements Policy {
  private readonly actors: A2cActors;
  private readonly probs: Float64Array;
  private readonly x: Float32Array;
  constructor(private readonly ctx: PolicyContext) {
    const cfg = typedValues('algo', a2cSchema, ctx.config);
    this.actors = new A2cActors(ctx.tf, ctx.spec, cfg.hiddenDim, ctx.rng);
    if (ctx.checkpoint) this.actors.params.loadRecords(ctx.checkpoint.tensors, 'actor/');
    this.probs = new Float64Array(ctx.spec.numActions);
    this.x = new Float32Array(this.actors.agents.length * ctx.numEnvs * ctx.spec.obsSize);
  }
  resetCopy(): void {}
  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    this.actors.act(this.ctx.tf, env, actions, greedy, this.ctx.rng, this.probs, this.x);
  }
  dispose(): void {
    this.actors.params.dispose();
  }
}

export const a2cEntry: AlgoEntry = {
  id: 'a2c',
  title: 'A2C: per-agent actor and critic (local or centralised), one-step TD advantage (DRIMA §1.8)',
  schema: a2cSchema,
  accepts: (spec) => envProblems(NEEDS, spec),
  createTrainer: (ctx) => new A2cTrainer(ctx),
  createPolicy: (ctx) => new A2cPolicy(ctx),
};
