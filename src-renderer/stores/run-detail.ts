/**
 * One run's page: its info, metric series, episode list and a lifecycle log.
 *
 * Series live in a `shallowRef` record and are replaced, never deep-mutated. Live metric
 * points are buffered as they arrive and folded in by a throttled flush (every FLUSH_MS, i.e.
 * 2-3 chart updates per second, however fast the run reports). Zooming asks the host for the
 * visible range at about one point per pixel (`metricSeries` with from/to/maxPoints); the chart
 * shows that detail spliced into the whole-run overview so the zoom slider keeps its extent.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { EpisodeInfo, RunInfo, WorkbenchEvent } from '../../src-shared/api';
import { hostAxis, type ChartX } from '../lib/chart-axis';
import { defaultChartKeys } from '../lib/metric-groups';
import { useApi } from '../api/use-api';
import { applyToRun } from './runs';
import { appendXY, pointX, wallToMs, type XY } from '../lib/series';
import { debounce, throttle } from '../lib/throttle';

/** Live chart refresh period: at least two updates a second while a run trains. */
export const FLUSH_MS = 400;
/** Points asked for the whole-run overview of each key. */
export const OVERVIEW_POINTS = 2000;
export const EPISODE_PAGE = 50;
/** While a running run has no backend recorded yet, progress re-reads it at most this often. */
export const BACKEND_RETRY_MS = 2000;

export interface Series extends XY {
  /** Points stored on the host for this key (before downsampling). */
  total: number;
  downsampled: boolean;
}

export interface ZoomDetail extends XY {
  from: number;
  to: number;
}

