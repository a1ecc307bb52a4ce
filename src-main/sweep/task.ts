/**
 * One array task of a cluster sweep (`cairn sweep task DIR INDEX`, run by job.sh on a compute
 * node): train the task's (config, seed) and publish its run file on the shared filesystem.
 *
 * The working database is on node-local disk (SQLite's WAL and locks are not safe over NFS);
 * checkpoints are written straight to the sweep folder. After each new checkpoint, and at the
 * end, the working database is copied whole (VACUUM INTO) to a temporary name in runs/ and
 * renamed over runs/task-<i>.db, so readers only ever see complete files. A requeued task
 * (preempted, timed out, `scontrol requeue`) starts from the published file and resumes from
 * its newest checkpoint; rounds after that checkpoint are recomputed identically.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendChoice } from '../backend/select';
import { Store } from '../db/store';
import { Runner, type RunnerEvent } from '../runner/runner';
import { layout, parseSweepFile, type TaskStatus } from './folder';
import { taskOrigin } from '../service/sweep';

export interface TaskOptions {
  dir: string;
  index: number;
  backend?: BackendChoice;
  /** Seconds between looks for a new checkpoint to publish. */
  publishEverySec?: number;
  log?: (line: string) => void;
}

export async function runTask(opts: TaskOptions): Promise<TaskStatus['status']> {
  const L = layout(path.resolve(opts.dir));
  const log = opts.log ?? ((l: string) => process.stderr.write(`cairn task ${opts.index}: ${l}\n`));
  const sweep = parseSweepFile(fs.readFileSync(L.sweepJson, 'utf8'), L.sweepJson);
  const run = sweep.runs[opts.index];
  if (!run) throw new Error(`task ${opts.index}: the sweep has tasks 0..${sweep.runs.length - 1}`);
  const cell = sweep.cells[run.cell];
  const jobId = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${opts.index}` : (process.env.SLURM_JOB_ID ?? null);

  const work = fs.mkdtempSync(path.join(process.env.SLURM_TMPDIR ?? process.env.TMPDIR ?? os.tmpdir(), `cairn-task-${opts.index}-`));
  const workDb = path.join(work, 'run.db');
  fs.mkdirSync(L.runsDir, { recursive: true });
  const published = L.runFile(opts.index);
  const resuming = fs.existsSync(published);
  if (resuming) fs.copyFileSync(published, workDb);

  const store = await Store.open(workDb);
  let runId: number;
  let publishedRound = 0;
  let lastRound = 0;
  let statusNow: TaskStatus['status'] = 'running';
  let errorNow: string | null = null;
  const total = Number(cell.config.train.episodes);

  const writeStatus = () => {
    const s: TaskStatus = {
      task: opts.index,
      status: statusNow,
      round: lastRound,
      total,
      publishedRound,
      host: os.hostname(),
      jobId,
      error: errorNow,
      updatedAt: new Date().toISOString(),
    };
    const tmp = `${L.statusFile(opts.index)}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(s) + '\n');
    fs.renameSync(tmp, L.statusFile(opts.index));
  };
  let publishing: Promise<void> = Promise.resolve();
  const publish = (round: number) => {
    publishing = publishing.then(async () => {
      const tmp = `${published}.tmp-${process.pid}`;
      fs.rmSync(tmp, { force: true });
      await store.snapshotTo(tmp);
      fs.renameSync(tmp, published);
      publishedRound = round;
      writeStatus();
    });
    return publishing;
  };

  try {
    const existing = resuming ? (await store.listRuns({})).rows[0] : undefined;
    if (existing) {
      runId = existing.id;
      if (existing.status === 'done') {
        log('already done; nothing to do');
        lastRound = publishedRound = existing.episodesDone;
        statusNow = 'done';
        writeStatus();
        return 'done';
      }
      // This task owns its file: whatever process wrote "running" into it is gone.
      await store.updateRun(runId, { status: 'stopped', runnerPid: null });
    } else {
      const experimentId = await store.createExperiment({ name: sweep.name, preset: sweep.experimentPreset });
      runId = await store.createRun({
        experimentId,
        name: `${sweep.cells.length > 1 ? cell.label : sweep.name} s${run.seed}`,
        preset: cell.preset,
        config: cell.config,
        seed: run.seed,
        episodesTotal: total,
        host: os.hostname(),
        metricKeys: cell.metricKeys,
        metricSpecs: cell.metricSpecs,
        variant: sweep.cells.length > 1 ? cell.label : null,
      });
      await store.setRunOrigin(runId, taskOrigin(sweep.uid, opts.index), cell.values);
    }

    const runner = new Runner({ store, backend: opts.backend, maxParallel: 1, checkpointBase: L.checkpointBase(opts.index) });
    runner.on('event', (e: RunnerEvent) => {
      if (e.type === 'progress') lastRound = e.round;
    });
    if (existing) {
      const { fromRound } = await runner.resume(runId);
      log(`resuming from round ${fromRound} (job ${jobId ?? 'none'}, host ${os.hostname()})`);
      publishedRound = fromRound;
      lastRound = fromRound;
    } else {
      runner.enqueue(runId);
      log(`starting (job ${jobId ?? 'none'}, host ${os.hostname()})`);
    }
    writeStatus();

    // Slurm sends SIGTERM before killing a preempted, timed-out, cancelled or requeued task:
    // the run checkpoints after its current round and the file is published as stopped.
    const onSig = () => {
      log('signal received: checkpointing and publishing');
      void runner.shutdown();
    };
    process.on('SIGTERM', onSig);
    process.on('SIGINT', onSig);
    const timer = setInterval(() => {
      void (async () => {
        const ck = await store.latestCheckpoint(runId);
        if (ck && ck.episode > publishedRound) await publish(ck.episode);
        else writeStatus();
      })().catch((e: unknown) => log(`publish failed (retried): ${String(e)}`));
    }, (opts.publishEverySec ?? 2) * 1000);
    await runner.idle();
    clearInterval(timer);
    runner.close();
    process.off('SIGTERM', onSig);
    process.off('SIGINT', onSig);
    await publishing;
    const end = (await store.getRun(runId))!;
    statusNow = end.status === 'done' ? 'done' : end.status === 'failed' ? 'failed' : 'stopped';
    errorNow = end.error;
    lastRound = end.episodesDone;
    await publish(end.episodesDone);
    log(`${statusNow} at round ${end.episodesDone} of ${total}${end.error ? `: ${end.error}` : ''}`);
    return statusNow;
  } finally {
    await store.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
