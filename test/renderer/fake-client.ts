/**
 * A fake Workbench client for store and component tests: every method is a vi.fn that throws
 * until a test provides it; `emit` delivers live events to subscribers.
 */
import { vi } from 'vitest';
import { API_METHODS, type WorkbenchApi, type WorkbenchEvent, type RunInfo } from '../../src-shared/api';
import type { WorkbenchClient } from '../../src-renderer/api/client';

export type FakeClient = WorkbenchClient & {
  emit(e: WorkbenchEvent): void;
  listeners: Set<(e: WorkbenchEvent) => void>;
};

export function fakeClient(impl: Partial<WorkbenchApi> = {}): FakeClient {
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  const c: Record<string, unknown> = {
    transport: 'http',
    listeners,
    subscribe: vi.fn((fn: (e: WorkbenchEvent) => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    }),
    onConnection: vi.fn((fn: (s: string) => void) => {
      fn('open');
      return () => {};
    }),
    watchLive: vi.fn(),
    close: vi.fn(),
    emit: (e: WorkbenchEvent) => listeners.forEach((l) => l(e)),
  };
  for (const m of API_METHODS) {
    const given = impl[m] as ((...a: unknown[]) => unknown) | undefined;
    c[m] = vi.fn(given ?? (async () => Promise.reject(new Error(`fake: ${m} not implemented`))));
  }
  return c as unknown as FakeClient;
}

/** A run row with sensible defaults. */
export function makeRun(over: Partial<RunInfo> & { id: number }): RunInfo {
  return {
    experimentId: 1,
    name: `run ${over.id}`,
    preset: 'manitokan-pg-history',
    envId: 'manitokan',
    algoId: 'pg',
    config: { env: { id: 'manitokan' }, algo: { id: 'pg' }, train: { episodes: 100 } },
    seed: 0,
    status: 'queued',
    backend: null,
    host: 'test',
    createdAt: 1_700_000_000_000,
    startedAt: null,
    endedAt: null,
    episodesTotal: 100,
    episodesDone: 0,
    envSteps: 0,
    error: null,
    summary: null,
    tags: [],
    notes: '',
    metricKeys: ['collective_success', 'return_total', 'key_drops'],
    metrics: [
      { key: 'collective_success', title: 'Collective success', role: 'success', headline: true },
      { key: 'return_total', title: 'Return (all agents)', role: 'return', headline: true },
      { key: 'key_drops', title: 'Key drops', headline: true, higherIsBetter: false },
    ],
    ...over,
  };
}

/** Let pending promise callbacks run. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
