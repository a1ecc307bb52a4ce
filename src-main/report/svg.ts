/**
 * Line charts as standalone SVG strings for reports (no DOM, no chart library, no external
 * requests): one line per group with its shaded 95% CI band, axes with "nice" ticks, axis
 * labels and a legend. NaN values break a line (a seed that has not reached that x).
 */

export interface ChartSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Band (e.g. 95% CI); drawn when both are given. */
  lo?: ArrayLike<number>;
  hi?: ArrayLike<number>;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
}

/** Okabe-Ito palette: distinguishable with the common colour-vision deficiencies, and in print. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Ticks at 1, 2 or 5 x 10^k covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  const out: number[] = [];
  // Integer multiples, rounded to 12 digits: 0.6, not 0.6000000000000001.
  for (let k = first; k <= last; k++) out.push(k === 0 ? 0 : +(k * step).toPrecision(12));
  return out;
}

/** Compact tick label: 12k, 1.5M, 0.25, 1e-4. */
export function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(4));
}

const n2 = (v: number) => (Math.round(v * 100) / 100).toString();

export function lineChartSvg(spec: ChartSpec): string {
  const W = spec.width ?? 720;
  const H = spec.height ?? 360;
  const m = { left: 64, right: 16, top: 34, bottom: 48 };
  const legendRows = Math.ceil(spec.series.length / 3);
  const legendH = legendRows * 18 + 6;
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom - legendH;

  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      const ys = [s.y[i], s.lo?.[i] ?? NaN, s.hi?.[i] ?? NaN];
      if (!ys.some(Number.isFinite) || !Number.isFinite(s.x[i])) continue;
      xMin = Math.min(xMin, s.x[i]);
      xMax = Math.max(xMax, s.x[i]);
      for (const v of ys) {
        if (Number.isFinite(v)) {
          yMin = Math.min(yMin, v);
          yMax = Math.max(yMax, v);
        }
      }
    }
  }
  const empty = !Number.isFinite(xMin);
  if (empty) {
    xMin = 0;
    xMax = 1;
    yMin = 0;
    yMax = 1;
  }
  const xt = niceTicks(xMin, xMax, 6);
  const yt = niceTicks(yMin, yMax, 5);
  const x0 = xt.length ? Math.min(xt[0], xMin) : xMin;
  const x1 = xt.length ? Math.max(xt[xt.length - 1], xMax) : xMax;
  const y0 = yt.length ? yt[0] : yMin;
  const y1 = yt.length ? yt[yt.length - 1] : yMax;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (v: number) => m.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(spec.title)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<title>${escapeXml(spec.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`);
  // Grid and ticks.
  parts.push('<g class="axes" stroke="#d0d0d0" stroke-width="1">');
  for (const t of yt) parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${n2(sy(t))}" y2="${n2(sy(t))}"/>`);
  for (const t of xt) parts.push(`<line x1="${n2(sx(t))}" x2="${n2(sx(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke-dasharray="2,3"/>`);
  parts.push('</g>');
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333" stroke-width="1"/>`,
  );
  parts.push('<g class="ticks" fill="#333333">');
  for (const t of yt) {
    parts.push(`<text x="${m.left - 6}" y="${n2(sy(t) + 4)}" text-anchor="end">${escapeXml(fmtTick(t))}</text>`);
  }
  for (const t of xt) {
    parts.push(`<text x="${n2(sx(t))}" y="${m.top + plotH + 16}" text-anchor="middle">${escapeXml(fmtTick(t))}</text>`);
  }
  parts.push('</g>');
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${m.top + plotH + 34}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  if (empty) {
    parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" text-anchor="middle" fill="#777777">no data</text>`);
  }

  // Bands first (under every line), then lines.
  const segments = (s: ChartSeries, needBand: boolean): number[][] => {
    const segs: number[][] = [];
    let cur: number[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const ok =
        Number.isFinite(s.x[i]) &&
        Number.isFinite(s.y[i]) &&
        (!needBand || (Number.isFinite(s.lo![i]) && Number.isFinite(s.hi![i])));
      if (ok) cur.push(i);
      else if (cur.length) {
        segs.push(cur);
        cur = [];
      }
    }
    if (cur.length) segs.push(cur);
    return segs;
  };
  parts.push(`<g class="bands" clip-path="none">`);
  spec.series.forEach((s, k) => {
    if (!s.lo || !s.hi) return;
    const color = PALETTE[k % PALETTE.length];
    for (const seg of segments(s, true)) {
      if (seg.length < 2) continue;
      const upper = seg.map((i) => `${n2(sx(s.x[i]))},${n2(sy(s.hi![i]))}`);
      const lower = seg
        .slice()
        .reverse()
        .map((i) => `${n2(sx(s.x[i]))},${n2(sy(s.lo![i]))}`);
      parts.push(`<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    }
  });
  parts.push('</g><g class="lines">');
  spec.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    for (const seg of segments(s, false)) {
      if (seg.length === 1) {
        const i = seg[0];
        parts.push(`<circle cx="${n2(sx(s.x[i]))}" cy="${n2(sy(s.y[i]))}" r="2" fill="${color}"/>`);
        continue;
      }
      const pts = seg.map((i) => `${n2(sx(s.x[i]))},${n2(sy(s.y[i]))}`).join(' ');
      parts.push(`<polyline class="line" points="${pts}" fill="none" stroke="${color}" stroke-width="1.6" stroke-linejoin="round"/>`);
    }
  });
  parts.push('</g>');

  // Legend below the plot, three entries per row.
  const ly = m.top + plotH + m.bottom - 4;
  const colW = plotW / 3;
  parts.push('<g class="legend">');
  spec.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const lx = m.left + (k % 3) * colW;
    const yy = ly + Math.floor(k / 3) * 18;
    const band = s.lo && s.hi ? `<rect x="${lx}" y="${yy - 6}" width="22" height="12" fill="${color}" fill-opacity="0.18"/>` : '';
    const label = s.label.length > 40 ? `${s.label.slice(0, 39)}…` : s.label;
    parts.push(
      `${band}<line x1="${lx}" x2="${lx + 22}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="2"/><text x="${lx + 28}" y="${yy + 4}">${escapeXml(label)}</text>`,
    );
  });
  parts.push('</g></svg>');
  return parts.join('');
}
