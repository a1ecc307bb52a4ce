/**
 * `cairn serve` as a real child process: one stdout line with the URL, the token works, and
 * SIGTERM stops a training run cleanly (status "stopped", resumable) and closes the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { startCli, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-serve-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cairn serve', () => {
  it('prints its URL, answers with the token, and stops runs cleanly on SIGTERM', async () => {
    const ui = path.join(dir, 'ui');
    fs.mkdirSync(ui);
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Cairn</title>');
    const db = path.join(dir, 'serve.db');
    const child = startCli(['serve', '--port', '0', '--db', db, '--no-open', '--parallel', '1'], { CAIRN_RENDERER_DIR: ui });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!/\nDatabase: .*\n/.test(stdout) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    const m = /^Cairn workbench: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64}))\nDatabase: .*serve\.db\n$/.exec(stdout);
    expect(m, `stdout: ${stdout}\nstderr: ${stderr}`).not.toBeNull();
    const [, url, port, token] = m!;
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${base}/api/info`, { method: 'POST', body: '{"args":[]}' })).status).toBe(401);
    const call = async (method: string, args: unknown[]) => {
      const r = await fetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ args }),
      });
      return (await r.json()) as { result?: any; error?: any };
    };
    const launched = await call('launch', [{ preset: 'manitokan-random', overrides: { train: { episodes: 1_000_000, numEnvs: 2, checkpointEvery: 5 } }, seeds: [1] }]);
    const runId = launched.result.runIds[0] as number;
    while (Date.now() - t0 < 60_000) {
      const r = (await call('getRun', [runId])).result;
      if (r.status === 'running' && r.episodesDone >= 2) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(2); // the URL and the database, nothing else
    const store = await Store.open(db, { readonly: true });
    try {
      const run = (await store.getRun(runId))!;
      expect(run.status).toBe('stopped');
      expect(run.runnerPid).toBeNull();
      expect((await store.listCheckpoints(runId)).length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
