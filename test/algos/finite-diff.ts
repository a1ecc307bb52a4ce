/**
 * Gradient checks shared by the learners' tests: tape gradients by parameter name, central
 * finite differences against them, and a tolerance comparison of two gradient sets.
 */
import { expect } from 'vitest';
import type { ParamSet } from '../../src-shared/nn/params';
import type { Tensor } from '../../src-shared/nn/tf';
import { tf } from './helpers';

export function value(f: () => Tensor): number {
  return tf.tidy(() => f().dataSync()[0]);
}

/** Tape gradients of `loss` in `set`, by name. */
export function grads(set: ParamSet, loss: () => Tensor): Record<string, Float32Array> {
  const { grads } = set.grads(loss as never);
  const out: Record<string, Float32Array> = {};
  for (const [k, g] of Object.entries(grads)) {
    out[k] = Float32Array.from(g.dataSync() as Float32Array);
    g.dispose();
  }
  return out;
}

/**
 * Central finite differences of `loss` at a few entries of every parameter of `set`. An entry
 * whose one-sided slopes disagree sits on a (leaky) ReLU kink within +-h (the weights' draw decides
 * which): there the central difference is no derivative, so it is skipped, and at most a fifth
 * of the entries may be. A parameter the loss does not reach (no tape gradient) must have 0.
 */
export function checkFiniteDiff(set: ParamSet, loss: () => Tensor, tape: Record<string, Float32Array>, entries = 3): number {
  const h = 1e-3;
  let checked = 0;
  let kinks = 0;
  for (const name of set.names()) {
    const v = set.get(name);
    const base = Float32Array.from(v.dataSync() as Float32Array);
    // `entries` spread indices: the first, floor(e L / (entries - 1)) between, the last.
    const idx = new Set<number>([0, base.length - 1]);
    for (let e = 1; e < entries - 1; e++) idx.add(Math.floor((e * base.length) / (entries - 1)));
    for (const k of [...idx].sort((x, y) => x - y)) {
      const at = (d: number) => {
        const x = Float32Array.from(base);
        x[k] += d;
        const t = tf.tensor(x, v.shape);
        v.assign(t);
        t.dispose();
        return value(loss);
      };
      const up = at(h);
      const mid = at(0);
      const down = at(-h);
      const fd = (up - down) / (2 * h);
      const t = tf.tensor(base, v.shape);
      v.assign(t);
      t.dispose();
      if (Math.abs((up - mid) / h - (mid - down) / h) > 4e-3 + 4e-2 * Math.abs(fd) + (8 * Math.abs(mid) * 2 ** -23) / h) {
        kinks++;
        continue;
      }
      // The loss is a float32: a difference quotient cannot resolve less than a few ulps / h.
      const resolution = (4 * Math.max(Math.abs(up), Math.abs(down)) * 2 ** -23) / h;
      expect(Math.abs(fd - (tape[name]?.[k] ?? 0))).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd) + resolution);
      checked++;
    }
  }
  expect(kinks, 'entries on a ReLU kink').toBeLessThanOrEqual(Math.ceil((checked + kinks) / 5));
  return checked;
}

export function expectSameGrads(a: Record<string, Float32Array>, b: Record<string, Float32Array>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    let scale = 1e-6;
    for (const v of b[k]) scale = Math.max(scale, Math.abs(v));
    for (let m = 0; m < a[k].length; m++) expect(Math.abs(a[k][m] - b[k][m])).toBeLessThan(1e-4 * Math.max(1, scale));
  }
}
