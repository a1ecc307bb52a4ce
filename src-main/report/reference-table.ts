/**
 * A reproduction's paper table (`Repro.reference`) filled with our numbers: per cell, the mean
 * and std over seeds of the runs' summaries (each run's metric mean over its last 10% of
 * rounds) of the cell's variant, printed next to the paper's value. Rendered as HTML (a section
 * added to the reproduction's report) and as plain text (the CLI prints it).
 */
import type { ReferenceTable } from '../../src-shared/config/repro';
import { escapeXml } from './svg';
import { fmtNum } from './html';

export interface RunSummary {
  readonly variant: string | null;
  readonly status: string;
  readonly summary: Record<string, number | null> | null;
}

export interface FilledCell {
  readonly paper: number | null;
  readonly paperStd?: number;
  /** Ours: mean and std over seeds (null without a finished run that has the metric). */
  readonly mean: number | null;
  readonly std: number | null;
  readonly n: number;
}

export interface FilledTable {
  readonly table: ReferenceTable;
  readonly rows: readonly { readonly label: string; readonly cells: readonly (FilledCell | null)[] }[];
}

/** Fill the table from the runs of one reproduction (failed and stopped runs count nowhere). */
export function fillReferenceTable(table: ReferenceTable, runs: readonly RunSummary[]): FilledTable {
  return {
    table,
    rows: table.rows.map((row) => ({
      label: row.label,
      cells: row.cells.map((c) => {
        if (!c) return null;
        const scale = c.scale ?? 1;
        const xs = runs
          .filter((r) => r.status === 'done' && r.variant === c.variant)
          .map((r) => r.summary?.[c.key])
          .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
          .map((v) => v * scale);
        const mean = xs.length > 0 ? xs.reduce((s, v) => s + v, 0) / xs.length : null;
        // Sample std across seeds (n - 1), 0 for a single seed.
        const std = mean === null ? null : xs.length > 1 ? Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1)) : 0;
        return { paper: c.paper, ...(c.paperStd === undefined ? {} : { paperStd: c.paperStd }), mean, std, n: xs.length };
      }),
    })),
  };
}

function ours(c: FilledCell): string {
  return c.mean === null ? '–' : `${fmtNum(c.mean)} (${fmtNum(c.std)})`;
}

function paper(c: FilledCell): string {
  return c.paper === null ? '–' : c.paperStd === undefined ? fmtNum(c.paper) : `${fmtNum(c.paper)} (${fmtNum(c.paperStd)})`;
}

/** An HTML section: one row per method, each column "ours mean (std)" over "paper". */
export function referenceTableHtml(f: FilledTable): string {
  const t = f.table;
  const out: string[] = [];
  out.push(`<section class="reference-table"><h2>${escapeXml(t.caption)}: ours vs the paper</h2>`);
  out.push('<table><thead><tr><th>method</th>');
  for (const c of t.columns) out.push(`<th>${escapeXml(c)}<br><small>ours mean (std over seeds) / paper</small></th>`);
  out.push('</tr></thead><tbody>');
  for (const r of f.rows) {
    out.push(`<tr><th>${escapeXml(r.label)}</th>`);
    for (const c of r.cells) out.push(c ? `<td>${escapeXml(ours(c))} <small>(n=${c.n})</small><br>${escapeXml(paper(c))}</td>` : '<td>–</td>');
    out.push('</tr>');
  }
  out.push('</tbody></table>');
  if (t.note) out.push(`<p>${escapeXml(t.note)}</p>`);
  out.push('</section>');
  return out.join('');
}

/** Plain text, aligned columns: "ours mean (std) | paper" per cell. */
export function referenceTableText(f: FilledTable): string {
  const t = f.table;
  const header = ['method', ...t.columns.map((c) => `${c} ours (std) | paper`)];
  const body = f.rows.map((r) => [r.label, ...r.cells.map((c) => (c ? `${ours(c)} | ${paper(c)}` : '–'))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [t.caption, line(header), ...body.map(line), ...(t.note ? [t.note] : [])].join('\n') + '\n';
}

/** Insert the section into a report's HTML before its closing body tag. */
export function withReferenceSection(html: string, section: string): string {
  const i = html.lastIndexOf('</body>');
  return i < 0 ? html + section : html.slice(0, i) + section + html.slice(i);
}
