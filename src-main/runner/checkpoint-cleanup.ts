/**
 * Removing a deleted run's checkpoint files, and only those.
 *
 * The paths come from the database, and a database file may come from someone else (shared
 * with a colleague, downloaded with a paper): a doctored `checkpoints.path` must not make
 * "delete run" remove ~/.ssh/id_ed25519. A path is removed only when it is a regular file (not
 * a symlink) named like one the worker writes, whose real location is inside this run's own
 * checkpoint folder as derived from the database file and the run id, never from the row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkpointDir } from '../db/paths';

const OURS = /^round-\d+\.ckpt(\.tmp-\d+)?$/;

export interface Cleanup {
  removed: string[];
  /** Paths the database named that were left alone, with the reason. */
  refused: { path: string; why: string }[];
}

function realDir(dir: string): string | null {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && !st.isSymbolicLink() ? fs.realpathSync(dir) : null;
  } catch {
    return null;
  }
}

/** Remove the run's checkpoint files listed in `paths` (and stray temp files), then its folder when empty. */
export function removeRunCheckpoints(dbFile: string, runId: number, paths: string[]): Cleanup {
  const out: Cleanup = { removed: [], refused: [] };
  const dir = checkpointDir(dbFile, runId);
  const real = realDir(dir);
  const remove = (p: string) => {
    fs.rmSync(p, { force: true });
    out.removed.push(p);
  };
  for (const p of paths) {
    if (typeof p !== 'string' || !path.isAbsolute(p)) {
      out.refused.push({ path: String(p), why: 'not an absolute path' });
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue; // already gone: nothing to do
    }
    const inside = real !== null && path.dirname(fs.realpathSync(p)) === real;
    if (!inside) out.refused.push({ path: p, why: `outside the run's checkpoint folder ${dir}` });
    else if (!st.isFile() || st.isSymbolicLink()) out.refused.push({ path: p, why: 'not a regular file' });
    else if (!OURS.test(path.basename(p))) out.refused.push({ path: p, why: 'not a checkpoint file name' });
    else remove(p);
  }
  if (real !== null) {
    // Temp files of a checkpoint interrupted mid-write, then the folder itself once empty.
    for (const name of fs.readdirSync(real)) {
      const p = path.join(real, name);
      if (OURS.test(name) && fs.lstatSync(p).isFile()) remove(p);
    }
    try {
      fs.rmdirSync(real);
    } catch {
      // Not empty (files Cairn did not write): left for the user.
    }
  }
  return out;
}
