/** Small helpers over node:util parseArgs with errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--flag -5`: parseArgs reads "-5" as an option and answers "argument is ambiguous"; a
 * string option followed by something that reads as a negative number takes it as its value,
 * so the range check can name the flag and the allowed values instead.
 */
export function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse<O extends Options>(argv: string[], options: O, positionals = 0) {
  const res = parseArgs({ args: joinNegativeValues(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals > 0 });
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
