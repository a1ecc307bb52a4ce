/**
 * Transition replay for feed-forward off-policy learners (DQN/MADDPG style): a ring of the last
 * `capacity` transitions, each a row of named float fields (obs, actions, rewards, next obs,
 * done flags, ... whatever the learner declares), sampled uniformly with replacement from a
 * seeded Rng. Rows are stored per (copy) transition across all agents, so one sample keeps the
 * agents of one joint step together, as centralised critics need.
 *
 * Only the valid rows of a lock-step step are stored (`valid[b]`): finished copies' padding
 * never enters the buffer. A sample also returns `mask` (1 per drawn row) so a learner can
 * pad a batch to a fixed size while the buffer is still filling (`sample(k)` with k > count).
 *
 * Fields named in `trackStats` keep running per-column sums of what the ring holds (evicted rows
 * leave them), so `fieldStats` gives the mean and population std of every stored value without
 * a pass over the buffer: MAAC's reward normalisation at sampling time.
 *
 * Storage grows by doubling up to `capacity` (a 1e6-transition buffer of wide joint rows would
 * otherwise reserve gigabytes for runs that never fill it); growth does not change any value.
 */
import type { Rng } from '../../rng';
import type { Checkpoint } from '../types';

export class TransitionBuffer {
  private readonly data: Record<string, Float32Array>;
  private next = 0;
  private size = 0;
  /** Rows currently allocated (<= capacity). */
  private rows: number;
  /** Per tracked field: running sum and sum of squares per column (float64). */
  private readonly sums = new Map<string, { s: Float64Array; q: Float64Array }>();

  constructor(
    readonly capacity: number,
    /** Field name -> floats per transition. */
    readonly widths: Readonly<Record<string, number>>,
    /** Fields whose per-column mean and std `fieldStats` serves. */
    trackStats: readonly string[] = [],
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error(`TransitionBuffer: capacity must be an integer >= 1, got ${capacity}`);
    this.data = {};
    this.rows = Math.min(capacity, 4096);
    for (const [k, w] of Object.entries(widths)) {
      if (!(Number.isInteger(w) && w >= 1)) throw new Error(`TransitionBuffer: width of "${k}" must be an integer >= 1, got ${w}`);
      this.data[k] = new Float32Array(this.rows * w);
    }
    for (const f of trackStats) {
      const w = widths[f];
      if (w === undefined) throw new Error(`TransitionBuffer: cannot track stats of unknown field "${f}"`);
      this.sums.set(f, { s: new Float64Array(w), q: new Float64Array(w) });
    }
  }

  /** Per-column mean and population std of field `name` over the stored rows (a tracked field). */
  fieldStats(name: string): { mean: Float64Array; std: Float64Array } {
    const acc = this.sums.get(name);
    if (!acc) throw new Error(`TransitionBuffer: field "${name}" is not tracked (pass it in trackStats)`);
    const w = acc.s.length;
    const mean = new Float64Array(w);
    const std = new Float64Array(w);
    if (this.size === 0) return { mean, std };
    for (let j = 0; j < w; j++) {
      mean[j] = acc.s[j] / this.size;
      std[j] = Math.sqrt(Math.max(0, acc.q[j] / this.size - mean[j] * mean[j]));
    }
    return { mean, std };
  }

  private accumulate(name: string, r: number, sign: 1 | -1): void {
    const acc = this.sums.get(name)!;
    const w = acc.s.length;
    const d = this.data[name];
    for (let j = 0; j < w; j++) {
      const v = d[r * w + j];
      acc.s[j] += sign * v;
      acc.q[j] += sign * v * v;
    }
  }

  /** Make room for at least `n` rows (doubling, capped at capacity). */
  private reserve(n: number): void {
    if (n <= this.rows) return;
    let rows = this.rows;
    while (rows < n) rows = Math.min(this.capacity, rows * 2);
    for (const [k, w] of Object.entries(this.widths)) {
      const grown = new Float32Array(rows * w);
      grown.set(this.data[k]);
      this.data[k] = grown;
    }
    this.rows = rows;
  }