export interface LogLine {
  at: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export const useRunDetailStore = defineStore('runDetail', () => {
  const runId = ref<number | null>(null);
  const run = ref<RunInfo | null>(null);
  const notFound = ref(false);
  const keys = ref<string[]>([]);
  const selected = ref<string[]>([]);
  /** Per view and per run: set from the page's URL on open, never carried over from another run. */
  const xAxis = ref<ChartX>('episode');
  const smoothing = ref(0.6);
  const series = shallowRef<Record<string, Series>>({});
  const zoom = ref<{ from: number; to: number } | null>(null);
  const detail = shallowRef<Record<string, ZoomDetail>>({});
  const log = ref<LogLine[]>([]);
  /** Chart updates applied from live points (for tests and the status line). */
  const liveUpdates = ref(0);

  const episodes = shallowRef<EpisodeInfo[]>([]);
  const episodesTotal = ref(0);
  const episodesOffset = ref(0);
  const episodesReplayOnly = ref(true);

  let pending: { key: string; step: number; episode: number; wallTime: number; value: number }[] = [];
  let unsubscribe: (() => void) | null = null;
  let openGen = 0;
  let backendAskedAt = 0;

  function addLog(level: LogLine['level'], text: string, at = Date.now()): void {
    log.value = [...log.value.slice(-499), { at, level, text }];
  }

  /** 1000 when the host reports wall time in seconds (the chart always uses epoch ms). */
  let hostWallScale = 1;
  /** Epoch ms that relative wall time counts from: the run's start. */
  function origin(): number {
    return run.value?.startedAt ?? run.value?.createdAt ?? 0;
  }
  function norm(x: number[]): number[] {
    if (xAxis.value !== 'wall' && xAxis.value !== 'relative') return x;
    const ms = wallToMs(x);
    if (ms !== x) hostWallScale = 1000;
    if (xAxis.value === 'wall') return ms;
    const o = origin();
    return ms.map((v) => (v - o) / 1000);
  }
  /** A chart x (zoom bound) in the host's units. */
  function toHost(v: number): number {
    if (xAxis.value === 'relative') return (v * 1000 + origin()) / hostWallScale;
    if (xAxis.value === 'wall') return v / hostWallScale;
    return v;
  }
  function liveX(p: { step: number; episode: number; wallTime: number }): number {
    if (xAxis.value === 'relative') return (p.wallTime - origin()) / 1000;
    return pointX(p, hostAxis(xAxis.value));
  }

  async function fetchOverview(key: string, gen = openGen): Promise<void> {
    if (runId.value === null) return;
    const s = await useApi().metricSeries({ runId: runId.value, key, x: hostAxis(xAxis.value), maxPoints: OVERVIEW_POINTS });
    if (gen !== openGen) return;
    series.value = { ...series.value, [key]: { x: norm(s.x), y: s.y, total: s.total, downsampled: s.downsampled } };
  }

  const flush = throttle(() => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const byKey = new Map<string, { xs: number[]; ys: number[] }>();
    for (const p of batch) {
      if (!selected.value.includes(p.key)) continue;
      let b = byKey.get(p.key);
      if (!b) byKey.set(p.key, (b = { xs: [], ys: [] }));
      b.xs.push(liveX(p));
      b.ys.push(p.value);
    }
    if (byKey.size === 0) return;
    const next = { ...series.value };
    let tooBig = false;
    for (const [key, b] of byKey) {
      const cur = next[key] ?? { x: [], y: [], total: 0, downsampled: false };
      const merged = appendXY(cur, b.xs, b.ys);
      next[key] = { ...merged, total: cur.total + b.xs.length, downsampled: cur.downsampled };
      if (merged.x.length > OVERVIEW_POINTS * 4) tooBig = true;
    }
    series.value = next;
    liveUpdates.value++;
    // A long live run outgrows the overview: let the host downsample it again.
    if (tooBig) reloadOverviews();
  }, FLUSH_MS);

  const reloadEpisodes = throttle(() => void loadEpisodes(0), 1500);

  const reloadOverviews = debounce(() => {
    for (const k of selected.value) void fetchOverview(k);
  }, 2000);

  function onEvent(e: WorkbenchEvent): void {
    if (e.type === 'runs-changed') {
      // Possibly missed events (reconnect): refetch the run and its series.
      if (runId.value !== null) void reload();
      return;
    }
    if (!('runId' in e) || e.runId !== runId.value) return;
    switch (e.type) {
      case 'metrics':
        for (const p of e.points) {
          pending.push(p);
          if (!keys.value.includes(p.key)) keys.value = [...keys.value, p.key];
        }
        flush();
        break;
      case 'status':
        if (run.value) run.value = applyToRun(run.value, e);
        addLog(e.status === 'failed' ? 'error' : 'info', `status → ${e.status}${e.error ? `: ${e.error}` : ''}`);
        if (e.status !== 'queued') void refreshRun();
        // The host's log has the details (backend, checkpoints, worker output): re-read it.
        if (e.status !== 'running') void loadLog();
        break;
      case 'progress':
        if (run.value) {
          // The backend is recorded after "running", once the worker has loaded it.
          if (run.value.backend === null && Date.now() - backendAskedAt > BACKEND_RETRY_MS) {
            backendAskedAt = Date.now();
            void refreshRun();
          }
          run.value = applyToRun(run.value, e);
        }
        break;
      case 'episodes':
        // The newest-first first page follows the run; later pages stay put while you read.
        if (episodesOffset.value === 0) reloadEpisodes();
        break;
      default:
        break;
    }
  }

  async function refreshRun(): Promise<void> {
    if (runId.value === null) return;
    const r = await useApi().getRun(runId.value);
    if (r && r.id === runId.value) run.value = r;
    if (r && r.status !== 'running') void loadEpisodes(episodesOffset.value);
  }

  async function open(id: number, x: ChartX = 'episode'): Promise<void> {
    if (runId.value === id && run.value) {
      if (x !== xAxis.value) await setXAxis(x);
      return;
    }
    close();
    const gen = ++openGen;
    runId.value = id;
    xAxis.value = x;
    backendAskedAt = 0;
    notFound.value = false;
    series.value = {};
    detail.value = {};
    zoom.value = null;
    log.value = [];
    episodes.value = [];
    episodesOffset.value = 0;
    unsubscribe = useApi().subscribe(onEvent);
    const r = await useApi().getRun(id);
    if (gen !== openGen) return;
    if (!r) {
      notFound.value = true;
      return;
    }
    run.value = r;
    await loadLog(gen);
    const k = await useApi().metricKeys(id);
    if (gen !== openGen) return;
    keys.value = [...new Set([...r.metricKeys, ...k])];
    if (selected.value.length === 0 || !selected.value.some((s) => keys.value.includes(s))) {
      selected.value = defaultChartKeys(keys.value, r.metrics);
    }
    await Promise.all([...selected.value.map((key) => fetchOverview(key, gen)), loadEpisodes(0)]);
  }

  /** The run's log from the host (lifecycle events and worker output), after its creation. */
  async function loadLog(gen = openGen): Promise<void> {
    const r = run.value;
    if (!r) return;
    let lines: Awaited<ReturnType<ReturnType<typeof useApi>['runLog']>> = [];
    try {
      lines = await useApi().runLog(r.id);
    } catch (err) {
      lines = [{ time: Date.now(), level: 'error', message: `could not read the run's log: ${(err as Error).message}` }];
    }
    if (gen !== openGen) return;
    log.value = [
      { at: r.createdAt, level: 'info', text: `created (${r.preset ?? r.algoId + ' on ' + r.envId}, seed ${r.seed})` },
      ...lines.map((l) => ({ at: l.time, level: l.level, text: l.message })),
    ];
  }

  async function reload(): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    await refreshRun();
    pending = [];
    await Promise.all(selected.value.map((k) => fetchOverview(k)));
  }

