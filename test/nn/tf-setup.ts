/** Shared test setup: the wasm backend (what runs on this machine) with Cairn's gradients. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src-main/backend/select';
import { registerGradients } from '../../src-shared/nn/gradients';

export { tf };

export async function setupTf(): Promise<typeof tf> {
  await initBackend('wasm');
  registerGradients(tf);
  return tf;
}

/** Max |a - b| over two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
