/**
 * The episode ring buffer (algos/core/episode-buffer.ts): a full ring reuses the overwritten
 * episode's arrays, so check that every stored episode still holds exactly the copy it was
 * made from after many wraps (mixed lengths: some reuse, some fresh arrays), and that a sample
 * lays them out as the lock-step batch.
 */
import { describe, expect, it } from 'vitest';
import { EpisodeBatch, EpisodeBuffer } from '../../src-shared/algos/core/episode-buffer';
import { Rng } from '../../src-shared/rng';

const L = 7;
const N = 2;
const O = 5;
const E = 3;
const A = 4;
const S = 2;

function randomBatch(rng: Rng, B: number): EpisodeBatch {
  const d = new EpisodeBatch(L, B, N, O, E, A, S);
  for (const f of [d.xs, d.avail, d.rews, d.cobs, d.states]) for (let i = 0; i < f.length; i++) f[i] = rng.float();
  for (let i = 0; i < d.acts.length; i++) d.acts[i] = rng.int(A);
  d.T = 0;
  for (let b = 0; b < B; b++) {
    // Lengths 5 or 7 mostly, so overwritten episodes often have the new one's size.
    d.endStep[b] = rng.float() < 0.7 ? 4 : rng.int(L);
    d.endTrunc[b] = rng.int(2);
    d.T = Math.max(d.T, d.endStep[b] + 1);
  }
  return d;
}

/** What episode b of d must hold, written field by field from the layout's definition. */
function expected(d: EpisodeBatch, b: number) {
  const B = d.B;
  const n = d.endStep[b] + 1;
  const xs: number[] = [];
  const avail: number[] = [];
  const acts: number[] = [];
  const rews: number[] = [];
  for (let t = 0; t < n; t++) {
    for (let a = 0; a < N; a++) {
      const r = (t * N + a) * B + b;
      xs.push(...d.xs.subarray(r * O, (r + 1) * O));
      avail.push(...d.avail.subarray(r * A, (r + 1) * A));
      acts.push(d.acts[r]);
      rews.push(d.rews[r]);
    }
  }
  const finalAct: number[] = [];
  const finalObs: number[] = [];
  for (let a = 0; a < N; a++) {
    finalAct.push(d.acts[(d.T * N + a) * B + b]);
    const r = (n * N + a) * B + b;
    finalObs.push(...d.cobs.subarray(r * E, (r + 1) * E));
  }
  const states: number[] = [];
  for (let t = 0; t <= n; t++) states.push(...d.states.subarray((t * B + b) * S, (t * B + b + 1) * S));
  return { n, trunc: d.endTrunc[b], xs, avail, acts, finalAct, rews, finalObs, states };
}

describe('EpisodeBuffer', () => {
  it('keeps every stored episode intact across many wraps of a full ring (arrays reused)', () => {
    const rng = new Rng(5, 1);
    const buf = new EpisodeBuffer(5);
    const ring: ReturnType<typeof expected>[] = [];
    let next = 0;
    let reused = 0;
    for (let round = 0; round < 12; round++) {
      const d = randomBatch(rng, 3);
      const before = [...buf.eps.map((e) => e.xs)];
      buf.insert(d);
      for (let b = 0; b < 3; b++) {
        if (ring.length < 5) ring.push(expected(d, b));
        else ring[next] = expected(d, b);
        next = (next + 1) % 5;
      }
      reused += buf.eps.filter((e) => before.includes(e.xs)).length;
      expect(buf.eps.length).toBe(ring.length);
      buf.eps.forEach((e, i) => {
        const w = ring[i];
        expect({ n: e.n, trunc: e.trunc }).toEqual({ n: w.n, trunc: w.trunc });
        expect(Array.from(e.xs)).toEqual(w.xs);
        expect(Array.from(e.avail)).toEqual(w.avail);
        expect(Array.from(e.acts)).toEqual(w.acts);
        expect(Array.from(e.finalAct)).toEqual(w.finalAct);
        expect(Array.from(e.rews)).toEqual(w.rews);
        expect(Array.from(e.finalObs)).toEqual(w.finalObs);
        expect(Array.from(e.states)).toEqual(w.states);
      });
      // No two slots share an array.
      expect(new Set(buf.eps.map((e) => e.xs)).size).toBe(buf.eps.length);
    }
    // Some overwritten episodes lent their arrays (more than the two never overwritten), so the
    // reuse path was exercised.
    expect(reused).toBeGreaterThan(10);
  });

  it('sample lays the drawn episodes out as a lock-step batch (padding repeats the final observation)', () => {
    const rng = new Rng(9, 1);
    const buf = new EpisodeBuffer(4);
    for (let i = 0; i < 3; i++) buf.insert(randomBatch(rng, 3));
    const out = new EpisodeBatch(L, 2, N, O, E, A, S);
    buf.sample(2, new Rng(1, 2), out);
    expect(out.B).toBe(2);
    for (let b = 0; b < 2; b++) {
      const ep = buf.eps.find((e) => e.n === out.endStep[b] + 1 && Array.from(e.xs.subarray(0, O)).join() === Array.from(out.xs.subarray(b * O, (b + 1) * O)).join());
      expect(ep).toBeDefined();
      const n = ep!.n;
      for (let t = 0; t <= out.T; t++) {
        for (let a = 0; a < N; a++) {
          const r = (t * N + a) * 2 + b;
          const c = Array.from(out.cobs.subarray(r * E, (r + 1) * E));
          if (t < n) {
            const s = t * N + a;
            expect(Array.from(out.xs.subarray(r * O, (r + 1) * O))).toEqual(Array.from(ep!.xs.subarray(s * O, (s + 1) * O)));
            expect(Array.from(out.avail.subarray(r * A, (r + 1) * A))).toEqual(Array.from(ep!.avail.subarray(s * A, (s + 1) * A)));
            expect(c).toEqual(Array.from(ep!.xs.subarray(s * O, s * O + E)));
            expect(out.acts[r]).toBe(ep!.acts[s]);
          } else {
            expect(c).toEqual(Array.from(ep!.finalObs.subarray(a * E, (a + 1) * E)));
            if (t < out.T) {
              expect(Array.from(out.avail.subarray(r * A, (r + 1) * A))).toEqual([1, 1, 1, 1]);
              expect(Array.from(out.xs.subarray(r * O, (r + 1) * O))).toEqual([0, 0, 0, 0, 0]);
            }
            if (t === n || t === out.T) expect(out.acts[r]).toBe(ep!.finalAct[a]);
          }
        }
        const st = Math.min(t, n);
        expect(Array.from(out.states.subarray((t * 2 + b) * S, (t * 2 + b + 1) * S))).toEqual(Array.from(ep!.states.subarray(st * S, (st + 1) * S)));
      }
    }
  });
});
