/**
 * Gradient functions for the kernels Cairn's networks differentiate through.
 *
 * Why this file exists: tfjs-core's Node entry point (`dist/tf-core.node.js`) ships the ops but
 * registers no gradients; the official registrations live in the ES-module build
 * (`dist/register_all_gradients.js`), which Node cannot load from that package (extensionless
 * directory imports in a CommonJS package). Without them `tf.variableGrads` fails with
 * "gradient function not found for Sum". So we register our own, for exactly the kernels used
 * under a gradient tape in src-shared/nn, and only where no gradient is registered yet (if the
 * official set is ever loaded, it wins).
 *
 * Each function follows the textbook derivative; broadcasting binary ops reduce the upstream
 * gradient back to the input's shape. test/nn/gradients.test.ts checks every one against
 * central finite differences.
 */
import type { Tensor, Tf } from './tf';

type Attrs = Record<string, unknown>;
type GradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Attrs) => Record<string, () => Tensor>;
interface GradConfig {
  kernelName: string;
  inputsToSave?: string[];
  outputsToSave?: boolean[];
  gradFunc: GradFunc;
}

/** Kernels this module provides gradients for (exported for the test). */
export const GRADIENT_KERNELS = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Neg',
  'Square',
  'Sqrt',
  'Rsqrt',
  'Exp',
  'Log',
  'Erf',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Sum',
  'Mean',
  'Reshape',
  'Cast',
  'Identity',
  'BatchMatMul',
  'Slice',
  'SplitV',
] as const;

/**
 * Register the gradients (idempotent; cheap to call from every trainer). Call it before any
 * op runs under `tf.variableGrads`, because kernels save their inputs for backprop only when a
 * gradient is registered at the time they run.
 */
