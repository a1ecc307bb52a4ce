/**
 * The compare chart's tooltip. ECharts renders a formatter's string as HTML, so every name in
 * it (run, experiment, variant, from users or a shared database) is escaped.
 */
import type { CompareResult, XAxis } from '../../../src-shared/api';
import { escapeHtml } from '../../lib/escape-html';
import { fmtInt, fmtNumber } from '../../lib/format';

export interface TooltipParam {
  seriesId: string;
  dataIndex: number;
  value: [number, number];
  color: string;
  seriesName: string;
}

export function compareTooltip(params: unknown, r: Pick<CompareResult, 'groups'>, xAxis: XAxis): string {
  const ps = (Array.isArray(params) ? params : [params]) as TooltipParam[];
  if (!ps.length) return '';
  const head = xAxis === 'wall' ? new Date(ps[0].value[0]).toLocaleTimeString() : `${xAxis} ${fmtInt(ps[0].value[0])}`;
  const lines = ps
    .filter((p) => p.seriesId.startsWith('mean') || p.seriesId.startsWith('run'))
    .map((p) => {
      let ci = '';
      if (p.seriesId.startsWith('mean')) {
        const g = r.groups[Number(p.seriesId.slice(4))];
        ci = ` <span style="opacity:.7">[${fmtNumber(g.lo[p.dataIndex])}, ${fmtNumber(g.hi[p.dataIndex])}]</span>`;
      }
      return `<span style="color:${escapeHtml(p.color)}">●</span> ${escapeHtml(p.seriesName)}: <b>${fmtNumber(p.value[1])}</b>${ci}`;
    });
  return [escapeHtml(head), ...lines].join('<br>');
}
