/**
 * A promise wrapper around one node-sqlite3 connection.
 *
 * node-sqlite3 runs every statement on the libuv thread pool, so a single connection can be
 * driven from several async callers at once. That would interleave one caller's BEGIN with
 * another caller's statements, so every use goes through a FIFO queue: `read` and `write`
 * run a callback inside one transaction with the connection to itself. Writes begin with
 * `BEGIN IMMEDIATE` so they take the write lock up front (and wait for it via the busy
 * timeout) instead of failing at their first INSERT when a reader's snapshot is stale.
 */
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import { StoreError, toStoreError } from './errors';

export interface RunResult {
  changes: number;
  lastID: number;
}

/** What a transaction callback may do. Only valid until the callback's promise settles. */
export interface Tx {
  run(sql: string, params?: unknown[]): Promise<RunResult>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /**
   * Run a statement prepared once per connection and reused (hot paths). As with the others,
   * await it before issuing the next statement; building the next batch in JS between the
   * call and the await lets SQLite execute this batch meanwhile.
   */
  runCached(sql: string, params: unknown[]): Promise<RunResult>;
  allCached<T>(sql: string, params: unknown[]): Promise<T[]>;
}

export interface ConnectionOptions {
  readonly: boolean;
  busyTimeoutMs: number;
  /**
   * Read-only and immutable (SQLite's `immutable=1`): no locks, no -shm file. For files in
   * folders this user cannot write, where a WAL database cannot otherwise be read. Pages still
   * in a -wal file are not seen.
   */
  immutable?: boolean;
}

export class Connection {
  private db: sqlite3.Database | null;
  /** Statements prepared once and reused (the hot insert and select paths). */
  private readonly prepared = new Map<string, sqlite3.Statement>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly tx: Tx;

  private constructor(
    db: sqlite3.Database,
    readonly file: string,
    readonly options: ConnectionOptions,
  ) {
    this.db = db;
    this.tx = {
      run: (sql, params) => this.run(sql, params),
      get: (sql, params) => this.get(sql, params),
      all: (sql, params) => this.all(sql, params),
      exec: (sql) => this.exec(sql),
      runCached: (sql, params) => this.runCached(sql, params),
      allCached: (sql, params) => this.allCached(sql, params),
    };
  }

