/**
 * The runner: a pool of worker processes, one per run, at most `maxParallel` at once.
 *
 * Owns the run lifecycle in the database (queued -> running -> done | stopped | failed) and is
 * the only writer of a run's metrics and episodes: worker messages are buffered and flushed
 * in batched transactions, then fanned out to subscribers (CLI progress bars, the UI's live
 * charts). A worker that throws or dies marks its own run failed and nothing else.
 * `cairn stop ID` from another process sets `stop_requested` in the database; the runner that
 * owns the run polls for it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Replay } from '../../src-shared/envs/types';
import { getAlgo } from '../../src-shared/registry';
import type { BackendChoice } from '../backend/select';
import type { Store } from '../db/store';
import { checkpointDir } from '../db/paths';
import type { EpisodeOut, MetricOut, ParentMessage, StartMessage, WorkerMessage } from './protocol';
import { chooseResumePoint, type ResumePoint } from './resume-point';
import { HEARTBEAT_MS, runnerAlive, selfIdentity, type RunnerIdentity } from './liveness';
import { decideUpdateThreads, loadAverage, ownLoadOf, threadsLogLine } from './update-threads';

export type RunStatus = 'queued' | 'running' | 'stopped' | 'done' | 'failed';

export type RunnerEvent =
  | { type: 'status'; runId: number; status: RunStatus; error?: string | null }
  | { type: 'progress'; runId: number; round: number; total: number; envSteps: number; latest: Record<string, number> }
  | { type: 'metrics'; runId: number; points: MetricOut[] }
  | { type: 'episodes'; runId: number; episodes: Omit<EpisodeOut, 'replay'>[] }
  | { type: 'live'; runId: number; round: number; replay: Replay };

export interface RunnerOptions {
  store: Store;
  /** Concurrent runs; default: number of cores. */
  maxParallel?: number;
  backend?: BackendChoice;
  /** How often to look for stop requests made by other processes. */
  pollMs?: number;
  /** Worker entry (a .ts run through tsx, or a built .js). */
  workerFile?: string;
  /** Extra environment for workers (tests use it for fault injection). */
  workerEnv?: Record<string, string>;
  /**
   * Checkpoints go beside this database path instead of the store's file: a cluster task
   * keeps its working database on node-local disk and its checkpoints on the shared one.
   */
  checkpointBase?: string;
  /** Cores the `updateThreads: auto` choice counts (default os.availableParallelism(); tests set it). */
  cores?: number;
  /** The load average it reads (default os.loadavg()[0], none on Windows; tests set it). */
  loadAverage?: () => number | undefined;
}

interface Active {
  runId: number;
  child: ChildProcess;
  total: number;
  final?: 'done' | 'stopped';
  error?: string;
  stderr: string;
  /** Worker stderr lines not yet written to the run's log. */
  stderrLines: string[];
  metrics: MetricOut[];
  episodes: EpisodeOut[];
  round: number;
  envSteps: number;
  flushTimer?: NodeJS.Timeout;
  writing: Promise<void>;
  exited: Promise<void>;
  /**
   * A PPO learner's critic helper (algo.updateThreads): `auto` runs follow this runner's
   * decisions (update-threads.ts), fixed ones count as a busy core in them. `told`: the worker
   * has the current choice (a new run gets it in its start message).
   */
  threads?: { auto: boolean; current: 1 | 2; told: boolean; since: number };
  /** When its worker started (ms): its share of the load average grows from then. */
  startedMs: number;
}

const FLUSH_MS = 250;
const FLUSH_POINTS = 20_000;
/** How often `updateThreads: auto` is reconsidered for a changed load (runs starting and ending: at once). */
const THREADS_PLAN_MS = 30_000;

export class Runner extends EventEmitter {
  readonly maxParallel: number;
  private readonly store: Store;
  private readonly backend: BackendChoice;
  private readonly workerFile: string;
  private readonly workerEnv: Record<string, string>;
  private readonly checkpointBase: string | undefined;
  private readonly queue: { runId: number; resumeFrom?: string }[] = [];
  private readonly active = new Map<number, Active>();
  /** Runs taken off the queue whose worker is not registered yet (counted as busy). */
  private launching = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly poller: NodeJS.Timeout;
  private closed = false;
  private readonly self: RunnerIdentity = selfIdentity();
  private lastBeat = 0;
  /** Runs taken off the queue and not yet in `active`. */
  private readonly starting = new Set<number>();
  private readonly cores: number;
  private readonly loadAverage: () => number | undefined;
  private lastThreadsPlan = 0;

