// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { RunQuery } from '../../src-shared/api';
import { setApi } from '../../src-renderer/api/use-api';
import { PAGE_SIZE, buildQuery, emptyFilters, useRunsStore } from '../../src-renderer/stores/runs';
import { fakeClient, makeRun, settle, type FakeClient } from './fake-client';

/** A host with `n` runs, ids n..1 (newest first), paged like listRuns. */
function hostWith(n: number): FakeClient {
  const all = Array.from({ length: n }, (_, i) => makeRun({ id: n - i, seed: (n - i) % 3 }));
  return fakeClient({
    listRuns: async (q: RunQuery) => ({ rows: all.slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 50)), total: all.length }),
    getRun: async (id: number) => ({ ...all.find((r) => r.id === id)!, status: 'done', summary: { collective_success: 0.9 } }),
  });
}

let api: FakeClient;
beforeEach(() => {
  setActivePinia(createPinia());
});
afterEach(() => {
  vi.useRealTimers();
  setApi(null);
});

describe('buildQuery', () => {
  it('sends only the filters that are set, dates as local day bounds', () => {
    expect(buildQuery(emptyFilters(), 'id', true)).toEqual({ orderBy: 'id', desc: true });
    const q = buildQuery(
      { ...emptyFilters(), search: ' pg ', status: ['running', 'failed'], tag: 'paper', since: '2026-01-02', until: '2026-01-02', experimentId: 4 },
      'name',
      false,
    );
    expect(q).toMatchObject({ search: 'pg', status: ['running', 'failed'], tag: 'paper', experimentId: 4, orderBy: 'name', desc: false });
    expect(q.until! - q.since!).toBe(86_400_000 - 1);
    expect(new Date(q.since!).getHours()).toBe(0);
  });
});

describe('runs store', () => {
  it('loads only the pages the table shows (10,000 runs, two requests)', async () => {
    api = hostWith(10_000);
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    expect(runs.total).toBe(10_000);
    expect(runs.rowAt(0)?.id).toBe(10_000);
    expect(api.listRuns).toHaveBeenCalledTimes(1);
    expect(api.listRuns).toHaveBeenLastCalledWith({ orderBy: 'id', desc: true, limit: PAGE_SIZE, offset: 0 });
    // Scrolled far down: rows 5000..5040 are on pages 50.
    runs.ensureRange(5000, 5040);
    runs.ensureRange(5000, 5040);
    await settle();
    expect(api.listRuns).toHaveBeenCalledTimes(2);
    expect(runs.rowAt(5010)?.id).toBe(10_000 - 5010);
    expect(runs.pages.size).toBe(2);
  });

  it('filters and sorts on the host and starts over', async () => {
    api = hostWith(10);
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    runs.filters.status = ['running'];
    runs.setSort('name');
    await settle();
    expect(api.listRuns).toHaveBeenLastCalledWith({ orderBy: 'name', desc: false, status: ['running'], limit: PAGE_SIZE, offset: 0 });
    runs.setSort('name');
    await settle();
    expect(api.listRuns).toHaveBeenLastCalledWith(expect.objectContaining({ orderBy: 'name', desc: true }));
  });

  it('applies live progress and status events to loaded rows without refetching', async () => {
    api = hostWith(3);
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    runs.listen();
    const before = runs.pages.get(0);
    api.emit({ type: 'status', runId: 2, status: 'running' });
    api.emit({ type: 'progress', runId: 2, round: 40, total: 100, envSteps: 1234, latest: { collective_success: 0.25 } });
    const r = runs.findRun(2)!;
    expect(r).toMatchObject({ status: 'running', episodesDone: 40, episodesTotal: 100, envSteps: 1234 });
    expect(r.summary?.collective_success).toBe(0.25);
    expect(r.startedAt).not.toBeNull();
    // Pages are replaced, not mutated, so the table re-renders.
    expect(runs.pages.get(0)).not.toBe(before);
    expect(before?.find((x) => x.id === 2)?.status).toBe('queued');
    expect(api.listRuns).toHaveBeenCalledTimes(1);
  });

  it('refreshes the final row from the host when a run ends', async () => {
    api = hostWith(3);
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    runs.listen();
    api.emit({ type: 'status', runId: 1, status: 'done' });
    expect(runs.findRun(1)?.status).toBe('done');
    expect(runs.findRun(1)?.endedAt).not.toBeNull();
    await settle();
    expect(api.getRun).toHaveBeenCalledWith(1);
    expect(runs.findRun(1)?.summary?.collective_success).toBe(0.9);
  });

  it('refetches loaded pages once after a burst of runs-changed', async () => {
    vi.useFakeTimers();
    api = hostWith(250);
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    runs.ensureRange(150, 160);
    await vi.runAllTimersAsync();
    const calls = vi.mocked(api.listRuns).mock.calls.length;
    runs.listen();
    for (let i = 0; i < 5; i++) api.emit({ type: 'runs-changed' });
    await vi.advanceTimersByTimeAsync(350);
    // Both loaded pages (0 and 1), once.
    expect(vi.mocked(api.listRuns).mock.calls.length - calls).toBe(2);
  });

  it('deletes the chosen runs, keeps failures selected and reports them', async () => {
    api = hostWith(3);
    api.deleteRun = vi.fn(async (id: number) => {
      if (id === 3) throw new Error('run 3: is running; stop it first');
    });
    setApi(api);
    const runs = useRunsStore();
    await runs.refresh();
    runs.toggleSelect(2);
    runs.toggleSelect(3);
    const failed = await runs.deleteRuns([2, 3]);
    expect(failed).toEqual([{ id: 3, message: 'run 3: is running; stop it first' }]);
    expect([...runs.selected]).toEqual([3]);
  });

  it('groups by experiment and loads an experiment’s runs when expanded', async () => {
    api = hostWith(4);
    api.listExperiments = vi.fn(async () => [
      { id: 1, name: 'older', preset: null, createdAt: 1, notes: '', runIds: [1, 2] },
      { id: 2, name: 'newer', preset: 'p', createdAt: 2, notes: '', runIds: [3, 4] },
    ]);
    setApi(api);
    const runs = useRunsStore();
    await runs.setGrouped(true);
    expect(runs.groupItems.filter((i) => i.kind === 'exp').map((i) => (i.kind === 'exp' ? i.exp.name : ''))).toEqual(['newer', 'older']);
    expect(api.listRuns).toHaveBeenCalledWith(expect.objectContaining({ experimentId: 2 }));
    expect(runs.groupItems.some((i) => i.kind === 'run')).toBe(true);
  });
});
