/**
 * Every registered preset, whichever paper it comes from: it resolves against the schemas (so
 * `cairn train --preset NAME` and the workbench's preset picker accept it as it is), names a
 * registered env and learner, and its env config builds the env's spec. A preset whose fields
 * drift from its learner's schema fails here, naming the preset. The presets against a frozen
 * opponent need the one field only the user can give, the opponent's run: without it they must
 * say so by name (train.opponentRun), with it they resolve like the rest.
 */
import { describe, expect, it } from 'vitest';
import { listPresets } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { getAlgo, getEnv } from '../../src-shared/registry';

describe('every preset', () => {
  const presets = listPresets();

  it('has a unique name', () => {
    expect(new Set(presets.map((p) => p.name)).size).toBe(presets.length);
    expect(presets.length).toBeGreaterThan(100);
  });

  it.each(presets.map((p) => [p.name]))('%s resolves and builds its env spec', (name) => {
    const p = presets.find((x) => x.name === name)!;
    expect(p.title.length, name).toBeGreaterThan(5);
    expect(p.description.length, name).toBeGreaterThan(20);
    const frozen = p.config.train?.opponent === 'frozen';
    if (frozen) expect(() => resolveExperiment(p.config)).toThrow(/train\.opponentRun/);
    const cfg = resolveExperiment(frozen ? { ...p.config, train: { ...p.config.train, opponentRun: 1 } } : p.config);
    const env = getEnv(String(cfg.env.id));
    expect(env, `${name}: env ${cfg.env.id}`).toBeDefined();
    expect(getAlgo(String(cfg.algo.id)), `${name}: algo ${cfg.algo.id}`).toBeDefined();
    const spec = env!.spec(cfg.env);
    expect(spec.numAgents, name).toBeGreaterThan(0);
    expect(cfg.train.episodes, name).toBeGreaterThan(0);
  });
});
