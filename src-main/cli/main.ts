/**
 * The `cairn` command line. Every command has --help; bad input exits 2 with one line that
 * names the field and what is allowed.
 */
import { reportAndExit, UsageError } from './errors';

const HELP = `cairn: a workbench for multi-agent reinforcement learning research

Usage: cairn <command> [options]      (cairn <command> --help for details)

Commands:
  train    train runs from a preset, one per seed, in parallel workers
  eval     evaluate a policy (random or a run's checkpoint) without learning
  runs     list runs in the database
  show     show one run
  stop     stop a running run (it checkpoints first)
  resume   continue a stopped or failed run from its last checkpoint
  delete   delete runs with their data and checkpoint files (asks first)
  export   export a run's metrics as csv or json
  presets  list experiment presets
  envs     list environments: agents, teams, spaces, declared metrics, presets
  algos    list learners: compatible environments, presets
  env      env check PATH: run the conformance checks on your own env module
  repro    reproduce a paper's figure or table (all variants x seeds) with its report
  sweep    axes over config fields x seeds as one experiment, locally or on Slurm
  serve    serve the workbench UI over HTTP on loopback
  bench    measure env, training and database throughput

Data lives in one SQLite file: --db PATH, else $CAIRN_DB, else your data folder
(Linux: $XDG_DATA_HOME/cairn/cairn.db, default ~/.local/share/cairn/cairn.db).
`;

const commands: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  train: async () => (await import('./cmd-train')).train,
  resume: async () => (await import('./cmd-train')).resume,
  eval: async () => (await import('./cmd-eval')).evalCmd,
  runs: async () => (await import('./cmd-runs')).runs,
  show: async () => (await import('./cmd-runs')).show,
  stop: async () => (await import('./cmd-runs')).stop,
  export: async () => (await import('./cmd-runs')).exportCmd,
  delete: async () => (await import('./cmd-delete')).deleteCmd,
  presets: async () => (await import('./cmd-runs')).presets,
  envs: async () => (await import('./cmd-registry')).envs,
  algos: async () => (await import('./cmd-registry')).algos,
  env: async () => (await import('./cmd-registry')).env,
  serve: async () => (await import('./cmd-serve')).serve,
  repro: async () => (await import('./cmd-repro')).repro,
  sweep: async () => (await import('./cmd-sweep')).sweep,
  bench: async () => (await import('./cmd-bench')).bench,
};

/** Every command name (the CLI fuzz suite covers each). */
export const COMMAND_NAMES: readonly string[] = Object.keys(commands);

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const load = commands[cmd];
  if (!load) throw new UsageError(`unknown command ${JSON.stringify(cmd)}; one of ${Object.keys(commands).join(', ')}`);
  await (await load())(rest);
}

/** The process entry (bin/cairn.mjs): run one command; errors end the process with one line. */
export function run(argv: string[]): Promise<void> {
  // `cairn runs | head`: a closed pipe ends the command quietly, not with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  return main(argv).catch(reportAndExit);
}