  constructor(opts: RunnerOptions) {
    super();
    this.store = opts.store;
    this.maxParallel = Math.max(1, opts.maxParallel ?? os.availableParallelism());
    this.backend = opts.backend ?? 'auto';
    this.workerFile = opts.workerFile ?? process.env.CAIRN_WORKER ?? fileURLToPath(new URL('./worker.ts', import.meta.url));
    this.workerEnv = opts.workerEnv ?? {};
    this.checkpointBase = opts.checkpointBase;
    this.cores = Math.max(1, opts.cores ?? os.availableParallelism());
    this.loadAverage = opts.loadAverage ?? (() => loadAverage(os.loadavg(), process.platform));
    this.poller = setInterval(() => void this.pollStops(), opts.pollMs ?? 500);
    this.poller.unref();
  }

  /** Queue a run already created in the store with status `queued`. */
  enqueue(runId: number, resumeFrom?: string): void {
    this.queue.push({ runId, resumeFrom });
    // Owned from now on: if this process dies before launching it, the run is found orphaned.
    void this.store
      .updateRun(runId, { runnerPid: this.self.pid, runnerHost: this.self.host, runnerStart: this.self.start, heartbeatAt: Date.now() })
      .catch(() => undefined);
    void this.pump();
  }

  /** Resume a stopped or failed run from its latest checkpoint (or from scratch if none). */
  async resume(runId: number): Promise<{ fromRound: number; checkpoint?: string; skipped: ResumePoint['skipped'] }> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunnerError(`run ${runId}: no such run`);
    if (this.active.has(runId) || this.queue.some((q) => q.runId === runId)) {
      throw new RunnerError(`run ${runId}: already running or queued here`);
    }
    if ((run.status === 'running' || run.status === 'queued') && run.runnerPid && runnerAlive(run)) {
      throw new RunnerError(`run ${runId}: is running in process ${run.runnerPid}; stop it first`);
    }
    if (run.status === 'done') throw new RunnerError(`run ${runId}: already done`);
    // Choose before deleting anything: a damaged file throws here and leaves the run as it was.
    const { checkpoint: ckpt, skipped } = await chooseResumePoint(this.store, runId);
    const fromRound = ckpt?.episode ?? 0;
    for (const s of skipped) await this.log(runId, 'warn', `skipping ${s.why}`);
    // Rows written after the checkpoint (a crash between checkpoints) are recomputed
    // identically from it; drop them so the series has no duplicate rounds.
    const removed = await this.store.truncateAfter(runId, fromRound);
    await this.log(
      runId,
      'info',
      `resume requested from ${ckpt ? `checkpoint ${ckpt.path} (round ${fromRound})` : 'the start (no checkpoint)'}` +
        (removed.metrics + removed.episodes > 0
          ? `: ${removed.metrics} metric points and ${removed.episodes} episodes recorded after that checkpoint are recomputed`
          : ''),
    );
    await this.store.updateRun(runId, {
      status: 'queued',
      error: null,
      stopRequested: false,
      episodesDone: fromRound,
      envSteps: ckpt?.envSteps ?? 0,
      endedAt: null,
    });
    this.emitEvent({ type: 'status', runId, status: 'queued' });
    this.enqueue(runId, ckpt?.path);
    return { fromRound, checkpoint: ckpt?.path, skipped };
  }

  /** Stop a run: queued runs stop at once; running ones checkpoint after the current round. */
  async stop(runId: number): Promise<void> {
    const qi = this.queue.findIndex((q) => q.runId === runId);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      await this.store.updateRun(runId, { status: 'stopped', endedAt: Date.now() });
      this.emitEvent({ type: 'status', runId, status: 'stopped' });
      this.notify();
      return;
    }
    const a = this.active.get(runId);
    if (a) {
      this.tell(a, { type: 'stop' });
      this.write(a, () => this.log(runId, 'info', 'stop requested: stopping after the current round'));
      return;
    }
    await this.store.updateRun(runId, { stopRequested: true });
  }

  isBusy(): boolean {
    return this.queue.length > 0 || this.active.size > 0 || this.launching > 0;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.isBusy()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stop everything (SIGINT): running runs checkpoint and end as stopped. */
  async shutdown(): Promise<void> {
    for (const q of this.queue.splice(0)) {
      await this.store.updateRun(q.runId, { status: 'stopped', endedAt: Date.now() });
    }
    for (const a of this.active.values()) this.tell(a, { type: 'stop' });
    await Promise.all([...this.active.values()].map((a) => a.exited));
    this.close();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poller);
  }

  override on(event: 'event', listener: (e: RunnerEvent) => void): this {
    return super.on(event, listener);
  }

  private emitEvent(e: RunnerEvent): void {
    this.emit('event', e);
  }

  private notify(): void {
    if (this.isBusy()) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.active.size + this.launching < this.maxParallel && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.launching++;
      this.starting.add(next.runId);
      try {
        await this.launch(next.runId, next.resumeFrom);
      } catch (err) {
        await this.store.updateRun(next.runId, {
          status: 'failed',
          error: err instanceof Error ? err.message : String(err),
          endedAt: Date.now(),
        });
        this.emitEvent({ type: 'status', runId: next.runId, status: 'failed', error: String(err) });
      } finally {
        this.launching--;
        this.starting.delete(next.runId);
      }
    }
    this.notify();
  }

  private async launch(runId: number, resumeFrom?: string): Promise<void> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunnerError(`run ${runId}: no such run`);
    const isTs = this.workerFile.endsWith('.ts');
    const child = fork(this.workerFile, [], {
      execArgv: isTs ? ['--import', import.meta.resolve('tsx')] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...this.workerEnv },
    });
    let onExit!: () => void;
    const a: Active = {
      runId,
      child,
      total: Number(run.config.train.episodes),
      stderr: '',
      stderrLines: [],
      metrics: [],
      episodes: [],
      round: run.episodesDone,
      envSteps: run.envSteps,
      writing: Promise.resolve(),
      exited: new Promise((r) => (onExit = r)),
      startedMs: Date.now(),
    };
    this.active.set(runId, a);
    child.stderr?.on('data', (d: Buffer) => {
      a.stderr = (a.stderr + d.toString()).slice(-4000);
      for (const line of d.toString().split('\n')) if (line.trim()) a.stderrLines.push(line);
      // A chatty worker must not grow memory without bound: keep the newest lines.
      if (a.stderrLines.length > 200) a.stderrLines.splice(0, a.stderrLines.length - 200);
    });
    child.on('message', (m) => this.onMessage(a, m as WorkerMessage));
    child.on('exit', (code, signal) => {
      void this.onExit(a, code, signal).finally(onExit);
    });
    await this.store.updateRun(runId, {
      status: 'running',
      runnerPid: this.self.pid,
      runnerHost: this.self.host,
      runnerStart: this.self.start,
      heartbeatAt: Date.now(),
      startedAt: run.startedAt ?? Date.now(),
      stopRequested: false,
    });
    this.emitEvent({ type: 'status', runId, status: 'running' });
    this.write(a, () =>
      this.log(runId, 'info', `worker process ${child.pid} started${resumeFrom ? `, resuming from ${resumeFrom}` : ''}`),
    );
    let opponent: StartMessage['opponent'];
    if (run.config.train.opponent === 'frozen') {
      const oid = Number(run.config.train.opponentRun);
      const o = await this.store.getRun(oid);
      // All of them: the worker picks train.opponentRound's, or the one a resume pinned.
      const checkpoints = o ? (await this.store.listCheckpoints(oid)).map((c) => ({ round: c.episode, path: c.path })) : [];
      opponent = o ? { runId: oid, found: true, config: o.config, checkpoints } : { runId: oid, found: false };
    }
    const algoValues = run.config.algo as Record<string, unknown>;
    const ut = algoValues.updateThreads;
    if (ut !== undefined && (getAlgo(String(run.config.algo.id))?.usesHelperThread?.(algoValues) ?? true)) {
      const auto = ut === 'auto';
      a.threads = { auto, current: auto ? 1 : Number(ut) === 2 ? 2 : 1, told: !auto, since: Date.now() };
      if (!auto) this.write(a, () => this.log(runId, 'info', threadsLogLine(a.threads!.current, `algo.updateThreads = ${ut}`)));
    }
    // Also reconsiders the other runs: one more run here may take a helper's core.
    this.planThreads();
    const start: StartMessage = {
      type: 'start',
      updateThreads: a.threads?.auto ? a.threads.current : undefined,
      opponent,
      runId,
      config: run.config,
      seed: run.seed,
      backend: this.backend,
      checkpointDir: checkpointDir(this.checkpointBase ?? this.store.file, runId),
      resumeFrom,
    };
    child.send(start);
    if (a.threads) a.threads.told = true;
  }

  /**
   * A message to a run's worker that may be exiting (done, or stopped right after its
   * checkpoint): a send on its closed channel would otherwise emit an unhandled 'error' on
   * the child and bring this process down. Nothing is lost: a worker that is gone needs no
   * stop, and its run's end is recorded by the exit handler.
   */
  private tell(a: Active, msg: ParentMessage): void {
    sendToWorker(a.child, msg);
  }

  /** Runs training at once here: live, starting, and queued ones that start as soon as a slot is free. */
  private liveRuns(): number {
    let starting = 0;
    for (const id of this.starting) if (!this.active.has(id)) starting++;
    return Math.min(this.maxParallel, this.active.size + starting + this.queue.length);
  }

  /**
   * `algo.updateThreads: auto`: (re)decide each such run's helper, earliest-launched first (a
   * run that has a helper is not outbid by a newer one), and tell the workers whose choice
   * changed; the choice and its reasons go to the run's log.
   */
  private planThreads(): void {
    this.lastThreadsPlan = Date.now();
    const runs = [...this.active.values()].filter((a) => a.threads && !a.final);
    if (!runs.some((a) => a.threads!.auto)) return;
    const load = this.loadAverage();
    const liveRuns = this.liveRuns();
    const now = Date.now();
    for (const a of runs) {
      const t = a.threads!;
      if (!t.auto) continue;
      const otherHelpers = runs.filter((b) => b !== a && b.threads!.current === 2).length;
      const ages = [...this.active.values()].map((b) => (now - b.startedMs) / 1000);
      for (const b of runs) if (b.threads!.current === 2) ages.push((now - b.threads!.since) / 1000);
      const c = decideUpdateThreads({ cores: this.cores, liveRuns, otherHelpers, load, ownLoad: ownLoadOf(ages), current: t.current });
      if (t.told && c.threads === t.current) continue;
      const first = !t.told;
      if (c.threads !== t.current) t.since = now;
      t.current = c.threads;
      const line = threadsLogLine(c.threads, c.why) + (first ? '' : ', from the next round');
      this.write(a, () => this.log(a.runId, 'info', line));
      if (first) continue; // the start message carries it
      this.tell(a, { type: 'threads', updateThreads: c.threads });
    }
  }

  private onMessage(a: Active, m: WorkerMessage): void {
    switch (m.type) {
      case 'started':
        this.write(a, () => this.store.updateRun(a.runId, { backend: m.backend, metricKeys: m.metricKeys, metricSpecs: m.metricSpecs }));
        this.write(a, () => this.log(a.runId, 'info', `training on the ${m.backend} backend from round ${m.round} of ${a.total}`));
        break;
      case 'round': {
        a.round = m.round;
        a.envSteps = m.envSteps;
        a.metrics.push(...m.metrics);
        a.episodes.push(...m.episodes);
        const latest: Record<string, number> = {};
        for (const p of m.metrics) latest[p.key] = p.value;
        this.emitEvent({ type: 'metrics', runId: a.runId, points: m.metrics });
        this.emitEvent({
          type: 'episodes',
          runId: a.runId,
          episodes: m.episodes.map(({ replay: _r, ...rest }) => rest),
        });
        this.emitEvent({ type: 'progress', runId: a.runId, round: m.round, total: a.total, envSteps: m.envSteps, latest });
        if (m.live) this.emitEvent({ type: 'live', runId: a.runId, round: m.round, replay: m.live });
        if (a.metrics.length >= FLUSH_POINTS) this.flush(a);
        else a.flushTimer ??= setTimeout(() => this.flush(a), FLUSH_MS);
        break;
      }
      case 'checkpoint':
        // Flush first so the database never holds a checkpoint newer than its rows.
        this.flush(a);
        this.write(a, () =>
          this.store.addCheckpoint({
            runId: a.runId,
            update: m.round,
            episode: m.round,
            envSteps: m.envSteps,
            path: m.path,
            bytes: m.bytes,
          }),
        );
        this.write(a, () => this.log(a.runId, 'info', `checkpoint at round ${m.round} (${(m.bytes / 1024).toFixed(0)} KiB)`));
        break;
      case 'done':
      case 'stopped':
        a.final = m.type;
        break;
      case 'log':
        this.write(a, () => this.log(a.runId, m.level, m.message));
        break;
      case 'error':
        a.error = m.message;
        a.stderr = (a.stderr + '\n' + (m.stack ?? '')).slice(-4000);
        break;
    }
  }

  /** Serialise this run's DB writes; a write error fails the run rather than the process. */
  private write(a: Active, fn: () => Promise<unknown>): void {
    a.writing = a.writing.then(fn).then(
      () => undefined,
      (err: unknown) => {
        a.error ??= `database write failed: ${err instanceof Error ? err.message : String(err)}`;
        a.child.kill('SIGKILL');
      },
    );
  }

  private flush(a: Active): void {
    if (a.flushTimer) clearTimeout(a.flushTimer);
    a.flushTimer = undefined;
    const metrics = a.metrics.splice(0);
    const episodes = a.episodes.splice(0);
    const stderr = a.stderrLines.splice(0);
    const round = a.round;
    const envSteps = a.envSteps;
    if (stderr.length > 0) {
      const time = Date.now();
      this.write(a, () => this.store.appendLog(a.runId, stderr.map((message) => ({ time, level: 'warn' as const, message }))));
    }
    if (metrics.length === 0 && episodes.length === 0) return;
    this.write(a, () => this.store.appendRound(a.runId, { metrics, episodes, progress: { episodesDone: round, envSteps } }));
  }

  private async onExit(a: Active, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.flush(a);
    await a.writing;
    let status: RunStatus;
    let error: string | null = null;
    if (a.final && !a.error) {
      status = a.final;
    } else {
      status = 'failed';
      error =
        a.error ??
        `worker exited ${signal ? `on signal ${signal}` : `with code ${code}`}` +
          (a.stderr.trim() ? `: ${a.stderr.trim().split('\n').slice(-3).join(' | ')}` : '');
    }
    try {
      await this.log(
        a.runId,
        status === 'failed' ? 'error' : 'info',
        status === 'failed' ? `failed at round ${a.round}: ${error}` : `${status} at round ${a.round} of ${a.total} (${a.envSteps} env steps)`,
      );
      const summary = await this.summary(a.runId);
      await this.store.updateRun(a.runId, {
        status,
        error,
        summary,
        endedAt: Date.now(),
        runnerPid: null,
        heartbeatAt: null,
        stopRequested: false,
      });
    } catch (err) {
      error = `${error ?? ''} (could not record the end: ${String(err)})`;
    }
    // Only now is the run no longer busy: idle() must not resolve before its end is recorded.
    this.active.delete(a.runId);
    // Its core (and any helper) are free: a remaining run may take a helper.
    this.planThreads();
    this.emitEvent({ type: 'status', runId: a.runId, status, error });
    void this.pump();
  }

  /** Mean of every episode metric over the last 10% of rounds (at least one round). */
  async summary(runId: number): Promise<Record<string, number | null>> {
    const run = await this.store.getRun(runId);
    if (!run || run.episodesDone === 0) return {};
    const fromRound = Math.floor(run.episodesDone * 0.9) + 1;
    const rows = await this.store.listEpisodes(runId, { fromRound });
    const out: Record<string, number | null> = {};
    run.metricKeys.forEach((key, i) => {
      let s = 0;
      let n = 0;
      for (const r of rows) {
        const v = r.values[i];
        if (v !== null && v !== undefined) {
          s += v;
          n++;
        }
      }
      out[key] = n > 0 ? s / n : null;
    });
    return out;
  }

  /** One line in the run's log; a log write never fails a run. */
  private async log(runId: number, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    try {
      await this.store.appendLog(runId, [{ time: Date.now(), level, message }]);
    } catch {
      // The log is a convenience: a busy or closed database must not fail the run over it.
    }
  }

  private async pollStops(): Promise<void> {
    const now = Date.now();
    if (now - this.lastThreadsPlan >= THREADS_PLAN_MS) this.planThreads();
    if (now - this.lastBeat >= HEARTBEAT_MS) {
      this.lastBeat = now;
      for (const id of [...this.active.keys(), ...this.queue.map((q) => q.runId)]) {
        // A missed beat is retried on the next tick; staleness is judged over minutes.
        await this.store.updateRun(id, { heartbeatAt: now }).catch(() => undefined);
      }
    }
    for (const q of [...this.queue]) {
      try {
        const run = await this.store.getRun(q.runId);
        if (run?.stopRequested) await this.stop(q.runId);
      } catch {
        // retried on the next tick
      }
    }
    for (const a of this.active.values()) {
      try {
        const run = await this.store.getRun(a.runId);
        if (run?.stopRequested) this.tell(a, { type: 'stop' });
      } catch {
        // A busy database this tick is retried on the next one.
      }
    }
  }
}

/**
 * Send unless the channel has closed (see Runner.tell); with a callback, a channel closed
 * between the check and the send reports to it instead of emitting 'error'. Returns whether
 * the message was handed to the channel.
 */
export function sendToWorker(child: ChildProcess, msg: ParentMessage): boolean {
  if (!child.connected) return false;
  return child.send(msg, () => undefined);
}

export class RunnerError extends Error {
  override name = 'RunnerError';
}
