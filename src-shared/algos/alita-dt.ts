/**
 * D_t retrieval for ALITA's influence estimators (shared/specs/alita.md §2.7): the replay rows
 * whose influencer observation and action match the influencer's current (o_k, a_k), realised
 * over a ring buffer:
 * - 'knn': from a pool of `pool` random rows, those with the same argmax influencer action,
 *   ranked by L2 distance of o_k, the `k` nearest; with fewer than k sharing the action, the
 *   pool ranked by distance on [o_k, onehot(argmax a_k)];
 * - 'exact': a hash index from (o_k bytes, argmax a_k) to ring slots, updated on insertion and
 *   on overwrite; k rows drawn with replacement from the matches, or 'knn' below `minExact`;
 * - 'uniform': k uniform rows (the conditioning ignored; an ablation).
 */
import type { Rng } from '../rng';

export type DtMode = 'knn' | 'exact' | 'uniform';

function argmax(v: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (v[off + k] > v[off + best]) best = k;
  return best;
}

/** Key of an influencer (observation, action) pair for the exact index. */
export function pairKey(obs: ArrayLike<number>, obsOff: number, obsLen: number, act: ArrayLike<number>, actOff: number, actLen: number): string {
  let s = String(argmax(act, actOff, actLen));
  for (let k = 0; k < obsLen; k++) s += ',' + obs[obsOff + k];
  return s;
}

export interface DtResult {
  readonly index: Int32Array;
  /** Mean L2 distance of o_k to the query (0 for exact matches). */
  readonly dist: number;
  /** Fraction of rows whose o_k and argmax action equal the query's. */
  readonly exactFrac: number;
}

/** Reads influencer slices of stored rows (the replay's obs and act fields). */
export interface DtSource {
  readonly count: number;
  obsOf(row: number): Float32Array; //  o_k of row
  actOf(row: number): Float32Array; //  a_k of row
}

export class DtIndex {
  /** key -> ring slots holding it. */
  private readonly slots = new Map<string, number[]>();
  private readonly keyOf: (string | undefined)[] = [];

  /** Row `slot` now holds `key` (replacing whatever it held). */
  set(slot: number, key: string): void {
    const old = this.keyOf[slot];
    if (old !== undefined) {
      const list = this.slots.get(old)!;
      const i = list.indexOf(slot);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.slots.delete(old);
    }
    this.keyOf[slot] = key;
    const l = this.slots.get(key);
    if (l) l.push(slot);
    else this.slots.set(key, [slot]);
  }

  matches(key: string): readonly number[] {
    return this.slots.get(key) ?? [];
  }

  /** Every slot's key agrees with the map (for tests). */
  consistent(): boolean {
    let n = 0;
    for (const [k, list] of this.slots) {
      for (const s of list) if (this.keyOf[s] !== k) return false;
      n += list.length;
    }
    return n === this.keyOf.filter((k) => k !== undefined).length;
  }

  clear(): void {
    this.slots.clear();
    this.keyOf.length = 0;
  }
}

export function retrieveDt(
  mode: DtMode,
  src: DtSource,
  qObs: ArrayLike<number>,
  qAct: ArrayLike<number>,
  k: number,
  pool: number,
  rng: Rng,
  index: DtIndex | null,
  minExact: number,
): DtResult {
  const n = src.count;
  const out = new Int32Array(k);
  if (n === 0) return { index: out.fill(-1), dist: 0, exactFrac: 0 };
  const O = qObs.length;
  const A = qAct.length;
  const qa = argmax(qAct, 0, A);
  if (mode === 'uniform') {
    for (let i = 0; i < k; i++) out[i] = rng.int(n);
    return { index: out, dist: NaN, exactFrac: NaN };
  }
  if (mode === 'exact' && index) {
    const m = index.matches(pairKey(qObs, 0, O, qAct, 0, A));
    if (m.length >= minExact) {
      for (let i = 0; i < k; i++) out[i] = m[rng.int(m.length)];
      return { index: out, dist: 0, exactFrac: 1 };
    }
  }
  const P = Math.min(pool, n);
  const cand: { row: number; d: number; same: boolean }[] = [];
  for (let p = 0; p < P; p++) {
    const row = P === n && n <= pool ? p : rng.int(n);
    const o = src.obsOf(row);
    let d = 0;
    for (let j = 0; j < O; j++) d += (o[j] - qObs[j]) ** 2;
    const same = argmax(src.actOf(row), 0, A) === qa;
    cand.push({ row, d, same });
  }
  let chosen = cand.filter((c) => c.same);
  if (chosen.length < k) {
    // Relax the action constraint: distance on [o_k, onehot(argmax a_k)].
    chosen = cand.map((c) => ({ ...c, d: c.d + (c.same ? 0 : 2) }));
  }
  chosen.sort((a, b) => a.d - b.d || a.row - b.row);
  let dist = 0;
  let exact = 0;
  for (let i = 0; i < k; i++) {
    const c = chosen[i % chosen.length];
    out[i] = c.row;
    dist += Math.sqrt(c.d);
    if (c.d === 0 && c.same) exact++;
  }
  return { index: out, dist: dist / k, exactFrac: exact / k };
}
