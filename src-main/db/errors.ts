/**
 * StoreError: every failure of the run-history store, as one line that names the database file
 * and the cause, so the CLI and the UI can show `err.message` instead of a SQLite stack.
 * The original error, when there is one, is kept as `cause`.
 */

export type StoreErrorCode =
  /** The file or its folder cannot be created or opened. */
  | 'CANT_OPEN'
  /** Opened read-only but the file does not exist. */
  | 'NO_FILE'
  | 'NOT_A_DATABASE'
  /** A SQLite database that some other program owns. */
  | 'NOT_CAIRN'
  /** Written by a newer Cairn (schema version above ours). */
  | 'NEWER_SCHEMA'
  /** Read-only open of a file an older Cairn wrote; a read-write open upgrades it. */
  | 'OLDER_SCHEMA'
  /** Another connection held the lock longer than the busy timeout. */
  | 'LOCKED'
  | 'READONLY'
  | 'CORRUPT'
  | 'DISK_FULL'
  | 'IO'
  | 'CLOSED'
  /** A caller passed an invalid argument (the message names it). */
  | 'INVALID'
  /** The row the call refers to does not exist. */
  | 'NOT_FOUND'
  /** Writing would overwrite a stored row. */
  | 'CONFLICT'
  | 'SQLITE';

export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    /** Absolute path of the database file. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface SqliteError extends Error {
  code?: string;
  errno?: number;
}

/** The first line of a SQLite message, without the `SQLITE_XXX: ` prefix node-sqlite3 adds. */
function sqliteText(err: SqliteError): string {
  return err.message.split('\n')[0].replace(/^SQLITE_[A-Z_]+:\s*/, '');
}

/**
 * Translate an error thrown by node-sqlite3 into a StoreError.
 * @param opening true while opening the file: messages then start with "Cannot open".
 */
export function toStoreError(
  err: unknown,
  file: string,
  ctx: { busyTimeoutMs: number; opening?: boolean },
): StoreError {
  if (err instanceof StoreError) return err;
  const e: SqliteError = err instanceof Error ? err : new Error(String(err));
  const code = e.code ?? '';
  const text = sqliteText(e);
  const where = ctx.opening ? `Cannot open run history ${file}` : `Run history ${file}`;
  switch (code) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreError(
        'LOCKED',
        file,
        `${where}: the database is locked by another connection (still locked after waiting ${ctx.busyTimeoutMs} ms); ` +
          'another Cairn process is probably writing to it, try again when it is done',
        { cause: e },
      );
    case 'SQLITE_NOTADB':
      return new StoreError('NOT_A_DATABASE', file, `Cannot open run history ${file}: the file is not a SQLite database`, {
        cause: e,
      });
    case 'SQLITE_CANTOPEN':
      return new StoreError('CANT_OPEN', file, `Cannot open run history ${file}: ${text} (check that it is a file you may read and write)`, {
        cause: e,
      });
    case 'SQLITE_READONLY':
      return new StoreError('READONLY', file, `${where}: cannot write, the file or its folder is read-only (${text})`, {
        cause: e,
      });
    case 'SQLITE_CORRUPT':
      return new StoreError('CORRUPT', file, `${where}: the database is damaged (${text}); move it aside or restore a backup`, {
        cause: e,
      });
    case 'SQLITE_FULL':
      return new StoreError('DISK_FULL', file, `${where}: the disk is full`, { cause: e });
    case 'SQLITE_IOERR':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return new StoreError('IO', file, `${where}: input/output error (${text})`, { cause: e });
    default:
      return new StoreError('SQLITE', file, `${where}: ${text}`, { cause: e });
  }
}
