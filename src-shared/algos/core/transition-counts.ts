/**
 * Tabular visit and transition counts over the agents' discrete local states, for the
 * count-based exploration learners (EITI and EDTI, Wang et al. ICLR 2020; alita.md §8):
 *
 * - `StateKeys` reads agent i's discrete state s_i from its observation row, as the env declares
 *   it (`EnvSpec.discreteState`: observation blocks read as one-hot indices or bits), and packs
 *   it into one integer (mixed radix). Env facts stay in the env's files.
 * - `TransitionCounts` holds, per agent, n(s_i) (the curiosity bonus eta / sqrt(n + 1)); per
 *   teammate j, n(s_j, a_j) and n(s_j, a_j, s'_j); per ordered pair (i, j), n(s_i, a_i, s_j, a_j)
 *   and n(s_i, a_i, s_j, a_j, s'_j). From these, the interaction of i on j for one transition:
 *     'mi'    (the paper's term)  log p^(s'_j | s_i, a_i, s_j, a_j) - log p^(s'_j | s_j, a_j)
 *     'count' (our reading of the code's count approximations "1 - p^"): 1 - p^(s'_j | s_j, a_j)
 *             / p^(s'_j | s_i, a_i, s_j, a_j) = 1 - exp(-mi): bounded above by 1, 0 when i's
 *             state-action tells nothing about j's move. (The released code's Push-Box class was
 *             not read; see eiti.ts.)
 *   The transition is counted before its term is read (the code updates its tables first), so
 *   every estimate is a finite ratio of positive counts. The curiosity bonus of a state is read
 *   before its visit is counted (the code's Dec.output comes before Dec.update).
 *
 * Counts live in Maps keyed by packed integers (exact below 2^53: the constructor checks the
 * largest key) and are saved as flat [key, count, ...] arrays in the learner's checkpoint, so a
 * resumed trainer continues bit-identically.
 */
import type { EnvSpec } from '../../envs/types';

/** Largest packed key that is still an exact integer in a double. */
const EXACT = Number.MAX_SAFE_INTEGER;

/** Reads each agent's discrete state key from observation rows. */
export class StateKeys {
  /** Per agent: number of distinct keys (the product of the parts' radices). */
  readonly sizes: readonly number[];
  private readonly parts: readonly { offset: number; size: number; read: 'onehot' | 'bits' }[][];

  constructor(spec: EnvSpec) {
    const ds = spec.discreteState;
    if (!ds || ds.length !== spec.numAgents) throw new Error(`env "${spec.id}" declares no discrete per-agent state (EnvSpec.discreteState), which count-based learners need`);
    this.parts = ds.map((agentParts, i) => {
      const layout = spec.agents[i].obsLayout;
      const offsets: number[] = [];
      let o = 0;
      for (const b of layout) {
        offsets.push(o);
        o += b.kind === 'features' ? b.size : b.width * b.height * b.channels;
      }
      return agentParts.map((p) => {
        const b = layout[p.block];
        if (!b || b.kind !== 'features') throw new Error(`env "${spec.id}": discreteState of agent ${i} names block ${p.block}, which is not a features block`);
        if (p.read === 'bits' && b.size > 20) throw new Error(`env "${spec.id}": discreteState block "${b.name}" has ${b.size} bits (at most 20)`);
        return { offset: offsets[p.block], size: b.size, read: p.read };
      });
    });
    this.sizes = this.parts.map((ps) => ps.reduce((n, p) => n * (p.read === 'onehot' ? p.size : 2 ** p.size), 1));
  }

  /** Agent i's key from its observation row starting at `obs[row]`. */
  key(obs: Float32Array, row: number, agent: number): number {
    let k = 0;
    for (const p of this.parts[agent]) {
      const o = row + p.offset;
      if (p.read === 'onehot') {
        let idx = 0;
        for (let x = 1; x < p.size; x++) if (obs[o + x] > obs[o + idx]) idx = x;
        k = k * p.size + idx;
      } else {
        let bits = 0;
        for (let x = 0; x < p.size; x++) bits = bits * 2 + (obs[o + x] > 0.5 ? 1 : 0);
        k = k * 2 ** p.size + bits;
      }
    }
    return k;
  }
}

/** A count per packed key. */
export class CountTable {
  private readonly m = new Map<number, number>();

  get(key: number): number {
    return this.m.get(key) ?? 0;
  }

  /** Count one more occurrence; returns the new count. */
  add(key: number): number {
    const n = (this.m.get(key) ?? 0) + 1;
    this.m.set(key, n);
    return n;
  }

  get size(): number {
    return this.m.size;
  }

  /** [key, count, key, count, ...] in insertion order. */
  toArray(): number[] {
    const out: number[] = [];
    for (const [k, v] of this.m) out.push(k, v);
    return out;
  }

