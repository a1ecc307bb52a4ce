/**
 * Schema migrations, numbered in code. `PRAGMA user_version` holds the version a file is at;
 * opening read-write applies each newer migration in its own transaction, so a crash leaves
 * the file at the last whole version. Never edit a released migration: append a new one.
 */
import type { Connection } from './connection';
import { StoreError } from './errors';

export interface Migration {
  /** 1, 2, 3 ... in array order. */
  version: number;
  name: string;
  /** SQL run in one transaction. */
  up: string;
}

/** `PRAGMA application_id` of Cairn files ('CAIR'): tells our databases from other programs'. */
export const APPLICATION_ID = 0x43414952;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'run history: experiments, runs, tags, metrics, episodes, checkpoints',
    up: `
      PRAGMA application_id = ${APPLICATION_ID};

      CREATE TABLE experiments (
        id          INTEGER PRIMARY KEY,
        name        TEXT    NOT NULL,
        preset      TEXT,
        created_at  INTEGER NOT NULL,
        notes       TEXT    NOT NULL DEFAULT ''
      );

      CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        experiment_id   INTEGER REFERENCES experiments (id) ON DELETE SET NULL,
        name            TEXT    NOT NULL,
        preset          TEXT,
        env_id          TEXT    NOT NULL,
        algo_id         TEXT    NOT NULL,
        config          TEXT    NOT NULL CHECK (json_valid(config)),
        seed            INTEGER NOT NULL,
        status          TEXT    NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'running', 'stopped', 'done', 'failed')),
        backend         TEXT,
        host            TEXT    NOT NULL,
        runner_pid      INTEGER,
        created_at      INTEGER NOT NULL,
        started_at      INTEGER,
        ended_at        INTEGER,
        updated_at      INTEGER NOT NULL,
        episodes_total  INTEGER NOT NULL,
        episodes_done   INTEGER NOT NULL DEFAULT 0,
        env_steps       INTEGER NOT NULL DEFAULT 0,
        error           TEXT,
        summary         TEXT    CHECK (summary IS NULL OR json_valid(summary)),
        stop_requested  INTEGER NOT NULL DEFAULT 0 CHECK (stop_requested IN (0, 1)),
        notes           TEXT    NOT NULL DEFAULT '',
        metric_keys     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(metric_keys))
      );
      CREATE INDEX runs_experiment ON runs (experiment_id);
      CREATE INDEX runs_status ON runs (status);
      CREATE INDEX runs_created ON runs (created_at);

      CREATE TABLE run_tags (
        run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        tag     TEXT    NOT NULL,
        PRIMARY KEY (run_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX run_tags_tag ON run_tags (tag);

      -- Metric names are shared by all runs, so each point stores a small integer.
      CREATE TABLE metric_keys (
        id    INTEGER PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE
      );

      -- Narrow on purpose: ~20 points per round, thousands of rounds, dozens of runs.
      -- No foreign key on key_id: keys are never deleted, and the check would cost every insert.
      CREATE TABLE metrics (
        run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key_id     INTEGER NOT NULL,
        step       INTEGER NOT NULL,
        episode    INTEGER NOT NULL,
        wall_time  REAL    NOT NULL,
        value      REAL    NOT NULL
      );
      CREATE INDEX metrics_run_key_episode ON metrics (run_id, key_id, episode);

      CREATE TABLE episodes (
        run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        round         INTEGER NOT NULL,
        env_index     INTEGER NOT NULL,
        length        INTEGER NOT NULL,
        return_total  REAL,
        success       REAL,
        "values"      TEXT    NOT NULL CHECK (json_valid("values")),
        has_replay    INTEGER NOT NULL DEFAULT 0 CHECK (has_replay IN (0, 1)),
        -- Last, so listing episodes never reads the blob's overflow pages.
        replay        BLOB,
        PRIMARY KEY (run_id, idx)
      );
      CREATE INDEX episodes_round ON episodes (run_id, round);
      CREATE INDEX episodes_with_replay ON episodes (run_id, idx) WHERE has_replay = 1;

      CREATE TABLE checkpoints (
        id          INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        "update"    INTEGER NOT NULL,
        episode     INTEGER NOT NULL,
        env_steps   INTEGER NOT NULL,
        path        TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        bytes       INTEGER NOT NULL
      );
      CREATE INDEX checkpoints_run ON checkpoints (run_id, "update");
    `,
  },
  {
    version: 2,
    name: 'runs.variant: the label of a run within its experiment (a reproduction launches several)',
    up: `
      ALTER TABLE runs ADD COLUMN variant TEXT;
    `,
  },
  {
    version: 3,
    name: "run_log: a run's lifecycle events and worker output",
    up: `
      CREATE TABLE run_log (
        run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        time     INTEGER NOT NULL,
        level    TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
        message  TEXT    NOT NULL
      );
      CREATE INDEX run_log_run ON run_log (run_id);
    `,
  },
  {
    version: 4,
    name: "runs.metric_specs: the env's declared episode metrics (titles, headline roles)",
    up: `
      ALTER TABLE runs ADD COLUMN metric_specs TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(metric_specs));
    `,
  },
  {
    version: 5,
    name: "runs.runner_host, runner_start, heartbeat_at: which process on which machine owns a running run, and when it last said so",
    up: `
      ALTER TABLE runs ADD COLUMN runner_host TEXT;
      -- The owning process's start time as the OS reports it: tells the runner from a later process given the same pid.
      ALTER TABLE runs ADD COLUMN runner_start TEXT;
      ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
    `,
  },
  {
    version: 6,
    name: 'sweeps: axes x seeds as one experiment, run on the local pool or a Slurm array; runs.origin makes collecting idempotent',
    up: `
      CREATE TABLE sweeps (
        id             INTEGER PRIMARY KEY,
        uid            TEXT    NOT NULL UNIQUE,
        experiment_id  INTEGER REFERENCES experiments (id) ON DELETE SET NULL,
        name           TEXT    NOT NULL,
        spec           TEXT    NOT NULL CHECK (json_valid(spec)),
        executor       TEXT    NOT NULL CHECK (executor IN ('local', 'slurm')),
        location       TEXT,
        ssh_host       TEXT,
        job_id         TEXT,
        state          TEXT    NOT NULL,
        message        TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX sweeps_experiment ON sweeps (experiment_id);

      -- "<sweep uid>/task-<i>" for a run of a cluster sweep: collecting finds it again instead of
      -- creating a second copy.
      ALTER TABLE runs ADD COLUMN origin TEXT;
      CREATE UNIQUE INDEX runs_origin ON runs (origin) WHERE origin IS NOT NULL;
      -- The swept values of the run's cell ({"algo.lr": 0.0003, "variant": "PG"}).
      ALTER TABLE runs ADD COLUMN sweep_values TEXT CHECK (sweep_values IS NULL OR json_valid(sweep_values));
    `,
  },
  {
    version: 7,
    name: 'run_metric_summary and run_config_values: metric summaries and flattened config fields for history columns; existing runs backfilled',
    up: `
      -- Kept up to date as points are stored (and recomputed for a run whose later rounds a
      -- resume deletes), so the history sorts and filters 10,000 runs by a metric's final,
      -- mean, max or min without reading their series. Finite values only.
      CREATE TABLE run_metric_summary (
        run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key_id        INTEGER NOT NULL,
        n             INTEGER NOT NULL,
        total         REAL    NOT NULL,
        min           REAL    NOT NULL,
        max           REAL    NOT NULL,
        last_episode  REAL    NOT NULL,
        last          REAL    NOT NULL,
        PRIMARY KEY (run_id, key_id)
      ) WITHOUT ROWID;
      CREATE INDEX run_metric_summary_key ON run_metric_summary (key_id);
      INSERT INTO run_metric_summary (run_id, key_id, n, total, min, max, last_episode, last)
      SELECT g.run_id, g.key_id, g.n, g.total, g.mn, g.mx,
             (SELECT m.episode FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id
                AND abs(m.value) <= 1.7976931348623157e308 ORDER BY m.episode DESC, m.rowid DESC LIMIT 1),
             (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id
                AND abs(m.value) <= 1.7976931348623157e308 ORDER BY m.episode DESC, m.rowid DESC LIMIT 1)
      FROM (SELECT run_id, key_id, count(*) AS n, sum(value) AS total, min(value) AS mn, max(value) AS mx
            FROM metrics WHERE abs(value) <= 1.7976931348623157e308 GROUP BY run_id, key_id) g;
      -- Each run's config fields ('algo.lr' -> 0.0003), written with the run (its config never
      -- changes): sorting 10,000 runs by a field then reads an index instead of parsing every
      -- config's JSON. Lists stay JSON text; booleans are 1 and 0, as json_extract gives them.
      CREATE TABLE run_config_values (
        run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path    TEXT    NOT NULL,
        value,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX run_config_values_path ON run_config_values (path, value);
      INSERT INTO run_config_values (run_id, path, value)
      SELECT r.id, s.key || '.' || f.key, f.value
      FROM runs r, json_each(r.config) s, json_each(s.value) f
      WHERE s.key IN ('env', 'algo', 'train') AND s.type = 'object';
    `,
  },
  {
    version: 8,
    name: "episodes.return: the summary column of the env's metric with role 'return', named for the role rather than for one env's metric",
    // RENAME COLUMN (SQLite 3.25+) rewrites the table's definition in place: no row is copied,
    // and no index, view or trigger names the column.
    up: `
      ALTER TABLE episodes RENAME COLUMN return_total TO "return";
    `,
  },
];

