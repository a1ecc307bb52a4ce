import { initBackend } from '../src-main/backend/select';
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from '../src-shared/config/schema';
import { battleEntry } from '../src-shared/envs/battle';
import { ippoEntry } from '../src-shared/algos/ippo';
import { Rng } from '../src-shared/rng';
const K = Number(process.argv[2] ?? 64), B = Number(process.argv[3] ?? 1), T = Number(process.argv[4] ?? 30);
await initBackend('wasm');
const envConfig = resolve('env', battleEntry.schema, { armySize: K, episodeLimit: T });
const env = battleEntry.create(envConfig, { numEnvs: B, autoReset: false });
const tr = ippoEntry.createTrainer({ tf: tf as never, env, envConfig, config: resolve('algo', ippoEntry.schema, {}), seed: 1, rng: new Rng(1, 3) });
for (let i = 0; i < 2; i++) { try { const t0 = Date.now(); const r = await tr.round(); console.log('round', i, Date.now() - t0, 'ms', JSON.stringify(r.stats), tf.memory().numBytes); } catch (e) { console.log("FAILED", (e as Error).message, "numBytes", tf.memory().numBytes, "numTensors", tf.memory().numTensors); break; } }
