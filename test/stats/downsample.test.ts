import { describe, expect, it } from 'vitest';
import { lttb, minMaxDownsample, rangeIndices, toGrid } from '../../src-shared/stats/downsample';

function series(n: number, f: (i: number) => number) {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i;
    y[i] = f(i);
  }
  return { x, y };
}

describe('minMaxDownsample', () => {
  it('returns short series unchanged', () => {
    const { x, y } = series(5, (i) => i * i);
    const d = minMaxDownsample(x, y, 10);
    expect(Array.from(d.y)).toEqual([0, 1, 4, 9, 16]);
  });

  it('keeps first and last points and stays within maxPoints', () => {
    const { x, y } = series(100_000, (i) => Math.sin(i / 100));
    const d = minMaxDownsample(x, y, 500);
    expect(d.x.length).toBeLessThanOrEqual(500);
    expect(d.x.length).toBeGreaterThan(400);
    expect(d.x[0]).toBe(0);
    expect(d.x[d.x.length - 1]).toBe(99_999);
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
  });

  it('keeps a single spike (up and down) at any bucket size', () => {
    const { x, y } = series(1_000_000, () => 1);
    y[654_321] = 1000;
    y[123_457] = -50;
    for (const m of [4, 10, 200, 1000]) {
      const d = minMaxDownsample(x, y, m);
      expect(Math.max(...d.y)).toBe(1000);
      expect(Math.min(...d.y)).toBe(-50);
      expect(Array.from(d.x)).toContain(654_321);
    }
  });

  it('hand-computed: 10 points to 6 (2 buckets of min/max plus the ends)', () => {
    // interior x=1..8, span 0..9 -> bucket width 4.5: x in [1,4] bucket 0 (max 9 @2, min 1 @3),
    // [5,8] bucket 1 (max 8 @6, min 0 @8)
    const y = [5, 3, 9, 1, 4, 2, 8, 7, 0, 6];
    const x = y.map((_, i) => i);
    const d = minMaxDownsample(x, y, 6);
    expect(Array.from(d.x)).toEqual([0, 2, 3, 6, 8, 9]);
    expect(Array.from(d.y)).toEqual([5, 9, 1, 8, 0, 6]);
  });

  it('works on a sub-range found by rangeIndices', () => {
    const { x, y } = series(1000, (i) => i);
    const [s, e] = rangeIndices(x, 100.5, 200);
    expect([s, e]).toEqual([101, 201]);
    const d = minMaxDownsample(x, y, 10, s, e);
    expect(d.x[0]).toBe(101);
    expect(d.x[d.x.length - 1]).toBe(200);
    expect(rangeIndices(x, 5000, 6000)).toEqual([1000, 1000]);
  });

  it('all-equal x falls back to equal-count buckets', () => {
    const x = new Float64Array(100).fill(3);
    const y = Float64Array.from({ length: 100 }, (_, i) => (i === 50 ? 9 : 0));
    const d = minMaxDownsample(x, y, 10);
    expect(Math.max(...d.y)).toBe(9);
    expect(d.x.length).toBeLessThanOrEqual(10);
  });
});

describe('lttb', () => {
  it('returns exactly maxPoints with both ends', () => {
    const { x, y } = series(10_000, (i) => Math.cos(i / 50));
    const d = lttb(x, y, 100);
    expect(d.x.length).toBe(100);
    expect(d.x[0]).toBe(0);
    expect(d.x[99]).toBe(9_999);
  });
});

describe('toGrid', () => {
  it('averages points per cell, interpolates gaps and leaves NaN outside the series', () => {
    const g = toGrid([0, 0.2, 2, 4], [1, 3, 5, 9], [0, 1, 2, 3, 4, 5, 6]);
    expect(g[0]).toBe(2); // mean of 1 and 3
    expect(g[1]).toBe(3.5); // interpolated between 2 and 5
    expect(g[2]).toBe(5);
    expect(g[3]).toBe(7);
    expect(g[4]).toBe(9);
    expect(g[5]).toBeNaN();
    expect(g[6]).toBeNaN();
  });
});
