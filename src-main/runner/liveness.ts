/**
 * Is the runner that owns a "running" run still there? And marking the runs whose runner is
 * gone (killed terminal, kill -9, reboot) as failed, so none stays "running" forever.
 *
 * The rule (docs/design.md, "Reliability and security"): a run is orphaned when its owning
 * runner was on this machine and
 *   - no process has its pid, or
 *   - the process with its pid started at another time than the runner did (the pid was
 *     reused after a crash or a reboot; Linux, from /proc/<pid>/stat and the boot id), or
 *   - where the start time cannot be read (macOS, Windows), its heartbeat is older than
 *     HEARTBEAT_STALE_MS.
 * Runs owned by another machine (a shared file) are left alone: their pids mean nothing here.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { RunRow } from '../db/types';
import type { Store } from '../db/store';

/** How often a runner writes the heartbeat of its running runs. */
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this means the runner is gone (only used without process start times). */
export const HEARTBEAT_STALE_MS = 120_000;

export interface RunnerIdentity {
  host: string;
  pid: number;
  start: string | null;
}

let bootId: string | null | undefined;

/** When process `pid` started, as an opaque token; null where the OS does not tell (or no such process). */
export function processStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    bootId ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootId = null;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks after boot); the command name before it may hold spaces and parens.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    return ticks ? `${bootId ?? 'boot'}:${ticks}` : null;
  } catch {
    return null;
  }
}

/** This process, as recorded on the runs it owns. */
export function selfIdentity(): RunnerIdentity {
  return { host: os.hostname(), pid: process.pid, start: processStart(process.pid) };
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why the run's runner is gone, or null when it may still be alive (or is on another machine).
 * Only meaningful for runs with status running (or queued by a runner).
 */
export function runnerGone(run: Pick<RunRow, 'host' | 'runnerHost' | 'runnerPid' | 'runnerStart' | 'heartbeatAt'>, now: number): string | null {
  const host = run.runnerHost ?? run.host;
  if (host !== os.hostname()) return null;
  const pid = run.runnerPid;
  if (pid === null || pid === undefined) return null;
  if (!pidExists(pid)) return `its runner (process ${pid} on ${host}) is gone`;
  const start = processStart(pid);
  if (run.runnerStart && start !== null) {
    return start === run.runnerStart ? null : `its runner (process ${pid} on ${host}) is gone; that process id now belongs to another process`;
  }
  if (run.heartbeatAt !== null && run.heartbeatAt !== undefined && now - run.heartbeatAt > HEARTBEAT_STALE_MS) {
    return `its runner (process ${pid} on ${host}) has not answered for ${Math.round((now - run.heartbeatAt) / 1000)} s`;
  }
  return null;
}

/** True when the run's runner is alive, or cannot be judged from this machine. */
export function runnerAlive(run: Parameters<typeof runnerGone>[0]): boolean {
  return runnerGone(run, Date.now()) === null;
}

/**
 * Mark this machine's running and queued runs whose runner is gone as failed (interrupted,
 * resumable), with the reason in `error` and in the run's log.
 * @returns the ids marked
 */
export async function failOrphans(store: Store, now = Date.now()): Promise<number[]> {
  const { rows } = await store.listRuns({ status: ['running', 'queued'] });
  const marked: number[] = [];
  for (const run of rows) {
    if (run.runnerPid === process.pid && (run.runnerHost ?? run.host) === os.hostname()) continue; // ours
    const why = runnerGone(run, now);
    if (why === null) continue;
    const error = `interrupted: ${why}; \`cairn resume ${run.id}\` continues from its last checkpoint`;
    // Re-read just before writing: another process may have resumed the run meanwhile.
    const fresh = await store.getRun(run.id);
    if (!fresh || fresh.status !== run.status || fresh.runnerPid !== run.runnerPid) continue;
    await store.updateRun(run.id, { status: 'failed', error, runnerPid: null, heartbeatAt: null, endedAt: now, stopRequested: false });
    await store.appendLog(run.id, [{ time: now, level: 'error', message: error }]).catch(() => undefined);
    marked.push(run.id);
  }
  return marked;
}
