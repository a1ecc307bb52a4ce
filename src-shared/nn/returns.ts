/**
 * Return and TD(lambda) targets as pure functions on Float32Array (no tensors), so they can be
 * checked by hand.
 *
 * Layout: time-major [T, M]: element (t, m) at t * M + m, where M flattens every other axis
 * (copies x agents, in whatever order the caller uses). Masks are 1 on valid steps, 0 on
 * padding (steps after a copy's episode ended in a lock-step batch). Values have T + 1 rows:
 * row t is the value of the observation before step t, row T the one after the last step.
 */

/**
 * Discounted return R_t = m_t r_t + gamma R_{t+1}, with R_T = bootstrap (default 0).
 * Padding steps contribute no reward but pass R through, which is harmless because they only
 * occur after an episode's last valid step (where R_{t+1} = R_T = 0 unless bootstrapped).
 */
export function discountedReturns(
  rewards: Float32Array,
  masks: Float32Array,
  T: number,
  M: number,
  gamma: number,
  bootstrap?: Float32Array,
  out: Float32Array = new Float32Array(T * M),
): Float32Array {
  checkLen('rewards', rewards, T * M);
  checkLen('masks', masks, T * M);
  if (bootstrap) checkLen('bootstrap', bootstrap, M);
  for (let m = 0; m < M; m++) {
    let R = bootstrap ? bootstrap[m] : 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * M + m;
      R = masks[i] * rewards[i] + gamma * R;
      out[i] = R;
    }
  }
  return out;
}

/**
 * TD(lambda) targets with standard episode handling, per column:
 *
 *   G_t = r_t + gamma (1 - term_t) * ( V_{t+1}                        if t is the last valid step
 *                                     (1 - lambda) V_{t+1} + lambda G_{t+1}   otherwise )
 *
 * and G_t = 0 on padding. `terminated` is 1 on a step that truly ended the episode (no
 * bootstrap after it); an episode cut by a time limit has terminated = 0 on its last step, and
 * `values` row t+1 must then hold the value of its final observation. lambda = 1 gives the
 * Monte-Carlo return bootstrapped only at truncation; lambda = 0 gives one-step TD targets.
 */
export function tdLambdaTargets(
  rewards: Float32Array,
  terminated: Float32Array,
  masks: Float32Array,
  values: Float32Array,
  T: number,
  M: number,
  gamma: number,
  lambda: number,
  out: Float32Array = new Float32Array(T * M),
): Float32Array {
  checkLen('rewards', rewards, T * M);
  checkLen('terminated', terminated, T * M);
  checkLen('masks', masks, T * M);
  checkLen('values', values, (T + 1) * M);
  for (let m = 0; m < M; m++) {
    let G = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * M + m;
      if (!masks[i]) {
        out[i] = 0;
        G = 0;
        continue;
      }
      const last = t === T - 1 || !masks[i + M];
      const vNext = values[i + M];
      const next = last ? vNext : (1 - lambda) * vNext + lambda * G;
      G = rewards[i] + gamma * (1 - terminated[i]) * next;
      out[i] = G;
    }
  }
  return out;
}

/**
 * PyMARL's `build_td_lambda_targets`, reproduced exactly (the released Manitokan code's critic
 * targets, specs/manitokan-learners.md section 0.2):
 *
 *   G_T = V_T (1 - sum_t terminated_t)
 *   G_t = lambda gamma G_{t+1} + m_t (r_t + (1 - lambda) gamma V_{t+1} (1 - terminated_t))
 *
 * Fed with the released code's "sticky" flags (terminated = 1 on the ending step and every
 * step after it), an episode that succeeded at step k gets G_T = V_T (k + 1 - T): a large
 * negative bootstrap that flows back with weight gamma^(T - t). Use only to reproduce that code.
 */
export function tdLambdaTargetsPymarl(
  rewards: Float32Array,
  terminated: Float32Array,
  masks: Float32Array,
  values: Float32Array,
  T: number,
  M: number,
  gamma: number,
  lambda: number,
  out: Float32Array = new Float32Array(T * M),
): Float32Array {
  checkLen('rewards', rewards, T * M);
  checkLen('terminated', terminated, T * M);
  checkLen('masks', masks, T * M);
  checkLen('values', values, (T + 1) * M);
  for (let m = 0; m < M; m++) {
    let termSum = 0;
    for (let t = 0; t < T; t++) termSum += terminated[t * M + m];
    let G = values[T * M + m] * (1 - termSum);
    for (let t = T - 1; t >= 0; t--) {
      const i = t * M + m;
      G = lambda * gamma * G + masks[i] * (rewards[i] + (1 - lambda) * gamma * values[i + M] * (1 - terminated[i]));
      out[i] = G;
    }
  }
  return out;
}

function checkLen(name: string, a: Float32Array, n: number): void {
  if (a.length < n) throw new Error(`returns: ${name} has ${a.length} values, need ${n}`);
}
