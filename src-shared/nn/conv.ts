/**
 * A 2-D convolution (no padding, stride 1) as a shared dense layer over image patches, and a
 * differentiable concatenation.
 *
 * Why not tf.conv2d: the Node build of tfjs-core registers no gradients (nn/gradients.ts) and
 * the networks here are tiny, so a convolution is written as im2col on the CPU (done once, when
 * the input rows are built from the env buffers) followed by one grouped matmul over all
 * patches: conv(x)[p, :] = patch_p(x) @ W + b, with W [k*k*c, outChannels]. Every kernel in
 * that path already has a gradient. For a k x k kernel on a k x k image there is exactly one
 * patch and the convolution IS a dense layer over the whole image; the order of the image's
 * values inside the patch then only permutes W's rows.
 *
 * Images are stored [x][y][c] (MiniGrid's encode(), the Manitokan observation and state
 * layouts); a patch is written [kx][ky][c]; patches are ordered [px][py].
 */
import type { Tensor, Tf } from './tf';

/** Number of k x k patches (stride 1, no padding) in a w x h image. */
export function patchCount(w: number, h: number, k: number): number {
  if (!(k >= 1 && w >= k && h >= k)) throw new Error(`conv: kernel ${k} does not fit a ${w}x${h} image`);
  return (w - k + 1) * (h - k + 1);
}

/**
 * im2col for one [x][y][c] image at src[srcOff..]: writes patchCount(w, h, k) patches of
 * k*k*c values each to dst[dstOff..], every value multiplied by `scale`. Returns the number of
 * values written.
 */
export function im2col(
  src: ArrayLike<number>,
  srcOff: number,
  w: number,
  h: number,
  c: number,
  k: number,
  dst: Float32Array,
  dstOff: number,
  scale = 1,
): number {
  let o = dstOff;
  for (let px = 0; px + k <= w; px++) {
    for (let py = 0; py + k <= h; py++) {
      for (let kx = 0; kx < k; kx++) {
        for (let ky = 0; ky < k; ky++) {
          const s = srcOff + ((px + kx) * h + (py + ky)) * c;
          for (let ch = 0; ch < c; ch++) dst[o++] = src[s + ch] * scale;
        }
      }
    }
  }
  return o - dstOff;
}

/**
 * tf.concat along `axis` as a custom-gradient op (the Concat kernel has no registered gradient
 * in Cairn's set): the gradient of each input is its slice of dy. Inputs that are data simply
 * receive a gradient nobody reads.
 */
export function concatDiff(tf: Tf, xs: Tensor[], axis: number): Tensor {
  if (xs.length === 1) return tf.clone(xs[0]);
  const rank = xs[0].rank;
  const ax = axis < 0 ? rank + axis : axis;
  const sizes = xs.map((x) => x.shape[ax]);
  const op = tf.customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, xs.length) as Tensor[];
    const value = tf.concat(inputs, ax);
    const gradFunc = (dy: Tensor): Tensor[] => tf.split(dy, sizes, ax);
    return { value, gradFunc };
  });
  return op(...xs);
}
