/**
 * The CLI fuzz suite's batch runner (a child process, run through tsx like bin/cairn.mjs):
 * runs many `cairn` commands in one process, each through the real entry (`main` and the
 * same error reporting as `run`), capturing its output and exit code, so a few hundred cases
 * cost one Node start instead of hundreds.
 *
 *   node --import tsx cli-harness.ts tables OUT.json        each command's option table and help
 *   node --import tsx cli-harness.ts run CASES.json OUT.json
 *
 * A case that does not finish within its time limit ends the batch (a command that started
 * work it should have refused): the results so far are written with `timeout` on that case.
 */
import fs from 'node:fs';
import { optionTables } from '../../src-main/cli/args';
import { reportAndExit } from '../../src-main/cli/errors';
import { COMMAND_NAMES, main } from '../../src-main/cli/main';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface CaseResult {
  argv: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  timeout?: boolean;
  ms: number;
}

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
const realExit = process.exit.bind(process);

async function runOne(argv: string[], limitMs: number): Promise<CaseResult> {
  let stdout = '';
  let stderr = '';
  const t0 = performance.now();
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += typeof c === 'string' ? c : Buffer.from(c).toString('utf8')), true)) as never;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += typeof c === 'string' ? c : Buffer.from(c).toString('utf8')), true)) as never;
  process.exit = ((code?: number) => {
    throw new Exit(code ?? 0);
  }) as never;
  process.exitCode = undefined;
  let code: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const done = main(argv).then(
      () => (process.exitCode === undefined ? 0 : Number(process.exitCode)),
      (err: unknown) => {
        if (err instanceof Exit) return err.code;
        try {
          reportAndExit(err);
        } catch (e) {
          if (e instanceof Exit) return e.code;
          throw e;
        }
        return null;
      },
    );
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), limitMs)));
    const r = await Promise.race([done, timedOut]);
    if (r === 'timeout') return { argv, code: null, stdout, stderr, timeout: true, ms: performance.now() - t0 };
    code = r;
  } finally {
    clearTimeout(timer);
    process.stdout.write = realOut as never;
    process.stderr.write = realErr as never;
    process.exit = realExit;
    process.exitCode = undefined;
  }
  return { argv, code, stdout, stderr, ms: performance.now() - t0 };
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'tables') {
  const out: Record<string, { options: unknown; help: string }> = {};
  for (const cmd of COMMAND_NAMES) {
    const before = optionTables.length;
    const r = await runOne([cmd, '--help'], 30_000);
    out[cmd] = { options: optionTables.length > before ? optionTables[optionTables.length - 1] : {}, help: r.stdout };
  }
  fs.writeFileSync(a, JSON.stringify(out));
  realExit(0);
} else if (mode === 'run') {
  const cases = JSON.parse(fs.readFileSync(a, 'utf8')) as { argv: string[]; limitMs?: number }[];
  const results: CaseResult[] = [];
  for (const c of cases) {
    // The case in progress, for a batch that never comes back (a case stuck in a synchronous loop).
    fs.writeFileSync(`${b}.current`, JSON.stringify(c.argv));
    const r = await runOne(c.argv, c.limitMs ?? 20_000);
    results.push(r);
    if (r.timeout) break;
  }
  fs.writeFileSync(b, JSON.stringify(results));
  realExit(0);
} else {
  realErr('usage: cli-harness.ts tables OUT | run CASES OUT\n');
  realExit(64);
}
