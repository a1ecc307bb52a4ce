/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external
 * requests; its own CSP forbids them) that opens offline years later: charts with 95% CI
 * bands, summary statistics with CIs, config tables, runs, and where/how the runs were made.
 */
import { successKeys, type ReportData } from './report';
import { escapeXml, lineChartSvg } from './svg';

const esc = escapeXml;

/** Numbers in tables: 4 significant digits, integers as they are; null/NaN as an en dash. */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(3);
  return String(+v.toPrecision(4));
}

export function fmtValue(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => fmtValue(x)).join(', ');
  if (typeof v === 'number') return fmtNum(v);
  if (v === null || v === undefined) return '–';
  return String(v);
}

function fmtDate(t: number | null | undefined): string {
  if (!t) return '–';
  return new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** Start times in the runs table: minutes are enough, and one line (the PDF wrapped seconds + zone onto four). */
function fmtStarted(t: number | null | undefined): string {
  if (!t) return '–';
  return new Date(t).toISOString().replace('T', ' ').slice(0, 16);
}

function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const X_LABEL = { episode: 'training rounds (episodes per env copy)', step: 'environment steps', wall: 'wall time (s)' } as const;

/** A table; columns listed in `num` are right-aligned numbers, those in `nowrap` never wrap. */
function table(head: string[], rows: string[][], cls = '', num: number[] = [], nowrap: number[] = []): string {
  const td = (i: number) => {
    const c = [num.includes(i) ? 'num' : '', nowrap.includes(i) ? 'nw' : ''].filter(Boolean).join(' ');
    return c ? `<td class="${c}">` : '<td>';
  };
  const th = (i: number) => (num.includes(i) ? '<th class="num">' : '<th>');
  return (
    `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h, i) => `${th(i)}${h}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `${td(i)}${c}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

function flatConfig(cfg: Record<string, unknown>): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const section of ['env', 'algo', 'train']) {
    const s = (cfg[section] ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(s)) out.push([`${section}.${k}`, v]);
  }
  return out;
}

export function renderHtml(d: ReportData): string {
  const css = `
    body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:980px;margin:24px auto;padding:0 16px;line-height:1.4}
    h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc;padding-bottom:3px}
    .sub{color:#555;font-size:13px} table{border-collapse:collapse;margin:8px 0 12px;font-size:12.5px}
    th,td{border-bottom:1px solid #ddd;padding:3px 9px;text-align:left;vertical-align:top}
    th{border-bottom:2px solid #888} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    figure{margin:12px 0 20px;page-break-inside:avoid} figcaption{font-size:12px;color:#444;margin-top:2px}
    .note{font-size:12px;color:#555} code{font-size:12px} td.nw{white-space:nowrap}
    table.runs{font-size:11px} table.runs th,table.runs td{padding:3px 6px}
    @media print{body{margin:0;max-width:none} h2{page-break-after:avoid}}`;

  const envs = [...new Set(d.runs.map((r) => r.envId))];
  const algos = [...new Set(d.runs.map((r) => r.algoId))];
  const backends = [...new Set(d.runs.map((r) => r.backend ?? 'not recorded'))];
  const hosts = [...new Set(d.runs.map((r) => r.host))];

  const out: string[] = [];
  out.push('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">');
  out.push(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
  );
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<meta name="generator" content="Cairn ${esc(d.host.version)}">`);
  out.push(`<title>${esc(d.title)}</title><style>${css}</style></head><body>`);
  out.push(`<h1>${esc(d.title)}</h1>`);
  out.push(
    `<div class="sub">${esc(d.kind === 'run' ? 'Run report' : d.kind === 'experiment' ? 'Experiment report' : 'Comparison report')} · ` +
      `${d.runs.length} run${d.runs.length === 1 ? '' : 's'} · ${esc(envs.join(', '))} · ${esc(algos.join(', '))} · generated ${esc(fmtDate(d.createdAt))} by Cairn ${esc(d.host.version)}</div>`,
  );

  // What the report shows, stated once: it matches the screen it was exported from.
  out.push(
    `<p class="note" id="shown">Metrics: ${d.charts.map((c) => `<code>${esc(c.key)}</code>`).join(', ') || 'none'}` +
      `${d.keysChosen ? ' (as chosen on screen)' : ' (the headline metrics)'}. Curves: ${esc(d.smoothing)}; summaries use the raw points. ` +
      `Start times in the runs table are UTC.</p>`,
  );

  // Summary statistics.
  out.push('<h2 id="summary">Summary</h2>');
  const sumRows: string[][] = [];
  for (const c of d.charts) {
    for (const s of c.result.summary) {
      sumRows.push([
        `<code>${esc(c.key)}</code>`,
        esc(s.label),
        String(s.n),
        fmtNum(s.mean),
        s.n > 1 ? `[${fmtNum(s.ciLo)}, ${fmtNum(s.ciHi)}]` : '–',
        fmtNum(s.iqm),
      ]);
    }
  }
  out.push(table(['Metric', 'Group', 'Seeds', 'Final-10% mean', '95% CI', 'IQM'], sumRows, 'summary', [2, 3, 4, 5]));
  out.push(
    `<p class="note">Per seed, the final-10% mean is the mean of the metric over the last 10% of its logged points. ` +
      `Across seeds: the mean, the interquartile mean (IQM, mean of the middle 50% with fractional weights at the quartiles, Agarwal et al. 2021) ` +
      `and a 95% percentile bootstrap confidence interval of the mean (${d.bootstrap.resamples} resamples, seed ${d.bootstrap.seed}).</p>`,
  );

  // Charts.
  out.push('<h2 id="charts">Learning curves</h2>');
  const successes = successKeys(d.runs);
  for (const c of d.charts) {
    const grouped = c.result.groups.some((g) => g.runIds.length > 1);
    const svg = lineChartSvg({
      title: c.key,
      xLabel: X_LABEL[c.x],
      yLabel: c.key,
      series: c.result.groups.map((g) => ({
        label: g.runIds.length > 1 ? `${g.label} (n=${g.runIds.length})` : g.label,
        x: g.x,
        y: g.mean,
        lo: g.runIds.length > 1 ? g.lo : undefined,
        hi: g.runIds.length > 1 ? g.hi : undefined,
      })),
    });
    out.push(
      `<figure>${svg}<figcaption><code>${esc(c.key)}</code> against ${esc(X_LABEL[c.x])}` +
        (grouped ? '; lines: mean over seeds, shaded: 95% bootstrap CI over seeds' : '') +
        `; ${esc(d.smoothing)}.` +
        '</figcaption></figure>',
    );
    // As the hidden-gifts paper's Fig. 6c: how much seeds disagree on the success measure.
    if (grouped && successes.has(c.key)) {
      const varSvg = lineChartSvg({
        title: `variance of ${c.key} across seeds`,
        xLabel: X_LABEL[c.x],
        yLabel: 'variance over seeds',
        series: c.result.groups
          .filter((g) => g.runIds.length > 1)
          .map((g) => ({ label: `${g.label} (n=${g.runIds.length})`, x: g.x, y: g.sd.map((v) => (v === null ? NaN : v * v)) })),
      });
      out.push(
        `<figure>${varSvg}<figcaption>Sample variance over seeds of <code>${esc(c.key)}</code> at each ${esc(X_LABEL[c.x])} ` +
          '(as in Fig. 6c of the hidden-gifts paper).</figcaption></figure>',
      );
    }
  }

  // Runs.
  out.push('<h2 id="runs">Runs</h2>');
  out.push(
    table(
      ['ID', 'Name', 'Experiment', 'Seed', 'Status', 'Rounds', 'Env steps', 'Backend', 'Started (UTC)', 'Duration'],
      d.runs.map((r) => [
        String(r.id),
        esc(r.name),
        r.experimentId === null ? '–' : String(r.experimentId),
        String(r.seed),
        esc(r.status) + (r.error ? ` (${esc(r.error.slice(0, 120))})` : ''),
        `${r.episodesDone}/${r.episodesTotal}`,
        String(r.envSteps),
        esc(r.backend ?? '–'),
        esc(fmtStarted(r.startedAt)),
        esc(fmtDuration(r.startedAt ? (r.endedAt ?? d.createdAt) - r.startedAt : null)),
      ]),
      'runs',
      [0, 3, 5, 6, 9],
      [2, 7, 8],
    ),
  );

  // Configuration.
  out.push('<h2 id="config">Configuration</h2>');
  const diffKeys = new Set(d.configDiff.map((x) => x.key));
  const first = d.runs[0];
  if (first) {
    const common = flatConfig(first.config as unknown as Record<string, unknown>).filter(([k]) => !diffKeys.has(k));
    out.push(`<p class="note">${diffKeys.size === 0 ? 'All runs share this configuration.' : 'Fields shared by all runs:'}</p>`);
    out.push(table(['Field', 'Value'], common.map(([k, v]) => [`<code>${esc(k)}</code>`, esc(fmtValue(v))]), 'config'));
    if (diffKeys.size > 0) {
      out.push('<p class="note">Fields that differ between runs:</p>');
      out.push(
        table(
          ['Field', ...d.runs.map((r) => `run ${r.id}`)],
          d.configDiff.map((x) => [`<code>${esc(x.key)}</code>`, ...d.runs.map((r) => esc(fmtValue(x.values[r.id])))]),
          'config-diff',
        ),
      );
    }
  }

  // Environment.
  out.push('<h2 id="environment">Environment</h2>');
  out.push(
    table(
      ['', ''],
      [
        ['Environment', esc(envs.join(', '))],
        ['Algorithm', esc(algos.join(', '))],
        ['Backend (per run)', esc(backends.join(', '))],
        ['Hosts that trained', esc(hosts.join(', '))],
        ['Cairn', esc(d.host.version)],
        ['Node.js', esc(d.host.node)],
        ['TensorFlow.js', esc(d.host.tfjs ?? '–')],
        ['Report host', `${esc(d.host.hostname)} (${esc(d.host.platform)}, ${d.host.cores} cores)`],
        ['Database', `<code>${esc(d.host.dbFile)}</code>`],
        ['Generated', esc(fmtDate(d.createdAt))],
      ],
      'env',
    ),
  );
  out.push('</body></html>\n');
  return out.join('\n');
}
