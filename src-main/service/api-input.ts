/**
 * Argument checks for API methods: inputs arrive as JSON from a page, so each check names the
 * field and what it accepts.
 */
import type { ReportFormat, XAxis } from '../../src-shared/api';
import { input } from './api-errors';


export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function reqObj(field: string, v: unknown): Record<string, unknown> {
  if (!isObj(v)) throw input(field, 'expected an object');
  return v;
}
export function id(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw input(field, `expected a positive integer id, got ${JSON.stringify(v)}`);
  return v;
}
export function optInt(field: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw input(field, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}
export function optNum(field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw input(field, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}
export function optStr(field: string, v: unknown, max = 10_000): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw input(field, `expected a string of at most ${max} characters`);
  return v;
}
export function optEnum<T extends string>(field: string, v: unknown, values: readonly T[]): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) throw input(field, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
export function optBool(field: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw input(field, 'expected true or false');
  return v;
}

export const X_AXES: readonly XAxis[] = ['episode', 'step', 'wall'];
export const REPORT_FORMATS: readonly ReportFormat[] = ['html', 'pdf', 'csv', 'json', 'latex'];
export const STATUSES = ['queued', 'running', 'stopped', 'done', 'failed'] as const;
export const ORDERS = ['id', 'created_at', 'started_at', 'status', 'name', 'duration'] as const;

