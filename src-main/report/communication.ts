/**
 * Communication cost of the decentralised learners (F2A2 spec §2.7 and §6.6: "F2A2 needs one
 * tenth of the transmissions of MA-AC"). Every learner that communicates reports cumulative
 * scalars sent: F2A2's instantiations `consensus/scalars` (messages x shared parameters), MA-AC
 * `comm/total_scalars` (its critic consensus plus the joint-action messages of every env step).
 * The spec's ratio is taken at equal env steps. A reproduction runs every variant for the same
 * rounds of the same copies, so each run's last point is at the same env steps, and the table
 * divides scalars per env step there (mean over seeds). Per step rather than totals so that a
 * seed that stopped early still counts: after warm-up both counters grow linearly (the paper's
 * 4 update iterations per 100 env steps, after the same 1024 stored transitions), though a short
 * run's rate is lowered by the warm-up it spent sending nothing.
 */
import type { MetricSeries } from '../db/types';
import { escapeXml } from './svg';
import { fmtNum } from './html';

/** What a run reports as its cumulative scalars sent, in order of preference. */
export const COMM_KEYS = ['comm/total_scalars', 'consensus/scalars'] as const;

export interface CommPoint {
  /** Cumulative scalars sent at the run's last point. */
  readonly scalars: number;
  /** Env steps at that point. */
  readonly steps: number;
}

/** The last point of a cumulative counter; null for an empty series or one at step 0. */
export function commPoint(series: MetricSeries): CommPoint | null {
  const n = series.value.length;
  if (n === 0 || !(series.step[n - 1] > 0)) return null;
  return { scalars: series.value[n - 1], steps: series.step[n - 1] };
}

export interface CommRow {
  readonly variant: string;
  /** Per finished seed. */
  readonly runs: readonly CommPoint[];
}

/** Rows of one task, the first of them the baseline the ratios divide by. */
export interface CommGroup {
  readonly baseline: CommRow;
  readonly rows: readonly CommRow[];
}

function perStep(r: CommRow): number | null {
  if (r.runs.length === 0) return null;
  return r.runs.reduce((a, c) => a + c.scalars / c.steps, 0) / r.runs.length;
}

function lines(groups: readonly CommGroup[]): { variant: string; steps: number | null; rate: number | null; ratio: number | null; n: number }[] {
  const out = [];
  for (const g of groups) {
    const base = perStep(g.baseline);
    for (const r of [g.baseline, ...g.rows]) {
      const rate = perStep(r);
      const steps = r.runs.length ? r.runs.reduce((a, c) => a + c.steps, 0) / r.runs.length : null;
      out.push({ variant: r.variant, steps, rate, ratio: rate !== null && base ? rate / base : null, n: r.runs.length });
    }
  }
  return out;
}

const RULE = 'cumulative scalars sent (§2.7: messages x parameters per message, plus MA-AC\'s joint-action messages) per env step at the run\'s end, mean over seeds; ratio to the first row of each task';

export function communicationText(groups: readonly CommGroup[]): string {
  const rows = lines(groups);
  const w = Math.max(24, ...rows.map((r) => r.variant.length));
  const out = [`Communication cost (F2A2 §6.6; ${RULE})`, `${'variant'.padEnd(w)} ${'env steps'.padStart(10)} ${'scalars/step'.padStart(13)} ${'ratio'.padStart(7)} seeds`];
  for (const r of rows) out.push(`${r.variant.padEnd(w)} ${fmtNum(r.steps).padStart(10)} ${fmtNum(r.rate).padStart(13)} ${fmtNum(r.ratio).padStart(7)} ${r.n}`);
  return out.join('\n') + '\n';
}

export function communicationHtml(groups: readonly CommGroup[]): string {
  const body = lines(groups)
    .map((r) => `<tr><td>${escapeXml(r.variant)}</td><td>${fmtNum(r.steps)}</td><td>${fmtNum(r.rate)}</td><td>${fmtNum(r.ratio)}</td><td>${r.n}</td></tr>`)
    .join('');
  return (
    `<section class="communication"><h2>Communication cost</h2><p>F2A2 §6.6 claims one tenth of MA-AC's transmissions. Here: ${escapeXml(RULE)}.</p>` +
    `<table><thead><tr><th>variant</th><th>env steps</th><th>scalars per step</th><th>ratio</th><th>seeds</th></tr></thead><tbody>${body}</tbody></table></section>`
  );
}
