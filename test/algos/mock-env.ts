/**
 * A tiny deterministic VecEnv for trainer tests that need exact control over episode ends:
 * copy b terminates after `2 + b` steps when b is even (reward 1 to every agent on the last
 * step) and is truncated at the limit when b is odd. Observations encode (step, copy, agent).
 */
import type { EnvSpec, EpisodeRecord, VecEnv } from '../../src-shared/envs/types';
import { uniformSpec } from '../../src-shared/envs/spaces';

export function mockEnv(numEnvs: number, limit = 8, N = 2): VecEnv {
  const A = 3;
  const O = 4;
  const spec: EnvSpec = uniformSpec({
    id: 'mock',
    numAgents: N,
    obsSize: O,
    envObsSize: O,
    actionNames: ['a', 'b', 'c'],
    stateSize: 1,
    episodeLimit: limit,
    metricKeys: ['episode_length', 'return_total'],
    metrics: [
      { key: 'episode_length', title: 'Episode length' },
      { key: 'return_total', title: 'Return', role: 'return' },
    ],
  });
  const B = numEnvs;
  const obs = new Float32Array(B * N * O);
  const steps = new Int32Array(B);
  const ret = new Float64Array(B);
  const pending: EpisodeRecord[] = [];
  const env = {
    spec,
    numEnvs: B,
    obs,
    state: new Float32Array(B),
    actionMask: new Uint8Array(B * N * A).fill(1),
    rewards: new Float32Array(B * N),
    dones: new Uint8Array(B),
    truncated: new Uint8Array(B),
    finished: new Uint8Array(B),
    finalObs: new Float32Array(B * N * O),
    write(b: number) {
      for (let i = 0; i < N; i++) {
        const o = (b * N + i) * O;
        obs.set([steps[b] / limit, b / B, i, 1], o);
      }
    },
    reset(_seed: number) {
      for (let b = 0; b < B; b++) {
        steps[b] = 0;
        ret[b] = 0;
        env.finished[b] = 0;
        env.write(b);
      }
    },
    resetFinished() {
      for (let b = 0; b < B; b++) {
        if (!env.finished[b]) continue;
        steps[b] = 0;
        ret[b] = 0;
        env.finished[b] = 0;
        env.write(b);
      }
    },
    step(actions: Int32Array) {
      for (let b = 0; b < B; b++) {
        env.dones[b] = 0;
        env.truncated[b] = 0;
        for (let i = 0; i < N; i++) env.rewards[b * N + i] = 0;
        if (env.finished[b]) continue;
        steps[b]++;
        const term = b % 2 === 0 && steps[b] === 2 + b;
        const trunc = !term && steps[b] >= limit;
        for (let i = 0; i < N; i++) {
          const r = (term ? 1 : 0) + 0.01 * actions[b * N + i];
          env.rewards[b * N + i] = r;
          ret[b] += r;
        }
        env.write(b);
        if (term || trunc) {
          env.dones[b] = 1;
          env.truncated[b] = trunc ? 1 : 0;
          env.finished[b] = 1;
          pending.push({ envIndex: b, metrics: { episode_length: steps[b], return_total: ret[b] } });
        }
      }
    },
    setRecording() {},
    drainEpisodes() {
      return pending.splice(0);
    },
    getState() {
      return { steps: Array.from(steps), ret: Array.from(ret), finished: Array.from(env.finished) };
    },
    setState(s: unknown) {
      const st = s as { steps: number[]; ret: number[]; finished: number[] };
      steps.set(st.steps);
      ret.set(st.ret);
      env.finished.set(st.finished);
      for (let b = 0; b < B; b++) env.write(b);
    },
  };
  env.reset(0);
  return env;
}
