/**
 * Sweeps with their progress, refreshed as their runs change: local runs report through live
 * events, cluster runs as the host collects them.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { SweepInfo } from '../../src-shared/api';
import { useApi } from '../api/use-api';

export const useSweepsStore = defineStore('sweeps', () => {
  const list = shallowRef<SweepInfo[]>([]);
  const error = ref<string | null>(null);
  const busy = ref<number | null>(null);
  let unsubscribe: (() => void) | null = null;
  let pending: ReturnType<typeof setTimeout> | null = null;

  async function refresh(): Promise<void> {
    try {
      list.value = await useApi().listSweeps();
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** Refresh on run changes, at most twice a second. */
  function listen(): void {
    if (unsubscribe) return;
    unsubscribe = useApi().subscribe((e) => {
      if (e.type !== 'status' && e.type !== 'runs-changed' && e.type !== 'progress') return;
      pending ??= setTimeout(() => {
        pending = null;
        void refresh();
      }, 500);
    });
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  async function act(id: number, what: 'collect' | 'cancel'): Promise<void> {
    busy.value = id;
    try {
      if (what === 'collect') await useApi().collectSweep(id);
      else await useApi().cancelSweep(id);
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = null;
      await refresh();
    }
  }

  return { list, error, busy, refresh, listen, stop, act };
});
