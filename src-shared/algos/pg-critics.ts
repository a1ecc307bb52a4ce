/**
 * PG's per-agent critics: the disjoint value MLPs of Table 3, their TD(lambda) targets from the
 * target copies, and one batch regression step on them. The PG critic (its full return) and the correction's collective critic (G_c alone)
 * are both sets of these, fitted by the same step.
 */
import type { EnvSpec } from '../envs/types';
import { clipByGlobalNorm } from '../nn/clip';
import { type Activation, Mlp } from '../nn/mlp';
import type { RMSprop } from '../nn/optim';
import type { ParamSet } from '../nn/params';
import { tdLambdaTargets, tdLambdaTargetsPymarl } from '../nn/returns';
import type { Tensor, Tf } from '../nn/tf';
import type { Rng } from '../rng';
import { groupToTime, timeToGroup } from './recurrent-actor';

/**
 * N disjoint critics envObs -> H -> H -> 1, one MLP per agent in one parameter set (one
 * optimiser and one global-norm clip over all of them, as the released code's single critic
 * optimiser). Separate G = 1 networks rather than one grouped MLP: each agent's rows are
 * uploaded separately anyway, and the wasm backend is slow at batched matmuls and slices.
 */
export function makeCritics(
  tf: Tf,
  params: ParamSet,
  spec: EnvSpec,
  cfg: { criticHiddenDim: number; activation: Activation },
  rng: Rng,
): Mlp[] {
  const H = cfg.criticHiddenDim;
  return Array.from(
    { length: spec.numAgents },
    (_, a) => new Mlp(tf, params, `critic/${a}`, [spec.envObsSize, H, H, 1], cfg.activation, 1, rng),
  );
}

/** Per-agent tensors [1, R, F] from a group-major [N][R][F] array. */
export function perAgentRows(tf: Tf, src: Float32Array, N: number, R: number, F: number): Tensor[] {
  return Array.from({ length: N }, (_, a) => tf.tensor3d(src.subarray(a * R * F, (a + 1) * R * F), [1, R, F]));
}

/**
 * One optimiser step of the critics on per-agent rows X[a] [1, R, E], targets and masks
 * [1, R, 1]: loss sum(m (V - target)^2) / count, gradients clipped to global norm `clip`
 * (0 = none). Returns the loss, the pre-clip gradient norm and the pre-update values V
 * [N * R] (the round's baseline). `kernel`: each MLP's forward and backward in the wasm kernel
 * where it can run (Mlp.forwardKernel; on wasm the same bits as the tfjs layers). `onValues`
 * gets V as soon as the forward has it, before the backward and the optimiser step (the
 * critic's helper thread publishes it there to the actor's loss waiting on it, pg-critic-step.ts).
 */
export function fitCritics(
  tf: Tf,
  params: ParamSet,
  critics: Mlp[],
  opt: RMSprop,
  X: Tensor[],
  Gt: Tensor[],
  Mt: Tensor[],
  count: number,
  clip: number,
  kernel = false,
  onValues?: (values: Float32Array) => void,
): { loss: number; norm: number; values: Float32Array } {
  const R = (X[0].shape as number[])[1];
  const values = new Float32Array(critics.length * R);
  const { value, grads } = params.grads(() => {
    let loss: Tensor = tf.scalar(0);
    for (let a = 0; a < critics.length; a++) {
      const v = (kernel ? critics[a].forwardKernel(X[a]) : null) ?? critics[a].forward(X[a], false);
      values.set(v.dataSync() as Float32Array, a * R); // the pre-update values are this step's baseline
      loss = tf.add(loss, tf.sum(tf.mul(Mt[a], tf.square(tf.sub(v, Gt[a])))));
    }
    onValues?.(values);
    return tf.div(loss, count) as never;
  });
  const norm = clipByGlobalNorm(tf, grads, clip);
  opt.step(grads);
  for (const g of Object.values(grads)) g.dispose();
  return { loss: value, norm, values };
}

/** The rollout storage criticTargets reads (time-major [t][agent][copy][...]). */
export interface CriticRollout {
  /** Critic inputs [L+1][N][B][E]; slot endStep[b] + 1 holds copy b's final observation. */
  readonly cobs: Float32Array;
  readonly endStep: Int32Array;
  readonly endTrunc: Uint8Array;
  /** Scratch of at least (T + 1) N B E floats. */
  readonly stage: Float32Array;
}

/**
 * TD(lambda) targets [T][N][B] of the critics from the target critics' values (see pg.ts's
 * `criticBootstrap` for the two bootstraps after a copy's last step).
 */
export function criticTargets(
  tf: Tf,
  targets: Mlp[],
  cfg: { tdLambda: number; gamma: number; criticBootstrap: 'standard' | 'terminated-sum' },
  io: CriticRollout,
  rewards: Float32Array,
  masks: Float32Array,
  T: number,
  N: number,
  B: number,
  E: number,
): Float32Array {
  const M = N * B;
  // Target critic values V[t] for slots 0..T, time-major. With lambda = 1 only each copy's
  // final observation enters the targets (the other slots have weight 1 - lambda = 0), so
  // only those B rows per agent are evaluated; it is also what slot T holds (carried forward).
  const values = new Float32Array((T + 1) * M);
  if (cfg.tdLambda === 1) {
    const xf = new Float32Array(M * E);
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const src = ((io.endStep[b] + 1) * N + a) * B + b;
        xf.set(io.cobs.subarray(src * E, (src + 1) * E), (a * B + b) * E);
      }
    }
    tf.tidy(() => {
      for (let a = 0; a < N; a++) {
        const X = tf.tensor3d(xf.subarray(a * B * E, (a + 1) * B * E), [1, B, E]);
        const v = targets[a].infer(X).dataSync();
        for (let b = 0; b < B; b++) {
          values[(io.endStep[b] + 1) * M + a * B + b] = v[b];
          values[T * M + a * B + b] = v[b];
        }
      }
    });
  } else {
    const n = (T + 1) * B;
    const cobsG = timeToGroup(io.cobs, T + 1, N, B, E, io.stage);
    const vTarget = new Float32Array(N * n);
    tf.tidy(() => {
      for (let a = 0; a < N; a++) {
        const X = tf.tensor3d(cobsG.subarray(a * n * E, (a + 1) * n * E), [1, n, E]);
        vTarget.set(targets[a].infer(X).dataSync() as Float32Array, a * n);
      }
    });
    groupToTime(vTarget, T + 1, N, B, values);
  }
  const terminated = new Float32Array(T * M);
  let out: Float32Array;
  if (cfg.criticBootstrap === 'standard') {
    for (let b = 0; b < B; b++) {
      if (io.endTrunc[b]) continue;
      for (let a = 0; a < N; a++) terminated[io.endStep[b] * M + a * B + b] = 1;
    }
    out = tdLambdaTargets(rewards, terminated, masks, values, T, M, cfg.gamma, cfg.tdLambda);
  } else {
    // Released code: terminated = 1 from the ending step on (time limit included).
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        if (t < io.endStep[b]) continue;
        for (let a = 0; a < N; a++) terminated[t * M + a * B + b] = 1;
      }
    }
    out = tdLambdaTargetsPymarl(rewards, terminated, masks, values, T, M, cfg.gamma, cfg.tdLambda);
  }
  return out;
}
