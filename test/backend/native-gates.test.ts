/**
 * The wasm-blas addon's C gate kernels (src-main/backend/native/cairn-gates.c) against the wasm
 * kernel's exports (src-shared/nn/wasm/gru-gates.as.ts): the same inputs in the same memory must
 * leave the same bytes everywhere (outputs, traces, dh, the transposed dGIT/dGHT, the float64
 * bias sums), for H a multiple of 4 and not, across the C code's 128-unit chunks and 32-row
 * tiles, odd B, several blocks and groups (also groups that split a block's rows), the first
 * (hp = 0) and last (back = 0) steps and r = 0 (no trace). Bad arguments throw, naming the
 * argument, and write nothing. And a GRUCell's forward and BPTT give
 * the same bits with the C kernels as with the wasm ones. Where the addon or a CBLAS library is
 * missing the tests skip saying so, except under CI, which builds both (as blas.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlas, type Blas } from '../../src-main/backend/blas';
import { GRUCell } from '../../src-shared/nn/gru';
import { gateKernel, setKernelNative, type GateKernelExports } from '../../src-shared/nn/gru-simd';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from '../nn/tf-setup';

let blas: Blas | null = null;
let why = '';
try {
  blas = loadBlas();
  if (!blas.addon.gatesForward || !blas.addon.gatesBackward) {
    why = 'the addon has no gate kernels (built before cairn-gates.c): run npm run build:native';
    blas = null;
  }
} catch (e) {
  why = (e as Error).message;
}
if (!blas && process.env.CI) throw new Error(`CI builds the addon with its gate kernels, yet: ${why}`);
if (!blas) console.warn(`test/backend/native-gates.test.ts skipped: ${why}`);
const maybe = blas ? describe : describe.skip;

/** The kernel's own wasm exports, whatever the host has routed. */
function wasmExports(): GateKernelExports {
  return (gateKernel() as unknown as { raw: GateKernelExports }).raw;
}

/** Normal values with some of the inputs the math branches on: clamps, tanh's 4e-4 and 0.625, +-0, +-Infinity. */
function fill(a: Float32Array, rng: Rng, scale: number, specials: boolean): void {
  const SPECIAL = [0, -0, 1e-5, -3e-4, 4e-4, 0.625, -0.625, 0.6249, 88.3, -87.3, 100, -100, 1e30, -1e30, Infinity, -Infinity];
  for (let i = 0; i < a.length; i++) {
    a[i] = specials && rng.float() < 0.1 ? SPECIAL[Math.floor(rng.float() * SPECIAL.length)] : rng.normal() * scale;
  }
}

/**
 * Run `call(exports)` once with the wasm kernel and once with the native one on the same memory
 * contents [64, top), and expect the same bytes; returns the number of bytes compared.
 */
function sameBytes(call: (k: Pick<GateKernelExports, 'gatesForward' | 'gatesBackward'>) => void): number {
  const K = gateKernel();
  const mem = K.k.memory;
  const top = K.top;
  const before = new Uint8Array(mem.buffer, 64, top - 64).slice();
  call(wasmExports());
  const wasm = new Uint8Array(mem.buffer, 64, top - 64).slice();
  new Uint8Array(mem.buffer, 64, top - 64).set(before);
  const a = blas!.addon;
  call({
    gatesForward: (...args) => a.gatesForward!(mem.buffer, ...args),
    gatesBackward: (...args) => a.gatesBackward!(mem.buffer, ...args),
  });
  const native = new Uint8Array(mem.buffer, 64, top - 64);
  expect(native.some((v, i) => v !== before[i])).toBe(true);
  let first = -1;
  for (let i = 0; i < wasm.length && first < 0; i++) if (native[i] !== wasm[i]) first = i;
  expect(first, `first differing byte at offset ${first + 64}`).toBe(-1);
  return wasm.length;
}

