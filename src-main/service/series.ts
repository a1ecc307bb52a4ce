/**
 * Metric series for the API, downsampled per request in typed arrays (min/max buckets keep
 * spikes). Series of finished runs are cached whole (LRU by bytes), so pan and zoom on a
 * million points answer in a few milliseconds; a cold zoom reads only its episode range from
 * SQLite; a running run's cached series is topped up from its last cached episode.
 */
import type { CompareResult, SeriesData, XAxis } from '../../src-shared/api';
import { minMaxDownsample, rangeIndices } from '../../src-shared/stats/downsample';
import type { Store } from '../db/store';
import type { MetricSeries, RunRow } from '../db/types';
import type { ReportThread } from '../report/report-thread';
import { compareSeries, readCompareSeries, type CompareOptions } from './compare';

interface CachedSeries {
  series: MetricSeries;
  /** Number of valid points (arrays may have spare capacity). */
  n: number;
  bytes: number;
  lastEpisode: number;
  /** The run was finished when loaded: nothing more will arrive. */
  final: boolean;
}

export function axisOf(s: MetricSeries, x: XAxis): Float64Array {
  return x === 'step' ? s.step : x === 'wall' ? s.wallTime : s.episode;
}

function sliceSeries(s: MetricSeries, n: number): MetricSeries {
  return { step: s.step.subarray(0, n), episode: s.episode.subarray(0, n), wallTime: s.wallTime.subarray(0, n), value: s.value.subarray(0, n) };
}

/**
 * Metric series access for the API: whole series of finished runs cached in memory (bounded),
 * running runs topped up from their last cached episode, cold range reads by episode.
 */
export class SeriesService {
  private readonly cache = new Map<string, CachedSeries>();
  private readonly locks = new Map<string, Promise<void>>();
  private bytes = 0;

  constructor(
    private readonly store: Store,
    /** Memory for cached series (32 bytes per point: a 1M-point series takes 32 MB). */
    private readonly budgetBytes = 256 * 1024 * 1024,
    /** Where comparisons compute (grids, bootstraps); default: this thread. */
    private readonly thread?: ReportThread,
  ) {}

  /** Drop a run's cached series (deleted, resumed: rows after a checkpoint were removed). */
  invalidate(runId: number): void {
    for (const [k, v] of this.cache) {
      if (k.startsWith(`${runId}\u0000`)) {
        this.cache.delete(k);
        this.bytes -= v.bytes;
      }
    }
  }

  /** The whole series of a run's metric (cached). */
  full(run: RunRow, key: string): Promise<MetricSeries> {
    // One load or top-up per series at a time: two concurrent top-ups would append twice.
    const ck = `${run.id}\u0000${key}`;
    const prev = this.locks.get(ck) ?? Promise.resolve();
    const next = prev.then(
      () => this.fullLocked(ck, run, key),
      () => this.fullLocked(ck, run, key),
    );
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(ck, settled);
    void settled.then(() => {
      if (this.locks.get(ck) === settled) this.locks.delete(ck);
    });
    return next;
  }

  private async fullLocked(ck: string, run: RunRow, key: string): Promise<MetricSeries> {
    const active = run.status === 'running' || run.status === 'queued';
    let c = this.cache.get(ck);
    // Resumed by another process since we cached it: top it up again.
    if (c && active) c.final = false;
    if (c && c.lastEpisode > run.episodesDone && !active) {
      // Truncated behind our back (resumed elsewhere): reload.
      this.invalidate(run.id);
      c = undefined;
    }
    if (c && !c.final) {
      const tail = await this.store.metricSeries(run.id, key, c.n > 0 ? { fromEpisode: c.lastEpisode + 1 } : {});
      if (tail.value.length > 0) c = this.append(ck, c, tail);
      c.final = !active;
    }
    if (!c) {
      const s = await this.store.metricSeries(run.id, key);
      const n = s.value.length;
      c = { series: s, n, bytes: n * 32, lastEpisode: n ? s.episode[n - 1] : -Infinity, final: !active };
      this.put(ck, c);
    } else {
      // LRU: move to the end.
      this.cache.delete(ck);
      this.cache.set(ck, c);
    }
    return sliceSeries(c.series, c.n);
  }

  /** Points with from <= episode <= to, from the cache when warm, else read from SQLite. */
  async range(run: RunRow, key: string, x: XAxis, from?: number, to?: number): Promise<{ s: MetricSeries; start: number; end: number }> {
    const ck = `${run.id}\u0000${key}`;
    const warm = this.cache.has(ck);
    if (warm || (from === undefined && to === undefined) || x !== 'episode') {
      const s = await this.full(run, key);
      const [start, end] = rangeIndices(axisOf(s, x), from, to);
      return { s, start, end };
    }
    const s = await this.store.metricSeries(run.id, key, {
      fromEpisode: from === undefined ? undefined : Math.ceil(from),
      toEpisode: to === undefined ? undefined : Math.floor(to),
    });
    return { s, start: 0, end: s.value.length };
  }

  private append(ck: string, c: CachedSeries, tail: MetricSeries): CachedSeries {
    const need = c.n + tail.value.length;
    let s = c.series;
    if (need > s.value.length) {
      const cap = Math.max(need, Math.ceil(s.value.length * 1.5), 1024);
      const grow = (a: Float64Array) => {
        const b = new Float64Array(cap);
        b.set(a.subarray(0, c.n));
        return b;
      };
      s = { step: grow(s.step), episode: grow(s.episode), wallTime: grow(s.wallTime), value: grow(s.value) };
      this.bytes += cap * 32 - c.bytes;
      c.bytes = cap * 32;
    }
    s.step.set(tail.step, c.n);
    s.episode.set(tail.episode, c.n);
    s.wallTime.set(tail.wallTime, c.n);
    s.value.set(tail.value, c.n);
    c.series = s;
    c.n = need;
    c.lastEpisode = tail.episode[tail.episode.length - 1];
    this.cache.delete(ck);
    this.cache.set(ck, c);
    this.evict();
    return c;
  }

  private put(ck: string, c: CachedSeries): void {
    const old = this.cache.get(ck);
    if (old) this.bytes -= old.bytes;
    this.cache.set(ck, c);
    this.bytes += c.bytes;
    this.evict();
  }

  private evict(): void {
    for (const [k, v] of this.cache) {
      if (this.bytes <= this.budgetBytes || this.cache.size <= 1) break;
      this.cache.delete(k);
      this.bytes -= v.bytes;
    }
  }

  /** SeriesRequest -> downsampled SeriesData. */
  async series(run: RunRow, req: { key: string; x: XAxis; from?: number; to?: number; maxPoints: number }): Promise<SeriesData> {
    const { s, start, end } = await this.range(run, req.key, req.x, req.from, req.to);
    const xs = axisOf(s, req.x);
    const total = end - start;
    const d = minMaxDownsample(xs, s.value, req.maxPoints, start, end);
    return { runId: run.id, key: req.key, x: Array.from(d.x), y: Array.from(d.y), total, downsampled: d.x.length < total };
  }

  /** Every run on a common grid, grouped, with bands, summaries and the config diff. */
  async compare(runs: RunRow[], experimentNames: Map<number, string>, req: CompareOptions): Promise<CompareResult> {
    const raw = await readCompareSeries(this, runs, req);
    if (!this.thread) return compareSeries(raw, experimentNames, req);
    return this.thread.run('compare', { raw, names: [...experimentNames], req });
  }
}
