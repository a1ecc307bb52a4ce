/** Episodes: new episodes -> insert parameters (replays gzip-compressed), records -> rows. */
import { compressJson, decompressJson } from '../../codec';
import { StoreError } from '../../errors';
import type { EpisodeRow, NewEpisode } from '../../types';
import { checkInt, invalid } from '../../validate';

/** Episodes per INSERT statement (x 9 parameters, well under SQLite's 32766). */
export const EPISODES_PER_STATEMENT = 100;

export interface EpisodeRecord {
  run_id: number;
  idx: number;
  round: number;
  env_index: number;
  length: number;
  return: number | null;
  success: number | null;
  values: string;
  has_replay: number;
}

export function toEpisodeRow(r: EpisodeRecord): EpisodeRow {
  return {
    runId: r.run_id,
    idx: r.idx,
    round: r.round,
    envIndex: r.env_index,
    length: r.length,
    // SQLite stores NaN as NULL.
    return: r.return ?? NaN,
    success: r.success ?? NaN,
    values: JSON.parse(r.values) as (number | null)[],
    hasReplay: r.has_replay === 1,
  };
}

/**
 * Check a batch and turn it into insert parameters (EPISODE_PARAMS per episode), compressing
 * the replays in parallel on the thread pool before any lock is taken.
 */
export async function episodeParams(file: string, runId: number, rows: unknown): Promise<{ idx: number[]; params: unknown[][] }> {
  if (!Array.isArray(rows)) throw invalid(file, `appendEpisodes(run ${runId}): rows must be an array`);
  const seen = new Set<number>();
  const checked = (rows as NewEpisode[]).map((e, i) => {
    const what = (f: string) => `appendEpisodes(run ${runId}): episode ${i} ${f}`;
    if (!e || typeof e !== 'object') throw invalid(file, `appendEpisodes(run ${runId}): episode ${i} is not an object`);
    const idx = checkInt(file, what('idx'), e.idx, 0);
    if (seen.has(idx)) {
      throw new StoreError('CONFLICT', file, `Run history ${file}: appendEpisodes(run ${runId}): episode idx ${idx} appears twice in one batch`);
    }
    seen.add(idx);
    for (const f of ['return', 'success'] as const) {
      if (typeof e[f] !== 'number') throw invalid(file, `${what(f)} must be a number, got ${String(e[f])}`);
    }
    if (!Array.isArray(e.values) || e.values.some((v) => v !== null && typeof v !== 'number')) {
      throw invalid(file, `${what('values')} must be an array of numbers or nulls`);
    }
    if (e.replay !== undefined && e.replay !== null && typeof e.replay !== 'object') {
      throw invalid(file, `${what('replay')} must be an object or null`);
    }
    return {
      e,
      fixed: [
        idx,
        checkInt(file, what('round'), e.round, 0),
        checkInt(file, what('envIndex'), e.envIndex, 0),
        checkInt(file, what('length'), e.length, 0),
        e.return,
        e.success,
        JSON.stringify(e.values),
      ],
    };
  });
  const params = await Promise.all(
    checked.map(async ({ e, fixed }) => {
      const blob = e.replay ? await compressJson(e.replay) : null;
      return [...fixed, blob ? 1 : 0, blob];
    }),
  );
  return { idx: [...seen], params };
}

/** The stored replay object; a damaged blob is a CORRUPT error, not an exception from zlib. */
export async function replayFromBlob(file: string, runId: number, idx: number, blob: Buffer): Promise<object> {
  try {
    return (await decompressJson(blob)) as object;
  } catch (err) {
    throw new StoreError('CORRUPT', file, `Run history ${file}: the replay of run ${runId} episode ${idx} is damaged (${String(err)})`, {
      cause: err,
    });
  }
}
