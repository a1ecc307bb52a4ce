// Scratch timing script (not committed): F2A2-DDPG/TD3 vs MADDPG training speed on spread N=6.
import { setupTf, tf } from './test/nn/tf-setup';
import { resolve } from './src-shared/config/schema';
import { spreadEntry } from './src-shared/envs/spread';
import { getAlgo } from './src-shared/registry';
import { Rng } from './src-shared/rng';
await setupTf();
const which = process.argv.slice(2);
for (const w of which) {
  const [id, inst] = w.split(':');
  const algo = getAlgo(id)!;
  const envConfig = resolve('env', spreadEntry.schema, { numAgents: 6, episodeLimit: 25 });
  const env = spreadEntry.create(envConfig, { numEnvs: 4, autoReset: false });
  const extra: Record<string, unknown> = id === 'f2a2' ? { instantiation: inst, moaHidden: 32, moaFifo: 300 } : {};
  const cfg = resolve('algo', algo.schema, { batchSize: 128, hiddenDim: 64, warmup: 256, updateEvery: 25, ...extra, ...(id === 'f2a2' ? { updateEvery: 100 } : {}) });
  const t = algo.createTrainer({ tf, env, envConfig, config: cfg, seed: 1, rng: new Rng(1, 3) });
  for (let k = 0; k < 3; k++) await t.round();
  const t0 = performance.now();
  let steps = 0;
  let upd = 0;
  for (let k = 0; k < 10; k++) { const r = await t.round(); steps += r.envSteps; upd = r.stats['charts/updates']; }
  const s = (performance.now() - t0) / 1000;
  console.log(`${w}: ${(steps / s).toFixed(0)} env-steps/s (${steps} steps in ${s.toFixed(1)} s, updates ${upd})`);
  t.dispose();
}
