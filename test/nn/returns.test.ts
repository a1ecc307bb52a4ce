import { describe, expect, it } from 'vitest';
import { discountedReturns, tdLambdaTargets, tdLambdaTargetsPymarl } from '../../src-shared/nn/returns';
import { maxAbsDiff } from './tf-setup';

const f = (a: number[]) => Float32Array.from(a);

describe('discounted returns', () => {
  it('R_t = m_t r_t + gamma R_{t+1}, per column, zero bootstrap', () => {
    // T = 3, M = 2. Column 0 valid throughout; column 1 ends after step 1.
    const r = f([1, 0, 0, 2, 3, 5]);
    const m = f([1, 1, 1, 1, 1, 0]);
    const R = discountedReturns(r, m, 3, 2, 0.5);
    // col 0: R2 = 3, R1 = 0 + 1.5, R0 = 1 + 0.75; col 1: R2 = 0 (masked), R1 = 2, R0 = 0 + 1
    expect(maxAbsDiff(R, [1.75, 1, 1.5, 2, 3, 0])).toBeLessThan(1e-6);
  });

  it('uses a bootstrap value when given', () => {
    const R = discountedReturns(f([1, 1]), f([1, 1]), 2, 1, 0.9, f([10]));
    expect(maxAbsDiff(R, [1 + 0.9 * (1 + 9), 1 + 9])).toBeLessThan(1e-5);
  });
});

describe('TD(lambda) targets', () => {
  const gamma = 0.9;
  // One column, T = 3, values V_0..V_3.
  const V = f([0.5, 1, 2, 4]);
  const r = f([1, 0, 2]);
  const m = f([1, 1, 1]);

  it('lambda = 0 is one-step TD; truncated last step bootstraps', () => {
    const G = tdLambdaTargets(r, f([0, 0, 0]), m, V, 3, 1, gamma, 0);
    expect(maxAbsDiff(G, [1 + 0.9 * 1, 0 + 0.9 * 2, 2 + 0.9 * 4])).toBeLessThan(1e-6);
  });

  it('lambda = 1 is the Monte-Carlo return, bootstrapped only at truncation', () => {
    const trunc = tdLambdaTargets(r, f([0, 0, 0]), m, V, 3, 1, gamma, 1);
    const g2 = 2 + 0.9 * 4;
    const g1 = 0 + 0.9 * g2;
    expect(maxAbsDiff(trunc, [1 + 0.9 * g1, g1, g2])).toBeLessThan(1e-5);
    const term = tdLambdaTargets(r, f([0, 0, 1]), m, V, 3, 1, gamma, 1);
    expect(maxAbsDiff(term, [1 + 0.9 * 0.9 * 2, 0.9 * 2, 2])).toBeLessThan(1e-6);
  });

  it('lambda = 0.5 mixes, and padding after a termination gets 0', () => {
    // T = 3, the episode terminates at step 1; step 2 is padding.
    const G = tdLambdaTargets(r, f([0, 1, 0]), f([1, 1, 0]), V, 3, 1, gamma, 0.5);
    const g1 = 0;
    const g0 = 1 + 0.9 * (0.5 * 1 + 0.5 * g1);
    expect(maxAbsDiff(G, [g0, g1, 0])).toBeLessThan(1e-6);
  });

  it('PyMARL form with sticky terminated flags reproduces the k + 1 - T bootstrap quirk', () => {
    // T = 4, success at step k = 1 (flags 1 from k on), lambda = 1.
    const T = 4;
    const rr = f([0, 1.5, 0, 0]);
    const term = f([0, 1, 1, 1]);
    const mm = f([1, 1, 0, 0]);
    const VV = f([0, 0, 0, 0, 2]);
    const G = tdLambdaTargetsPymarl(rr, term, mm, VV, T, 1, gamma, 1);
    const GT = 2 * (1 - 3); // V_T * (1 - sum terminated) = 2 * (k + 1 - T) = -4
    const g3 = gamma * GT;
    const g2 = gamma * g3;
    const g1 = gamma * g2 + 1.5;
    const g0 = gamma * g1;
    expect(maxAbsDiff(G, [g0, g1, g2, g3])).toBeLessThan(1e-5);
    // Time-limit episodes (flag only on the last step) get no bootstrap: the sum is 1.
    const G2 = tdLambdaTargetsPymarl(f([0, 0, 0, 1]), f([0, 0, 0, 1]), f([1, 1, 1, 1]), VV, T, 1, gamma, 1);
    expect(maxAbsDiff(G2, [0.729, 0.81, 0.9, 1])).toBeLessThan(1e-6);
  });
});
