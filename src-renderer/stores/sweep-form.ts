/**
 * The sweep part of the new-experiment form: axes added over any field of the form's config,
 * and what they would launch (cells x seeds, runs, an estimated time) asked from the host as
 * they change. The base (preset, edited fields, seeds) is the experiment form's own, so a
 * sweep with no axes is exactly the experiment the form would launch.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { SweepPlanInfo } from '../../src-shared/api';
import type { Axis, AxisValue, SweepSpec } from '../../src-shared/config/sweep';
import { useApi } from '../api/use-api';
import { useExperimentFormStore } from './experiment-form';

export type AxisMode = 'values' | 'range' | 'logRange';

export interface AxisRow {
  key: string;
  mode: AxisMode;
  /** Comma-separated values (mode "values"). */
  values: string;
  from: string;
  to: string;
  steps: string;
}

function scalar(s: string): AxisValue {
  const t = s.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

/** One row as a spec axis; a row still being typed gives a message instead. */
export function rowToAxis(r: AxisRow, i: number): Axis | string {
  if (!r.key) return `axis ${i + 1}: choose a field`;
  if (r.mode === 'values') {
    const parts = r.values.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) return `axis ${i + 1} (${r.key}): enter comma-separated values`;
    return { key: r.key, values: parts.map(scalar) };
  }
  const range = { from: Number(r.from), to: Number(r.to), steps: Number(r.steps) };
  if (![range.from, range.to, range.steps].every(Number.isFinite) || r.from.trim() === '' || r.to.trim() === '') {
    return `axis ${i + 1} (${r.key}): enter from, to and steps`;
  }
  return r.mode === 'range' ? { key: r.key, range } : { key: r.key, logRange: range };
}

export const useSweepFormStore = defineStore('sweepForm', () => {
  const form = useExperimentFormStore();
  const rows = ref<AxisRow[]>([]);
  const plan = ref<SweepPlanInfo | null>(null);
  const planError = ref<string | null>(null);
  const launching = ref(false);

  const rowErrors = computed(() => rows.value.map((r, i) => rowToAxis(r, i)).filter((x): x is string => typeof x === 'string'));

  const spec = computed<SweepSpec | null>(() => {
    if (rowErrors.value.length > 0 || rows.value.length === 0) return null;
    return {
      ...(form.presetName ? { preset: form.presetName } : {}),
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
      overrides: form.overrides,
      axes: rows.value.map((r, i) => rowToAxis(r, i) as Axis),
      seeds: form.seeds,
    };
  });

  let seq = 0;
  async function refreshPlan(): Promise<void> {
    const s = spec.value;
    const mine = ++seq;
    if (!s) {
      plan.value = null;
      planError.value = rowErrors.value[0] ?? null;
      return;
    }
    try {
      const p = await useApi().planSweep({ spec: s });
      if (mine !== seq) return;
      plan.value = p;
      planError.value = null;
    } catch (e) {
      if (mine !== seq) return;
      plan.value = null;
      planError.value = (e as Error).message;
    }
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(
    spec,
    () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void refreshPlan(), 250);
    },
    { deep: true },
  );

  function addAxis(key = ''): void {
    rows.value.push({ key, mode: 'values', values: '', from: '', to: '', steps: '3' });
  }
  function removeAxis(i: number): void {
    rows.value.splice(i, 1);
  }

  async function launch(): Promise<{ sweepId: number; experimentId: number; runIds: number[] } | null> {
    const s = spec.value;
    if (!s) return null;
    launching.value = true;
    try {
      return await useApi().launchSweep({ spec: s });
    } catch (e) {
      planError.value = (e as Error).message;
      return null;
    } finally {
      launching.value = false;
    }
  }

  return { rows, plan, planError, rowErrors, spec, launching, addAxis, removeAxis, refreshPlan, launch };
});
