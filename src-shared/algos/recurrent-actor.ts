/**
 * What the PG and COMA trainers share: the recurrent actor of Tables 3-4, its input layout, the
 * epsilon schedule, the time-major <-> group-major re-layouts, and checkpoint key prefixes.
 *
 * The actor: Linear(obs -> H) -> act -> GRUCell(H) -> Linear(H -> A) logits, no agent id,
 * G = 1 (shared by the agents) or G = N groups (one network per agent). Parameters are created
 * input, gru, head, in that order, from the run's Rng (the order is part of what a seed fixes).
 *
 * Three ways to run it (see nn/gru.ts):
 * - `stepLogits`: one rollout step for all rows, read back once (not differentiable);
 * - `sequenceLogits`: full BPTT through the fused GRU op (first-order gradients only);
 * - `tapeLogits` (with `weights()`): the same values with every op on the gradient tape,
 *   whose gradient is itself built from differentiable ops, so it can be differentiated again
 *   (Hessian-vector products, nn/hvp.ts). Much slower: only where second order is needed.
 */
import type { Schema } from '../config/schema';
import type { EnvSpec, VecEnv } from '../envs/types';
import { writePolicyActions } from './core/act';
import { registerGradients } from '../nn/gradients';
import { GRUCell, GRU_GATES, type GruGates, type GruTrace } from '../nn/gru';
import { Linear, groupedLinear, type Activation } from '../nn/mlp';
import { ParamSet } from '../nn/params';
import { secondOrderOps } from '../nn/hvp';
import { POLICY_PARAM_NAMES } from '../nn/policy-rop';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import type { Policy, PolicyContext } from './types';

/** The hyperparameters the actor reads. */
export interface ActorOptions {
  hiddenDim: number;
  activation: Activation;
  /** The GRU's gate kernel (gruGatesSchema); absent = the float64 reference. */
  gruGates?: GruGates;
}

/** The actor: Linear(obs -> H) -> act -> GRUCell(H) -> Linear(H -> A). G = 1 or N groups. */
export class RecurrentActor {
  readonly params: ParamSet;
  readonly input: Linear;
  readonly gru: GRUCell;
  readonly head: Linear;

  constructor(
    private readonly tf: Tf,
    spec: EnvSpec,
    readonly opts: ActorOptions,
    readonly groups: number,
    rng: Rng,
  ) {
    const H = opts.hiddenDim;
    this.params = new ParamSet(tf);
    this.input = new Linear(tf, this.params, 'input', spec.obsSize, H, groups, rng);
    this.gru = new GRUCell(tf, this.params, 'gru', { inputSize: H, hiddenSize: H, groups, gates: opts.gruGates }, rng);
    this.head = new Linear(tf, this.params, 'head', H, spec.numActions, groups, rng);
  }

  /**
   * One acting step for all rows: x [G, rows/G, obs] (a tensor, or its values). Reads hPrev, writes hNext (and the trace
   * at step t). Returns the logits [rows * A], read back once.
   */
  stepLogits(x: Tensor | Float32Array, hPrev: Float32Array, hNext: Float32Array, trace?: GruTrace, t = 0): Float32Array {
    const tf = this.tf;
    // gruGates 'f32-simd' on wasm/cpu: the whole step in the wasm kernel (same bits on wasm).
    const act = this.opts.activation;
    const kernel = this.gru.actorStep(act);
    if (kernel) return kernel.run(x, this.input, act === 'relu', this.head, hPrev, hNext, trace, t);
    let logits!: Float32Array;
    // Read back inside the scope: tf.tidy would walk a returned typed array element by element.
    tf.tidy(() => {
      const xs = x instanceof Float32Array ? tf.tensor3d(x, [this.groups, x.length / (this.groups * this.input.inDim), this.input.inDim]) : x;
      const e = this.input.infer(xs, this.opts.activation);
      const h = this.gru.stepRows(e, hPrev, hNext, trace, t);
      logits = this.head.infer(h).dataSync() as Float32Array;
    });
    return logits;
  }