export function registerGradients(tf: Tf): void {
  const single = (dy: Tensor | Tensor[]): Tensor => (Array.isArray(dy) ? dy[0] : dy);
  /** Sum a broadcast gradient back to `shape`. */
  const reduceTo = (g: Tensor, shape: number[]): Tensor => {
    const axes = tf.backend_util.getReductionAxes(shape, g.shape);
    const r = axes.length > 0 ? tf.sum(g, axes) : g;
    return tf.reshape(r, shape);
  };
  const f32 = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

  /** Gradient of a reduction over `axis`: broadcast dy back over the reduced axes. */
  const expandReduced = (dy: Tensor, xShape: number[], axis: unknown): Tensor => {
    const axes = tf.util.parseAxisParam(axis as number | number[], xShape);
    const expanded = xShape.slice();
    for (const a of axes) expanded[a] = 1;
    return tf.mul(tf.reshape(dy, expanded), tf.ones(xShape, 'float32'));
  };

  /**
   * matMul with explicit transposes: the wasm backend runs transposed matmuls through a slow
   * generic loop, so we transpose (cheap) and multiply plainly.
   */
  const mm = (x: Tensor, y: Tensor, tx: boolean, ty: boolean): Tensor => {
    const t = (z: Tensor) => tf.transpose(z, [...Array.from({ length: z.rank - 2 }, (_, i) => i), z.rank - 1, z.rank - 2]);
    return tf.matMul((tx ? t(x) : x) as never, (ty ? t(y) : y) as never);
  };

  /** d(matMul(a, b, tA, tB)) for rank >= 2, reducing broadcast batch dimensions. */
  const matMulGrads = (dy: Tensor, a: Tensor, b: Tensor, tA: boolean, tB: boolean) => {
    let da: () => Tensor;
    let db: () => Tensor;
    if (!tA && !tB) {
      da = () => mm(dy, b, false, true);
      db = () => mm(a, dy, true, false);
    } else if (!tA && tB) {
      da = () => mm(dy, b, false, false);
      db = () => mm(dy, a, true, false);
    } else if (tA && !tB) {
      da = () => mm(b, dy, false, true);
      db = () => mm(a, dy, false, false);
    } else {
      da = () => mm(b, dy, true, true);
      db = () => mm(dy, a, true, true);
    }
    const fit = (g: Tensor, shape: number[]): Tensor => {
      if (g.rank === shape.length && tf.util.arraysEqual(g.shape, shape)) return g;
      // Broadcast batch dims: sum the extra leading dims, then the size-1 dims.
      const lead = g.rank - shape.length;
      const r = lead > 0 ? tf.sum(g, Array.from({ length: lead }, (_, i) => i)) : g;
      return reduceTo(r, shape);
    };
    return { a: () => fit(da(), a.shape), b: () => fit(db(), b.shape) };
  };

  const configs: GradConfig[] = [
    {
      kernelName: 'Add',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({
        a: () => reduceTo(single(dy), a.shape),
        b: () => reduceTo(single(dy), b.shape),
      }),
    },
    {
      kernelName: 'Sub',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({
        a: () => reduceTo(single(dy), a.shape),
        b: () => reduceTo(tf.neg(single(dy)), b.shape),
      }),
    },
    {
      kernelName: 'Multiply',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({
        a: () => reduceTo(tf.mul(single(dy), f32(b)), a.shape),
        b: () => reduceTo(tf.mul(single(dy), f32(a)), b.shape),
      }),
    },
    {
      kernelName: 'RealDiv',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({
        a: () => reduceTo(tf.div(single(dy), f32(b)), a.shape),
        b: () => reduceTo(tf.neg(tf.div(tf.mul(single(dy), f32(a)), tf.square(f32(b)))), b.shape),
      }),
    },
    { kernelName: 'Neg', gradFunc: (dy) => ({ x: () => tf.neg(single(dy)) }) },
    {
      kernelName: 'Square',
      inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.mul(single(dy), tf.mul(f32(x), 2)) }),
    },
    {
      kernelName: 'Sqrt',
      outputsToSave: [true],
      // d sqrt(x) = 1 / (2 sqrt(x)), from the saved output.
      gradFunc: (dy, [y]) => ({ x: () => tf.div(single(dy), tf.mul(y, 2)) }),
    },
    {
      kernelName: 'Rsqrt',
      outputsToSave: [true],
      // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3.
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(single(dy), tf.mul(tf.mul(tf.square(y), y), -0.5)) }),
    },
    {
      kernelName: 'Exp',
      outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(single(dy), y) }),
    },
    {
      kernelName: 'Log',
      inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.div(single(dy), f32(x)) }),
    },
    {
      kernelName: 'Erf',
      inputsToSave: ['x'],
      // d erf(x) = 2/sqrt(pi) exp(-x^2).
      gradFunc: (dy, [x]) => ({
        x: () => tf.mul(single(dy), tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI))),
      }),
    },
    {
      kernelName: 'Relu',
      inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.mul(single(dy), tf.step(f32(x))) }),
    },
    {
      kernelName: 'Sigmoid',
      outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(single(dy), tf.mul(y, tf.sub(1, y))) }),
    },
    {
      kernelName: 'Tanh',
      outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(single(dy), tf.sub(1, tf.square(y))) }),
    },
    {
      kernelName: 'Sum',
      inputsToSave: ['x'],
      gradFunc: (dy, [x], attrs) => ({ x: () => expandReduced(single(dy), x.shape, attrs.axis) }),
    },
    {
      kernelName: 'Mean',
      inputsToSave: ['x'],
      gradFunc: (dy, [x], attrs) => ({
        x: () => {
          const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
          const count = axes.reduce((p, a) => p * x.shape[a], 1);
          return tf.div(expandReduced(single(dy), x.shape, axes), count);
        },
      }),
    },
    {
      kernelName: 'Reshape',
      inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.reshape(single(dy), x.shape) }),
    },
    { kernelName: 'Cast', gradFunc: (dy) => ({ x: () => tf.clone(single(dy)) }) },
    { kernelName: 'Identity', gradFunc: (dy) => ({ x: () => f32(single(dy)) }) },
    {
      kernelName: 'BatchMatMul',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b], attrs) =>
        matMulGrads(single(dy), a, b, Boolean(attrs.transposeA), Boolean(attrs.transposeB)),
    },
    {
      kernelName: 'Slice',
      inputsToSave: ['x'],
      gradFunc: (dy, [x], attrs) => ({
        x: () => {
          const [begin, size] = tf.slice_util.parseSliceParams(
            x,
            attrs.begin as number | number[],
            attrs.size as number | number[] | undefined,
          );
          const pads: Array<[number, number]> = x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]]);
          return tf.pad(single(dy), pads);
        },
      }),
    },
    {
      kernelName: 'SplitV',
      gradFunc: (dy, _saved, attrs) => ({
        x: () => tf.concat(dy as Tensor[], attrs.axis as number),
      }),
    },
  ];
  for (const c of configs) {
    if (tf.getGradient(c.kernelName) == null) {
      tf.registerGradient(c as unknown as Parameters<Tf['registerGradient']>[0]);
    }
  }
}
