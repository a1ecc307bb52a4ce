/**
 * The exploration baselines of ALITA Table 1 (EITI, EDTI, Social Influence; alita.md §8):
 * the count bonus and the interaction term on a hand-built transition sequence, the state key
 * the grid envs declare, the online counting on a real Push-Box, the influence reward against a
 * hand-computed KL, EDTI's value heads, the counts in the checkpoint, the presets and the
 * Table 1 reproduction's wiring. Learning, determinism and resume are in the contract test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StateKeys, TransitionCounts } from '../../src-shared/algos/core/transition-counts';
import { CountBonus, eitiEntry } from '../../src-shared/algos/eiti';
import { edtiEntry } from '../../src-shared/algos/edti';
import { influenceKl, socialInfluenceEntry } from '../../src-shared/algos/social-influence';
import type { AlgoEntry } from '../../src-shared/algos/types';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { getRepro } from '../../src-shared/config/repro';
import { resolve } from '../../src-shared/config/schema';
import { pushBoxEntry } from '../../src-shared/envs/push-box';
import { secretRoomEntry } from '../../src-shared/envs/secret-room';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

describe('transition counts', () => {
  it('gives eta / sqrt(n + 1) with n the earlier visits of the next state', () => {
    const c = new TransitionCounts([3, 3], 2);
    expect(c.curiosity(0, 1, 10)).toBeCloseTo(10, 12);
    expect(c.curiosity(0, 1, 10)).toBeCloseTo(10 / Math.SQRT2, 12);
    expect(c.curiosity(0, 2, 10)).toBeCloseTo(10, 12);
    expect(c.curiosity(0, 1, 10)).toBeCloseTo(10 / Math.sqrt(3), 12);
    // Agent 1's table is its own.
    expect(c.curiosity(1, 1, 10)).toBeCloseTo(10, 12);
  });

  it('computes the MI and count interaction terms from the empirical counts of a hand-built sequence', () => {
    const c = new TransitionCounts([3, 3], 2);
    // T1: both in state 0, both act 0, both go to 1.
    c.countTransition([0, 0], [0, 0], [1, 1]);
    expect(c.interaction(0, 1, [0, 0], [0, 0], [1, 1], 'mi')).toBeCloseTo(0, 12);
    // T2: agent 0 acts 1 and agent 1 (same state and action) goes to 2 instead:
    // p(s'_1 = 2 | s_1 = 0, a_1 = 0) = 1/2, p(s'_1 = 2 | s_0 = 0, a_0 = 1, s_1 = 0, a_1 = 0) = 1.
    c.countTransition([0, 0], [1, 0], [1, 2]);
    expect(c.interaction(0, 1, [0, 0], [1, 0], [1, 2], 'mi')).toBeCloseTo(Math.log(2), 12);
    expect(c.interaction(0, 1, [0, 0], [1, 0], [1, 2], 'count')).toBeCloseTo(0.5, 12);
    // T3 repeats T1: p(s'_1 = 1 | s_1, a_1) = 2/3, given agent 0's (0, 0): 2/2.
    c.countTransition([0, 0], [0, 0], [1, 1]);
    expect(c.interaction(0, 1, [0, 0], [0, 0], [1, 1], 'mi')).toBeCloseTo(Math.log(3 / 2), 12);
    expect(c.interaction(0, 1, [0, 0], [0, 0], [1, 1], 'count')).toBeCloseTo(1 / 3, 12);
    // Agent 0's own move never depended on agent 1 here: no influence of 1 on 0.
    expect(c.interaction(1, 0, [0, 0], [0, 0], [1, 1], 'mi')).toBeCloseTo(0, 12);
    // A transition never counted has no estimate.
    expect(() => c.interaction(0, 1, [2, 2], [0, 0], [1, 1], 'mi')).toThrow(/before the transition was counted/);
  });

  it('saves and restores the tables exactly', () => {
    const c = new TransitionCounts([3, 3], 2);
    c.countTransition([0, 0], [0, 0], [1, 1]);
    c.countTransition([0, 0], [1, 0], [1, 2]);
    c.curiosity(0, 1, 1);
    const d = new TransitionCounts([3, 3], 2);
    d.load(structuredClone(c.save()));
    expect(d.save()).toEqual(c.save());
    expect(d.interaction(0, 1, [0, 0], [1, 0], [1, 2], 'mi')).toBe(c.interaction(0, 1, [0, 0], [1, 0], [1, 2], 'mi'));
    expect(() => d.load({ visits: [] })).toThrow(/visits/);
  });

  it('refuses joint keys beyond exact integers', () => {
    expect(() => new TransitionCounts([1e6, 1e6], 5)).toThrow(/2\^53/);
  });
});

describe('discrete state keys declared by the grid tasks', () => {
  it("reads Push-Box's (row, col, box row, box col) per agent", () => {
    const spec = pushBoxEntry.spec(resolve('env', pushBoxEntry.schema, {}));
    const keys = new StateKeys(spec);
    expect(keys.sizes).toEqual([15 ** 4, 15 ** 4]);
    const obs = new Float32Array(spec.obsSize * 2);
    const hot = (block: number, i: number) => (obs[block * 15 + i] = 1);
    hot(0, 3); // agent 0 row 3
    hot(1, 4); // agent 0 col 4
    hot(2, 5); // agent 1 row 5
    hot(3, 6); // agent 1 col 6
    hot(4, 7); // box row
    hot(5, 8); // box col
    expect(keys.key(obs, 0, 0)).toBe(((3 * 15 + 4) * 15 + 7) * 15 + 8);
    expect(keys.key(obs, 0, 1)).toBe(((5 * 15 + 6) * 15 + 7) * 15 + 8);
  });

  it("reads Secret Room's position and door bits (paper observation), position only (code observation)", () => {
    const paper = secretRoomEntry.spec(resolve('env', secretRoomEntry.schema, {}));
    expect(new StateKeys(paper).sizes).toEqual([25 * 25 * 8, 25 * 25 * 8]);
    const obs = new Float32Array(paper.obsSize);
    obs[2] = 1; // agent 0 row 2
    obs[25 + 9] = 1; // agent 0 col 9
    obs[100 + 0] = 1; // door 0 open
    obs[100 + 2] = 1; // door 2 open
    expect(new StateKeys(paper).key(obs, 0, 0)).toBe((2 * 25 + 9) * 8 + 0b101);
    const code = secretRoomEntry.spec(resolve('env', secretRoomEntry.schema, { observation: 'code' }));
    expect(new StateKeys(code).sizes).toEqual([625, 625]);
  });
});

describe('the learners on the grids', () => {
  beforeAll(setupTf);

  function trainer(entry: AlgoEntry, env: typeof pushBoxEntry, envCfg: Record<string, unknown>, algo: Record<string, unknown>, B = 2) {
    const envConfig = resolve('env', env.schema, envCfg);
    const vec = env.create(envConfig, { numEnvs: B, autoReset: false });
    const ctx = { tf, env: vec, envConfig, config: resolve('algo', entry.schema, algo), seed: 4, rng: new Rng(4, 9) };
    return { vec, ctx, trainer: entry.createTrainer(ctx) };
  }

  it('counts a real Push-Box episode online: the first visit of each next state earns eta, repeats less', () => {
    const { vec, ctx, trainer: t } = trainer(eitiEntry, pushBoxEntry, { episodeLimit: 6 }, {}, 1);
    t.dispose();
    const bonus = new CountBonus(ctx, 10, 'mi');
    vec.reset(1);
    // Both agents stay 3 times then step right and back: next states (1,1) x3 (with the box), (1,2), (1,1).
    const plan = [4, 4, 4, 1, 3];
    const actions = new Int32Array(2);
    plan.forEach((a, t) => {
      actions.fill(a);
      bonus.beforeStep(t, actions);
      vec.step(actions);
      bonus.afterStep(t);
    });
    const cur = (t: number, i: number) => bonus.curiosity[(t * 2 + i) * 1];
    expect([0, 1, 2, 3, 4].map((t) => cur(t, 0))).toEqual([10, 10 / Math.SQRT2, 10 / Math.sqrt(3), 10, 10 / 2].map((x) => Math.fround(x)));
    // Both agents always move alike: given its own state and action, each next state is
    // certain, so the other agent's state-action adds no information.
    for (let t = 0; t < 5; t++) expect(bonus.interaction[(t * 2 + 0) * 2 + 1]).toBeCloseTo(0, 6);
  });

  it('EITI keeps its counts in the checkpoint; EDTI has three value heads per agent critic', async () => {
    const a = trainer(eitiEntry, pushBoxEntry, { episodeLimit: 10 }, { hiddenDim: 8 });
    await a.trainer.round();
    const ck = await a.trainer.save();
    const counts = (ck.extra.hooks as { counts: { visits: number[][] } }).counts;
    expect(counts.visits[0].length).toBeGreaterThan(0);
    a.trainer.dispose();
    const e = trainer(edtiEntry, secretRoomEntry, { episodeLimit: 10 }, { hiddenDim: 8 });
    const r = await e.trainer.round();
    expect(r.stats['intrinsic/voi_agent0']).toBeDefined();
    const ek = await e.trainer.save();
    expect(ek.tensors['critic/head/weight'].shape).toEqual([2, 8, 3]);
    expect(ek.tensors['actor/head/weight'].shape).toEqual([2, 8, 4]);
    expect(Object.keys(ek.tensors).some((k) => k.includes('gru'))).toBe(false);
    e.trainer.dispose();
  });

  it('Social Influence logs per-agent influence and trains its model of other agents', async () => {
    const s = trainer(socialInfluenceEntry, pushBoxEntry, { episodeLimit: 12 }, { hiddenDim: 8, influenceRampSteps: 0, moaSteps: 20 });
    const r1 = await s.trainer.round();
    const r2 = await s.trainer.round();
    for (const r of [r1, r2]) {
      expect(r.stats['influence/kl_agent0']).toBeGreaterThanOrEqual(0);
      expect(r.stats['influence/weight']).toBe(1);
    }
    expect(r2.stats['influence/moa_loss']).toBeLessThan(2 * Math.log(5));
    const ck = await s.trainer.save();
    expect(ck.tensors['moa/moa/0/weight'].shape).toEqual([2, 90 + 2 * 5, 64]);
    s.trainer.dispose();
  });
});

describe('influence reward', () => {
  it('equals the hand-computed KL to the counterfactual marginal on a 2-agent, 2-action case', () => {
    // Logits of the MOA for counterfactual a~ = 0 and 1 (one teammate, 2 actions each).
    const logits = [0, 0, Math.log(3), 0];
    const pi = [0.25, 0.75];
    // p(. | a~=0) = (1/2, 1/2), p(. | a~=1) = (3/4, 1/4); marginal = (0.6875, 0.3125).
    const kl1 = 0.75 * Math.log(0.75 / 0.6875) + 0.25 * Math.log(0.25 / 0.3125);
    expect(influenceKl(logits, 0, pi, 0, 1, 1, 2)).toBeCloseTo(kl1, 10);
    const kl0 = 0.5 * Math.log(0.5 / 0.6875) + 0.5 * Math.log(0.5 / 0.3125);
    expect(influenceKl(logits, 0, pi, 0, 0, 1, 2)).toBeCloseTo(kl0, 10);
    // A model that ignores k's action: no influence.
    expect(influenceKl([1, 2, 1, 2], 0, pi, 0, 1, 1, 2)).toBeCloseTo(0, 12);
  });
});

describe('Table 1 presets and reproduction', () => {
  const learners = ['alita', 'maddpg', 'eiti', 'edti', 'social-influence'];
  const tasks = ['push-box', 'secret-room'];

  it('has a preset and a released-code twin for each learner on each grid task, accepted by its learner', () => {
    for (const t of tasks) {
      for (const l of learners) {
        for (const name of [`${t}-${l}`, `${t}-${l}-released-code`]) {
          const p = getPreset(name);
          expect(p, name).toBeDefined();
          const cfg = resolveExperiment(p!.config);
          expect(cfg.env.id).toBe(t);
          expect(cfg.algo.id).toBe(l);
          expect(Number(cfg.train.numEnvs) * Number(cfg.train.episodes) * 300).toBeGreaterThanOrEqual(2_000_000);
          const spec = getEnv(t)!.spec(cfg.env);
          expect(getAlgo(l)!.accepts(spec), name).toEqual([]);
        }
      }
    }
    expect(getPreset('secret-room-eiti-released-code')!.config.env).toMatchObject({ observation: 'code' });
    expect(getPreset('push-box-edti-released-code')!.config.algo).toMatchObject({ interaction: 'count' });
    expect(resolveExperiment(getPreset('push-box-edti')!.config).algo).toMatchObject({ interaction: 'mi' });
    expect(resolveExperiment(getPreset('push-box-alita')!.config).algo).toMatchObject({ lambda: 0.15, lambdaPi: 0.1, omega: 0.1, dtMode: 'exact' });
    expect(listPresets().filter((p) => p.paper?.includes('Table 1')).length).toBeGreaterThanOrEqual(24);
  });

  it('alita-table1 runs every Table 1 learner on both tasks with the paper numbers as reference', () => {
    const r = getRepro('alita-table1')!;
    expect(r.variants.map((v) => v.preset).sort()).toEqual(tasks.flatMap((t) => learners.map((l) => `${t}-${l}`)).sort());
    const labels = new Set(r.variants.map((v) => v.label));
    for (const row of r.reference!.rows) for (const c of row.cells) expect(labels.has(c!.variant), c!.variant).toBe(true);
    const alita = r.reference!.rows.find((x) => x.label === 'ALITA')!;
    expect(alita.cells.map((c) => c!.paper)).toEqual([146.66, 0.68]);
    expect(r.reference!.rows.find((x) => x.label === 'EDTI')!.cells.map((c) => c!.paper)).toEqual([135.84, 0.34]);
    expect(r.budgets.small.seeds * r.budgets.small.episodes * r.budgets.small.numEnvs).toBeLessThan(r.budgets.paper.seeds * r.budgets.paper.episodes * r.budgets.paper.numEnvs);
  });
});
