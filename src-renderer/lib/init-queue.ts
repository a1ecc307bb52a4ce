/**
 * Deferred, one-per-frame construction of expensive widgets (ECharts instances).
 *
 * `bench --ui` traced the main-thread stalls while runs stream to tab switches that built every
 * chart of a tab in one task (the learner tab: 1.2-1.9 s). Charts now start only once they are
 * near the viewport, and at most one starts per animation frame, so input is handled between
 * them; a chart scrolled past before its turn never pays for its start at all.
 *
 * Each job runs in a task of its own *after* a paint, never inside the frame's
 * requestAnimationFrame callbacks: `bench --ui`'s trace found chart work run from rAF (a start,
 * or a `lazyUpdate` that ECharts renders in zrender's own rAF step) counted as the presentation
 * delay of whatever the user had just clicked, because a frame's rAF callbacks all run before
 * its paint, and two or three of them in one frame made the longest tasks (212-264 ms). After a
 * paint, a job is one bounded task the browser can put input before; the jobs must then do
 * their rendering synchronously (MetricChart sets options without `lazyUpdate`).
 */
import { afterNextPaint } from './staged';

export interface Deferred {
  /** Stop watching and drop the pending start (the widget is going away). */
  cancel(): void;
}

type Job = { start: () => void; done: boolean; key?: object };

/** Pending work per widget (scheduleWork), so a widget never has two jobs in the queue. */
const pendingWork = new WeakMap<object, Job>();

const queue: Job[] = [];
let pumping = false;

function nextFrame(cb: () => void): void {
  if (typeof requestAnimationFrame === 'function') afterNextPaint(cb);
  else setTimeout(cb, 16);
}

function pump(): void {
  const job = queue.shift();
  if (!job) {
    pumping = false;
    return;
  }
  if (job.key) pendingWork.delete(job.key);
  if (!job.done) {
    job.done = true;
    job.start();
  } else {
    // A cancelled job costs no frame.
    pump();
    return;
  }
  nextFrame(pump);
}

function enqueue(job: Job): void {
  queue.push(job);
  if (!pumping) {
    pumping = true;
    nextFrame(pump);
  }
}

/**
 * Run `start` once `el` comes within `margin` of the viewport, in its turn of the queue.
 * Without IntersectionObserver (old engines, tests) the start is only queued.
 */
export function startWhenVisible(el: Element, start: () => void, margin = '200px'): Deferred {
  const job: Job = { start, done: false };
  if (typeof IntersectionObserver !== 'function') {
    enqueue(job);
    return { cancel: () => void (job.done = true) };
  }
  const io = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      io.disconnect();
      enqueue(job);
    },
    { rootMargin: margin },
  );
  io.observe(el);
  return {
    cancel: () => {
      job.done = true;
      io.disconnect();
    },
  };
}

/**
 * Queue work on a started widget (a chart's re-render or rebuild) in the same one-per-frame
 * queue as the starts: `bench --ui`'s CPU profile put the stalls left after deferred starts in
 * chart updates that all ran in one task (an x-axis switch rebuilt every chart at once; each
 * streamed batch re-rendered every chart in the same tick). Work for a key already waiting is
 * not queued twice: the waiting job runs `run` instead (the latest state wins), in its place.
 */
export function scheduleWork(key: object, run: () => void): void {
  const waiting = pendingWork.get(key);
  if (waiting && !waiting.done) {
    waiting.start = run;
    return;
  }
  const job: Job = { start: run, done: false, key };
  pendingWork.set(key, job);
  enqueue(job);
}

/** Drop a widget's waiting work (it is going away). */
export function cancelWork(key: object): void {
  const waiting = pendingWork.get(key);
  if (waiting) waiting.done = true;
  pendingWork.delete(key);
}
