import { describe, expect, it } from 'vitest';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';

describe('presets', () => {
  it('lists the paper experiments, their released-code twins and the random baseline', () => {
    expect(listPresets().map((p) => p.name)).toEqual([
      'manitokan-pg',
      'manitokan-pg-doorkey',
      'manitokan-pg-history',
      'manitokan-pg-released-code',
      'manitokan-pg-doorkey-released-code',
      'manitokan-pg-history-released-code',
      'manitokan-coma',
      'manitokan-coma-doorkey',
      'manitokan-coma-history',
      'manitokan-coma-released-code',
      'manitokan-coma-doorkey-released-code',
      'manitokan-coma-history-released-code',
      'manitokan-random',
    ]);
    expect(getPreset('nope')).toBeUndefined();
  });

  it.each(listPresets().map((p) => [p.name]))('%s resolves against the schemas with the paper budget', (name) => {
    const p = getPreset(name)!;
    expect(p.title.length).toBeGreaterThan(0);
    expect(p.description.length).toBeGreaterThan(20);
    const cfg = resolveExperiment(p.config);
    expect(cfg.train.episodes).toBe(10000);
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

  it('returns copies that callers may modify', () => {
    getPreset('manitokan-pg')!.config.algo!.lr = 1;
    expect(getPreset('manitokan-pg')!.config.algo!.lr).toBeUndefined();
  });
});