  /**
   * Training forward over [N][T][B] rows from a zero state: logits [G, N*T*B/G, A]; `trace`:
   * the rollout's activations for these inputs and weights (GRUCell.sequence). With gruGates
   * 'f32-simd' on wasm/cpu the whole pass, forward and backward, runs in the wasm kernel
   * (nn/gru.ts ActorSequenceKernel; on wasm the same bits).
   */
  sequenceLogits(x: Tensor, N: number, T: number, B: number, trace?: GruTrace): Tensor {
    const tf = this.tf;
    const act = this.opts.activation;
    const kernel = kernelPaths.actorSequence ? this.gru.actorSequence(act) : null;
    if (kernel) return kernel.logits(x, this.input, act === 'relu', this.head, N, T, B, trace);
    return tf.tidy(() => {
      const e = this.input.forward(x, this.opts.activation, false);
      return this.head.forward(this.gru.sequence(e, N, T, B, trace));
    });
  }

  /** The parameters by stable name ("input/weight", "gru/weight_ih", ...), for `tapeLogits`. */
  weights(): ActorWeights {
    const w: Record<string, Tensor> = {};
    for (const name of this.params.names()) w[name] = this.params.get(name);
    return w as unknown as ActorWeights;
  }
}

/**
 * Which training passes run as one wasm-kernel op where they can (gruGates 'f32-simd' on
 * wasm/cpu): the actor's (`sequenceLogits`, nn/gru.ts ActorSequenceKernel) and PG's
 * critics' (Mlp.forwardKernel). Not a setting: on wasm the same bits as the tfjs layers; switched
 * off only by tests and scratch A/B runs to compare the two in one process.
 */
export const kernelPaths = { actorSequence: true, critics: true };

/** The actor's parameter tensors by stable name; any tensors of the right shapes will do. */
export interface ActorWeights {
  'input/weight': Tensor;
  'input/bias': Tensor;
  'gru/weight_ih': Tensor;
  'gru/weight_hh': Tensor;
  'gru/bias_ih': Tensor;
  'gru/bias_hh': Tensor;
  'head/weight': Tensor;
  'head/bias': Tensor;
}

/** The same names nn/policy-rop.ts reads the weights by (one list, so the two cannot drift). */
export const ACTOR_WEIGHT_NAMES: readonly (keyof ActorWeights)[] = POLICY_PARAM_NAMES;

/**
 * The actor's forward on the gradient tape with explicit weights, so that it can be
 * differentiated twice (nn/hvp.ts) and run with weights derived from the variables (e.g. one
 * copy per group). x is [G, T*R, obs]: in each group R sequences of T steps from a zero state,
 * rows time-major (row t*R + r). Returns logits [G, T*R, A] in the same row order. The GRU is
 * PyTorch's cell exactly as GRUCell.step computes it (r applied after the recurrent matmul),
 * with nn/hvp.ts's second-order-safe sigmoid and tanh.
 */
export function tapeLogits(tf: Tf, w: ActorWeights, x: Tensor, T: number, activation: Activation): Tensor {
  const so = secondOrderOps(tf);
  return tf.tidy(() => {
    const [G, TR] = x.shape as number[];
    const R = TR / T;
    const H = (w['gru/weight_hh'].shape as number[])[1];
    const A = (w['head/weight'].shape as number[])[2];
    // relu / linear / gelu (erf) are twice differentiable as they are; tanh needs so.tanh.
    const pre = groupedLinear(tf, x, w['input/weight'], w['input/bias'], activation === 'tanh' ? 'linear' : activation, false);
    const e = activation === 'tanh' ? so.tanh(pre) : pre;
    // Input-side gate pre-activations for every step in one matmul, split and unstacked once;
    // per step only the recurrent matmul (a dispatch-bound loop: every op counts three times,
    // forward, backward and the backward of the backward).
    const gi = groupedLinear(tf, e, w['gru/weight_ih'], w['gru/bias_ih']);
    const [giR, giZ, giN] = tf.split(gi, 3, 2).map((g) => tf.unstack(tf.reshape(g, [G, T, R, H]), 1));
    let h: Tensor | null = null;
    const hs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      // h_0 = 0: the recurrent pre-activations are just the bias.
      const gh = h === null ? tf.reshape(w['gru/bias_hh'], [G, 1, 3 * H]) : groupedLinear(tf, h, w['gru/weight_hh'], w['gru/bias_hh']);
      const [ghR, ghZ, ghN] = tf.split(gh, 3, 2);
      const r = so.sigmoid(tf.add(giR[t], ghR));
      const z = so.sigmoid(tf.add(giZ[t], ghZ));
      const n = so.tanh(tf.add(giN[t], tf.mul(r, ghN)));
      // (1 - z) n + z h = n + z (h - n), one op fewer; h_1 = (1 - z) n.
      h = h === null ? tf.mul(tf.sub(1, z), n) : tf.add(n, tf.mul(z, tf.sub(h, n)));
      hs.push(h);
    }
    const seq = tf.reshape(tf.stack(hs, 1), [G, T * R, H]);
    return tf.reshape(groupedLinear(tf, seq, w['head/weight'], w['head/bias']), [G, T * R, A]);
  });
}

