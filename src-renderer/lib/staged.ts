/**
 * Reveal a view in stages, one per painted frame, so the input that opened it is answered by a
 * paint before the heavy parts are built.
 *
 * `bench --ui` traced opening a run's Replay tab while runs stream: the click's task mounted
 * the whole tab (episode table, canvas, agent panel, timeline lanes), laid the page out, and
 * the next frame allocated and drew the canvas and painted it all, so the click waited for
 * every part before anything showed (input-to-paint 320-2,000 ms at load 5-34). Staged, the
 * click paints the tab's frame (the tab marked, panels at their final size) and each later
 * stage is its own task after a paint, where a click or key press in between is handled first.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

/**
 * Run `cb` in a task after the next paint: a requestAnimationFrame callback runs just before a
 * frame is painted, and a macrotask queued from it runs after that paint. Without
 * requestAnimationFrame (tests, a hidden page that never paints) a plain macrotask is used.
 * Returns a cancel function.
 */
export function afterNextPaint(cb: () => void): () => void {
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const later = () => {
    timer = setTimeout(() => {
      timer = null;
      if (!cancelled) cb();
    }, 0);
  };
  let raf = 0;
  if (typeof requestAnimationFrame === 'function') raf = requestAnimationFrame(later) as unknown as number;
  else later();
  return () => {
    cancelled = true;
    if (raf && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(raf);
    if (timer) clearTimeout(timer);
  };
}

/**
 * A stage counter for a component: 0 at mount, then 1, 2, ... `last`, one step after each
 * painted frame. Gate the parts with `v-if="stage >= k"`, cheapest and most needed first, and
 * give the gated places their final size so no stage moves what is already shown.
 */
export function useStages(last: number): Ref<number> {
  const stage = ref(0);
  let cancel: (() => void) | null = null;
  const next = () => {
    cancel = null;
    stage.value++;
    if (stage.value < last) cancel = afterNextPaint(next);
  };
  onMounted(() => {
    if (last > 0) cancel = afterNextPaint(next);
  });
  onBeforeUnmount(() => cancel?.());
  return stage;
}
