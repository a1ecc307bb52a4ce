// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkbenchEvent } from '../../src-shared/api';
import { ApiError, connect, createClient, createElectronTransport, unwrapBridgeReply } from '../../src-renderer/api/client';
import { createHttpTransport, type SocketLike } from '../../src-renderer/api/http-transport';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A WebSocket stand-in the test drives by hand. */
class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.onopen?.({});
  }
  /** What the page sent to the host. */
  sent: string[] = [];
  send(data: string) {
    this.sent.push(data);
  }
  /** The host sends a frame. */
  push(data: unknown) {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
  drop() {
    this.onclose?.({});
  }
  close() {
    this.closed = true;
  }
}

afterEach(() => {
  FakeSocket.all = [];
  vi.useRealTimers();
  delete (window as { cairn?: unknown }).cairn;
});

describe('HTTP transport', () => {
  it('POSTs {args} to /api/<method> with the bearer token and returns result', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { result: { rows: [], total: 7 } }));
    const client = createClient(createHttpTransport({ baseUrl: 'http://127.0.0.1:5000', token: 'tok', fetch }));
    const res = await client.listRuns({ limit: 10, offset: 20 });
    expect(res).toEqual({ rows: [], total: 7 });
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('http://127.0.0.1:5000/api/listRuns');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(JSON.parse(String(init.body))).toEqual({ args: [{ limit: 10, offset: 20 }] });
  });

  it('passes several arguments in order and maps a null result of a void method', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { result: null }));
    const client = createClient(createHttpTransport({ baseUrl: 'http://h:1', token: 't', fetch }));
    await expect(client.setTags(3, ['a', 'b'])).resolves.toBeNull();
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(JSON.parse(String(init.body))).toEqual({ args: [3, ['a', 'b']] });
  });

  it('turns {error} into an ApiError that keeps kind and field', async () => {
    const fetch = vi.fn(async () =>
      jsonResponse(400, { error: { kind: 'input', field: 'seeds', message: 'seeds: at least one seed' } }),
    );
    const client = createClient(createHttpTransport({ baseUrl: 'http://h:1', token: 't', fetch }));
    const err = await client.launch({ seeds: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'input', field: 'seeds', message: 'seeds: at least one seed' });
  });

  it('explains a refused token and an unreachable host', async () => {
    const refused = createHttpTransport({ baseUrl: 'http://h:1', token: 'bad', fetch: vi.fn(async () => jsonResponse(401, { error: { kind: 'input', message: 'unauthorized' } })) });
    await expect(refused.call('info', [])).rejects.toMatchObject({ kind: 'unauthorized' });
    const down = createHttpTransport({
      baseUrl: 'http://h:1',
      token: 't',
      fetch: vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    });
    await expect(down.call('info', [])).rejects.toMatchObject({ kind: 'network' });
  });

  it('opens the event socket with the token, delivers single and batched events', () => {
    const t = createHttpTransport({ baseUrl: 'http://127.0.0.1:5000', token: 'a b', WebSocket: FakeSocket, fetch: vi.fn() });
    const got: WorkbenchEvent[] = [];
    t.onEvent((e) => got.push(e));
    expect(FakeSocket.all).toHaveLength(1);
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe('ws://127.0.0.1:5000/api/events?token=a+b');
    ws.open();
    ws.push({ type: 'status', runId: 1, status: 'running' });
    ws.push([
      { type: 'progress', runId: 1, round: 2, total: 10, envSteps: 50, latest: {} },
      { type: 'runs-changed' },
    ]);
    ws.push('not json');
    expect(got.map((e) => e.type)).toEqual(['status', 'progress', 'runs-changed']);
  });

  it('tells the host which runs\' live replay frames it wants, on open and again after a reconnect', () => {
    vi.useFakeTimers();
    const t = createHttpTransport({ baseUrl: 'http://h:1', token: 't', WebSocket: FakeSocket, fetch: vi.fn(), retryMs: 100 });
    t.onEvent(() => {});
    const ws = FakeSocket.all[0];
    // Said before the socket opened: sent once it opens.
    t.watchLive!([3]);
    expect(ws.sent).toEqual([]);
    ws.open();
    expect(ws.sent.map((m) => JSON.parse(m))).toEqual([{ type: 'watch-live', runIds: [3] }]);
    t.watchLive!([]);
    expect(JSON.parse(ws.sent[1])).toEqual({ type: 'watch-live', runIds: [] });
    t.watchLive!([4]);
    ws.drop();
    vi.advanceTimersByTime(100);
    const ws2 = FakeSocket.all[1];
    ws2.open();
    // The host forgets a closed socket's set: the new one is told again.
    expect(ws2.sent.map((m) => JSON.parse(m))).toEqual([{ type: 'watch-live', runIds: [4] }]);
  });

  it('never says anything to the host unless a page asks for live frames of some runs', () => {
    const t = createHttpTransport({ baseUrl: 'http://h:1', token: 't', WebSocket: FakeSocket, fetch: vi.fn() });
    t.onEvent(() => {});
    FakeSocket.all[0].open();
    expect(FakeSocket.all[0].sent).toEqual([]);
  });

  it('reconnects with growing delays and announces runs-changed after a reconnect', () => {
    vi.useFakeTimers();
    const t = createHttpTransport({ baseUrl: 'http://h:1', token: 't', WebSocket: FakeSocket, fetch: vi.fn(), retryMs: 100, maxRetryMs: 400 });
    const got: string[] = [];
    const states: string[] = [];
    t.onConnection!((s) => states.push(s));
    t.onEvent((e) => got.push(e.type));
    FakeSocket.all[0].open();
    expect(got).toEqual([]);
    FakeSocket.all[0].drop();
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    // Second failure waits twice as long.
    FakeSocket.all[1].drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].open();
    expect(got).toEqual(['runs-changed']);
    expect(states).toEqual(['closed', 'connecting', 'open', 'closed', 'connecting', 'closed', 'connecting', 'open']);
    t.close!();
    expect(FakeSocket.all[2].closed).toBe(true);
  });
});

