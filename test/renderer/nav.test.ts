// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from '../../src-renderer/stores/nav';

describe('hash routes', () => {
  it('round-trips views, ids and parameters', () => {
    expect(parseHash('#/run/12?tab=replay')).toEqual({ view: 'run', id: 12, params: { tab: 'replay' } });
    expect(parseHash('#/compare?runs=1,2')).toEqual({ view: 'compare', params: { runs: '1,2' } });
    expect(parseHash('')).toEqual({ view: 'history', params: {} });
    expect(parseHash('#/nonsense')).toEqual({ view: 'history', params: {} });
    expect(formatHash({ view: 'run', id: 3, params: { tab: 'log' } })).toBe('#/run/3?tab=log');
    expect(formatHash({ view: 'history', params: { exp: '' } })).toBe('#/history');
  });
});
