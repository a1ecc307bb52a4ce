/**
 * Presets of the matrix-game and particle families: they resolve, name the env and learner the
 * issue asks for, and their env configs build an env with the sizes the paper setting implies.
 */
import { describe, expect, it } from 'vitest';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { getEnv } from '../../src-shared/registry';

describe('matrix-game and spread presets', () => {
  it('exist under their family prefixes, with PG', () => {
    const names = listPresets().map((p) => p.name);
    for (const n of ['pd-pg', 'pd-pg-previous-action', 'maintain-pg', 'spread-n3-pg', 'spread-n6-pg']) expect(names).toContain(n);
    for (const n of ['pd-pg', 'maintain-pg', 'spread-n3-pg', 'spread-n6-pg']) expect(resolveExperiment(getPreset(n)!.config).algo.id).toBe('pg');
  });

  it.each([
    ['pd-pg', 'matrix-game', { numAgents: 2, numActions: 2, obsSize: 1, episodeLimit: 25 }],
    ['pd-pg-previous-action', 'matrix-game', { numAgents: 2, numActions: 2, obsSize: 5, episodeLimit: 25 }],
    ['maintain-pg', 'matrix-game', { numAgents: 2, numActions: 3, obsSize: 1, episodeLimit: 25 }],
    ['spread-n3-pg', 'spread', { numAgents: 3, numActions: 5, obsSize: 18, episodeLimit: 25 }],
    ['spread-n6-pg', 'spread', { numAgents: 6, numActions: 5, obsSize: 36, episodeLimit: 25 }],
  ])('%s builds %s with the expected sizes', (name, envId, sizes) => {
    const p = getPreset(name)!;
    expect(p.description.length).toBeGreaterThan(20);
    const cfg = resolveExperiment(p.config);
    expect(cfg.env.id).toBe(envId);
    const spec = getEnv(envId)!.spec(cfg.env);
    expect(spec).toMatchObject(sizes);
  });
});
