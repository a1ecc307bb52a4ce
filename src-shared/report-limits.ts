/**
 * Caps of the requests that aggregate runs (`compare`, `exportReport`), shared by the hosts,
 * the CLI and the UI so all three refuse the same requests with the same words.
 *
 * Why caps: every charted metric of a report runs a seeded bootstrap (10,000 resamples of the
 * summary plus 1,000 of the band) per group, and every run is read whole; an unbounded list
 * of ids or keys lets one request occupy the host for minutes. The numbers are far above what
 * a researcher charts (a figure of the hidden-gifts paper has 4 variants x 10 seeds and 3
 * metrics): 500 runs matches what `compare` already accepted; 50 experiments covers a sweep
 * of sweeps; 12 metrics is more than any report can lay out legibly.
 *
 * Duplicates are removed (first occurrence kept) before counting: a duplicate id would
 * otherwise be read twice and counted as an extra seed in the bands and confidence intervals.
 */
export const REPORT_LIMITS = {
  /** Run ids of a comparison or a compare report, and runs of a report after expanding experiments. */
  runs: 500,
  /** Experiment ids of an experiment report. */
  experiments: 50,
  /** Metric keys charted in one report. */
  keys: 12,
} as const;

/** The values without repeats, in first-seen order. */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** A request over the caps: the field, the cap and what was sent, in one sentence. */
export interface LimitProblem {
  field: string;
  /** What is wrong, without the field. */
  detail: string;
  /** `field: detail`. */
  message: string;
}

function problem(field: string, detail: string): LimitProblem {
  return { field, detail, message: `${field}: ${detail}` };
}

function over(field: string, what: string, cap: number, sent: number): LimitProblem {
  return problem(field, `at most ${cap} ${what} (sent ${sent} distinct)`);
}

/** The problem with a report request's ids and keys (after removing duplicates), or null. */
export function reportLimitProblem(req: { kind: 'run' | 'experiment' | 'compare'; ids: readonly unknown[]; keys?: readonly unknown[] | null }): LimitProblem | null {
  const ids = unique(req.ids).length;
  if (req.kind === 'experiment' && ids > REPORT_LIMITS.experiments) return over('ids', 'experiments per report', REPORT_LIMITS.experiments, ids);
  if (req.kind === 'compare' && ids > REPORT_LIMITS.runs) return over('ids', 'runs per report', REPORT_LIMITS.runs, ids);
  return keysProblem('keys', req.keys);
}

/** The problem with a list of metric keys (`field` names it: `keys`, or `--key` on the CLI), or null. */
export function keysProblem(field: string, keys: readonly unknown[] | null | undefined): LimitProblem | null {
  const n = keys ? unique(keys).length : 0;
  return n > REPORT_LIMITS.keys ? over(field, 'metrics per report', REPORT_LIMITS.keys, n) : null;
}

/** The problem with the runs a report covers once its experiments are expanded, or null. */
export function reportRunsProblem(runs: number): LimitProblem | null {
  return runs > REPORT_LIMITS.runs ? problem('ids', `at most ${REPORT_LIMITS.runs} runs per report (these experiments hold ${runs})`) : null;
}

/** The problem with a comparison's run ids (after removing duplicates), or null. */
export function compareLimitProblem(runIds: readonly unknown[]): LimitProblem | null {
  const n = unique(runIds).length;
  return n > REPORT_LIMITS.runs ? over('runIds', 'runs per comparison', REPORT_LIMITS.runs, n) : null;
}
