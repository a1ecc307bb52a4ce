/**
 * The run history: one SQLite file (WAL) holding experiments, runs, metric series, episodes
 * and checkpoint references. The runner, the CLI and the HTTP host all go through `Store`.
 *
 * Layout (lx-music-desktop's dbService): `modules/<table>/statements.ts` holds the SQL,
 * `db-helper.ts` runs it inside transactions, `mapping.ts` converts between records and the
 * camelCase rows of `types.ts`. This class only wires them together.
 *
 * Nothing is lost silently: every write is one transaction, a write that would overwrite a
 * stored episode fails, and every failure is a StoreError whose message names the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from './connection';
import { StoreError } from './errors';
import { checkFileState, migrate, readFileState, SCHEMA_VERSION, type FileState } from './migrations';
import { backupBeforeMigrating, needsCheck, quickCheck } from './open-safety';
import * as checkpointsDb from './modules/checkpoints/db-helper';
import { checkpointInsertParams, toCheckpointRow } from './modules/checkpoints/mapping';
import * as episodesDb from './modules/episodes/db-helper';
import { episodeParams, replayFromBlob, toEpisodeRow } from './modules/episodes/mapping';
import * as experimentsDb from './modules/experiments/db-helper';
import { experimentInsertParams, toExperimentRow } from './modules/experiments/mapping';
import * as metricsDb from './modules/metrics/db-helper';
import { checkPoints, pointBatches, toSeries } from './modules/metrics/mapping';
import { summaryBatch } from './modules/summaries/mapping';
import * as summariesDb from './modules/summaries/db-helper';
import * as runsDb from './modules/runs/db-helper';
import * as logsDb from './modules/logs/db-helper';
import { normalizeTags, rowColumns, runInsertParams, runListSql, runPatchColumns, toRunRow } from './modules/runs/mapping';
import type {
  CheckpointRow,
  EpisodeRow,
  ExperimentRow,
  ListEpisodesQuery,
  ListRunsQuery,
  MetricPoint,
  MetricSeries,
  NewCheckpoint,
  NewEpisode,
  NewExperiment,
  NewRun,
  RunPatch,
  RunRow,
} from './types';
import { checkFinite, checkInt } from './validate';
import * as sweepsDb from './modules/sweeps/db-helper';
import { sweepInsertParams, toSweepRow, type NewSweep, type SweepRow } from './modules/sweeps/mapping';

export { StoreError } from './errors';
export type { StoreErrorCode } from './errors';
export type * from './types';
export type { SweepRow, NewSweep, SweepExecutor } from './modules/sweeps/mapping';

/** How long a write waits for another connection's lock before failing with LOCKED. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export interface OpenOptions {
  /** Open without writing: no folder creation, no migration, writes fail with READONLY. */
  readonly?: boolean;
  /** Wait this long for another connection's lock (default 10 s). */
  busyTimeoutMs?: number;
  /**
   * Create the file (and its folder) when missing (default true for read-write). Commands that
   * act on existing runs (stop, resume, delete) pass false so a mistyped --db is an error, not
   * a new empty history.
   */
  create?: boolean;
}

