/**
 * COMA's actor loss in one CPU pass with its closed-form gradient (`actorLoss: 'closed-form'`,
 * src-shared/algos/coma-actor-loss.ts) against the taped path (maskedLogProbs and the taped
 * loss): the same loss, gradient w.r.t. the logits, pi, baseline and advantage to float32
 * rounding, with and without the epsilon floor, with unavailable actions and masked rows; and
 * whole trainers either way stay close over a few rounds (they differ in the last bits only).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { comaActorLoss, comaActorLossClosedForm, comaEntry, type ActorLossWork } from '../../src-shared/algos/coma';
import { maskedLogProbs } from '../../src-shared/nn/categorical';
import { Rng } from '../../src-shared/rng';
import type { Scalar, Tensor } from '../../src-shared/nn/tf';
import { build, setupTf, tf } from './helpers';

function work(n: number, A: number): ActorLossWork {
  return { pi: new Float32Array(n * A), coef: new Float32Array(n * A), baseline: new Float32Array(n), qTaken: new Float32Array(n), adv: new Float32Array(n) };
}

/** A batch: logits spread over a few units, some actions unavailable, a quarter of rows masked. */
function batch(rows: number, A: number, seed: number) {
  const rng = new Rng(seed);
  const logits = new Float32Array(rows * A);
  const avail = new Float32Array(rows * A);
  const q = new Float32Array(rows * A);
  const acts = new Int32Array(rows);
  const mask = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < A; k++) {
      logits[r * A + k] = (rng.float() - 0.5) * 6;
      avail[r * A + k] = k === 0 || rng.float() > 0.3 ? 1 : 0;
      q[r * A + k] = (rng.float() - 0.5) * 4;
    }
    const ok = [...Array(A).keys()].filter((k) => avail[r * A + k]);
    acts[r] = ok[rng.int(ok.length)];
    mask[r] = rng.float() > 0.25 ? 1 : 0;
  }
  let count = 0;
  for (const m of mask) count += m;
  return { logits, avail, q, acts, mask, count };
}

/** Relative difference below `tol`, relative to at least `floor` (sums of terms of size ~1 cancel to near zero). */
function closeTo(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, floor = 1e-3): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(floor, Math.abs(b[i]));
    if (d > worst) [worst, at] = [d, i];
  }
  expect(worst, `${what}: worst relative difference at ${at} (${a[at]} vs ${b[at]})`).toBeLessThan(tol);
}

describe("COMA's actor loss, closed form", () => {
  beforeAll(setupTf);

  for (const eps of [0, 0.2]) {
    it(`matches the taped loss and its gradient (epsilon ${eps}, unavailable actions, masked rows)`, () => {
      const rows = 300;
      const A = 6;
      const d = batch(rows, A, 3 + eps * 10);
      const wT = work(rows, A);
      const wC = work(rows, A);
      const x = tf.tensor3d(d.logits, [1, rows, A]);
      const av = tf.tensor3d(d.avail, [1, rows, A]);
      const taped = tf.valueAndGrad((l: Tensor) => comaActorLoss(tf, maskedLogProbs(tf, l, av, eps), d.q, d.acts, d.mask, d.count, wT) as Scalar)(x);
      const closed = tf.valueAndGrad((l: Tensor) => comaActorLossClosedForm(tf, l, d.avail, eps, d.q, d.acts, d.mask, d.count, wC) as Scalar)(x);
      closeTo(closed.value.dataSync(), taped.value.dataSync(), 1e-5, 'loss');
      closeTo(closed.grad.dataSync(), taped.grad.dataSync(), 2e-4, 'dL/dlogits');
      closeTo(wC.pi, wT.pi, 1e-5, 'pi');
      closeTo(wC.baseline, wT.baseline, 1e-5, 'baseline', 0.1);
      closeTo(wC.adv, wT.adv, 1e-5, 'advantage', 0.1);
      // The gradient is a real one: non-zero on valid rows, zero on masked ones.
      const g = closed.grad.dataSync();
      let onValid = 0;
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let k = 0; k < A; k++) s += Math.abs(g[r * A + k]);
        if (!d.mask[r]) expect(s).toBe(0);
        else onValid += s;
      }
      expect(onValid).toBeGreaterThan(0);
      tf.dispose([x, av, taped.value, taped.grad, closed.value, closed.grad]);
    });
  }

  it('whole trainers: closed form and taped stay within float rounding of each other over three rounds', async () => {
    const run = async (actorLoss: string) => {
      const { trainer } = build(comaEntry, { numEnvs: 3, env: { episodeLimit: 25, obsLastAction: true }, algo: { actorLoss, lr: 1e-3, criticLr: 1e-3, batchSize: 4, epsilonStart: 0.1, epsilonFinish: 0.1 }, seed: 5 });
      const stats: Record<string, number>[] = [];
      try {
        for (let r = 0; r < 3; r++) stats.push((await trainer.round()).stats);
      } finally {
        trainer.dispose();
      }
      return stats;
    };
    const closed = await run('closed-form');
    const taped = await run('taped');
    for (let r = 0; r < 3; r++) {
      for (const k of ['losses/actor', 'charts/counterfactual_baseline', 'charts/pi_max', 'charts/grad_norm_actor']) {
        expect(Math.abs(closed[r][k] - taped[r][k]) / Math.max(1e-6, Math.abs(taped[r][k])), `round ${r} ${k}`).toBeLessThan(1e-3);
      }
    }
  }, 120_000);
});