/**
 * Build the actor input for one step from env buffers: rows in [agent][copy] order. With
 * `frozen`, the first envObsSize entries come from `frozen` ([agent][copy][envObs]).
 */
export function actorInput(
  obs: Float32Array,
  N: number,
  B: number,
  obsSize: number,
  envObsSize: number,
  frozen: Float32Array | null,
  out: Float32Array,
): void {
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < B; b++) {
      const src = (b * N + a) * obsSize;
      const dst = (a * B + b) * obsSize;
      out.set(obs.subarray(src, src + obsSize), dst);
      if (frozen) out.set(frozen.subarray((a * B + b) * envObsSize, (a * B + b + 1) * envObsSize), dst);
    }
  }
}

/** Schema fields of the released code's epsilon floor, shared by PG and COMA (read by epsilonAt). */
export const epsilonSchema = {
  epsilonStart: {
    type: 'float',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Epsilon floor pi = (1-eps) softmax + eps/A before masking, at t_env = 0 (paper: none, 0; code: 0.8).',
  },
  epsilonFinish: { type: 'float', default: 0, min: 0, max: 1, doc: 'Epsilon floor after annealing (paper: 0; code: 0.01).' },
  epsilonAnnealSteps: {
    type: 'int',
    default: 2_000_000,
    min: 0,
    doc: 'Lock-step env steps t_env (not multiplied by the number of copies) over which epsilon anneals linearly (code: 2e6).',
  },
} as const satisfies Schema;

export { targetCopySchema } from './core/target';

/**
 * Which kernel runs the actor GRU's gate math (nn/gru.ts GRU_GATES). Not a paper setting: a
 * numerical one. f32-simd is the default because it is faster (docs/performance.md, "The GRU
 * gates as a float32 SIMD wasm kernel", "The GRU's matmuls in the wasm kernel" and "PG's
 * actor and critic training passes in the wasm kernel"); results
 * differ from f64-js by float32 rounding only, and equal f32-simd-tfjs-matmul's on wasm.
 */
export const gruGatesSchema = {
  gruGates: {
    type: 'enum',
    default: 'f32-simd',
    values: [...GRU_GATES],
    doc: "Kernel of the actor GRU's gate math (forward gates and BPTT gate derivatives). f32-simd: hand-written float32 SIMD wasm (nn/wasm/gru-gates.as.ts; polynomial exp/tanh within ~1 float32 eps), and on the wasm/cpu backends also the whole acting step, the whole training pass of the actor (input layer, GRU, head, forward and backward) and PG's critic steps (XNNPACK's summation order: on wasm the same bits as f32-simd-tfjs-matmul); f32-simd-tfjs-matmul: the same gates with every matmul in tfjs; f64-js: float64 JS loops with Math.exp, the reference. Same mathematics; results differ by float rounding only.",
  },
} as const satisfies Schema;

/** The epsilon-floor schedule fields both trainers' schemas define. */
export interface EpsilonSchedule {
  epsilonStart: number;
  epsilonFinish: number;
  epsilonAnnealSteps: number;
}

/** PyMARL's DecayThenFlat schedule: linear from start to finish over `steps`, then flat. */
export function epsilonAt(cfg: EpsilonSchedule, tEnv: number): number {
  if (cfg.epsilonAnnealSteps <= 0) return cfg.epsilonFinish;
  const frac = Math.min(1, tEnv / cfg.epsilonAnnealSteps);
  return cfg.epsilonStart + (cfg.epsilonFinish - cfg.epsilonStart) * frac;
}

