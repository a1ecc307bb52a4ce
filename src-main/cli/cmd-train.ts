import { listPresets } from '../../src-shared/config/presets';
import { launch } from '../service/launch';
import { parse, intFlag, runIdArg } from './args';
import { addToProgress, makeRunner, openStore, runHeadlineKeys, runToCompletion, runsJson } from './common';
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
  --seeds K            run K seeds: S, S+1, ..., S+K-1
  --episodes N         training rounds, counted as the paper does: one episode in each of
                       the B parallel envs per round (N x B episodes in all)
  --envs B             parallel environments per run (train.numEnvs)
  --set key=value      override any field: env.*, algo.*, train.* (repeatable)
  --name NAME          experiment name (default: the preset name)
  --parallel P         runs at once (default: number of cores)
  --backend NAME       auto | tensorflow-gpu | tensorflow | wasm | cpu (or CAIRN_BACKEND)
  --db PATH            database file (or CAIRN_DB; default in your data folder)
  --json               last stdout line: {"runs":[{"id","seed","status","summary"}]}
`;

export async function train(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    preset: { type: 'string' },
    'env-module': { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
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
  const seed = intFlag('seed', values.seed, 1, 0, 2 ** 31 - 1);
  const k = intFlag('seeds', values.seeds, 1, 1, 1000);
  const seeds = Array.from({ length: k }, (_, i) => seed + i);
  const train: Record<string, unknown> = {};
  if (values.episodes !== undefined) train.episodes = intFlag('episodes', values.episodes, 0, 1);
  if (values.envs !== undefined) train.numEnvs = intFlag('envs', values.envs, 0, 1, 4096);

  const store = await openStore(values.db);
  try {
    const runner = makeRunner(store, values);
    const progress = new Progress();
    const launched = await launch(store, runner, {
      preset: values.preset,
      overrides: moduleEnv ? { env: { id: moduleEnv.id }, train } : { train },
      sets: values.set,
      seeds,
      name: values.name,
    });
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