  function close(): void {
    unsubscribe?.();
    unsubscribe = null;
    flush.cancel();
    reloadEpisodes.cancel();
    pending = [];
    openGen++;
    runId.value = null;
    run.value = null;
  }

  async function setSelected(next: string[]): Promise<void> {
    const added = next.filter((k) => !series.value[k]);
    selected.value = next;
    await Promise.all(added.map((k) => fetchOverview(k)));
    if (zoom.value) await Promise.all(added.map((k) => fetchDetail(k, zoom.value!.from, zoom.value!.to, 800)));
  }

  async function setXAxis(x: ChartX): Promise<void> {
    if (xAxis.value === x) return;
    xAxis.value = x;
    zoom.value = null;
    detail.value = {};
    pending = [];
    series.value = {};
    await Promise.all(selected.value.map((k) => fetchOverview(k)));
  }

  async function fetchDetail(key: string, from: number, to: number, maxPoints: number): Promise<void> {
    if (runId.value === null) return;
    const s = await useApi().metricSeries({
      runId: runId.value,
      key,
      x: hostAxis(xAxis.value),
      from: toHost(from),
      to: toHost(to),
      maxPoints: Math.max(50, Math.round(maxPoints)),
    });
    if (zoom.value?.from !== from || zoom.value?.to !== to) return;
    detail.value = { ...detail.value, [key]: { x: norm(s.x), y: s.y, from, to } };
  }

  /** The visible x-range changed (null = whole run); refetch it at ~1 point per pixel. */
  async function setZoom(range: { from: number; to: number } | null, widthPx = 800): Promise<void> {
    zoom.value = range;
    if (!range) {
      detail.value = {};
      return;
    }
    await Promise.all(selected.value.map((k) => fetchDetail(k, range.from, range.to, widthPx)));
  }

  async function loadEpisodes(offset: number): Promise<void> {
    if (runId.value === null) return;
    const id = runId.value;
    const res = await useApi().listEpisodes(id, {
      withReplay: episodesReplayOnly.value || undefined,
      limit: EPISODE_PAGE,
      offset,
      desc: true,
    });
    if (id !== runId.value) return;
    episodes.value = res.rows;
    episodesTotal.value = res.total;
    episodesOffset.value = offset;
  }

  async function setReplayOnly(on: boolean): Promise<void> {
    episodesReplayOnly.value = on;
    await loadEpisodes(0);
  }

  async function stop(): Promise<void> {
    if (runId.value === null) return;
    await useApi().stopRun(runId.value);
    addLog('info', 'stop requested (the run checkpoints first)');
  }

  async function resume(): Promise<void> {
    if (runId.value === null) return;
    await useApi().resumeRun(runId.value);
    addLog('info', 'resume requested (from the last checkpoint)');
    await refreshRun();
  }

  const progress = computed(() => {
    const r = run.value;
    if (!r || !r.episodesTotal) return 0;
    return Math.min(1, r.episodesDone / r.episodesTotal);
  });

  return {
    runId,
    run,
    notFound,
    keys,
    selected,
    xAxis,
    smoothing,
    series,
    zoom,
    detail,
    log,
    liveUpdates,
    episodes,
    episodesTotal,
    episodesOffset,
    episodesReplayOnly,
    progress,
    open,
    close,
    reload,
    onEvent,
    setSelected,
    setXAxis,
    setZoom,
    loadEpisodes,
    setReplayOnly,
    stop,
    resume,
    refreshRun,
    /** Apply buffered live points now (tests; leaving the page). */
    flushNow: () => flush.flush(),
  };
});
