/**
 * Metric ingest benchmark: how many points per second `appendMetrics` stores into a real
 * file (WAL), in batches shaped like the runner's flushes.
 */
import os from 'node:os';
import { Store } from './store';
import type { MetricPoint } from './types';

export interface BenchIngestOptions {
  /** Metric keys per round (default 20, a typical env + learner). */
  keys?: number;
  /** Rounds per appendMetrics call (default 500). */
  roundsPerCall?: number;
}

/**
 * Write one run with `points` metric points into `file` (created if needed; the run is left
 * there, marked done) and time the appendMetrics calls only, not the point generation.
 */
export async function benchIngest(
  file: string,
  points: number,
  opts: BenchIngestOptions = {},
): Promise<{ pointsPerSecond: number; points: number; seconds: number }> {
  const nKeys = opts.keys ?? 20;
  const roundsPerCall = opts.roundsPerCall ?? 500;
  const keys = Array.from({ length: nKeys }, (_, k) => (k % 2 ? `losses/l${k}` : `charts/m${k}`));
  const store = await Store.open(file);
  try {
    const runId = await store.createRun({
      name: 'bench: metric ingest',
      config: { env: { id: 'bench' }, algo: { id: 'bench' }, train: {} },
      seed: 0,
      episodesTotal: Math.ceil(points / nKeys),
      host: os.hostname(),
      metricKeys: [],
    });
    const t0 = Date.now() / 1000;
    let written = 0;
    let round = 0;
    let ms = 0;
    while (written < points) {
      const batch: MetricPoint[] = [];
      for (let r = 0; r < roundsPerCall && written + batch.length < points; r++, round++) {
        const at = { step: round * 3200, episode: round, wallTime: t0 + round * 0.0437 };
        for (let k = 0; k < nKeys && written + batch.length < points; k++) {
          // Arbitrary doubles, like means of float32 rewards and losses.
          batch.push({ key: keys[k], ...at, value: Math.sin(round * 0.013 + k) * 7.3 + Math.random() * 1e-3 });
        }
      }
      const t = performance.now();
      await store.appendMetrics(runId, batch);
      ms += performance.now() - t;
      written += batch.length;
    }
    await store.updateRun(runId, { status: 'done', episodesDone: round, endedAt: Date.now() });
    const seconds = ms / 1000;
    return { pointsPerSecond: seconds > 0 ? written / seconds : 0, points: written, seconds };
  } finally {
    await store.close();
  }
}
