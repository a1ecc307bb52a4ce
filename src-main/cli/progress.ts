/**
 * Progress display for runs: one bar per run redrawn in place on a terminal; on a pipe or in
 * CI, a plain line per run at every 10% so logs stay short.
 */
import type { RunnerEvent } from '../runner/runner';

interface Line {
  runId: number;
  seed: number;
  round: number;
  total: number;
  status: string;
  envSteps: number;
  startedAt: number;
  startRound: number;
  latest: Record<string, number>;
  lastDecile: number;
  /** Metrics shown on the line: the run's headline metrics, then the actor loss. */
  highlight: readonly string[];
}

/** A learner statistic worth watching whatever the env (CleanRL-style namespaced key). */
const LEARNER_HIGHLIGHT = 'losses/actor';
/** Env headline metrics shown per line, at most (a terminal line has room for a few). */
const MAX_ENV_HIGHLIGHTS = 2;

export class Progress {
  private readonly lines = new Map<number, Line>();
  private drawn = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY) && !process.env.CI;
  }

  /** `headline`: the run's headline metric keys (its env's declarations), most important first. */
  add(runId: number, seed: number, total: number, round = 0, headline: readonly string[] = []): void {
    this.lines.set(runId, {
      runId,
      seed,
      round,
      total,
      status: 'queued',
      envSteps: 0,
      startedAt: Date.now(),
      startRound: round,
      latest: {},
      lastDecile: Math.floor((10 * round) / total),
      highlight: [...headline.slice(0, MAX_ENV_HIGHLIGHTS), LEARNER_HIGHLIGHT],
    });
    this.draw(true);
  }

  on(e: RunnerEvent): void {
    const l = this.lines.get(e.runId);
    if (!l) return;
    if (e.type === 'status') {
      l.status = e.status;
      if (e.status === 'running') l.startedAt = Date.now();
      if (!this.tty && e.status !== 'running') this.out.write(`${this.text(l)}${e.error ? `  ${e.error}` : ''}\n`);
      this.draw(true);
    } else if (e.type === 'progress') {
      l.round = e.round;
      l.envSteps = e.envSteps;
      Object.assign(l.latest, e.latest);
      const decile = Math.floor((10 * e.round) / e.total);
      if (!this.tty && decile > l.lastDecile && e.round < e.total) {
        l.lastDecile = decile;
        this.out.write(this.text(l) + '\n');
      }
      this.draw(false);
    }
  }

  finish(): void {
    this.draw(true);
  }

  private text(l: Line): string {
    const frac = l.total > 0 ? l.round / l.total : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const secs = (Date.now() - l.startedAt) / 1000;
    const rate = secs > 0 ? (l.round - l.startRound) / secs : 0;
    const eta = rate > 0 && l.round < l.total ? ` eta ${fmtDuration((l.total - l.round) / rate)}` : '';
    const stats = l.highlight
      .filter((k) => k in l.latest)
      .map((k) => `${k.replace('losses/', '')} ${l.latest[k].toFixed(3)}`)
      .join('  ');
    return `run ${l.runId} seed ${l.seed} [${bar}] ${l.round}/${l.total} ${(frac * 100).toFixed(0)}% ${l.status}${eta}  ${stats}`;
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of this.lines.values()) s += `\x1b[2K${this.text(l).slice(0, (this.out.columns ?? 120) - 1)}\n`;
    this.drawn = this.lines.size;
    this.out.write(s);
  }
}

export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
