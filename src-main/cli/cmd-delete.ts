/** `cairn delete ID...`: the UI's delete, asking first. */
import readline from 'node:readline';
import { deleteRunAndFiles, DeleteRefused } from '../service/delete-run';
import { parse, runIdArg } from './args';
import { openStore } from './common';
import { UsageError } from './errors';

export const DELETE_HELP = `Usage: cairn delete ID... [--yes] [--db PATH]

Delete runs with their metrics, episodes, logs and checkpoint files. Asks for confirmation
(answer y); --yes skips the question (scripts). Running or queued runs must be stopped first.
`;

/** One line from stdin; '' at end of input (a closed or empty stdin answers no). */
function ask(question: string): Promise<string> {
  return new Promise((resolve) => {
    process.stderr.write(question);
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line.trim());
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

export async function deleteCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { db: { type: 'string' }, yes: { type: 'boolean', short: 'y' } }, Infinity);
  if (values.help) return void process.stdout.write(DELETE_HELP);
  if (positionals.length === 0) throw new UsageError('ID: expected one or more run ids (see `cairn runs`)');
  const ids = [...new Set(positionals.map((p) => runIdArg(p)))];
  const store = await openStore(values.db, false, { mustExist: true });
  try {
    const runs = [];
    for (const id of ids) {
      const run = await store.getRun(id);
      if (!run) throw new UsageError(`ID: run ${id} does not exist in ${store.file}`);
      runs.push(run);
    }
    if (!values.yes) {
      const list = runs.map((r) => `${r.id} (${r.name}, ${r.status})`).join(', ');
      const answer = await ask(`Delete run${runs.length > 1 ? 's' : ''} ${list} with their metrics, episodes and checkpoint files? [y/N] `);
      if (!/^y(es)?$/i.test(answer)) {
        process.stderr.write('cairn: not deleted\n');
        process.exitCode = 1;
        return;
      }
    }
    for (const run of runs) {
      let res;
      try {
        res = await deleteRunAndFiles(store, run.id);
      } catch (err) {
        if (err instanceof DeleteRefused) throw new UsageError(`ID: ${err.message}`);
        throw err;
      }
      process.stdout.write(`deleted run ${run.id} (${res.removed.length} checkpoint files)\n`);
      for (const r of res.refused) process.stderr.write(`cairn: left ${r.path} alone: ${r.why}\n`);
    }
  } finally {
    await store.close();
  }
}
