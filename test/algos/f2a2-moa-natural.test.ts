/**
 * F2A2's full MOA (algos/f2a2-moa-natural.ts; shared/specs/f2a2.md §3): the episode windows the
 * mental net reads (zero-padded at episode start, links checked against the env's own
 * obs -> next-obs continuity), the natural loss against an independent per-step computation
 * through GRUCell.step, gradients reaching both GRUs (finite differences), the combination
 * rules, checkpoint round trip with MOA updates, and no tensor leak.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { f2a2Schema, F2a2Trainer } from '../../src-shared/algos/f2a2';
import { MOA_PREV_FIELD, precedingSlots, type NaturalMoa } from '../../src-shared/algos/f2a2-moa-natural';
import type { TransitionBuffer } from '../../src-shared/algos/core/transition-buffer';
import type { Checkpoint } from '../../src-shared/algos/types';
import type { Tensor } from '../../src-shared/nn/tf';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { episodeSummary, setupTf, tf } from './helpers';

class Probe extends F2a2Trainer {
  replay(): TransitionBuffer {
    return this.buffer;
  }
}

const TINY = {
  hiddenDim: 6,
  moaHidden: 6,
  batchSize: 5,
  warmup: 1,
  updateEvery: 1_000_000,
  moaFifo: 16,
  moaCharTrajectories: 5,
  moaCharSubset: 3,
  moaCharLength: 4,
  moaNaturalBatch: 6,
  moaGruHidden: 4,
  moaNaturalHidden: 6,
};
const LIMIT = 6;

function make(algo: Values = {}, opts: { seed?: number; B?: number } = {}) {
  const seed = opts.seed ?? 1;
  const envConfig = resolve('env', spreadEntry.schema, { episodeLimit: LIMIT, numAgents: 3 });
  const env = spreadEntry.create(envConfig, { numEnvs: opts.B ?? 2, autoReset: false });
  const trainer = new Probe({ tf, env, envConfig, config: resolve('algo', f2a2Schema, { ...TINY, ...algo }), seed, rng: new Rng(seed, 11) });
  return { env, trainer };
}

function weights(c: Checkpoint): Record<string, number[]> {
  return Object.fromEntries(Object.entries(c.tensors).map(([k, t]) => [k, Array.from(t.data)]));
}

describe('F2A2 full MOA (character, mental, natural nets)', () => {
  beforeAll(setupTf);

  it('episode windows: zero padding at episode start, links follow the same copy (obs_t = next obs of t-1)', async () => {
    const B = 3;
    const { trainer } = make({}, { B });
    await trainer.round();
    await trainer.round();
    const buf = trainer.replay();
    expect(buf.count).toBe(2 * LIMIT * B);
    const T = 5;
    const w = new Int32Array(T);
    for (let s = 0; s < buf.count; s++) {
      // Spread episodes last LIMIT steps in every copy: slot = (round * LIMIT + t) * B + b.
      const t = Math.floor(s / B) % LIMIT;
      precedingSlots(buf, s, T, w, 0);
      const real = Math.min(t, T);
      for (let m = 0; m < T - real; m++) expect(w[m], `slot ${s} (t=${t}) pads position ${m}`).toBe(-1);
      for (let m = T - real; m < T; m++) {
        const p = w[m];
        const after = m + 1 < T ? w[m + 1] : s;
        expect(p).toBe(after - B);
        // The previous row's next observation is this row's observation (same copy, same episode).
        expect(Array.from(buf.row('nobs', p))).toEqual(Array.from(buf.row('obs', after)));
      }
    }
    // The first row of an episode links nowhere.
    expect(buf.row(MOA_PREV_FIELD, LIMIT * B)[0]).toBe(-1);
    trainer.dispose();
  });

  it('episode windows: a predecessor evicted from the ring becomes padding, not a stale row', async () => {
    const { trainer } = make({ bufferSize: 8 }, { B: 2 });
    await trainer.round(); // 12 rows into a ring of 8: slots 0..3 were overwritten by steps 4 and 5
    const buf = trainer.replay();
    const w = new Int32Array(5);
    // Slot 4 holds step 2 of copy 0, whose predecessors (steps 1, 0 at slots 2, 0) are intact
    // only if not overwritten: slot 2 and 0 now hold step 5 and 4, which are newer.
    precedingSlots(buf, 4, 5, w, 0);
    expect(Array.from(w)).toEqual([-1, -1, -1, -1, -1]);
    // Slot 2 holds step 5 of copy 0: its chain is 4 (slot 0), 3 (slot 6), 2 (slot 4); step 1 was evicted.
    precedingSlots(buf, 2, 5, w, 0);
    expect(Array.from(w)).toEqual([-1, -1, 4, 6, 0]);
    trainer.dispose();
  });

  it.each(['f32-simd', 'f64-js'] as const)('natural loss equals an independent per-step computation; gradients reach both GRUs, moaGruGates=%s', async (moaGruGates) => {
    const { trainer } = make({ moaGruGates });
    const moa = trainer.moaNatural as NaturalMoa;
    const i = 1;
    const ob = moa.observers[i];
    for (const c of [...ob.char, ...ob.mental]) expect(c.gates).toBe(moaGruGates);
    const G = ob.targets.length;
    const R = 3;
    const T = 5;
    const L = 4;
    const S = 2;
    const H = 4;
    const rng = new Rng(3);
    const rnd = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const x = tf.tensor3d(rnd(G * R * moa.inDim), [G, R, moa.inDim]);
    // Mental windows with zero padding in the first two steps, as at an episode start.
    const ed = rnd(G * T * R * moa.stepW);
    for (let g = 0; g < G; g++) ed.fill(0, (g * T * R) * moa.stepW, (g * T * R + 2 * R) * moa.stepW);
    const e = tf.tensor3d(ed, [G, T * R, moa.stepW]);
    const charIn = tf.tensor3d(rnd(G * L * S * moa.stepW), [G, L * S, moa.stepW]);
    const labels = [0, 4, 2, 1, 3, 3];
    const yd = new Float32Array(G * R * moa.outDim);
    labels.forEach((a, k) => (yd[k * moa.outDim + a] = 1));
    const Y = tf.tensor3d(yd, [G, R, moa.outDim]);
    const imp = tf.tensor3d(rnd(G * R * moa.outDim), [G, R, moa.outDim]);

    const got = tf.tidy(() => moa.loss(i, x, e, Y, imp, charIn, S).total.dataSync()[0]);

    // Reference: GRUCell.step (the tape reference cell) step by step, a hand-written MLP.
    const want = tf.tidy(() => {
      const run = (cells: typeof ob.char, inp: Tensor, steps: number, rows: number) => {
        let h1: Tensor = tf.zeros([G, rows, H]);
        let h2: Tensor = tf.zeros([G, rows, H]);
        for (let t = 0; t < steps; t++) {
          h1 = cells[0].step(tf.slice(inp, [0, t * rows, 0], [G, rows, -1]), h1);
          h2 = cells[1].step(h1, h2);
        }
        return h2;
      };
      const eChar = tf.mean(run(ob.char, charIn, L, S), 1, true);
      const eMental = run(ob.mental, e, T, R);
      let h: Tensor = tf.concat([x, tf.tile(eChar, [1, R, 1]), eMental], 2);
      ob.natural.layers.forEach((layer, l) => {
        const out = layer.outDim;
        h = tf.add(tf.matMul(h as never, layer.weight as never), tf.reshape(layer.bias, [G, 1, out]));
        if (l + 1 < ob.natural.layers.length) h = tf.maximum(h, tf.mul(h, 0.01));
      });
      const logp = tf.logSoftmax(h);
      return tf.sum(tf.mean(tf.neg(tf.sum(tf.mul(Y, logp), -1)), -1)).dataSync()[0];
    });
    expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));

    // Finite differences at a few weights of the character and mental GRUs (first layers).
    const f = () => tf.tidy(() => moa.loss(i, x, e, Y, imp, charIn, S).total.dataSync()[0]);
    const { grads } = ob.params.grads(() => moa.loss(i, x, e, Y, imp, charIn, S).total as never);
    for (const name of ['char/0/weight_ih', 'mental/0/weight_ih', 'mental/1/weight_hh', 'natural/0/weight']) {
      const v = ob.params.get(name);
      const g = grads[name].dataSync() as Float32Array;
      let norm = 0;
      for (const q of g) norm += q * q;
      expect(norm, `${name} gets a gradient`).toBeGreaterThan(0);
      const base = Float32Array.from(v.dataSync() as Float32Array);
      // The entry with the largest gradient: the difference quotient is well above float32 noise there.
      let k = 0;
      for (let m = 1; m < g.length; m++) if (Math.abs(g[m]) > Math.abs(g[k])) k = m;
      const at = (d: number) => {
        const xx = Float32Array.from(base);
        xx[k] += d;
        const t = tf.tensor(xx, v.shape);
        v.assign(t);
        t.dispose();
        return f();
      };
      const hstep = 1e-2;
      const fd = (at(hstep) - at(-hstep)) / (2 * hstep);
      at(0);
      expect(Math.abs(fd - g[k]), `${name}[${k}]: fd ${fd} vs tape ${g[k]}`).toBeLessThan(5e-3 + 3e-2 * Math.abs(fd));
    }
    for (const t of [...Object.values(grads), x, e, charIn, Y, imp]) t.dispose();
    trainer.dispose();
  });

  it('moaGruGates: f32-simd gives the MOA loss and every gradient of f64-js to float32 rounding; default f32-simd; bad value named', async () => {
    expect(resolve('algo', f2a2Schema, {}).moaGruGates).toBe('f32-simd');
    expect(() => resolve('algo', f2a2Schema, { moaGruGates: 'f16' })).toThrow(/moaGruGates[\s\S]*one of f32-simd, f64-js/);
    // Larger than TINY so the kernel's SIMD lanes and several groups are exercised.
    const big = { moaGruHidden: 16, moaCharLength: 6, moaCharSubset: 5 };
    const lossAndGrads = (moaGruGates: string) => {
      const { trainer } = make({ ...big, moaGruGates });
      const moa = trainer.moaNatural as NaturalMoa;
      const i = 0;
      const ob = moa.observers[i];
      const G = ob.targets.length;
      const [R, T, L, S] = [7, 5, 6, 5];
      const rng = new Rng(5);
      const rnd = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
      const x = tf.tensor3d(rnd(G * R * moa.inDim), [G, R, moa.inDim]);
      const e = tf.tensor3d(rnd(G * T * R * moa.stepW), [G, T * R, moa.stepW]);
      const charIn = tf.tensor3d(rnd(G * L * S * moa.stepW), [G, L * S, moa.stepW]);
      const yd = new Float32Array(G * R * moa.outDim);
      for (let k = 0; k < G * R; k++) yd[k * moa.outDim + (k % 5)] = 1;
      const Y = tf.tensor3d(yd, [G, R, moa.outDim]);
      const imp = tf.tensor3d(rnd(G * R * moa.outDim), [G, R, moa.outDim]);
      const { value, grads } = ob.params.grads(() => moa.loss(i, x, e, Y, imp, charIn, S).total as never);
      const out: Record<string, Float32Array> = { loss: Float32Array.of(value) };
      for (const [k, g] of Object.entries(grads)) out[k] = Float32Array.from(g.dataSync());
      for (const t of [...Object.values(grads), x, e, charIn, Y, imp]) t.dispose();
      trainer.dispose();
      return out;
    };
    const ref = lossAndGrads('f64-js');
    const simd = lossAndGrads('f32-simd');
    expect(Object.keys(simd).sort()).toEqual(Object.keys(ref).sort());
    expect(Object.keys(ref)).toEqual(expect.arrayContaining(['char/0/weight_ih', 'char/1/bias_hh', 'mental/0/weight_hh', 'mental/1/bias_ih']));
    let differs = false;
    for (const k of Object.keys(ref)) {
      const scale = Math.max(1e-6, ...Array.from(ref[k], Math.abs));
      let m = 0;
      for (let q = 0; q < ref[k].length; q++) {
        m = Math.max(m, Math.abs(ref[k][q] - simd[k][q]));
        if (ref[k][q] !== simd[k][q]) differs = true;
      }
      expect(m / scale, k).toBeLessThan(1e-4);
    }
    // Different kernels really ran (the same bits would mean the option does nothing).
    expect(differs).toBe(true);
  });

  it('combination rules: mean of softmaxes, product of experts, learned gate; distributions sum to 1', async () => {
    for (const combine of ['mean', 'poe', 'learnedGate'] as const) {
      const { trainer } = make({ moaCombine: combine });
      await trainer.round();
      const moa = trainer.moaNatural!;
      const bank = trainer.moaBank!;
      const buf = trainer.replay();
      const K = 4;
      const index = Int32Array.from([0, 3, 7, 11]);
      const obsT: Tensor[] = [];
      for (let j = 0; j < 3; j++) {
        const w = spreadEntry.spec(resolve('env', spreadEntry.schema, { numAgents: 3, episodeLimit: LIMIT })).agents[j].obsSize;
        const d = new Float32Array(K * w);
        index.forEach((s, k) => d.set(buf.row('obs', s).subarray(j * w, (j + 1) * w), k * w));
        obsT.push(tf.tensor2d(d, [K, w]));
      }
      const i = 0;
      const mental = moa.mentalFor(i, buf, index);
      const probs = moa.predict(i, obsT, 'probs', null, mental.now, bank);
      const imp = bank.predict(i, obsT, 'probs', null);
      expect(probs[i]).toBeNull();
      for (const j of [1, 2]) {
        const p = probs[j]!.arraySync() as number[][];
        const q = imp[j]!.arraySync() as number[][];
        for (let k = 0; k < K; k++) {
          expect(p[k].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          for (const v of p[k]) expect(v).toBeGreaterThan(0);
          // Not the impromptu net alone: the natural net moves the prediction.
          expect(p[k].some((v, a) => Math.abs(v - q[k][a]) > 1e-6)).toBe(true);
          if (combine === 'mean') for (const v of p[k]) expect(v).toBeGreaterThanOrEqual(0); // mixture keeps support
        }
      }
      // A one-hot sample per row, and the sample is drawn from the combined model: with all
      // noise zero it is the combined argmax.
      const G = 2;
      const zero = new Float32Array(G * K * moa.outDim);
      const sample = moa.predict(i, obsT, 'sample', zero, mental.now, bank);
      for (const j of [1, 2]) {
        const s = sample[j]!.arraySync() as number[][];
        const p = probs[j]!.arraySync() as number[][];
        for (let k = 0; k < K; k++) {
          expect(s[k].reduce((a, b) => a + b, 0)).toBe(1);
          expect(s[k].indexOf(1)).toBe(p[k].indexOf(Math.max(...p[k])));
        }
      }
      for (const t of [...obsT, mental.now, mental.next, ...probs, ...imp, ...sample]) t?.dispose();
      trainer.dispose();
    }
  });

  it('mean combination is exactly 1/2 softmax(natural) + 1/2 softmax(impromptu)', async () => {
    const { trainer } = make({ moaCombine: 'mean' });
    await trainer.round();
    const moa = trainer.moaNatural!;
    const bank = trainer.moaBank!;
    const poe = make({ moaCombine: 'poe' });
    await poe.trainer.round();
    // Same seed, same weights: the natural part differs only in how it is combined.
    const buf = trainer.replay();
    const index = Int32Array.from([2, 5, 9]);
    const K = index.length;
    const obsT = [0, 1, 2].map((j) => {
      const w = buf.row('obs', 0).length / 3;
      const d = new Float32Array(K * w);
      index.forEach((s, k) => d.set(buf.row('obs', s).subarray(j * w, (j + 1) * w), k * w));
      return tf.tensor2d(d, [K, w]);
    });
    const m1 = moa.mentalFor(1, buf, index);
    const m2 = poe.trainer.moaNatural!.mentalFor(1, poe.trainer.replay(), index);
    const pMean = moa.predict(1, obsT, 'probs', null, m1.now, bank);
    const pPoe = poe.trainer.moaNatural!.predict(1, obsT, 'probs', null, m2.now, poe.trainer.moaBank!);
    const pImp = bank.predict(1, obsT, 'probs', null);
    for (const j of [0, 2]) {
      const a = pMean[j]!.arraySync() as number[][];
      const b = pPoe[j]!.arraySync() as number[][];
      const q = pImp[j]!.arraySync() as number[][];
      for (let k = 0; k < K; k++) {
        // softmax(n + m) ∝ pn * pm and (a - pm/2) * 2 = pn: recover pn from the mean and check poe.
        const pn = a[k].map((v, c) => 2 * v - q[k][c]);
        const prod = pn.map((v, c) => v * q[k][c]);
        const z = prod.reduce((s, v) => s + v, 0);
        for (let c = 0; c < pn.length; c++) expect(b[k][c]).toBeCloseTo(prod[c] / z, 4);
      }
    }
    for (const t of [...obsT, m1.now, m1.next, m2.now, m2.next, ...pMean, ...pPoe, ...pImp]) t?.dispose();
    trainer.dispose();
    poe.trainer.dispose();
  });

  it('training updates the natural nets and logs their loss; no tensor leak; checkpoint round trip is exact', async () => {
    const algo = { updateEvery: 4, moaCombinedCE: true };
    const before = tf.memory().numTensors;
    const a = make(algo);
    const r1 = await a.trainer.round();
    for (const k of ['moa/natural_loss', 'moa/natural_accuracy', 'moa/combined_loss', 'moa/loss', 'moa/char_env_steps']) expect(Number.isFinite(r1.stats[k]), k).toBe(true);
    // 5 trajectories from 2 copies: 3 collection rounds of 2 episodes of LIMIT steps.
    expect(r1.stats['moa/char_env_steps']).toBe(3 * 2 * LIMIT);
    const w0 = a.trainer.moaNatural!.observers[0].params.get('mental/0/weight_ih').dataSync().slice();
    const after1 = tf.memory().numTensors;
    const ck = structuredClone(await a.trainer.save());
    expect(Object.keys(ck.tensors).some((k) => k.startsWith('moaNat/2/char/1/'))).toBe(true);
    expect(Object.keys(ck.tensors).some((k) => k.startsWith('moaNatCache/0/eChar'))).toBe(true);
    expect(Object.keys(ck.tensors).some((k) => k.startsWith('replay/') && k.includes(MOA_PREV_FIELD))).toBe(true);
    const r2 = await a.trainer.round();
    expect(tf.memory().numTensors, 'tensors after a second round').toBe(after1);
    const w1 = a.trainer.moaNatural!.observers[0].params.get('mental/0/weight_ih').dataSync();
    expect(Array.from(w1)).not.toEqual(Array.from(w0));
    const endA = weights(await a.trainer.save());

    // Another seed (so other character data and weights), then the checkpoint: identical continuation.
    const b = make(algo, { seed: 9 });
    b.trainer.load(structuredClone(ck));
    const r2b = await b.trainer.round();
    expect(episodeSummary(r2b.episodes)).toBe(episodeSummary(r2.episodes));
    expect(JSON.stringify(r2b.stats)).toBe(JSON.stringify(r2.stats));
    const endB = weights(await b.trainer.save());
    expect(Object.keys(endB).sort()).toEqual(Object.keys(endA).sort());
    for (const k of Object.keys(endA)) expect(endB[k], k).toEqual(endA[k]);
    a.trainer.dispose();
    b.trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the mental cells alternate the prediction pass (2K rows) and the MOA step without reallocating their traces; predictions follow every step', async () => {
    const { trainer } = make({ updateEvery: 4 });
    await trainer.round();
    const moa = trainer.moaNatural as NaturalMoa;
    const buf = trainer.replay();
    const i = 2;
    const ob = moa.observers[i];
    const index = Int32Array.from({ length: 4 }, (_, k) => (3 * k + 1) % buf.count);
    const read = () => {
      const { now, next } = moa.mentalFor(i, buf, index);
      const out = [Array.from(now.dataSync()), Array.from(next.dataSync())];
      now.dispose();
      next.dispose();
      return out;
    };
    const traces = () => ob.mental.map((c) => (c as unknown as { ownTraces: { kept(): unknown[] } }).ownTraces.kept());
    const before = read();
    moa.step(buf, trainer.moaBank!, new Rng(4));
    const held = traces();
    // One trace per row count (nn/gru.ts OwnTraces): at least the prediction's and the step's.
    held.forEach((t) => expect(t.length).toBeGreaterThanOrEqual(2));
    const after = read();
    moa.step(buf, trainer.moaBank!, new Rng(5));
    expect(traces()).toEqual(held);
    traces().forEach((t, l) => t.forEach((tr, k) => expect(tr, `mental/${l} trace ${k}`).toBe(held[l][k])));
    expect(after).not.toEqual(before);
    expect(read()).not.toEqual(after);
    trainer.dispose();
  });

  it('impromptu-only keeps no natural nets, no replay column, no extra checkpoint state', async () => {
    const { trainer } = make({ moaModel: 'impromptu', updateEvery: 4 });
    expect(trainer.moaNatural).toBeNull();
    const r = await trainer.round();
    expect(r.stats['moa/natural_loss']).toBeUndefined();
    const ck = await trainer.save();
    expect(Object.keys(ck.tensors).some((k) => k.includes('moaNat') || k.includes(MOA_PREV_FIELD))).toBe(false);
    expect(ck.extra.moaCharSeed).toBeUndefined();
    trainer.dispose();
  });
});
