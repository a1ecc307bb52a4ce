import { initBackend } from '../src-main/backend/select';
import * as tf from '@tensorflow/tfjs-core';
await initBackend('wasm');
const keep: tf.Tensor[] = [];
const GB = Number(process.argv[2] ?? 2.2);
while (tf.memory().numBytes < GB * 2 ** 30) keep.push(tf.zeros([64 * 2 ** 20]));
console.log('held', (tf.memory().numBytes / 2 ** 30).toFixed(2), 'GiB');
const x = tf.randomUniform([128, 30, 1183]);
for (const k of ['transpose', 'matmul', 'sum']) {
  try {
    const y = k === 'transpose' ? tf.transpose(x, [0, 2, 1]) : k === 'matmul' ? tf.matMul(tf.reshape(x, [3840, 1183]), tf.ones([1183, 8])) : tf.sum(x, 1);
    console.log(k, 'ok', y.shape, (await y.data())[0]);
  } catch (e) { console.log(k, 'FAILED', (e as Error).message); }
}
