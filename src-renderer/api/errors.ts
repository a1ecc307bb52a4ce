/** Errors and connection states shared by the client and its transports. */
import type { ApiErrorBody } from '../../src-shared/api';

/** An API failure as the host reported it (`field` names the offending input, if any). */
export class ApiError extends Error {
  readonly kind: ApiErrorBody['kind'] | 'network' | 'unauthorized';
  readonly field?: string;
  constructor(body: { message: string; kind: ApiError['kind']; field?: string }) {
    super(body.message);
    this.name = 'ApiError';
    this.kind = body.kind;
    this.field = body.field;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';
