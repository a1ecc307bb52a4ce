// @vitest-environment happy-dom
/** The new-experiment form's "add axis" control: axes become a sweep spec over the form's base; runs and estimate shown before launch. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { SchemaCatalogue, SweepPlanInfo, SweepRequest } from '../../src-shared/api';
import { trainSchema, type ExperimentConfig } from '../../src-shared/config/experiment';
import { setApi } from '../../src-renderer/api/use-api';
import { rowToAxis } from '../../src-renderer/stores/sweep-form';
import NewExperimentView from '../../src-renderer/views/NewExperimentView.vue';
import { fakeClient, type FakeClient } from './fake-client';

const catalogue: SchemaCatalogue = {
  envs: [{ id: 'manitokan', title: 'Manitokan', schema: { episodeLimit: { type: 'int', default: 150, min: 10, max: 1000, doc: 'Steps.' } } }],
  algos: [{ id: 'pg', title: 'PG', schema: { lr: { type: 'float', default: 0.001, min: 0, max: 1, doc: 'Learning rate.' } } }],
  train: trainSchema,
};
const config: ExperimentConfig = {
  env: { id: 'manitokan', episodeLimit: 150 },
  algo: { id: 'pg', lr: 0.001 },
  train: { episodes: 100, numEnvs: 8, checkpointEvery: 100, replayEvery: 10 },
};

let api: FakeClient;
let lastPlan: SweepRequest | null = null;
beforeEach(() => {
  setActivePinia(createPinia());
  lastPlan = null;
  api = fakeClient({
    listPresets: async () => [{ name: 'manitokan-pg', title: 'PG', description: '', config: {} }],
    getSchemas: async () => catalogue,
    resolveConfig: async () => ({ ok: true, config, diff: [] }),
    planSweep: vi.fn(async (req: SweepRequest): Promise<SweepPlanInfo> => {
      lastPlan = req;
      const axis = req.spec.axes[0] as { values: number[] };
      return {
        name: 'x',
        cells: axis.values.map((v) => ({ label: `algo.lr=${v}`, values: { 'algo.lr': v } })),
        seeds: req.spec.seeds as number[],
        runs: axis.values.length * (req.spec.seeds as number[]).length,
        episodes: 0,
        estimatedSeconds: 5400,
        estimateBasis: 'from 3 finished pg/manitokan runs on this machine, 2 at once',
      };
    }),
    launchSweep: vi.fn(async () => ({ sweepId: 2, experimentId: 9, runIds: [1, 2, 3, 4, 5, 6] })),
  });
  setApi(api);
});
afterEach(() => setApi(null));

describe('add axis', () => {
  it('rows become axes; half-typed rows say what is missing', () => {
    expect(rowToAxis({ key: 'algo.lr', mode: 'values', values: '1e-3, 3e-3', from: '', to: '', steps: '' }, 0)).toEqual({ key: 'algo.lr', values: [1e-3, 3e-3] });
    expect(rowToAxis({ key: 'algo.lr', mode: 'logRange', values: '', from: '1e-4', to: '1e-2', steps: '3' }, 0)).toEqual({ key: 'algo.lr', logRange: { from: 1e-4, to: 1e-2, steps: 3 } });
    expect(rowToAxis({ key: '', mode: 'values', values: '', from: '', to: '', steps: '' }, 1)).toBe('axis 2: choose a field');
    expect(rowToAxis({ key: 'algo.lr', mode: 'values', values: '1,', from: '', to: '', steps: '' }, 0)).toMatch(/enter comma-separated values/);
  });

  it('shows the number of runs and the estimated time before launch, and launches the sweep over the form’s base', async () => {
    const w = mount(NewExperimentView, { attachTo: document.body });
    await flushPromises();
    await w.find('[data-testid="add-axis"]').trigger('click');
    await w.find('[data-testid="axis-key"]').setValue('algo.lr');
    await w.find('[data-testid="axis-values"]').setValue('0.001, 0.003');
    await new Promise((r) => setTimeout(r, 400));
    await flushPromises();
    expect(lastPlan!.spec).toMatchObject({ preset: 'manitokan-pg', axes: [{ key: 'algo.lr', values: [0.001, 0.003] }], seeds: [0, 1, 2] });
    expect(w.find('[data-testid="sweep-summary"]').text()).toMatch(/2\s*cells ×\s*3\s*seeds =\s*6\s*runs/);
    expect(w.find('[data-testid="sweep-estimate"]').text()).toMatch(/about 1\s*h\s*30/);
    await w.find('[data-testid="launch-sweep"]').trigger('click');
    await flushPromises();
    expect(api.launchSweep).toHaveBeenCalledWith({ spec: lastPlan!.spec });
    w.unmount();
  });
});
