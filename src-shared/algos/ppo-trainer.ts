/**
 * The recurrent PPO machinery MAPPO (algos/mappo.ts) and IPPO (algos/ippo.ts) share, as in
 * Malenfant & Richards 2025, Tables 1-2 (Yu et al. 2022's MAPPO; specs/manitokan-learners.md
 * §4): the trainer and the evaluation policy, on the inputs of ppo-inputs.ts (rows read from
 * the env's declared layouts), the networks of nn/ppo-net.ts, the shared fields of
 * ppo-schema.ts and the critic step of ppo-critic-step.ts. The two variants differ only in which networks are shared and what the
 * critic sees (`PpoVariant`); their schemas, paper-vs-released-code tables and registry
 * entries live in their own files.
 *
 * Networks (Table 1; the same layer stack for actor and critic):
 *   "CNN (32 out channels, kernel 3, ReLU)" -> MLP 32+extras -> 64 (ReLU) -> MLP 64 -> 64 (ReLU)
 *   -> GRU 64 with LayerNorm on its output -> head (actor: Categorical logits 64 -> 6; critic:
 *   linear 64 -> 1).
 * - The CNN is a 3x3 convolution without padding (nn/conv.ts: im2col + one shared dense layer).
 *   On the agent's 3x3x3 egocentric view that is ONE patch, i.e. exactly a dense layer 27 -> 32
 *   over the view; on the 6x6x3 global state it is a real convolution (16 patches x 32
 *   channels -> 512 features). Channels = hiddenDim / 2 (32 for 64, as the on-policy CNN base).
 * - Extras are concatenated AFTER the CNN output, before the first MLP layer: the door/key
 *   flags and the last-action one-hot for the actor, the agents' positions and directions for
 *   the state critic (the released code instead reshapes view + flags into one image for its
 *   CNN; a choice of ours, because flags and one-hots are not pixels).
 * - Table 1 lists "MLP (input = 32, output = 64, ReLU)" twice, then "MLP (64 -> 64)". We read
 *   the repeated row as a duplicate and build 32 -> 64 -> 64, which is exactly the on-policy CNN
 *   base (conv -> Linear(32, 64) -> Linear(64, 64)) that the released code uses.
 * - The critic's "MLP (input = 64, output = 1, ReLU)": the value head is linear (a ReLU would
 *   forbid negative values, and MAPPO's value layer is linear); the ReLU is the hidden layers'.
 * - Initialisation (paper silent; MAPPO / released code, use_orthogonal): orthogonal weights,
 *   zero biases; gain sqrt(2) for ReLU layers, 1 for GELU; GRU weights orthogonal with gain 1,
 *   biases 0; LayerNorm gain 1, bias 0; actor head gain 0.01 (Table 1 "Gain"), value head gain
 *   1. (The released critic's output layer `fc3` keeps PyTorch's default init: not reproduced.)
 * - Inputs are the env's raw integers (paper silent); `inputScale` (released code: 1/255, the
 *   CNN base's x / 255) scales the env values, never the last-action one-hot.
 *
 * One round = one paper "episode": every copy plays one episode in lock-step (finished copies
 * are masked), then the PPO update on that batch:
 *   rollout  one actor call and one critic call per step for all rows (B x N actor rows; B
 *            state rows for MAPPO's critic), logits read back once and sampled on the CPU with
 *            the Rng; the GRU states at every chunk start (t = 0, L, 2L, ...) are stored.
 *   returns  GAE(gamma 0.99, lambda) on each agent's own reward, V = the critic's value (for
 *            MAPPO the one shared V(s_t) of the copy, for both agents); no bootstrap after a
 *            true termination, V(final state) after the time limit. Advantages normalised.
 *   update   `epochs` passes; each shuffles the (chunk, copy) units that hold valid steps (Rng)
 *            and splits them into `minibatches` minibatches ("Mini-batch 1" in Tables 1-2 read
 *            as ONE minibatch = the whole batch, on-policy's num_mini_batch = 1). A minibatch
 *            runs the recurrent networks over its [chunk x units] sequences at once, each
 *            chunk starting from the hidden state stored in the rollout (MAPPO's recurrent
 *            generator), then one Adam step for the actor (clipped surrogate + entropy bonus)
 *            and one for the critic (Huber value loss, clipped around the rollout value).
 *   speed    the minibatch's inputs are staged on the CPU in [group][step][sequence] order and
 *            uploaded once per group; the feed-forward layers and the gates' input side run
 *            once over all steps, and the recurrent part (hidden side of the gates, LayerNorm)
 *            is one op with a hand-written backward (nn/ppo-gru.ts): ~3x fewer kernels than a
 *            per-step network, with bit-identical results (parameter gradients are summed
 *            step by step in the tape's order; see `PpoNet.sequence`, docs/performance.md).
 *   threads  `updateThreads: 2` runs the critic's side on a helper thread (algos/ppo-critic-step.ts):
 *            its rollout forward beside the actor's (each step's rows posted as written; the
 *            values come back before the returns), the staging of its minibatches from the
 *            rollout it holds, and its minibatch steps while this thread runs the actor's;
 *            same bits (`ppoThreadOptions.helperRollout` off: only the steps). It pays
 *            only on a free core (1.6x on an idle 2-core machine, ~15% worse on a loaded one), so
 *            the default 'auto' takes the host's per-run hint (algos/ppo-threads-hint.ts: the
 *            runner weighs cores, its live runs and the load average), 1 without a host
 *            (docs/performance.md, "MAPPO and IPPO on two threads").
 *
 *   loss  actor  -sum w min(r A, clip(r, 1 - 0.2, 1 + 0.2) A) - 1e-4 sum w H(pi)
 *         critic 1 * sum w max(huber_10(R - V), huber_10(R - V_clip)),
 *                V_clip = V_old + clip(V - V_old, -0.2, 0.2)
 *   w = valid-step mask / number of valid steps: over all rows (MAPPO), per agent (IPPO).
 *
 * Extensions for the exploration learners (EITI, EDTI, Social Influence; algos/eiti.ts etc.):
 * - `inputs: 'features'`: observations without a planes block (the sparse grid tasks' one-hot
 *   vectors). The first layer is dense over the whole env observation with hiddenDim outputs
 *   (instead of hiddenDim / 2 convolution channels), and there is no GRU: conv -> fc1 -> fc2 ->
 *   head is an MLP of three hidden layers, the PPO2 "mlp" network those papers ran.
 * - `hooks` (PpoHooks below): a learner sees every step (observations before and after, the
 *   actions and the policy's probabilities), adds intrinsic terms to each agent's reward after
 *   the rollout, and may ask for extra value heads, each regressed on its own reward stream
 *   (EDTI's extrinsic and intrinsic values). The policy's advantage always comes from head 0
 *   on the shaped reward. Hook state (counts, a model of other agents) is checkpointed with
 *   the learner.
 */
