import * as tf from '@tensorflow/tfjs-core';
import { applySet, type PartialExperiment } from '../../src-shared/config/experiment';
import { resolve } from '../../src-shared/config/schema';
import { ConfigError } from '../../src-shared/config/schema';
import { getAlgo, getEnv, listEnvs } from '../../src-shared/registry';
import { evaluate } from '../service/evaluate';
import { backendChoice, initBackend } from '../backend/select';
import { readCheckpointFile } from '../runner/checkpoint-file';
import { parse, intFlag } from './args';
import { openStore } from './common';
import { UsageError } from './errors';
import { parseDecimal } from '../../src-shared/config/schema';
import { loadEnvModule } from '../service/env-module';

export const EVAL_HELP = `Usage: cairn eval --env manitokan --policy random|run:ID --episodes N --seed S [options]

Play N episodes in all (not rounds) without learning and print the mean of every episode
metric (so the mean of the env's success measure is its success rate; \`cairn envs\` lists
each env's metrics).

Options:
  --env ID             environment (default: the run's env for run:ID, the module's env
                       with --env-module, else manitokan)
  --env-module PATH    load your own env from a TypeScript module (docs/env-modules.md)
  --set env.key=value  override an env field (repeatable)
  --policy P           random | run:ID (latest checkpoint of that run)
  --episodes N         episodes in all (default 1000)
  --seed S             seed (default 1)
  --envs B             parallel copies (default 32)
  --greedy             argmax over legal actions instead of sampling
  --backend NAME       auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu
  --db PATH            database (for run:ID)
  --json               print one JSON object
`;

export async function evalCmd(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    env: { type: 'string' },
    'env-module': { type: 'string' },
    set: { type: 'string', multiple: true },
    policy: { type: 'string' },
    episodes: { type: 'string' },
    seed: { type: 'string' },
    envs: { type: 'string' },
    greedy: { type: 'boolean' },
    backend: { type: 'string' },
    db: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(EVAL_HELP);
  const policyArg = values.policy ?? 'random';
  const episodes = intFlag('episodes', values.episodes, 1000, 1, 100_000_000);
  const seed = intFlag('seed', values.seed, 1, 0, 2 ** 31 - 1);
  const numEnvs = intFlag('envs', values.envs, 32, 1, 4096);

  const moduleEnv = values['env-module'] === undefined ? undefined : await loadEnvModule(values['env-module']);
  let partial: PartialExperiment = { env: {}, algo: { id: 'random' } };
  let checkpoint = null;
  if (policyArg.startsWith('run:')) {
    const id = parseDecimal(policyArg.slice(4));
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`--policy: expected random or run:ID, got ${JSON.stringify(policyArg)}`);
    const store = await openStore(values.db, true);
    try {
      const run = await store.getRun(id);
      if (!run) throw new UsageError(`--policy: run ${id} does not exist in ${store.file}`);
      const ck = await store.latestCheckpoint(id);
      if (!ck) throw new UsageError(`--policy: run ${id} has no checkpoint yet`);
      checkpoint = readCheckpointFile(ck.path);
      if (run.config.envModule) await loadEnvModule(run.config.envModule, `--policy: run ${id}'s envModule`);
      partial = { env: { ...run.config.env }, algo: { ...run.config.algo } };
    } finally {
      await store.close();
    }
  } else if (policyArg !== 'random') {
    throw new UsageError(`--policy: expected random or run:ID, got ${JSON.stringify(policyArg)}`);
  }
  if (values.env !== undefined) {
    if (!getEnv(values.env)) throw new ConfigError('--env', `one of ${listEnvs().map((e) => e.id).join(', ')}`, values.env);
    if (partial.env?.id && partial.env.id !== values.env) {
      throw new UsageError(`--env: run uses ${partial.env.id}, not ${values.env}`);
    }
    partial.env = { ...partial.env, id: values.env };
  }
  partial.env = { id: moduleEnv?.id ?? 'manitokan', ...partial.env };
  for (const s of values.set ?? []) {
    if (!s.startsWith('env.')) throw new UsageError(`--set: eval takes env.* fields only, got ${JSON.stringify(s)}`);
    partial = applySet(partial, s);
  }
  const envEntry = getEnv(partial.env!.id!)!;
  const { id: _e, ...envRest } = partial.env!;
  const envConfig = resolve('env', envEntry.schema, envRest);
  const algoEntry = getAlgo(partial.algo!.id!)!;
  const { id: _a, ...algoRest } = partial.algo!;
  const algoConfig = resolve('algo', algoEntry.schema, algoRest);

  let backend = 'none';
  if (checkpoint) backend = (await initBackend(backendChoice(values.backend))).name;
  const res = evaluate({ tf, envEntry, envConfig, algoEntry, algoConfig, checkpoint, episodes, seed, numEnvs, greedy: Boolean(values.greedy) });
  const out = { policy: policyArg, env: envEntry.id, seed, greedy: Boolean(values.greedy), backend, episodes: res.episodes, ...res.means, stderr: res.stderr };
  if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
  else {
    process.stdout.write(`${res.episodes} episodes of ${envEntry.id} with policy ${policyArg} (seed ${seed})\n`);
    for (const [k, v] of Object.entries(res.means)) {
      process.stdout.write(`  ${k.padEnd(22)} ${v === null ? 'n/a' : v.toFixed(4)}${res.stderr[k] != null ? `  ± ${res.stderr[k]!.toFixed(4)} (s.e.)` : ''}\n`);
    }
  }
}
