/**
 * max over the team's joint actions u of Q_i(x, u) (ALITA eq. 4/7; shared/specs/alita.md §2.5)
 * for discrete (one-hot) candidate actions. Rows are critic inputs [K, inDim] whose team action
 * slots (`slots`: offset and size of each team agent's action in the row) are overwritten by
 * candidates; everything else (observations, non-team agents' actions) stays as given.
 * - exact: every joint action (prod of slot sizes), batched through `q` in chunks;
 * - coordinate ascent: start from `init` (each row's greedy joint action), then `rounds` sweeps
 *   over the team agents in order, each trying all of that agent's actions with the others
 *   fixed and keeping the best (ties: the lower index). A lower bound on the exact max.
 * `q(rows, R)` evaluates the critic on R rows of `inDim` values and returns R numbers.
 */
export interface Slot {
  readonly off: number;
  readonly size: number;
}

export type QEval = (rows: Float32Array, R: number) => Float32Array;

/** Number of joint actions of the slots. */
export function jointCount(slots: readonly Slot[]): number {
  return slots.reduce((p, s) => p * s.size, 1);
}

function writeJoint(row: Float32Array, base: number, slots: readonly Slot[], choice: ArrayLike<number>): void {
  slots.forEach((s, m) => {
    row.fill(0, base + s.off, base + s.off + s.size);
    row[base + s.off + choice[m]] = 1;
  });
}

/** Exact max by enumeration; also returns each row's best joint action (per slot). */
export function exactJointMax(base: Float32Array, K: number, inDim: number, slots: readonly Slot[], q: QEval, chunkRows = 16384): { value: Float32Array; best: Int32Array } {
  const J = jointCount(slots);
  const M = slots.length;
  const value = new Float32Array(K).fill(-Infinity);
  const best = new Int32Array(K * M);
  const choice = new Int32Array(M);
  const perChunk = Math.max(1, Math.floor(chunkRows / J));
  for (let r0 = 0; r0 < K; r0 += perChunk) {
    const rk = Math.min(perChunk, K - r0);
    const rows = new Float32Array(rk * J * inDim);
    for (let r = 0; r < rk; r++) {
      for (let j = 0; j < J; j++) {
        const at = (r * J + j) * inDim;
        rows.set(base.subarray((r0 + r) * inDim, (r0 + r + 1) * inDim), at);
        let rest = j;
        for (let m = M - 1; m >= 0; m--) {
          choice[m] = rest % slots[m].size;
          rest = Math.floor(rest / slots[m].size);
        }
        writeJoint(rows, at, slots, choice);
      }
    }
    const v = q(rows, rk * J);
    for (let r = 0; r < rk; r++) {
      for (let j = 0; j < J; j++) {
        const x = v[r * J + j];
        if (x > value[r0 + r]) {
          value[r0 + r] = x;
          let rest = j;
          for (let m = M - 1; m >= 0; m--) {
            best[(r0 + r) * M + m] = rest % slots[m].size;
            rest = Math.floor(rest / slots[m].size);
          }
        }
      }
    }
  }
  return { value, best };
}

/** Coordinate ascent from `init` [K, M] (each row's starting action per slot). */
export function ascentJointMax(base: Float32Array, K: number, inDim: number, slots: readonly Slot[], q: QEval, init: Int32Array, rounds: number): { value: Float32Array; best: Int32Array } {
  const M = slots.length;
  const cur = Int32Array.from(init);
  const work = Float32Array.from(base);
  for (let r = 0; r < K; r++) writeJoint(work, r * inDim, slots, cur.subarray(r * M, (r + 1) * M));
  let value = q(work, K);
  for (let round = 0; round < rounds; round++) {
    for (let m = 0; m < M; m++) {
      const S = slots[m].size;
      const rows = new Float32Array(K * S * inDim);
      for (let r = 0; r < K; r++) {
        for (let c = 0; c < S; c++) {
          const at = (r * S + c) * inDim;
          rows.set(work.subarray(r * inDim, (r + 1) * inDim), at);
          rows.fill(0, at + slots[m].off, at + slots[m].off + S);
          rows[at + slots[m].off + c] = 1;
        }
      }
      const v = q(rows, K * S);
      const next = Float32Array.from(value);
      for (let r = 0; r < K; r++) {
        let bc = cur[r * M + m];
        let bv = value[r];
        for (let c = 0; c < S; c++) {
          if (v[r * S + c] > bv) {
            bv = v[r * S + c];
            bc = c;
          }
        }
        cur[r * M + m] = bc;
        next[r] = bv;
        const at = r * inDim + slots[m].off;
        work.fill(0, at, at + S);
        work[at + bc] = 1;
      }
      value = next;
    }
  }
  return { value, best: cur };
}
