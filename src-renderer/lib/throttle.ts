/**
 * Leading + trailing throttle: runs at once, then at most once per `ms` while calls keep
 * coming, and always once more after the last call (so the final state is never dropped).
 */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void; flush(): void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const t = () => {
    if (timer) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  t.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  t.flush = () => {
    if (timer) {
      clearTimeout(timer);
      run();
    }
  };
  return t;
}

/** Trailing debounce with cancel. */
export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): { (...a: A): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const d = (...a: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...a);
    }, ms);
  };
  d.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return d;
}
