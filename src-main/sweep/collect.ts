/**
 * `cairn sweep collect`: import a cluster sweep's published run files into the local history.
 *
 * Idempotent: each task's run is found again by its origin (`<uid>/task-<i>`, unique in the
 * database) and only rounds after the ones already collected are imported, so collecting
 * twice adds nothing. Nothing collected is ever dropped: a run file that cannot be fetched or
 * read (half-copied, truncated, another program's) leaves the run as it was and puts the
 * reason on the run's log and the sweep's message; a task the scheduler killed fails its run
 * with the scheduler's reason, keeping every round collected before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SweepSpec } from '../../src-shared/config/sweep';
import { Store, type RunStatus, type SweepRow } from '../db/store';
import { recordSweep, taskOrigin, type SweepPlan } from '../service/sweep';
import { layout, parseSweepFile, type SweepFile, type TaskStatus } from './folder';
import { ACTIVE_STATES, KILLED_STATES, schedulerStates } from './slurm';
import { SweepFault, type Transport } from './transport';

export interface CollectReport {
  sweepId: number;
  experimentId: number | null;
  /** Runs that got new rounds or a new status in this collect. */
  updated: number;
  /** Rounds imported in this collect, over all runs. */
  rounds: number;
  counts: Record<RunStatus, number>;
  /** Faults seen (one line each); also stored as the sweep's message. */
  problems: string[];
  state: string;
}

/** The sweep's row in the local store, created from sweep.json the first time it is seen. */
export async function ensureSweep(store: Store, t: Transport, dir: string): Promise<{ row: SweepRow; file: SweepFile }> {
  const L = layout(dir);
  const text = await t.readFile(L.sweepJson);
  if (text === null) throw new SweepFault(`no sweep at ${dir} on ${t.where} (${L.sweepJson} does not exist)`);
  const file = parseSweepFile(text.toString('utf8'), `${t.sshHost ? `${t.sshHost}:` : ''}${L.sweepJson}`);
  let row = await store.getSweepByUid(file.uid);
  if (!row) {
    const plan: SweepPlan = {
      spec: file.spec as SweepSpec,
      name: file.name,
      cells: file.cells.map((c, index) => ({ index, label: c.label, values: c.values, preset: c.preset ?? undefined, overrides: {}, config: c.config, metricKeys: c.metricKeys, metricSpecs: c.metricSpecs ?? [] })),
      runs: file.runs,
      seeds: [...new Set(file.runs.map((r) => r.seed))],
    };
    const rec = await recordSweep(store, plan, {
      executor: 'slurm',
      uid: file.uid,
      location: dir,
      sshHost: t.sshHost,
      host: t.sshHost ?? 'cluster',
      experimentPreset: file.experimentPreset ?? undefined,
      state: 'submitted',
    });
    row = (await store.getSweep(rec.sweepId))!;
  }
  return { row, file };
}

async function readStatuses(t: Transport, dir: string): Promise<Map<number, TaskStatus>> {
  const L = layout(dir);
  const r = await t.sh(`for f in ${L.runsDir.replace(/'/g, '')}/task-*.json; do [ -e "$f" ] && cat "$f"; done; true`);
  const out = new Map<number, TaskStatus>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as TaskStatus;
      if (Number.isInteger(s.task)) out.set(s.task, s);
    } catch {
      // A status line cut by a concurrent rename is read again on the next collect.
    }
  }
  return out;
}