/**
 * mkdir -p, one level at a time: node's recursive mkdir loops forever on some virtual file
 * systems (a path under /proc answers ENOENT to every attempt).
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  let d = dir;
  for (;;) {
    const st = await fs.promises.stat(d).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    await fs.promises.mkdir(m).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
  }
}

/** Check the path before SQLite sees it: its errors for these cases are vague. */
async function preflight(file: string, readonly: boolean, create: boolean): Promise<void> {
  const cannot = (why: string, cause?: unknown) =>
    new StoreError('CANT_OPEN', file, `Cannot open run history ${file}: ${why}`, { cause });
  if (!readonly && create) {
    const dir = path.dirname(file);
    try {
      await makeDirs(dir);
    } catch (err) {
      throw cannot(`cannot create its folder ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
    }
  }
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (readonly) throw new StoreError('NO_FILE', file, `Cannot open run history ${file} read-only: the file does not exist`);
      if (!create) throw new StoreError('NO_FILE', file, `Cannot open run history ${file}: the file does not exist (check --db or CAIRN_DB)`);
      return; // created by SQLite
    }
    throw cannot(`cannot read it (${code ?? String(err)})`, err);
  }
  if (stat.isDirectory()) throw cannot('it is a folder, not a database file');
  try {
    await fs.promises.access(file, readonly ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw cannot(`the file is not ${readonly ? 'readable' : 'readable and writable'} by this user (${code})`, err);
  }
}

export class Store {
  /** The schema version this Cairn writes (`PRAGMA user_version`). */
  static readonly schemaVersion = SCHEMA_VERSION;

  /** Absolute path of the database file. */
  readonly file: string;
  /** The schema version this open upgraded the file from (null when it was current). */
  migratedFrom: number | null = null;
  /** The copy taken before that upgrade. */
  backupFile: string | null = null;
  /** Metric key name -> id, for keys known to be committed (ids never change). */
  private readonly keyIds = new Map<string, number>();

  private constructor(private readonly conn: Connection) {
    this.file = conn.file;
  }

  /**
   * Open the run history at `file`, creating its folder and the file, and migrating the
   * schema, unless read-only. Fails with a StoreError naming the file and the cause: cannot
   * open (CANT_OPEN/NO_FILE), not a SQLite database (NOT_A_DATABASE), another program's
   * database (NOT_CAIRN), written by a newer Cairn (NEWER_SCHEMA), locked (LOCKED).
   */
  static async open(file: string, opts: OpenOptions = {}): Promise<Store> {
    if (typeof file !== 'string' || file.trim() === '') {
      throw new StoreError('CANT_OPEN', String(file), 'Cannot open run history: no database file name given');
    }
    const abs = path.resolve(file);
    let backup: string | null = null;
    const readonly = opts.readonly === true;
    const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    checkInt(abs, 'open: busyTimeoutMs', busyTimeoutMs, 0);
    await preflight(abs, readonly, opts.create !== false);
    const check = !readonly && needsCheck(abs);
    let conn = await Connection.open(abs, { readonly, busyTimeoutMs });
    let state: FileState;
    try {
      state = await readFileState(conn);
    } catch (err) {
      await conn.close().catch(() => undefined);
      const unreadable = err instanceof StoreError && (err.code === 'READONLY' || err.code === 'CANT_OPEN' || err.code === 'IO');
      if (!readonly || !unreadable) throw err;
      // A WAL file in a folder we cannot write (a colleague's share, a read-only mount): SQLite
      // cannot create the -shm file a plain read needs. Read it as immutable instead.
      conn = await Connection.open(abs, { readonly: true, busyTimeoutMs, immutable: true });
      try {
        state = await readFileState(conn);
      } catch (err2) {
        await conn.close().catch(() => undefined);
        throw err2;
      }
    }
    try {
      // Look before writing anything: a foreign, newer or damaged file must stay untouched.
      checkFileState(conn, state);
      if (check && state.version > 0) await quickCheck(conn);
      if (!readonly && state.version > 0 && state.version < SCHEMA_VERSION) {
        backup = await backupBeforeMigrating(conn, state.version);
      }
      if (!readonly) {
        await conn.session(async (tx) => {
          // WAL: readers (the UI, `cairn runs`) never block the runner's writes, nor it theirs.
          await tx.get('PRAGMA journal_mode = WAL');
          // NORMAL is durable against process crashes in WAL mode; a power loss may drop the last commits.
          await tx.exec('PRAGMA synchronous = NORMAL');
        }, true);
      }
      await conn.session((tx) => tx.exec('PRAGMA foreign_keys = ON'), true);
      await migrate(conn, state);
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
    const store = new Store(conn);
    store.migratedFrom = backup ? state.version : null;
    store.backupFile = backup;
    return store;
  }

  get readonly(): boolean {
    return this.conn.readonly;
  }

  /** Finish queued work and close the connection. Idempotent. */
  close(): Promise<void> {
    return this.conn.close();
  }

  // ---------------------------------------------------------------- experiments

  /** @returns the new experiment's id */
  async createExperiment(e: NewExperiment): Promise<number> {
    return experimentsDb.insertExperiment(this.conn, experimentInsertParams(this.file, e, Date.now()));
  }

  async getExperiment(id: number): Promise<ExperimentRow | undefined> {
    const r = await experimentsDb.queryExperiment(this.conn, id);
    return r && toExperimentRow(r);
  }

  async listExperiments(): Promise<ExperimentRow[]> {
    return (await experimentsDb.queryExperiments(this.conn)).map(toExperimentRow);
  }

  // ---------------------------------------------------------------- runs

  /** A new run with status `queued`. @returns its id */
  async createRun(r: NewRun): Promise<number> {
    const params = runInsertParams(this.file, r, Date.now());
    return runsDb.insertRun(this.conn, params, params[0] as number | null);
  }

  async getRun(id: number): Promise<RunRow | undefined> {
    const r = await runsDb.queryRun(this.conn, id);
    return r && toRunRow(r);
  }

  /** One page of runs (all when no limit) and how many match in all. */
  async listRuns(q: ListRunsQuery = {}): Promise<{ rows: RunRow[]; total: number }> {
    const sql = runListSql(this.file, q ?? {}, Date.now());
    const { records, total } = await runsDb.queryRuns(this.conn, sql);
    if (sql.columns.length === 0) return { rows: records.map(toRunRow), total };
    return {
      rows: records.map((rec) => {
        const row = toRunRow(rec);
        row.columns = rowColumns(sql.columns, rec, row.config);
        return row;
      }),
      total,
    };
  }

  /** The distinct (env, learner) pairs of the stored runs. */
  runKinds(): Promise<{ envId: string; algoId: string }[]> {
    return runsDb.queryRunKinds(this.conn);
  }

  /** Metric keys some run has summaries for (the history's metric columns). */
  summaryKeys(): Promise<string[]> {
    return summariesDb.querySummaryKeys(this.conn);
  }

  /** Change some fields (and updated_at). NOT_FOUND if the run does not exist. */
  async updateRun(id: number, patch: Partial<RunPatch>): Promise<void> {
    const { columns, params } = runPatchColumns(this.file, patch);
    await runsDb.updateRunColumns(this.conn, id, columns, params, Date.now());
  }

  /** Replace the run's tags (trimmed, distinct, empty ones dropped). */
  async setTags(id: number, tags: string[]): Promise<void> {
    await runsDb.replaceTags(this.conn, id, normalizeTags(this.file, tags), Date.now());
  }

  /**
   * Delete a run with its tags, metrics, episodes and checkpoint rows (one transaction).
   * The checkpoint files stay on disk: the caller removes the returned paths.
   */
  async deleteRun(id: number): Promise<{ checkpointPaths: string[] }> {
    return { checkpointPaths: await runsDb.deleteRunCascade(this.conn, id) };
  }

  /**
   * Drop what a run recorded after round `round`: metric points with episode > round,
   * episodes with round > round, checkpoint rows with episode > round (their files are
   * returned for the caller to remove). For resuming from a checkpoint: rounds after it are
   * recomputed and would otherwise be stored twice.
   */
  async truncateAfter(runId: number, round: number): Promise<{ metrics: number; episodes: number; checkpointPaths: string[] }> {
    checkInt(this.file, 'truncateAfter: round', round, 0);
    return runsDb.truncateRunAfter(this.conn, runId, round, Date.now());
  }

  // ---------------------------------------------------------------- metrics

  /**
   * Store metric points, all in one transaction. Points whose value is null or NaN are
   * skipped; values (including ±Infinity) and times round-trip exactly.
   */
  async appendMetrics(runId: number, points: MetricPoint[]): Promise<void> {
    const { kept, keys } = checkPoints(this.file, runId, points);
    if (kept.length === 0) return;
    const added = await metricsDb.insertPoints(this.conn, runId, keys, this.keyIds, (ids) => pointBatches(kept, ids), (ids) => summaryBatch(kept, ids));
    for (const [k, id] of added) this.keyIds.set(k, id);
  }

  /**
   * What the runner records for a batch of rounds, in one transaction: metric points,
   * episodes and the run's progress are all stored or none is, so a crash never leaves
   * progress ahead of (or behind) the rows it counts.
   */
  async appendRound(runId: number, r: { metrics: MetricPoint[]; episodes: NewEpisode[]; progress: Partial<RunPatch> }): Promise<void> {
    const { kept, keys } = checkPoints(this.file, runId, r.metrics);
    const ep = r.episodes.length ? await episodeParams(this.file, runId, r.episodes) : null;
    const { columns, params } = runPatchColumns(this.file, r.progress);
    const now = Date.now();
    const added = await this.conn.write(async (tx) => {
      const a = kept.length ? await metricsDb.insertPointsIn(tx, this.file, runId, keys, this.keyIds, (ids) => pointBatches(kept, ids), (ids) => summaryBatch(kept, ids)) : new Map<string, number>();
      if (ep) await episodesDb.insertEpisodesIn(tx, this.file, runId, ep.idx, ep.params);
      if (columns.length) await runsDb.updateRunColumnsIn(tx, this.file, runId, columns, params, now);
      return a;
    });
    for (const [k, id] of added) this.keyIds.set(k, id);
  }

  /** Names of the metric series the run has points for, sorted. */
  metricKeys(runId: number): Promise<string[]> {
    return metricsDb.queryRunKeys(this.conn, runId);
  }

  /** One series in episode order (ties in insertion order); empty if the run or key has none. */
  async metricSeries(runId: number, key: string, opts: { fromEpisode?: number; toEpisode?: number } = {}): Promise<MetricSeries> {
    const from = opts.fromEpisode === undefined ? -Infinity : checkFinite(this.file, 'metricSeries: fromEpisode', opts.fromEpisode);
    const to = opts.toEpisode === undefined ? Infinity : checkFinite(this.file, 'metricSeries: toEpisode', opts.toEpisode);
    return toSeries(await metricsDb.querySeries(this.conn, runId, key, from, to));
  }

  // ---------------------------------------------------------------- episodes

  /**
   * Store episodes, all in one transaction; replays are gzip-compressed first. Fails with
   * CONFLICT, writing nothing, if the run already has one of the episode numbers.
   */
  async appendEpisodes(runId: number, rows: NewEpisode[]): Promise<void> {
    if (Array.isArray(rows) && rows.length === 0) return;
    const { idx, params } = await episodeParams(this.file, runId, rows);
    await episodesDb.insertEpisodes(this.conn, runId, idx, params);
  }

  /** Episodes in idx order (or reversed), without their replays. */
  async listEpisodes(runId: number, q: ListEpisodesQuery = {}): Promise<EpisodeRow[]> {
    const what = (f: string) => `listEpisodes: ${f}`;
    const rounds: [number, number] | undefined =
      q.fromRound === undefined && q.toRound === undefined
        ? undefined
        : [
            q.fromRound === undefined ? Number.MIN_SAFE_INTEGER : checkInt(this.file, what('fromRound'), q.fromRound),
            q.toRound === undefined ? Number.MAX_SAFE_INTEGER : checkInt(this.file, what('toRound'), q.toRound),
          ];
    const records = await episodesDb.queryEpisodes(this.conn, runId, {
      withReplay: q.withReplay === true,
      rounds,
      desc: q.desc === true,
      limit: q.limit === undefined ? -1 : checkInt(this.file, what('limit'), q.limit, 0),
      offset: q.offset === undefined ? 0 : checkInt(this.file, what('offset'), q.offset, 0),
    });
    return records.map(toEpisodeRow);
  }

  /** The episode's replay object, or undefined when none was stored. */
  async getReplay(runId: number, idx: number): Promise<object | undefined> {
    const blob = await episodesDb.queryReplay(this.conn, runId, idx);
    return blob ? replayFromBlob(this.file, runId, idx, blob) : undefined;
  }

  episodeCount(runId: number): Promise<number> {
    return episodesDb.countEpisodes(this.conn, runId);
  }

  // ---------------------------------------------------------------- checkpoints

  /** Record a checkpoint file (the file itself is written by the caller). */
  async addCheckpoint(c: NewCheckpoint): Promise<void> {
    const params = checkpointInsertParams(this.file, c, Date.now());
    await checkpointsDb.insertCheckpoint(this.conn, c.runId, params);
  }

  /** The checkpoint with the highest update number. */
  async latestCheckpoint(runId: number): Promise<CheckpointRow | undefined> {
    const r = await checkpointsDb.queryLatestCheckpoint(this.conn, runId);
    return r && toCheckpointRow(r);
  }

  /** In update order. */
  async listCheckpoints(runId: number): Promise<CheckpointRow[]> {
    return (await checkpointsDb.queryCheckpoints(this.conn, runId)).map(toCheckpointRow);
  }

  /** Append lines to a run's log (lifecycle events, worker output); one transaction. */
  async appendLog(runId: number, lines: { time: number; level: 'info' | 'warn' | 'error'; message: string }[]): Promise<void> {
    checkInt(this.file, 'appendLog: runId', runId, 1);
    if (lines.length === 0) return;
    await logsDb.insertLog(
      this.conn,
      runId,
      lines.map((l) => ({ time: l.time, level: l.level, message: String(l.message).slice(0, 4000) })),
    );
  }

  /** The last `limit` lines of a run's log, oldest first. */
  async runLog(runId: number, limit = 1000): Promise<{ time: number; level: 'info' | 'warn' | 'error'; message: string }[]> {
    checkInt(this.file, 'runLog: limit', limit, 1);
    return logsDb.queryLog(this.conn, runId, limit);
  }

  // ---------------------------------------------------------------- sweeps (migration 6)

  /** @returns the new sweep's id */
  createSweep(s: NewSweep): Promise<number> {
    return sweepsDb.insertSweep(this.conn, sweepInsertParams(s, Date.now()));
  }

  async getSweep(id: number): Promise<SweepRow | undefined> {
    const r = await sweepsDb.querySweep(this.conn, id);
    return r && toSweepRow(r);
  }

  async getSweepByUid(uid: string): Promise<SweepRow | undefined> {
    const r = await sweepsDb.querySweepByUid(this.conn, uid);
    return r && toSweepRow(r);
  }

  async listSweeps(): Promise<SweepRow[]> {
    return (await sweepsDb.querySweeps(this.conn)).map(toSweepRow);
  }

  /** Record a sweep's state and its last fault (null clears it); a null jobId keeps the stored one. */
  updateSweep(id: number, p: { jobId?: string | null; state: string; message: string | null }): Promise<void> {
    return sweepsDb.updateSweep(this.conn, id, [p.jobId ?? null, p.state, p.message, Date.now()]);
  }

  /** Tie a run to its place in a sweep: its origin (unique) and its cell's swept values. */
  setRunOrigin(runId: number, origin: string | null, sweepValues: Record<string, unknown> | null): Promise<void> {
    return sweepsDb.setRunOrigin(this.conn, runId, origin, sweepValues === null ? null : JSON.stringify(sweepValues));
  }

  runByOrigin(origin: string): Promise<number | undefined> {
    return sweepsDb.queryRunByOrigin(this.conn, origin);
  }

  /** The runs of an experiment with their origins and swept values. */
  async sweepRuns(experimentId: number): Promise<{ id: number; origin: string | null; values: Record<string, unknown> | null }[]> {
    return (await sweepsDb.querySweepRuns(this.conn, experimentId)).map((r) => ({
      id: r.id,
      origin: r.origin,
      values: r.sweep_values === null ? null : (JSON.parse(r.sweep_values) as Record<string, unknown>),
    }));
  }

  /** Write a consistent copy of the whole database to `file` (which must not exist). */
  snapshotTo(file: string): Promise<void> {
    return sweepsDb.vacuumInto(this.conn, file);
  }
}
