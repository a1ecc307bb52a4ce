/**
 * The verdict table of a reproduction that declares `outcome` (DRIMA's figures): per run, what
 * it ended at (an equilibrium, a group reward) and whether that is the figure's target, then
 * per variant how many seeds reached it. The CLI prints the lines; the HTML section goes into
 * the reproduction's report, before its end.
 */
import type { Repro } from '../../src-shared/config/repro';
import type { RunRow } from '../db/types';

export interface OutcomeRow {
  readonly variant: string;
  readonly seed: number;
  readonly status: string;
  readonly label: string;
  readonly reached: boolean | null;
}

export function outcomeRows(rep: Repro, runs: readonly RunRow[]): OutcomeRow[] {
  const judge = rep.outcome;
  if (!judge) return [];
  return runs.map((r) => {
    const final: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.summary ?? {})) if (typeof v === 'number') final[k] = v;
    const done = r.status === 'done' && Object.keys(final).length > 0;
    const o = done ? judge(r.config.env, final) : null;
    return { variant: r.variant ?? '', seed: r.seed, status: r.status, label: o ? o.label : r.status, reached: o ? o.reached : null };
  });
}

/** Per variant, in first-seen order: seeds that reached the target out of those judged. */
export function outcomeTally(rows: readonly OutcomeRow[]): { variant: string; reached: number; judged: number; labels: string[] }[] {
  const out = new Map<string, { variant: string; reached: number; judged: number; labels: string[] }>();
  for (const r of rows) {
    let t = out.get(r.variant);
    if (!t) out.set(r.variant, (t = { variant: r.variant, reached: 0, judged: 0, labels: [] }));
    t.labels.push(`seed ${r.seed}: ${r.label}`);
    if (r.reached === null) continue;
    t.judged++;
    if (r.reached) t.reached++;
  }
  return [...out.values()];
}

export function outcomeLines(rows: readonly OutcomeRow[]): string[] {
  return outcomeTally(rows).map((t) => `${t.variant}: target reached in ${t.reached}/${t.judged} seeds (${t.labels.join('; ')})`);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function outcomeHtml(rep: Repro, rows: readonly OutcomeRow[]): string {
  if (rows.length === 0) return '';
  const tally = outcomeTally(rows)
    .map((t) => `<tr><td>${esc(t.variant)}</td><td>${t.reached} / ${t.judged}</td><td>${t.labels.map(esc).join('<br>')}</td></tr>`)
    .join('');
  return `<section class="repro-outcome" id="outcome"><h2>Where each run ended (${esc(rep.figure)})</h2>
<p>Judged on the last 10% of rounds. Matrix games: the joint action every player plays on more than 80% of the steps (else mixed), and whether it is the cooperative optimum; particle tasks: the final group reward, and whether it is positive.</p>
<table><thead><tr><th>variant</th><th>target reached</th><th>per seed</th></tr></thead><tbody>${tally}</tbody></table></section>`;
}

/** The report's HTML with the section inserted before `</body>` (appended when there is none). */
export function withOutcomeSection(html: string, section: string): string {
  if (!section) return html;
  const at = html.lastIndexOf('</body>');
  return at < 0 ? html + section : html.slice(0, at) + section + html.slice(at);
}
