// @vitest-environment happy-dom
/**
 * The history's chosen columns: the picker (keyboard included), the query the table sends
 * (columns, column sort, column filters: all computed by the host), and the choice kept as the
 * user's setting across page loads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { RunQuery } from '../../src-shared/api';
import { parseFilterText, filterText } from '../../src-shared/history-columns';
import { setApi } from '../../src-renderer/api/use-api';
import { useRunsStore } from '../../src-renderer/stores/runs';
import { COLUMNS_SETTING, useHistoryColumnsStore } from '../../src-renderer/stores/history-columns';
import RunTable from '../../src-renderer/components/history/RunTable.vue';
import ColumnPicker from '../../src-renderer/components/history/ColumnPicker.vue';
import { fakeClient, makeRun, type FakeClient } from './fake-client';

let api: FakeClient;
const LR: Record<number, number> = { 1: 0.001, 2: 0.01, 3: 0.0003 };
const RET: Record<number, number> = { 1: 0.9, 2: 0.2, 3: 0.6 };

/** A host stand-in that answers listRuns' columns from its own table of values. */
function listRuns(q: RunQuery) {
  const cols = q.columns ?? [];
  let ids = [1, 2, 3];
  for (const f of q.columnFilters ?? []) {
    const v = (id: number) => (f.column === 'config:algo.lr' ? LR[id] : RET[id]);
    if (f.op === '>') ids = ids.filter((id) => v(id) > (f.value as number));
  }
  const rows = ids.map((id) => {
    const columns: Record<string, number | null> = {};
    for (const c of cols) columns[c] = c === 'config:algo.lr' ? LR[id] : c === 'metric:final:ret' ? RET[id] : null;
    return { ...makeRun({ id, status: 'done' }), ...(cols.length ? { columns } : {}) };
  });
  return Promise.resolve({ rows, total: rows.length });
}

const Page = defineComponent({ setup: () => () => h('div', [h(ColumnPicker), h(RunTable)]) });

beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
  api = fakeClient({
    listRuns: vi.fn(listRuns),
    historyColumns: vi.fn(async () => ({
      config: [
        { path: 'algo.lr', doc: 'learning rate', sources: ['pg'] },
        { path: 'env.episodeLimit', doc: 'steps per episode', sources: ['manitokan'] },
      ],
      metrics: ['ret', 'losses/policy'],
    })),
  });
  setApi(api);
});
afterEach(() => setApi(null));

const lastQuery = () => vi.mocked(api.listRuns).mock.calls.at(-1)![0];

