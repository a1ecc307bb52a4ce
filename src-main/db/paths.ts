/**
 * Where the run history lives: one SQLite file in the user's data folder, and checkpoint files
 * in a folder beside it (so a test's temporary database keeps its checkpoints next to it).
 */
import os from 'node:os';
import path from 'node:path';

/**
 * The database file to use when no `--db` flag is given: `CAIRN_DB` if set, else
 *   Linux    `$XDG_DATA_HOME/cairn/cairn.db` (default `~/.local/share/cairn/cairn.db`)
 *   macOS    `~/Library/Application Support/Cairn/cairn.db`
 *   Windows  `%APPDATA%\Cairn\cairn.db`
 * The parameters exist for tests; callers pass nothing.
 */
export function defaultDbPath(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  const override = env.CAIRN_DB?.trim();
  if (override) return path.resolve(override);
  if (platform === 'win32') {
    const appData = env.APPDATA?.trim() || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, 'Cairn', 'cairn.db');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Cairn', 'cairn.db');
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME?.trim();
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.local', 'share');
  return path.posix.join(base, 'cairn', 'cairn.db');
}

/** `<folder of the db>/checkpoints/<db file name without extension>/run-<id>` (no trailing separator). */
export function checkpointDir(dbFile: string, runId: number): string {
  const abs = path.resolve(dbFile);
  return path.join(path.dirname(abs), 'checkpoints', path.parse(abs).name, `run-${runId}`);
}