  /** Field `name` of stored row `r` (a view; valid until the next insert). */
  row(name: string, r: number): Float32Array {
    const w = this.widths[name];
    if (w === undefined) throw new Error(`TransitionBuffer: no field "${name}"`);
    return this.data[name].subarray(r * w, (r + 1) * w);
  }

  /** Ring slot the next insert writes (for indexes kept beside the buffer). */
  get nextSlot(): number {
    return this.next;
  }

  get count(): number {
    return this.size;
  }

  /**
   * Store the rows b with `valid[b]` of a batch whose field k holds B rows of `widths[k]`
   * floats each (copy order).
   */
  insert(rows: Readonly<Record<string, ArrayLike<number>>>, valid: ArrayLike<number>): void {
    const B = valid.length;
    for (const [k, w] of Object.entries(this.widths)) {
      const src = rows[k];
      if (!src || src.length !== B * w) throw new Error(`TransitionBuffer: field "${k}" needs ${B} x ${w} values, got ${src ? src.length : 'none'}`);
    }
    for (let b = 0; b < B; b++) {
      if (!valid[b]) continue;
      this.reserve(this.next + 1);
      const evicts = this.size === this.capacity;
      if (evicts) for (const f of this.sums.keys()) this.accumulate(f, this.next, -1);
      for (const [k, w] of Object.entries(this.widths)) {
        const src = rows[k];
        const dst = this.data[k];
        for (let j = 0; j < w; j++) dst[this.next * w + j] = src[b * w + j];
      }
      for (const f of this.sums.keys()) this.accumulate(f, this.next, 1);
      this.next = (this.next + 1) % this.capacity;
      this.size = Math.min(this.size + 1, this.capacity);
    }
  }

  /**
   * Draw `k` rows uniformly with replacement into `out` (field -> k x width floats, allocated
   * when absent); `mask` is 1 for drawn rows and 0 for rows left empty (an empty buffer).
   */
  sample(k: number, rng: Rng, out: Record<string, Float32Array> = {}): { fields: Record<string, Float32Array>; mask: Float32Array; index: Int32Array } {
    const mask = new Float32Array(k);
    const index = new Int32Array(k).fill(-1);
    for (const [f, w] of Object.entries(this.widths)) {
      if (!out[f] || out[f].length !== k * w) out[f] = new Float32Array(k * w);
      else out[f].fill(0);
    }
    if (this.size === 0) return { fields: out, mask, index };
    for (let i = 0; i < k; i++) {
      const r = rng.int(this.size);
      index[i] = r;
      mask[i] = 1;
      for (const [f, w] of Object.entries(this.widths)) out[f].set(this.data[f].subarray(r * w, (r + 1) * w), i * w);
    }
    return { fields: out, mask, index };
  }

  /** Checkpoint records (the used rows of every field) and the ring position. */
  toRecords(prefix = 'replay/'): { tensors: Checkpoint['tensors']; meta: { next: number; size: number } } {
    const tensors: Checkpoint['tensors'] = {};
    for (const [f, w] of Object.entries(this.widths)) {
      tensors[prefix + f] = { shape: [this.size, w], data: this.data[f].slice(0, this.size * w) };
    }
    return { tensors, meta: { next: this.next, size: this.size } };
  }

  fromRecords(tensors: Checkpoint['tensors'], meta: { next: number; size: number }, prefix = 'replay/'): void {
    if (!(meta.size >= 0 && meta.size <= this.capacity && meta.next >= 0 && meta.next < this.capacity)) {
      throw new Error(`TransitionBuffer: checkpoint ring position ${JSON.stringify(meta)} does not fit capacity ${this.capacity}`);
    }
    this.reserve(meta.size);
    for (const [f, w] of Object.entries(this.widths)) {
      const t = tensors[prefix + f];
      if (!t || t.data.length !== meta.size * w) throw new Error(`TransitionBuffer: checkpoint field "${prefix + f}" is missing or has the wrong size`);
      this.data[f].fill(0);
      this.data[f].set(t.data);
    }
    this.next = meta.next;
    this.size = meta.size;
    for (const [f, acc] of this.sums) {
      acc.s.fill(0);
      acc.q.fill(0);
      for (let r = 0; r < this.size; r++) this.accumulate(f, r, 1);
    }
  }
}
