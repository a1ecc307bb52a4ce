/**
 * This machine's training throughput from `npm run bench`, kept in the Cairn data folder
 * (beside the default database, `bench-results.json`; `CAIRN_BENCH_RESULTS` overrides) so the
 * new-experiment form can estimate a run's time. One entry per (learner, env, backend), the
 * newest kept. A missing or unreadable file means no figures, never an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchFigure, BenchFigures } from '../../src-shared/bench-estimate';
import { defaultDbPath } from '../db/paths';

export function benchResultsFile(env: Record<string, string | undefined> = process.env): string {
  const override = env.CAIRN_BENCH_RESULTS?.trim();
  if (override) return path.resolve(override);
  // The default database's folder, even when CAIRN_DB points elsewhere: the figures belong to the machine.
  return path.join(path.dirname(defaultDbPath({ ...env, CAIRN_DB: undefined })), 'bench-results.json');
}

function isFigure(v: unknown): v is BenchFigure {
  const f = v as BenchFigure;
  return (
    !!f &&
    typeof f.algo === 'string' &&
    typeof f.env === 'string' &&
    typeof f.preset === 'string' &&
    typeof f.backend === 'string' &&
    [f.envStepsPerSecond, f.roundsPerSecond, f.numEnvs, f.measuredAt].every((n) => typeof n === 'number' && Number.isFinite(n) && n > 0)
  );
}

export function loadBenchFigures(file = benchResultsFile()): BenchFigures {
  try {
    const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    const list = (raw as { figures?: unknown }).figures;
    return { file, figures: Array.isArray(list) ? list.filter(isFigure) : [] };
  } catch {
    return { file, figures: [] };
  }
}

/** Merge new figures into the file (replacing the same learner, env and backend); returns the file. */
export function saveBenchFigures(fresh: readonly BenchFigure[], file = benchResultsFile()): string {
  const key = (f: BenchFigure) => `${f.algo}\u0000${f.env}\u0000${f.backend}`;
  const merged = new Map(loadBenchFigures(file).figures.map((f) => [key(f), f]));
  for (const f of fresh) merged.set(key(f), f);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ figures: [...merged.values()] }, null, 1) + '\n');
  fs.renameSync(tmp, file);
  return file;
}
