/**
 * Whole-episode storage for recurrent learners (PyMARL's EpisodeBatch and ReplayBuffer).
 *
 * `EpisodeBatch` is one round of a lock-step rollout: step t, agent a, copy b at
 * (t * N + a) * B + b, padded past each copy's last step (actions masked out, critic inputs
 * repeating the final observation). `EpisodeBuffer` keeps the last `capacity` episodes (ring,
 * oldest overwritten), draws `k` of them uniformly without replacement from a seeded Rng, and
 * lays them out again as an `EpisodeBatch`, so a recurrent learner trains on sampled episodes
 * through the same code as on its own rollout. Both serialise into checkpoints.
 *
 * Fields: actor inputs, action masks, actions (one extra slot: the action sampled at the final
 * observation, for critics that bootstrap from Q(s', a')), rewards, critic observations (the
 * env prefix of the actor input, plus the final observation), and optional global states.
 */
import type { Rng } from '../../rng';
import type { Checkpoint } from '../types';

/**
 * One batch of episodes in lock-step layout: step t, agent a, copy b at (t * N + a) * B + b.
 * Sized for `cap` steps (the episode limit) and up to `maxB` copies; `B` and `T` say what is in use.
 */
export class EpisodeBatch {
  B: number;
  T = 0;
  readonly xs: Float32Array; //      actor inputs [cap][N][B][obs]
  readonly avail: Float32Array; //   action masks [cap][N][B][A] (all ones on padding)
  readonly acts: Int32Array; //      actions [cap+1][N][B]
  readonly rews: Float32Array; //    rewards [cap][N][B]
  readonly cobs: Float32Array; //    critic observations [cap+1][N][B][envObs]
  readonly states: Float32Array; //  global states [cap+1][B][S] (S = 0 unless centralised)
  readonly endStep: Int32Array; //   [B] last valid step
  readonly endTrunc: Uint8Array; //  [B] ended by the time limit

  constructor(
    readonly cap: number,
    readonly maxB: number,
    readonly N: number,
    readonly O: number,
    readonly E: number,
    readonly A: number,
    readonly S: number,
  ) {
    this.B = maxB;
    const rows = N * maxB;
    this.xs = new Float32Array(cap * rows * O);
    this.avail = new Float32Array(cap * rows * A);
    this.acts = new Int32Array((cap + 1) * rows);
    this.rews = new Float32Array(cap * rows);
    this.cobs = new Float32Array((cap + 1) * rows * E);
    this.states = new Float32Array((cap + 1) * maxB * S);
    this.endStep = new Int32Array(maxB);
    this.endTrunc = new Uint8Array(maxB);
  }
}

/** One stored episode of n valid steps (agent-major within a step). */
export interface StoredEpisode {
  n: number;
  trunc: number;
  xs: Float32Array; //       [n][N][obs]
  avail: Float32Array; //    [n][N][A]
  acts: Int32Array; //       [n][N]
  finalAct: Int32Array; //   [N] action sampled at the final observation
  rews: Float32Array; //     [n][N]
  finalObs: Float32Array; // [N][envObs] critic observation after the last step
  states: Float32Array; //   [n+1][S]
}

/** Ring buffer of episodes (PyMARL ReplayBuffer semantics: overwrite the oldest). */
export class EpisodeBuffer {
  readonly eps: StoredEpisode[] = [];
  next = 0;

  constructor(readonly capacity: number) {}

  get count(): number {
    return this.eps.length;
  }

