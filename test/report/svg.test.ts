import { describe, expect, it } from 'vitest';
import { escapeXml, fmtTick, lineChartSvg, niceTicks } from '../../src-main/report/svg';
import { escapeLatex } from '../../src-main/report/latex';

describe('svg charts', () => {
  it('nice ticks are 1/2/5 x 10^k and cover the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 97, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(3, 3, 5).length).toBeGreaterThan(1);
    expect(fmtTick(25_000)).toBe('25k');
    expect(fmtTick(1_500_000)).toBe('1.5M');
  });

  it('draws bands, lines, legend and breaks lines at NaN', () => {
    const svg = lineChartSvg({
      title: 'a <b>',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { label: 'g1', x: [0, 1, 2, 3], y: [0, 1, NaN, 3], lo: [0, 0.5, NaN, 2], hi: [0, 1.5, NaN, 4] },
        { label: 'g2 & co', x: [0, 1, 2, 3], y: [1, 1, 1, 1] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect((svg.match(/class="band"/g) ?? []).length).toBe(1);
    expect((svg.match(/class="line"/g) ?? []).length).toBe(2);
    expect(svg).toContain('<circle'); // the isolated last point of g1
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('g2 &amp; co');
    expect(escapeXml('"\'')).toBe('&quot;&#39;');
  });

  it('an empty chart says so', () => {
    expect(lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
  });
});

describe('latex escaping', () => {
  it('escapes every special character', () => {
    expect(escapeLatex('a_b & c% $d# {e} ~f ^g \\h')).toBe(
      'a\\_b \\& c\\% \\$d\\# \\{e\\} \\textasciitilde{}f \\textasciicircum{}g \\textbackslash{}h',
    );
  });
});
