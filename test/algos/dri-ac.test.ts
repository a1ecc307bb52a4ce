/**
 * The tabular regression of DRIMA (drima.md §2.6, §5): Algorithm 1's actor-critic on the
 * single-state games, wrapped in the reward-interaction module exactly as a run is, reaches
 * the cooperative optimum under dri and the poor equilibrium under ind, in 5 of 5 seeds; and
 * the Table 2 and 3 saddle abstractions resolve as the spec says. No TensorFlow: the learner
 * is plain arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { driAcEntry } from '../../src-shared/algos/dri-ac';
import type { Tf } from '../../src-shared/algos/types';
import { matrixGameEntry } from '../../src-shared/envs/matrix-game';
import { withRewardInteraction } from '../../src-shared/envs/reward-interaction';
import { Rng } from '../../src-shared/rng';

/** Each player's action played on more than 90% of the last 1,000 steps, or -1. */
async function settle(game: string, mode: string, seed: number, steps: number): Promise<number[]> {
  const inner = matrixGameEntry.create({ game }, { numEnvs: 1, autoReset: false });
  const env = withRewardInteraction(inner, { interaction: mode });
  // The learner never touches TensorFlow; the context's slot stays empty.
  const trainer = driAcEntry.createTrainer({ tf: null as unknown as Tf, env, envConfig: { game }, config: {}, seed, rng: new Rng(seed, 1_000_003) });
  const rounds = steps / 25;
  const freq = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    const res = await trainer.round();
    if (r < rounds - 40) continue;
    for (const [k, v] of Object.entries(res.episodes[0].metrics)) if (k.startsWith('action_freq_')) freq.set(k, (freq.get(k) ?? 0) + (v ?? 0) / 40);
  }
  const spec = inner.spec;
  return spec.agents.map((a, i) => {
    const n = a.action.kind === 'discrete' ? a.action.n : 0;
    for (let x = 0; x < n; x++) if ((freq.get(`action_freq_${i}_${x}`) ?? 0) > 0.9) return x;
    return -1;
  });
}

const SEEDS = [1, 2, 3, 4, 5];

describe('dri-ac (Algorithm 1) on the matrix games, 5 seeds each', () => {
  it("Prisoner's Dilemma: dri reaches (C, C), ind (D, D)", async () => {
    for (const s of SEEDS) {
      expect(await settle('prisoners-dilemma', 'dri', s, 30_000), `dri seed ${s}`).toEqual([0, 0]);
      expect(await settle('prisoners-dilemma', 'ind', s, 30_000), `ind seed ${s}`).toEqual([1, 1]);
    }
  });
  it('Maintain: dri reaches A-X, ind B-Y', async () => {
    for (const s of SEEDS) {
      expect(await settle('maintain', 'dri', s, 60_000), `dri seed ${s}`).toEqual([0, 0]);
      expect(await settle('maintain', 'ind', s, 60_000), `ind seed ${s}`).toEqual([1, 1]);
    }
  });
  it('Table 2 (hunting saddle): dri (approach, approach), ind (approach, avoid); Table 3: dri (approach, leave), ind (approach, approach)', async () => {
    for (const s of SEEDS) {
      expect(await settle('hunting-saddle', 'dri', s, 30_000), `T2 dri seed ${s}`).toEqual([0, 0]);
      expect(await settle('hunting-saddle', 'ind', s, 30_000), `T2 ind seed ${s}`).toEqual([0, 1]);
      expect(await settle('collection-saddle', 'dri', s, 30_000), `T3 dri seed ${s}`).toEqual([0, 1]);
      expect(await settle('collection-saddle', 'ind', s, 30_000), `T3 ind seed ${s}`).toEqual([0, 0]);
    }
  });
});
