// @vitest-environment happy-dom
/**
 * A chart does all its work in its own turn of the shared queue, a task after a paint
 * (lib/init-queue.ts), and synchronously: no `lazyUpdate` left for zrender's next
 * requestAnimationFrame step (which would run in the frame that answers the user's next input),
 * and no resize inside the ResizeObserver's callback (which runs before a paint, for every chart
 * of the page at once when a scrollbar appears). ECharts is replaced by a recorder: what is
 * checked is which calls the component makes and when, not ECharts' drawing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';

type Call = [string, ...unknown[]];
const calls: Call[] = [];
vi.mock('../../src-renderer/lib/echarts', () => ({
  SERIES_COLORS: ['#123456'],
  chartTheme: () => ({ text: '#000', muted: '#111', faint: '#222', border: '#333', panel: '#fff', accent: '#444' }),
  onSchemeChange: () => () => {},
  renderPng: () => '',
  renderSvg: () => '',
  echarts: {
    init: () => {
      calls.push(['init']);
      return {
        setOption: (opt: unknown, o?: { notMerge?: boolean; lazyUpdate?: boolean }) => calls.push(['setOption', o ?? {}, opt]),
        resize: () => calls.push(['resize']),
        getZr: () => ({ flush: () => calls.push(['flush']) }),
        on: () => {},
        dispatchAction: () => calls.push(['dispatchAction']),
        getOption: () => ({}),
        getWidth: () => 400,
        dispose: () => calls.push(['dispose']),
      };
    },
  },
}));

const { default: MetricChart } = await import('../../src-renderer/components/charts/MetricChart.vue');

let frames: (() => void)[] = [];
let roCallback: ((entries: { contentRect: { width: number; height: number } }[]) => void) | null = null;
/** One frame: its rAF callbacks, the paint, then the tasks queued for after it. */
function frame(): void {
  const now = frames;
  frames = [];
  for (const f of now) f();
  vi.runOnlyPendingTimers();
}

beforeEach(() => {
  calls.length = 0;
  frames = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
  // Always in view.
  vi.stubGlobal(
    'IntersectionObserver',
    class {
      constructor(private cb: (e: { isIntersecting: boolean }[]) => void) {}
      observe() {
        this.cb([{ isIntersecting: true }]);
      }
      disconnect() {}
    },
  );
  vi.stubGlobal(
    'ResizeObserver',
    class {
      constructor(cb: typeof roCallback) {
        roCallback = cb;
      }
      observe() {}
      disconnect() {}
    },
  );
});
afterEach(() => {
  for (let i = 0; i < 10 && frames.length; i++) frame();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const props = (n: number) => ({
  metric: 'return_total',
  series: { x: Array.from({ length: n }, (_, i) => i), y: Array.from({ length: n }, (_, i) => i * 2), total: n, downsampled: false },
  smoothing: 0.6,
  xAxis: 'episode' as const,
  zoom: null,
  color: '#123456',
});

describe('MetricChart: its work in its turn, synchronously', () => {
  it('starts in a task after a paint and sets its whole option without lazyUpdate', async () => {
    const w = mount(MetricChart, { props: props(5) });
    await nextTick();
    expect(calls).toEqual([]);
    frame();
    expect(calls.map((c) => c[0])).toEqual(['init', 'setOption']);
    expect(calls[1][1]).toEqual({ notMerge: true });
    // The grid keeps fixed margins: ECharts 6's outer-bounds fitting lays the labels out twice per update.
    expect((calls[1][2] as { grid: { outerBoundsMode?: string } }).grid.outerBoundsMode).toBe('none');
    w.unmount();
  });

  it('new points are set in a later turn, not lazily', async () => {
    const w = mount(MetricChart, { props: props(5) });
    frame();
    calls.length = 0;
    await w.setProps({ series: props(9).series });
    await nextTick();
    expect(calls).toEqual([]);
    frame();
    expect(calls.map((c) => c[0])).toEqual(['setOption']);
    expect(calls[0][1]).toEqual({ lazyUpdate: false });
    w.unmount();
  });

  it('a resize waits for the chart turn; with new points due too, both are applied in one layout', async () => {
    const w = mount(MetricChart, { props: props(5) });
    frame();
    calls.length = 0;
    roCallback!([{ contentRect: { width: 700, height: 240 } }]);
    expect(calls).toEqual([]);
    frame();
    expect(calls.map((c) => c[0])).toEqual(['resize', 'flush']);
    calls.length = 0;
    // The same size again (a tab shown again) costs nothing.
    roCallback!([{ contentRect: { width: 700, height: 240 } }]);
    frame();
    expect(calls).toEqual([]);
    await w.setProps({ series: props(12).series });
    await nextTick();
    roCallback!([{ contentRect: { width: 500, height: 240 } }]);
    frame();
    // The option is handed over pending (lazy) and the resize lays it out and paints once.
    expect(calls.map((c) => c[0])).toEqual(['setOption', 'resize', 'flush']);
    expect(calls[0][1]).toEqual({ lazyUpdate: true });
    w.unmount();
  });
});
