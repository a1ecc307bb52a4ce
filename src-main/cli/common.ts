/** Shared pieces of CLI commands: opening the database, running a runner to completion. */
import { Store } from '../db/store';
import { defaultDbPath } from '../db/paths';
import { backendChoice } from '../backend/select';
import { Runner } from '../runner/runner';
import { failOrphans } from '../runner/liveness';
import { Progress } from './progress';
import { headlineMetrics, metricByRole } from '../../src-shared/metrics';
import { runMetricSpecs } from '../service/run-metrics';
import type { RunRow } from '../db/types';
import { intFlag } from './args';
import { UsageError } from './errors';

export function dbPath(flag: string | undefined): string {
  return flag ?? defaultDbPath();
}

/** `--db`, checked: a path when given (an empty one is not "no file name" deep in SQLite). */
export function dbFlag(flag: string | undefined): string | undefined {
  if (flag !== undefined && flag.trim() === '') throw new UsageError(`--db: expected a database file path, got ${JSON.stringify(flag)}`);
  return flag;
}

export async function openStore(flag: string | undefined, readonly = false, opts: { mustExist?: boolean } = {}): Promise<Store> {
  dbFlag(flag);
  // CAIRN_BUSY_TIMEOUT_MS: how long to wait for a database another process holds locked.
  const t = process.env.CAIRN_BUSY_TIMEOUT_MS;
  const busyTimeoutMs = t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
  const store = await Store.open(dbPath(flag), { readonly, busyTimeoutMs, create: opts.mustExist !== true });
  if (store.backupFile) {
    process.stderr.write(`cairn: upgraded ${store.file} from schema version ${store.migratedFrom}; the file as it was is kept as ${store.backupFile}\n`);
  }
  if (!readonly) {
    try {
      // Runs left "running" by a runner that died are failed (resumable) before anything else reads them.
      await failOrphans(store);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

/** The runner's flags, checked (call before opening the database: a bad flag creates no file). */
export function runnerFlags(flags: { parallel?: string; backend?: string }) {
  let backend;
  try {
    backend = backendChoice(flags.backend);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const maxParallel = flags.parallel === undefined ? undefined : intFlag('parallel', flags.parallel, 1, 1, 256);
  return { backend, maxParallel };
}

export function makeRunner(store: Store, flags: { parallel?: string; backend?: string }): Runner {
  return new Runner({ store, ...runnerFlags(flags) });
}

/**
 * Show progress until the runner is idle. Ctrl-C stops every run cleanly (checkpoint, status
 * stopped) so `cairn resume` can continue it; a second Ctrl-C exits at once.
 */
export async function runToCompletion(runner: Runner, progress: Progress): Promise<void> {
  runner.on('event', (e) => progress.on(e));
  let interrupted = false;
  const onSig = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ncairn: stopping runs after their current round (Ctrl-C again to quit at once)\n');
    void runner.shutdown();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  await runner.idle();
  progress.finish();
  process.off('SIGINT', onSig);
  process.off('SIGTERM', onSig);
  runner.close();
}

/** The run's headline metric keys (its success and return first), from its env's declarations. */
export function runHeadlineKeys(run: Pick<RunRow, 'metricSpecs' | 'metricKeys' | 'config'>): string[] {
  return headlineMetrics(runMetricSpecs(run)).map((m) => m.key);
}

/** The key of the run's success measure, if its env declares one. */
export function runSuccessKey(run: Pick<RunRow, 'metricSpecs' | 'metricKeys' | 'config'>): string | undefined {
  return metricByRole(runMetricSpecs(run), 'success')?.key;
}

/** `progress.add` for stored runs: their headline metrics are what the progress line shows. */
export async function addToProgress(store: Store, progress: Progress, ids: readonly number[], round = 0): Promise<void> {
  for (const id of ids) {
    const r = await store.getRun(id);
    if (r) progress.add(r.id, r.seed, r.episodesTotal, round, runHeadlineKeys(r));
  }
}

export async function runsJson(store: Store, ids: number[]) {
  const runs = [];
  for (const id of ids) {
    const r = await store.getRun(id);
    if (r) runs.push({ id: r.id, seed: r.seed, status: r.status, backend: r.backend, error: r.error, summary: r.summary ?? {} });
  }
  return { runs };
}
