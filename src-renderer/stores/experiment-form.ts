/**
 * The New-experiment form: a preset, then every field of the env, algorithm and training
 * schemas with the preset's values as defaults, seeds, and a name.
 *
 * Validation runs twice: at once per field with the shared schema's `coerceField` (same
 * messages as the CLI), and debounced on the host with `resolveConfig`, whose FieldErrors are
 * shown next to their fields and whose diff against the preset feeds the diff table.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { FieldError, PresetInfo, ResolveResult, SchemaCatalogue } from '../../src-shared/api';
import type { ExperimentConfig, PartialExperiment } from '../../src-shared/config/experiment';
import { ConfigError, coerceField, type FieldSpec, type Schema } from '../../src-shared/config/schema';
import { useApi } from '../api/use-api';
import { ApiError } from '../api/errors';
import { debounce } from '../lib/throttle';
import { SEED_DEFAULT_FIRST, seedProblem, seedRange } from '../../src-shared/config/limits';

export type Section = 'env' | 'algo' | 'train';
export const SECTIONS: readonly Section[] = ['train', 'env', 'algo'];

export interface Draft {
  env: Record<string, unknown>;
  algo: Record<string, unknown>;
  train: Record<string, unknown>;
}

export const VALIDATE_DEBOUNCE_MS = 250;

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * What a text input holds, as the value to send: numbers when the text is a number (lists of
 * numbers for list fields), otherwise the text itself, so the validator can name the problem.
 */
