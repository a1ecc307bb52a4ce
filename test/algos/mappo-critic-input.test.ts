/**
 * MAPPO's critic input (issue 8 audit): Table 1's critic MLP takes 32 inputs after a 3x3
 * convolution with 32 channels. Only a single 3x3 patch gives that: the stacked views
 * (`joint-obs`), not the global state (Cairn's choice, whose convolution gives 16 patches).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mappoEntry, mappoSchema } from '../../src-shared/algos/mappo';
import { build, setupTf } from './helpers';

async function criticFc1(criticInput: string): Promise<number[]> {
  const { trainer } = build(mappoEntry, { numEnvs: 1, env: { episodeLimit: 5 }, algo: { criticInput } });
  const ck = await trainer.save();
  trainer.dispose();
  const key = Object.keys(ck.tensors).find((k) => /^critic\/fc1.*weight/.test(k));
  expect(key, Object.keys(ck.tensors).join(' ')).toBeDefined();
  return ck.tensors[key!].shape;
}

describe('MAPPO critic input', () => {
  beforeAll(setupTf);

  it("joint-obs gives Table 1's critic MLP input of 32; state (Cairn's choice) does not", async () => {
    const joint = await criticFc1('joint-obs');
    const state = await criticFc1('state');
    expect(joint[joint.length - 2]).toBe(32);
    expect(state[state.length - 2]).toBe(16 * 32 + 6);
  });

  it("labels the state input as Cairn's choice and joint-obs as the reading that fits Table 1", () => {
    expect(mappoSchema.criticInput.default).toBe('state');
    expect(mappoSchema.criticInput.doc).toMatch(/state = the global state \(Cairn's choice/);
    expect(mappoSchema.criticInput.doc).toMatch(/joint-obs = .*fits Table 1/);
  });
});
