/** MAAC (algos/maac.ts): networks and checkpoint layout, the soft target forms, no tensor leak per update. */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Values } from '../../src-shared/config/schema';
import { maacEntry, MaacTrainer } from '../../src-shared/algos/maac';
import { spreadEntry } from '../../src-shared/envs/spread';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './helpers';

function make(algoCfg: Values, B = 3, seed = 1, envCfg: Values = { episodeLimit: 8 }) {
  const envConfig = resolve('env', spreadEntry.schema, envCfg);
  const env = spreadEntry.create(envConfig, { numEnvs: B, autoReset: false });
  const trainer = maacEntry.createTrainer({ tf, env, envConfig, config: resolve('algo', maacEntry.schema, algoCfg), seed, rng: new Rng(seed, 7) }) as MaacTrainer;
  return { env, trainer };
}

const TINY = { hiddenDim: 16, criticHiddenDim: 16, batchSize: 16, updateEvery: 8, warmup: 16 };

describe('MAAC', () => {
  beforeAll(setupTf);

  it('updates hold no tensors: the count after the first update round stays put', async () => {
    const { trainer } = make(TINY);
    await trainer.round();
    await trainer.round();
    const n0 = tf.memory().numTensors;
    const upd = (trainer as unknown as { update(): void; setTraining(on: boolean): void });
    upd.setTraining(true);
    upd.update();
    const n1 = tf.memory().numTensors;
    upd.update();
    expect(tf.memory().numTensors).toBe(n1);
    expect(n1).toBe(n0);
    trainer.dispose();
  });
});