describe('Electron transport', () => {
  it('unwraps the preload envelope and raises its errors', async () => {
    const bridge = {
      call: vi.fn(async (method: string) =>
        method === 'info' ? { result: { version: '1' } } : { error: { kind: 'not-found', message: 'run 9: no such run' } },
      ),
      onEvent: vi.fn(() => () => {}),
    };
    const client = createClient(createElectronTransport(bridge));
    expect(client.transport).toBe('electron');
    await expect(client.info()).resolves.toEqual({ version: '1' });
    await expect(client.getRun(9)).rejects.toMatchObject({ kind: 'not-found', message: 'run 9: no such run' });
    expect(bridge.call).toHaveBeenLastCalledWith('getRun', [9]);
  });

  it('does not mistake a result with an error field for an error envelope', () => {
    const run = { id: 1, error: null, status: 'done' };
    expect(unwrapBridgeReply({ result: run })).toBe(run);
    expect(unwrapBridgeReply({ result: null })).toBeNull();
  });

  it('fans bridge events out to every subscriber', () => {
    let push: (e: unknown) => void = () => {};
    const bridge = { call: vi.fn(), onEvent: vi.fn((fn: (e: unknown) => void) => ((push = fn), () => {})) };
    const t = createElectronTransport(bridge);
    const a: string[] = [];
    const b: string[] = [];
    const offA = t.onEvent((e) => a.push(e.type));
    t.onEvent((e) => b.push(e.type));
    push({ type: 'runs-changed' });
    offA();
    push({ type: 'runs-changed' });
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);
    expect(bridge.onEvent).toHaveBeenCalledTimes(1);
  });
});

describe('connect', () => {
  it('uses the Electron bridge when the preload exposed one', () => {
    (window as { cairn?: unknown }).cairn = { call: vi.fn(), onEvent: vi.fn() };
    expect(connect(window).transport).toBe('electron');
  });

  it('falls back to HTTP on this origin with the token from the page URL', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch').mockResolvedValue(jsonResponse(200, { result: [] }));
    const replaced: string[] = [];
    const stored = new Map<string, string>();
    const fakeWin = {
      location: { href: 'http://127.0.0.1:4567/?token=secret#/run/3' },
      history: { state: null, replaceState: (_s: unknown, _t: string, u: string) => replaced.push(u) },
      sessionStorage: { setItem: (k: string, v: string) => stored.set(k, v), getItem: (k: string) => stored.get(k) ?? null },
    } as unknown as Window;
    const client = connect(fakeWin);
    // The token leaves the address bar and stays with this tab.
    expect(replaced).toEqual(['/#/run/3']);
    expect([...stored.values()]).toEqual(['secret']);
    expect(client.transport).toBe('http');
    await client.listPresets();
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('http://127.0.0.1:4567/api/listPresets');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer secret');
    fetch.mockRestore();
  });

  it('sends a tab without a token, or with one the host refuses, to the sign-in page', async () => {
    const go: string[] = [];
    const stored = new Map<string, string>();
    const fakeWin = (href: string) =>
      ({
        location: { href, replace: (u: string) => go.push(u) },
        history: { state: null, replaceState: () => {} },
        sessionStorage: {
          setItem: (k: string, v: string) => stored.set(k, v),
          getItem: (k: string) => stored.get(k) ?? null,
          removeItem: (k: string) => stored.delete(k),
        },
      }) as unknown as Window;
    connect(fakeWin('http://127.0.0.1:4567/#/history'));
    expect(go).toEqual(['/signin']);
    // A token kept from before a restart: the first refused call drops it and goes there too.
    const fetch = vi.spyOn(globalThis, 'fetch').mockResolvedValue(jsonResponse(401, { error: { kind: 'input', message: 'unauthorized' } }));
    stored.set('cairn-token', 'stale');
    const client = connect(fakeWin('http://127.0.0.1:4567/#/history'));
    expect(go).toEqual(['/signin']);
    await expect(client.listPresets()).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(go).toEqual(['/signin', '/signin']);
    expect(stored.has('cairn-token')).toBe(false);
    fetch.mockRestore();
  });
});
