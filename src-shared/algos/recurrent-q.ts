/**
 * The recurrent agent Q-network of the value-mixing learners (hidden-gifts Tables 6-9,
 * PyMARL's RNNAgent): Linear(in -> D) -> act -> GRUCell(D -> H) -> Linear(H -> A), one Q per
 * action, shared by the agents. Its input is the agent's observation row, then optionally a
 * one-hot agent id (PyMARL's `obs_agent_id`; the tables' input of 27 has none) and a one-hot
 * latent z (MAVEN). Parameters `agent/input|gru|head/...`, created in that order from the run's
 * Rng.
 *
 * Acting (`stepQ`) runs one GRU step for all rows with the gates on the CPU and reads the Q
 * values back once; training (`sequence`) runs whole [N][T][B] episodes from a zero state
 * through the fused BPTT op of nn/gru.ts and returns the hidden states too (QTRAN's joint
 * network reads them).
 */
import type { EnvSpec, VecEnv } from '../envs/types';
import { argmaxMasked } from '../nn/categorical';
import { registerGradients } from '../nn/gradients';
import { GRUCell } from '../nn/gru';
import { Linear, type Activation } from '../nn/mlp';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import type { Policy, PolicyContext } from './types';

export interface QNetOptions {
  /** Width of the input layer (tables: 64). */
  hiddenDim: number;
  /** GRU hidden size (tables: 64; released code: 128). */
  rnnHiddenDim: number;
  activation: Activation;
}

export class RecurrentQNet {
  readonly input: Linear;
  readonly gru: GRUCell;
  readonly head: Linear;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    readonly inputSize: number,
    readonly numActions: number,
    readonly opts: QNetOptions,
    rng: Rng,
  ) {
    this.input = new Linear(tf, params, 'agent/input', inputSize, opts.hiddenDim, 1, rng);
    this.gru = new GRUCell(tf, params, 'agent/gru', { inputSize: opts.hiddenDim, hiddenSize: opts.rnnHiddenDim }, rng);
    this.head = new Linear(tf, params, 'agent/head', opts.rnnHiddenDim, numActions, 1, rng);
  }

  /** One acting step: x [1, rows, in]; reads hPrev, writes hNext; returns Q [rows * A]. */
  stepQ(x: Tensor, hPrev: Float32Array, hNext: Float32Array): Float32Array {
    const tf = this.tf;
    let q!: Float32Array;
    tf.tidy(() => {
      const e = this.input.infer(x, this.opts.activation);
      const h = this.gru.stepRows(e, hPrev, hNext);
      q = this.head.infer(h).dataSync() as Float32Array;
    });
    return q;
  }

  /** Whole episodes, x [1, N*T*B, in] in [N][T][B] order from h_0 = 0: Q [1, NTB, A] and h [1, NTB, H]. */
  sequence(x: Tensor, N: number, T: number, B: number): { q: Tensor; h: Tensor } {
    const e = this.input.forward(x, this.opts.activation, false);
    const h = this.gru.sequence(e, N, T, B); // keeps e for its gradient: the caller's tidy disposes it
    return { q: this.head.forward(h), h };
  }
}

/** Width of the agent network's input: observation, optional agent id, latent. */
export function agentInputSize(spec: EnvSpec, agentId: boolean, latentDim: number): number {
  return spec.obsSize + (agentId ? spec.numAgents : 0) + latentDim;
}

/**
 * Write one step's agent inputs, rows in [agent][copy] order: the observation row from `obs`
 * ([copy][agent][O], or `frozen` for the env prefix), then the one-hot id, then the one-hot latent
 * `latent[b]` (when latentDim > 0).
 */
export function writeAgentInputs(
  obs: Float32Array,
  N: number,
  B: number,
  O: number,
  agentId: boolean,
  latentDim: number,
  latent: Int32Array,
  out: Float32Array,
): void {
  const W = O + (agentId ? N : 0) + latentDim;
  out.fill(0, 0, N * B * W);
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < B; b++) {
      const dst = (a * B + b) * W;
      out.set(obs.subarray((b * N + a) * O, (b * N + a + 1) * O), dst);
      if (agentId) out[dst + O + a] = 1;
      if (latentDim > 0) out[dst + W - latentDim + latent[b]] = 1;
    }
  }
}

/**
 * Epsilon-greedy over the available actions of one row: with probability eps (`explore`), a
 * uniformly drawn available action, else the masked argmax of Q.
 */