maybe('native gate kernels (wasm-blas addon)', () => {
  beforeAll(setupTf);
  afterAll(() => setKernelNative(null));

  it.each([
    // nBlocks, B, H, T, t, hp, trace
    [1, 5, 8, 1, 0, true, true],
    [3, 3, 7, 4, 2, true, true],
    [2, 1, 130, 3, 0, false, true],
    [2, 3, 257, 2, 1, true, false],
    [1, 1, 1, 1, 0, false, false],
    [4, 7, 12, 5, 4, false, true],
  ])('gatesForward: nBlocks %i, B %i, H %i (T %i, step %i, hp %s, trace %s): the same bytes', (nBlocks, B, H, T, t, hasHp, trace) => {
    const K = gateKernel();
    const H3 = 3 * H;
    const rows = nBlocks * B;
    const [pGI, pGh, pHp, pHo, pR, pZ, pN, pGhn] = K.layout(nBlocks * T * B * H3, rows * H3, rows * H, rows * H, rows * H, rows * H, rows * H, rows * H);
    const rng = new Rng(100 + H, 3);
    fill(K.f32(pGI, nBlocks * T * B * H3), rng, 3, true);
    fill(K.f32(pGh, rows * H3), rng, 2, false);
    fill(K.f32(pHp, rows * H), rng, 1, false);
    for (const p of [pHo, pR, pZ, pN, pGhn]) fill(K.f32(p, rows * H), rng, 1, false);
    const giStride = T * B * H3 * 4;
    sameBytes((k) => k.gatesForward(nBlocks, B, H, pGI + t * B * H3 * 4, giStride, pGh, hasHp ? pHp : 0, pHo, trace ? pR : 0, pZ, pN, pGhn));
  });

  it('gatesForward over 200k inputs of every magnitude: the same bytes (exp, sigmoid and tanh agree bit for bit)', () => {
    const K = gateKernel();
    const B = 1000, H = 67, H3 = 3 * H;
    const [pGi, pGh, pHp, pHo, pR, pZ, pN, pGhn] = K.layout(B * H3, B * H3, B * H, B * H, B * H, B * H, B * H, B * H);
    const rng = new Rng(7, 1);
    // Log-uniform magnitudes from 1e-8 to 1e3, either sign.
    const gi = K.f32(pGi, B * H3);
    for (let i = 0; i < gi.length; i++) gi[i] = (rng.float() < 0.5 ? -1 : 1) * 10 ** (rng.float() * 11 - 8);
    fill(K.f32(pGh, B * H3), rng, 1, false);
    fill(K.f32(pHp, B * H), rng, 1, false);
    sameBytes((k) => k.gatesForward(1, B, H, pGi, 0, pGh, pHp, pHo, pR, pZ, pN, pGhn));
  });

  it.each([
    // N, B, T, t, H, m (rows per group; the sequence's N T B rows in ceil(N T B / m) groups)
    [2, 3, 4, 3, 8, 12], // last step: back = 0; 2 groups
    [3, 5, 3, 0, 7, 15], // first step: hp = 0; 3 groups
    [1, 1, 2, 1, 130, 2],
    [4, 3, 5, 2, 12, 30],
    [6, 1, 3, 1, 5, 6],
    [2, 7, 2, 0, 257, 28],
    [2, 77, 3, 1, 9, 462], // blocks of more than one 32-row tile
    [3, 21, 2, 1, 6, 8], // m not a multiple of B: a block's rows straddle groups
    // dGIT + dGHT of 4 MiB and more: written with non-temporal stores (x86-64), aligned runs and not.
    [2, 32, 60, 17, 64, 3840],
    [2, 21, 90, 89, 50, 1261],
  ])('gatesBackward: N %i, B %i, T %i, step %i, H %i, m %i: the same bytes', (N, B, T, t, H, m) => {
    const K = gateKernel();
    const H3 = 3 * H;
    const rows = N * B;
    const n = N * T * B;
    const G = Math.ceil(n / m);
    const nh = rows * H;
    const [pDh, pBack, pDHs, pR, pZ, pN, pGhn, pHp, pDGI, pDGIT, pDGHT, pHPrev, pDgh, pBih, pBhh] = K.layout(
      nh, nh, n * H, nh, nh, nh, nh, nh, n * H3, G * H3 * m, G * H3 * m, n * H, rows * H3, -G * H3, -G * H3,
    );
    const rng = new Rng(200 + H, 4);
    for (const p of [pDh, pBack, pGhn, pHp]) fill(K.f32(p, nh), rng, 1, false);
    fill(K.f32(pDHs, n * H), rng, 0.5, false);
    // Activations in their ranges: r, z in (0, 1), n in (-1, 1).
    for (const p of [pR, pZ]) K.f32(p, nh).forEach((_, i, a) => (a[i] = rng.float()));
    K.f32(pN, nh).forEach((_, i, a) => (a[i] = rng.float() * 2 - 1));
    fill(K.f32(pDGI, n * H3), rng, 1, false);
    for (const p of [pDGIT, pDGHT]) fill(K.f32(p, G * H3 * m), rng, 1, false);
    fill(K.f32(pHPrev, n * H), rng, 1, false);
    fill(K.f32(pDgh, rows * H3), rng, 1, false);
    // Bias sums already holding earlier steps' contributions.
    for (const p of [pBih, pBhh]) K.f64(p, G * H3).forEach((_, i, a) => (a[i] = rng.normal()));
    const last = t === T - 1;
    sameBytes((k) =>
      k.gatesBackward(N, B, T, t, H, m, pDh, last ? 0 : pBack, pDHs, pR, pZ, pN, pGhn, t > 0 ? pHp : 0, pDGI, pDGIT, pDGHT, pHPrev, pDgh, pBih, pBhh),
    );
  });

  it('throws naming the argument for ranges outside the memory or bad sizes, and writes nothing', () => {
    const K = gateKernel();
    const H = 8, B = 2, H3 = 3 * H, rows = B;
    const [pGi, pGh, pHo, pR, pZ, pN, pGhn] = K.layout(rows * H3, rows * H3, rows * H, rows * H, rows * H, rows * H, rows * H);
    const buf = K.k.memory.buffer;
    const end = buf.byteLength;
    const f = blas!.addon.gatesForward!;
    const b = blas!.addon.gatesBackward!;
    const snap = new Uint8Array(buf).slice();
    expect(() => f(buf, 1, B, H, pGi, 0, pGh, 0, end - 4, 0, 0, 0, 0)).toThrow(/gatesForward: ho lies outside the memory/);
    expect(() => f(buf, 2, B, H, pGi, end, pGh, 0, pHo, 0, 0, 0, 0)).toThrow(/gatesForward: gi .* lies outside/);
    expect(() => f(buf, 1, B, H, pGi, -16, pGh, 0, pHo, 0, 0, 0, 0)).toThrow(/giStride must be >= 0/);
    expect(() => f(buf, 1, B, H, pGi, 0, pGh, end, pHo, 0, 0, 0, 0)).toThrow(/gatesForward: hp lies outside/);
    expect(() => f(buf, 1, B, H, pGi, 0, pGh, 0, pHo, pR, pZ, pN, end - 8)).toThrow(/the trace \(r, z, n, ghn\) lies outside/);
    expect(() => f(buf, 1, -1, H, pGi, 0, pGh, 0, pHo, 0, 0, 0, 0)).toThrow(/nBlocks, B and H must be integers in \[0, 2\^31\)/);
    expect(() => (f as (...a: unknown[]) => void)(buf, 1, B, H, pGi, '0', pGh, 0, pHo, 0, 0, 0, 0)).toThrow(/integer arguments expected/);
    expect(() => (f as (...a: unknown[]) => void)(buf, 1, B)).toThrow(/13 arguments/);
    expect(() => (f as (...a: unknown[]) => void)(new Float32Array(4), 1, B, H, pGi, 0, pGh, 0, pHo, 0, 0, 0, 0)).toThrow(/attached ArrayBuffer/);
    // Backward: one step of N = 1, T = 2 over the same arrays, each pointer in turn pushed past the end.
    const ok = [1, B, 2, 1, H, 2 * B, pHo, 0, pGi, pR, pZ, pN, pGhn, 0, pGi, pGh, pGh, pGi, pGh, pR, pZ];
    const names = ['N', 'B', 'T', 't', 'H', 'm', 'dh', 'back', 'dHs', 'r', 'z', 'n', 'ghn', 'hp', 'dGI', 'dGIT', 'dGHT', 'hPrev', 'dgh', 'dBih', 'dBhh'];
    const trace = new Set(['r', 'z', 'n', 'ghn']);
    for (let i = 6; i < ok.length; i++) {
      const args = ok.slice();
      args[i] = end - 4;
      const want = trace.has(names[i]) ? /the trace \(r, z, n, ghn\) lies outside/ : new RegExp(`gatesBackward: ${names[i]} lies outside the memory`);
      expect(() => (b as (...a: unknown[]) => void)(buf, ...args), names[i]).toThrow(want);
    }
    const call = (patch: Record<number, number>) => {
      const args = ok.slice();
      for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
      return () => (b as (...a: unknown[]) => void)(buf, ...args);
    };
    expect(call({ 5: 0 })).toThrow(/m \(rows per group\) must be in \[1, 2\^31\)/);
    expect(call({ 3: 2 })).toThrow(/t must be in \[0, T\)/);
    expect(call({ 2: 0, 3: 0 })).toThrow(/T in \[1, 2\^31\)/);
    expect(new Uint8Array(buf).every((v, i) => v === snap[i])).toBe(true);
    // The checked call itself runs.
    expect(call({})).not.toThrow();
  });

  /** Output, input gradient and weight gradients of sum(w * sequence(e)) after a rollout through stepRows. */
  function cellRun(G: number, N: number, T: number, B: number, I: number, H: number): Float32Array[] {
    const params = new ParamSet(tf);
    const cell = new GRUCell(tf, params, 'g', { inputSize: I, hiddenSize: H, groups: G, gates: 'f32-simd' }, new Rng(41));
    const rng = new Rng(42);
    const e = Float32Array.from({ length: N * T * B * I }, () => rng.normal());
    const w = Float32Array.from({ length: N * T * B * H }, () => rng.normal());
    const rows = N * B;
    let hp = new Float32Array(rows * H);
    const states: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const step = new Float32Array(rows * I);
      for (let a = 0; a < N; a++) step.set(e.subarray((a * T + t) * B * I, (a * T + t + 1) * B * I), a * B * I);
      const hn = new Float32Array(rows * H);
      tf.tidy(() => cell.stepRows(tf.tensor3d(step, [G, rows / G, I]), hp, hn, undefined, t));
      states.push(hn);
      hp = hn;
    }
    const shape = (f: number): [number, number, number] => [G, (N * T * B) / G, f];
    const out = tf.tidy(() => {
      const eT = tf.variable(tf.tensor(e, shape(I)));
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(cell.sequence(eT, N, T, B), tf.tensor(w, shape(H)))) as tf.Scalar, [
        eT,
        ...params.variables(),
      ]);
      const r = [value, grads[eT.name], ...params.variables().map((v) => grads[v.name])].map((x) => Float32Array.from(x.dataSync()));
      eT.dispose();
      return r;
    });
    params.dispose();
    return [...states, ...out];
  }

  it.each([
    [1, 2, 5, 3, 4, 8],
    [2, 4, 3, 5, 3, 7],
  ])('GRUCell (groups %i, N %i, T %i, B %i, in %i, H %i): rollout, forward and BPTT give the same bits with the C gate kernels', (G, N, T, B, I, H) => {
    const gemm = blas!.addon.gemm.bind(blas!.addon);
    // The products on CBLAS both times, so only the gate kernels differ.
    setKernelNative({ gemm });
    expect(gateKernel().k.gatesForward).toBe(wasmExports().gatesForward);
    const want = cellRun(G, N, T, B, I, H);
    setKernelNative({ gemm, gatesForward: blas!.addon.gatesForward, gatesBackward: blas!.addon.gatesBackward });
    expect(gateKernel().k.gatesForward).not.toBe(wasmExports().gatesForward);
    expect(gateKernel().k.gatesBackward).not.toBe(wasmExports().gatesBackward);
    const got = cellRun(G, N, T, B, I, H);
    setKernelNative(null);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      expect(Buffer.from(got[i].buffer).equals(Buffer.from(want[i].buffer)), `array ${i}`).toBe(true);
    }
  });
});
