/**
 * The compare chart's tooltip is HTML (ECharts' formatter): names from users and shared
 * databases are escaped, so a run named `<img src=x onerror=...>` stays text.
 */
import { describe, expect, it } from 'vitest';
import { compareTooltip } from '../../src-renderer/components/compare/compare-tooltip';
import { escapeHtml } from '../../src-renderer/lib/escape-html';

describe('compare tooltip', () => {
  it('escapes series (run, experiment, variant) names', () => {
    const evil = '<img src=x onerror="alert(1)">';
    const html = compareTooltip(
      [
        { seriesId: 'mean0', dataIndex: 0, value: [5, 0.5], color: '#123456', seriesName: `${evil} / ${evil}` },
        { seriesId: 'run7', dataIndex: 0, value: [5, 0.25], color: 'red"><script>', seriesName: `run #7 ${evil}` },
      ],
      { groups: [{ lo: [0.4], hi: [0.6] }] as never },
      'episode',
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&#60;img src=x onerror=&#34;alert(1)&#34;&#62;');
    expect(html).toContain('<span style="color:#123456">●</span>');
    expect(html).toContain('[0.4');
  });

  it('escapeHtml covers the five characters', () => {
    expect(escapeHtml(`<a href='x'>&"</a>`)).toBe('&#60;a href=&#39;x&#39;&#62;&#38;&#34;&#60;/a&#62;');
  });
});
