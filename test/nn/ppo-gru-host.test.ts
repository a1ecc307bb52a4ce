/**
 * PpoNet's GRU layer on the wasm-blas backend's host gemm (lnGruLayerHost, nn/ppo-gru-host.ts,
 * issue-15q) against lnGruLayerGroups on the same backend: outputs and every parameter gradient
 * within float32 rounding of another summation order (relative 2e-4 of each array's largest
 * value), with far fewer tfjs kernels; and on `wasm` it is never taken (same bits and kernel
 * count whatever the switch says). Skips where the addon or a CBLAS library is missing, except
 * under CI (which installs both).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadBlas } from '../../src-main/backend/blas';
import { initBackend } from '../../src-main/backend/select';
import { kernelHostGemm } from '../../src-shared/nn/gru-simd';
import { PpoNet } from '../../src-shared/nn/ppo-net';
import { ppoKernel } from '../../src-shared/nn/ppo-kernel';
import type { Tf } from '../../src-shared/nn/tf';
import { Rng } from '../../src-shared/rng';
import { ippoEntry } from '../../src-shared/algos/ippo';
import { mappoEntry } from '../../src-shared/algos/mappo';
import { runTrace, sequenceRun, type SequenceRun } from '../algos/helpers';

let why = '';
try {
  loadBlas();
} catch (e) {
  why = (e as Error).message;
}
if (why && process.env.CI) throw new Error(`CI installs a compiler and OpenBLAS, yet wasm-blas cannot load: ${why}`);
if (why) console.warn(`test/nn/ppo-gru-host.test.ts skipped: ${why}`);
const maybe = why ? describe.skip : describe;

/** Value and parameter gradients with the host GRU layer on or off. */
function run(net: PpoNet, host: boolean, p: Float32Array, e: Float32Array, h0: Float32Array, L: number, S: number, w: Float32Array): SequenceRun {
  ppoKernel.hostGates = host;
  try {
    return sequenceRun(net, p, e, h0, L, S, w);
  } finally {
    ppoKernel.hostGates = true;
  }
}

/** max |a - b| over max |b| (1 when b is all zeros). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

const CASES = [
  // name, P, K, E, groups, L, S, layers in the kernel (stacked GRU input) or per group
  ['per-agent actors (IPPO-like)', 1, 12, 5, 2, 4, 6, true],
  ['shared actor, one group', 1, 12, 5, 1, 3, 5, true],
  ['state critic (convolution), no extras', 4, 9, 0, 1, 3, 4, true],
  ['per-group GRU inputs (layers on tfjs)', 1, 12, 5, 2, 3, 5, false],
  ['chunks of one step', 1, 12, 5, 2, 1, 7, true],
] as const;

function setup(P: number, K: number, E: number, G: number, L: number, S: number) {
  const H = 8;
  const rng = new Rng(31, P * 10 + G + L);
  const net = new PpoNet(tf as unknown as Tf, { P, K, E }, G, H, 3, 'relu', 0.5, rng, true);
  const rows = G * L * S;
  return {
    net,
    p: Float32Array.from({ length: rows * P * K }, () => rng.int(4) * 0.5),
    e: Float32Array.from({ length: rows * E }, () => rng.int(2)),
    h0: Float32Array.from({ length: G * S * H }, () => rng.normal() * 0.5),
    w: Float32Array.from({ length: rows * 3 }, () => rng.normal()),
  };
}

maybe('PpoNet GRU layer on the host gemm (wasm-blas)', () => {
  beforeAll(async () => {
    await initBackend('wasm-blas');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => {
    ppoKernel.layers = true;
  });

  it.each(CASES)('%s: lnGruLayerGroups within 2e-4, fewer kernels', (_n, P, K, E, G, L, S, layers) => {
    expect(kernelHostGemm()).not.toBeNull();
    ppoKernel.layers = layers;
    const { net, p, e, h0, w } = setup(P, K, E, G, L, S);
    const ref = run(net, false, p, e, h0, L, S, w);
    const got = run(net, true, p, e, h0, L, S, w);
    expect(relDiff(got.value, ref.value)).toBeLessThan(2e-4);
    expect(Object.keys(got.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    for (const [k, g] of Object.entries(ref.grads)) {
      expect(g.some((v) => v !== 0), `${k} has a gradient`).toBe(true);
      expect(relDiff(got.grads[k], g), k).toBeLessThan(2e-4);
    }
    // The host path runs the recurrence outside tfjs: per step no kernels at all.
    if (L > 1) expect(got.kernels).toBeLessThan(ref.kernels);
    net.params.dispose();
  });

  it('same (inputs, weights) twice: the same bits (one BLAS thread, no timing in the order)', () => {
    const { net, p, e, h0, w } = setup(1, 12, 5, 2, 4, 6);
    const a = run(net, true, p, e, h0, 4, 6, w);
    const b = run(net, true, p, e, h0, 4, 6, w);
    expect(Buffer.from(b.value.buffer).equals(Buffer.from(a.value.buffer))).toBe(true);
    for (const [k, g] of Object.entries(a.grads)) expect(Buffer.from(b.grads[k].buffer).equals(Buffer.from(g.buffer)), k).toBe(true);
    net.params.dispose();
  });
});

/** PpoNet.step's outputs and next states for R rows per group. */
function stepRun(net: PpoNet, host: boolean, G: number, R: number, P: number, K: number, E: number, seed: number): { out: Float32Array; h: Float32Array } {
  const rng = new Rng(seed, 9);
  const H = 8;
  const hPrev = Float32Array.from({ length: G * R * H }, () => rng.normal() * 0.5);
  const hNext = new Float32Array(G * R * H);
  ppoKernel.hostGates = host;
  try {
    const out = tf.tidy(() => {
      const p = tf.tensor(Float32Array.from({ length: G * R * P * K }, () => rng.int(4) * 0.5), [G, R * P, K]);
      const e = E > 0 ? tf.tensor(Float32Array.from({ length: G * R * E }, () => rng.int(2)), [G, R, E]) : null;
      return net.step(p as never, e as never, R, hPrev, hNext);
    });
    return { out, h: hNext.slice() };
  } finally {
    ppoKernel.hostGates = true;
  }
}

