/**
 * The replay player: which episode is loaded (a stored one, or the live one of the running
 * round), the current frame, play/pause, speed, and "follow live".
 *
 * Frames run 0..steps (frame 0 is the reset state). Following live, each `live` event (the
 * latest finished episode of copy 0, every round) is kept; the newest is shown when the one
 * playing reaches its end, so every episode shown plays through instead of flickering.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { WorkbenchEvent } from '../../src-shared/api';
import type { Replay } from '../../src-shared/envs/types';
import { useApi } from '../api/use-api';

/** A stored episode (`idx` is the run's own index; `round` and `envIndex` say which one it is) or the live one. */
export type ReplaySource = { kind: 'episode'; idx: number; round?: number; envIndex?: number } | { kind: 'live'; round: number };

export const SPEEDS = [1, 2, 5, 10, 20, 50] as const;

export const useReplayPlayerStore = defineStore('replayPlayer', () => {
  const runId = ref<number | null>(null);
  const source = ref<ReplaySource | null>(null);
  const replay = shallowRef<Replay | null>(null);
  const frame = ref(0);
  const playing = ref(false);
  /** Steps per second. */
  const speed = ref<number>(10);
  const followLive = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** Newest live episode received (shown next when following). */
  const latestLive = shallowRef<{ round: number; replay: Replay } | null>(null);

  let timer: ReturnType<typeof setInterval> | null = null;
  /** The latest openEpisode call: an older answer arriving late is dropped. */
  let openTicket = 0;
  let unsubscribe: (() => void) | null = null;

  const lastFrame = computed(() => replay.value?.steps ?? 0);
  const atEnd = computed(() => frame.value >= lastFrame.value);

  function stopTimer(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }
  function startTimer(): void {
    stopTimer();
    timer = setInterval(tick, Math.max(10, 1000 / speed.value));
  }

  function show(r: Replay, src: ReplaySource, autoplay: boolean): void {
    replay.value = r;
    source.value = src;
    frame.value = 0;
    if (autoplay) play();
  }

  function tick(): void {
    if (!replay.value) return stopTimer();
    if (frame.value < lastFrame.value) {
      frame.value++;
      return;
    }
    // At the end: following live, move on to the newest episode (or wait for one).
    const next = latestLive.value;
    if (followLive.value && next && !(source.value?.kind === 'live' && source.value.round === next.round)) {
      show(next.replay, { kind: 'live', round: next.round }, false);
      return;
    }
    if (!followLive.value) pause();
  }

  function play(): void {
    if (!replay.value) return;
    if (atEnd.value && !followLive.value) frame.value = 0;
    playing.value = true;
    startTimer();
  }
  function pause(): void {
    playing.value = false;
    stopTimer();
  }
  function toggle(): void {
    if (playing.value) pause();
    else play();
  }
  function seek(f: number): void {
    frame.value = Math.max(0, Math.min(lastFrame.value, Math.round(f)));
  }
  function step(delta: number): void {
    pause();
    seek(frame.value + delta);
  }
  function setSpeed(s: number): void {
    speed.value = s;
    if (playing.value) startTimer();
  }

  function onEvent(e: WorkbenchEvent): void {
    if (e.type !== 'live' || e.runId !== runId.value) return;
    latestLive.value = { round: e.round, replay: e.replay };
    if (!followLive.value) return;
    // Nothing to finish watching: show it now.
    if (!replay.value || source.value?.kind !== 'live' || !playing.value || atEnd.value) {
      show(e.replay, { kind: 'live', round: e.round }, true);
    }
  }

  /** Bind to a run (subscribes to its live episodes). */
  function attach(id: number): void {
    if (runId.value === id) return;
    detach();
    runId.value = id;
    unsubscribe = useApi().subscribe(onEvent);
    // Only this run's replay frames: every other run's would be parsed on the main thread for nothing.
    useApi().watchLive([id]);
  }

  function detach(): void {
    pause();
    if (unsubscribe) useApi().watchLive([]);
    unsubscribe?.();
    unsubscribe = null;
    runId.value = null;
    replay.value = null;
    source.value = null;
    latestLive.value = null;
    followLive.value = false;
    frame.value = 0;
    error.value = null;
  }

  /** Open a stored episode (stops following live). */
  async function openEpisode(idx: number, atFrame = 0, where: { round?: number; envIndex?: number } = {}): Promise<void> {
    if (runId.value === null) return;
    followLive.value = false;
    pause();
    // The old episode's frame must not carry over, not even while the new one loads.
    frame.value = 0;
    const ticket = ++openTicket;
    loading.value = true;
    error.value = null;
    try {
      const r = await useApi().getReplay(runId.value, idx);
      if (ticket !== openTicket) return;
      if (!r) {
        error.value = `episode ${idx} has no stored replay`;
        return;
      }
      show(r, { kind: 'episode', idx, ...where }, false);
      seek(atFrame);
    } catch (err) {
      error.value = (err as Error).message;
    } finally {
      if (ticket === openTicket) loading.value = false;
    }
  }

  function setFollowLive(on: boolean): void {
    followLive.value = on;
    if (on) {
      const l = latestLive.value;
      if (l) show(l.replay, { kind: 'live', round: l.round }, true);
      else pause();
    } else {
      pause();
    }
  }

  return {
    runId,
    source,
    replay,
    frame,
    playing,
    speed,
    followLive,
    loading,
    error,
    latestLive,
    lastFrame,
    atEnd,
    attach,
    detach,
    openEpisode,
    setFollowLive,
    onEvent,
    play,
    pause,
    toggle,
    seek,
    step,
    setSpeed,
    tick,
  };
});
