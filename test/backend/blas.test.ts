/**
 * The `wasm-blas` backend: the native addon's products against a float64 reference (plain,
 * transposed, batched with broadcast, bias and relu, empty), its refusal of operands outside the
 * memory, tfjs's BatchMatMul/_FusedMatMul and the gate kernel's matmul on it, and the backend's
 * selection rules. Where the addon or a CBLAS library is missing the tests say so and skip,
 * except under CI, whose .ci/run installs both (a compiler and libopenblas0-pthread): there a
 * missing library fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { addonPath, loadBlas, openBlas, type Blas } from '../../src-main/backend/blas';
import { initBackend } from '../../src-main/backend/select';
import { BLAS_KERNELS } from '../../src-main/backend/blas-kernels';
import { gateKernel } from '../../src-shared/nn/gru-simd';
import { Rng } from '../../src-shared/rng';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { getEnv } from '../../src-shared/registry';
import { tmpDir } from '../helpers/cli';

let blas: Blas | null = null;
let why = '';
try {
  blas = loadBlas();
} catch (e) {
  why = (e as Error).message;
}
if (!blas && process.env.CI) throw new Error(`CI installs a compiler and OpenBLAS, yet wasm-blas cannot load: ${why}`);
if (!blas) console.warn(`test/backend/blas.test.ts skipped: ${why}`);
const maybe = blas ? describe : describe.skip;

function randoms(n: number, seed: number): Float32Array {
  const rng = new Rng(seed, 5);
  return Float32Array.from({ length: n }, () => rng.float() * 2 - 1);
}

/** float64 reference of gemm's contract (one product). */
function reference(a: Float32Array, ta: boolean, b: Float32Array, tb: boolean, M: number, N: number, K: number, bias?: Float32Array, relu = false): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < K; k++) s += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
      out[i * N + j] = relu ? Math.max(0, s) : s;
    }
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst).toBeLessThan(tol);
}

