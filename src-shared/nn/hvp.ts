/**
 * Second-order gradients: Hessian-vector products by double backprop (Pearlmutter 1994, "fast
 * exact multiplication by the Hessian": H v = grad_theta (grad_theta f(theta) . v), v constant).
 *
 * How it works in TensorFlow.js: `engine.gradients` records the forward on a tape, and when it
 * is called while an outer gradient tape is recording, the ops of its backward pass are
 * recorded too (the engine only clears the tape when the outermost call returns). So an inner
 * gradient computed inside an outer gradient's function is itself differentiable, provided
 * every op that the inner backward runs has a gradient of its own. Forward-over-reverse is not
 * available (tfjs has no forward mode), so this is reverse-over-reverse.
 *
 * What that requires of the gradient functions: nn/gradients.ts registers first-order
 * gradients built from differentiable ops, but the ops THOSE functions use must have
 * gradients too. `registerSecondOrderGradients` adds the missing ones: Step (the ReLU
 * derivative; zero), Transpose (explicit transposes in the matmul gradients), Concat (the
 * gradient of SplitV), PadV2 (the gradient of Slice), Pack / Unpack (stack / unstack: grouped
 * matmuls, the tape GRU's time steps), ZerosLike / OnesLike (zero). As in nn/gradients.ts, a
 * kernel keeps whatever gradient is already registered.
 *
 * The catch: gradients that use a SAVED OUTPUT. The engine saves a kernel's outputs for its
 * backward as clones whose tape entries are recorded BEFORE the kernel's own entry, so a later
 * search for paths from the variables never reaches them: differentiating such a gradient
 * again sees the saved output as a constant. That silently drops second-order terms for Exp,
 * Sigmoid, Tanh, Sqrt, Rsqrt (nn/gradients.ts and tfjs' own registrations save outputs) and
 * for custom-gradient ops that save their output (tf.logSoftmax). Under a second-order tape,
 * use this module's `so.*` versions instead: custom-gradient ops that save only their INPUT and
 * recompute from it (their own gradient ops may save outputs: that only matters one order up).
 * ReLU is fine (its second derivative is zero anyway), as are Erf and Log (they save inputs).
 *
 * Also not twice differentiable: custom-gradient ops whose gradient is computed on the CPU,
 * notably the fused GRU sequence (nn/gru.ts `sequence`): its backward builds tensors from
 * read-back arrays, so second-order terms through its own backward are lost (terms through
 * layers after it survive, so the result is wrong rather than zero). Use `tapeLogits`
 * (algos/recurrent-actor.ts), which runs the cell on the tape with `so.sigmoid` / `so.tanh`.
 * `groupedLinear` (nn/mlp.ts) is fine: its custom gradient is made of tfjs ops on saved inputs.
 *
 * test/nn/hvp.test.ts checks H v against central finite differences of the gradient on a tiny
 * MLP and on a small GRU policy.
 */
import { MASKED_LOGP } from './categorical';
import type { Scalar, Tensor, Tf, Variable } from './tf';

type Attrs = Record<string, unknown>;
type GradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Attrs) => Record<string, () => Tensor> | Array<() => Tensor>;
interface GradConfig {
  kernelName: string;
  inputsToSave?: string[];
  saveAllInputs?: boolean;
  gradFunc: GradFunc;
}

/** Kernels this module provides gradients for (exported for the test). */
export const SECOND_ORDER_KERNELS = ['Step', 'Transpose', 'Concat', 'PadV2', 'Pack', 'Unpack', 'ZerosLike', 'OnesLike'] as const;

/** Register the gradients second-order tapes need beyond nn/gradients.ts (idempotent). */
export function registerSecondOrderGradients(tf: Tf): void {
  const single = (dy: Tensor | Tensor[]): Tensor => (Array.isArray(dy) ? dy[0] : dy);
  const configs: GradConfig[] = [
    // d step(x) = 0 almost everywhere.
    { kernelName: 'Step', gradFunc: (dy) => ({ x: () => tf.zerosLike(single(dy)) }) },
    { kernelName: 'ZerosLike', gradFunc: (dy) => ({ x: () => tf.zerosLike(single(dy)) }) },
    { kernelName: 'OnesLike', gradFunc: (dy) => ({ x: () => tf.zerosLike(single(dy)) }) },
    {
      kernelName: 'Transpose',
      gradFunc: (dy, _saved, attrs) => ({
        x: () => tf.transpose(single(dy), tf.backend_util.getUndoAxesPermutation(attrs.perm as number[])),
      }),
    },
    {
      kernelName: 'Concat',
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs) => {
        const axis = tf.util.parseAxisParam(attrs.axis as number, saved[0].shape)[0];
        const parts = tf.split(single(dy), saved.map((t) => t.shape[axis]), axis);
        return parts.map((p) => () => p);
      },
    },
    {
      kernelName: 'PadV2',
      inputsToSave: ['x'],
      gradFunc: (dy, [x], attrs) => ({
        x: () => tf.slice(single(dy), (attrs.paddings as Array<[number, number]>).map((p) => p[0]), x.shape),
      }),
    },
    {
      kernelName: 'Pack',
      saveAllInputs: true,
      gradFunc: (dy, _saved, attrs) => tf.unstack(single(dy), attrs.axis as number).map((t) => () => t),
    },
    {
      // Outputs nobody used arrive as zeros (the engine fills them in).
      kernelName: 'Unpack',
      gradFunc: (dy, _saved, attrs) => ({ value: () => tf.stack(dy as Tensor[], attrs.axis as number) }),
    },
  ];
  for (const c of configs) {
    if (tf.getGradient(c.kernelName) == null) {
      tf.registerGradient(c as unknown as Parameters<Tf['registerGradient']>[0]);
    }
  }
}

