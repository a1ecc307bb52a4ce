/**
 * F2A2's primal-dual consensus over the agents' copies of the shared parameters
 * (shared/specs/f2a2.md §2.2-2.4, 2.7; paper eq. 5.2-5.4, Algorithm 1).
 *
 * Each agent i holds its copy w~_i of the shared parameters (flattened, P values), a dual
 * variable lambda_i (same shape, starts at 0) and its local view w_i of the consensus value
 * (starts as its own copy). One event for agent i, in the order of §2.4:
 *   1. w_i <- weighted average of the copies of i's closed neighbourhood (uniform 1/(|N_i|+1),
 *      or Metropolis c(i,j) = 1/(1 + max(deg_i, deg_j)), c(i,i) = 1 - the rest);
 *   2. proximal primal step w~_i <- w~_i - eta (lambda_i + beta (w~_i - w_i));
 *   3. dual step lambda_i <- lambda_i - beta (w_i - w~_i) with the updated copy.
 * Events of one iteration are synchronous (DESIGN CHOICE): every firing agent averages the
 * copies as they were before any event of this iteration, so the result does not depend on
 * the agents' order. `averaging` mode replaces steps 2-3 by w~_i <- w_i (plain averaging).
 *
 * With lambda's mean at 0 (its start) and a doubly stochastic averaging matrix (the complete
 * graph, any regular graph with uniform weights, any graph with Metropolis weights), an
 * iteration in which every agent fires keeps the mean of the copies and the mean of lambda
 * unchanged; test/algos/consensus.test.ts checks it.
 *
 * Communication accounting (§2.7, DESIGN CHOICE): one message per (receiver, sender) pair per
 * event, scalars = messages x P.
 */
import type { CommGraph } from './graph';

export type ConsensusWeights = 'uniform' | 'metropolis';
export type ConsensusMode = 'primal-dual' | 'averaging';

export interface ConsensusConfig {
  /** Dual penalty beta (> 0). */
  readonly beta: number;
  /** Step of the proximal primal update eta_c. */
  readonly eta: number;
  readonly weights: ConsensusWeights;
  readonly mode: ConsensusMode;
}

export class PrimalDualConsensus {
  /** [n, P] dual variables. */
  readonly lambda: Float32Array;
  /** [n, P] each agent's local consensus value w_i. */
  readonly local: Float32Array;
  /** Cumulative messages and scalars received. */
  messages = 0;
  scalars = 0;
  /** Events held so far. */
  events = 0;
  private readonly prev: Float32Array;
  private readonly w: Float64Array;

  constructor(
    readonly n: number,
    readonly P: number,
    readonly config: ConsensusConfig,
  ) {
    if (!(config.beta > 0)) throw new Error(`consensus: beta must be > 0, got ${config.beta}`);
    if (!(config.eta > 0)) throw new Error(`consensus: eta must be > 0, got ${config.eta}`);
    this.lambda = new Float32Array(n * P);
    this.local = new Float32Array(n * P);
    this.prev = new Float32Array(n * P);
    this.w = new Float64Array(n);
  }

  /** Start every local view from the agent's own copy (before its first exchange). */
  init(copies: Float32Array): void {
    this.check(copies);
    this.local.set(copies);
  }

  /** Row i of the averaging matrix over the current graph, into `this.w`. */
  private weightsFor(i: number, g: CommGraph): void {
    const n = this.n;
    const w = this.w;
    w.fill(0);
    const deg = (k: number) => {
      let d = 0;
      for (let j = 0; j < n; j++) d += g.adj[k * n + j];
      return d;
    };
    const di = deg(i);
    if (this.config.weights === 'uniform') {
      for (let j = 0; j < n; j++) if (g.adj[i * n + j]) w[j] = 1 / (di + 1);
      w[i] = 1 / (di + 1);
      return;
    }
    let s = 0;
    for (let j = 0; j < n; j++) {
      if (!g.adj[i * n + j]) continue;
      w[j] = 1 / (1 + Math.max(di, deg(j)));
      s += w[j];
    }
    w[i] = 1 - s;
  }

  /**
   * Hold the events of one iteration: agents with `fire[i]` = 1 and at least one neighbour in
   * `graph` update their local value, copy (in place in `copies`, [n, P]) and dual.
   * Returns the number of events.
   */
  step(copies: Float32Array, graph: CommGraph, fire: Uint8Array): number {
    this.check(copies);
    const { n, P } = this;
    const { beta, eta, mode } = this.config;
    this.prev.set(copies);
    const prev = this.prev;
    let held = 0;
    for (let i = 0; i < n; i++) {
      if (!fire[i]) continue;
      let nb = 0;
      for (let j = 0; j < n; j++) nb += graph.adj[i * n + j];
      if (nb === 0) continue;
      held++;
      this.messages += nb;
      this.scalars += nb * P;
      this.weightsFor(i, graph);
      const w = this.w;
      const o = i * P;
      for (let k = 0; k < P; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) if (w[j] !== 0) s += w[j] * prev[j * P + k];
        this.local[o + k] = s;
      }
      if (mode === 'averaging') {
        copies.set(this.local.subarray(o, o + P), o);
        continue;
      }
      const lam = this.lambda;
      for (let k = 0; k < P; k++) {
        const c = copies[o + k] - eta * (lam[o + k] + beta * (copies[o + k] - this.local[o + k]));
        copies[o + k] = c;
        lam[o + k] -= beta * (this.local[o + k] - c);
      }
    }
    this.events += held;
    return held;
  }

  /** Mean squared distance of the copies from their mean (the consensus residual). */
  static residual(copies: Float32Array, n: number, P: number): number {
    let total = 0;
    for (let k = 0; k < P; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += copies[i * P + k];
      m /= n;
      for (let i = 0; i < n; i++) {
        const d = copies[i * P + k] - m;
        total += d * d;
      }
    }
    return total / (n * P);
  }

  private check(copies: Float32Array): void {
    if (copies.length !== this.n * this.P) throw new Error(`consensus: copies hold ${copies.length} values, expected n x P = ${this.n} x ${this.P}`);
  }

  getState(): Record<string, unknown> {
    return { lambda: Array.from(this.lambda), local: Array.from(this.local), messages: this.messages, scalars: this.scalars, events: this.events };
  }

  setState(s: Record<string, unknown>): void {
    const lambda = s.lambda as number[];
    const local = s.local as number[];
    if (!Array.isArray(lambda) || lambda.length !== this.n * this.P || !Array.isArray(local) || local.length !== this.n * this.P) {
      throw new Error('consensus.setState: lambda/local have the wrong length');
    }
    this.lambda.set(lambda);
    this.local.set(local);
    this.messages = Number(s.messages);
    this.scalars = Number(s.scalars);
    this.events = Number(s.events);
  }
}
