// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { ResolveResult, SchemaCatalogue } from '../../src-shared/api';
import type { ExperimentConfig, PartialExperiment } from '../../src-shared/config/experiment';
import { trainSchema } from '../../src-shared/config/experiment';
import { setApi } from '../../src-renderer/api/use-api';
import { VALIDATE_DEBOUNCE_MS, parseInput, useExperimentFormStore } from '../../src-renderer/stores/experiment-form';
import NewExperimentView from '../../src-renderer/views/NewExperimentView.vue';
import { fakeClient, type FakeClient } from './fake-client';

const catalogue: SchemaCatalogue = {
  envs: [
    {
      id: 'manitokan',
      title: 'Manitokan',
      schema: { episodeLimit: { type: 'int', default: 150, min: 10, max: 1000, doc: 'Steps before truncation.' } },
    },
  ],
  algos: [
    { id: 'pg', title: 'Policy gradient', schema: { lr: { type: 'float', default: 0.001, min: 0, max: 1, doc: 'Learning rate.' } } },
    { id: 'random', title: 'Random', schema: {} },
  ],
  train: trainSchema,
};

const presetConfig: ExperimentConfig = {
  env: { id: 'manitokan', episodeLimit: 150 },
  algo: { id: 'pg', lr: 0.001 },
  train: { episodes: 10000, numEnvs: 32, checkpointEvery: 100, replayEvery: 10 },
};

/** The host's resolveConfig: rejects lr above 0.1 with a message only it knows. */
function resolve(req: { preset?: string; overrides?: PartialExperiment }): ResolveResult {
  const o = req.overrides;
  if (o && Number(o.algo?.lr) > 0.1) {
    return { ok: false, errors: [{ field: 'algo.lr', message: 'algo.lr: above 0.1 PG diverges on Manitokan (paper: 0.001)' }] };
  }
  if (o && o.train?.numEnvs === 7) return { ok: false, errors: [{ field: 'preset', message: 'preset: numEnvs 7 is cursed' }] };
  const config = JSON.parse(JSON.stringify({ ...presetConfig, ...(o ?? {}) })) as ExperimentConfig;
  const diff = o && o.train?.episodes !== 10000 ? [{ key: 'train.episodes', preset: 10000, value: o.train?.episodes }] : [];
  return { ok: true, config, diff };
}

let api: FakeClient;
beforeEach(() => {
  setActivePinia(createPinia());
  api = fakeClient({
    listPresets: async () => [{ name: 'manitokan-pg-history', title: 'PG with history', description: 'The paper’s PG.', config: {} }],
    getSchemas: async () => catalogue,
    resolveConfig: vi.fn(async (req) => resolve(req)),
    launch: vi.fn(async () => ({ experimentId: 5, runIds: [11, 12] })),
  });
  setApi(api);
});
afterEach(() => {
  vi.useRealTimers();
  setApi(null);
});