/** [T][N][B][F] (time-major, as recorded) -> [N][T][B][F] (group-major, the GRU sequence layout). */
export function timeToGroup<A extends Float32Array | Int32Array>(src: A, T: number, N: number, B: number, F: number, out: A): A {
  const blk = B * F;
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) out.set(src.subarray((t * N + a) * blk, (t * N + a + 1) * blk), (a * T + t) * blk);
  }
  return out.subarray(0, N * T * blk) as A;
}

/**
 * Copies b0..b1-1 of [T][N][B][F] (time-major) -> [N][T][b1-b0][F] (the GRU sequence layout of
 * those copies alone): one part of a batch split by episodes (COMA's `actorHelperShare`).
 */
export function timeToGroupRange<A extends Float32Array | Int32Array>(src: A, T: number, N: number, B: number, F: number, b0: number, b1: number, out: A): A {
  const n = b1 - b0;
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) {
      const s = ((t * N + a) * B + b0) * F;
      out.set(src.subarray(s, s + n * F), (a * T + t) * n * F);
    }
  }
  return out.subarray(0, N * T * n * F) as A;
}

/** [N][T][B] -> [T][N][B] (F = 1). */
export function groupToTime(src: ArrayLike<number>, T: number, N: number, B: number, out: Float32Array): Float32Array {
  for (let a = 0; a < N; a++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) out[(t * N + a) * B + b] = src[(a * T + t) * B + b];
    }
  }
  return out.subarray(0, N * T * B);
}

/**
 * The trained recurrent actor acting on a VecEnv (evaluation, `cairn eval --policy run:ID`):
 * sampling from the masked softmax without the epsilon floor, or greedy. Shared by every
 * algorithm whose actor is a RecurrentActor (PG, COMA).
 */
export class RecurrentActorPolicy implements Policy {
  private readonly actor: RecurrentActor;
  private readonly N: number;
  private readonly B: number;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly x: Float32Array;
  private readonly frozen: Float32Array;
  private readonly capture: Uint8Array;
  private readonly probs: Float64Array;
  private readonly cfg: ActorOptions & { observation: string };

  /** `groups`: 1 for an actor shared by the agents, N for one actor per agent. */
  constructor(
    private readonly ctx: PolicyContext,
    cfg: ActorOptions & { observation: string },
    groups: number,
  ) {
    registerGradients(ctx.tf);
    this.cfg = cfg;
    const spec = ctx.spec;
    this.N = spec.numAgents;
    this.B = ctx.numEnvs;
    this.actor = new RecurrentActor(ctx.tf, spec, cfg, groups, ctx.rng);
    if (ctx.checkpoint) this.actor.params.loadRecords(ctx.checkpoint.tensors, 'actor/');
    const rows = this.N * this.B;
    this.hA = new Float32Array(rows * cfg.hiddenDim);
    this.hB = new Float32Array(rows * cfg.hiddenDim);
    this.x = new Float32Array(rows * spec.obsSize);
    this.frozen = new Float32Array(rows * spec.envObsSize);
    this.capture = new Uint8Array(this.B).fill(1);
    this.probs = new Float64Array(spec.numActions);
  }

  resetCopy(b: number): void {
    const H = this.cfg.hiddenDim;
    for (let a = 0; a < this.N; a++) this.hA.fill(0, (a * this.B + b) * H, (a * this.B + b + 1) * H);
    this.capture[b] = 1;
  }

  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const { N, B } = this;
    const spec = env.spec;
    const O = spec.obsSize;
    const E = spec.envObsSize;
    const A = spec.numActions;
    const frozenMode = this.cfg.observation === 'frozen-initial';
    if (frozenMode) {
      for (let b = 0; b < B; b++) {
        if (!this.capture[b]) continue;
        this.capture[b] = 0;
        for (let a = 0; a < N; a++) {
          const src = (b * N + a) * O;
          this.frozen.set(env.obs.subarray(src, src + E), (a * B + b) * E);
        }
      }
    }
    actorInput(env.obs, N, B, O, E, frozenMode ? this.frozen : null, this.x);
    const logits = this.actor.stepLogits(this.x, this.hA, this.hB);
    [this.hA, this.hB] = [this.hB, this.hA];
    writePolicyActions(logits, env, N, B, A, greedy, this.probs, this.ctx.rng, actions);
  }

  dispose(): void {
    this.actor.params.dispose();
  }
}