/** The schema version this Cairn writes. */
export const SCHEMA_VERSION = migrations.length;

/** What a file is, read before anything is written to it. */
export interface FileState {
  version: number;
  applicationId: number;
  tables: string[];
}

export async function readFileState(conn: Connection): Promise<FileState> {
  // The first real read: a file that is not a database fails here with SQLITE_NOTADB.
  return conn.read(async (tx) => {
    const v = await tx.get<{ user_version: number }>('PRAGMA user_version');
    const a = await tx.get<{ application_id: number }>('PRAGMA application_id');
    const t = await tx.all<{ name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    return { version: v?.user_version ?? 0, applicationId: a?.application_id ?? 0, tables: t.map((r) => r.name) };
  }, true);
}

/** Refuse files that are not ours or that a newer Cairn wrote. */
export function checkFileState(conn: Connection, s: FileState): void {
  const foreign = s.applicationId !== 0 && s.applicationId !== APPLICATION_ID;
  if (foreign || (s.applicationId === 0 && s.tables.length > 0)) {
    const what = s.tables.length ? ` (it has tables ${s.tables.slice(0, 5).join(', ')})` : '';
    throw new StoreError(
      'NOT_CAIRN',
      conn.file,
      `Cannot open run history ${conn.file}: it is a SQLite database of another program, not a Cairn run history${what}`,
    );
  }
  if (s.version > SCHEMA_VERSION) {
    throw new StoreError(
      'NEWER_SCHEMA',
      conn.file,
      `Cannot open run history ${conn.file}: its schema version ${s.version} is newer than this Cairn supports ` +
        `(${SCHEMA_VERSION}); it was written by a newer Cairn, upgrade to open it`,
    );
  }
}

/**
 * Bring the file to SCHEMA_VERSION (read-write) or check that it is there (read-only).
 * Safe against another process migrating the same file at once: each step re-reads the
 * version under the write lock. `to` stops read-write upgrading at an older version: what the
 * tests use to build a file as an older Cairn left it, with this same runner.
 */
export async function migrate(conn: Connection, state?: FileState, to = SCHEMA_VERSION): Promise<{ from: number; to: number }> {
  state ??= await readFileState(conn);
  checkFileState(conn, state);
  if (conn.readonly) {
    if (state.version < SCHEMA_VERSION) {
      const why = state.version === 0 ? 'it is empty' : `its schema version ${state.version} is older than ${SCHEMA_VERSION}`;
      throw new StoreError(
        'OLDER_SCHEMA',
        conn.file,
        `Cannot open run history ${conn.file} read-only: ${why}; open it once read-write (any cairn command that writes) to upgrade it`,
      );
    }
    return { from: state.version, to: state.version };
  }
  for (const m of migrations) {
    if (m.version <= state.version || m.version > to) continue;
    await conn.write(async (tx) => {
      const now = (await tx.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
      if (now >= m.version) return; // another process got there first
      if (now !== m.version - 1) {
        throw new StoreError('SQLITE', conn.file, `Run history ${conn.file}: cannot apply migration ${m.version} to version ${now}`);
      }
      await tx.exec(m.up);
      await tx.exec(`PRAGMA user_version = ${m.version}`);
    }, true);
  }
  return { from: state.version, to: Math.max(state.version, Math.min(to, SCHEMA_VERSION)) };
}
