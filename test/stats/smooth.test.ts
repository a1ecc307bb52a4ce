import { describe, expect, it } from 'vitest';
import { ema, movingAverage } from '../../src-shared/stats/smooth';

describe('movingAverage', () => {
  it('trailing window, shorter at the start', () => {
    expect(Array.from(movingAverage([1, 2, 3, 4, 5], 3))).toEqual([1, 1.5, 2, 3, 4]);
    expect(Array.from(movingAverage([1, 2, 3], 1))).toEqual([1, 2, 3]);
  });
  it('skips non-finite values', () => {
    const m = movingAverage([2, NaN, 4, 6], 2);
    expect(m[0]).toBe(2);
    expect(m[1]).toBeNaN();
    expect(m[2]).toBe(3);
    expect(m[3]).toBe(5);
  });
  it('stays exact over long series', () => {
    const v = Float64Array.from({ length: 300_000 }, (_, i) => (i % 7) * 0.1 + 1e6);
    const m = movingAverage(v, 7);
    expect(m[299_999]).toBeCloseTo(1e6 + 0.3, 6);
  });
});

describe('ema', () => {
  it('debiased: first point equals the value; constant stays constant', () => {
    const e = ema([5, 5, 5], 0.9);
    expect(e[0]).toBeCloseTo(5, 12);
    expect(e[2]).toBeCloseTo(5, 12);
  });
  it('hand-computed with weight 0.5', () => {
    // last: 0.5*0+0.5*2=1 -> /0.5 = 2; 0.5*1+0.5*4=2.5 -> /0.75 = 3.333...
    const e = ema([2, 4], 0.5);
    expect(e[0]).toBeCloseTo(2, 12);
    expect(e[1]).toBeCloseTo(10 / 3, 12);
    expect(Array.from(ema([1, 2], 0))).toEqual([1, 2]);
  });
});
