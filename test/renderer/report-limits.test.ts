// @vitest-environment happy-dom
/**
 * Issue 12, item 13 on the renderer side: the UI applies the host's caps on comparisons and
 * reports itself, in the host's words, instead of sending a request the host would refuse.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { REPORT_LIMITS } from '../../src-shared/report-limits';
import { setApi } from '../../src-renderer/api/use-api';
import { useCompareStore } from '../../src-renderer/stores/compare';
import ExportMenu from '../../src-renderer/components/common/ExportMenu.vue';
import { fakeClient, makeRun } from './fake-client';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => setApi(null));

describe('caps in the UI', () => {
  it('the export menu is disabled over a cap and says which, with the host’s sentence', async () => {
    const api = fakeClient();
    setApi(api);
    const over = mount(ExportMenu, { props: { kind: 'compare', ids: ids(REPORT_LIMITS.runs + 1) } });
    expect(over.get('[data-testid="export-menu"]').attributes('disabled')).toBeDefined();
    expect(over.get('[data-testid="export-limit"]').text()).toBe(`ids: at most ${REPORT_LIMITS.runs} runs per report (sent ${REPORT_LIMITS.runs + 1} distinct)`);
    const keys = mount(ExportMenu, { props: { kind: 'run', ids: [1], keys: Array.from({ length: REPORT_LIMITS.keys + 1 }, (_, i) => `k${i}`) } });
    expect(keys.get('[data-testid="export-menu"]').attributes('disabled')).toBeDefined();
    expect(keys.get('[data-testid="export-limit"]').text()).toContain(`keys: at most ${REPORT_LIMITS.keys} metrics`);
    // At the cap (duplicates not counted) the menu works as before.
    const at = mount(ExportMenu, { props: { kind: 'compare', ids: [...ids(REPORT_LIMITS.runs), 1, 2] } });
    expect(at.get('[data-testid="export-menu"]').attributes('disabled')).toBeUndefined();
    expect(at.find('[data-testid="export-limit"]').exists()).toBe(false);
    expect(api.exportReport).not.toHaveBeenCalled();
  });

  it('the compare page says the cap instead of asking the host', async () => {
    const api = fakeClient({
      getRun: async (id: number) => makeRun({ id }),
      compare: vi.fn(async () => ({ key: 'collective_success', groups: [], runs: [], summary: [], configDiff: [] })),
    });
    setApi(api);
    const c = useCompareStore();
    await c.setRuns(ids(REPORT_LIMITS.runs + 1));
    expect(api.compare).not.toHaveBeenCalled();
    expect(c.error).toBe(`runIds: at most ${REPORT_LIMITS.runs} runs per comparison (sent ${REPORT_LIMITS.runs + 1} distinct)`);
    await c.setRuns(ids(3));
    expect(api.compare).toHaveBeenCalledTimes(1);
    expect(c.error).toBeNull();
  });
});
