// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { SeriesRequest } from '../../src-shared/api';
import { setApi } from '../../src-renderer/api/use-api';
import { FLUSH_MS, useRunDetailStore } from '../../src-renderer/stores/run-detail';
import { fakeClient, makeRun, type FakeClient } from './fake-client';

let api: FakeClient;

function host(): FakeClient {
  return fakeClient({
    getRun: async (id: number) => makeRun({ id, status: 'running', metricKeys: ['collective_success', 'return_total'] }),
    metricKeys: async () => ['collective_success', 'return_total', 'losses/actor'],
    runLog: async () => [
      { time: 1, level: 'info', message: 'training on the wasm backend from round 0 of 100' },
      { time: 2, level: 'warn', message: 'worker says hello' },
    ],
    metricSeries: async (req: SeriesRequest) => ({
      runId: req.runId,
      key: req.key,
      x: req.from !== undefined ? [req.from, (req.from + req.to!) / 2, req.to!] : [0, 1, 2],
      y: req.from !== undefined ? [9, 9, 9] : [0.1, 0.2, 0.3],
      total: 3,
      downsampled: false,
    }),
    listEpisodes: async () => ({ rows: [], total: 0 }),
  });
}

const point = (key: string, episode: number, value: number) => ({ key, episode, step: episode * 100, wallTime: 1_700_000_000_000 + episode, value });

beforeEach(() => {
  setActivePinia(createPinia());
  api = host();
  setApi(api);
});
afterEach(() => {
  vi.useRealTimers();
  setApi(null);
});

describe('run detail store', () => {
  it('opens a run with the default metric keys it has and their overviews', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    expect(d.run?.id).toBe(7);
    expect(d.selected).toEqual(['collective_success', 'return_total', 'losses/actor']);
    expect(d.series.collective_success.y).toEqual([0.1, 0.2, 0.3]);
    expect(api.metricSeries).toHaveBeenCalledWith(expect.objectContaining({ runId: 7, key: 'collective_success', x: 'episode', maxPoints: 2000 }));
  });

  it("shows the host's run log after the creation line", async () => {
    const s = useRunDetailStore();
    await s.open(7);
    expect(s.log.map((l) => [l.level, l.text])).toEqual([
      ['info', expect.stringMatching(/^created/)],
      ['info', 'training on the wasm backend from round 0 of 100'],
      ['warn', 'worker says hello'],
    ]);
    expect(api.runLog).toHaveBeenCalledWith(7);
  });

  it('buffers live points and applies them in throttled batches (2-3 updates a second)', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    vi.useFakeTimers();
    const first = d.series.collective_success;
    // 20 metric events a second for 2 seconds, as a fast run would send.
    let ep = 3;
    for (let t = 0; t < 2000; t += 50) {
      api.emit({ type: 'metrics', runId: 7, points: [point('collective_success', ep, ep / 100), point('return_total', ep, 1)] });
      ep++;
      vi.advanceTimersByTime(50);
    }
    vi.advanceTimersByTime(FLUSH_MS);
    // Leading call + one per FLUSH_MS: between 4 and 7 updates in ~2.4 s, never one per event.
    expect(d.liveUpdates).toBeGreaterThanOrEqual(2000 / FLUSH_MS);
    expect(d.liveUpdates).toBeLessThanOrEqual(2000 / FLUSH_MS + 2);
    const s = d.series.collective_success;
    expect(s.x).toHaveLength(3 + 40);
    expect(s.x.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(s.y[s.y.length - 1]).toBeCloseTo(42 / 100);
    // Replaced, not mutated.
    expect(s).not.toBe(first);
    expect(first.x).toHaveLength(3);
  });

  it('ignores other runs and keys that are not charted, but learns new keys', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    api.emit({ type: 'metrics', runId: 8, points: [point('collective_success', 5, 1)] });
    api.emit({ type: 'metrics', runId: 7, points: [point('charts/entropy', 5, 1)] });
    d.flushNow();
    expect(d.series.collective_success.x).toHaveLength(3);
    expect(d.series['charts/entropy']).toBeUndefined();
    expect(d.keys).toContain('charts/entropy');
  });

  it('uses env steps or wall time for x when asked', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    await d.setXAxis('step');
    vi.useFakeTimers();
    api.emit({ type: 'metrics', runId: 7, points: [point('return_total', 9, 2)] });
    vi.advanceTimersByTime(FLUSH_MS);
    expect(d.series.return_total.x.at(-1)).toBe(900);
  });

  it('refetches the zoomed range at about one point per pixel', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    await d.setZoom({ from: 10, to: 20 }, 640);
    expect(api.metricSeries).toHaveBeenCalledWith(expect.objectContaining({ key: 'return_total', from: 10, to: 20, maxPoints: 640 }));
    expect(d.detail.return_total).toMatchObject({ from: 10, to: 20, x: [10, 15, 20] });
    await d.setZoom(null);
    expect(d.detail).toEqual({});
  });

  it('tracks status and progress events of its run', async () => {
    const d = useRunDetailStore();
    await d.open(7);
    api.emit({ type: 'progress', runId: 7, round: 50, total: 100, envSteps: 5000, latest: {} });
    expect(d.progress).toBe(0.5);
    api.emit({ type: 'status', runId: 7, status: 'stopped' });
    expect(d.run?.status).toBe('stopped');
    expect(d.log.at(-1)?.text).toMatch(/stopped/);
  });
});