export async function collectSweep(store: Store, t: Transport, dir: string): Promise<CollectReport> {
  const { row, file } = await ensureSweep(store, t, dir);
  const L = layout(dir);
  const problems: string[] = [];
  let jobId = row.jobId;
  if (!jobId) {
    const j = await t.readFile(L.jobId);
    if (j) jobId = j.toString().trim() || null;
  }
  const states = jobId ? await schedulerStates(t, jobId) : null;
  const statuses = await readStatuses(t, dir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-collect-'));
  let updated = 0;
  let rounds = 0;
  try {
    for (const r of file.runs) {
      const runId = await store.runByOrigin(taskOrigin(file.uid, r.task));
      if (runId === undefined) continue; // deleted locally on purpose: do not bring it back
      const local = (await store.getRun(runId))!;
      const ts = statuses.get(r.task);
      let changed = false;
      let unread = false;
      if (ts && (ts.publishedRound > local.episodesDone || (ts.status !== local.status && ts.status !== 'running'))) {
        try {
          const got = await importTask(store, runId, t, L.runFile(r.task), path.join(tmp, `task-${r.task}.db`));
          if (got !== null) {
            rounds += got;
            changed = true;
          }
        } catch (e) {
          const msg = `task ${r.task}: run file ${L.runFile(r.task)} could not be read (${(e as Error).message.split('\n')[0]}); kept the ${local.episodesDone} rounds collected before`;
          problems.push(msg);
          unread = true;
          await store.appendLog(runId, [{ time: Date.now(), level: 'warn', message: msg }]);
        }
      }
      // The scheduler's word on tasks that are not done.
      const now = (await store.getRun(runId))!;
      const sched = states?.get(r.task);
      let status: RunStatus = now.status;
      let error: string | null = now.error;
      if (now.status !== 'done') {
        if (sched && KILLED_STATES.includes(sched) && ts?.status !== 'done') {
          const cancelled = sched === 'CANCELLED';
          status = cancelled ? 'stopped' : 'failed';
          error = cancelled
            ? `cancelled on the cluster (job ${jobId}_${r.task}) at round ${now.episodesDone}`
            : `the scheduler reports ${sched} for job ${jobId}_${r.task} at round ${now.episodesDone}; see ${L.logsDir}/task-${r.task}.out`;
        } else if (sched && ACTIVE_STATES.includes(sched)) {
          status = sched === 'PENDING' || sched.startsWith('REQUEUE') ? 'queued' : 'running';
          error = null;
        } else if (ts && !(unread && ts.status === 'done')) {
          // A run is done here only once its last rounds are here.
          status = ts.status;
          error = ts.error;
        }
      }
      if (status !== now.status || error !== now.error) {
        await store.updateRun(runId, { status, error, ...(status === 'failed' || status === 'stopped' ? { endedAt: now.endedAt ?? Date.now() } : {}) });
        if (status === 'failed' && error) await store.appendLog(runId, [{ time: Date.now(), level: 'error', message: error }]);
        changed = true;
      }
      if (changed) updated++;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const counts: Record<RunStatus, number> = { queued: 0, running: 0, stopped: 0, done: 0, failed: 0 };
  const ids = (await store.sweepRuns(row.experimentId ?? -1)).map((x) => x.id);
  for (const id of ids) counts[(await store.getRun(id))!.status]++;
  for (const [task, s] of states ?? []) {
    if (KILLED_STATES.includes(s) && s !== 'CANCELLED' && statuses.get(task)?.status !== 'done') {
      problems.push(`task ${task}: the scheduler reports ${s}`);
    }
  }
  const total = ids.length;
  const state =
    counts.done === total ? 'done' : counts.queued + counts.running > 0 ? (counts.running > 0 ? 'running' : 'submitted') : counts.failed > 0 ? 'failed' : 'stopped';
  const message = problems.length ? problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` (+${problems.length - 5} more)` : '') : null;
  await store.updateSweep(row.id, { jobId, state: row.state === 'cancelled' && state !== 'done' ? 'cancelled' : state, message });
  return { sweepId: row.id, experimentId: row.experimentId, updated, rounds, counts, problems, state };
}

/**
 * Copy task i's run file here and import what is new. Returns the rounds imported, or null
 * when the file is not there yet.
 */
async function importTask(dst: Store, dstRunId: number, t: Transport, remote: string, localCopy: string): Promise<number | null> {
  fs.rmSync(localCopy, { force: true });
  if (!(await t.fetch(remote, localCopy))) return null;
  // A copy of our own: migrating it (an older cluster Cairn) must not touch the published file.
  const src = await Store.open(localCopy);
  try {
    const runs = (await src.listRuns({})).rows;
    if (runs.length !== 1) throw new Error(`expected one run, found ${runs.length}`);
    const s = runs[0];
    const d = (await dst.getRun(dstRunId))!;
    const from = d.episodesDone;
    let imported = 0;
    if (s.episodesDone > from) {
      // Rows past the collected rounds can only be the leftovers of an interrupted collect.
      await dst.truncateAfter(dstRunId, from);
      const points = [];
      for (const key of await src.metricKeys(s.id)) {
        const ser = await src.metricSeries(s.id, key, { fromEpisode: from + 0.5, toEpisode: s.episodesDone });
        for (let i = 0; i < ser.value.length; i++) {
          points.push({ key, step: ser.step[i], episode: ser.episode[i], wallTime: ser.wallTime[i], value: ser.value[i] });
        }
      }
      const eps = await src.listEpisodes(s.id, { fromRound: from + 1, toRound: s.episodesDone });
      const rows = [];
      for (const e of eps) {
        const replay = e.hasReplay ? ((await src.getReplay(s.id, e.idx)) ?? null) : null;
        rows.push({ idx: e.idx, round: e.round, envIndex: e.envIndex, length: e.length, return: e.return, success: e.success, values: e.values, replay });
      }
      await dst.appendMetrics(dstRunId, points);
      await dst.appendEpisodes(dstRunId, rows);
      imported = s.episodesDone - from;
    }
    // The status comes from the task's status file and the scheduler (collectSweep): a copy
    // of a live run file says "running" for a process that is not ours to judge.
    await dst.updateRun(dstRunId, {
      episodesDone: Math.max(from, s.episodesDone),
      envSteps: Math.max(d.envSteps, s.envSteps),
      summary: s.summary,
      backend: s.backend,
      startedAt: s.startedAt,
      endedAt: s.status === 'done' || s.status === 'failed' || s.status === 'stopped' ? s.endedAt : null,
      metricKeys: s.metricKeys,
    });
    if (imported > 0) {
      await dst.appendLog(dstRunId, [{ time: Date.now(), level: 'info', message: `collected rounds ${from + 1}-${s.episodesDone} from ${remote} (host ${s.host})` }]);
    }
    return imported;
  } finally {
    await src.close();
  }
}
