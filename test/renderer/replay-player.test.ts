// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Replay } from '../../src-shared/envs/types';
import { setApi } from '../../src-renderer/api/use-api';
import { useReplayPlayerStore } from '../../src-renderer/stores/replay-player';
import { fakeClient, type FakeClient } from './fake-client';

const ep = (steps: number, tag = 0): Replay => ({ envId: 'manitokan', version: 1, steps, meta: { tag }, columns: {} });
let api: FakeClient;

beforeEach(() => {
  setActivePinia(createPinia());
  vi.useFakeTimers();
  api = fakeClient({ getReplay: async (_run: number, idx: number) => (idx === 404 ? null : ep(10, idx)) });
  setApi(api);
});
afterEach(() => {
  vi.useRealTimers();
  setApi(null);
});

describe('replay player', () => {
  it("asks the host for the attached run's live frames only, and for none once detached", () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    expect(api.watchLive).toHaveBeenLastCalledWith([3]);
    p.attach(5);
    expect(api.watchLive).toHaveBeenLastCalledWith([5]);
    p.detach();
    expect(api.watchLive).toHaveBeenLastCalledWith([]);
  });

  it('opens a stored episode, seeks within bounds and plays at its speed', async () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    await p.openEpisode(12, 4);
    expect(p.source).toEqual({ kind: 'episode', idx: 12 });
    expect(p.frame).toBe(4);
    p.seek(99);
    expect(p.frame).toBe(10);
    p.seek(-3);
    expect(p.frame).toBe(0);
    p.setSpeed(10);
    p.play();
    vi.advanceTimersByTime(350);
    expect(p.frame).toBe(3);
    p.step(-1);
    expect(p.playing).toBe(false);
    expect(p.frame).toBe(2);
    vi.advanceTimersByTime(2000);
    expect(p.frame).toBe(2);
  });

  it('stops at the last frame and restarts from 0 on play', async () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    await p.openEpisode(1);
    p.setSpeed(50);
    p.play();
    vi.advanceTimersByTime(1000);
    expect(p.frame).toBe(10);
    expect(p.playing).toBe(false);
    p.play();
    expect(p.frame).toBe(0);
  });

  it('says so when an episode has no stored replay', async () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    await p.openEpisode(404);
    expect(p.replay).toBeNull();
    expect(p.error).toMatch(/no stored replay/);
  });

  it('follows live: shows the running episode, finishes it, then moves to the newest', () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    p.setFollowLive(true);
    api.emit({ type: 'live', runId: 3, round: 1, replay: ep(4, 1) });
    expect(p.source).toEqual({ kind: 'live', round: 1 });
    expect(p.playing).toBe(true);
    // Two more rounds finish while round 1 plays: only the newest is kept.
    api.emit({ type: 'live', runId: 3, round: 2, replay: ep(4, 2) });
    api.emit({ type: 'live', runId: 3, round: 3, replay: ep(4, 3) });
    api.emit({ type: 'live', runId: 9, round: 7, replay: ep(4, 9) });
    expect(p.source).toEqual({ kind: 'live', round: 1 });
    p.setSpeed(10);
    vi.advanceTimersByTime(400);
    expect(p.frame).toBe(4);
    vi.advanceTimersByTime(100);
    expect(p.source).toEqual({ kind: 'live', round: 3 });
    expect(p.frame).toBe(0);
    expect(p.playing).toBe(true);
  });

  it('opening a stored episode stops following', async () => {
    const p = useReplayPlayerStore();
    p.attach(3);
    p.setFollowLive(true);
    await p.openEpisode(5);
    expect(p.followLive).toBe(false);
    api.emit({ type: 'live', runId: 3, round: 8, replay: ep(4) });
    expect(p.source).toEqual({ kind: 'episode', idx: 5 });
    expect(p.latestLive?.round).toBe(8);
  });
});