export function parseInput(spec: FieldSpec, text: string): unknown {
  const t = text.trim();
  switch (spec.type) {
    case 'int':
    case 'float':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'floatList': {
      const parts = t.split(',').map((s) => s.trim());
      return parts.every((p) => p !== '' && Number.isFinite(Number(p))) ? parts.map(Number) : text;
    }
    case 'bool':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

/** A value as the text an input shows. */
export function formatInput(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** Per-field errors of a draft against schemas (the instant half of validation). */
export function localErrors(draft: Draft, schemas: Record<Section, Schema>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const section of SECTIONS) {
    for (const [key, spec] of Object.entries(schemas[section])) {
      const v = draft[section][key];
      if (v === undefined) continue;
      try {
        coerceField(`${section}.${key}`, spec, v);
      } catch (err) {
        if (err instanceof ConfigError) out[`${section}.${key}`] = err.message;
      }
    }
  }
  return out;
}

export const useExperimentFormStore = defineStore('experimentForm', () => {
  const presets = ref<PresetInfo[]>([]);
  const catalogue = shallowRef<SchemaCatalogue | null>(null);
  const presetName = ref<string>('');
  /** The preset's resolved config: the form's defaults and the diff's left side. */
  const base = shallowRef<ExperimentConfig | null>(null);
  const draft = ref<Draft>({ env: {}, algo: {}, train: {} });
  const seedCount = ref(3);
  const firstSeed = ref(SEED_DEFAULT_FIRST);
  const name = ref('');
  const loaded = ref(false);

  const server = shallowRef<ResolveResult | null>(null);
  const validating = ref(false);
  const launching = ref(false);
  const launchError = ref<string | null>(null);
  const jsonError = ref<string | null>(null);
  let validateGen = 0;

  const schemas = computed<Record<Section, Schema>>(() => {
    const c = catalogue.value;
    return {
      env: c?.envs.find((e) => e.id === draft.value.env.id)?.schema ?? {},
      algo: c?.algos.find((a) => a.id === draft.value.algo.id)?.schema ?? {},
      train: c?.train ?? {},
    };
  });

  /** Algorithms that run on the chosen environment. */
  const algoChoices = computed(() =>
    (catalogue.value?.algos ?? []).filter((a) => !a.envs || a.envs.includes(String(draft.value.env.id))),
  );

  /** Which seed input is wrong and why (the same check and numbering as the CLI and host). */
  const seedIssue = computed(() => seedProblem(seedCount.value, firstSeed.value));
  const seedError = computed(() => seedIssue.value?.message ?? null);
  /** The seeds to launch; empty while the seed inputs are invalid (nothing to preview). */
  const seeds = computed(() => (seedIssue.value ? [] : seedRange(firstSeed.value, seedCount.value)));

  const local = computed(() => localErrors(draft.value, schemas.value));

  /** Errors by dotted field: instant ones first, then the host's. */
  const fieldErrors = computed<Record<string, string>>(() => {
    const out: Record<string, string> = {};
    const s = server.value;
    if (s && !s.ok) for (const e of s.errors) out[e.field] ??= e.message;
    return { ...out, ...local.value };
  });

  /** Host errors that belong to no form field (shown above the form). */
  const generalErrors = computed<FieldError[]>(() => {
    const s = server.value;
    if (!s || s.ok) return [];
    return s.errors.filter((e) => {
      const [section, key] = e.field.split('.');
      if (key === 'id' && (section === 'env' || section === 'algo')) return false;
      return !(section in schemas.value && key && key in schemas.value[section as Section]);
    });
  });

  const diff = computed(() => (server.value?.ok ? server.value.diff : []));
  const valid = computed(
    () => Object.keys(local.value).length === 0 && !seedError.value && server.value?.ok === true && !jsonError.value,
  );

  /** The draft as a PartialExperiment (what resolveConfig and launch receive). */
  const overrides = computed<PartialExperiment>(() => clone(draft.value) as PartialExperiment);
  const jsonText = computed(() => JSON.stringify(draft.value, null, 2));

  function isModified(section: Section, key: string): boolean {
    const b = base.value?.[section] as Record<string, unknown> | undefined;
    return !!b && JSON.stringify(b[key]) !== JSON.stringify(draft.value[section][key]);
  }

  async function load(): Promise<void> {
    const api = useApi();
    const [p, c] = await Promise.all([api.listPresets(), api.getSchemas()]);
    presets.value = p;
    catalogue.value = c;
    loaded.value = true;
    if (!base.value) await selectPreset(presetName.value || p[0]?.name || '');
  }

  async function selectPreset(nameOrBlank: string): Promise<void> {
    presetName.value = nameOrBlank;
    const res = await useApi().resolveConfig({ preset: nameOrBlank || undefined });
    if (presetName.value !== nameOrBlank) return;
    if (res.ok) {
      base.value = res.config;
      draft.value = clone(res.config) as unknown as Draft;
      server.value = { ok: true, config: res.config, diff: [] };
    } else {
      server.value = res;
    }
    jsonError.value = null;
    launchError.value = null;
  }

  async function validate(): Promise<void> {
    const gen = ++validateGen;
    validating.value = true;
    try {
      const res = await useApi().resolveConfig({ preset: presetName.value || undefined, overrides: overrides.value });
      if (gen === validateGen) server.value = res;
    } catch (err) {
      if (gen === validateGen) {
        const e = err as ApiError;
        server.value = { ok: false, errors: [{ field: e.field ?? 'config', message: e.message }] };
      }
    } finally {
      if (gen === validateGen) validating.value = false;
    }
  }

  const validateSoon = debounce(() => void validate(), VALIDATE_DEBOUNCE_MS);

  /** The section's values when its id changes: the preset's if it uses that id, else defaults. */
  function sectionFor(section: 'env' | 'algo', id: string): Record<string, unknown> {
    const b = base.value?.[section];
    if (b && b.id === id) return clone(b) as Record<string, unknown>;
    const list = section === 'env' ? catalogue.value?.envs : catalogue.value?.algos;
    const schema = list?.find((x) => x.id === id)?.schema ?? {};
    const out: Record<string, unknown> = { id };
    for (const [k, s] of Object.entries(schema)) out[k] = clone(s.default);
    return out;
  }

  function setField(section: Section, key: string, value: unknown): void {
    const next = clone(draft.value);
    if (key === 'id' && section !== 'train') {
      next[section] = sectionFor(section, String(value));
      if (section === 'env' && !algoChoicesFor(next).some((a) => a.id === next.algo.id)) {
        const first = algoChoicesFor(next)[0];
        if (first) next.algo = sectionFor('algo', first.id);
      }
    } else {
      next[section][key] = value;
    }
    draft.value = next;
    launchError.value = null;
    validateSoon();
  }

  function algoChoicesFor(d: Draft) {
    return (catalogue.value?.algos ?? []).filter((a) => !a.envs || a.envs.includes(String(d.env.id)));
  }

  /** Replace the draft from the JSON view; a parse error is kept and shown, the draft stays. */
  function setJson(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      jsonError.value = `JSON: ${(err as Error).message}`;
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      jsonError.value = 'JSON: expected an object with env, algo and train';
      return;
    }
    const p = parsed as Partial<Draft>;
    const bad = Object.keys(p).filter((k) => k !== 'env' && k !== 'algo' && k !== 'train');
    if (bad.length) {
      jsonError.value = `JSON: unknown section ${bad.join(', ')}; allowed are env, algo, train`;
      return;
    }
    jsonError.value = null;
    draft.value = {
      env: { ...(p.env ?? { id: draft.value.env.id }) },
      algo: { ...(p.algo ?? { id: draft.value.algo.id }) },
      train: { ...(p.train ?? {}) },
    };
    validateSoon();
  }

  /** Start from a stored run: its preset, every field as the run had it, its seeds. */
  async function cloneRun(run: { preset: string | null; config: ExperimentConfig; name: string }, seeds: { first: number; count: number }): Promise<void> {
    await selectPreset(run.preset ?? '');
    draft.value = clone(run.config) as unknown as Draft;
    firstSeed.value = seeds.first;
    seedCount.value = seeds.count;
    name.value = `${run.name.replace(/ s\d+$/, '')} (clone)`;
    await validate();
  }

  function resetToPreset(): void {
    if (base.value) draft.value = clone(base.value) as unknown as Draft;
    jsonError.value = null;
    validateSoon();
  }

  async function launch(): Promise<{ experimentId: number; runIds: number[] } | null> {
    validateSoon.cancel();
    if (seedError.value) {
      launchError.value = seedError.value;
      return null;
    }
    await validate();
    if (!valid.value) {
      launchError.value = 'Fix the fields marked in red first.';
      return null;
    }
    launching.value = true;
    launchError.value = null;
    try {
      return await useApi().launch({
        preset: presetName.value || undefined,
        overrides: overrides.value,
        seeds: seeds.value,
        name: name.value.trim() || undefined,
      });
    } catch (err) {
      const e = err as ApiError;
      if (e.field) server.value = { ok: false, errors: [{ field: e.field, message: e.message }] };
      launchError.value = e.message;
      return null;
    } finally {
      launching.value = false;
    }
  }

  return {
    presets,
    catalogue,
    presetName,
    base,
    draft,
    seedCount,
    firstSeed,
    name,
    loaded,
    server,
    validating,
    launching,
    launchError,
    jsonError,
    schemas,
    algoChoices,
    seeds,
    seedError,
    seedIssue,
    fieldErrors,
    generalErrors,
    diff,
    valid,
    overrides,
    jsonText,
    isModified,
    load,
    selectPreset,
    validate,
    setField,
    setJson,
    resetToPreset,
    cloneRun,
    launch,
  };
});
