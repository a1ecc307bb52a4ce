/**
 * Errors the CLI reports as one line with exit code 2 (bad input: unknown preset, env, key,
 * wrong type, out of range, unreadable or locked database). Anything else is a bug or a
 * failure of the machine: one line, exit code 1, stack only with CAIRN_DEBUG=1.
 */
import { ConfigError } from '../../src-shared/config/schema';
import { RunnerError } from '../runner/runner';
import { CheckpointError } from '../runner/checkpoint-file';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function isInputError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof RunnerError ||
    err instanceof CheckpointError ||
    err.name === 'StoreError' ||
    // node:util parseArgs: unknown option, missing value, ...
    (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

export function reportAndExit(err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`cairn: ${msg.split('\n')[0]}\n`);
  if (process.env.CAIRN_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exit(isInputError(err) ? 2 : 1);
}
