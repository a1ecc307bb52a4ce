/**
 * What opening a run history does to keep what is stored: an immutable read-only open where a
 * plain one cannot read (item 4), an integrity check before the first write to a file that
 * was not closed cleanly (item 6), and a backup before a schema upgrade (item 5). The rules
 * are written down in docs/design.md, "Reliability and security".
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from './connection';
import { StoreError } from './errors';

/** Files up to this size are checked on every read-write open; larger ones only after an unclean close. */
export const ALWAYS_CHECK_BYTES = 64 * 1024 * 1024;

/**
 * True when the last connection did not close cleanly: in WAL mode the last connection to
 * close checkpoints and deletes the -wal file, so a non-empty one (or a rollback journal) is
 * left by a crash, a kill -9, or a connection open right now.
 */
export function uncleanClose(file: string): boolean {
  const size = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  return size(`${file}-wal`) > 0 || size(`${file}-journal`) > 0;
}

/** Whether `quickCheck` should run before this open writes. Decided before the file is opened. */
export function needsCheck(file: string): boolean {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st || st.size === 0) return false;
  return st.size <= ALWAYS_CHECK_BYTES || uncleanClose(file);
}

/** `PRAGMA quick_check`; a damaged file is refused before anything is written to it. */
export async function quickCheck(conn: Connection): Promise<void> {
  const rows = await conn.session(async (tx) => tx.all<{ quick_check: string }>('PRAGMA quick_check(5)'), true).catch((err: unknown) => {
    if (err instanceof StoreError && (err.code === 'CORRUPT' || err.code === 'NOT_A_DATABASE')) {
      const cause = err.cause instanceof Error ? err.cause.message.replace(/^SQLITE_\w+:\s*/, '') : err.code;
      return [{ quick_check: cause }];
    }
    throw err;
  });
  // quick_check's rows may span lines ("*** in database main ***\nPage 5: ..."): keep one line.
  const problems = rows
    .map((r) => r.quick_check)
    .filter((t) => t !== 'ok')
    .map((t) => t.replace(/\*\*\* in database \w+ \*\*\*/g, '').replace(/\s+/g, ' ').trim().slice(0, 200))
    .filter((t) => t !== '');
  if (rows.some((r) => r.quick_check !== 'ok')) {
    problems[0] ??= 'integrity problems';
    throw new StoreError(
      'CORRUPT',
      conn.file,
      `Cannot write to run history ${conn.file}: the database is damaged (quick_check: ${problems[0]}); ` +
        'nothing was written; copy it aside and restore a backup (read commands may still show what is readable)',
    );
  }
}

/**
 * The backup file for an upgrade from version `from`: `<name>.v<from>-backup<ext>` beside the
 * database (`cairn.v3-backup.db`), `-2`, `-3`... when taken already (never overwritten).
 */
export function backupPath(file: string, from: number): string {
  const { dir, name, ext } = path.parse(file);
  for (let i = 1; ; i++) {
    const p = path.join(dir, `${name}.v${from}-backup${i > 1 ? `-${i}` : ''}${ext}`);
    if (!fs.existsSync(p)) return p;
  }
}

/** Copy the file with SQLite's backup API before migrating it. @returns the backup's path */
export async function backupBeforeMigrating(conn: Connection, from: number): Promise<string> {
  const dest = backupPath(conn.file, from);
  try {
    await conn.backupTo(dest);
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw new StoreError(
      'IO',
      conn.file,
      `Cannot upgrade run history ${conn.file} from schema version ${from}: its backup ${dest} could not be written ` +
        `(${err instanceof Error ? err.message : String(err)}); nothing was changed`,
      { cause: err },
    );
  }
  return dest;
}
