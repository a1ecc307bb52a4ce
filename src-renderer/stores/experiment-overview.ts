/**
 * One experiment (or reproduction) at a glance: its variants x seeds grid with each cell's
 * status and success, and the summary over seeds per variant (the host's `compare`, grouped
 * by experiment and variant). Live status and progress patch the cells; a run that ends
 * refreshes the summary.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ExperimentInfo, RunInfo, SummaryRow, WorkbenchEvent } from '../../src-shared/api';
import { headlineMetrics } from '../../src-shared/metrics';
import { useApi } from '../api/use-api';
import { applyToRun } from './runs';
import { roleKey } from '../lib/metric-groups';
import { debounce } from '../lib/throttle';

export interface GridRow {
  variant: string;
  cells: (RunInfo | null)[];
}

/** Variants (in launch order) x seeds (ascending); a missing (variant, seed) is null. */
export function experimentGrid(runs: readonly RunInfo[]): { seeds: number[]; rows: GridRow[] } {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const order: string[] = [];
  const by = new Map<string, Map<number, RunInfo>>();
  for (const r of [...runs].sort((a, b) => a.id - b.id)) {
    const v = r.variant ?? 'all runs';
    if (!by.has(v)) (order.push(v), by.set(v, new Map()));
    by.get(v)!.set(r.seed, r);
  }
  return { seeds, rows: order.map((variant) => ({ variant, cells: seeds.map((s) => by.get(variant)!.get(s) ?? null) })) };
}

export const useExperimentOverviewStore = defineStore('experimentOverview', () => {
  const id = ref<number | null>(null);
  const exp = ref<ExperimentInfo | null>(null);
  const runs = shallowRef<RunInfo[]>([]);
  const summary = shallowRef<SummaryRow[]>([]);
  const summaryKey = ref<string | null>(null);
  const notFound = ref(false);
  const error = ref<string | null>(null);
  let unsubscribe: (() => void) | null = null;
  let gen = 0;

  const grid = computed(() => experimentGrid(runs.value));
  /** The metric the summary and the cells show: the runs' declared success metric. */
  const successKey = computed(() => (runs.value[0] ? roleKey(runs.value[0].metrics, 'success') : null));
  const headlineKeys = computed(() => (runs.value[0] ? headlineMetrics(runs.value[0].metrics).map((m) => m.key) : []));
  const counts = computed(() => {
    const c: Record<string, number> = {};
    for (const r of runs.value) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  });

  async function loadSummary(g = gen): Promise<void> {
    const key = successKey.value ?? headlineKeys.value[0] ?? runs.value[0]?.metricKeys[0];
    if (!key || runs.value.length === 0) return;
    try {
      const res = await useApi().compare({ runIds: runs.value.map((r) => r.id), key, groupBy: 'experiment', maxPoints: 200 });
      if (g !== gen) return;
      summary.value = res.summary;
      summaryKey.value = key;
    } catch (err) {
      if (g === gen) error.value = (err as Error).message;
    }
  }
  const summarySoon = debounce(() => void loadSummary(), 1500);

  function onEvent(e: WorkbenchEvent): void {
    if (!('runId' in e) || (e.type !== 'status' && e.type !== 'progress')) return;
    const i = runs.value.findIndex((r) => r.id === e.runId);
    if (i < 0) return;
    const next = runs.value.slice();
    next[i] = applyToRun(next[i], e);
    runs.value = next;
    if (e.type === 'status' && e.status !== 'running' && e.status !== 'queued') {
      void refreshRun(e.runId);
      summarySoon();
    }
  }

  async function refreshRun(runId: number): Promise<void> {
    const r = await useApi().getRun(runId);
    if (!r) return;
    runs.value = runs.value.map((x) => (x.id === runId ? r : x));
  }

  async function open(expId: number): Promise<void> {
    close();
    const g = ++gen;
    id.value = expId;
    notFound.value = false;
    error.value = null;
    summary.value = [];
    runs.value = [];
    unsubscribe = useApi().subscribe(onEvent);
    const list = await useApi().listExperiments();
    if (g !== gen) return;
    exp.value = list.find((e) => e.id === expId) ?? null;
    if (!exp.value) {
      notFound.value = true;
      return;
    }
    const res = await useApi().listRuns({ experimentId: expId, orderBy: 'id', desc: false, limit: 1000 });
    if (g !== gen) return;
    runs.value = res.rows;
    await loadSummary(g);
  }

  function close(): void {
    unsubscribe?.();
    unsubscribe = null;
    summarySoon.cancel();
    gen++;
  }

  return { id, exp, runs, summary, summaryKey, notFound, error, grid, successKey, headlineKeys, counts, open, close, onEvent };
});
