/**
 * The communication graph as per-round stats, for the run view's graph panel
 * (src-renderer/components/run/CommGraphPanel.vue), so it travels through the ordinary stats
 * path (SQLite metric series, resume truncation, cluster collection, export) with no table of
 * its own:
 *   commgraph/n          agents (nodes)
 *   commgraph/directed   1 when edges are arcs (j -> i differs from i -> j)
 *   commgraph/graphs     graphs drawn (update iterations) this round
 *   commgraph/edge_i_j   share of this round's graphs in which agent i received from agent j
 *                        (undirected graphs: i < j only); 0 = never. For the complete graph or a
 *                        ring every edge in use has share 1; ring-plus's redrawn extras have
 *                        about edgeFraction.
 * Only for n <= TALLY_MAX_AGENTS (16: at most 120 pairs, 240 arcs); larger runs publish nothing.
 */
import { type CommGraph } from './graph';

export const GRAPH_STAT_PREFIX = 'commgraph';
/** Prefix of the consensus learners' residual stats (`consensus/residual`): the view puts the graph beside it. */
export const RESIDUAL_GROUP = 'consensus';

export function edgeKey(i: number, j: number): string {
  return `${GRAPH_STAT_PREFIX}/edge_${i}_${j}`;
}

/** Add the graph's stats for the round just played to `out`, and restart its tally. */
export function addGraphStats(graph: CommGraph, out: Record<string, number>): void {
  const t = graph.takeTally();
  if (!t) return;
  const { n } = graph;
  const directed = graph.config.directed;
  out[`${GRAPH_STAT_PREFIX}/n`] = n;
  out[`${GRAPH_STAT_PREFIX}/directed`] = directed ? 1 : 0;
  out[`${GRAPH_STAT_PREFIX}/graphs`] = t.graphs;
  for (let i = 0; i < n; i++) {
    for (let j = directed ? 0 : i + 1; j < n; j++) if (i !== j) out[edgeKey(i, j)] = t.share[i * n + j];
  }
}
