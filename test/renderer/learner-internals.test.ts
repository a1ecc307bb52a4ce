// @vitest-environment happy-dom
/**
 * Learner internals lead with what the run's learner (and the training loop) declare as their
 * diagnostics (AlgoEntry.diagnostics, the reward-interaction wrapper's group): titled, right
 * after the losses, and never the ones a cap on charts cuts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { SchemaCatalogue, SeriesRequest } from '../../src-shared/api';
import { alitaEntry } from '../../src-shared/algos/alita';
import { INTERACTION_STAT_GROUP } from '../../src-shared/envs/reward-interaction';
import { listAlgos } from '../../src-shared/registry';
import { setApi } from '../../src-renderer/api/use-api';
import { learnerGroups } from '../../src-renderer/lib/metric-groups';
import { useRunDetailStore } from '../../src-renderer/stores/run-detail';
import { fakeClient, makeRun } from './fake-client';

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => setApi(null));

const ALITA_KEYS = [
  'return_total',
  'losses/actor_0',
  'losses/critic_0',
  'charts/updates',
  'charts/buffer_size',
  'im/bonus_1',
  'im/penalty_0',
  'influence/F_1',
  'influence/clone_loss',
  'interaction/trigger_rate',
  'zeta/other',
];

/** A finished ALITA run opened in the run-detail store; `metricSeries` records the panel's fetches. */
async function openAlitaRun(id: number) {
  const LearnerPanel = (await import('../../src-renderer/components/run/LearnerPanel.vue')).default;
  const metricSeries = vi.fn(async (req: SeriesRequest) => ({ runId: req.runId, key: req.key, x: [1], y: [0.1], total: 1, downsampled: false }));
  setApi(
    fakeClient({
      getRun: async (runId: number) => makeRun({ id: runId, status: 'done', algoId: 'alita', envId: 'spread' }),
      metricKeys: async () => ALITA_KEYS,
      runLog: async () => [],
      metricSeries,
      listEpisodes: async () => ({ rows: [], total: 0 }),
    }),
  );
  await useRunDetailStore().open(id);
  return { LearnerPanel, metricSeries };
}

describe('learnerGroups', () => {
  it('losses, then the declared groups titled in their order, then the rest; no episode metric', () => {
    const { groups, hidden } = learnerGroups(ALITA_KEYS, [...alitaEntry.diagnostics!, INTERACTION_STAT_GROUP]);
    expect(groups.map((g) => g.prefix)).toEqual(['losses', 'influence', 'im', 'interaction', 'charts', 'zeta']);
    expect(groups[1].title).toBe(alitaEntry.diagnostics![0].title);
    expect(groups.find((g) => g.prefix === 'charts')!.title).toBeUndefined();
    expect(groups.flatMap((g) => g.keys)).not.toContain('return_total');
    expect(hidden).toBe(0);
  });

  it('a cap cuts the undeclared groups first', () => {
    const { groups, hidden } = learnerGroups(ALITA_KEYS, alitaEntry.diagnostics!, 6);
    expect(groups.map((g) => [g.prefix, g.keys.length])).toEqual([
      ['losses', 2],
      ['influence', 2],
      ['im', 2],
    ]);
    expect(hidden).toBe(4);
    // Without declarations the same cap would have cut ALITA's diagnostics.
    expect(learnerGroups(ALITA_KEYS, [], 6).groups.map((g) => g.prefix)).toEqual(['losses', 'charts', 'im']);
  });

  it('every declared group of a registered learner names a bare prefix', () => {
    for (const a of listAlgos()) {
      for (const d of a.diagnostics ?? []) {
        expect(d.prefix, a.id).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(d.title.length, a.id).toBeGreaterThan(0);
      }
    }
  });
});

describe('Learner internals tab', () => {
  it("shows the run learner's declared groups titled, right after its losses", async () => {
    const LearnerPanel = (await import('../../src-renderer/components/run/LearnerPanel.vue')).default;
    const catalogue: SchemaCatalogue = {
      envs: [],
      algos: [{ id: 'alita', title: 'ALITA', schema: {}, diagnostics: alitaEntry.diagnostics }],
      train: {},
      loopDiagnostics: [INTERACTION_STAT_GROUP],
    };
    setApi(
      fakeClient({
        getRun: async (id: number) => makeRun({ id, status: 'done', algoId: 'alita', envId: 'spread', metricKeys: ['return_total'], metrics: [{ key: 'return_total', title: 'Return', role: 'return' }] }),
        metricKeys: async () => ALITA_KEYS,
        runLog: async () => [],
        getSchemas: async () => catalogue,
        metricSeries: vi.fn(async (req: SeriesRequest) => ({ runId: req.runId, key: req.key, x: [1], y: [0.1], total: 1, downsampled: false })),
        listEpisodes: async () => ({ rows: [], total: 0 }),
      }),
    );
    await useRunDetailStore().open(3);
    const MetricChart = { props: ['metric'], template: '<div class="metric-chart" :data-metric="metric" />' };
    const w = mount(LearnerPanel, { global: { stubs: { MetricChart } } });
    await flushPromises();
    expect(w.findAll('.group').map((g) => g.attributes('data-group'))).toEqual(['losses', 'influence', 'im', 'interaction', 'charts', 'zeta']);
    const titles = w.findAll('[data-testid="group-title"]').map((t) => t.text());
    expect(titles).toEqual([alitaEntry.diagnostics![0].title, alitaEntry.diagnostics![1].title, INTERACTION_STAT_GROUP.title]);
    expect(w.findAll('.metric-chart')).toHaveLength(ALITA_KEYS.length - 1);
    w.unmount();
  });

  it('a hidden (kept-mounted) tab fetches nothing until it is shown', async () => {
    const { LearnerPanel, metricSeries } = await openAlitaRun(4);
    // The store's own fetches (the Charts tab's defaults) are not the panel's.
    await flushPromises();
    metricSeries.mockClear();
    const MetricChart = { props: ['metric'], template: '<div class="metric-chart" :data-metric="metric" />' };
    const w = mount(LearnerPanel, { props: { active: false }, global: { stubs: { MetricChart } } });
    await flushPromises();
    expect(metricSeries).not.toHaveBeenCalled();
    await w.setProps({ active: true });
    await flushPromises();
    expect(metricSeries).toHaveBeenCalledTimes(ALITA_KEYS.length - 1);
    w.unmount();
  });
  it('fetches its series after the tab has painted, not inside the click that mounts it', async () => {
    const { LearnerPanel, metricSeries } = await openAlitaRun(5);
    await flushPromises();
    metricSeries.mockClear();
    // A frame is painted only when the test says so: the first load must wait for it.
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
    try {
      const MetricChart = { props: ['metric'], template: '<div class="metric-chart" :data-metric="metric" />' };
      const w = mount(LearnerPanel, { global: { stubs: { MetricChart } } });
      await flushPromises();
      expect(w.findAll('.metric-chart')).toHaveLength(ALITA_KEYS.length - 1);
      expect(metricSeries).not.toHaveBeenCalled();
      expect(frames.length).toBeGreaterThan(0);
      for (const f of frames.splice(0)) f(performance.now());
      // The load runs in the task queued after the paint.
      await new Promise((r) => setTimeout(r, 5));
      await flushPromises();
      expect(metricSeries).toHaveBeenCalledTimes(ALITA_KEYS.length - 1);
      w.unmount();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
