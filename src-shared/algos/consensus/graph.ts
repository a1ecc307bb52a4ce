/**
 * Communication graphs of F2A2's consensus (shared/specs/f2a2.md §2.5, paper §6.4 Table 4):
 * who can send its shared-parameter copy to whom at one update iteration.
 *
 * - `full`: the complete graph (every main experiment).
 * - `none`: no edges (Table 4's "0"): every agent learns alone.
 * - `ringPlus(p)`: a random ring over the agents, drawn once per run, plus, at every update
 *   iteration, k = round(p (pool)) extra edges drawn uniformly from the pairs not on the ring
 *   (DESIGN CHOICE: p is the fraction of the non-ring pairs, so p = 1 is the complete graph).
 *   Undirected (pool n(n-1)/2 - n) or, with `directed`, arcs (ring of n arcs, pool n(n-1) - n):
 *   the paper's 3m column varies with p although an undirected ring on 3 agents is complete.
 *
 * A graph is an n x n 0/1 matrix `adj[i * n + j]` = 1 when agent i receives from agent j
 * (symmetric for undirected graphs, zero diagonal).
 */
import type { Rng } from '../../rng';

/**
 * Largest graph published edge by edge for the run view (graph-stats.ts: one stat per pair, at
 * most 120 pairs); larger graphs publish the compact form (degree histogram and a block matrix
 * of fixed size), since n (n - 1) / 2 stat rows a round at n = 256 would swamp the stats table
 * and a drawing of every edge would be a hairball anyway. Every size is tallied.
 */
export const TALLY_MAX_AGENTS = 16;

export type Topology = 'full' | 'none' | 'ring-plus';

export interface GraphConfig {
  readonly topology: Topology;
  /** Fraction of the non-ring pairs added each iteration (ring-plus only), in [0, 1]. */
  readonly edgeFraction: number;
  readonly directed: boolean;
}

export class CommGraph {
  readonly n: number;
  /** [n, n] current receive matrix. */
  readonly adj: Uint8Array;
  /** Ring order (a permutation), fixed for the run (ring-plus only). */
  readonly ring: Int32Array;
  private readonly pool: Int32Array;
  private readonly pick: Int32Array;
  /**
   * [n, n] in how many graphs drawn since the last `takeTally` j -> i was an edge, and how many
   * graphs that was: what the run view draws as "the edges in use" when ring-plus redraws its
   * extra edges every iteration (n^2 counters: 256 KB at n = 256, one pass of adds per update
   * iteration, small next to an update). Not checkpointed: the learners take it every round,
   * and checkpoints fall between rounds.
   */
  readonly tally: Uint32Array;
  private tallied = 0;

  constructor(
    n: number,
    readonly config: GraphConfig,
    rng: Rng,
    /** A ring order to reuse (a restored checkpoint) instead of drawing one. */
    ring?: ArrayLike<number>,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`CommGraph: n must be an integer >= 1, got ${n}`);
    if (!(config.edgeFraction >= 0 && config.edgeFraction <= 1)) throw new Error(`CommGraph: edgeFraction must be in [0, 1], got ${config.edgeFraction}`);
    this.n = n;
    this.adj = new Uint8Array(n * n);
    this.ring = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ring[i] = i;
    if (ring) {
      if (ring.length !== n || new Set(Array.from(ring)).size !== n || Array.from(ring).some((v) => !(Number.isInteger(v) && v >= 0 && v < n))) {
        throw new Error(`CommGraph: ring must be a permutation of 0..${n - 1}`);
      }
      this.ring.set(ring);
    } else if (config.topology === 'ring-plus') rng.shuffle(this.ring);
    // The pool of non-ring pairs (i < j undirected, i != j directed), encoded i * n + j.
    const onRing = new Uint8Array(n * n);
    if (n > 1) {
      for (let k = 0; k < n; k++) {
        const a = this.ring[k];
        const b = this.ring[(k + 1) % n];
        if (a === b) continue;
        onRing[a * n + b] = 1;
        if (!config.directed) onRing[b * n + a] = 1;
      }
    }
    const pool: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j || onRing[i * n + j] || (!config.directed && j < i)) continue;
        pool.push(i * n + j);
      }
    }
    this.pool = Int32Array.from(pool);
    this.pick = new Int32Array(pool.length);
    this.onRing = onRing;
    this.tally = new Uint32Array(n * n);
    // The same draw as redraw() (same draws from rng), but not tallied: no iteration used it yet.
    this.draw(rng);
  }

  private readonly onRing: Uint8Array;

  /** Extra edges of ring-plus drawn each iteration. */
  get extraEdges(): number {
    return this.config.topology === 'ring-plus' ? Math.round(this.config.edgeFraction * this.pool.length) : 0;
  }

  /** Draw this iteration's graph (only ring-plus changes between iterations). */
  redraw(rng: Rng): void {
    this.draw(rng);
    const t = this.tally;
    const adj = this.adj;
    for (let k = 0; k < t.length; k++) t[k] += adj[k];
    this.tallied++;
  }

  /**
   * Share of the graphs drawn since the last call in which each j -> i was an edge ([n, n];
   * the current graph when none was drawn since), and how many graphs that was; restarts the
   * count.
   */
  takeTally(): { share: Float64Array; graphs: number } {
    const t = this.tally;
    const share = new Float64Array(t.length);
    const graphs = this.tallied;
    for (let k = 0; k < t.length; k++) share[k] = graphs > 0 ? t[k] / graphs : this.adj[k];
    t.fill(0);
    this.tallied = 0;
    return { share, graphs };
  }

  private draw(rng: Rng): void {
    const { n, adj } = this;
    const t = this.config.topology;
    if (t === 'none') {
      adj.fill(0);
      return;
    }
    if (t === 'full') {
      adj.fill(1);
      for (let i = 0; i < n; i++) adj[i * n + i] = 0;
      return;
    }
    adj.set(this.onRing);
    const k = this.extraEdges;
    if (k === 0) return;
    // Partial Fisher-Yates: the first k of a shuffled copy of the pool.
    const p = this.pick;
    p.set(this.pool);
    for (let a = 0; a < k; a++) {
      const j = a + rng.int(p.length - a);
      const tmp = p[a];
      p[a] = p[j];
      p[j] = tmp;
      const e = p[a];
      adj[e] = 1;
      if (!this.config.directed) adj[(e % n) * n + Math.floor(e / n)] = 1;
    }
  }

  /** Agents that agent i receives from in the current graph. */
  neighbours(i: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.n; j++) if (this.adj[i * this.n + j]) out.push(j);
    return out;
  }

  /** Number of edges (undirected pairs, or arcs when directed) in the current graph. */
  edgeCount(): number {
    let c = 0;
    for (let k = 0; k < this.adj.length; k++) c += this.adj[k];
    return this.config.directed ? c : c / 2;
  }
}
