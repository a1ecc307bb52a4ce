/**
 * Comparison of runs: which runs, which metric, how to group (by experiment: mean and 95%
 * bootstrap band over seeds, computed on the host by `compare`), plus export.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CompareResult, ExperimentInfo, ReportFormat, ReportSmoothing, RunInfo, XAxis } from '../../src-shared/api';
import { useApi } from '../api/use-api';
import { saveReport } from '../lib/download';
import { roleKey } from '../lib/metric-groups';
import { headlineMetrics } from '../../src-shared/metrics';
import { compareLimitProblem } from '../../src-shared/report-limits';

export const useCompareStore = defineStore('compare', () => {
  const runIds = ref<number[]>([]);
  const runs = shallowRef<RunInfo[]>([]);
  const experiments = shallowRef<ExperimentInfo[]>([]);
  /** The metric compared: the first run's success metric until the user picks another. */
  const key = ref('');
  const xAxis = ref<XAxis>('episode');
  const groupBy = ref<'experiment' | 'run'>('experiment');
  const showRuns = ref(false);
  const smoothing = ref(0);
  const result = shallowRef<CompareResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let gen = 0;

  const availableKeys = computed(() => {
    const s = new Set<string>();
    for (const r of runs.value) for (const k of r.metricKeys) s.add(k);
    if (result.value) s.add(result.value.key);
    return [...s].sort();
  });

  async function loadExperiments(): Promise<void> {
    experiments.value = [...(await useApi().listExperiments())].sort((a, b) => b.id - a.id);
  }

  async function setRuns(ids: number[]): Promise<void> {
    runIds.value = [...new Set(ids)].sort((a, b) => a - b);
    const api = useApi();
    const infos = await Promise.all(runIds.value.map((id) => api.getRun(id)));
    runs.value = infos.filter((r): r is RunInfo => r !== null);
    if (runs.value.length && !availableKeys.value.includes(key.value)) {
      const declared = runs.value[0].metrics;
      key.value = roleKey(declared, 'success') ?? headlineMetrics(declared)[0]?.key ?? availableKeys.value[0] ?? key.value;
    }
    await load();
  }

  function toggleExperiment(exp: ExperimentInfo): Promise<void> {
    const has = exp.runIds.every((id) => runIds.value.includes(id));
    const next = has ? runIds.value.filter((id) => !exp.runIds.includes(id)) : [...runIds.value, ...exp.runIds];
    return setRuns(next);
  }

  function removeRun(id: number): Promise<void> {
    return setRuns(runIds.value.filter((r) => r !== id));
  }

  async function load(): Promise<void> {
    const g = ++gen;
    if (runIds.value.length === 0 || key.value === '') {
      result.value = null;
      return;
    }
    // The host's cap, said here in its words rather than sent to be refused.
    const limit = compareLimitProblem(runIds.value);
    if (limit) {
      result.value = null;
      error.value = limit.message;
      loading.value = false;
      return;
    }
    loading.value = true;
    error.value = null;
    try {
      const res = await useApi().compare({
        runIds: runIds.value,
        key: key.value,
        x: xAxis.value,
        groupBy: groupBy.value,
        maxPoints: 1000,
        smoothing: smoothing.value,
      });
      if (g === gen) result.value = res;
    } catch (err) {
      if (g === gen) error.value = (err as Error).message;
    } finally {
      if (g === gen) loading.value = false;
    }
  }

  /** A report of this page: the metric on screen (the report states it and the smoothing). */
  const reportKeys = computed(() => (key.value ? [key.value] : []));
  const reportSmoothing = computed<ReportSmoothing>(() => (smoothing.value > 1 ? { method: 'window', points: smoothing.value } : { method: 'none' }));

  async function exportAs(format: ReportFormat): Promise<void> {
    const file = await useApi().exportReport({ kind: 'compare', ids: runIds.value, format, keys: reportKeys.value, smoothing: reportSmoothing.value });
    saveReport(file);
  }

  return {
    runIds,
    runs,
    experiments,
    key,
    xAxis,
    groupBy,
    showRuns,
    smoothing,
    result,
    loading,
    error,
    availableKeys,
    reportKeys,
    reportSmoothing,
    loadExperiments,
    setRuns,
    toggleExperiment,
    removeRun,
    load,
    exportAs,
  };
});
