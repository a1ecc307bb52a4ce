// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { RunQuery } from '../../src-shared/api';
import { setApi } from '../../src-renderer/api/use-api';
import { useRunsStore } from '../../src-renderer/stores/runs';
import RunTable from '../../src-renderer/components/history/RunTable.vue';
import { fakeClient, makeRun, type FakeClient } from './fake-client';

const N = 10_000;
let api: FakeClient;

beforeEach(() => {
  setActivePinia(createPinia());
  api = fakeClient({
    listRuns: vi.fn(async (q: RunQuery) => {
      const off = q.offset ?? 0;
      const rows = [];
      for (let i = off; i < Math.min(N, off + (q.limit ?? 50)); i++) rows.push(makeRun({ id: N - i, name: `run ${N - i}`, status: i % 7 === 0 ? 'running' : 'done' }));
      return { rows, total: N };
    }),
  });
  setApi(api);
});
afterEach(() => setApi(null));

describe('RunTable', () => {
  it('lists 10,000 runs with only the rows on screen in the DOM', async () => {
    const runs = useRunsStore();
    await runs.refresh();
    const w = mount(RunTable, { attachTo: document.body });
    await flushPromises();
    const body = w.find('[data-testid="run-table-body"]');
    // The spacer is as tall as all rows; the DOM holds a screenful plus a margin.
    expect(body.find('.spacer-rows').attributes('style')).toContain(`height: ${N * 32}px`);
    const rendered = w.findAll('[data-run-id]');
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(60);
    expect(rendered[0].attributes('data-run-id')).toBe(String(N));

    // Scroll to row 7,000: the page holding it is fetched and its rows appear.
    (body.element as HTMLElement).scrollTop = 7000 * 32;
    await body.trigger('scroll');
    await flushPromises();
    expect(api.listRuns).toHaveBeenCalledWith(expect.objectContaining({ offset: 6900, limit: 100 }));
    const ids = w.findAll('[data-run-id]').map((r) => Number(r.attributes('data-run-id')));
    expect(ids).toContain(N - 7000);
    expect(ids.length).toBeLessThan(60);
    // At most a few page requests: never the whole list.
    expect(vi.mocked(api.listRuns).mock.calls.length).toBeLessThanOrEqual(4);
    w.unmount();
  });

  it('selects with the checkbox (shift extends) and opens a run on click', async () => {
    const runs = useRunsStore();
    await runs.refresh();
    const w = mount(RunTable, { attachTo: document.body });
    await flushPromises();
    await w.find(`[data-run-id="${N}"] input[type="checkbox"]`).trigger('click');
    await w.find(`[data-run-id="${N - 3}"] input[type="checkbox"]`).trigger('click', { shiftKey: true });
    expect([...runs.selected].sort()).toEqual([N - 3, N - 2, N - 1, N].sort());
    await w.find(`[data-run-id="${N - 5}"]`).trigger('click');
    expect(location.hash).toBe(`#/run/${N - 5}`);
    w.unmount();
  });
});
