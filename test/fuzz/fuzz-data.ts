/**
 * Shared pieces of the fuzz suites: a seeded picker, value families, a database with runs to
 * check that nothing stored is lost, and the output checks (no stack trace, one line).
 */
import sqlite3 from 'sqlite3';
import { Rng } from '../../src-shared/rng';
import { Store } from '../../src-main/db/store';
import { resolveConfigAll } from '../../src-main/service/resolve-config';

export class Pick {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  int(n: number): number {
    return this.rng.int(n);
  }
  chance(p: number): boolean {
    return this.rng.float() < p;
  }
  one<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)];
  }
  some<T>(xs: readonly T[], max: number): T[] {
    const pool = [...xs];
    const out: T[] = [];
    const n = Math.min(pool.length, this.rng.int(max + 1));
    for (let i = 0; i < n; i++) out.push(pool.splice(this.rng.int(pool.length), 1)[0]);
    return out;
  }
}

/** Text that no integer flag or field accepts (the numeric literal policy of config/schema.ts). */
export const BAD_INTS = ['abc', '1.5', '0x10', '0b1', '1_000', 'NaN', 'Infinity', '-Infinity', '1e400', '١٢', '12abc', '', ' ', '9'.repeat(40), '2 3'];
/** Strings that stress parsers and renderers: unicode, huge, JSON, prototype names. */
export const ODD_STRINGS = ['é', '日本語', '🙂‍🌈', 'a'.repeat(5000), '__proto__', 'constructor', 'toString', 'hasOwnProperty', '{"a":1}', '[1,2]', '<script>x</script>', '%s%n', '\u202Eevil', 'tab\there', 'line\nbreak', '-', '--'];

/** A run database with a few finished runs and their rows; returns its counts. */
export async function seedDatabase(file: string): Promise<{ runIds: number[]; experimentId: number }> {
  const store = await Store.open(file);
  try {
    const resolved = resolveConfigAll({ preset: 'manitokan-random' });
    if (!resolved.ok) throw new Error('preset');
    const experimentId = await store.createExperiment({ name: 'kept', preset: 'manitokan-random' });
    const runIds: number[] = [];
    for (let r = 0; r < 3; r++) {
      const id = await store.createRun({ experimentId, name: `kept s${r}`, preset: 'manitokan-random', config: resolved.config, seed: r, episodesTotal: 20, host: 'fuzz', metricKeys: ['return_total'] });
      const pts = Array.from({ length: 20 }, (_, i) => ({ key: 'return_total', step: i, episode: i, wallTime: i, value: Math.sin(i + r) }));
      await store.appendMetrics(id, pts);
      await store.updateRun(id, { status: 'done', episodesDone: 20 });
      runIds.push(id);
    }
    return { runIds, experimentId };
  } finally {
    await store.close();
  }
}

/** integrity_check and the row count of every table, read-only. */
export async function databaseFacts(file: string): Promise<{ integrity: string; counts: Record<string, number> }> {
  const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY);
  const get = (sql: string) => new Promise<Record<string, unknown>>((res, rej) => db.get(sql, (e: Error | null, r: Record<string, unknown>) => (e ? rej(e) : res(r))));
  const all = (sql: string) => new Promise<Record<string, unknown>[]>((res, rej) => db.all(sql, (e: Error | null, r: Record<string, unknown>[]) => (e ? rej(e) : res(r))));
  try {
    const integrity = String(Object.values(await get('PRAGMA integrity_check'))[0]);
    const counts: Record<string, number> = {};
    for (const t of await all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
      counts[String(t.name)] = Number((await get(`SELECT count(*) AS n FROM "${String(t.name)}"`)).n);
    }
    return { integrity, counts };
  } finally {
    await new Promise((r) => db.close(r));
  }
}

/** A JavaScript stack frame or an uncaught-error dump in some output. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at (?:.+ \()?\S+:\d+:\d+\)?$/m.test(text) || /Uncaught|UnhandledPromiseRejection|node:internal/.test(text);
}
