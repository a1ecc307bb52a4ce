// @vitest-environment happy-dom
/**
 * The new-experiment form folds fields that do nothing under the current choices (their
 * schema's `when`; the train section's frozen-opponent fields too), keeping their values and
 * errors, and shows an estimated run time from this machine's bench figures of that learner
 * on that env, or says there are none.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { HostInfo, SchemaCatalogue } from '../../src-shared/api';
import type { ExperimentConfig, PartialExperiment } from '../../src-shared/config/experiment';
import { trainSchema } from '../../src-shared/config/experiment';
import type { BenchFigure } from '../../src-shared/bench-estimate';
import { setApi } from '../../src-renderer/api/use-api';
import { useExperimentFormStore } from '../../src-renderer/stores/experiment-form';
import NewExperimentView from '../../src-renderer/views/NewExperimentView.vue';
import { fakeClient } from './fake-client';

const catalogue: SchemaCatalogue = {
  envs: [{ id: 'manitokan', title: 'Manitokan', schema: { episodeLimit: { type: 'int', default: 150, min: 10, max: 1000, doc: 'Steps.' } } }],
  algos: [
    {
      id: 'pg',
      title: 'Policy gradient',
      schema: {
        correction: { type: 'enum', default: 'none', values: ['none', 'self'], doc: 'Correction term.' },
        correctionCoef: { type: 'float', default: 1, min: 0, doc: 'Scale of the correction.', when: { field: 'correction', not: 'none' } },
        psiDamping: { type: 'float', default: 0, min: 0, doc: 'Damping.', when: { field: 'correction', not: 'none' } },
      },
    },
    { id: 'random', title: 'Random', schema: {} },
  ],
  train: trainSchema,
};
const presetConfig: ExperimentConfig = {
  env: { id: 'manitokan', episodeLimit: 150 },
  algo: { id: 'pg', correction: 'none', correctionCoef: 1, psiDamping: 0 },
  train: { episodes: 1000, numEnvs: 64, checkpointEvery: 100, replayEvery: 10 },
};
const figure: BenchFigure = {
  algo: 'pg',
  env: 'manitokan',
  preset: 'manitokan-pg',
  backend: 'wasm',
  envStepsPerSecond: 12_000,
  roundsPerSecond: 4,
  numEnvs: 32,
  measuredAt: 1_700_000_000_000,
};

beforeEach(() => {
  setActivePinia(createPinia());
  setApi(
    fakeClient({
      listPresets: async () => [{ name: 'manitokan-pg', title: 'PG', description: '', config: {} }],
      getSchemas: async () => catalogue,
      resolveConfig: vi.fn(async (req: { overrides?: PartialExperiment }) => ({
        ok: true as const,
        config: JSON.parse(JSON.stringify({ ...presetConfig, ...(req.overrides ?? {}) })) as ExperimentConfig,
        diff: [],
      })),
      benchFigures: async () => ({ file: '/tmp/bench-results.json', figures: [figure] }),
      info: async () => ({ maxParallel: 2, backend: 'wasm' }) as HostInfo,
    }),
  );
});
afterEach(() => setApi(null));

describe('form: folding and run-time estimate', () => {
  it('folds inapplicable fields behind an "n hidden" toggle, keeps their values, and unfolds them when they apply', async () => {
    const w = mount(NewExperimentView, { attachTo: document.body });
    await flushPromises();
    const form = useExperimentFormStore();
    expect(w.find('[data-field="algo.correctionCoef"]').exists()).toBe(false);
    const toggle = w.find('[data-testid="fold-algo"]');
    expect(toggle.text()).toContain('2 hidden');
    expect(toggle.attributes('aria-expanded')).toBe('false');
    await toggle.trigger('click');
    const folded = w.find('[data-field="algo.correctionCoef"]');
    expect(folded.attributes('data-folded')).toBe('true');
    expect(folded.text()).toContain('Inactive: applies when correction is not none');
    // Edited while folded: kept in the draft, and a bad value still shows its error.
    await folded.find('input').setValue('-1');
    expect(form.draft.algo.correctionCoef).toBe(-1);
    await toggle.trigger('click');
    expect(w.find('[data-field="algo.correctionCoef"] [data-error-for="algo.correctionCoef"]').exists()).toBe(true);
    expect(w.find('[data-testid="fold-algo"]').text()).toContain('1 hidden');
    // Choosing a correction makes both fields act: no longer folded.
    await w.find('[data-field="algo.correction"] select').setValue('self');
    expect(w.find('[data-testid="fold-algo"]').exists()).toBe(false);
    expect(w.find('[data-field="algo.psiDamping"]').attributes('data-folded')).toBeUndefined();
    w.unmount();
  });

  it('folds the frozen-opponent fields under self-play and shows train.opponentRound with its doc once opponent = frozen', async () => {
    const w = mount(NewExperimentView, { attachTo: document.body });
    await flushPromises();
    expect(w.find('[data-field="train.opponentRound"]').exists()).toBe(false);
    expect(w.find('[data-testid="fold-train"]').text()).toContain('3 hidden');
    await w.find('[data-field="train.opponent"] select').setValue('frozen');
    const round = w.find('[data-field="train.opponentRound"]');
    expect(round.attributes('data-folded')).toBeUndefined();
    expect(round.text()).toContain("0 = that run's latest checkpoint at launch");
    expect(w.find('[data-field="train.opponentRun"]').exists()).toBe(true);
    expect(w.find('[data-testid="fold-train"]').exists()).toBe(false);
    w.unmount();
  });

  it('estimates the run time from the bench figures of that learner on that env, and says when there are none', async () => {
    const w = mount(NewExperimentView, { attachTo: document.body });
    await flushPromises();
    const form = useExperimentFormStore();
    form.seedCount = 3;
    await flushPromises();
    // 1000 rounds at 4 rounds/s with 32 envs, run with 64 envs: 500 s per run; 3 runs, 2 at a time: 1000 s.
    const est = w.find('[data-testid="estimate"]');
    expect(est.text()).toContain('≈ 16m 40s');
    expect(est.text()).toContain('8m 20s per run');
    expect(est.text()).toContain('bench: pg on manitokan-pg, 12,000 env-steps/s at 32 envs');
    form.setField('algo', 'id', 'random');
    await flushPromises();
    expect(w.find('[data-testid="estimate"]').text()).toMatch(/No time estimate: no bench figures for random on manitokan/);
    w.unmount();
  });
});
