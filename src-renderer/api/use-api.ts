/**
 * The app-wide client. `main.ts` installs the real one at startup; tests install a fake.
 * Stores call `useApi()` lazily (inside actions), so the order of imports does not matter.
 */
import type { WorkbenchClient } from './client';

let current: WorkbenchClient | null = null;

export function setApi(client: WorkbenchClient | null): void {
  current = client;
}

export function useApi(): WorkbenchClient {
  if (!current) throw new Error('Workbench client not installed: call setApi() first');
  return current;
}
