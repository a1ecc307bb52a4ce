import { describe, expect, it } from 'vitest';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';

describe('presets', () => {
  // Other env families' presets are checked beside their envs (test/envs/family-presets.test.ts).
  const manitokan = () => listPresets().filter((p) => p.config.env?.id === 'manitokan');

  it('lists the paper experiments, their released-code twins and the random baseline', () => {
    expect(manitokan().map((p) => p.name)).toEqual([
      'manitokan-pg',
      'manitokan-pg-doorkey',
      'manitokan-pg-history',
      'manitokan-pg-released-code',
      'manitokan-pg-doorkey-released-code',
      'manitokan-pg-history-released-code',
      'manitokan-pg-history-maxent',
      'manitokan-pg-history-maxent-released-code',
      'manitokan-pg-history-correction',
      'manitokan-pg-history-correction-released-code',
      'manitokan-pg-history-self-correction',
      'manitokan-pg-history-self-correction-released-code',
      'manitokan-pg-history-anti-collective',
      'manitokan-pg-history-anti-collective-released-code',
      'manitokan-coma',
      'manitokan-coma-doorkey',
      'manitokan-coma-history',
      'manitokan-coma-released-code',
      'manitokan-coma-doorkey-released-code',
      'manitokan-coma-history-released-code',
      'manitokan-ippo',
      'manitokan-ippo-doorkey',
      'manitokan-ippo-history',
      'manitokan-ippo-released-code',
      'manitokan-ippo-doorkey-released-code',
      'manitokan-ippo-history-released-code',
      'manitokan-mappo',
      'manitokan-mappo-doorkey',
      'manitokan-mappo-history',
      'manitokan-mappo-released-code',
      'manitokan-mappo-doorkey-released-code',
      'manitokan-mappo-history-released-code',
      'manitokan-saf',
      'manitokan-saf-released-code',
      'manitokan-saf-doorkey',
      'manitokan-saf-doorkey-released-code',
      'manitokan-saf-history',
      'manitokan-saf-history-released-code',
      'manitokan-ippo-randomized',
      'manitokan-mappo-randomized',
      'manitokan-mappo-ind',
      'manitokan-mappo-dri',
      'manitokan-mappo-dri-naive',
      'manitokan-vdn',
      'manitokan-vdn-doorkey',
      'manitokan-vdn-history',
      'manitokan-vdn-released-code',
      'manitokan-vdn-doorkey-released-code',
      'manitokan-vdn-history-released-code',
      'manitokan-qmix',
      'manitokan-qmix-doorkey',
      'manitokan-qmix-history',
      'manitokan-qmix-released-code',
      'manitokan-qmix-doorkey-released-code',
      'manitokan-qmix-history-released-code',
      'manitokan-qtran',
      'manitokan-qtran-doorkey',
      'manitokan-qtran-history',
      'manitokan-qtran-released-code',
      'manitokan-qtran-doorkey-released-code',
      'manitokan-qtran-history-released-code',
      'manitokan-maven',
      'manitokan-maven-doorkey',
      'manitokan-maven-history',
      'manitokan-maven-released-code',
      'manitokan-maven-doorkey-released-code',
      'manitokan-maven-history-released-code',
      'manitokan-vdn-randomized',
      'manitokan-qmix-randomized',
      'manitokan-random',
    ]);
    expect(getPreset('nope')).toBeUndefined();
  });

  it.each(manitokan().map((p) => [p.name]))('%s resolves against the schemas with the paper budget', (name) => {
    const p = getPreset(name)!;
    expect(p.title.length).toBeGreaterThan(0);
    expect(p.description.length).toBeGreaterThan(20);
    const cfg = resolveExperiment(p.config);
    // The paper's budgets: 10,000 rounds; Fig. 6 26,000; App. E.7 11,000.
    const episodes = /-(maxent|correction|self-correction)(-released-code)?$/.test(name) ? 26000 : name.includes('anti-collective') ? 11000 : 10000;
    expect(cfg.train.episodes).toBe(episodes);
    expect(cfg.train.numEnvs).toBe(32);
    expect(cfg.env.id).toBe('manitokan');
  });

  it('paper presets use paper values and differ only in the observation flags', () => {
    const base = resolveExperiment(getPreset('manitokan-pg')!.config);
    expect(base.algo).toMatchObject({ id: 'pg', lr: 5e-5, activation: 'relu', criticUpdate: 'batch', observation: 'fresh' });
    expect(base.env).toMatchObject({ episodeLimit: 150, showOtherAgents: true, obsLastAction: false, obsDoorFlag: false });
    expect(resolveExperiment(getPreset('manitokan-pg-doorkey')!.config).env).toMatchObject({ obsDoorFlag: true, obsKeyFlag: true });
    expect(resolveExperiment(getPreset('manitokan-pg-history')!.config).env).toMatchObject({ obsLastAction: true, obsDoorFlag: false });
  });

  it('released-code presets switch on every released-code value together', () => {
    for (const v of ['', '-doorkey', '-history']) {
      const cfg = resolveExperiment(getPreset(`manitokan-pg${v}-released-code`)!.config);
      const paper = resolveExperiment(getPreset(`manitokan-pg${v}`)!.config);
      expect(cfg.env).toMatchObject({ episodeLimit: 300, showOtherAgents: false });
      expect(cfg.algo).toMatchObject({
        lr: 5e-4,
        criticLr: 5e-4,
        activation: 'gelu',
        epsilonStart: 0.8,
        epsilonFinish: 0.01,
        epsilonAnnealSteps: 2_000_000,
        observation: 'frozen-initial',
        criticBootstrap: 'terminated-sum',
        criticUpdate: 'per-step-reverse',
        targetUpdateCriticSteps: 200,
      });
      // Same observation variant as the paper twin.
      for (const k of ['obsDoorFlag', 'obsKeyFlag', 'obsLastAction']) expect(cfg.env[k]).toBe(paper.env[k]);
    }
  });

  it('PG correction and max-entropy presets: the paper term on the history preset, and the released term on its released twin', () => {
    const history = resolveExperiment(getPreset('manitokan-pg-history')!.config);
    const historyReleased = resolveExperiment(getPreset('manitokan-pg-history-released-code')!.config);
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['maxent', { maxEntropy: true, entropyCoef: 1e-4, maxEntropySign: 'bonus', correction: 'none' }, { maxEntropy: true, maxEntropySign: 'released-penalty' }],
      ['correction', { correction: 'cross', correctionImpl: 'hvp', correctionCoef: 1, correctionStart: 1, maxEntropy: false, correctionBaseline: 'collective-critic' }, { correction: 'cross', correctionImpl: 'released-fd', correctionBaseline: 'full-critic' }],
      ['self-correction', { correction: 'self', correctionImpl: 'hvp', antiCollective: false, correctionBaseline: 'collective-critic' }, { correction: 'self', correctionImpl: 'released-fd', correctionBaseline: 'full-critic' }],
      [
        'anti-collective',
        { correction: 'self', correctionImpl: 'hvp', antiCollective: true, antiCollectiveScope: 'collective' },
        { correction: 'self', correctionImpl: 'released-fd', correctionBaseline: 'full-critic', antiCollective: true, antiCollectiveScope: 'released-individual' },
      ],
    ];
    const strip = (a: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(a).filter(([k]) => !keys.includes(k)));
    for (const [suffix, paperAlgo, releasedAlgo] of cases) {
      const paper = resolveExperiment(getPreset(`manitokan-pg-history-${suffix}`)!.config);
      const released = resolveExperiment(getPreset(`manitokan-pg-history-${suffix}-released-code`)!.config);
      expect(paper.algo, suffix).toMatchObject(paperAlgo);
      expect(released.algo, suffix).toMatchObject(releasedAlgo);
      // Otherwise identical to their bases: same env, same other algorithm values.
      expect(paper.env).toEqual(history.env);
      expect(released.env).toEqual(historyReleased.env);
      const changed = Object.keys({ ...paperAlgo, ...releasedAlgo });
      expect(strip(paper.algo, changed)).toEqual(strip(history.algo, changed));
      expect(strip(released.algo, changed)).toEqual(strip(historyReleased.algo, changed));
    }
  });

  it('returns copies that callers may modify', () => {
    getPreset('manitokan-pg')!.config.algo!.lr = 1;
    expect(getPreset('manitokan-pg')!.config.algo!.lr).toBeUndefined();
  });
});
