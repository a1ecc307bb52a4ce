// @vitest-environment happy-dom
/**
 * Charts start near the viewport, one per frame (src-renderer/lib/init-queue.ts). The
 * IntersectionObserver is the browser's; here a hand-driven stand-in decides visibility.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelWork, scheduleWork, startWhenVisible } from '../../src-renderer/lib/init-queue';

type Cb = (entries: { isIntersecting: boolean }[]) => void;
const observers: { cb: Cb; els: Element[]; live: boolean }[] = [];

class FakeIO {
  private o: { cb: Cb; els: Element[]; live: boolean };
  constructor(cb: Cb) {
    this.o = { cb, els: [], live: true };
    observers.push(this.o);
  }
  observe(el: Element) {
    this.o.els.push(el);
  }
  disconnect() {
    this.o.live = false;
  }
}
function show(el: Element, visible = true): void {
  for (const o of observers) if (o.live && o.els.includes(el)) o.cb([{ isIntersecting: visible }]);
}

let frames: (() => void)[] = [];
/** The frame's requestAnimationFrame callbacks only (what runs before its paint). */
function rafOnly(): void {
  const now = frames;
  frames = [];
  for (const f of now) f();
}
/** One frame: its rAF callbacks, the paint, then the tasks queued for after it. */
function frame(): void {
  rafOnly();
  vi.runOnlyPendingTimers();
}

beforeEach(() => {
  observers.length = 0;
  frames = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  vi.stubGlobal('IntersectionObserver', FakeIO);
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
});
afterEach(() => {
  // Let the queue run dry, as real frames would, so the next test starts from an idle queue.
  for (let i = 0; i < 10 && frames.length; i++) frame();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('startWhenVisible', () => {
  it('starts nothing until the element is near the viewport', () => {
    const el = document.createElement('div');
    const start = vi.fn();
    startWhenVisible(el, start);
    show(el, false);
    frame();
    frame();
    expect(start).not.toHaveBeenCalled();
    show(el);
    frame();
    expect(start).toHaveBeenCalledTimes(1);
    show(el);
    frame();
    frame();
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('starts at most one widget per frame, in order', () => {
    const order: number[] = [];
    const els = [0, 1, 2].map(() => document.createElement('div'));
    els.forEach((el, i) => startWhenVisible(el, () => order.push(i)));
    els.forEach((el) => show(el));
    frame();
    expect(order).toEqual([0]);
    frame();
    expect(order).toEqual([0, 1]);
    frame();
    expect(order).toEqual([0, 1, 2]);
  });

  it("runs the work in a task after the frame's paint, never inside its rAF callbacks", () => {
    const el = document.createElement('div');
    const start = vi.fn();
    startWhenVisible(el, start);
    show(el);
    // The frame's rAF callbacks run before its paint: a chart's start there would delay the
    // paint that answers the user's last input.
    rafOnly();
    expect(start).not.toHaveBeenCalled();
    vi.runOnlyPendingTimers();
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('a cancelled widget (unmounted before its turn) never starts', () => {
    const a = document.createElement('div');
    const b = document.createElement('div');
    const startA = vi.fn();
    const startB = vi.fn();
    const da = startWhenVisible(a, startA);
    startWhenVisible(b, startB);
    show(a);
    show(b);
    da.cancel();
    frame();
    frame();
    expect(startA).not.toHaveBeenCalled();
    expect(startB).toHaveBeenCalledTimes(1);
  });
});

describe('scheduleWork (chart updates share the queue)', () => {
  it("runs one widget's work per frame, after the starts already waiting", () => {
    const log: string[] = [];
    const el = document.createElement('div');
    startWhenVisible(el, () => log.push('start'));
    show(el);
    const a = {};
    const b = {};
    scheduleWork(a, () => log.push('a'));
    scheduleWork(b, () => log.push('b'));
    frame();
    expect(log).toEqual(['start']);
    frame();
    expect(log).toEqual(['start', 'a']);
    frame();
    expect(log).toEqual(['start', 'a', 'b']);
  });

  it('work for a widget already waiting is not queued twice: the latest runs, in the first place', () => {
    const log: string[] = [];
    const a = {};
    const b = {};
    scheduleWork(a, () => log.push('a1'));
    scheduleWork(b, () => log.push('b'));
    scheduleWork(a, () => log.push('a2'));
    frame();
    frame();
    frame();
    expect(log).toEqual(['a2', 'b']);
    // Once run, the widget can be scheduled again.
    scheduleWork(a, () => log.push('a3'));
    frame();
    expect(log).toEqual(['a2', 'b', 'a3']);
  });

  it('cancelled work never runs and costs no frame', () => {
    const log: string[] = [];
    const a = {};
    const b = {};
    scheduleWork(a, () => log.push('a'));
    scheduleWork(b, () => log.push('b'));
    cancelWork(a);
    frame();
    expect(log).toEqual(['b']);
  });
});
