/**
 * COMA's critic input rows (algos/coma.ts's header, "Critic input"): the observation-only row
 * of the paper's Table 4, or Foerster et al.'s centralised row. Pure CPU code, no tensors.
 */
/** What the critic sees; `stateSize` is ignored unless centralised. */
export interface CriticLayout {
  mode: 'centralised' | 'observation';
  lastActions: boolean;
  numAgents: number;
  numActions: number;
  envObsSize: number;
  stateSize: number;
}

/** Width F of one critic input row. */
export function criticInputSize(l: CriticLayout): number {
  if (l.mode === 'observation') return l.envObsSize;
  const NA = l.numAgents * l.numActions;
  return l.stateSize + l.envObsSize + NA + l.numAgents + (l.lastActions ? NA : 0);
}

/**
 * Critic input rows for `slots` time slots of B copies, time-major: row (t, a, b) at
 * (t * N + a) * B + b, each F = criticInputSize(l) wide.
 *   cobs   [slots][N][B][envObs]  the agents' own (env) observations
 *   states [slots][B][stateSize]  (unused for mode = observation)
 *   acts   [slots][N][B]          actions taken at each slot
 * Centralised row: [state | own obs | one-hot action of every agent, own block zero | one-hot
 * agent id | (previous joint action one-hot, zeros at t = 0)].
 */
export function buildCriticInputs(
  l: CriticLayout,
  slots: number,
  B: number,
  cobs: Float32Array,
  states: Float32Array,
  acts: Int32Array,
  out: Float32Array,
): void {
  const N = l.numAgents;
  const A = l.numActions;
  const E = l.envObsSize;
  const S = l.stateSize;
  const F = criticInputSize(l);
  if (out.length < slots * N * B * F) throw new Error(`coma: critic input buffer holds ${out.length} values, need ${slots * N * B * F}`);
  if (l.mode === 'observation') {
    out.set(cobs.subarray(0, slots * N * B * E));
    return;
  }
  const NA = N * A;
  const oObs = S;
  const oAct = S + E;
  const oId = oAct + NA;
  const oLast = oId + N;
  out.fill(0, 0, slots * N * B * F);
  for (let t = 0; t < slots; t++) {
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < B; b++) {
        const r = (t * N + a) * B + b;
        const o = r * F;
        out.set(states.subarray((t * B + b) * S, (t * B + b + 1) * S), o);
        out.set(cobs.subarray(r * E, (r + 1) * E), o + oObs);
        for (let j = 0; j < N; j++) {
          if (j !== a) out[o + oAct + j * A + acts[(t * N + j) * B + b]] = 1;
        }
        out[o + oId + a] = 1;
        if (l.lastActions && t > 0) {
          for (let j = 0; j < N; j++) out[o + oLast + j * A + acts[((t - 1) * N + j) * B + b]] = 1;
        }
      }
    }
  }
}
