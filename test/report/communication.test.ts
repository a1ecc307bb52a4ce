import { describe, expect, it } from 'vitest';
import { commPoint, communicationHtml, communicationText } from '../../src-main/report/communication';

/** A cumulative counter: `perStep` scalars per env step after `warmup` steps, sampled every 300 steps. */
function counter(steps: number, perStep: number, warmup = 0) {
  const n = steps / 300;
  return {
    step: Float64Array.from({ length: n }, (_, i) => (i + 1) * 300),
    episode: Float64Array.from({ length: n }, (_, i) => i + 1),
    wallTime: Float64Array.from({ length: n }, (_, i) => i * 1000),
    value: Float64Array.from({ length: n }, (_, i) => Math.max(0, (i + 1) * 300 - warmup) * perStep),
  };
}

describe('communication cost (F2A2 spec §2.7, §6.6)', () => {
  it('takes the last point of a cumulative counter; nothing for an empty one', () => {
    expect(commPoint(counter(2400, 10))).toEqual({ scalars: 24_000, steps: 2400 });
    expect(commPoint(counter(0, 10))).toBeNull();
  });

  it('ratio of scalars per env step to the baseline, per task, mean over seeds', () => {
    // Rover-Tower at 2,400 env steps, as measured: F2A2-SAC 309,084,160 scalars, MA-AC 103,034,176.
    const sac = { scalars: 309_084_160, steps: 2400 };
    const maac = { scalars: 103_034_176, steps: 2400 };
    // A second F2A2 seed that ran twice as long sends twice as much: the same rate.
    const sac2 = { scalars: 2 * 309_084_160, steps: 4800 };
    const text = communicationText([{ baseline: { variant: 'rt MA-AC', runs: [maac] }, rows: [{ variant: 'rt F2A2-SAC', runs: [sac, sac2] }, { variant: 'rt F2A2-TD3', runs: [] }] }]);
    expect(text).toMatch(/^rt MA-AC +2400 +42930 +1 1$/m);
    expect(text).toMatch(/^rt F2A2-SAC +3600 +128800 +3 2$/m);
    expect(text).toMatch(/^rt F2A2-TD3 +– +– +– 0$/m);
    const html = communicationHtml([{ baseline: { variant: 'rt MA-AC', runs: [maac] }, rows: [{ variant: 'rt F2A2-SAC', runs: [sac] }] }]);
    expect(html).toContain('<td>rt F2A2-SAC</td><td>2400</td><td>128800</td><td>3</td><td>1</td>');
  });

  it('no baseline run: rates but no ratios', () => {
    const text = communicationText([{ baseline: { variant: 'ctc MA-AC', runs: [] }, rows: [{ variant: 'ctc F2A2-SAC', runs: [{ scalars: 1000, steps: 100 }] }] }]);
    expect(text).toMatch(/^ctc F2A2-SAC +100 +10 +– 1$/m);
  });
});