  /** Open (and for read-write, create) the file. SQLite opens lazily: a bad file fails at the first query. */
  static open(file: string, options: ConnectionOptions): Promise<Connection> {
    const immutable = options.immutable === true;
    const mode = immutable
      ? sqlite3.OPEN_READONLY | sqlite3.OPEN_URI | sqlite3.OPEN_FULLMUTEX
      : (options.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE) | sqlite3.OPEN_FULLMUTEX;
    const name = immutable ? `${pathToFileURL(file).href}?immutable=1` : file;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(name, mode, (err) => {
        if (err) return reject(toStoreError(err, file, { busyTimeoutMs: options.busyTimeoutMs, opening: true }));
        db.configure('busyTimeout', options.busyTimeoutMs);
        resolve(new Connection(db, file, options));
      });
    });
  }

  get readonly(): boolean {
    return this.options.readonly || this.options.immutable === true;
  }

  /** Run `fn` alone on the connection, outside any transaction (PRAGMAs that refuse to run inside one). */
  session<T>(fn: (tx: Tx) => Promise<T>, opening = false): Promise<T> {
    return this.enqueue(async () => {
      try {
        return await fn(this.tx);
      } catch (err) {
        throw this.fail(err, opening);
      }
    });
  }

  /** Run `fn` in a read transaction: every query in it sees the same snapshot. */
  read<T>(fn: (tx: Tx) => Promise<T>, opening = false): Promise<T> {
    return this.enqueue(() => this.transaction('BEGIN', fn, opening));
  }

  /** Run `fn` in a write transaction: all of it is stored, or none of it. */
  write<T>(fn: (tx: Tx) => Promise<T>, opening = false): Promise<T> {
    if (this.readonly) {
      return Promise.reject(
        new StoreError('READONLY', this.file, `Run history ${this.file} was opened read-only; cannot write to it`),
      );
    }
    return this.enqueue(() => this.transaction('BEGIN IMMEDIATE', fn, opening));
  }

  private runCached(sql: string, params: unknown[]): Promise<RunResult> {
    const stmt = this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  private allCached<T>(sql: string, params: unknown[]): Promise<T[]> {
    const stmt = this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  /**
   * Copy the whole database to `dest` with SQLite's online backup API (a consistent snapshot,
   * WAL content included), queued like any other use of the connection.
   */
  backupTo(dest: string): Promise<void> {
    return this.enqueue(
      () =>
        new Promise<void>((resolve, reject) => {
          const db = this.handle() as unknown as {
            backup(file: string, cb: (err: Error | null) => void): {
              step(pages: number, cb: (err: Error | null) => void): void;
              finish(cb?: (err: Error | null) => void): void;
              completed: boolean;
              failed: boolean;
            };
          };
          const b = db.backup(dest, (err) => {
            if (err) return reject(this.fail(err));
            const step = () =>
              b.step(-1, (e) => {
                if (e) return b.finish(() => reject(this.fail(e)));
                if (b.completed) return b.finish((fe) => (fe ? reject(this.fail(fe)) : resolve()));
                if (b.failed) return b.finish(() => reject(new Error(`backup to ${dest} failed`)));
                step();
              });
            step();
          });
        }),
    );
  }

  /** Wait for queued work, then close. Later calls fail with a CLOSED StoreError. */
  async close(): Promise<void> {
    if (!this.db) return;
    await this.enqueue(async () => {
      const db = this.db;
      if (!db) return;
      this.db = null;
      for (const stmt of this.prepared.values()) await new Promise<void>((r) => stmt.finalize(() => r()));
      this.prepared.clear();
      await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(this.fail(err)) : resolve())));
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(() => {
      if (!this.db) throw new StoreError('CLOSED', this.file, `Run history ${this.file} is closed`);
      return fn();
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async transaction<T>(begin: string, fn: (tx: Tx) => Promise<T>, opening: boolean): Promise<T> {
    try {
      await this.exec(begin);
    } catch (err) {
      throw this.fail(err, opening);
    }
    try {
      const out = await fn(this.tx);
      await this.exec('COMMIT');
      return out;
    } catch (err) {
      // Nothing of a failed transaction is kept; a failed ROLLBACK means SQLite already rolled back.
      await this.exec('ROLLBACK').catch(() => undefined);
      throw this.fail(err, opening);
    }
  }

  private fail(err: unknown, opening = false): StoreError {
    return toStoreError(err, this.file, { busyTimeoutMs: this.options.busyTimeoutMs, opening });
  }

  private handle(): sqlite3.Database {
    if (!this.db) throw new StoreError('CLOSED', this.file, `Run history ${this.file} is closed`);
    return this.db;
  }

  private statement(sql: string): sqlite3.Statement {
    let stmt = this.prepared.get(sql);
    if (!stmt) {
      stmt = this.handle().prepare(sql);
      // A prepare error is reported to the first run/all callback; keep it off 'error' events.
      stmt.on('error', () => undefined);
      this.prepared.set(sql, stmt);
    }
    return stmt;
  }

  private run(sql: string, params: unknown[] = []): Promise<RunResult> {
    const db = this.handle();
    return new Promise((resolve, reject) => {
      db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  private get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    const db = this.handle();
    return new Promise((resolve, reject) => {
      db.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  private all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const db = this.handle();
    return new Promise((resolve, reject) => {
      db.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  private exec(sql: string): Promise<void> {
    const db = this.handle();
    return new Promise((resolve, reject) => {
      db.exec(sql, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