describe('history columns', () => {
  it('picks config fields and metric summaries as columns, sorts and filters by them on the host, and keeps the choice', async () => {
    const runs = useRunsStore();
    await runs.refresh();
    const w = mount(Page, { attachTo: document.body });
    await flushPromises();

    // Open the picker from the keyboard's point of view: a real button, focus lands in its search box.
    const open = w.find('[data-testid="column-picker"]');
    await open.trigger('click');
    await flushPromises();
    expect(open.attributes('aria-expanded')).toBe('true');
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Search fields and metrics');
    const panel = () => w.find('[data-testid="column-panel"]');
    await panel().find('input[data-col="config:algo.lr"]').setValue(true);
    await panel().find('input[data-col="metric:final:ret"]').setValue(true);
    await flushPromises();
    expect(lastQuery().columns).toEqual(['config:algo.lr', 'metric:final:ret']);
    expect(JSON.parse(localStorage.getItem(COLUMNS_SETTING)!)).toEqual(['config:algo.lr', 'metric:final:ret']);

    // The search narrows the lists; Escape closes the panel and gives focus back to its button.
    await panel().find('input[type="search"]').setValue('loss');
    expect(panel().find('input[data-col="metric:final:ret"]').exists()).toBe(false);
    expect(panel().find('input[data-col="metric:mean:losses/policy"]').exists()).toBe(true);
    await w.find('[data-testid="column-panel"]').trigger('keydown', { key: 'Escape' });
    expect(w.find('[data-testid="column-panel"]').exists()).toBe(false);
    expect(document.activeElement).toBe(open.element);

    // The table shows the host's values in the new columns.
    const cell = (id: number, col: string) => w.find(`[data-run-id="${id}"] [data-col="${col}"]`).text();
    expect(cell(2, 'config:algo.lr')).toBe('0.010');
    expect(cell(1, 'metric:final:ret')).toBe('0.900');
    expect(w.find('.row.head [data-col="metric:final:ret"]').text()).toBe('ret (final)');

    // Sorting by a chosen column asks the host; again reverses it.
    await w.find('.row.head [data-col="metric:final:ret"] button').trigger('click');
    await flushPromises();
    expect(lastQuery()).toMatchObject({ sortColumn: 'metric:final:ret', desc: true });
    expect(w.find('.row.head [data-col="metric:final:ret"]').attributes('aria-sort')).toBe('descending');
    await w.find('.row.head [data-col="metric:final:ret"] button').trigger('click');
    await flushPromises();
    expect(lastQuery()).toMatchObject({ sortColumn: 'metric:final:ret', desc: false });
    // A built-in sort takes over again.
    await w.find('.row.head .sortable').trigger('click');
    await flushPromises();
    expect(lastQuery().sortColumn).toBeUndefined();

    // Filtering: typed as in MLflow's search, sent as a structured filter.
    await w.find('input.col-filter[data-col="metric:final:ret"]').setValue('>0.5');
    await new Promise((r) => setTimeout(r, 400));
    await flushPromises();
    expect(lastQuery().columnFilters).toEqual([{ column: 'metric:final:ret', op: '>', value: 0.5 }]);
    expect(w.findAll('[data-run-id]').map((r) => r.attributes('data-run-id'))).toEqual(['1', '3']);
    w.unmount();

    // Another page load (a new store) starts with the user's columns.
    setActivePinia(createPinia());
    expect(useHistoryColumnsStore().chosen).toEqual(['config:algo.lr', 'metric:final:ret']);
  });

  it('keeps a row\'s column values through a live status change, and re-reads them when the run ends', async () => {
    vi.mocked(api.getRun).mockImplementation(async (id: number) => makeRun({ id, status: 'running' }));
    useHistoryColumnsStore().set(['metric:final:ret']);
    const runs = useRunsStore();
    await runs.refresh();
    runs.listen();
    const w = mount(RunTable, { attachTo: document.body });
    await flushPromises();
    const cell = () => w.find('[data-run-id="1"] [data-col="metric:final:ret"]').text();
    expect(cell()).toBe('0.900');
    // getRun knows nothing of chosen columns: the row must not lose them.
    api.emit({ type: 'status', runId: 1, status: 'running' });
    await flushPromises();
    expect(api.getRun).toHaveBeenCalledWith(1);
    expect(cell()).toBe('0.900');
    // The run's final summaries change at its end: the page is asked for again, with the columns.
    const before = vi.mocked(api.listRuns).mock.calls.length;
    api.emit({ type: 'status', runId: 1, status: 'done' });
    await new Promise((r) => setTimeout(r, 400));
    await flushPromises();
    expect(vi.mocked(api.listRuns).mock.calls.length).toBeGreaterThan(before);
    expect(lastQuery().columns).toEqual(['metric:final:ret']);
    expect(cell()).toBe('0.900');
    w.unmount();
  });

  it('reorders and removes chosen columns from the picker', async () => {
    const hc = useHistoryColumnsStore();
    hc.set(['config:algo.lr', 'metric:final:ret', 'metric:max:ret']);
    const w = mount(ColumnPicker, { attachTo: document.body });
    await w.find('[data-testid="column-picker"]').trigger('click');
    await flushPromises();
    await w.find('button[aria-label="Move ret (final) left"]').trigger('click');
    expect(hc.chosen).toEqual(['metric:final:ret', 'config:algo.lr', 'metric:max:ret']);
    await w.find('button[aria-label="Remove ret (max)"]').trigger('click');
    expect(hc.chosen).toEqual(['metric:final:ret', 'config:algo.lr']);
    expect(JSON.parse(localStorage.getItem(COLUMNS_SETTING)!)).toEqual(['metric:final:ret', 'config:algo.lr']);
    w.unmount();
  });

  it('ignores a damaged or outdated setting', () => {
    localStorage.setItem(COLUMNS_SETTING, JSON.stringify(['config:algo.lr', 'metric:best:ret', 42, 'bogus']));
    expect(useHistoryColumnsStore().chosen).toEqual(['config:algo.lr']);
    setActivePinia(createPinia());
    localStorage.setItem(COLUMNS_SETTING, '{not json');
    expect(useHistoryColumnsStore().chosen).toEqual([]);
  });

  it('reads filter text as comparisons, equality or a text match', () => {
    const c = 'config:algo.lr';
    expect(parseFilterText(c, ' >= 1e-3 ')).toEqual({ column: c, op: '>=', value: 0.001 });
    expect(parseFilterText(c, '!=pg')).toEqual({ column: c, op: '!=', value: 'pg' });
    expect(parseFilterText(c, '=true')).toEqual({ column: c, op: '=', value: true });
    expect(parseFilterText(c, '0.5')).toEqual({ column: c, op: '=', value: 0.5 });
    expect(parseFilterText(c, 'adam')).toEqual({ column: c, op: 'contains', value: 'adam' });
    expect(parseFilterText(c, '   ')).toBeNull();
    expect(filterText({ column: c, op: '<', value: 3 })).toBe('<3');
  });
});
