/**
 * F2A2's consensus machinery (shared/specs/f2a2.md §2.4-2.7): the primal-dual step on
 * hand-built graphs contracts the disagreement and keeps the mean; graph and schedule generators;
 * the communication counters.
 */
import { describe, expect, it } from 'vitest';
import { CommGraph } from '../../src-shared/algos/consensus/graph';
import { ExchangeSchedule } from '../../src-shared/algos/consensus/schedule';
import { PrimalDualConsensus } from '../../src-shared/algos/consensus/primal-dual';
import { Rng } from '../../src-shared/rng';

function copiesOf(n: number, P: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * P }, () => r.normal());
}
function means(c: Float32Array, n: number, P: number): number[] {
  return Array.from({ length: P }, (_, k) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += c[i * P + k];
    return m / n;
  });
}
const all = (n: number) => new Uint8Array(n).fill(1);

describe('primal-dual consensus step', () => {
  it('complete graph, eta beta = 1: one step reaches the mean exactly, which is kept', () => {
    const n = 5;
    const P = 3;
    const w = copiesOf(n, P, 1);
    const m0 = means(w, n, P);
    const g = new CommGraph(n, { topology: 'full', edgeFraction: 1, directed: false }, new Rng(1));
    const c = new PrimalDualConsensus(n, P, { beta: 0.5, eta: 2, weights: 'uniform', mode: 'primal-dual' });
    c.init(w);
    expect(c.step(w, g, all(n))).toBe(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < P; k++) expect(w[i * P + k]).toBeCloseTo(m0[k], 5);
    expect(PrimalDualConsensus.residual(w, n, P)).toBeLessThan(1e-10);
    // Duals: w_i - w~_i = 0 after the step, so lambda stays 0.
    expect(Math.max(...Array.from(c.lambda, Math.abs))).toBeLessThan(1e-6);
    expect(c.messages).toBe(n * (n - 1));
    expect(c.scalars).toBe(n * (n - 1) * P);
  });

  it.each([
    ['ring, uniform weights', 'uniform'],
    ['ring, Metropolis weights', 'metropolis'],
  ] as const)('%s: the disagreement contracts (below its start at every iteration, 100-fold in 40) and the means of copies and duals stay put', (_n, weights) => {
    const n = 8;
    const P = 4;
    const w = copiesOf(n, P, 2);
    const m0 = means(w, n, P);
    const g = new CommGraph(n, { topology: 'ring-plus', edgeFraction: 0, directed: false }, new Rng(3));
    expect(g.edgeCount()).toBe(8);
    for (let i = 0; i < n; i++) expect(g.neighbours(i)).toHaveLength(2);
    const c = new PrimalDualConsensus(n, P, { beta: 0.5, eta: 1, weights, mode: 'primal-dual' });
    c.init(w);
    const r0 = PrimalDualConsensus.residual(w, n, P);
    let r = r0;
    for (let it = 0; it < 40; it++) {
      c.step(w, g, all(n));
      r = PrimalDualConsensus.residual(w, n, P);
      // The duals make the path oscillate, never above where it started.
      expect(r).toBeLessThan(it === 0 ? 0.8 * r0 : r0);
      means(w, n, P).forEach((m, k) => expect(m).toBeCloseTo(m0[k], 5));
      means(c.lambda, n, P).forEach((m) => expect(m).toBeCloseTo(0, 5));
    }
    expect(r).toBeLessThan(1e-2 * r0);
  });

  it('irregular random graph with Metropolis weights keeps the mean; a lone agent (no neighbour) holds no event', () => {
    const n = 6;
    const P = 2;
    const w = copiesOf(n, P, 4);
    const m0 = means(w, n, P);
    const rng = new Rng(5);
    const g = new CommGraph(n, { topology: 'ring-plus', edgeFraction: 0.4, directed: false }, rng);
    const c = new PrimalDualConsensus(n, P, { beta: 0.5, eta: 1, weights: 'metropolis', mode: 'primal-dual' });
    c.init(w);
    const r0 = PrimalDualConsensus.residual(w, n, P);
    for (let it = 0; it < 30; it++) {
      g.redraw(rng);
      c.step(w, g, all(n));
      means(w, n, P).forEach((m, k) => expect(m).toBeCloseTo(m0[k], 5));
    }
    expect(PrimalDualConsensus.residual(w, n, P)).toBeLessThan(1e-3 * r0);
    const none = new CommGraph(n, { topology: 'none', edgeFraction: 0, directed: false }, rng);
    const before = Float32Array.from(w);
    expect(c.step(w, none, all(n))).toBe(0);
    expect(Array.from(w)).toEqual(Array.from(before));
  });

  it('only firing agents move; averaging mode copies the neighbourhood mean', () => {
    const n = 3;
    const P = 1;
    const w = Float32Array.from([0, 3, 6]);
    const g = new CommGraph(n, { topology: 'full', edgeFraction: 1, directed: false }, new Rng(1));
    const c = new PrimalDualConsensus(n, P, { beta: 1, eta: 1, weights: 'uniform', mode: 'averaging' });
    c.init(w);
    c.step(w, g, Uint8Array.from([1, 0, 0]));
    expect(Array.from(w)).toEqual([3, 3, 6]);
    expect(c.messages).toBe(2);
  });
});

