/** Small helpers over node:util parseArgs with errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDecimal } from '../../src-shared/config/schema';
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

/**
 * Every option table `parse` was given in this process, in order: the CLI fuzz suite
 * (test/fuzz) runs each command's --help in-process and reads its table, so new flags are
 * fuzzed without anyone listing them.
 */
export const optionTables: Options[] = [];

export function parse<O extends Options>(argv: string[], options: O, positionals = 0) {
  optionTables.push(options);
  const res = parseArgs({ args: joinNegativeValues(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals > 0 });
  if (res.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(res.positionals[positionals])}`);
  }
  return res;
}

/**
 * Number flags follow the config's literal policy (`parseDecimal`): `--seed ''` is not 0,
 * `--rounds 0x10` is not 16, `--seconds Infinity` is refused.
 */
export function intFlag(name: string, raw: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return def;
  const v = parseDecimal(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** A number flag in [min, max] (a plain decimal literal), or `def` when absent. */
export function numFlag(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const v = parseDecimal(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return v;
}

export function runIdArg(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('ID: expected a run id (see `cairn runs`)');
  const v = parseDecimal(raw);
  // Above 2^53 a decimal no longer names one integer (1e40 would come back as "run 1e+40").
  if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`ID: expected a positive integer run id, got ${JSON.stringify(raw)}`);
  return v;
}
