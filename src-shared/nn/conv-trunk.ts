/**
 * The convolutional trunk F2A2 uses at large scale (shared/specs/f2a2.md §1.10, DESIGN CHOICE
 * there; the IQL opponent of §4.5 uses the same shape): the agent's view W x H x C goes through
 * two 3x3 convolutions of `filters` channels (stride 1, no padding, ReLU), is flattened and
 * concatenated with the rest of the observation row (the feature vector: id, position, last
 * action, last reward), then Dense `hidden` -> Dense `hidden` -> `outputs`, ReLU between.
 *
 * Why the patches are built inside the graph (9 slices + one concatenation per convolution)
 * and not on the CPU as nn/conv.ts does for PPO's single convolution: the second convolution
 * reads the first one's output, which only exists as a tensor, and slices have gradients in
 * Cairn's set (nn/gradients.ts). Building the first layer's patches the same way keeps one
 * code path and feeds raw observation rows straight from a buffer. The patch order inside a
 * row ([kx][ky][c]) only permutes the kernel's rows, so it is a convention, not a choice.
 *
 * Images stored 'yxc' are read as if 'xyc' (x and y swapped): a learned 3x3 kernel over the
 * transposed image is the transposed kernel over the image, so the function class is the same.
 *
 * Grouped like nn/mlp.ts: G independent copies (F2A2-ISAC's per-agent copies; G = 1 for a
 * parameter-shared network) map inputs [G, R, O] to [G, R, outputs].
 */
import type { ObsBlock, PlaneBlock } from '../envs/types';
import type { Rng } from '../rng';
import { concatDiff } from './conv';
import { Linear } from './mlp';
import type { ParamSet } from './params';
import type { Tensor, Tf } from './tf';

const K = 3;

export interface TrunkShape {
  /** Image sides and channels as the rows store them (first block of the layout). */
  readonly w: number;
  readonly h: number;
  readonly c: number;
  /** Values after the image in a row (the feature vector). */
  readonly extra: number;
  /** Row length the trunk reads: w * h * c + extra. */
  readonly rowSize: number;
}

/** What a layout lacks for the trunk, in plain words; empty when it fits. */
export function trunkProblems(layout: readonly ObsBlock[]): string[] {
  const p = layout[0];
  if (!p || p.kind !== 'planes') return ['the observation does not start with a planes block (the convolutional trunk needs one)'];
  if (p.order === 'cyx') return [`the view is stored in 'cyx' order (the trunk reads 'xyc' or 'yxc')`];
  if (Math.min(p.width, p.height) < 2 * K - 1) return [`the view ${p.width}x${p.height} is smaller than two 3x3 convolutions need (5x5)`];
  return [];
}

export function trunkShape(layout: readonly ObsBlock[], rowSize: number): TrunkShape {
  const problems = trunkProblems(layout);
  if (problems.length > 0) throw new Error(`conv trunk: ${problems[0]}`);
  const p = layout[0] as PlaneBlock;
  // Swapped sides for 'yxc': the slow axis is read as x (see the header).
  const [w, h] = p.order === 'yxc' ? [p.height, p.width] : [p.width, p.height];
  return { w, h, c: p.channels, extra: rowSize - w * h * p.channels, rowSize };
}

/** Patches of a [N, w, h, c] tensor: [N, w-2, h-2, 9c] (3x3, stride 1, no padding). */
function patches(tf: Tf, x: Tensor, w: number, h: number): Tensor {
  const [n, , , c] = x.shape as number[];
  const parts: Tensor[] = [];
  for (let kx = 0; kx < K; kx++) for (let ky = 0; ky < K; ky++) parts.push(tf.slice(x, [0, kx, ky, 0], [n, w - K + 1, h - K + 1, c]));
  return concatDiff(tf, parts, 3);
}

/**
 * The first convolution's patches of observation rows, on the CPU: rows [n, rowSize] (the image
 * first, as [w][h][c]) -> [n * w1 * h1, 9c], the same values in the same places as
 * `patches(reshape(rows[:, :w*h*c], [n, w, h, c]))` reshaped to rows (patch row (i, j) of
 * sample m holds, for kx, ky in 0..2, the c values of pixel (i + kx, j + ky)). A copy, so the
 * matmul that reads it sees the same bits as with the in-graph patches; 9 Slices of a 4D tensor
 * and a Concat along its 7 channels are the costliest kernels of a battle update on wasm.
 */