import { type Schema, type Values, typedValues } from '../config/schema';
import type { VecEnv } from '../envs/types';
import { entropyFromLogProbs, maskedLogProbs, maskedProbs, sampleIndex } from '../nn/categorical';
import { writePolicyActions } from './core/act';
import { registerGradients } from '../nn/gradients';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import {
  ValueNorm,
  clipByGroupNorm,
  clippedSurrogate,
  gae,
  normaliseAdvantages,
} from '../nn/ppo';
import { CriticRolloutStore, criticStep, ppoCriticThreadFactory, type CriticJob, type CriticResult, type PpoCriticThread } from './ppo-critic-step';
import { UpdateHelper } from './ppo-threads-hint';
import type { Tensor, Tf } from '../nn/tf';
import { LockstepRollout } from './core/rollout';
import { loadLearner, saveLearner, counter, type LearnerParts } from './core/checkpoint';
import { PpoNet, ppoSequencePath, type InputShape } from '../nn/ppo-net';
import type { ippoSchema } from './ippo';
import type { mappoSchema } from './mappo';

import type { Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';
import { actorSource, envLayout, inputShape, sides, writeRow, type EnvLayout, type Sides } from './ppo-inputs';

// The pieces split out of this file, still importable from here.
export { PPO_FEATURE_NEEDS, PPO_NEEDS, ppoProblems } from './ppo-inputs';
export { ppoCommonSchema, ppoMlpSchema } from './ppo-schema';

/**
 * Resolved hyperparameters of either variant, typed from their schemas (IPPO has no
 * actorSharing field: its actors are always per agent).
 */
export type PpoConfig = Values<typeof mappoSchema> | (Values<typeof ippoSchema> & { actorSharing: 'per-agent' });

/**
 * What distinguishes IPPO from MAPPO beyond hyperparameters. Independent learners (IPPO):
 * per-agent actors and critics, each critic on one agent's rows, losses averaged and
 * advantages normalised per agent. Otherwise (MAPPO) one critic value per copy shared by the
 * agents and means over all rows.
 */
export interface PpoVariant {
  readonly id: string;
  /** mappoSchema, ippoSchema, or a schema extending ippoSchema (independent variants). */
  readonly schema: Schema;
  readonly independent: boolean;
  /** 'planes' (default): CNN + GRU over a leading planes block; 'features': an MLP over the whole observation. */
  readonly inputs?: 'planes' | 'features';
  /** Reward shaping and extra value heads, built once per trainer (after its networks). */
  readonly hooks?: (ctx: PpoHookContext) => PpoHooks;
}

function parseConfig(variant: PpoVariant, values: Values): PpoConfig {
  const typed = typedValues('algo', variant.schema, values) as PpoConfig;
  const cfg: PpoConfig = variant.independent ? { ...typed, actorSharing: 'per-agent' } : typed;
  if (variant.inputs !== 'features' && cfg.hiddenDim % 2 !== 0) throw new Error(`${variant.id}: hiddenDim must be even (the CNN has hiddenDim / 2 channels), got ${cfg.hiddenDim}`);
  return cfg;
}

// ================================================================= hooks

/** What a hook factory gets: the trainer's context and its resolved config. */
export interface PpoHookContext {
  readonly train: TrainContext;
  /** The learner's resolved values (its own fields beside PPO's). */
  readonly config: Values;
}

/** After the rollout: what a hook reads and the reward arrays it writes. Columns are [agent][copy] (M = N B). */
export interface PpoShapeInput {
  readonly T: number;
  readonly N: number;
  readonly B: number;
  readonly A: number;
  /** [T, M] the policy head's rewards: the env's on entry; the hook adds its intrinsic terms. */
  readonly rewards: Float32Array;
  /** Per extra head h: [T, M] its reward stream, zero on entry. */
  readonly extraRewards: readonly Float32Array[];
  /** Per head (0 = policy value): [T + 1, M] values of the rollout's observations (slot T: bootstrap of time-limited copies, else 0). */
  readonly values: readonly Float32Array[];
  /** [T, B] 1 while copy b runs at step t. */
  readonly valid: Uint8Array;
  readonly endStep: Int32Array;
  readonly endTrunc: Uint8Array;
  /** [T, M, A] the policy's action probabilities at each step (masked softmax). */
  readonly probs: Float32Array;
  readonly gamma: number;
}

/** A learner's additions to the PPO round (all optional). */
export interface PpoHooks {
  /** Value heads besides the policy's (independent variants only; no valueNorm). */
  readonly extraHeads?: number;
  /** Step t's actions are chosen (`actions` [B, N]); `env.obs` still holds s_t. */
  beforeStep?(t: number, actions: Int32Array): void;
  /** Step t was taken: `env.obs` holds s_{t+1} (the final observation when an episode ended), `env.rewards` r_t. */
  afterStep?(t: number): void;
  /** Add the intrinsic terms; returns statistics for the round's log. */
  shape?(x: PpoShapeInput): Record<string, number>;
  /** Parameters and optimisers the checkpoint must hold (a model of other agents). */
  readonly params?: Readonly<Record<string, ParamSet>>;
  readonly optimisers?: Readonly<Record<string, Adam>>;
  /** JSON-able state (counts, counters) and its restore. */
  save?(): Record<string, unknown>;
  load?(state: Record<string, unknown>): void;
  dispose?(): void;
}

// ================================================================= trainer

/**
 * Where a round's time goes on the trainer's thread: when set (the bench's `--threads-profile`
 * harness, bench/ppo-threads.ts), called with a phase name as each phase ends. Unset it costs a
 * null check per phase.
 */
export const ppoTrace: { mark: ((phase: string) => void) | null } = { mark: null };

/**
 * What the helper thread carries besides the critic's update steps (same bits either way).
 * `helperRollout` (default): the critic's rollout forward (each step's rows posted as the
 * rollout writes them; values and chunk-start states come back before the returns) and the
 * staging of its minibatch inputs from the rollout it then holds, so only units and targets
 * cross threads per minibatch. Off: the helper gets staged input rows (~8 MB per MAPPO
 * minibatch) and this thread runs the critic's rollout (the path before; an A/B switch for
 * bench/ppo-threads.ts --ab helperRollout; docs/performance.md, "issue-15t").
 */
export const ppoThreadOptions: { helperRollout: boolean } = { helperRollout: true };

/** Shared trainer of IPPO and MAPPO. */
export class PpoTrainer implements Trainer {
  private readonly tf: Tf;
  private readonly cfg: PpoConfig;
  private readonly lay: EnvLayout;
  private readonly sd: Sides;
  private readonly N: number;
  private readonly B: number;
  private readonly A: number;
  private readonly L: number; // episode limit
  private readonly H: number;
  private readonly CL: number; // chunk length
  private readonly shA: InputShape;
  private readonly shC: InputShape;

  private readonly actor: PpoNet;
  private readonly critic: PpoNet;
  private readonly actorOpt: Adam;
  private readonly criticOpt: Adam;
  private readonly valueNorms: ValueNorm[];

  // Rollout storage, time-major, sized for the episode limit.
  private readonly aPatch: Float32Array; // [L][rowsA][P*K]
  private readonly aExtra: Float32Array; // [L][rowsA][E]
  /** The critic's rollout inputs, values and chunk-start states (the helper keeps its own copy when it carries the rollout). */
  private readonly cs: CriticRolloutStore;
  private readonly avail: Uint8Array; //   [L][rowsA][A]
  private readonly acts: Int32Array; //    [L][rowsA]
  private readonly oldLogp: Float32Array; // [L][rowsA]
  private readonly rews: Float32Array; //  [L][N][B]
  private readonly rollout: LockstepRollout;
  private readonly valid: Uint8Array; //   [L][B] (the rollout's)
  private readonly endStep: Int32Array;
  private readonly endTrunc: Uint8Array;
  private readonly hAStore: Float32Array; // [chunks][rowsA][H] actor state at chunk starts
  private hA: Float32Array;
  private hA2: Float32Array;
  private readonly probs: Float64Array;
  private readonly units: Int32Array;
  private readonly stage: Record<string, Float32Array> = {};

  // Counters (checkpointed).
  private updates = 0;
  /** The critic's helper thread (updateThreads 2), started at the first update. */
  private readonly helper: UpdateHelper<PpoCriticThread>;

  /** The learner's additions (none for IPPO/MAPPO), the number of value heads and the policy's probabilities per step. */
  private readonly hooks: PpoHooks | null;
  private readonly K: number;
  private readonly pi: Float32Array | null; // [L][rowsA][A]

  constructor(
    private readonly ctx: TrainContext,
    private readonly variant: PpoVariant,
  ) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    const cfg = parseConfig(variant, ctx.config);
    this.cfg = cfg;
    this.helper = new UpdateHelper(variant.id);
    const spec = ctx.env.spec;
    this.lay = envLayout(spec, variant.inputs);
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.A = spec.numActions;
    this.L = spec.episodeLimit;
    this.H = cfg.hiddenDim;
    this.CL = cfg.chunkLength;
    const { N, B, A, L, H } = this;
    this.sd = sides(variant, cfg, this.lay, N, B);
    const sd = this.sd;
    this.shA = inputShape(this.lay, sd.actorSrc, true);
    this.shC = inputShape(this.lay, sd.criticSrc, false);

    // Initialisation order (actor, critic, hooks) is part of what the seed determines.
    const recurrent = variant.inputs !== 'features';
    this.actor = new PpoNet(tf, this.shA, sd.GA, H, A, cfg.activation, cfg.outputGain, ctx.rng, recurrent);
    this.hooks = variant.hooks ? variant.hooks({ train: ctx, config: ctx.config }) : null;
    this.K = 1 + (this.hooks?.extraHeads ?? 0);
    if (this.K > 1 && (!variant.independent || cfg.valueNorm)) throw new Error(`${variant.id}: extra value heads need independent critics without valueNorm`);
    this.critic = new PpoNet(tf, this.shC, sd.GC, H, this.K, cfg.activation, 1, ctx.rng, recurrent);
    this.actorOpt = new Adam(tf, this.actor.params, { lr: cfg.lr, eps: cfg.adamEps });
    this.criticOpt = new Adam(tf, this.critic.params, { lr: cfg.criticLr, eps: cfg.adamEps });
    this.valueNorms = Array.from({ length: sd.GC }, () => new ValueNorm());

    const chunks = Math.ceil(L / this.CL);
    const { rowsA, rowsC } = sd;
    this.aPatch = new Float32Array(L * rowsA * this.shA.P * this.shA.K);
    this.aExtra = new Float32Array(L * rowsA * this.shA.E);
    this.cs = new CriticRolloutStore(this.shC, sd.GC, H, { rowsC, L, CL: this.CL, B, K: this.K });
    this.avail = new Uint8Array(L * rowsA * A);
    this.acts = new Int32Array(L * rowsA);
    this.oldLogp = new Float32Array(L * rowsA);
    this.pi = this.hooks ? new Float32Array(L * rowsA * A) : null;
    this.rews = new Float32Array(L * N * B);
    this.rollout = new LockstepRollout(ctx.env, ctx.seed, L);
    this.valid = this.rollout.valid;
    this.endStep = this.rollout.endStep;
    this.endTrunc = this.rollout.endTrunc;
    this.hAStore = new Float32Array(chunks * rowsA * H);
    this.hA = new Float32Array(rowsA * H);
    this.hA2 = new Float32Array(rowsA * H);
    this.probs = new Float64Array(A);
    this.units = new Int32Array(chunks * B);
  }

  /** The helper thread for the critic's steps, or null for one thread. */
  private criticThread(): PpoCriticThread | null {
    // Asked at every update (`end` brought the helper's state back, so closing it is safe).
    const c = this.critic;
    return this.helper.now(this.cfg.updateThreads, ppoCriticThreadFactory(), () => ({
      shape: this.shC,
      groups: c.groups,
      hidden: c.hidden,
      outputs: c.outputs,
      activation: c.activation,
      recurrent: c.recurrent,
      lr: this.cfg.criticLr,
      eps: this.cfg.adamEps,
      rollout: this.cs.dims,
    }));
  }

  /** A reusable staging buffer of n floats, zero-filled. */
  private buf(name: string, n: number): Float32Array {
    let a = this.stage[name];
    if (!a || a.length < n) {
      a = new Float32Array(n);
      this.stage[name] = a;
    }
    const v = a.subarray(0, n);
    v.fill(0);
    return v;
  }

  /** Fill the actor and critic input rows of slot t from the env buffers. */
  private writeInputs(t: number, actor: boolean, critic: boolean): void {
    const env = this.ctx.env;
    const { N, B, lay, sd, shA, shC } = this;
    const scale = this.cfg.inputScale;
    if (actor) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const r = t * sd.rowsA + a * B + b;
          writeRow(env, lay, sd.actorSrc, true, scale, a, b, this.aPatch, r * shA.P * shA.K, this.aExtra, r * shA.E);
        }
      }
    }
    if (critic) {
      const agents = sd.rowsC / B;
      for (let a = 0; a < agents; a++) {
        for (let b = 0; b < B; b++) {
          const r = t * sd.rowsC + a * B + b;
          writeRow(env, lay, sd.criticSrc, false, scale, a, b, this.cs.cPatch, r * shC.P * shC.K, this.cs.cExtra, r * shC.E);
        }
      }
    }
  }

  async round(): Promise<RoundResult> {
    const { tf, cfg, N, B, A, H, sd, shA } = this;
    const env = this.ctx.env;
    const rng = this.ctx.rng;
    const CL = this.CL;
    const { rowsA, rowsC, GA } = sd;

    // ---------------------------------------------------------------- rollout
    const ro = this.rollout;
    const live = this.valid;
    // The helper (if any) is chosen once per round: when it carries the critic's rollout it
    // gets the critic's state now and keeps it through the update.
    const thread = this.criticThread();
    const helperRollout = thread !== null && ppoThreadOptions.helperRollout;
    if (thread) thread.begin({ params: this.critic.params.toRecords(), opt: this.criticOpt.getState() });
    const cs = this.cs;
    const pkC = cs.pk;
    const EC = cs.E;
    // Slot t's critic rows to the helper, which runs the critic's forward beside the actor's.
    const postCritic = (t: number, chunkStart: boolean) =>
      thread!.rolloutStep(t, cs.cPatch.subarray(t * rowsC * pkC, (t + 1) * rowsC * pkC), cs.cExtra.subarray(t * rowsC * EC, (t + 1) * rowsC * EC), chunkStart);
    ro.begin();
    this.hA.fill(0);
    cs.reset();
    const pkA = shA.P * shA.K;
    const { T, envSteps, episodes } = ro.run({
      act: (t) => {
        ppoTrace.mark?.('ro-env');
        this.writeInputs(t, true, true);
        if (t % CL === 0) this.hAStore.set(this.hA, (t / CL) * rowsA * H);
        if (helperRollout) postCritic(t, t % CL === 0);
        const R = rowsA / GA;
        const xp = tf.tensor3d(this.aPatch.subarray(t * rowsA * pkA, (t + 1) * rowsA * pkA), [GA, R * shA.P, shA.K]);
        const xe = shA.E > 0 ? tf.tensor3d(this.aExtra.subarray(t * rowsA * shA.E, (t + 1) * rowsA * shA.E), [GA, R, shA.E]) : null;
        const logits = this.actor.step(xp, xe, R, this.hA, this.hA2);
        xp.dispose();
        xe?.dispose();
        [this.hA, this.hA2] = [this.hA2, this.hA];
        ppoTrace.mark?.('ro-actor');
        if (!helperRollout) {
          cs.step(tf, this.critic, t, t % CL === 0);
          ppoTrace.mark?.('ro-critic');
        }
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const r = a * B + b;
            const i = t * rowsA + r;
            if (!live[t * B + b]) {
              this.acts[i] = 0;
              this.oldLogp[i] = 0;
              this.avail.fill(1, i * A, (i + 1) * A); // keeps the masked log-softmax finite; weight 0
              this.pi?.fill(0, i * A, (i + 1) * A);
              ro.actions[b * N + a] = 0;
              continue;
            }
            const envRow = (b * N + a) * A;
            for (let k = 0; k < A; k++) this.avail[i * A + k] = env.actionMask[envRow + k];
            maskedProbs(logits, r * A, env.actionMask, envRow, A, 0, this.probs, 0);
            const act = sampleIndex(this.probs, 0, A, rng);
            if (this.pi) for (let k = 0; k < A; k++) this.pi[i * A + k] = this.probs[k];
            this.acts[i] = act;
            this.oldLogp[i] = Math.log(this.probs[act]);
            ro.actions[b * N + a] = act;
          }
        }
        this.hooks?.beforeStep?.(t, ro.actions);
        ppoTrace.mark?.('ro-sample');
      },
      observe: (t) => {
        for (let b = 0; b < B; b++) for (let a = 0; a < N; a++) this.rews[t * N * B + a * B + b] = env.rewards[b * N + a];
        this.hooks?.afterStep?.(t);
      },
    });
    ppoTrace.mark?.('rollout');
    const K = this.K;
    let anyTrunc = false;
    for (let b = 0; b < B; b++) if (this.endTrunc[b]) anyTrunc = true;
    // Bootstrap values V(final observation) for copies cut by the time limit (all at step T-1).
    cs.vals.fill(0, T * rowsC * K, (T + 1) * rowsC * K);
    if (anyTrunc) {
      this.writeInputs(T, false, true);
      if (helperRollout) postCritic(T, false);
      else cs.step(tf, this.critic, T, false);
    }
    if (helperRollout) {
      let r;
      try {
        r = await thread!.rolloutDone();
      } catch (e) {
        this.helper.close();
        throw e;
      }
      cs.vals.set(r.vals.subarray(0, (anyTrunc ? T + 1 : T) * rowsC * K));
      cs.hCStore.set(r.hCStore);
      ppoTrace.mark?.('ro-wait');
    }

    // ---------------------------------------------------------------- returns
    const M = N * B; // columns [agent][copy]
    const masks = new Float32Array(T * M);
    const terminated = new Float32Array(T * M);
    const rewards = this.rews.subarray(0, T * M);
    // Real-valued V per (agent, copy), one array per head (head 0: the policy's value).
    const heads = Array.from({ length: K }, () => new Float32Array((T + 1) * M));
    const values = heads[0];
    for (let t = 0; t <= T; t++) {
      for (let a = 0; a < N; a++) {
        for (let b = 0; b < B; b++) {
          const col = a * B + b;
          const row = sd.rowsC === M ? col : b;
          const g = sd.GC === 1 ? 0 : a;
          for (let h = 0; h < K; h++) {
            const raw = cs.vals[(t * rowsC + row) * K + h];
            heads[h][t * M + col] = cfg.valueNorm ? this.valueNorms[g].denormalise(raw) : raw;
          }
          if (t < T) masks[t * M + col] = this.valid[t * B + b];
        }
      }
    }
    for (let b = 0; b < B; b++) {
      if (this.endTrunc[b]) continue;
      for (let a = 0; a < N; a++) terminated[this.endStep[b] * M + a * B + b] = 1;
    }
    const extraRewards = Array.from({ length: K - 1 }, () => new Float32Array(T * M));
    const hookStats =
      this.hooks?.shape?.({ T, N, B, A, rewards, extraRewards, values: heads, valid: this.valid, endStep: this.endStep, endTrunc: this.endTrunc, probs: this.pi!, gamma: cfg.gamma }) ?? {};
    const { advantages, returns } = gae(rewards, values, masks, terminated, T, M, cfg.gamma, cfg.gaeLambda);
    // Each extra head regresses on its own stream's returns (its advantages are not used).
    const returnsByHead = [returns, ...extraRewards.map((r, h) => gae(r, heads[h + 1], masks, terminated, T, M, cfg.gamma, cfg.gaeLambda).returns)];
    let vSum = 0;
    let vCount = 0;
    for (let i = 0; i < T * M; i++) {
      if (!masks[i]) continue;
      vSum += values[i];
      vCount++;
    }
    if (cfg.advantageNorm) {
      if (this.variant.independent) normaliseAdvantages(advantages, masks, T, M, N, (m) => Math.floor(m / B));
      else normaliseAdvantages(advantages, masks, T, M);
    }

    ppoTrace.mark?.('returns');
    // ---------------------------------------------------------------- update
    // Units = (chunk, copy) pairs whose first step is valid (valid steps form a prefix).
    let U = 0;
    for (let c = 0; c * CL < T; c++) {
      for (let b = 0; b < B; b++) if (this.valid[c * CL * B + b]) this.units[U++] = c * B + b;
    }
    const acc = { policy: 0, value: 0, entropy: 0, kl: 0, clipFrac: 0, gradA: 0, gradC: 0, n: 0 };
    // With a helper thread the critic's steps run there while this thread runs the actor's;
    // its results are summed below in minibatch order, as on one thread.
    const critic: (CriticResult | Promise<CriticResult>)[] = [];
    try {
      for (let epoch = 0; epoch < cfg.epochs; epoch++) {
        const order = rng.shuffle(this.units.subarray(0, U));
        const k = Math.min(cfg.minibatches, U);
        let start = 0;
        for (let m = 0; m < k; m++) {
          const size = Math.floor(U / k) + (m < U % k ? 1 : 0);
          critic.push(this.minibatch(order.subarray(start, start + size), T, advantages, returnsByHead, acc, thread, helperRollout));
          start += size;
        }
      }
      const results = await Promise.all(critic);
      ppoTrace.mark?.('wait');
      if (thread) {
        const st = await thread.end();
        this.critic.params.loadRecords(st.params);
        this.criticOpt.setState(st.opt);
        ppoTrace.mark?.('state');
      }
      const GC = sd.GC;
      for (const r of results) {
        acc.value += (cfg.valueCoef > 0 ? r.value / cfg.valueCoef : 0) * (this.variant.independent ? 1 / GC : 1);
        acc.gradC += r.norms.reduce((s, v) => s + v, 0) / GC;
      }
    } catch (e) {
      // A failed helper leaves the critic half-updated: the run cannot go on.
      this.helper.close();
      Promise.allSettled(critic).catch(() => {});
      throw e;
    }
    this.updates++;

    // ---------------------------------------------------------------- log
    const n = Math.max(1, acc.n);
    return {
      episodes,
      envSteps,
      stats: {
        'losses/policy': acc.policy / n,
        'losses/value': acc.value / n,
        'losses/entropy': acc.entropy / n,
        'charts/approx_kl': acc.kl / n,
        'charts/clip_frac': acc.clipFrac / n,
        'charts/value_mean': vCount > 0 ? vSum / vCount : 0,
        'charts/grad_norm': acc.gradA / n,
        'charts/grad_norm_critic': acc.gradC / n,
        ...hookStats,
      },
    };
  }

  /**
   * One actor and one critic Adam step on the sequences of `units` ((chunk, copy) pairs).
   * Tensor rows are [group][step k][sequence s].
   */
  private minibatch(
    units: Int32Array,
    T: number,
    adv: Float32Array,
    retByHead: readonly Float32Array[],
    acc: { policy: number; value: number; entropy: number; kl: number; clipFrac: number; gradA: number; gradC: number; n: number },
    thread: PpoCriticThread | null,
    helperRollout: boolean,
  ): CriticResult | Promise<CriticResult> {
    const { tf, cfg, N, B, A, H, sd, shA, shC } = this;
    const CL = this.CL;
    const U = units.length;
    const M = N * B;
    const indep = this.variant.independent;

    // ---- critic batch
    const GC = sd.GC;
    const SC = U; // sequences per group: one per unit (the unit's copy, or the agent's row of it)
    const K = this.K;
    // Targets per critic row: N for MAPPO's shared V (one head), K for the heads of an independent critic.
    const J = K > 1 ? K : sd.J;
    const nC = GC * CL * SC;
    // The inputs (patches, extras, chunk-start states, rollout values) are staged by whichever
    // thread runs the step: here, or on a helper that holds the rollout (CriticRolloutStore).
    const inputs = helperRollout
      ? null
      : { cP: this.buf('cP', nC * this.cs.pk), cE: this.buf('cE', nC * shC.E), cH: this.buf('cH', GC * SC * H), cOld: this.buf('cOld', nC * K) };
    if (inputs) this.cs.stage(units, T, this.valid, inputs);
    const cTgt = this.buf('cTgt', nC * J);
    const cW = this.buf('cW', nC * J);
    const cCount = new Float64Array(GC);
    for (let g = 0; g < GC; g++) {
      for (let s = 0; s < SC; s++) {
        const unit = units[s];
        const c = Math.floor(unit / B);
        const b = unit % B;
        const t0 = c * CL;
        for (let k = 0; k < CL; k++) {
          const q = (g * CL + k) * SC + s;
          const t = t0 + k;
          if (t >= T || !this.valid[t * B + b]) continue;
          for (let j = 0; j < J; j++) {
            const agent = K > 1 || J === 1 ? g : j;
            cTgt[q * J + j] = retByHead[K > 1 ? j : 0][t * M + agent * B + b];
            cW[q * J + j] = 1;
            if (K === 1 || j === 0) cCount[g]++;
          }
        }
      }
    }
    if (cfg.valueNorm) {
      for (let g = 0; g < GC; g++) {
        const lo = g * CL * SC * J;
        const hi = (g + 1) * CL * SC * J;
        const vn = this.valueNorms[g];
        vn.update(cTgt.subarray(lo, hi), cW.subarray(lo, hi));
        for (let i = lo; i < hi; i++) if (cW[i]) cTgt[i] = vn.normalise(cTgt[i]);
      }
    }
    const totalC = cCount.reduce((s, v) => s + v, 0);
    for (let g = 0; g < GC; g++) {
      const denom = indep ? cCount[g] : totalC;
      for (let q = g * CL * SC * J; q < (g + 1) * CL * SC * J; q++) cW[q] = denom > 0 ? cW[q] / denom : 0;
    }
    // Handed over before the actor's step, so the helper computes while this thread does.
    const common = {
      cTgt, cW, CL, SC, GC, K, J,
      clip: cfg.valueClip ? cfg.clip : 0,
      huberDelta: cfg.huberDelta,
      valueCoef: cfg.valueCoef,
      gradClip: cfg.criticGradClip,
      reference: ppoSequencePath.reference,
    };
    const job: CriticJob | null = inputs ? { ...inputs, ...common } : null;
    ppoTrace.mark?.('stage-critic');
    const criticRes = !thread ? null : job ? thread.step(job) : thread.stagedStep({ ...common, units, T, valid: this.valid.subarray(0, T * B) });
    ppoTrace.mark?.('post');

    // ---- actor batch
    const GA = sd.GA;
    const SA = (N / GA) * U;
    const nA = GA * CL * SA; // rows
    const pkA = shA.P * shA.K;
    const aP = this.buf('aP', nA * pkA);
    const aE = this.buf('aE', nA * shA.E);
    const aH = this.buf('aH', GA * SA * H);
    const aAv = this.buf('aAv', nA * A);
    const aOne = this.buf('aOne', nA * A);
    const aOld = this.buf('aOld', nA);
    const aAdv = this.buf('aAdv', nA);
    const aW = this.buf('aW', nA);
    const aCount = new Float64Array(GA);
    for (let g = 0; g < GA; g++) {
      for (let s = 0; s < SA; s++) {
        const a = GA === 1 ? Math.floor(s / U) : g;
        const unit = units[GA === 1 ? s % U : s];
        const c = Math.floor(unit / B);
        const b = unit % B;
        const r = a * B + b;
        const t0 = c * CL;
        aH.set(this.hAStore.subarray((c * sd.rowsA + r) * H, (c * sd.rowsA + r + 1) * H), (g * SA + s) * H);
        for (let k = 0; k < CL; k++) {
          const q = (g * CL + k) * SA + s;
          const t = t0 + k;
          if (t >= T || !this.valid[t * B + b]) {
            aAv.fill(1, q * A, (q + 1) * A);
            continue;
          }
          const i = t * sd.rowsA + r;
          aP.set(this.aPatch.subarray(i * pkA, (i + 1) * pkA), q * pkA);
          if (shA.E > 0) aE.set(this.aExtra.subarray(i * shA.E, (i + 1) * shA.E), q * shA.E);
          for (let x = 0; x < A; x++) aAv[q * A + x] = this.avail[i * A + x];
          aOne[q * A + this.acts[i]] = 1;
          aOld[q] = this.oldLogp[i];
          aAdv[q] = adv[t * M + r];
          aW[q] = 1;
          aCount[g]++;
        }
      }
    }
    const totalA = aCount.reduce((s, v) => s + v, 0);
    for (let g = 0; g < GA; g++) {
      const denom = indep ? aCount[g] : totalA;
      for (let q = g * CL * SA; q < (g + 1) * CL * SA; q++) aW[q] = denom > 0 ? aW[q] / denom : 0;
    }
    // Stats are means over all valid rows whatever the loss weighting.
    const statScale = indep ? 1 / GA : 1;
    ppoTrace.mark?.('stage-actor');

    let side!: Float32Array;
    const actorRes = tf.tidy(() => {
      const avail = tf.tensor3d(aAv, [GA, CL * SA, A]);
      const onehot = tf.tensor3d(aOne, [GA, CL * SA, A]);
      const old = tf.tensor2d(aOld, [GA, CL * SA]);
      const advT = tf.tensor2d(aAdv, [GA, CL * SA]);
      const w = tf.tensor2d(aW, [GA, CL * SA]);
      let sideT!: Tensor;
      const res = this.actor.params.grads(() => {
        const logits = this.actor.sequence(aP, aE, aH, CL, SA);
        const logp = maskedLogProbs(tf, logits, avail);
        const lpa = tf.sum(tf.mul(logp, onehot), -1);
        const { surrogate, ratio } = clippedSurrogate(tf, lpa, old, advT, cfg.clip);
        const policyLoss = tf.neg(tf.sum(tf.mul(w, surrogate)));
        const ent = tf.sum(tf.mul(w, entropyFromLogProbs(tf, logp, avail)));
        // Side statistics (not on the loss path): approx KL (r - 1) - log r, clip fraction.
        const logr = tf.sub(lpa, old);
        const kl = tf.sum(tf.mul(w, tf.sub(tf.sub(ratio, 1), logr)));
        const clipped = tf.sum(tf.mul(w, tf.step(tf.sub(tf.abs(tf.sub(ratio, 1)), cfg.clip))));
        sideT = tf.keep(tf.stack([policyLoss, ent, kl, clipped]));
        return tf.sub(policyLoss, tf.mul(ent, cfg.entropyCoef)) as never;
      });
      side = sideT.dataSync() as Float32Array;
      sideT.dispose();
      return res as never;
    }) as { value: number; grads: Record<string, Tensor> };
    const normsA = clipByGroupNorm(tf, actorRes.grads, GA, cfg.actorGradClip);
    this.actorOpt.step(actorRes.grads);
    for (const g of Object.values(actorRes.grads)) g.dispose();


    acc.policy += side[0] * statScale;
    acc.entropy += side[1] * statScale;
    acc.kl += side[2] * statScale;
    acc.clipFrac += side[3] * statScale;
    acc.gradA += normsA.reduce((s, v) => s + v, 0) / GA;
    acc.n++;
    ppoTrace.mark?.('actor');
    if (criticRes) return criticRes;
    const r = criticStep(tf, this.critic, this.criticOpt, job!);
    ppoTrace.mark?.('critic');
    return r;
  }

  /** What the checkpoint helpers save and restore for every trainer. */
  private parts(): LearnerParts {
    return {
      algo: this.variant.id,
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'actor/': this.actor.params, 'critic/': this.critic.params, ...(this.hooks?.params ?? {}) },
      optimisers: { actor: this.actorOpt, critic: this.criticOpt, ...(this.hooks?.optimisers ?? {}) },
    };
  }

  async save(): Promise<Checkpoint> {
    const hooks = this.hooks?.save ? { hooks: this.hooks.save() } : {};
    return saveLearner(this.parts(), { updates: this.updates, valueNorms: this.valueNorms.map((v) => v.getState()), ...hooks });
  }

  load(ckpt: Checkpoint): void {
    const id = this.variant.id;
    const e = loadLearner(ckpt, this.parts());
    const vn = e.valueNorms;
    if (!Array.isArray(vn) || vn.length !== this.valueNorms.length) {
      throw new Error(`${id}: checkpoint has ${Array.isArray(vn) ? vn.length : 'no'} value normalisers, expected ${this.valueNorms.length}`);
    }
    vn.forEach((st: number[], i) => this.valueNorms[i].setState(st));
    this.updates = counter(e, 'updates', id);
    if (this.hooks?.load) {
      if (typeof e.hooks !== 'object' || e.hooks === null) throw new Error(`${id}: checkpoint has no "hooks" state (counts, models)`);
      this.hooks.load(e.hooks as Record<string, unknown>);
    }
  }

  dispose(): void {
    this.helper.close();
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.actor.params.dispose();
    this.critic.params.dispose();
    this.hooks?.dispose?.();
  }
}