  static fromArray(a: unknown, what: string): CountTable {
    if (!Array.isArray(a) || a.length % 2 !== 0) throw new Error(`checkpoint count table "${what}" is not a [key, count, ...] array`);
    const t = new CountTable();
    for (let i = 0; i < a.length; i += 2) {
      const k = Number(a[i]);
      const v = Number(a[i + 1]);
      if (!Number.isFinite(k) || !(v > 0)) throw new Error(`checkpoint count table "${what}": bad entry at ${i}`);
      t.m.set(k, v);
    }
    return t;
  }
}

export type InteractionForm = 'mi' | 'count';

/** Visit and transition counts of N agents with A actions each and per-agent state sizes `S`. */
export class TransitionCounts {
  readonly N: number;
  readonly A: number;
  readonly S: readonly number[];
  /** [i] n(s_i). */
  visits: CountTable[];
  /** [j] n(s_j, a_j) and n(s_j, a_j, s'_j). */
  private own: CountTable[];
  private ownNext: CountTable[];
  /** [i * N + j] n(s_i, a_i, s_j, a_j) and n(s_i, a_i, s_j, a_j, s'_j) (unused when i = j). */
  private pair: CountTable[];
  private pairNext: CountTable[];

  constructor(S: readonly number[], A: number) {
    this.N = S.length;
    this.A = A;
    this.S = S;
    for (let i = 0; i < this.N; i++) {
      for (let j = 0; j < this.N; j++) {
        if (i !== j && S[i] * A * S[j] * A * S[j] > EXACT) {
          throw new Error(`transition counts: agents ${i} and ${j} have ${S[i]} and ${S[j]} states; their joint transition keys exceed 2^53 (use a smaller discrete state)`);
        }
      }
    }
    const tables = (n: number) => Array.from({ length: n }, () => new CountTable());
    this.visits = tables(this.N);
    this.own = tables(this.N);
    this.ownNext = tables(this.N);
    this.pair = tables(this.N * this.N);
    this.pairNext = tables(this.N * this.N);
  }

  /** eta / sqrt(n + 1) with n the visits of s before this one; then counts the visit. */
  curiosity(i: number, s: number, eta: number): number {
    const n = this.visits[i].get(s);
    this.visits[i].add(s);
    return eta / Math.sqrt(n + 1);
  }

  /** Count one joint transition: states s [N], actions a [N], next states s2 [N]. */
  countTransition(s: ArrayLike<number>, a: ArrayLike<number>, s2: ArrayLike<number>): void {
    const { N, A } = this;
    for (let j = 0; j < N; j++) {
      const sa = s[j] * A + a[j];
      this.own[j].add(sa);
      this.ownNext[j].add(sa * this.S[j] + s2[j]);
    }
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        if (i === j) continue;
        const ctx = ((s[i] * A + a[i]) * this.S[j] + s[j]) * A + a[j];
        this.pair[i * N + j].add(ctx);
        this.pairNext[i * N + j].add(ctx * this.S[j] + s2[j]);
      }
    }
  }

  /** The interaction of agent i on agent j for a transition already counted. */
  interaction(i: number, j: number, s: ArrayLike<number>, a: ArrayLike<number>, s2: ArrayLike<number>, form: InteractionForm): number {
    const { N, A } = this;
    const sa = s[j] * A + a[j];
    const pMarg = this.ownNext[j].get(sa * this.S[j] + s2[j]) / this.own[j].get(sa);
    const ctx = ((s[i] * A + a[i]) * this.S[j] + s[j]) * A + a[j];
    const pCond = this.pairNext[i * N + j].get(ctx * this.S[j] + s2[j]) / this.pair[i * N + j].get(ctx);
    if (!(pMarg > 0 && pCond > 0)) throw new Error(`transition counts: interaction(${i}, ${j}) read before the transition was counted`);
    return form === 'mi' ? Math.log(pCond) - Math.log(pMarg) : 1 - pMarg / pCond;
  }

  /** Distinct entries per table kind (for logs). */
  sizes(): { states: number; transitions: number } {
    return { states: this.visits.reduce((n, t) => n + t.size, 0), transitions: this.pairNext.reduce((n, t) => n + t.size, 0) };
  }

  save(): Record<string, number[][]> {
    const arr = (ts: CountTable[]) => ts.map((t) => t.toArray());
    return { visits: arr(this.visits), own: arr(this.own), ownNext: arr(this.ownNext), pair: arr(this.pair), pairNext: arr(this.pairNext) };
  }

  load(st: Record<string, unknown>): void {
    const arr = (name: string, n: number): CountTable[] => {
      const v = st[name];
      if (!Array.isArray(v) || v.length !== n) throw new Error(`checkpoint counts "${name}": expected ${n} tables`);
      return v.map((a, k) => CountTable.fromArray(a, `${name}[${k}]`));
    };
    const { N } = this;
    this.visits = arr('visits', N);
    this.own = arr('own', N);
    this.ownNext = arr('ownNext', N);
    this.pair = arr('pair', N * N);
    this.pairNext = arr('pairNext', N * N);
  }
}
