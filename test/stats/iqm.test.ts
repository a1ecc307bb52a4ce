import { describe, expect, it } from 'vitest';
import { iqm } from '../../src-shared/stats/iqm';

describe('iqm', () => {
  it('is the 25%-trimmed mean when n is a multiple of 4', () => {
    expect(iqm([1, 2, 3, 4])).toBeCloseTo(2.5, 12);
    // sorted 1..8, middle half = 3,4,5,6
    expect(iqm([8, 1, 7, 2, 6, 3, 5, 4])).toBeCloseTo(4.5, 12);
    // outliers in the tails do not matter
    expect(iqm([-1000, 2, 3, 1000])).toBeCloseTo(2.5, 12);
  });

  it('weights the values straddling a quartile by their mass inside the middle half', () => {
    // n=5: masses 0.15, 0.2, 0.15 on x(2), x(3), x(4)
    expect(iqm([1, 2, 3, 4, 5])).toBeCloseTo(3, 12);
    expect(iqm([0, 10, 20, 100, 1000])).toBeCloseTo((0.15 * 10 + 0.2 * 20 + 0.15 * 100) / 0.5, 12);
    // n=3: each value has mass 1/3; x(1) contributes 1/12, x(2) 1/3, x(3) 1/12
    expect(iqm([1, 2, 9])).toBeCloseTo(((1 / 12) * 1 + (1 / 3) * 2 + (1 / 12) * 9) / 0.5, 12);
    // n=2: each value keeps a quarter
    expect(iqm([1, 3])).toBeCloseTo(2, 12);
  });

  it('handles one value, no values and non-finite values', () => {
    expect(iqm([7])).toBe(7);
    expect(iqm([])).toBeNaN();
    expect(iqm([NaN, 1, 2, 3, 4, Infinity])).toBeCloseTo(2.5, 12);
  });
});
