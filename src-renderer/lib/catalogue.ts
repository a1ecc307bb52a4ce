/**
 * The host's schema catalogue (envs, learners, their declared diagnostics), fetched once per
 * page: it only changes when the host restarts with another Cairn. A failed fetch is not kept,
 * so the next caller asks again.
 */
import type { SchemaCatalogue } from '../../src-shared/api';
import { useApi } from '../api/use-api';

let pending: Promise<SchemaCatalogue> | null = null;

export function loadCatalogue(): Promise<SchemaCatalogue> {
  if (!pending) {
    pending = useApi().getSchemas();
    pending.catch(() => (pending = null));
  }
  return pending;
}
