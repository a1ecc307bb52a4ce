/**
 * Presets of the ALITA tasks (speaker-listener, adversary, Push-Box, Secret Room): they resolve,
 * name their env and PG, and build envs with the sizes the paper's setting implies; the
 * released-code twins differ from the paper presets only in the env fields they name.
 */
import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { resolveExperiment } from '../../src-shared/config/experiment';
import { getEnv } from '../../src-shared/registry';

describe('ALITA task presets', () => {
  it.each([
    ['speaker-listener-pg', 'speaker-listener', { numAgents: 2, obsSize: 11, numActions: 5, episodeLimit: 25 }],
    ['adversary-pg', 'adversary', { numAgents: 3, obsSize: 10, numActions: 5, episodeLimit: 25 }],
    ['push-box-pg', 'push-box', { numAgents: 2, obsSize: 90, numActions: 5, episodeLimit: 300 }],
    ['push-box-pg-released-code', 'push-box', { numAgents: 2, obsSize: 90, numActions: 5, episodeLimit: 300 }],
    ['secret-room-pg', 'secret-room', { numAgents: 2, obsSize: 103, numActions: 4, episodeLimit: 300 }],
    ['secret-room-pg-released-code', 'secret-room', { numAgents: 2, obsSize: 100, numActions: 4, episodeLimit: 300 }],
  ])('%s builds %s with the expected sizes', (name, envId, sizes) => {
    const p = getPreset(name)!;
    expect(p.description.length).toBeGreaterThan(20);
    const cfg = resolveExperiment(p.config);
    expect(cfg.env.id).toBe(envId);
    expect(cfg.algo.id).toBe('pg');
    expect(getEnv(envId)!.spec(cfg.env)).toMatchObject(sizes);
  });

  it('released-code twins change only the env fields the EITI code differs in', () => {
    for (const [paper, code, diff] of [
      ['push-box-pg', 'push-box-pg-released-code', { boxObservation: 'code' }],
      ['secret-room-pg', 'secret-room-pg-released-code', { observation: 'code' }],
    ] as const) {
      const a = resolveExperiment(getPreset(paper)!.config);
      const b = resolveExperiment(getPreset(code)!.config);
      expect(b.env).toEqual({ ...a.env, ...diff });
      expect(b.algo).toEqual(a.algo);
    }
  });
});
