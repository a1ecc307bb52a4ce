/**
 * Orphaned runs: a run whose runner is gone is failed (interrupted, resumable) on the next
 * read-write open, including when its pid now belongs to another process; runs of other
 * machines and of live runners are left alone. The kill -9 suite (test/faults) does the same
 * with real runner processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { failOrphans, HEARTBEAT_STALE_MS, processStart, runnerGone } from '../../src-main/runner/liveness';
import { addRun } from '../db/helpers';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-liveness-');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function sleeper(): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('orphaned runs', () => {
  it('fails this host\'s runs whose runner is gone or whose pid was reused, and leaves the rest', async () => {
    const store = await Store.open(path.join(dir, 'orphans.db'));
    const me = os.hostname();
    const live = sleeper();
    const liveStart = processStart(live.pid!);
    const gone = await deadPid();
    const ids = {
      dead: await addRun(store, { host: me }),
      reused: await addRun(store, { host: me }),
      alive: await addRun(store, { host: me }),
      elsewhere: await addRun(store, { host: 'another-machine' }),
      done: await addRun(store, { host: me }),
    };
    await store.updateRun(ids.dead, { status: 'running', runnerPid: gone, runnerHost: me });
    // A live process holds the pid, but it is not the runner that started the run.
    await store.updateRun(ids.reused, { status: 'running', runnerPid: live.pid!, runnerHost: me, runnerStart: 'boot:1' });
    await store.updateRun(ids.alive, { status: 'running', runnerPid: live.pid!, runnerHost: me, runnerStart: liveStart });
    await store.updateRun(ids.elsewhere, { status: 'running', runnerPid: gone, runnerHost: 'another-machine' });
    await store.updateRun(ids.done, { status: 'done', runnerPid: gone, runnerHost: me });

    const marked = await failOrphans(store);
    expect(marked.sort()).toEqual([ids.dead, ids.reused].sort());
    const dead = (await store.getRun(ids.dead))!;
    expect(dead.status).toBe('failed');
    expect(dead.runnerPid).toBeNull();
    expect(dead.error).toBe(`interrupted: its runner (process ${gone} on ${me}) is gone; \`cairn resume ${ids.dead}\` continues from its last checkpoint`);
    expect((await store.getRun(ids.reused))!.error).toMatch(/that process id now belongs to another process/);
    expect((await store.getRun(ids.alive))!.status).toBe('running');
    expect((await store.getRun(ids.elsewhere))!.status).toBe('running');
    expect((await store.getRun(ids.done))!.status).toBe('done');
    expect((await store.runLog(ids.dead)).map((l) => l.message)).toEqual([dead.error]);
    // Idempotent: a second open finds nothing more.
    expect(await failOrphans(store)).toEqual([]);
    await store.close();
  });

  it('without a process start time, a stale heartbeat marks the runner gone', () => {
    const live = sleeper();
    const now = Date.now();
    const base = { host: os.hostname(), runnerHost: os.hostname(), runnerPid: live.pid!, runnerStart: null };
    expect(runnerGone({ ...base, heartbeatAt: now - 1000 }, now)).toBeNull();
    expect(runnerGone({ ...base, heartbeatAt: now - HEARTBEAT_STALE_MS - 1000 }, now)).toMatch(/has not answered for \d+ s/);
  });
});
