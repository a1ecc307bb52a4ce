import { listPresets } from '../../src-shared/config/presets';
import { trainSchema } from '../../src-shared/config/experiment';
import { SEED_DEFAULT_FIRST, SEED_MAX_VALUE, SEEDS_MAX, seedRange } from '../../src-shared/config/limits';
import { buildConfig, launch } from '../service/launch';
import { parse, intFlag, runIdArg } from './args';
import { addToProgress, makeRunner, openStore, runHeadlineKeys, runnerFlags, runToCompletion, runsJson } from './common';
import type { Store } from '../db/store';
import { Progress } from './progress';
import { UsageError } from './errors';
import { loadEnvModule } from '../service/env-module';

export const TRAIN_HELP = `Usage: cairn train --preset NAME [options]
       cairn train --env-module PATH [--preset NAME] [options]

Train one run per seed (in parallel worker processes) and record everything in the database.

Options:
  --preset NAME        experiment preset (see \`cairn presets\`)
  --env-module PATH    train on your own env, a TypeScript module written against the env
                       contract (docs/env-modules.md); its path is recorded on the runs.
                       Without --preset: the module's env with --set algo.id=ID (default random)
  --seed S             seed (default 1); with --seeds, the first seed
  --seeds K            run K seeds: S, S+1, ..., S+K-1 (at most 1000), as the UI numbers them
  --rounds N           training rounds (train.episodes): one episode in each of the B
                       parallel envs, then one update (N x B episodes in all); the paper
                       calls a round an "episode", and --episodes N is accepted as well
  --envs B             parallel environments per run (train.numEnvs)
  --set key=value      override any field: env.*, algo.*, train.* (repeatable)
  --name NAME          experiment name (default: the preset name)
  --parallel P         runs at once (default: number of cores)
  --backend NAME       auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu (or CAIRN_BACKEND)
  --db PATH            database file (or CAIRN_DB; default in your data folder)
  --json               last stdout line: {"runs":[{"id","seed","status","summary"}]}
`;

export async function train(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    preset: { type: 'string' },
    'env-module': { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
    rounds: { type: 'string' },
    episodes: { type: 'string' },
    envs: { type: 'string' },
    set: { type: 'string', multiple: true },
    name: { type: 'string' },
    parallel: { type: 'string' },
    backend: { type: 'string' },
    db: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(TRAIN_HELP);
  const moduleEnv = values['env-module'] === undefined ? undefined : await loadEnvModule(values['env-module']);
  if (!values.preset && !moduleEnv) {
    throw new UsageError(`--preset: required (or --env-module PATH); one of ${listPresets().map((p) => p.name).join(', ')}`);
  }
  const k = intFlag('seeds', values.seeds, 1, 1, SEEDS_MAX);
  const seed = intFlag('seed', values.seed, SEED_DEFAULT_FIRST, 0, SEED_MAX_VALUE - k + 1);
  const seeds = seedRange(seed, k);
  const train: Record<string, unknown> = {};
  if (values.rounds !== undefined && values.episodes !== undefined) {
    throw new UsageError('--rounds: give --rounds or its alias --episodes, not both');
  }
  // The bounds are the config's own (train.episodes, train.numEnvs), so the flag and --set agree.
  const rounds = values.rounds !== undefined ? ['rounds', values.rounds] : values.episodes !== undefined ? ['episodes', values.episodes] : null;
  if (rounds) train.episodes = intFlag(rounds[0], rounds[1], 0, trainSchema.episodes.min, trainSchema.episodes.max);
  if (values.envs !== undefined) train.numEnvs = intFlag('envs', values.envs, 0, trainSchema.numEnvs.min, trainSchema.numEnvs.max);
  const request = {
    preset: values.preset,
    overrides: moduleEnv ? { env: { id: moduleEnv.id }, train } : { train },
    sets: values.set,
    seeds,
    name: values.name,
  };
  // Every check before the database is opened: a rejected command leaves no file behind.
  buildConfig(request);
  runnerFlags(values);

  const store = await openStore(values.db);
  try {
    const runner = makeRunner(store, values);
    const progress = new Progress();
    const launched = await launch(store, runner, request);
    await addToProgress(store, progress, launched.runs.map((r) => r.id));
    process.stderr.write(
      `cairn: experiment ${launched.experimentId}: ${launched.runs.length} run(s) [${launched.runs.map((r) => r.id).join(', ')}] in ${store.file}\n`,
    );
    await runToCompletion(runner, progress);
    const out = await runsJson(store, launched.runs.map((r) => r.id));
    if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
    else await printSummaries(store, out.runs);
    if (out.runs.some((r) => r.status === 'failed')) process.exitCode = 1;
  } finally {
    await store.close();
  }
}

export const RESUME_HELP = `Usage: cairn resume ID [--db PATH] [--backend NAME] [--json]

Continue a stopped or failed run from its latest checkpoint, in this process.
`;

export async function resume(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { db: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } }, 1);
  if (values.help) return void process.stdout.write(RESUME_HELP);
  const id = runIdArg(positionals[0]);
  const store = await openStore(values.db, false, { mustExist: true });
  try {
    const runner = makeRunner(store, values);
    const progress = new Progress();
    if (!(await store.getRun(id))) throw new UsageError(`ID: run ${id} does not exist in ${store.file}`);
    const { fromRound, checkpoint, skipped } = await runner.resume(id);
    await addToProgress(store, progress, [id], fromRound);
    for (const s of skipped) process.stderr.write(`cairn: skipping ${s.why}\n`);
    process.stderr.write(`cairn: resuming run ${id} from round ${fromRound}${checkpoint ? ` (${checkpoint})` : ''}\n`);
    await runToCompletion(runner, progress);
    const out = await runsJson(store, [id]);
    if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
    else await printSummaries(store, out.runs);
    if (out.runs.some((r) => r.status === 'failed')) process.exitCode = 1;
  } finally {
    await store.close();
  }
}

/** One line per run: status and the final-10% means of its env's headline metrics. */
async function printSummaries(
  store: Store,
  runs: { id: number; seed: number; status: string; error?: string | null; summary: Record<string, number | null> }[],
): Promise<void> {
  for (const r of runs) {
    const row = await store.getRun(r.id);
    const s = (row ? runHeadlineKeys(row) : [])
      .filter((k) => k in r.summary)
      .map((k) => `${k}=${r.summary[k] === null ? 'n/a' : r.summary[k]!.toFixed(3)}`)
      .join(' ');
    process.stdout.write(`run ${r.id} seed ${r.seed}: ${r.status}${r.error ? ` (${r.error})` : ''}  last 10%: ${s}\n`);
  }
}
