/**
 * The conv trunk's first patches built on the CPU (imagePatchRows, the default) are the
 * in-graph ones (9 Slices + a Concat) value for value, so outputs and parameter gradients are
 * the same bits on either path, for both image orders and G > 1 groups.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConvTrunk, trunkShape } from '../../src-shared/nn/conv-trunk';
import { ParamSet } from '../../src-shared/nn/params';
import type { ObsBlock } from '../../src-shared/envs/types';
import { Rng } from '../../src-shared/rng';
import { setupTf, tf } from './tf-setup';

describe('ConvTrunk first patches', () => {
  beforeAll(setupTf);

  it.each(['xyc', 'yxc'] as const)('CPU patches give the in-graph bits forward and backward (%s, 2 groups)', (order) => {
    const [w, h, c, extra] = [6, 7, 3, 4];
    const layout: ObsBlock[] = [{ kind: 'planes', name: 'view', width: w, height: h, channels: c, order }];
    const rowSize = w * h * c + extra;
    const shape = trunkShape(layout, rowSize);
    const params = new ParamSet(tf, true);
    const net = new ConvTrunk(tf, params, 't', shape, 4, 5, 3, 2, new Rng(7, 1));
    const rng = new Rng(3, 2);
    const data = Float32Array.from({ length: 2 * 5 * rowSize }, () => rng.float() * 2 - 1);
    const x = tf.tensor3d(data, [2, 5, rowSize]);
    const infer = (graph: boolean) => tf.tidy(() => net.run(x, false, undefined, graph)).dataSync();
    expect(Array.from(infer(false))).toEqual(Array.from(infer(true)));
    const g = (graph: boolean) => {
      const { value, grads } = params.grads((() => tf.sum(tf.square(net.run(x, true, undefined, graph)))) as never);
      const out = Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, Array.from(t.dataSync())]));
      tf.dispose(Object.values(grads));
      return { value, out };
    };
    expect(g(false)).toEqual(g(true));
    x.dispose();
    params.dispose();
  });
});
