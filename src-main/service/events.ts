/** Live events to one receiver, coalesced so a fast run cannot flood a page. */
import type { WorkbenchEvent } from '../../src-shared/api';


export interface EventSink {
  push(e: WorkbenchEvent): void;
  flush(): void;
  close(): void;
}

/**
 * Coalesce events for one receiver (a WebSocket client, the Electron windows) into at most one
 * delivery per `intervalMs`: a run's metric points and episodes are concatenated, its progress
 * and live replay keep only the latest, `runs-changed` is sent once. A status change flushes
 * at once (after what was pending, so a chart has every point before "done").
 */
export function coalesceEvents(deliver: (events: WorkbenchEvent[]) => void, intervalMs = 100): EventSink {
  let pending: WorkbenchEvent[] = [];
  const slots = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  let closed = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending.length === 0) return;
    const out = pending;
    pending = [];
    slots.clear();
    last = Date.now();
    deliver(out);
  };
  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(flush, Math.max(0, last + intervalMs - Date.now()));
  };
  return {
    push(e) {
      if (closed) return;
      if (e.type === 'status') {
        pending.push(e);
        flush();
        return;
      }
      const slotKey = e.type === 'runs-changed' ? e.type : `${e.type}:${e.runId}`;
      const at = slots.get(slotKey);
      if (at === undefined) {
        slots.set(slotKey, pending.length);
        pending.push(e.type === 'metrics' ? { ...e, points: [...e.points] } : e.type === 'episodes' ? { ...e, episodes: [...e.episodes] } : e);
      } else {
        const prev = pending[at];
        // Loops, not push(...x): a spread of a huge batch would overflow the stack.
        if (e.type === 'metrics' && prev.type === 'metrics') for (const p of e.points) prev.points.push(p);
        else if (e.type === 'episodes' && prev.type === 'episodes') for (const x of e.episodes) prev.episodes.push(x);
        else if (e.type !== 'runs-changed') pending[at] = e;
      }
      schedule();
    },
    flush,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      pending = [];
    },
  };
}

