/**
 * Deferred, one-per-frame construction of expensive widgets (ECharts instances).
 *
 * `bench --ui` traced the main-thread stalls while runs stream to tab switches that built every
 * chart of a tab in one task (the learner tab: 1.2-1.9 s). Charts now start only once they are
 * near the viewport, and at most one starts per animation frame, so input is handled between
 * them; a chart scrolled past before its turn never pays for its start at all.
 */

export interface Deferred {
  /** Stop watching and drop the pending start (the widget is going away). */
  cancel(): void;
}

type Job = { start: () => void; done: boolean };

const queue: Job[] = [];
let pumping = false;

function nextFrame(cb: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => cb());
  else setTimeout(cb, 16);
}

function pump(): void {
  const job = queue.shift();
  if (!job) {
    pumping = false;
    return;
  }
  if (!job.done) {
    job.done = true;
    job.start();
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
