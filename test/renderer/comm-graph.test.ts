// @vitest-environment happy-dom
/**
 * The communication graph in Learner internals: from a consensus learner's `commgraph/*` stats
 * (here the values a real CommGraph published) the panel draws one node per agent and one line
 * per edge used in the latest round, heavier for edges in more of its graphs, with the ring on
 * the rim; the graph's per-pair stats are drawn, not charted; learners without them get no
 * panel.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { SchemaCatalogue, SeriesRequest } from '../../src-shared/api';
import { CommGraph } from '../../src-shared/algos/consensus/graph';
import { addGraphStats, blockKey, BLOCKS, DEG_BINS, degHistKey, edgeKey } from '../../src-shared/algos/consensus/graph-stats';
import { maAcEntry } from '../../src-shared/algos/ma-ac';
import { Rng } from '../../src-shared/rng';
import { setApi } from '../../src-renderer/api/use-api';
import { useRunDetailStore } from '../../src-renderer/stores/run-detail';
import { readCommGraph, ringOrder } from '../../src-renderer/components/run/comm-graph-read';
import { fakeClient, makeRun } from './fake-client';

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => setApi(null));

/** One round's stats of a ring-plus graph over 6 agents (2 extra edges redrawn 50 times). */
function graphRound(): { stats: Record<string, number>; ring: number[] } {
  const rng = new Rng(4);
  const g = new CommGraph(6, { topology: 'ring-plus', edgeFraction: 0.2, directed: false }, rng);
  for (let t = 0; t < 50; t++) g.redraw(rng);
  const stats: Record<string, number> = {};
  addGraphStats(g, stats);
  return { stats, ring: Array.from(g.ring) };
}

describe('reading the graph', () => {
  it('edges with a share, the ring order, identity when the always-edges are no single cycle', () => {
    const { stats, ring } = graphRound();
    const v = readCommGraph(stats)!;
    expect(v.n).toBe(6);
    expect(v.graphs).toBe(50);
    expect(v.edges.filter((e) => e.share === 1)).toHaveLength(6);
    expect(v.edges.every((e) => e.i < e.j && e.share > 0)).toBe(true);
    // The order walks the ring (either direction, from agent 0).
    const k0 = ring.indexOf(0);
    const fwd = Array.from({ length: 6 }, (_, k) => ring[(k0 + k) % 6]);
    const back = Array.from({ length: 6 }, (_, k) => ring[(k0 - k + 6) % 6]);
    expect([fwd.join(), back.join()]).toContain(v.order.join());
    // Complete graph: every node has n - 1 always-edges, so no ring: identity.
    const full = [];
    for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) full.push({ i, j, share: 1 });
    expect(ringOrder(5, full)).toEqual([0, 1, 2, 3, 4]);
    expect(readCommGraph({ 'commgraph/edge_0_1': 1 })).toBeNull();
  });
});

