/**
 * Reading the communication graph a consensus learner publishes as `commgraph/*` stats
 * (src-shared/algos/consensus/graph-stats.ts) into something to draw: nodes in an order that
 * puts a ring on the circle's rim, and the edges with the share of the round's graphs they were
 * in. Nothing here names a learner: any learner publishing these stats gets the panel.
 */
import { blockBounds, blockKey, DEG_BINS, degHistKey, degreeBinBounds, GRAPH_STAT_PREFIX } from '../../../src-shared/algos/consensus/graph-stats';

export interface GraphEdge {
  /** Receiver and sender (undirected: i < j). */
  i: number;
  j: number;
  /** Share of the round's graphs that held the edge, in (0, 1]. */
  share: number;
}

export interface CommGraphView {
  n: number;
  directed: boolean;
  /** Graphs (update iterations) the shares are over; 0 = the graph before any update. */
  graphs: number;
  /** Edges with a share > 0. */
  edges: GraphEdge[];
  /** Nodes around the circle: along the ring when the always-present edges form one. */
  order: number[];
  /** The compact form of graphs above 16 agents (then `edges` is empty), else null. */
  compact: CompactGraph | null;
}

/** A large graph as graph-stats.ts publishes it: degrees and the adjacency in blocks. */
export interface CompactGraph {
  /** Each agent's degree (directed: in-degree) averaged over the round's graphs: mean, min, max over agents. */
  degMean: number;
  degMin: number;
  degMax: number;
  /** Agents per degree bin, with each bin's [lo, hi) degree range. */
  hist: { count: number; lo: number; hi: number }[];
  /** Ring positions [bounds[a], bounds[a + 1]) of block a. */
  bounds: number[];
  /** [B][B] share of block b -> block a arcs in use (mirrored for undirected graphs); NaN = no pairs. */
  share: number[][];
}

export const isGraphKey = (k: string): boolean => k.startsWith(`${GRAPH_STAT_PREFIX}/`);

const EDGE = new RegExp(`^${GRAPH_STAT_PREFIX}/edge_(\\d+)_(\\d+)$`);

/** The graph from one round's values of the `commgraph/*` keys; null without a valid `n`. */
export function readCommGraph(values: Readonly<Record<string, number>>): CommGraphView | null {
  const n = values[`${GRAPH_STAT_PREFIX}/n`];
  if (!Number.isInteger(n) || n < 1) return null;
  const directed = values[`${GRAPH_STAT_PREFIX}/directed`] === 1;
  const graphs = values[`${GRAPH_STAT_PREFIX}/graphs`] ?? 0;
  const edges: GraphEdge[] = [];
  for (const [k, v] of Object.entries(values)) {
    const m = EDGE.exec(k);
    if (!m || !(v > 0)) continue;
    const i = Number(m[1]);
    const j = Number(m[2]);
    if (i >= n || j >= n || i === j) continue;
    edges.push({ i, j, share: Math.min(1, v) });
  }
  edges.sort((a, b) => a.i - b.i || a.j - b.j);
  return { n, directed, graphs, edges, order: ringOrder(n, edges), compact: readCompact(values, n, directed) };
}

/** The compact form, when the round has it (`commgraph/blocks`). */
function readCompact(values: Readonly<Record<string, number>>, n: number, directed: boolean): CompactGraph | null {
  const B = values[`${GRAPH_STAT_PREFIX}/blocks`];
  if (!Number.isInteger(B) || B < 1 || B > n) return null;
  const bounds = blockBounds(n, B);
  const share: number[][] = [];
  for (let a = 0; a < B; a++) {
    const row: number[] = [];
    for (let b = 0; b < B; b++) {
      const v = values[directed || a <= b ? blockKey(a, b) : blockKey(b, a)];
      const size = bounds[a + 1] - bounds[a];
      // A block of one agent has no pair inside it: nothing to colour.
      row.push(a === b && size < 2 ? NaN : Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
    }
    share.push(row);
  }
  const hist = Array.from({ length: DEG_BINS }, (_, b) => {
    const [lo, hi] = degreeBinBounds(n, b);
    return { count: values[degHistKey(b)] ?? 0, lo, hi };
  });
  const num = (k: string) => values[`${GRAPH_STAT_PREFIX}/${k}`] ?? 0;
  return { degMean: num('deg_mean'), degMin: num('deg_min'), degMax: num('deg_max'), hist, bounds, share };
}

/**
 * Nodes along the cycle formed by the edges present in every graph, if they form a single
 * cycle through all nodes (ring-plus's ring); otherwise 0..n-1. Directions are ignored.
 */
export function ringOrder(n: number, edges: readonly GraphEdge[]): number[] {
  const identity = Array.from({ length: n }, (_, i) => i);
  if (n < 4) return identity;
  const nb: number[][] = identity.map(() => []);
  for (const e of edges) {
    if (e.share < 1) continue;
    if (!nb[e.i].includes(e.j)) nb[e.i].push(e.j);
    if (!nb[e.j].includes(e.i)) nb[e.j].push(e.i);
  }
  if (nb.some((l) => l.length !== 2)) return identity;
  const order = [0];
  let prev = -1;
  let cur = 0;
  for (;;) {
    const next = nb[cur][0] !== prev ? nb[cur][0] : nb[cur][1];
    if (next === 0) break;
    if (order.includes(next)) return identity;
    order.push(next);
    prev = cur;
    cur = next;
  }
  return order.length === n ? order : identity;
}

/** Node centres on a circle of radius r around (c, c), first node at the top, clockwise. */
export function nodePositions(order: readonly number[], c: number, r: number): { x: number; y: number }[] {
  const n = order.length;
  const pos: { x: number; y: number }[] = new Array(n);
  order.forEach((node, k) => {
    const a = -Math.PI / 2 + (2 * Math.PI * k) / n;
    pos[node] = { x: c + r * Math.cos(a), y: c + r * Math.sin(a) };
  });
  return pos;
}