maybe('the native addon', () => {
  it('was built where npm install put it and names its library', () => {
    expect(fs.existsSync(addonPath())).toBe(true);
    expect(blas!.describe).toMatch(/ from \S+/);
  });

  it('multiplies in place in a memory: plain, transposed, bias + relu, batched with a broadcast operand', () => {
    const M = 37, N = 29, K = 53, batch = 3;
    for (const [ta, tb, withBias, relu] of [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 1]] as const) {
      const mem = new ArrayBuffer(1 << 20);
      const f = new Float32Array(mem);
      const aOff = 64, bOff = aOff + batch * M * K * 4, biasOff = bOff + K * N * 4 + 16, cOff = biasOff + N * 4 + 32;
      const a = randoms(batch * M * K, 1), b = randoms(K * N, 2), bias = randoms(N, 3);
      f.set(a, aOff / 4);
      f.set(b, bOff / 4);
      f.set(bias, biasOff / 4);
      // b broadcast over the batch (stride 0).
      blas!.addon.gemm(mem, batch, M, N, K, aOff, M * K * 4, ta, bOff, 0, tb, cOff, withBias ? biasOff : 0, relu);
      for (let i = 0; i < batch; i++) {
        const want = reference(a.subarray(i * M * K, (i + 1) * M * K), !!ta, b, !!tb, M, N, K, withBias ? bias : undefined, !!relu);
        expectClose(f.subarray(cOff / 4 + i * M * N, cOff / 4 + (i + 1) * M * N), want);
      }
    }
  });

  it('gives bias (or zeros) for K = 0 and relu maps -0 to +0 like wasm max', () => {
    const mem = new ArrayBuffer(4096);
    const f = new Float32Array(mem);
    f.set([-0, 2, -3], 16);
    f.fill(7, 32, 38);
    blas!.addon.gemm(mem, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 128, 64, 1);
    expect(Array.from(f.subarray(32, 38))).toEqual([0, 2, 0, 0, 2, 0]);
    expect(Object.is(f[32], 0)).toBe(true);
    blas!.addon.gemm(mem, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 128, 0, 0);
    expect(Array.from(f.subarray(32, 38))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('throws, naming the problem, for operands outside the memory or a detached buffer', () => {
    const mem = new ArrayBuffer(4096);
    expect(() => blas!.addon.gemm(mem, 1, 32, 32, 32, 0, 0, 0, 0, 0, 0, 4000, 0, 0)).toThrow(/outside the memory/);
    expect(() => blas!.addon.gemm(mem, 2, 8, 8, 8, 0, -4, 0, 0, 0, 0, 1024, 0, 0)).toThrow(/bad strides/);
    expect(() => blas!.addon.gemm(mem, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 64, 0, 0)).toThrow(/outside the memory/); // misaligned
    const gone = structuredClone(mem, { transfer: [mem] });
    expect(gone.byteLength).toBe(4096);
    expect(() => blas!.addon.gemm(mem, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 64, 0, 0)).toThrow(/attached ArrayBuffer/);
  });
});

maybe('the wasm-blas backend', () => {
  let stockKernels: unknown[] = [];
  beforeAll(async () => {
    await initBackend('wasm');
    stockKernels = BLAS_KERNELS.map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    const info = await initBackend('wasm-blas');
    expect(info.name).toBe('wasm-blas');
    expect(info.blas).toBe(blas!.describe);
  });
  afterAll(async () => {
    await initBackend('wasm');
    // Plain wasm has XNNPACK's kernels back.
    expect(BLAS_KERNELS.map((k) => tf.getKernel(k, 'wasm')!.kernelFunc)).toEqual(stockKernels);
  });

  it('replaces the stock BatchMatMul and _FusedMatMul', () => {
    BLAS_KERNELS.forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc, k).not.toBe(stockKernels[i]));
  });

  it('runs tfjs matMul and fused matMul (bias, relu, batch broadcast) on CBLAS, close to float64', () => {
    const a = randoms(2 * 40 * 24, 4), b = randoms(24 * 31, 5), bias = randoms(31, 6);
    const ta = tf.tensor3d(a, [2, 40, 24]);
    const tb = tf.tensor2d(b, [24, 31]);
    const plain = tf.matMul(ta, tf.expandDims(tb, 0)).dataSync();
    const fused = tf.fused.matMul({ a: ta, b: tf.expandDims(tb, 0), bias: tf.tensor1d(bias), activation: 'relu' }).dataSync();
    for (let i = 0; i < 2; i++) {
      const ai = a.subarray(i * 40 * 24, (i + 1) * 40 * 24);
      expectClose(plain.subarray(i * 40 * 31, (i + 1) * 40 * 31), reference(ai, false, b, false, 40, 31, 24));
      expectClose(fused.subarray(i * 40 * 31, (i + 1) * 40 * 31), reference(ai, false, b, false, 40, 31, 24, bias, true));
    }
    const t = tf.matMul(tf.tensor2d(b, [24, 31]), tf.tensor2d(a.subarray(0, 40 * 24), [40, 24]), true, true).dataSync();
    expectClose(t, reference(b, true, a.subarray(0, 40 * 24), true, 31, 40, 24));
  });

  it('hands other activations to the stock kernel', () => {
    const a = tf.tensor2d(randoms(6 * 5, 7), [6, 5]);
    const b = tf.tensor2d(randoms(5 * 4, 8), [5, 4]);
    const want = tf.elu(tf.matMul(a, b)).dataSync();
    const got = tf.fused.matMul({ a, b, activation: 'elu' }).dataSync();
    expectClose(got, want, 1e-6);
  });

  it("routes the gate kernel's matmul and matmulAT through CBLAS", () => {
    const K = gateKernel();
    const M = 33, KK = 20, N = 12;
    const [pa, pw, pb, po, pt] = K.layout(M * KK, KK * N, N, M * N, M * N);
    const a = randoms(M * KK, 9), w = randoms(KK * N, 10), bias = randoms(N, 11);
    K.f32(pa, M * KK).set(a);
    K.f32(pw, KK * N).set(w);
    K.f32(pb, N).set(bias);
    K.k.matmul(M, KK, N, pa, pw, pb, po, 1);
    expectClose(K.f32(po, M * N), reference(a, false, w, false, M, N, KK, bias, true));
    // a read as stored [KK][M]: out [M][N] = a^T w.
    K.k.matmulAT(M, KK, N, pa, pw, pt);
    expectClose(K.f32(pt, M * N), reference(a, true, w, false, M, N, KK));
    // The route is the host's gemm, not the kernel's own export.
    expect(K.k.matmul).not.toBe((K as unknown as { raw: { matmul: unknown } }).raw.matmul);
  });
});