  /**
   * Store every copy of a rollout batch (copy order). The episode overwritten in a full ring
   * lends its arrays when they have the right sizes (no allocation, no garbage, in the common
   * case of equal-length episodes); rows are copied by plain loops, because a `subarray` per
   * row of a few dozen values costs more than the copy.
   */
  insert(d: EpisodeBatch): void {
    const { N, O, E, A, S, B } = d;
    const T = d.T;
    for (let b = 0; b < B; b++) {
      const n = d.endStep[b] + 1;
      const old = this.eps.length < this.capacity ? undefined : this.eps[this.next];
      const ep: StoredEpisode =
        old && old.n === n
          ? old
          : {
              n,
              trunc: 0,
              xs: new Float32Array(n * N * O),
              avail: new Float32Array(n * N * A),
              acts: new Int32Array(n * N),
              finalAct: new Int32Array(N),
              rews: new Float32Array(n * N),
              finalObs: new Float32Array(N * E),
              states: new Float32Array((n + 1) * S),
            };
      ep.trunc = d.endTrunc[b];
      const { xs, avail } = ep;
      for (let t = 0; t < n; t++) {
        for (let a = 0; a < N; a++) {
          const r = (t * N + a) * B + b;
          const s = t * N + a;
          for (let k = 0, i = r * O, j = s * O; k < O; k++) xs[j + k] = d.xs[i + k];
          for (let k = 0, i = r * A, j = s * A; k < A; k++) avail[j + k] = d.avail[i + k];
          ep.acts[s] = d.acts[r];
          ep.rews[s] = d.rews[r];
        }
      }
      for (let a = 0; a < N; a++) {
        ep.finalAct[a] = d.acts[(T * N + a) * B + b];
        const r = (n * N + a) * B + b;
        ep.finalObs.set(d.cobs.subarray(r * E, (r + 1) * E), a * E);
      }
      if (S > 0) for (let t = 0; t <= n; t++) ep.states.set(d.states.subarray((t * B + b) * S, (t * B + b + 1) * S), t * S);
      if (this.eps.length < this.capacity) this.eps.push(ep);
      else this.eps[this.next] = ep;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /**
   * Draw `k` episodes uniformly without replacement (all of them, in storage order, when the
   * buffer holds exactly k) and lay them out in `out` as a lock-step batch.
   */
  sample(k: number, rng: Rng, out: EpisodeBatch): void {
    const idx = Array.from({ length: this.count }, (_, i) => i);
    if (k < this.count) {
      for (let i = 0; i < k; i++) {
        const j = i + rng.int(this.count - i);
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
    }
    const chosen = idx.slice(0, k).map((i) => this.eps[i]);
    const { N, O, E, A, S } = out;
    const B = chosen.length;
    const T = Math.max(...chosen.map((e) => e.n));
    out.B = B;
    out.T = T;
    out.xs.fill(0, 0, T * N * B * O);
    out.avail.fill(1, 0, T * N * B * A);
    out.acts.fill(0, 0, (T + 1) * N * B);
    out.rews.fill(0, 0, T * N * B);
    const { xs: oxs, avail: oavail, cobs } = out;
    chosen.forEach((ep, b) => {
      const n = ep.n;
      const { xs, avail } = ep;
      out.endStep[b] = n - 1;
      out.endTrunc[b] = ep.trunc;
      for (let t = 0; t <= T; t++) {
        const st = Math.min(t, n);
        if (S > 0) out.states.set(ep.states.subarray(st * S, (st + 1) * S), (t * B + b) * S);
        for (let a = 0; a < N; a++) {
          const r = (t * N + a) * B + b;
          if (t < n) {
            const s = t * N + a;
            // At valid steps the critic's observation is the actor input's env prefix (fresh or frozen).
            for (let k = 0, i = s * O, j = r * E; k < E; k++) cobs[j + k] = xs[i + k];
            for (let k = 0, i = s * O, j = r * O; k < O; k++) oxs[j + k] = xs[i + k];
            for (let k = 0, i = s * A, j = r * A; k < A; k++) oavail[j + k] = avail[i + k];
            out.acts[r] = ep.acts[s];
            out.rews[r] = ep.rews[s];
          } else {
            cobs.set(ep.finalObs.subarray(a * E, (a + 1) * E), r * E);
            if (t === n || t === T) out.acts[r] = ep.finalAct[a];
          }
        }
      }
    });
  }

  /** Flat records for checkpoints (every field concatenated in storage order). */
  toRecords(): { tensors: Checkpoint['tensors']; meta: { next: number; n: number[]; trunc: number[] } } {
    const cat = (f: (e: StoredEpisode) => ArrayLike<number>): Float32Array => {
      const total = this.eps.reduce((s, e) => s + f(e).length, 0);
      const out = new Float32Array(total);
      let o = 0;
      for (const e of this.eps) {
        const a = f(e);
        out.set(a, o);
        o += a.length;
      }
      return out;
    };
    const fields: Record<string, (e: StoredEpisode) => ArrayLike<number>> = {
      xs: (e) => e.xs,
      avail: (e) => e.avail,
      acts: (e) => e.acts,
      finalAct: (e) => e.finalAct,
      rews: (e) => e.rews,
      finalObs: (e) => e.finalObs,
      states: (e) => e.states,
    };
    const tensors: Checkpoint['tensors'] = {};
    for (const [k, f] of Object.entries(fields)) {
      const data = cat(f);
      tensors[`buffer/${k}`] = { shape: [data.length], data };
    }
    return { tensors, meta: { next: this.next, n: this.eps.map((e) => e.n), trunc: this.eps.map((e) => e.trunc) } };
  }

  fromRecords(
    tensors: Checkpoint['tensors'],
    meta: { next: number; n: number[]; trunc: number[] },
    dims: { N: number; O: number; E: number; A: number; S: number },
  ): void {
    const { N, O, E, A, S } = dims;
    const get = (k: string) => {
      const t = tensors[`buffer/${k}`];
      if (!t) throw new Error(`checkpoint has no "buffer/${k}"`);
      return t.data;
    };
    const src = { xs: get('xs'), avail: get('avail'), acts: get('acts'), finalAct: get('finalAct'), rews: get('rews'), finalObs: get('finalObs'), states: get('states') };
    const off = { xs: 0, avail: 0, acts: 0, finalAct: 0, rews: 0, finalObs: 0, states: 0 };
    const take = (k: keyof typeof src, len: number) => {
      const a = src[k].slice(off[k], off[k] + len);
      off[k] += len;
      if (a.length !== len) throw new Error(`checkpoint buffer field "${k}" is too short`);
      return a;
    };
    this.eps.length = 0;
    meta.n.forEach((n, i) => {
      this.eps.push({
        n,
        trunc: meta.trunc[i],
        xs: take('xs', n * N * O),
        avail: take('avail', n * N * A),
        acts: Int32Array.from(take('acts', n * N)),
        finalAct: Int32Array.from(take('finalAct', N)),
        rews: take('rews', n * N),
        finalObs: take('finalObs', N * E),
        states: take('states', (n + 1) * S),
      });
    });
    this.next = meta.next;
  }
}
