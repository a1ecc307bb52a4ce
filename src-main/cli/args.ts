/** Small helpers over node:util parseArgs with errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, positionals = 0) {
  const res = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals > 0 });
  if (res.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(res.positionals[positionals])}`);
  }
  return res;
}

export function intFlag(name: string, raw: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return v;
}

export function runIdArg(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('ID: expected a run id (see `cairn runs`)');
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`ID: expected a positive integer run id, got ${JSON.stringify(raw)}`);
  return v;
}