// ================================================================= evaluation policy

/** The trained actor acting on a VecEnv: sampling from the masked softmax, or greedy. */
export class PpoPolicy implements Policy {
  private readonly tf: Tf;
  private readonly actor: PpoNet;
  private readonly lay: EnvLayout;
  private readonly src: 'own' | 'joint';
  private readonly scale: number;
  private readonly N: number;
  private readonly B: number;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly patches: Float32Array;
  private readonly extras: Float32Array;
  private readonly probs: Float64Array;

  constructor(
    private readonly ctx: PolicyContext,
    variant: PpoVariant,
  ) {
    this.tf = ctx.tf;
    registerGradients(ctx.tf);
    const cfg = parseConfig(variant, ctx.config);
    const spec = ctx.spec;
    this.lay = envLayout(spec, variant.inputs);
    this.N = spec.numAgents;
    this.B = ctx.numEnvs;
    this.src = actorSource(cfg, this.lay);
    this.scale = cfg.inputScale;
    const shape = inputShape(this.lay, this.src, true);
    const G = cfg.actorSharing === 'shared' ? 1 : this.N;
    this.actor = new PpoNet(ctx.tf, shape, G, cfg.hiddenDim, spec.numActions, cfg.activation, cfg.outputGain, ctx.rng, variant.inputs !== 'features');
    if (ctx.checkpoint) this.actor.params.loadRecords(ctx.checkpoint.tensors, 'actor/');
    const rows = this.N * this.B;
    this.hA = new Float32Array(rows * cfg.hiddenDim);
    this.hB = new Float32Array(rows * cfg.hiddenDim);
    this.patches = new Float32Array(rows * shape.P * shape.K);
    this.extras = new Float32Array(rows * shape.E);
    this.probs = new Float64Array(spec.numActions);
  }

  resetCopy(b: number): void {
    const H = this.actor.hidden;
    for (let a = 0; a < this.N; a++) this.hA.fill(0, (a * this.B + b) * H, (a * this.B + b + 1) * H);
  }

  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const { tf, N, B } = this;
    const A = env.spec.numActions;
    const sh = this.actor.shape;
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const r = a * B + b;
        writeRow(env, this.lay, this.src, true, this.scale, a, b, this.patches, r * sh.P * sh.K, this.extras, r * sh.E);
      }
    }
    const G = this.actor.groups;
    const R = (N * B) / G;
    const p = tf.tensor3d(this.patches, [G, R * sh.P, sh.K]);
    const e = sh.E > 0 ? tf.tensor3d(this.extras, [G, R, sh.E]) : null;
    const logits = this.actor.step(p, e, R, this.hA, this.hB);
    p.dispose();
    e?.dispose();
    [this.hA, this.hB] = [this.hB, this.hA];
    writePolicyActions(logits, env, N, B, A, greedy, this.probs, this.ctx.rng, actions);
  }

  dispose(): void {
    this.actor.params.dispose();
  }
}