async function mountForm() {
  const w = mount(NewExperimentView, { attachTo: document.body });
  await flushPromises();
  return w;
}
async function type(w: Awaited<ReturnType<typeof mountForm>>, field: string, text: string) {
  const input = w.find(`[data-field="${field}"] input`);
  await input.setValue(text);
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('New experiment form', () => {
  it('generates fields from the schemas with the preset’s values and docs', async () => {
    const w = await mountForm();
    expect((w.find('[data-field="train.episodes"] input').element as HTMLInputElement).value).toBe('10000');
    expect((w.find('[data-field="env.episodeLimit"] input').element as HTMLInputElement).value).toBe('150');
    expect(w.find('[data-field="train.numEnvs"] .doc').text()).toContain('Parallel environment copies');
    expect(w.find('[data-field="algo.lr"] .doc').text()).toContain('a number in [0, 1]');
    w.unmount();
  });

  it('names a bad value next to its field at once, before the host answers', async () => {
    const w = await mountForm();
    await type(w, 'train.episodes', 'abc');
    const err = w.find('[data-field="train.episodes"] [data-error-for="train.episodes"]');
    expect(err.exists()).toBe(true);
    expect(err.text()).toBe('train.episodes: expected an integer in [1, 10000000], got "abc"');
    expect(w.find('[data-field="train.episodes"] input').attributes('aria-invalid')).toBe('true');
    // Other fields stay clean, and Launch is off.
    expect(w.find('[data-field="train.numEnvs"] .error-text').exists()).toBe(false);
    expect(w.find('[data-testid="launch"]').attributes('disabled')).toBeDefined();
    await type(w, 'train.episodes', '150');
    expect(w.find('[data-field="train.episodes"] .error-text').exists()).toBe(false);
    w.unmount();
  });

  it('shows the host’s FieldErrors from resolveConfig next to the field they name', async () => {
    const w = await mountForm();
    await type(w, 'algo.lr', '0.5');
    expect(w.find('[data-field="algo.lr"] .error-text').exists()).toBe(false);
    await wait(VALIDATE_DEBOUNCE_MS + 50);
    await flushPromises();
    expect(api.resolveConfig).toHaveBeenLastCalledWith({
      preset: 'manitokan-pg-history',
      overrides: expect.objectContaining({ algo: { id: 'pg', lr: 0.5 } }),
    });
    const err = w.find('[data-field="algo.lr"] [data-error-for="algo.lr"]');
    expect(err.text()).toBe('algo.lr: above 0.1 PG diverges on Manitokan (paper: 0.001)');
    expect(w.find('[data-field="train.episodes"] .error-text').exists()).toBe(false);
    expect(w.find('[data-testid="validation-state"]').text()).toMatch(/1 problem/);
    w.unmount();
  });

  it('shows errors for no field above the form', async () => {
    const w = await mountForm();
    await type(w, 'train.numEnvs', '7');
    await wait(VALIDATE_DEBOUNCE_MS + 50);
    await flushPromises();
    const banner = w.find('.banner[data-error-for="preset"]');
    expect(banner.text()).toBe('preset: numEnvs 7 is cursed');
    w.unmount();
  });

  it('debounces validation while typing', async () => {
    const w = await mountForm();
    const before = vi.mocked(api.resolveConfig).mock.calls.length;
    for (const t of ['1', '15', '150']) await type(w, 'train.episodes', t);
    await wait(VALIDATE_DEBOUNCE_MS + 50);
    await flushPromises();
    expect(vi.mocked(api.resolveConfig).mock.calls.length - before).toBe(1);
    expect(w.find('[data-testid="config-diff"]').text()).toContain('train.episodes');
    w.unmount();
  });

  it('keeps the JSON view and the form in step both ways', async () => {
    const w = await mountForm();
    await w.find('[data-testid="json-tab"]').trigger('click');
    const ta = w.find('[data-testid="config-json"]');
    expect(JSON.parse((ta.element as HTMLTextAreaElement).value).train.numEnvs).toBe(32);
    const cfg = JSON.parse((ta.element as HTMLTextAreaElement).value);
    cfg.train.numEnvs = 8;
    await ta.setValue(JSON.stringify(cfg));
    await ta.trigger('blur');
    expect((w.find('[data-field="train.numEnvs"] input').element as HTMLInputElement).value).toBe('8');
    await ta.setValue('{ not json');
    await ta.trigger('blur');
    expect(w.text()).toMatch(/JSON: /);
    expect(useExperimentFormStore().draft.train.numEnvs).toBe(8);
    w.unmount();
  });

  it('launches one run per seed with the edited config', async () => {
    const w = await mountForm();
    await type(w, 'train.episodes', '150');
    await w.find('#f-seeds').setValue('2');
    await w.find('#f-first-seed').setValue('40');
    await w.find('[data-testid="launch"]').trigger('click');
    await flushPromises();
    expect(api.launch).toHaveBeenCalledWith({
      preset: 'manitokan-pg-history',
      overrides: expect.objectContaining({ train: expect.objectContaining({ episodes: 150 }) }),
      seeds: [40, 41],
      name: undefined,
    });
    expect(location.hash).toBe('#/history?exp=5');
    w.unmount();
  });
});

describe('Form defects of the first-hour trial (issue 14, items 4 and 5)', () => {
  it('numbers seeds as the CLI does: 3 seeds from 1 are 1, 2, 3', async () => {
    const w = await mountForm();
    expect(useExperimentFormStore().seeds).toEqual([1, 2, 3]);
    expect(w.find('[data-testid="seed-preview"]').text()).toBe('→ 1, 2, 3');
    w.unmount();
  });

  it('a seed start of 2.5 marks the start box, not the count, and previews nothing', async () => {
    const w = await mountForm();
    await w.find('#f-first-seed').setValue('2.5');
    expect(w.find('#f-first-seed').attributes('aria-invalid')).toBe('true');
    expect(w.find('#f-seeds').attributes('aria-invalid')).toBe('false');
    expect(w.find('[data-testid="seed-preview"]').exists()).toBe(false);
    expect(w.find('[data-error-for="firstSeed"]').text()).toMatch(/^first seed: expected an integer in \[0, /);
    expect(w.find('[data-testid="launch"]').text()).toBe('Launch');
    w.unmount();
  });

  it('with errors the budget line shows no negative or zero arithmetic', async () => {
    const w = await mountForm();
    expect(w.find('[data-testid="budget"]').text()).toMatch(/3 runs × 10,000 rounds × 32 envs = 960,000 episodes/);
    await type(w, 'train.episodes', '-5');
    await type(w, 'train.numEnvs', '0');
    const budget = w.find('[data-testid="budget"]').text();
    expect(budget).not.toMatch(/-5|-0|= 0/);
    expect(budget).toMatch(/fix the marked fields/);
    expect(w.find('[data-testid="launch"]').text()).toBe('Launch');
    expect(w.find('[data-testid="launch"]').attributes('disabled')).toBeDefined();
    w.unmount();
  });

  it('groups presets by paper figure, a released-code twin beside its paper preset, and searches them', async () => {
    api.listPresets = vi.fn(async () => [
      { name: 'a-pg', title: 'PG', description: '', paper: '§3.1, Fig. 2-3', config: {} },
      { name: 'a-pg-released-code', title: 'PG (released code)', description: '', paper: '§3.1, Fig. 2-3 (released code)', config: {} },
      { name: 'a-coma-history', title: 'COMA + last action', description: '', paper: '§3.3, Fig. 5', config: {} },
      { name: 'a-misc', title: 'Misc', description: 'no figure', config: {} },
    ]);
    const w = await mountForm();
    const groups = w.findAll('#preset-select optgroup');
    expect(groups.map((g) => g.attributes('label'))).toEqual(['§3.1, Fig. 2-3', '§3.3, Fig. 5', 'Other']);
    expect(groups[0].findAll('option').map((o) => o.attributes('value'))).toEqual(['a-pg', 'a-pg-released-code']);
    await w.find('[data-testid="preset-search"]').setValue('coma');
    const left = w.findAll('#preset-select optgroup option').map((o) => o.attributes('value'));
    // The chosen preset stays listed (under "Selected") while the search hides its group.
    expect(left).toEqual(['a-pg', 'a-coma-history']);
    expect(w.find('#preset-select optgroup').attributes('label')).toBe('Selected');
    w.unmount();
  });
});

describe('parseInput', () => {
  it('keeps what is not a number as text so the validator can name it', () => {
    expect(parseInput({ type: 'int', default: 1, doc: '' }, ' 12 ')).toBe(12);
    expect(parseInput({ type: 'int', default: 1, doc: '' }, '1e3')).toBe(1000);
    expect(parseInput({ type: 'float', default: 1, doc: '' }, '')).toBe('');
    expect(parseInput({ type: 'floatList', default: [1], doc: '' }, '0.1, 0.2')).toEqual([0.1, 0.2]);
    expect(parseInput({ type: 'floatList', default: [1], doc: '' }, '0.1,')).toBe('0.1,');
  });
});