describe('choosing wasm-blas', () => {
  it('CAIRN_BLAS=off: auto skips it saying why, and asking for it by name fails naming it', async () => {
    const before = process.env.CAIRN_BLAS;
    process.env.CAIRN_BLAS = 'off';
    try {
      // Only when no tfjs-node is installed does auto reach the wasm backends.
      const auto = await initBackend('auto');
      if (auto.name === 'wasm') expect(auto.skipped.join('\n')).toMatch(/wasm-blas: /);
      if (!blas) return;
      await expect(initBackend('wasm-blas')).rejects.toThrow(/backend: wasm-blas could not be loaded on this machine \(wasm-blas: /);
    } finally {
      if (before === undefined) delete process.env.CAIRN_BLAS;
      else process.env.CAIRN_BLAS = before;
      await initBackend('wasm');
    }
  });

  it('a library that does not open, or has no cblas_sgemm, is named with the reason', () => {
    if (!blas) return;
    expect(() => openBlas('/nonexistent/libnoblas.so')).toThrow(/no CBLAS library could be opened \(\/nonexistent\/libnoblas\.so: .*No such file/);
    // libc opens but is not a BLAS.
    if (process.platform === 'linux') expect(() => openBlas('libc.so.6')).toThrow(/libc\.so\.6: the library has no cblas_sgemm/);
  });
});

maybe('runs on wasm-blas (real worker processes, a real SQLite file)', () => {
  const dir = tmpDir('cairn-blas-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function runs(store: Store, preset: string, backends: ('wasm' | 'wasm-blas')[], seed: number): Promise<number[]> {
    const config = buildConfig({ preset, sets: ['train.episodes=4', 'train.numEnvs=4', 'env.episodeLimit=50'] });
    const { id: envId, ...envValues } = config.env;
    const metricKeys = [...getEnv(envId)!.spec(envValues).metricKeys];
    const ids: number[] = [];
    for (const backend of backends) {
      const id = await store.createRun({ name: `${preset} ${backend}`, preset, config, seed, episodesTotal: 4, host: 'test', metricKeys });
      const runner = new Runner({ store, maxParallel: 1, backend });
      runner.enqueue(id);
      await runner.idle();
      runner.close();
      ids.push(id);
    }
    return ids;
  }
  const series = async (store: Store, id: number, key: string) => Array.from((await store.metricSeries(id, key)).value);

  for (const preset of ['manitokan-pg-history', 'manitokan-coma-history']) {
    it(`${preset}: the same (config, seed) repeats on wasm-blas, differs from wasm by rounding only, and the run says which BLAS`, async () => {
      const store = await Store.open(path.join(dir, `${preset}.db`));
      const [a, b, w] = await runs(store, preset, ['wasm-blas', 'wasm-blas', 'wasm'], 7);
      for (const id of [a, b]) {
        const run = (await store.getRun(id))!;
        expect(run.status, run.error ?? '').toBe('done');
        expect(run.backend).toBe('wasm-blas');
        expect((await store.runLog(id)).map((l) => l.message)).toContain(`backend wasm-blas: ${blas!.describe}`);
      }
      expect((await store.getRun(w))!.backend).toBe('wasm');
      const keys = (await store.metricKeys(a)).filter((k) => k !== 'charts/env_steps_per_s');
      expect(keys.length).toBeGreaterThan(5);
      for (const key of keys) expect(await series(store, b, key), key).toEqual(await series(store, a, key));
      // The products really ran on CBLAS in the worker: the losses move in the last bits ...
      const loss = keys.find((k) => k.startsWith('losses/'))!;
      const la = await series(store, a, loss);
      const lw = await series(store, w, loss);
      expect(la).not.toEqual(lw);
      // ... and by rounding only in the first update.
      expect(Math.abs(la[0] - lw[0])).toBeLessThan(1e-4 * (1 + Math.abs(lw[0])));
      await store.close();
    });
  }
});