export function epsilonGreedy(q: ArrayLike<number>, qOff: number, mask: ArrayLike<number>, maskOff: number, A: number, explore: boolean, rng: Rng): number {
  if (!explore) return argmaxMasked(q, qOff, mask, maskOff, A);
  let k = 0;
  for (let u = 0; u < A; u++) if (mask[maskOff + u]) k++;
  if (k === 0) return 0;
  let j = rng.int(k);
  for (let u = 0; u < A; u++) {
    if (!mask[maskOff + u]) continue;
    if (j === 0) return u;
    j--;
  }
  return 0;
}

/**
 * A trained agent network acting on a VecEnv (evaluation): greedy, or epsilon-greedy with the
 * schedule's final epsilon. A latent (MAVEN) is drawn uniformly per episode (the hierarchical
 * policy needs the mixer state, which evaluation does not build). With `observation =
 * frozen-initial` the env part of the input stays each episode's first observation, as in
 * training.
 */
export class RecurrentQPolicy implements Policy {
  private readonly tf: Tf;
  private readonly params: ParamSet;
  private readonly net: RecurrentQNet;
  private readonly N: number;
  private readonly B: number;
  private hA: Float32Array;
  private hB: Float32Array;
  private readonly x: Float32Array;
  private readonly latent: Int32Array;
  private readonly frozen: Float32Array; // [B][N][envObs]
  private readonly capture: Uint8Array;
  private readonly obsRows: Float32Array;

  constructor(
    private readonly ctx: PolicyContext,
    private readonly cfg: QNetOptions & { agentId: boolean; epsilonFinish: number; observation: 'fresh' | 'frozen-initial' },
    private readonly latentDim: number,
  ) {
    const tf = ctx.tf;
    this.tf = tf;
    registerGradients(tf);
    const spec = ctx.spec;
    this.N = spec.numAgents;
    this.B = ctx.numEnvs;
    this.params = new ParamSet(tf);
    this.net = new RecurrentQNet(tf, this.params, agentInputSize(spec, cfg.agentId, latentDim), spec.numActions, cfg, ctx.rng);
    if (ctx.checkpoint) this.params.loadRecords(ctx.checkpoint.tensors, 'online/');
    const rows = this.N * this.B;
    this.hA = new Float32Array(rows * cfg.rnnHiddenDim);
    this.hB = new Float32Array(rows * cfg.rnnHiddenDim);
    this.x = new Float32Array(rows * this.net.inputSize);
    this.latent = new Int32Array(this.B);
    this.frozen = new Float32Array(rows * spec.envObsSize);
    this.capture = new Uint8Array(this.B);
    this.obsRows = new Float32Array(rows * spec.obsSize);
    for (let b = 0; b < this.B; b++) this.resetCopy(b);
  }

  resetCopy(b: number): void {
    const H = this.cfg.rnnHiddenDim;
    for (let a = 0; a < this.N; a++) this.hA.fill(0, (a * this.B + b) * H, (a * this.B + b + 1) * H);
    if (this.latentDim > 0) this.latent[b] = this.ctx.rng.int(this.latentDim);
    this.capture[b] = 1;
  }

  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const { N, B } = this;
    const spec = env.spec;
    const A = spec.numActions;
    let obs = env.obs;
    if (this.cfg.observation === 'frozen-initial') {
      const O = spec.obsSize;
      const E = spec.envObsSize;
      obs = this.obsRows;
      obs.set(env.obs.subarray(0, N * B * O));
      for (let b = 0; b < B; b++) {
        for (let a = 0; a < N; a++) {
          const row = b * N + a;
          if (this.capture[b]) this.frozen.set(env.obs.subarray(row * O, row * O + E), row * E);
          obs.set(this.frozen.subarray(row * E, (row + 1) * E), row * O);
        }
        this.capture[b] = 0;
      }
    }
    writeAgentInputs(obs, N, B, spec.obsSize, this.cfg.agentId, this.latentDim, this.latent, this.x);
    const xT = this.tf.tensor3d(this.x, [1, N * B, this.net.inputSize]);
    const q = this.net.stepQ(xT, this.hA, this.hB);
    xT.dispose();
    [this.hA, this.hB] = [this.hB, this.hA];
    const eps = greedy ? 0 : this.cfg.epsilonFinish;
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < N; a++) {
        if (env.finished[b]) {
          actions[b * N + a] = 0;
          continue;
        }
        const explore = eps > 0 && this.ctx.rng.float() < eps;
        actions[b * N + a] = epsilonGreedy(q, (a * B + b) * A, env.actionMask, (b * N + a) * A, A, explore, this.ctx.rng);
      }
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}
