/**
 * Argument checks for the store's public methods. A bad argument is a programming error in the
 * caller, so it fails before anything is written, with a message naming the argument.
 */
import { StoreError } from './errors';

export function invalid(file: string, message: string): StoreError {
  return new StoreError('INVALID', file, `Run history ${file}: ${message}`);
}

export function checkString(file: string, what: string, v: unknown, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') throw invalid(file, `${what} must be a string, got ${typeof v}`);
  if (opts.nonEmpty && v.trim() === '') throw invalid(file, `${what} must not be empty`);
  return v;
}

export function checkOptionalString(file: string, what: string, v: unknown): string | null {
  return v === undefined || v === null ? null : checkString(file, what, v);
}

export function checkInt(file: string, what: string, v: unknown, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw invalid(file, `${what} must be an integer${min === 0 ? ' >= 0' : min === 1 ? ' >= 1' : ''}, got ${String(v)}`);
  }
  return v;
}

export function checkOptionalInt(file: string, what: string, v: unknown, min?: number): number | null {
  return v === undefined || v === null ? null : checkInt(file, what, v, min);
}

export function checkFinite(file: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(file, `${what} must be a finite number, got ${String(v)}`);
  return v;
}

export function checkId(file: string, what: string, v: unknown): number {
  return checkInt(file, what, v, 1);
}
