/**
 * The one error shape of the Workbench API: every method throws {@link ApiError}s whose body
 * names the field (`kind: 'input'`) or says what is missing (`'not-found'`); store, runner and
 * config errors are mapped to the same bodies, so both hosts send the same thing.
 */
import type { ApiErrorBody } from '../../src-shared/api';
import { ConfigError } from '../../src-shared/config/schema';
import { ReportInputError } from '../report/report';
import { RunnerError } from '../runner/runner';


/** An error with the body both transports carry. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
  }
}

export const input = (field: string, message: string) => new ApiError({ kind: 'input', field, message: `${field}: ${message}` });
export const notFound = (message: string) => new ApiError({ kind: 'not-found', message });

/** Map anything thrown below the API to the error body the hosts send. */
export function errorBody(err: unknown): ApiErrorBody {
  if (err instanceof ApiError) return err.body;
  if (err instanceof ConfigError || err instanceof ReportInputError) return { kind: 'input', field: err.field, message: err.message };
  if (err instanceof RunnerError) {
    return { kind: /no such run/.test(err.message) ? 'not-found' : 'input', message: err.message };
  }
  if (err instanceof Error && err.name === 'StoreError') {
    const code = (err as Error & { code?: string }).code;
    if (code === 'NOT_FOUND') return { kind: 'not-found', message: err.message };
    if (code === 'INVALID' || code === 'CONFLICT') return { kind: 'input', message: err.message };
    return { kind: 'internal', message: err.message };
  }
  return { kind: 'internal', message: err instanceof Error ? err.message.split('\n')[0] : String(err) };
}

