/**
 * `algo.updateThreads: auto` through the real CLI on this machine: `cairn train` decides per
 * run, the run's log says what it chose and why, and the stored config keeps 'auto'; with
 * `--seeds 2` on a 2-core machine each run is told one thread (their two processes fill it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { cli, lastJson, tmpDir } from '../helpers/cli';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SMALL = ['--preset', 'manitokan-mappo-history', '--rounds', '2', '--envs', '2', '--set', 'env.episodeLimit=20', '--set', 'algo.epochs=1', '--json'];
const LINE = /^critic on a helper thread: (yes|no) \(auto: (\d+) cores?, (\d+) runs? here, (?:load ([\d.]+), ([\d.]+) of it from other processes|no load average): (-?[\d.]+) spare\)$/;

/** The first choice logged for each run, parsed; the stored algo.updateThreads. */
async function choices(db: string, ids: number[]) {
  const store = await Store.open(db);
  try {
    const out = [];
    for (const id of ids) {
      const line = (await store.runLog(id)).map((l) => l.message).find((m) => m.startsWith('critic on a helper thread'));
      expect(line, `run ${id} logs its choice`).toBeDefined();
      const m = LINE.exec(line!);
      expect(m, line).not.toBeNull();
      out.push({ line: line!, yes: m![1] === 'yes', cores: Number(m![2]), runs: Number(m![3]), spare: Number(m![6]), stored: (await store.getRun(id))!.config.algo.updateThreads });
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('cairn train with algo.updateThreads auto (the default)', () => {
  it('one run: its log says whether the critic got a helper thread, from this machine\'s cores and load', async () => {
    const db = path.join(dir, 'one.db');
    const r = await cli(['train', ...SMALL], { CAIRN_DB: db });
    expect(r.code, r.stderr).toBe(0);
    const runs = lastJson(r.stdout).runs as { id: number; status: string }[];
    expect(runs.map((x) => x.status)).toEqual(['done']);
    const [c] = await choices(db, [runs[0].id]);
    expect(c.cores).toBe(os.availableParallelism());
    expect(c.runs).toBe(1);
    // A new run takes a helper exactly when 3/4 of a core is spare (the log rounds to 0.1).
    expect(c.yes, c.line).toBe(c.spare >= 0.75);
    expect(c.stored).toBe('auto');
  }, 300_000);

  it('--seeds 2: both runs counted; on 2 cores each is told one thread', async () => {
    const db = path.join(dir, 'two.db');
    const r = await cli(['train', ...SMALL, '--seeds', '2'], { CAIRN_DB: db });
    expect(r.code, r.stderr).toBe(0);
    const runs = lastJson(r.stdout).runs as { id: number; status: string }[];
    expect(runs.map((x) => x.status)).toEqual(['done', 'done']);
    const cs = await choices(db, runs.map((x) => x.id));
    for (const c of cs) {
      expect(c.runs, c.line).toBe(Math.min(2, os.availableParallelism()));
      expect(c.stored).toBe('auto');
      if (os.availableParallelism() === 2) {
        expect(c.yes, c.line).toBe(false);
        expect(c.spare, c.line).toBeLessThanOrEqual(0);
      }
    }
  }, 300_000);
});
