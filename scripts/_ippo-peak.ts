import { initBackend } from '../src-main/backend/select';
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from '../src-shared/config/schema';
import { battleEntry } from '../src-shared/envs/battle';
import { ippoEntry } from '../src-shared/algos/ippo';
import { Rng } from '../src-shared/rng';
await initBackend('wasm');
for (const K of process.argv.slice(2).map(Number)) {
  const T = 30;
  const envConfig = resolve('env', battleEntry.schema, { armySize: K, episodeLimit: T });
  const env = battleEntry.create(envConfig, { numEnvs: 1, autoReset: false });
  const tr = ippoEntry.createTrainer({ tf: tf as never, env, envConfig, config: resolve('algo', ippoEntry.schema, {}), seed: 1, rng: new Rng(1, 3) });
  const eng = tf.engine() as any; const orig = eng.runKernelFunc.bind(eng); let peak = 0; let peakT = 0;
  eng.runKernelFunc = (...a: unknown[]) => { const r = orig(...a); if (eng.state.numBytes > peak) { peak = eng.state.numBytes; peakT = eng.state.numTensors; } return r; };
  const t0 = Date.now(); await tr.round(); eng.runKernelFunc = orig;
  console.log('K', K, 'peakMB', (peak / 2 ** 20).toFixed(0), 'tensorsAtPeak', peakT, 'ms', Date.now() - t0);
  tr.dispose();
}
