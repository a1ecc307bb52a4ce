/** The `cairn bench --vs-pytorch | --profile` flags, kept out of cmd-bench.ts (a shared file). */
import { UsageError } from '../cli/errors';
import { intFlag, numFlag } from '../cli/args';
import { VS_ROWS, abPpoSequence, abPpoThreads, abWasmKernels, benchVsPytorch, formatVsPytorch, profileLearners } from './vs-pytorch';
import { formatRss, rssOverRounds } from './memory';
import { abMoa } from './ab-moa';

export const VS_FLAGS = {
  'vs-pytorch': { type: 'boolean' },
  profile: { type: 'boolean' },
  reps: { type: 'string' },
  learners: { type: 'string' },
  python: { type: 'string' },
  rss: { type: 'boolean' },
  'ab-kernels': { type: 'boolean' },
  'ab-ppo': { type: 'boolean' },
  'ab-ppo-host': { type: 'boolean' },
  'ab-threads': { type: 'boolean' },
  'ab-moa': { type: 'boolean' },
  rounds: { type: 'string' },
  every: { type: 'string' },
  envs: { type: 'string' },
  'episode-limit': { type: 'string' },
} as const;

export const VS_HELP =
  '\n--vs-pytorch: each learner beside its PyTorch twin (bench/torch_learners.py, one thread each), interleaved\n' +
  '  --reps N (3) times, S seconds each (--seconds, default 3 here x 2); --learners ' +
  VS_ROWS.map((r) => r.label).join(',') +
  '\n  picks rows; --python PATH (default $CAIRN_PYTHON, else python3 or /usr/bin/python3, whichever imports torch). Without PyTorch it says so and times Cairn only.\n' +
  '--profile: where each learner\'s round goes (env, rollout and update kernels and JS, GC, kernel calls).\n' +
  '--ab-kernels: wasm only, each learner with the stock kernels and with Cairn\'s overrides, alternating --reps times.\n' +
  '--ab-ppo: IPPO and MAPPO with the per-step reference network and the batched one (same bits), alternating --reps times; CPU-time env-steps/s and kernels per round.\n' +
  '--ab-ppo-host: wasm-blas only, IPPO and MAPPO with the GRU (update and rollout step) as on wasm and on the host gemm and gate kernel (other rounding), alternating --reps times.\n' +
  '--ab-threads: IPPO, MAPPO and PG at algo.updateThreads 1 and 2 (same bits), alternating --reps times; wall, CPU and main-thread CPU ms per round.\n' +
  '--ab-moa: F2A2 with the full MOA (character, mental, natural nets) vs the impromptu net alone, CPU ms per round, alternating --reps times.\n' +
  '--rss: memory of a long run, per learner: --rounds N (300) rounds, RSS / heap / live tensors sampled every N/10 (--every K to choose), --envs B copies (32), --episode-limit T (default: the preset value); under node --expose-gc each sample follows a full GC; with a PPO helper thread, its own heap, wasm memory and tensors too.\n';

/** These flags, checked (`cairn bench` calls it before measuring anything, whichever mode). */
export function checkVsFlags(values: Record<string, unknown>): { seconds: number; labels: string[] | undefined } {
  const seconds = numFlag('seconds', values.seconds as string | undefined, 6, 0, 3600);
  const labels = values.learners === undefined ? undefined : String(values.learners).split(',');
  for (const l of labels ?? []) {
    if (!VS_ROWS.some((r) => r.label === l)) throw new UsageError(`--learners: expected some of ${VS_ROWS.map((r) => r.label).join(', ')}, got ${JSON.stringify(l)}`);
  }
  intFlag('rounds', values.rounds as string | undefined, 300, 1);
  intFlag('every', values.every as string | undefined, 1, 1);
  intFlag('envs', values.envs as string | undefined, 32, 1, 4096);
  intFlag('episode-limit', values['episode-limit'] as string | undefined, 1, 1, 100_000);
  intFlag('reps', values.reps as string | undefined, 3, 1, 100);
  return { seconds, labels };
}

export async function benchVsCommand(values: Record<string, unknown>, backend: string, log: (s: string) => void): Promise<void> {
  const { seconds, labels } = checkVsFlags(values);
  if (values.rss) {
    const rounds = intFlag('rounds', values.rounds as string | undefined, 300, 1);
    for (const row of VS_ROWS.filter((r) => !labels || labels.includes(r.label))) {
      const every = values.every === undefined ? Math.max(1, Math.floor(rounds / 10)) : intFlag('every', values.every as string, 1, 1);
      const r = await rssOverRounds({ preset: row.preset, label: row.label, algo: row.algo, rounds, every, numEnvs: intFlag('envs', values.envs as string | undefined, 32, 1, 4096),
        episodeLimit: values['episode-limit'] === undefined ? undefined : intFlag('episode-limit', values['episode-limit'] as string, 1, 1, 100_000),
        log,
      });
      process.stdout.write(formatRss(r));
      if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
    }
    return;
  }
  if (values['ab-moa']) {
    process.stdout.write(await abMoa({ reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100), log }));
    return;
  }
  if (values['ab-threads']) {
    process.stdout.write(await abPpoThreads({ seconds, reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100), labels, log }));
    return;
  }
  if (values['ab-ppo-host']) {
    if (backend !== 'wasm-blas') throw new UsageError(`--ab-ppo-host: compares paths of the wasm-blas backend, but the backend is ${backend} (use --backend wasm-blas)`);
    process.stdout.write(await abPpoSequence({ seconds, reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100), labels, log, host: true }));
    return;
  }
  if (values['ab-ppo']) {
    process.stdout.write(await abPpoSequence({ seconds, reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100), labels, log }));
    return;
  }
  if (values['ab-kernels']) {
    if (backend !== 'wasm') throw new UsageError(`--ab-kernels: compares wasm kernels, but the backend is ${backend} (use --backend wasm)`);
    process.stdout.write(await abWasmKernels({ seconds, reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100), labels, log }));
    return;
  }
  if (values.profile) {
    process.stdout.write(await profileLearners({ seconds, labels, log }));
    if (!values['vs-pytorch']) return;
  }
  const report = await benchVsPytorch({
    seconds,
    reps: intFlag('reps', values.reps as string | undefined, 3, 1, 100),
    python: (values.python as string | undefined) ?? process.env.CAIRN_PYTHON,
    labels,
    backend,
    log,
  });
  process.stdout.write(formatVsPytorch(report));
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
}
