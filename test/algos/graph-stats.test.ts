/**
 * The communication graph as the run view reads it (consensus/graph-stats.ts): per round, the
 * share of the drawn graphs holding each edge. Checked on the complete graph, on ring-plus
 * (ring edges in every graph, the extras in about edgeFraction of them, each round's tally
 * restarting), on a directed graph, in the compact form above 16 agents (degrees, histogram,
 * block matrix, checked against the edges drawn), and from a real MA-AC round whose
 * residual now sits in its declared `consensus` group.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CommGraph, TALLY_MAX_AGENTS } from '../../src-shared/algos/consensus/graph';
import { addGraphStats, blockBounds, blockKey, BLOCKS, DEG_BINS, degHistKey, edgeKey, GRAPH_STAT_PREFIX } from '../../src-shared/algos/consensus/graph-stats';
import { maAcEntry, type MaAcTrainer } from '../../src-shared/algos/ma-ac';
import { resolve } from '../../src-shared/config/schema';
import { spreadEntry } from '../../src-shared/envs/spread';
import { readCommGraph } from '../../src-renderer/components/run/comm-graph-read';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

const edges = (s: Record<string, number>) => Object.keys(s).filter((k) => k.startsWith(`${GRAPH_STAT_PREFIX}/edge_`));

describe('communication graph stats', () => {
  it('complete graph: every pair in every graph; before any redraw, the current graph with 0 graphs drawn', () => {
    const g = new CommGraph(4, { topology: 'full', edgeFraction: 1, directed: false }, new Rng(1));
    const s: Record<string, number> = {};
    addGraphStats(g, s);
    expect(s[`${GRAPH_STAT_PREFIX}/n`]).toBe(4);
    expect(s[`${GRAPH_STAT_PREFIX}/graphs`]).toBe(0);
    expect(edges(s)).toHaveLength(6);
    for (const k of edges(s)) expect(s[k]).toBe(1);
    const rng = new Rng(2);
    for (let t = 0; t < 3; t++) g.redraw(rng);
    const s2: Record<string, number> = {};
    addGraphStats(g, s2);
    expect(s2[`${GRAPH_STAT_PREFIX}/graphs`]).toBe(3);
    expect(s2[edgeKey(0, 3)]).toBe(1);
  });

  it('ring-plus: ring edges in every graph, the extras in about edgeFraction of them; the tally restarts each round', () => {
    const rng = new Rng(5);
    const n = 8;
    const g = new CommGraph(n, { topology: 'ring-plus', edgeFraction: 0.25, directed: false }, rng);
    for (let t = 0; t < 400; t++) g.redraw(rng);
    const s: Record<string, number> = {};
    addGraphStats(g, s);
    expect(s[`${GRAPH_STAT_PREFIX}/graphs`]).toBe(400);
    const onRing = new Set<string>();
    for (let k = 0; k < n; k++) {
      const a = g.ring[k];
      const b = g.ring[(k + 1) % n];
      onRing.add(edgeKey(Math.min(a, b), Math.max(a, b)));
    }
    let extra = 0;
    for (const k of edges(s)) {
      if (onRing.has(k)) expect(s[k]).toBe(1);
      else {
        expect(s[k]).toBeGreaterThan(0.1);
        expect(s[k]).toBeLessThan(0.4);
        extra += s[k];
      }
    }
    // round(0.25 x 20) = 5 extra edges per graph, exactly, summed over the pool.
    expect(extra).toBeCloseTo(5, 9);
    // The reader puts the ring on the rim: consecutive nodes are ring neighbours.
    const view = readCommGraph(s)!;
    for (let k = 0; k < n; k++) {
      const a = view.order[k];
      const b = view.order[(k + 1) % n];
      expect(onRing.has(edgeKey(Math.min(a, b), Math.max(a, b)))).toBe(true);
    }
    g.redraw(rng);
    const s2: Record<string, number> = {};
    addGraphStats(g, s2);
    expect(s2[`${GRAPH_STAT_PREFIX}/graphs`]).toBe(1);
    expect(edges(s2).filter((k) => s2[k] > 0)).toHaveLength(n + 5);
  });

  it('directed graphs publish arcs both ways', () => {
    const rng = new Rng(7);
    const d = new CommGraph(3, { topology: 'ring-plus', edgeFraction: 0, directed: true }, rng);
    d.redraw(rng);
    const s: Record<string, number> = {};
    addGraphStats(d, s);
    expect(s[`${GRAPH_STAT_PREFIX}/directed`]).toBe(1);
    expect(edges(s)).toHaveLength(6);
    expect(edges(s).filter((k) => s[k] === 1)).toHaveLength(3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) expect(s[edgeKey(i, j)]).toBe(d.adj[i * 3 + j]);
  });
});

describe('communication graph stats above TALLY_MAX_AGENTS: the compact form', () => {
  const keys = (s: Record<string, number>, what: string) => Object.keys(s).filter((k) => k.startsWith(`${GRAPH_STAT_PREFIX}/${what}`));

  it('ring-plus over 64 agents: no per-pair rows; degrees, histogram and blocks add up to the edges drawn; the ring is a band', () => {
    const rng = new Rng(11);
    const n = 64;
    const g = new CommGraph(n, { topology: 'ring-plus', edgeFraction: 0.2, directed: false }, rng);
    for (let t = 0; t < 200; t++) g.redraw(rng);
    const s: Record<string, number> = {};
    addGraphStats(g, s);
    expect(edges(s)).toEqual([]);
    // 3 + deg_mean/min/max + 16 bins + blocks + 16 * 17 / 2 block pairs.
    expect(Object.keys(s)).toHaveLength(3 + 3 + DEG_BINS + 1 + (BLOCKS * (BLOCKS + 1)) / 2);
    // Every graph: the 64 ring edges + round(0.2 x (2016 - 64)) = 390 extras; each edge adds 2 to the degree sum.
    const perGraph = n + 390;
    expect(s[`${GRAPH_STAT_PREFIX}/deg_mean`]).toBeCloseTo((2 * perGraph) / n, 9);
    expect(s[`${GRAPH_STAT_PREFIX}/deg_min`]).toBeGreaterThanOrEqual(2);
    expect(s[`${GRAPH_STAT_PREFIX}/deg_max`]).toBeLessThan(n - 1);
    expect(keys(s, 'deghist_').reduce((a, k) => a + s[k], 0)).toBe(n);
    // The mean degree ~14.2 lies in bin floor(14.2 / (63 / 16)) = 3; 200 graphs keep every agent near it.
    expect(s[degHistKey(3)]).toBeGreaterThan(n / 2);
    const lo = blockBounds(n, BLOCKS);
    let mass = 0;
    for (let a = 0; a < BLOCKS; a++) {
      for (let b = a; b < BLOCKS; b++) {
        const na = lo[a + 1] - lo[a];
        const nb = lo[b + 1] - lo[b];
        mass += s[blockKey(a, b)] * (a === b ? (na * (na - 1)) / 2 : na * nb);
      }
    }
    expect(mass).toBeCloseTo(perGraph, 6);
    // Blocks of 4 consecutive ring positions: 3 of a block's 6 pairs are ring edges (share 1),
    // 1 of 16 pairs between neighbouring blocks; far blocks hold the extras only (~0.2).
    for (let a = 0; a < BLOCKS; a++) {
      expect(s[blockKey(a, a)]).toBeGreaterThan(0.55);
      const far = (a + 8) % BLOCKS;
      expect(s[blockKey(Math.min(a, far), Math.max(a, far))]).toBeGreaterThan(0.12);
      expect(s[blockKey(Math.min(a, far), Math.max(a, far))]).toBeLessThan(0.28);
    }
  });

  it('complete graph over 20 agents: every block full, every agent in the top bin; a directed ring over 17: in-degree 1, B x B blocks', () => {
    const rng = new Rng(3);
    const full = new CommGraph(20, { topology: 'full', edgeFraction: 1, directed: false }, rng);
    full.redraw(rng);
    const s: Record<string, number> = {};
    addGraphStats(full, s);
    expect(s[`${GRAPH_STAT_PREFIX}/deg_min`]).toBe(19);
    expect(s[degHistKey(DEG_BINS - 1)]).toBe(20);
    const lo = blockBounds(20, BLOCKS);
    for (let a = 0; a < BLOCKS; a++) for (let b = a; b < BLOCKS; b++) expect(s[blockKey(a, b)]).toBe(a === b && lo[a + 1] - lo[a] < 2 ? 0 : 1);
    const d = new CommGraph(17, { topology: 'ring-plus', edgeFraction: 0, directed: true }, rng);
    d.redraw(rng);
    const sd: Record<string, number> = {};
    addGraphStats(d, sd);
    expect(sd[`${GRAPH_STAT_PREFIX}/deg_min`]).toBe(1);
    expect(sd[`${GRAPH_STAT_PREFIX}/deg_max`]).toBe(1);
    expect(keys(sd, 'block_')).toHaveLength(BLOCKS * BLOCKS);
    const none = new CommGraph(TALLY_MAX_AGENTS + 1, { topology: 'none', edgeFraction: 1, directed: false }, rng);
    none.redraw(rng);
    const sn: Record<string, number> = {};
    addGraphStats(none, sn);
    expect(sn[degHistKey(0)]).toBe(TALLY_MAX_AGENTS + 1);
    expect(keys(sn, 'block_').every((k) => sn[k] === 0)).toBe(true);
  });
});

describe('MA-AC publishes its graph and its residual under consensus/', () => {
  beforeAll(setupTf);

  it('a round of ring-plus over 5 agents: commgraph/* with the ring in every graph, consensus/residual', async () => {
    const envConfig = resolve('env', spreadEntry.schema, { numAgents: 5, episodeLimit: 5 });
    const env = spreadEntry.create(envConfig, { numEnvs: 2, autoReset: false });
    const t = maAcEntry.createTrainer({
      tf,
      env,
      envConfig,
      config: resolve('algo', maAcEntry.schema, { hiddenDim: 4, batchSize: 4, updateEvery: 2, topology: 'ring-plus', edgeFraction: 0.2 }),
      seed: 3,
      rng: new Rng(3, 1),
    }) as MaAcTrainer;
    const r = await t.round();
    const s = r.stats;
    expect(s['charts/updates']).toBeGreaterThan(0);
    expect(s[`${GRAPH_STAT_PREFIX}/n`]).toBe(5);
    expect(s[`${GRAPH_STAT_PREFIX}/graphs`]).toBeGreaterThan(0);
    expect(edges(s)).toHaveLength(10);
    const ring = Array.from(t.graph.ring);
    for (let k = 0; k < 5; k++) {
      const a = ring[k];
      const b = ring[(k + 1) % 5];
      expect(s[edgeKey(Math.min(a, b), Math.max(a, b))]).toBe(1);
    }
    expect(Number.isFinite(s['consensus/residual'])).toBe(true);
    expect(s['consensus/edges']).toBe(t.graph.edgeCount());
    expect(maAcEntry.diagnostics!.map((d) => d.prefix)).toContain('consensus');
    t.dispose();
  });
});
