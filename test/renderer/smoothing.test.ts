// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ema } from '../../src-renderer/lib/smoothing';
import { appendXY, spliceRange, wallToMs } from '../../src-renderer/lib/series';

describe('EMA smoothing', () => {
  it('is the identity at weight 0', () => {
    expect(ema([3, 1, 4], 0)).toEqual([3, 1, 4]);
  });

  it('matches hand-computed debiased values', () => {
    // w = 0.5: a1 = 0.5*2 = 1 -> /0.5 = 2; a2 = 0.5*1 + 0.5*4 = 2.5 -> /0.75 = 3.333...;
    // a3 = 0.5*2.5 + 0.5*8 = 5.25 -> /0.875 = 6.
    const out = ema([2, 4, 8], 0.5);
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[1]).toBeCloseTo(10 / 3, 12);
    expect(out[2]).toBeCloseTo(6, 12);
  });

  it('starts at the first value and converges to a constant', () => {
    const out = ema(new Array(50).fill(7), 0.9);
    for (const v of out) expect(v).toBeCloseTo(7, 10);
  });

  it('lets non-finite values through without disturbing the average', () => {
    const out = ema([1, NaN, 1], 0.6);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo(1, 12);
  });

  it('keeps a single spike visible but damped', () => {
    const out = ema([0, 0, 0, 10, 0, 0], 0.6);
    expect(out[3]).toBeGreaterThan(3);
    expect(out[3]).toBeLessThan(10);
    expect(out[5]).toBeLessThan(out[4]);
  });
});

describe('series helpers', () => {
  it('splices a zoomed range into the overview', () => {
    const overview = { x: [0, 10, 20, 30, 40], y: [0, 1, 2, 3, 4] };
    const detail = { x: [10, 12, 14, 16, 18, 20], y: [1, 1.2, 1.4, 1.6, 1.8, 2] };
    expect(spliceRange(overview, detail, 10, 20)).toEqual({
      x: [0, 10, 12, 14, 16, 18, 20, 30, 40],
      y: [0, 1, 1.2, 1.4, 1.6, 1.8, 2, 3, 4],
    });
  });

  it('appends in order into new arrays and drops late points', () => {
    const s = { x: [1, 2], y: [5, 6] };
    const out = appendXY(s, [3, 2.5, 4], [7, 0, 8]);
    expect(out).toEqual({ x: [1, 2, 3, 4], y: [5, 6, 7, 8] });
    expect(s.x).toEqual([1, 2]);
  });

  it('reads wall time in seconds or milliseconds as milliseconds', () => {
    expect(wallToMs([1_700_000_000, 1_700_000_001])).toEqual([1_700_000_000_000, 1_700_000_001_000]);
    const ms = [1_700_000_000_000];
    expect(wallToMs(ms)).toBe(ms);
  });
});