describe('graph and schedule generators', () => {
  it('ring-plus adds round(p x pool) distinct non-ring edges per iteration; p = 1 is complete, directed pools are arcs', () => {
    const rng = new Rng(9);
    for (const p of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
      const g = new CommGraph(8, { topology: 'ring-plus', edgeFraction: p, directed: false }, rng);
      for (let it = 0; it < 5; it++) {
        g.redraw(rng);
        expect(g.edgeCount()).toBe(8 + Math.round(p * 20));
        for (let i = 0; i < 8; i++) {
          expect(g.adj[i * 8 + i]).toBe(0);
          for (let j = 0; j < 8; j++) expect(g.adj[i * 8 + j]).toBe(g.adj[j * 8 + i]);
          // The ring stays: i's ring neighbours are always connected.
        }
        for (let k = 0; k < 8; k++) expect(g.adj[g.ring[k] * 8 + g.ring[(k + 1) % 8]]).toBe(1);
      }
    }
    const d = new CommGraph(3, { topology: 'ring-plus', edgeFraction: 0.5, directed: true }, rng);
    expect(d.edgeCount()).toBe(3 + Math.round(0.5 * 3));
    const draws = new Set<string>();
    const g = new CommGraph(8, { topology: 'ring-plus', edgeFraction: 0.4, directed: false }, rng);
    for (let it = 0; it < 10; it++) {
      g.redraw(rng);
      draws.add(Array.from(g.adj).join(''));
    }
    expect(draws.size).toBeGreaterThan(5);
  });

  it('schedule: N(1,0) fires every iteration, N(inf,0) never, N(20,10) at intervals with that mean and spread', () => {
    const rng = new Rng(11);
    const fire = new Uint8Array(8);
    const every = new ExchangeSchedule(8, { mean: 1, std: 0, secondParamIsVariance: false }, rng);
    for (let t = 0; t < 10; t++) expect(every.tick(rng, fire)).toBe(8);
    const never = new ExchangeSchedule(8, { mean: Infinity, std: 0, secondParamIsVariance: false }, rng);
    for (let t = 0; t < 100; t++) expect(never.tick(rng, fire)).toBe(0);
    const s = new ExchangeSchedule(8, { mean: 20, std: 10, secondParamIsVariance: false }, rng);
    const last = new Array<number>(8).fill(0);
    const gaps: number[] = [];
    for (let t = 1; t <= 20000; t++) {
      s.tick(rng, fire);
      for (let i = 0; i < 8; i++) {
        if (!fire[i]) continue;
        if (last[i] > 0) gaps.push(t - last[i]);
        last[i] = t;
      }
    }
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
    expect(mean).toBeGreaterThan(19);
    expect(mean).toBeLessThan(21.5); // max(1, .) truncation lifts the mean a little
    expect(sd).toBeGreaterThan(8.5);
    expect(sd).toBeLessThan(10.5);
    const v = new ExchangeSchedule(1, { mean: 200, std: 100, secondParamIsVariance: true }, rng);
    const ds = Array.from({ length: 4000 }, () => v.draw(rng));
    const vm = ds.reduce((a, b) => a + b, 0) / ds.length;
    expect(Math.sqrt(ds.reduce((a, b) => a + (b - vm) ** 2, 0) / ds.length)).toBeLessThan(12); // sd = sqrt(100)
    expect(() => new ExchangeSchedule(2, { mean: 0.5, std: 0, secondParamIsVariance: false }, rng)).toThrow(/mean/);
  });
});
