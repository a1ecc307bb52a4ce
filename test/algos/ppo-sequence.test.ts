/**
 * PpoNet.sequence (layers once over all steps of a chunk, the recurrence as one op with a
 * hand-written backward; issue 15) against sequenceReference (the per-step network it
 * replaced): the same bits for the outputs and for every parameter gradient, and fewer kernels.
 * Covers one and several groups (MAPPO's shared nets, IPPO's per-agent nets), the critic's real
 * convolution (P > 1), no extras (E = 0), chunks of one step, and the released code's GELU.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PpoNet } from '../../src-shared/nn/ppo-net';
import { ppoStaging } from '../../src-shared/nn/ppo-gru';
import { ppoKernel } from '../../src-shared/nn/ppo-kernel';
import type { Activation } from '../../src-shared/nn/mlp';
import { Rng } from '../../src-shared/rng';
import { sequenceRun, setupTf, tf, type SequenceRun } from './helpers';

/** Value and parameter gradients; 'legacy': sequence() with the staging it replaced. */
function run(net: PpoNet, reference: boolean | 'legacy', p: Float32Array, e: Float32Array, h0: Float32Array, L: number, S: number, w: Float32Array): SequenceRun {
  ppoStaging.legacy = reference === 'legacy';
  try {
    return sequenceRun(net, p, e, h0, L, S, w, reference === true);
  } finally {
    ppoStaging.legacy = false;
  }
}

