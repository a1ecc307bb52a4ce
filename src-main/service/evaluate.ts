/**
 * Evaluation without learning: N episodes in all, unbiased by episode length.
 *
 * Copies play in rounds (all copies reset together, each plays exactly one episode); the last
 * round keeps only as many copies' episodes as are still needed, chosen by copy index, so
 * short episodes are not over-represented as they would be by "first N to finish".
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { AlgoEntry, Checkpoint } from '../../src-shared/algos/types';
import type { EnvEntry, EpisodeRecord } from '../../src-shared/envs/types';
import type { Values } from '../../src-shared/config/schema';
import { Rng, deriveSeed } from '../../src-shared/rng';

export interface EvalRequest {
  tf: typeof tfc;
  envEntry: EnvEntry;
  envConfig: Values;
  algoEntry: AlgoEntry;
  algoConfig: Values;
  checkpoint: Checkpoint | null;
  episodes: number;
  seed: number;
  numEnvs: number;
  greedy: boolean;
}

export interface EvalResult {
  episodes: number;
  means: Record<string, number | null>;
  /** Standard error of each mean (null with fewer than two values). */
  stderr: Record<string, number | null>;
}

export function evaluate(req: EvalRequest): EvalResult {
  const B = Math.min(req.numEnvs, req.episodes);
  const env = req.envEntry.create(req.envConfig, { numEnvs: B, autoReset: false });
  const policy = req.algoEntry.createPolicy({
    tf: req.tf,
    spec: env.spec,
    numEnvs: B,
    config: req.algoConfig,
    rng: new Rng(req.seed, 7_777_777),
    checkpoint: req.checkpoint,
  });
  const N = env.spec.numAgents;
  const actions = new Int32Array(B * N);
  const keys = env.spec.metricKeys;
  const sums = new Float64Array(keys.length);
  const sq = new Float64Array(keys.length);
  const counts = new Float64Array(keys.length);
  let done = 0;
  let first = true;
  try {
    while (done < req.episodes) {
      if (first) env.reset(deriveSeed(req.seed, 1));
      else env.resetFinished();
      first = false;
      for (let b = 0; b < B; b++) policy.resetCopy(b);
      const finished: EpisodeRecord[] = [];
      while (finished.length < B) {
        policy.act(env, actions, req.greedy);
        env.step(actions);
        finished.push(...env.drainEpisodes());
      }
      const need = req.episodes - done;
      const take = finished.filter((e) => e.envIndex < need);
      for (const ep of take) {
        keys.forEach((k, i) => {
          const v = ep.metrics[k];
          if (v !== null && v !== undefined) {
            sums[i] += v;
            sq[i] += v * v;
            counts[i]++;
          }
        });
      }
      done += take.length;
    }
  } finally {
    policy.dispose();
  }
  const means: Record<string, number | null> = {};
  const stderr: Record<string, number | null> = {};
  keys.forEach((k, i) => {
    const n = counts[i];
    means[k] = n > 0 ? sums[i] / n : null;
    stderr[k] = n > 1 ? Math.sqrt(Math.max(0, sq[i] / n - (sums[i] / n) ** 2) / (n - 1)) : null;
  });
  return { episodes: done, means, stderr };
}