export function imagePatchRows(rows: Float32Array, n: number, shape: TrunkShape, out?: Float32Array): Float32Array {
  const { w, h, c, rowSize } = shape;
  const w1 = w - K + 1;
  const h1 = h - K + 1;
  const pc = K * K * c;
  const o = out ?? new Float32Array(n * w1 * h1 * pc);
  let d = 0;
  for (let m = 0; m < n; m++) {
    const base = m * rowSize;
    for (let i = 0; i < w1; i++) {
      for (let j = 0; j < h1; j++) {
        for (let kx = 0; kx < K; kx++) {
          for (let ky = 0; ky < K; ky++) {
            const src = base + ((i + kx) * h + (j + ky)) * c;
            for (let ch = 0; ch < c; ch++) o[d++] = rows[src + ch];
          }
        }
      }
    }
  }
  return o;
}

export class ConvTrunk {
  readonly conv1: Linear;
  readonly conv2: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly head: Linear;
  private readonly w2: number;
  private readonly h2: number;

  constructor(
    private readonly tf: Tf,
    params: ParamSet,
    name: string,
    readonly shape: TrunkShape,
    readonly filters: number,
    readonly hidden: number,
    readonly outputs: number,
    readonly groups: number,
    rng: Rng,
  ) {
    const { w, h, c, extra } = shape;
    this.w2 = w - 2 * (K - 1);
    this.h2 = h - 2 * (K - 1);
    this.conv1 = new Linear(tf, params, `${name}/conv1`, K * K * c, filters, groups, rng);
    this.conv2 = new Linear(tf, params, `${name}/conv2`, K * K * filters, filters, groups, rng);
    this.fc1 = new Linear(tf, params, `${name}/fc1`, this.w2 * this.h2 * filters + extra, hidden, groups, rng);
    this.fc2 = new Linear(tf, params, `${name}/fc2`, hidden, hidden, groups, rng);
    this.head = new Linear(tf, params, `${name}/head`, hidden, outputs, groups, rng);
  }

  /**
   * The first convolution's patches of x [G, R, rowSize] (data): [G, R * w1 * h1, 9c]. Built on
   * the CPU from a read-back of x (`imagePatchRows`) unless `graphPatches` (the in-graph
   * reference: 9 Slices + a Concat; same values). Pass the result to `run` to reuse it across
   * networks that read the same rows.
   */
  firstPatches(x: Tensor, graphPatches = false): Tensor {
    const tf = this.tf;
    const { w, h, c } = this.shape;
    const G = x.shape[0] as number;
    const R = x.shape[1] as number;
    const w1 = w - K + 1;
    const h1 = h - K + 1;
    if (graphPatches) {
      return tf.tidy(() => {
        const img = tf.reshape(tf.slice(x, [0, 0, 0], [G, R, w * h * c]), [G * R, w, h, c]);
        return tf.reshape(patches(tf, img, w, h), [G, R * w1 * h1, K * K * c]);
      });
    }
    return tf.tensor3d(imagePatchRows(x.dataSync() as Float32Array, G * R, this.shape), [G, R * w1 * h1, K * K * c]);
  }

  /**
   * x [G, R, rowSize] (data) -> [G, R, outputs]. `train` = false uses the inference kernels
   * (acting, targets: no gradient); true records the custom-gradient ops. `p1` = x's first
   * patches (`firstPatches`), when the caller already has them; x is data, so they need no
   * gradient.
   */
  run(x: Tensor, train: boolean, p1?: Tensor, graphPatches = false): Tensor {
    const tf = this.tf;
    const { w, h, c, extra } = this.shape;
    const G = this.groups;
    const R = x.shape[1] as number;
    const F = this.filters;
    const lin = (l: Linear, v: Tensor, act: 'relu' | 'linear', inputGrad = true) => (train ? l.forward(v, act, inputGrad) : l.infer(v, act));
    return tf.tidy(() => {
      const w1 = w - K + 1;
      const h1 = h - K + 1;
      if (p1 === undefined) p1 = this.firstPatches(x, graphPatches);
      const c1 = tf.reshape(lin(this.conv1, p1, 'relu', false), [G * R, w1, h1, F]);
      const p2 = tf.reshape(patches(tf, c1, w1, h1), [G, R * this.w2 * this.h2, K * K * F]);
      let f = tf.reshape(lin(this.conv2, p2, 'relu'), [G, R, this.w2 * this.h2 * F]);
      if (extra > 0) f = concatDiff(tf, [f, tf.slice(x, [0, 0, w * h * c], [G, R, extra])], 2);
      const z1 = lin(this.fc1, f, 'relu');
      const z2 = lin(this.fc2, z1, 'relu');
      return lin(this.head, z2, 'linear');
    });
  }
}