maybe('PpoNet.step on the host gemm (wasm-blas)', () => {
  beforeAll(async () => {
    await initBackend('wasm-blas');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  it.each([
    ['per-agent actors', 1, 12, 5, 2, 6],
    ['state critic (convolution)', 4, 9, 0, 1, 5],
  ] as const)('%s: GRUCell.stepRows within 2e-4', (_n, P, K, E, G, R) => {
    const { net } = setup(P, K, E, G, 1, R);
    const ref = stepRun(net, false, G, R, P, K, E, 3);
    const got = stepRun(net, true, G, R, P, K, E, 3);
    expect(relDiff(got.h, ref.h)).toBeLessThan(2e-4);
    expect(relDiff(got.out, ref.out)).toBeLessThan(2e-4);
    // Not vacuous: the paths differ (float64 JS gates vs the kernel's float32 ones).
    expect(Buffer.from(got.h.buffer).equals(Buffer.from(ref.h.buffer))).toBe(false);
    net.params.dispose();
  });
});

// A whole trainer on wasm-blas: (config, seed) gives the same run again, and the host path is
// what ran (the switch off gives another run: other rounding).
maybe('IPPO and MAPPO on wasm-blas', () => {
  beforeAll(async () => {
    await initBackend('wasm-blas');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  const cfg = { numEnvs: 3, env: { episodeLimit: 12 }, algo: { epochs: 2 }, seed: 5 };
  it.each([
    ['ippo', ippoEntry],
    ['mappo', mappoEntry],
  ] as const)('%s: two rounds twice give the same episodes, stats and weights', async (_n, entry) => {
    const a = await runTrace(entry, cfg, 2);
    const b = await runTrace(entry, cfg, 2);
    expect(b).toBe(a);
    ppoKernel.hostGates = false;
    try {
      expect(await runTrace(entry, cfg, 2)).not.toBe(a);
    } finally {
      ppoKernel.hostGates = true;
    }
  });
});

describe('PpoNet GRU layer on plain wasm: the host path is never taken', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('no host gemm; the switch changes no bit and no kernel count', () => {
    expect(kernelHostGemm()).toBeNull();
    const { net, p, e, h0, w } = setup(1, 12, 5, 2, 4, 6);
    const off = run(net, false, p, e, h0, 4, 6, w);
    const on = run(net, true, p, e, h0, 4, 6, w);
    expect(on.kernels).toBe(off.kernels);
    expect(Buffer.from(on.value.buffer).equals(Buffer.from(off.value.buffer))).toBe(true);
    for (const [k, g] of Object.entries(off.grads)) expect(Buffer.from(on.grads[k].buffer).equals(Buffer.from(g.buffer)), k).toBe(true);
    const a = stepRun(net, false, 2, 6, 1, 12, 5, 4);
    const b = stepRun(net, true, 2, 6, 1, 12, 5, 4);
    expect(Buffer.from(b.h.buffer).equals(Buffer.from(a.h.buffer))).toBe(true);
    expect(Buffer.from(b.out.buffer).equals(Buffer.from(a.out.buffer))).toBe(true);
    net.params.dispose();
  });
});
