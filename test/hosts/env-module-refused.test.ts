/**
 * Issue 7, item 6: `cairn serve` never loads an env module a page asks for. The HTTP host
 * refuses `openEnvModule` (403, before the body is read) even over a workbench that could open
 * a dialog, and a workbench without a dialog (what `cairn serve` builds) refuses it too and
 * does not offer it in `info`.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src-main/db/store';
import { startHttpHost, type HttpHost } from '../../src-main/hosts/http';
import { Runner } from '../../src-main/runner/runner';
import { ApiError } from '../../src-main/service/api-errors';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { getEnv } from '../../src-shared/registry';
import { ROOT, tmpDir } from '../helpers/cli';

const EXAMPLE = path.join(ROOT, 'docs', 'examples', 'coin-guess-env.ts');
const dir = tmpDir('cairn-env-refused-');
let host: HttpHost;
let withDialog: Workbench;
let served: Workbench;
const chooser = vi.fn(async () => EXAMPLE);

function post(p: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: host.port, path: p, method: 'POST', headers: { Authorization: `Bearer ${host.token}`, 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const a = await Store.open(path.join(dir, 'a.db'));
  withDialog = createWorkbench({ store: a, runner: new Runner({ store: a, maxParallel: 1, backend: 'wasm' }), host: 'http', backend: 'wasm', version: 't', chooseEnvModule: chooser });
  const b = await Store.open(path.join(dir, 'b.db'));
  served = createWorkbench({ store: b, runner: new Runner({ store: b, maxParallel: 1, backend: 'wasm' }), host: 'http', backend: 'wasm', version: 't' });
  host = await startHttpHost({ workbench: withDialog });
});

afterAll(async () => {
  await host.close();
  await withDialog.close();
  await served.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the HTTP host and env modules', () => {
  it('refuses openEnvModule with 403 whatever the body, and loads nothing', async () => {
    for (const body of ['{"args":[]}', JSON.stringify({ args: [EXAMPLE] }), '', 'not json']) {
      const r = await post('/api/openEnvModule', body);
      expect(r.status).toBe(403);
      expect(r.body.error.kind).toBe('input');
      expect(r.body.error.message).toMatch(/^openEnvModule: only the desktop app does this/);
    }
    expect(chooser).not.toHaveBeenCalled();
    expect(getEnv('coin-guess')).toBeUndefined();
  });

  it('a config naming a module path is refused too (launch and resolve never load it)', async () => {
    for (const overrides of [{ envModule: EXAMPLE, env: { id: 'coin-guess' } }, { envModule: EXAMPLE }]) {
      for (const method of ['launch', 'resolveConfig']) {
        const r = await post(`/api/${method}`, JSON.stringify({ args: [{ overrides, seeds: [1] }] }));
        expect(r.status).toBeLessThan(500);
        if (method === 'launch') expect(r.status).toBe(400);
        else expect(r.body.result.ok).toBe(false);
      }
    }
    expect((await withDialog.listRuns({})).total).toBe(0);
    expect(getEnv('coin-guess')).toBeUndefined();
  });

  it('the workbench `cairn serve` builds neither offers nor answers it', async () => {
    expect((await served.info()).capabilities).toEqual([]);
    await expect(served.openEnvModule()).rejects.toBeInstanceOf(ApiError);
    await served.openEnvModule().catch((e: ApiError) => expect(e.body).toMatchObject({ kind: 'input', field: 'openEnvModule' }));
    expect(getEnv('coin-guess')).toBeUndefined();
  });
});
