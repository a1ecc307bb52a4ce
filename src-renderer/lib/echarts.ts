/**
 * ECharts, tree-shaken to what the workbench draws: line charts with grid, tooltip, legend and
 * dataZoom, on canvas (screen) or SVG (export). Colours come from the CSS theme variables so
 * charts follow light/dark.
 */
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkLineComponent, CanvasRenderer, SVGRenderer]);

export { echarts };

/** Categorical series colours (distinct in both themes). */
export const SERIES_COLORS = ['#4b63d6', '#e07a2f', '#1f9d7a', '#c8455f', '#8a5cc7', '#b39129', '#3c9fc0', '#7a7f8c'];

export interface ChartTheme {
  text: string;
  muted: string;
  faint: string;
  border: string;
  panel: string;
  accent: string;
}

export function chartTheme(): ChartTheme {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', '#1c2230'),
    muted: v('--muted', '#677084'),
    faint: v('--faint', '#9aa1b0'),
    border: v('--border', '#dfe2e8'),
    panel: v('--panel', '#ffffff'),
    accent: v('--accent', '#4b57d6'),
  };
}

/** Call `fn` when the system switches between light and dark. */
export function onSchemeChange(fn: () => void): () => void {
  if (typeof matchMedia === 'undefined') return () => {};
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', fn);
  return () => mq.removeEventListener('change', fn);
}

/** Render an option to a PNG data URL off-screen at 2x (for "save as PNG"). */
export function renderPng(option: echarts.EChartsCoreOption, width: number, height: number, background: string): string {
  const div = document.createElement('div');
  const chart = echarts.init(div, null, { renderer: 'canvas', width, height, devicePixelRatio: 2 });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: background });
  } finally {
    chart.dispose();
  }
}

/** Render an option to an SVG string off-screen (for "save as SVG"). */
export function renderSvg(option: echarts.EChartsCoreOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