// Both GRU-layer paths of PpoNet.sequence: all groups at once with the wasm kernel's matmuls
// (lnGruLayerGroups, the default on wasm) and per group with tfjs's (lnGruLayer).
// Since issue-15f also the feed-forward layers over all groups as one op each (ppoTrunkGroups,
// ppoHeadGroups; the default on wasm for relu) or per group on tfjs (blockLinear).
describe.each([
  ['groups at once, kernel matmuls, layers too', true, true],
  ['groups at once, kernel matmuls, layers per group', true, false],
  ['per group, tfjs matmuls', false, false],
])('PpoNet.sequence equals the per-step reference bit for bit (%s)', (_path, kernel, layers) => {
  beforeAll(setupTf);
  beforeEach(() => {
    ppoKernel.matmul = kernel;
    ppoKernel.layers = layers;
  });
  afterEach(() => {
    ppoKernel.matmul = true;
    ppoKernel.layers = true;
  });

  it.each([
    // name, P, K, E, groups, L, S, activation
    ['actor, shared', 1, 12, 5, 1, 4, 6, 'relu', true],
    ['actors per agent', 1, 12, 5, 2, 3, 5, 'relu'],
    ['state critic (convolution), no extras', 4, 9, 0, 1, 3, 4, 'relu'],
    ['chunks of one step', 4, 9, 3, 2, 1, 7, 'relu'],
    ['released code GELU', 1, 12, 5, 2, 3, 4, 'gelu'],
    // The MLP of the 'features' variants (EITI, EDTI, social influence): no GRU.
    ['MLP, no GRU, per agent', 1, 12, 5, 2, 3, 4, 'relu', false],
  ] as const)('%s', (_name, P, K, E, G, L, S, act, recurrent?: boolean) => {
    const H = 8;
    const A = 3;
    const rng = new Rng(21, P * 10 + G + L);
    const net = new PpoNet(tf, { P, K, E }, G, H, A, act as Activation, 0.5, rng, recurrent ?? true);
    const rows = G * L * S;
    const p = Float32Array.from({ length: rows * P * K }, () => rng.int(4));
    const e = Float32Array.from({ length: rows * E }, () => rng.int(2));
    const h0 = Float32Array.from({ length: G * S * H }, () => rng.normal() * 0.5);
    const w = Float32Array.from({ length: rows * A }, () => rng.normal());
    const ref = run(net, true, p, e, h0, L, S, w);
    const got = run(net, false, p, e, h0, L, S, w);
    expect(Array.from(got.value)).toEqual(Array.from(ref.value));
    expect(Object.keys(got.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    for (const [k, g] of Object.entries(ref.grads)) {
      // Not vacuous: every parameter gets a gradient that is not all zeros.
      expect(g.some((v) => v !== 0), `${k} has a gradient`).toBe(true);
      expect(Array.from(got.grads[k]), k).toEqual(Array.from(g));
    }
    if (L > 1) expect(got.kernels).toBeLessThan(ref.kernels);
    net.params.dispose();
  });

  // The operand staging of issue 15m (transposed blocks as views, the conv's patches transposed
  // on the CPU with a ones row for the bias gradient) against the staging before it, at sizes
  // where the sums run over thousands of rows (MAPPO's state critic: 16 patches of 3x3x3 per
  // row, 6 extras, 64 units; 240 sequences of 10 steps): XNNPACK's and Sum's long reductions.
  it.each([
    ['state critic, MAPPO sizes', 16, 27, 6, 1, 10, 240],
    ['per-agent actors, IPPO sizes', 1, 75, 6, 2, 10, 96],
  ] as const)('the staging of issue 15m gives the legacy bits: %s', (_name, P, K, E, G, L, S) => {
    const H = 64;
    const rng = new Rng(23, P + K);
    const net = new PpoNet(tf, { P, K, E }, G, H, 1, 'relu', 1, rng);
    const rows = G * L * S;
    const p = Float32Array.from({ length: rows * P * K }, () => rng.int(5) * 0.25);
    const e = Float32Array.from({ length: rows * E }, () => rng.int(2));
    const h0 = Float32Array.from({ length: G * S * H }, () => rng.normal() * 0.5);
    const w = Float32Array.from({ length: rows }, () => rng.normal());
    const old = run(net, 'legacy', p, e, h0, L, S, w);
    const got = run(net, false, p, e, h0, L, S, w);
    expect(Buffer.from(got.value.buffer).equals(Buffer.from(old.value.buffer))).toBe(true);
    for (const [k, g] of Object.entries(old.grads)) {
      expect(g.some((v) => v !== 0), `${k} has a gradient`).toBe(true);
      expect(Buffer.from(got.grads[k].buffer).equals(Buffer.from(g.buffer)), k).toBe(true);
    }
    net.params.dispose();
  });
});

// The rollout step with the trunk and head in the wasm kernel (ppoTrunkInfer / ppoHeadInfer,
// issue-15f) against the per-group tfjs step (linearInfer): the same outputs and next states.
describe('PpoNet.step: kernel trunk and head equal the tfjs step bit for bit', () => {
  beforeAll(setupTf);
  afterEach(() => {
    ppoKernel.layers = true;
  });
  it.each([
    // name, P, K, E, groups, rows per group
    ['shared actor', 1, 75, 6, 1, 64],
    ['per-agent actors', 1, 75, 6, 2, 32],
    ['state critic (convolution)', 16, 27, 6, 1, 32],
    ['no extras, per agent', 4, 9, 0, 2, 7],
  ] as const)('%s', (_name, P, K, E, G, R) => {
    const H = 64;
    const A = 5;
    const rng = new Rng(29, P + K + G);
    const net = new PpoNet(tf, { P, K, E }, G, H, A, 'relu', 0.5, rng);
    // Biases away from their zero init, so that the bias adds are exercised.
    for (const b of [net.conv.bias, net.fc1.bias, net.fc2.bias, net.head.bias]) b.assign(tf.tensor1d(Float32Array.from({ length: b.size }, () => rng.normal() * 0.1)));
    const p = tf.tensor3d(Float32Array.from({ length: G * R * P * K }, () => rng.int(5) * 0.25), [G, R * P, K]);
    const e = E > 0 ? tf.tensor3d(Float32Array.from({ length: G * R * E }, () => rng.int(2)), [G, R, E]) : null;
    const h0 = Float32Array.from({ length: G * R * H }, () => rng.normal() * 0.5);
    const stepWith = (layers: boolean) => {
      ppoKernel.layers = layers;
      const hNext = new Float32Array(G * R * H);
      const out = net.step(p, e, R, h0, hNext);
      return { out, hNext };
    };
    const ref = stepWith(false);
    const got = stepWith(true);
    expect(ref.out.some((v) => v !== 0)).toBe(true);
    expect(Buffer.from(got.out.buffer).equals(Buffer.from(ref.out.buffer))).toBe(true);
    expect(Buffer.from(got.hNext.buffer).equals(Buffer.from(ref.hNext.buffer))).toBe(true);
    p.dispose();
    e?.dispose();
    net.params.dispose();
  });
});
