/**
 * A sweep's final results by swept values, for reports: for one or two swept keys, each
 * value (or pair of values) with the mean over seeds of each run's final-10% mean of one
 * metric, drawn as a heatmap table. Sweeps with more keys show their cells as the summary's
 * groups instead (one line per cell in the charts).
 */
export interface SweepGrid {
  key: string;
  rowKey: string;
  colKey: string | null;
  rows: string[];
  cols: string[];
  /** mean[r][c] over the seeds of that cell; null where no run of the cell has a value. */
  mean: (number | null)[][];
  n: number[][];
}

const show = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v));

/** Null unless the runs swept one or two keys. */
export function sweepGrid(
  runs: { values: Record<string, unknown> | null; summary: Record<string, number | null> | null }[],
  key: string,
): SweepGrid | null {
  const withValues = runs.filter((r) => r.values && Object.keys(r.values).length > 0);
  if (withValues.length === 0) return null;
  const keys = Object.keys(withValues[0].values!);
  if (keys.length < 1 || keys.length > 2) return null;
  const [rowKey, colKey = null] = keys;
  const rows: string[] = [];
  const cols: string[] = [];
  for (const r of withValues) {
    const rv = show(r.values![rowKey]);
    if (!rows.includes(rv)) rows.push(rv);
    if (colKey) {
      const cv = show(r.values![colKey]);
      if (!cols.includes(cv)) cols.push(cv);
    }
  }
  if (!colKey) cols.push(key);
  const sum = rows.map(() => cols.map(() => 0));
  const n = rows.map(() => cols.map(() => 0));
  for (const r of withValues) {
    const v = r.summary?.[key];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const i = rows.indexOf(show(r.values![rowKey]));
    const j = colKey ? cols.indexOf(show(r.values![colKey])) : 0;
    sum[i][j] += v;
    n[i][j]++;
  }
  return { key, rowKey, colKey, rows, cols, mean: sum.map((row, i) => row.map((s, j) => (n[i][j] > 0 ? s / n[i][j] : null))), n };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The grid as an HTML table shaded from the lowest (white) to the highest (blue) mean. */
export function sweepGridHtml(g: SweepGrid, fmtNum: (v: number | null) => string): string {
  const vals = g.mean.flat().filter((v): v is number => v !== null);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const shade = (v: number | null) => {
    if (v === null || !(hi > lo)) return '';
    const t = (v - lo) / (hi - lo);
    return ` style="background:rgba(46,106,196,${(0.08 + 0.6 * t).toFixed(3)})"`;
  };
  const head = `<tr><th>${esc(g.rowKey)}${g.colKey ? ` \\ ${esc(g.colKey)}` : ''}</th>${g.cols.map((c) => `<th class="num">${esc(c)}</th>`).join('')}</tr>`;
  const body = g.rows
    .map((r, i) => `<tr><td>${esc(r)}</td>${g.mean[i].map((v, j) => `<td class="num"${shade(v)}>${fmtNum(v)}<span class="note"> (n=${g.n[i][j]})</span></td>`).join('')}</tr>`)
    .join('');
  return (
    `<h2 id="sweep">By swept values</h2><table class="sweep-grid">${head}${body}</table>` +
    `<p class="note">Mean over seeds of each run's final-10% mean of <code>${esc(g.key)}</code>; darker is higher.</p>`
  );
}
