/** Wait until runs reach a final status (polls the API; `runner.idle()` can resolve before a queued run has started). */
import type { WorkbenchApi } from '../../src-shared/api';

export async function waitForRuns(api: Pick<WorkbenchApi, 'getRun'>, ids: number[], timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const runs = await Promise.all(ids.map((id) => api.getRun(id)));
    if (runs.every((r) => r && r.status !== 'queued' && r.status !== 'running')) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`runs ${ids.join(', ')} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
