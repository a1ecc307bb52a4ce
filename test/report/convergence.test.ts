import { describe, expect, it } from 'vitest';
import { convergenceText, convergenceTime, movingAverage } from '../../src-main/report/convergence';

function series(values: number[], secondsPerRound = 2) {
  const n = values.length;
  return {
    step: Float64Array.from({ length: n }, (_, i) => i * 100),
    episode: Float64Array.from({ length: n }, (_, i) => i + 1),
    wallTime: Float64Array.from({ length: n }, (_, i) => 1_000_000 + i * secondsPerRound * 1000),
    value: Float64Array.from(values),
  };
}

describe('time to convergence (F2A2 spec §6.4)', () => {
  it('moving average over the last w points, fewer at the start', () => {
    expect(Array.from(movingAverage([2, 4, 6, 8], 2))).toEqual([2, 3, 5, 7]);
  });

  it('a step from 0 to 10 at round 31: the 10-point average reaches 9.5 at round 40', () => {
    const c = convergenceTime(series([...Array(30).fill(0), ...Array(70).fill(10)]))!;
    expect(c.plateau).toBe(10);
    expect(c.start).toBe(0);
    // Rounds 31..40 in the window (10 points at 10) is the first average >= 9.5.
    expect(c.epoch).toBe(40);
    expect(c.seconds).toBe(39 * 2);
  });

  it('a curve that starts negative (battle returns) converges on the way from its start', () => {
    const c = convergenceTime(series([...Array(20).fill(-4), ...Array(80).fill(-1)]))!;
    expect(c.plateau).toBe(-1);
    expect(c.epoch).toBe(30);
  });

  it('a falling curve, and too short a series', () => {
    const c = convergenceTime(series([...Array(10).fill(5), ...Array(40).fill(1)]))!;
    expect(c.epoch).toBe(20);
    expect(c.trend).toBe('fell');
    expect(convergenceTime(series([1, 2, 3]))).toBeNull();
  });

  // A deterministic zig-zag: noise of amplitude `a` around `level`.
  const noisy = (n: number, level: number, a: number) => Array.from({ length: n }, (_, i) => level + (i % 2 ? a : -a) * (1 + (i % 3) / 2));

  it('a curve that only wanders inside its noise is flat, whatever round it "crosses" at', () => {
    // The 64 vs 64 F2A2-ISAC case: start about -3.2 with spread ~0.9, plateau -3.56 with spread 0.07.
    const c = convergenceTime(series([...noisy(10, -3.17, 0.9), ...noisy(44, -3.6, 0.5), ...noisy(6, -3.56, 0.07)]))!;
    expect(Math.abs(c.plateau - c.start)).toBeLessThan(1);
    expect(c.trend).toBe('flat');
    // The same shift with no noise at all is a real fall, and a real rise the other way.
    expect(convergenceTime(series([...Array(10).fill(-3.17), ...Array(50).fill(-3.56)]))!.trend).toBe('fell');
    expect(convergenceTime(series([...Array(10).fill(-3.56), ...Array(50).fill(-3.17)]))!.trend).toBe('rose');
    // Twice the noise's standard error is the line: a 12 vs 12 style rise from -1.65 to -0.31 clears it.
    expect(convergenceTime(series([...noisy(10, -1.65, 0.28), ...noisy(44, -0.8, 0.3), ...noisy(6, -0.31, 0.03)]))!.trend).toBe('rose');
  });

  it('prints a row per variant with the seeds that count', () => {
    const c = convergenceTime(series([...Array(30).fill(0), ...Array(70).fill(10)]))!;
    const text = convergenceText('red_return', [{ variant: 'IQL 12 vs 12', runs: [c, c] }, { variant: 'IQL 256 vs 256', runs: [] }]);
    expect(text).toMatch(/IQL 12 vs 12 +40 +78 +0 +10 +2 +rose 2$/m);
    expect(text).toMatch(/IQL 256 vs 256 .* 0 +-$/m);
  });

  it('a flat or falling seed has no convergence time: the mean is over the seeds that rose, the trend column counts all', () => {
    const rose = convergenceTime(series([...Array(30).fill(0), ...Array(70).fill(10)]))!;
    const flat = convergenceTime(series(noisy(60, -3, 0.5)))!;
    expect(flat.trend).toBe('flat');
    const text = convergenceText('blue_return', [
      { variant: 'F2A2-ISAC 12 vs 12', runs: [rose, flat] },
      { variant: 'F2A2-ISAC 64 vs 64', runs: [flat] },
    ]);
    expect(text).toMatch(/F2A2-ISAC 12 vs 12 +40 +78 .* 2 +rose 1 flat 1$/m);
    // No seed rose: no rounds, no seconds, not a Fig. 7b point.
    expect(text).toMatch(/F2A2-ISAC 64 vs 64 +– +– .* 1 +flat 1$/m);
  });

  it('keeps the columns aligned when a label is longer than the default width', () => {
    const c = convergenceTime(series([...Array(30).fill(0), ...Array(70).fill(10)]))!;
    const lines = convergenceText('red_return', [{ variant: 'IQL 12 vs 12', runs: [c] }, { variant: 'F2A2-ISAC 12 vs 12 (blue_return)', runs: [c] }]).trimEnd().split('\n').slice(2);
    // Every row's "rounds" column ends where the header's does.
    const end = lines[0].indexOf('rounds') + 'rounds'.length;
    for (const l of lines.slice(1)) expect(l.slice(0, end), l).toMatch(/ 40$/);
  });
});
