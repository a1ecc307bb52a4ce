/**
 * The correction term's baseline (issue 8, fidelity audit): J_c's surrogate (G_c - b) log pi
 * must use a baseline of the collective return alone (a critic trained on G_c, or none), not
 * the PG term's full-return critic, whose value includes the individual reward J_c excludes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pgEntry } from '../../src-shared/algos/pg';
import { build, setupTf, tf } from './helpers';

/** The smallest grid, short episodes, last action observed: doors open in the first round. */
const ENV = { interiorSize: 3, episodeLimit: 60, obsLastAction: true };
const FAST = { lr: 1e-3, criticLr: 1e-3 };

function make(algo: Record<string, unknown>) {
  return build(pgEntry, { numEnvs: 6, seed: 28, env: ENV, algo: { ...FAST, correction: 'self', ...algo } });
}

describe('PG correction baseline', () => {
  beforeAll(setupTf);

  it('does not depend on the full-return critic unless asked to (full-critic, the released code)', async () => {
    // The two critic-update modes give the PG critic different baseline values in round 1;
    // actor, rollout and Psi are the same, so only a baseline taken from that critic can
    // move the correction's share of the gradient.
    const norm = async (algo: Record<string, unknown>) => {
      const { trainer } = make(algo);
      const r = await trainer.round();
      trainer.dispose();
      expect(r.stats['charts/correction_steps']).toBeGreaterThan(0);
      return r.stats['charts/correction_norm'];
    };
    const batch: number[] = [];
    for (const correctionBaseline of ['collective-critic', 'none', 'full-critic']) {
      const a = await norm({ correctionBaseline });
      const b = await norm({ correctionBaseline, criticUpdate: 'per-step-reverse' });
      if (correctionBaseline === 'full-critic') expect(a).not.toBe(b);
      else expect(a, correctionBaseline).toBe(b);
      batch.push(a);
    }
    // ... and the three baselines give three different terms.
    expect(new Set(batch).size).toBe(3);
  });

  it('trains the collective critic, checkpoints it (resume bit-identical) and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const a = make({});
    const r1 = await a.trainer.round();
    expect(Number.isFinite(r1.stats['losses/collective_critic'])).toBe(true);
    expect(r1.stats['losses/collective_critic']).toBeGreaterThan(0);
    const ckpt = await a.trainer.save();
    expect(Object.keys(ckpt.tensors).some((k) => k.startsWith('ccritic/'))).toBe(true);
    const r2 = await a.trainer.round();
    const b = make({});
    b.trainer.load(ckpt);
    const r2b = await b.trainer.round();
    expect(r2b.stats).toEqual(r2.stats);
    a.trainer.dispose();
    b.trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes a checkpoint written before the collective critic existed', async () => {
    const old = make({ correctionBaseline: 'full-critic' });
    await old.trainer.round();
    const ckpt = await old.trainer.save();
    old.trainer.dispose();
    const t = make({}).trainer;
    t.load(ckpt);
    const r = await t.round();
    expect(Number.isFinite(r.stats['losses/collective_critic'])).toBe(true);
    t.dispose();
  });

  it('vanilla PG builds no collective critic (its initialisation and checkpoints are unchanged)', async () => {
    const { trainer } = build(pgEntry, { numEnvs: 2, seed: 8, env: ENV, algo: FAST });
    const r = await trainer.round();
    expect(r.stats['losses/collective_critic']).toBeUndefined();
    expect(Object.keys((await trainer.save()).tensors).some((k) => k.startsWith('ccritic/'))).toBe(false);
    trainer.dispose();
  });
});
