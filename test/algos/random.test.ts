import { beforeAll, describe, expect, it } from 'vitest';
import { randomAvailableActions, randomEntry } from '../../src-shared/algos/random';
import { Rng } from '../../src-shared/rng';
import { build, setupTf } from './helpers';

describe('random baseline', () => {
  beforeAll(setupTf);

  it('plays one episode per copy per round and picks only available actions', async () => {
    const { env, trainer } = build(randomEntry, { numEnvs: 5, env: { episodeLimit: 40 } });
    const r = await trainer.round();
    expect(r.episodes.length).toBe(5);
    expect(r.envSteps).toBe(r.episodes.reduce((s, e) => s + (e.metrics.episode_length ?? 0), 0));
    expect(r.stats).toEqual({});
    // Action choice: never a masked action, all available ones used.
    env.resetFinished();
    const rng = new Rng(4);
    const actions = new Int32Array(env.numEnvs * env.spec.numAgents);
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      randomAvailableActions(env, actions, rng);
      for (let row = 0; row < actions.length; row++) {
        expect(env.actionMask[row * env.spec.numActions + actions[row]]).toBe(1);
        seen.add(actions[row]);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
    trainer.dispose();
  });

});
