/**
 * A run's estimated wall time from this machine's bench figures (`npm run bench` stores each
 * learner's training throughput on its env). No figure for the (learner, env) pair: no
 * estimate, and the form says so rather than guessing from another learner or env.
 *
 * The bench trains B_bench = 32 copies; a round's time is taken to grow linearly with the
 * number of copies (a conservative choice: batching makes larger B cheaper per copy, so the
 * estimate errs long for B > 32), and runs share the worker pool, `maxParallel` at a time.
 */

export interface BenchFigure {
  algo: string;
  env: string;
  /** The preset the bench trained (its env config). */
  preset: string;
  backend: string;
  envStepsPerSecond: number;
  roundsPerSecond: number;
  /** Parallel copies the bench trained (B). */
  numEnvs: number;
  /** Epoch ms. */
  measuredAt: number;
}

export interface BenchFigures {
  /** Where the figures are kept (shown so a user can find or delete them). */
  file: string;
  figures: BenchFigure[];
}

export type RunEstimate =
  | { ok: true; seconds: number; perRunSeconds: number; basis: string; figure: BenchFigure }
  | { ok: false; reason: string };

export interface EstimateInput {
  algo: string;
  env: string;
  rounds: number;
  numEnvs: number;
  runs: number;
  maxParallel: number;
  /** The host's backend; a figure from it is preferred. */
  backend?: string;
}

/** The newest figure for the pair, from the host's backend when there is one. */
export function pickFigure(figures: readonly BenchFigure[], algo: string, env: string, backend?: string): BenchFigure | undefined {
  const pair = figures.filter((f) => f.algo === algo && f.env === env && f.roundsPerSecond > 0);
  const same = backend ? pair.filter((f) => f.backend === backend) : [];
  return (same.length ? same : pair).sort((a, b) => b.measuredAt - a.measuredAt)[0];
}

export function estimateRun(figures: readonly BenchFigure[], q: EstimateInput): RunEstimate {
  const f = pickFigure(figures, q.algo, q.env, q.backend);
  if (!f) return { ok: false, reason: `no bench figures for ${q.algo} on ${q.env} on this machine: \`npm run bench\` measures each learner on its default env` };
  const roundSeconds = (1 / f.roundsPerSecond) * (q.numEnvs / f.numEnvs);
  const perRunSeconds = q.rounds * roundSeconds;
  const waves = Math.ceil(q.runs / Math.max(1, q.maxParallel));
  const backendNote = q.backend && f.backend !== q.backend ? `, measured on ${f.backend}, not this host's ${q.backend}` : '';
  return {
    ok: true,
    seconds: perRunSeconds * waves,
    perRunSeconds,
    figure: f,
    basis:
      `bench: ${f.algo} on ${f.preset}, ${Math.round(f.envStepsPerSecond).toLocaleString('en-US')} env-steps/s at ${f.numEnvs} envs${backendNote}; ` +
      `time per round taken linear in envs; ${q.runs} run${q.runs === 1 ? '' : 's'}, ${Math.min(q.runs, Math.max(1, q.maxParallel))} at a time`,
  };
}
