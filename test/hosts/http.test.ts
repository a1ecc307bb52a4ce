/**
 * The HTTP + WebSocket host on a real port with a real workbench (SQLite file, runner with
 * worker processes): the token is required everywhere, Host and Origin are checked, only API
 * methods are callable, errors carry their kind and field, events stream over the socket.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { MAX_WATCHED_RUNS, parseWatchLive, startHttpHost, type HttpHost } from '../../src-main/hosts/http';
import { createWorkbench } from '../../src-main/service/workbench';
import { tmpDir } from '../helpers/cli';
import { waitForRuns } from '../service/wait';

const dir = tmpDir('cairn-http-');
let host: HttpHost;
let runner: Runner;
let close: () => Promise<void>;

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(p: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: host.port,
        path: p,
        method: opts.method ?? (data === undefined ? 'GET' : 'POST'),
        headers: { ...(data === undefined ? {} : { 'Content-Type': 'application/json' }), ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

const bearer = () => ({ Authorization: `Bearer ${host.token}` });
const call = (method: string, args: unknown[], headers: Record<string, string> = bearer()) =>
  request(`/api/${method}`, { body: { args }, headers });

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', (e) => {
      if (!/Unexpected server response/.test(String(e))) reject(e);
    });
  });
}

beforeAll(async () => {
  const ui = path.join(dir, 'ui');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Cairn</title><script type="module" src="./assets/app.js"></script>');
  fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log("cairn")');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  const store = await Store.open(path.join(dir, 'http.db'));
  runner = new Runner({ store, maxParallel: 2, backend: 'wasm' });
  const wb = createWorkbench({ store, runner, host: 'http', backend: 'wasm', version: '0.0.0-test' });
  host = await startHttpHost({ workbench: wb, port: 0, rendererDir: ui });
  close = async () => {
    await host.close();
    await wb.close();
  };
});

afterAll(async () => {
  await close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('http host: authentication', () => {
  it('prints a loopback URL with a 64-hex-digit token', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[0-9a-f]{64}$`));
  });

  it('refuses API and WebSocket requests without the token; the static UI bundle is public', async () => {
    expect((await call('info', [], {})).status).toBe(401);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events`)).toBe(401);
    const r = await call('info', [], {});
    expect(JSON.parse(r.body).error.message).toMatch(/token/);
    expect((await request('/')).status).toBe(200);
    expect((await request('/assets/app.js')).status).toBe(200);
  });

  it('answers a browser opening the API without the token with a page saying how to get in, never a token', async () => {
    const html = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const r = await request('/api/info', { headers: html });
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.body).toMatch(/cairn serve/);
    expect(r.body).toMatch(/redirect file/);
    expect(r.body).not.toContain(host.token);
    // A wrong token in the request is not echoed either.
    const wrong = 'f'.repeat(64);
    expect((await request(`/api/info?token=${wrong}`, { headers: { ...html, Authorization: `Bearer ${wrong}` } })).body).not.toContain(wrong);
    // API clients keep the JSON 401.
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
      const j = await request('/api/info', { headers: accept ? { Accept: accept } : {} });
      expect(j.status).toBe(401);
      expect(JSON.parse(j.body).error.message).toMatch(/token/);
    }
    // The page the UI sends a tab without a valid token to is public.
    const page = await request('/signin');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/access token/);
    expect(page.body).not.toContain(host.token);
  });

  it('refuses a wrong token everywhere', async () => {
    const wrong = 'f'.repeat(64);
    expect((await call('info', [], { Authorization: `Bearer ${wrong}` })).status).toBe(401);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events?token=${wrong}`)).toBe(401);
    expect((await call('info', [], { Authorization: `Bearer ${host.token.slice(0, 10)}` })).status).toBe(401);
  });

  it('accepts the token as a bearer header on the API and as the query of the WebSocket; never sets a cookie', async () => {
    const r = await call('info', []);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).result).toMatchObject({ host: 'http', version: '0.0.0-test' });
    const page = await request(`/?token=${host.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    // Cookies ignore ports: any other server on 127.0.0.1 would receive one.
    expect(page.headers['set-cookie']).toBeUndefined();
    const js = await request('/assets/app.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('cairn');
    // A query token (logged by proxies, kept in history) or a cookie does not open the API.
    expect((await request(`/api/info?token=${host.token}`, { body: { args: [] } })).status).toBe(401);
    expect((await call('info', [], { Cookie: `cairn_token_${host.port}=${host.token}` })).status).toBe(401);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`)).toBe(101);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events`, bearer())).toBe(101);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events`, { Cookie: `cairn_token_${host.port}=${host.token}` })).toBe(401);
  });
});

describe('http host: Host and Origin checks', () => {
  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const r = await call('info', [], { ...bearer(), Host: `evil.example:${host.port}` });
    expect(r.status).toBe(403);
    expect((await request(`/?token=${host.token}`, { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`, { Host: 'evil.example' })).toBe(403);
    expect((await call('info', [], { ...bearer(), Host: `localhost:${host.port}` })).status).toBe(200);
  });

  it('refuses cross-origin requests and sockets, accepts same-origin ones', async () => {
    expect((await call('info', [], { ...bearer(), Origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('info', [], { ...bearer(), Origin: 'null' })).status).toBe(403);
    expect((await call('info', [], { ...bearer(), Origin: `http://127.0.0.1:${host.port}` })).status).toBe(200);
    expect(await wsStatus(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`, { Origin: 'http://evil.example' })).toBe(403);
  });
});

describe('http host: API and static files', () => {
  it('only API_METHODS are callable (404 otherwise), POST only', async () => {
    for (const m of ['close', 'subscribe', 'constructor', '__proto__', 'toString', 'nope']) {
      const r = await call(m, []);
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body).error.kind).toBe('not-found');
    }
    expect((await request('/api/info', { headers: bearer() })).status).toBe(405);
  });

  it('input errors are 400 with the field; missing things 404; bad bodies 400', async () => {
    const r = await call('launch', [{ preset: 'manitokan-random', seeds: [] }]);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ kind: 'input', field: 'seeds' });
    const r2 = await call('launch', [{ preset: 'manitokan-random', overrides: { train: { numEnvs: 0 } }, seeds: [1] }]);
    expect(r2.status).toBe(400);
    expect(JSON.parse(r2.body).error.field).toBe('train.numEnvs');
    const r3 = await call('stopRun', [999_999]);
    expect(r3.status).toBe(404);
    expect(JSON.parse(r3.body).error.kind).toBe('not-found');
    const r4 = await call('getRun', [999_999]);
    expect(r4.status).toBe(200);
    expect(JSON.parse(r4.body)).toEqual({ result: null });
    expect((await request('/api/info', { body: '{nope', headers: bearer() })).status).toBe(400);
    const r5 = await request('/api/info', { body: { args: 'x' }, headers: bearer() });
    expect(r5.status).toBe(400);
    expect(JSON.parse(r5.body).error.field).toBe('args');
  });

  it('serves the SPA: fallback to index.html for routes, 404 for missing files, no escape from the folder', async () => {
    const h = bearer();
    const route = await request('/runs/3', { headers: h });
    expect(route.status).toBe(200);
    expect(route.body).toContain('<title>Cairn</title>');
    expect((await request('/assets/missing.js', { headers: h })).status).toBe(404);
    expect((await request('/a%00b', { headers: h })).status).toBe(400);
    expect((await request('/x', { headers: { ...h, Cookie: 'a=%E0%A4%A' } })).status).toBe(200);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await request(p, { headers: h });
      expect(r.body).not.toContain('secret');
    }
  });
});

describe('http host: events over the WebSocket', () => {
  it('streams status, progress and metrics of a run, coalesced to at most ~10 frames/s', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const frames: { t: number; events: { type: string; runId?: number; status?: string; points?: unknown[] }[] }[] = [];
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d));
      frames.push({ t: Date.now(), events: Array.isArray(msg) ? msg : [msg] });
    });
    const r = await call('launch', [{ preset: 'manitokan-random', overrides: { train: { episodes: 200, numEnvs: 2 } }, seeds: [1] }]);
    expect(r.status).toBe(200);
    const runId = JSON.parse(r.body).result.runIds[0] as number;
    await waitForRuns({ getRun: async (id) => JSON.parse((await call('getRun', [id])).body).result }, [runId]);
    await new Promise((res) => setTimeout(res, 300));
    ws.close();
    const all = frames.flatMap((f) => f.events);
    expect(all.some((e) => e.type === 'runs-changed')).toBe(true);
    expect(all.some((e) => e.type === 'status' && e.runId === runId && e.status === 'running')).toBe(true);
    expect(all.some((e) => e.type === 'status' && e.runId === runId && e.status === 'done')).toBe(true);
    const points = all.filter((e) => e.type === 'metrics').reduce((n, e) => n + (e.points?.length ?? 0), 0);
    const stored = await call('metricSeries', [{ runId, key: 'return_total' }]);
    expect(JSON.parse(stored.body).result.total).toBe(200);
    expect(points).toBeGreaterThanOrEqual(200);
    // Frames per 1-second window (status frames are sent at once and may add one or two).
    const t0 = frames[0].t;
    const perSecond = new Map<number, number>();
    for (const f of frames) perSecond.set(Math.floor((f.t - t0) / 1000), (perSecond.get(Math.floor((f.t - t0) / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(14);
  });

  it("sends a client that asked for some runs' live replay frames those runs' only; a client that never asked gets all", async () => {
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`);
      await new Promise((r, j) => {
        ws.once('open', r);
        ws.once('error', j);
      });
      const live: number[] = [];
      ws.on('message', (d) => {
        const msg = JSON.parse(String(d));
        for (const e of Array.isArray(msg) ? msg : [msg]) if (e.type === 'live') live.push(e.runId);
      });
      return { ws, live };
    };
    const all = await open();
    const one = await open();
    const none = await open();
    // Long enough that well over 5 live frames of each run arrive after the fence, even on a fast host.
    const r = await call('launch', [{ preset: 'manitokan-random', overrides: { train: { episodes: 1500, numEnvs: 2 } }, seeds: [1, 2] }]);
    const runIds = JSON.parse(r.body).result.runIds as number[];
    one.ws.send(JSON.stringify({ type: 'watch-live', runIds: [runIds[0]] }));
    none.ws.send(JSON.stringify({ type: 'watch-live', runIds: [] }));
    // Not a watch message: ignored (the set stays empty).
    none.ws.send(JSON.stringify({ type: 'watch-live', runIds: [runIds[1], -1] }));
    none.ws.send('not json');
    // Frames already on their way when the host read the messages may be of any run: count
    // only what arrives from a moment after sending them.
    await new Promise((res) => setTimeout(res, 300));
    const fence = { all: all.live.length, one: one.live.length, none: none.live.length };
    await waitForRuns({ getRun: async (id) => JSON.parse((await call('getRun', [id])).body).result }, runIds);
    await new Promise((res) => setTimeout(res, 300));
    for (const c of [all, one, none]) c.ws.close();
    const allAfter = all.live.slice(fence.all);
    const oneAfter = one.live.slice(fence.one);
    expect(new Set(allAfter)).toEqual(new Set(runIds));
    expect(oneAfter.length).toBeGreaterThan(5);
    expect(new Set(oneAfter)).toEqual(new Set([runIds[0]]));
    expect(none.live.slice(fence.none)).toEqual([]);
  });
});

describe('parseWatchLive', () => {
  it('accepts the watch message and names nothing else', () => {
    expect(parseWatchLive('{"type":"watch-live","runIds":[1,2]}')).toEqual([1, 2]);
    expect(parseWatchLive('{"type":"watch-live","runIds":[]}')).toEqual([]);
    for (const bad of ['nope', '{}', '[1]', '{"type":"other","runIds":[1]}', '{"type":"watch-live","runIds":[0]}', '{"type":"watch-live","runIds":[1.5]}', '{"type":"watch-live","runIds":"1"}'])
      expect(parseWatchLive(bad)).toBeNull();
    expect(parseWatchLive(JSON.stringify({ type: 'watch-live', runIds: Array.from({ length: MAX_WATCHED_RUNS + 1 }, (_, i) => i + 1) }))).toBeNull();
  });
});