describe('Learner internals: the communication graph panel', () => {
  async function mountPanel(stats: Record<string, number>, extraKeys: string[]) {
    const LearnerPanel = (await import('../../src-renderer/components/run/LearnerPanel.vue')).default;
    const keys = [...extraKeys, ...Object.keys(stats)];
    const catalogue: SchemaCatalogue = { envs: [], algos: [{ id: 'ma-ac', title: 'MA-AC', schema: {}, diagnostics: maAcEntry.diagnostics }], train: {} };
    // Rounds 1..7 of every key; the latest round (7) holds `stats`, earlier rounds zeros.
    const metricSeries = vi.fn(async (req: SeriesRequest) => {
      const xs = [1, 2, 3, 4, 5, 6, 7].filter((x) => (req.from === undefined || x >= req.from) && (req.to === undefined || x <= req.to));
      const y = xs.map((x) => (x === 7 ? (stats[req.key] ?? 0.5) : 0));
      return { runId: req.runId, key: req.key, x: xs, y, total: xs.length, downsampled: false };
    });
    setApi(
      fakeClient({
        getRun: async (id: number) => makeRun({ id, status: 'done', algoId: 'ma-ac', envId: 'rover-tower', episodesDone: 7 }),
        metricKeys: async () => keys,
        runLog: async () => [],
        getSchemas: async () => catalogue,
        metricSeries,
        listEpisodes: async () => ({ rows: [], total: 0 }),
      }),
    );
    await useRunDetailStore().open(9);
    const MetricChart = { props: ['metric'], template: '<div class="metric-chart" :data-metric="metric" />' };
    const w = mount(LearnerPanel, { global: { stubs: { MetricChart } } });
    await flushPromises();
    await flushPromises();
    return { w, metricSeries };
  }

  it('draws the agents and the edges of the latest round; the per-pair stats are not charted', async () => {
    const { stats } = graphRound();
    const { w } = await mountPanel(stats, ['losses/critic', 'consensus/residual', 'comm/total_scalars']);
    const panel = w.find('[data-testid="comm-graph"]');
    expect(panel.exists()).toBe(true);
    expect(panel.findAll('[data-testid="comm-graph-node"]')).toHaveLength(6);
    const drawn = panel.findAll('[data-testid="comm-graph-edge"]');
    const used = Object.entries(stats).filter(([k, v]) => k.startsWith('commgraph/edge_') && v > 0);
    expect(drawn).toHaveLength(used.length);
    for (const e of drawn) {
      const share = stats[edgeKey(Number(e.attributes('data-i')), Number(e.attributes('data-j')))];
      expect(Number(e.attributes('data-share'))).toBe(share);
      expect(Number(e.attributes('stroke-width'))).toBeCloseTo(1 + 2 * share, 9);
    }
    expect(panel.find('[data-testid="comm-graph-edges"]').text()).toBe(`${used.length} of 15 pairs`);
    const charted = w.findAll('.metric-chart').map((c) => c.attributes('data-metric'));
    expect(charted.sort()).toEqual(['comm/total_scalars', 'consensus/residual', 'losses/critic']);
    // The residual is charted in the learner's declared, titled consensus group.
    // The graph sits right before the consensus group, which holds the residual.
    const order = w.findAll('[data-testid="comm-graph"], .group').map((e) => e.attributes('data-group') ?? 'graph');
    expect(order.indexOf('graph') + 1).toBe(order.indexOf('consensus'));
    const group = w.find('[data-group="consensus"]');
    expect(group.find('[data-testid="group-title"]').text()).toBe('Consensus');
    expect(group.find('[data-metric="consensus/residual"]').exists()).toBe(true);
    w.unmount();
  });

  it('above 16 agents: a 16 x 16 block matrix and a degree histogram, no node or edge per agent', async () => {
    const rng = new Rng(8);
    const g = new CommGraph(64, { topology: 'ring-plus', edgeFraction: 0.2, directed: false }, rng);
    for (let t = 0; t < 30; t++) g.redraw(rng);
    const stats: Record<string, number> = {};
    addGraphStats(g, stats);
    const { w, metricSeries } = await mountPanel(stats, ['consensus/residual']);
    const panel = w.find('[data-testid="comm-graph-compact"]');
    expect(panel.exists()).toBe(true);
    expect(w.findAll('[data-testid="comm-graph-node"]')).toHaveLength(0);
    expect(w.findAll('[data-testid="comm-graph-edge"]')).toHaveLength(0);
    const cells = panel.findAll('[data-testid="comm-graph-block"]');
    expect(cells).toHaveLength(BLOCKS * BLOCKS);
    // Undirected: the matrix is the published upper triangle mirrored.
    for (const c of cells) {
      const a = Number(c.attributes('data-a'));
      const b = Number(c.attributes('data-b'));
      const v = stats[blockKey(Math.min(a, b), Math.max(a, b))];
      expect(Number(c.attributes('data-share'))).toBe(v);
      expect(Number(c.attributes('fill-opacity'))).toBeCloseTo(0.08 + 0.92 * v, 9);
    }
    const bars = panel.findAll('[data-testid="comm-graph-deg-bar"]').map((b) => Number(b.attributes('data-count')));
    expect(bars).toEqual(Array.from({ length: DEG_BINS }, (_, b) => stats[degHistKey(b)]));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(64);
    expect(panel.find('[data-testid="comm-graph-n"]').text()).toBe('64');
    // 64 ring edges + round(0.2 x 1952) = 390 extras in every graph.
    expect(panel.find('[data-testid="comm-graph-edges"]').text()).toBe('454.0 of 2016 pairs on average');
    // The latest round's keys it reads: the 159 of the compact form, not one per pair (2016).
    expect(Object.keys(stats)).toHaveLength(159);
    expect(new Set(metricSeries.mock.calls.filter(([r]) => r.from === 7 && r.to === 7).map(([r]) => r.key)).size).toBe(159);
    w.unmount();
  });

  it('no commgraph stats, no panel', async () => {
    const { w } = await mountPanel({}, ['losses/critic', 'consensus/residual']);
    expect(w.find('[data-testid="comm-graph"]').exists()).toBe(false);
    expect(w.findAll('.metric-chart')).toHaveLength(2);
    w.unmount();
  });
});