/**
 * Ops whose gradients are twice differentiable (see the header): each saves its input and
 * recomputes what its gradient needs from it. Same values as the tfjs ops.
 */
export function secondOrderOps(tf: Tf) {
  const unary = (fwd: (x: Tensor) => Tensor, dfdx: (x: Tensor) => Tensor) =>
    tf.customGrad((...args: unknown[]) => {
      const x = args[0] as Tensor;
      (args[1] as (ts: Tensor[]) => void)([x]);
      return { value: fwd(x), gradFunc: (dy: Tensor, [xs]: Tensor[]) => tf.mul(dy, dfdx(xs)) };
    }) as (x: Tensor) => Tensor;
  const exp = unary(
    (x) => tf.exp(x),
    (x) => tf.exp(x),
  );
  const sigmoid = unary(
    (x) => tf.sigmoid(x),
    (x) => {
      const s = tf.sigmoid(x);
      return tf.mul(s, tf.sub(1, s));
    },
  );
  const tanh = unary(
    (x) => tf.tanh(x),
    (x) => tf.sub(1, tf.square(tf.tanh(x))),
  );
  /** log-softmax over the last axis; gradient dy - sum(dy) softmax(x), softmax from x. */
  const logSoftmax = tf.customGrad((...args: unknown[]) => {
    const x = args[0] as Tensor;
    (args[1] as (ts: Tensor[]) => void)([x]);
    return {
      value: tf.logSoftmax(x),
      gradFunc: (dy: Tensor, [xs]: Tensor[]) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), tf.exp(tf.logSoftmax(xs)))),
    };
  }) as (x: Tensor) => Tensor;
  /**
   * nn/categorical.ts `maskedLogProbs` with these ops: log pi for logits [..., A] and a 0/1
   * mask, epsilon floor optional; unavailable entries hold MASKED_LOGP.
   */
  const maskedLogProbs = (logits: Tensor, mask: Tensor, epsilon = 0): Tensor =>
    tf.tidy(() => {
      const A = logits.shape[logits.rank - 1];
      const off = tf.mul(tf.sub(1, mask), MASKED_LOGP);
      if (epsilon === 0) return tf.add(tf.mul(logSoftmax(tf.add(logits, off)), mask), off);
      const p = tf.add(tf.mul(exp(logSoftmax(logits)), 1 - epsilon), epsilon / A);
      const logZ = tf.log(tf.sum(tf.mul(p, mask), -1, true));
      return tf.add(tf.mul(tf.sub(tf.log(p), logZ), mask), off);
    });
  return { exp, sigmoid, tanh, logSoftmax, maskedLogProbs };
}

export type SecondOrderOps = ReturnType<typeof secondOrderOps>;

/** Differentiates an already computed scalar y w.r.t. tensors xs; see `doubleBackprop`. */
export type InnerGrad = (y: Scalar, xs: Tensor[]) => Tensor[];

/**
 * d body / d vars, where `body` may take inner gradients that stay differentiable:
 * `grad(y, xs)` returns dy/dxs for a scalar y computed inside body from tensors xs that were
 * also computed (or passed) inside body; the result is on the outer tape. Entries of the
 * result are zeros where body does not depend on a variable. Everything body creates is
 * disposed; the caller owns the returned gradients.
 */
export function doubleBackprop(
  tf: Tf,
  vars: Variable[],
  body: (grad: InnerGrad) => Scalar,
): { value: number; grads: Tensor[] } {
  const engine = tf.engine();
  const grad: InnerGrad = (y, xs) => {
    const { value, grads } = engine.gradients(() => y, xs, undefined, true);
    void value; // y itself, owned by the outer scope
    return xs.map((x, i) => grads[i] ?? tf.zerosLike(x));
  };
  const { value, grads } = engine.gradients(() => body(grad), vars, undefined, true);
  const out = vars.map((v, i) => grads[i] ?? tf.zerosLike(v));
  const val = value.dataSync()[0];
  value.dispose();
  return { value: val, grads: out };
}

/**
 * Hessian-vector product of a scalar f over `vars`: (H v)_k = sum_l d^2 f / d theta_k d theta_l
 * v_l, with v given per variable (same shapes). Also returns f. Two reverse passes and one
 * forward; the caller owns the returned tensors.
 */
export function hessianVectorProduct(tf: Tf, f: () => Scalar, vars: Variable[], v: Tensor[]): { value: number; hvp: Tensor[] } {
  if (v.length !== vars.length) throw new Error(`hessianVectorProduct: ${vars.length} variables but ${v.length} vector parts`);
  let fv = 0;
  const { grads } = doubleBackprop(tf, vars, (grad) => {
    const y = f();
    fv = y.dataSync()[0];
    const g = grad(y, vars);
    let dot: Tensor = tf.scalar(0);
    g.forEach((gi, i) => {
      dot = tf.add(dot, tf.sum(tf.mul(gi, v[i])));
    });
    return dot as Scalar;
  });
  return { value: fv, hvp: grads };
}
