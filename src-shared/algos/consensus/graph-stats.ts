/**
 * The communication graph as per-round stats, for the run view's graph panel
 * (src-renderer/components/run/CommGraphPanel.vue), so it travels through the ordinary stats
 * path (SQLite metric series, resume truncation, cluster collection, export) with no table of
 * its own. Every size:
 *   commgraph/n          agents (nodes)
 *   commgraph/directed   1 when edges are arcs (j -> i differs from i -> j)
 *   commgraph/graphs     graphs drawn (update iterations) this round
 * Up to TALLY_MAX_AGENTS (16) agents, the graph edge by edge (at most 120 pairs, 240 arcs):
 *   commgraph/edge_i_j   share of this round's graphs in which agent i received from agent j
 *                        (undirected graphs: i < j only); 0 = never. For the complete graph or a
 *                        ring every edge in use has share 1; ring-plus's redrawn extras have
 *                        about edgeFraction.
 * Above 16 agents, a compact form whose row count does not grow with n^2 (at n = 256,
 * undirected: 3 + 3 + 16 + 1 + 136 = 159 rows a round instead of 32,640):
 *   commgraph/deg_mean, deg_min, deg_max
 *                        each agent's degree (undirected) or in-degree (directed: how many it
 *                        receives from) averaged over the round's graphs, then mean/min/max
 *                        over agents
 *   commgraph/deghist_b  agents whose averaged degree lies in bin b of DEG_BINS equal bins
 *                        over [0, n - 1] (degreeBinBounds; the last bin includes n - 1)
 *   commgraph/blocks     B = BLOCKS
 *   commgraph/block_a_b  the adjacency aggregated into B x B blocks: the share of the possible
 *                        arcs from an agent of block b to another agent of block a that were
 *                        edges, averaged over the round's graphs (undirected: a <= b only).
 *                        Blocks are contiguous runs of the ring order (blockBounds), so
 *                        ring-plus's ring shows as a band on and beside the diagonal and its
 *                        extras as an even wash of edgeFraction; for `full` and `none` the ring
 *                        is the identity and the blocks are agent-index ranges.
 */
import { type CommGraph, TALLY_MAX_AGENTS } from './graph';

export const GRAPH_STAT_PREFIX = 'commgraph';
/** Prefix of the consensus learners' residual stats (`consensus/residual`): the view puts the graph beside it. */
export const RESIDUAL_GROUP = 'consensus';
/** Bins of the degree histogram and blocks per side of the block matrix (graphs above TALLY_MAX_AGENTS). */
export const DEG_BINS = 16;
export const BLOCKS = 16;

export function edgeKey(i: number, j: number): string {
  return `${GRAPH_STAT_PREFIX}/edge_${i}_${j}`;
}

export function blockKey(a: number, b: number): string {
  return `${GRAPH_STAT_PREFIX}/block_${a}_${b}`;
}

export function degHistKey(b: number): string {
  return `${GRAPH_STAT_PREFIX}/deghist_${b}`;
}

/** Ring positions [lo[a], lo[a + 1]) of each of the `blocks` blocks (length blocks + 1). */
export function blockBounds(n: number, blocks: number): number[] {
  return Array.from({ length: blocks + 1 }, (_, a) => Math.floor((a * n) / blocks));
}

/** Degree range [lo, hi) of histogram bin b over [0, n - 1] (the last bin closed). */
export function degreeBinBounds(n: number, b: number, bins = DEG_BINS): [number, number] {
  const w = (n - 1) / bins;
  return [b * w, (b + 1) * w];
}

/** Add the graph's stats for the round just played to `out`, and restart its tally. */
export function addGraphStats(graph: CommGraph, out: Record<string, number>): void {
  const t = graph.takeTally();
  const { n } = graph;
  const directed = graph.config.directed;
  out[`${GRAPH_STAT_PREFIX}/n`] = n;
  out[`${GRAPH_STAT_PREFIX}/directed`] = directed ? 1 : 0;
  out[`${GRAPH_STAT_PREFIX}/graphs`] = t.graphs;
  if (n <= TALLY_MAX_AGENTS) {
    for (let i = 0; i < n; i++) {
      for (let j = directed ? 0 : i + 1; j < n; j++) if (i !== j) out[edgeKey(i, j)] = t.share[i * n + j];
    }
    return;
  }
  addCompact(n, directed, t.share, graph.ring, out);
}

function addCompact(n: number, directed: boolean, share: Float64Array, ring: Int32Array, out: Record<string, number>): void {
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < n; j++) d += share[i * n + j];
    deg[i] = d;
  }
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const hist = new Array<number>(DEG_BINS).fill(0);
  const w = (n - 1) / DEG_BINS;
  for (let i = 0; i < n; i++) {
    sum += deg[i];
    lo = Math.min(lo, deg[i]);
    hi = Math.max(hi, deg[i]);
    hist[Math.min(DEG_BINS - 1, Math.floor(deg[i] / w))]++;
  }
  out[`${GRAPH_STAT_PREFIX}/deg_mean`] = sum / n;
  out[`${GRAPH_STAT_PREFIX}/deg_min`] = lo;
  out[`${GRAPH_STAT_PREFIX}/deg_max`] = hi;
  for (let b = 0; b < DEG_BINS; b++) out[degHistKey(b)] = hist[b];

  const bounds = blockBounds(n, BLOCKS);
  const blockOf = new Int32Array(n);
  for (let a = 0; a < BLOCKS; a++) for (let p = bounds[a]; p < bounds[a + 1]; p++) blockOf[ring[p]] = a;
  const mass = new Float64Array(BLOCKS * BLOCKS);
  for (let i = 0; i < n; i++) {
    const row = blockOf[i] * BLOCKS;
    for (let j = 0; j < n; j++) mass[row + blockOf[j]] += share[i * n + j];
  }
  out[`${GRAPH_STAT_PREFIX}/blocks`] = BLOCKS;
  for (let a = 0; a < BLOCKS; a++) {
    const na = bounds[a + 1] - bounds[a];
    for (let b = directed ? 0 : a; b < BLOCKS; b++) {
      const nb = bounds[b + 1] - bounds[b];
      const possible = a === b ? na * (na - 1) : na * nb;
      // Undirected: mass holds each edge as both arcs, and so does `possible` (ordered pairs).
      out[blockKey(a, b)] = possible > 0 ? mass[a * BLOCKS + b] / possible : 0;
    }
  }
}
