/**
 * HTTP + WebSocket transport for `cairn serve`.
 *
 * Calls: `POST {base}/api/<method>` with JSON `{args: [...]}` and `Authorization: Bearer
 * <token>`; the host answers `{result}` or `{error: ApiErrorBody}`.
 * Events: one WebSocket at `{base}/api/events?token=...`, opened lazily on the first
 * subscriber and reopened with exponential backoff when it drops. After a reconnect the
 * transport emits a synthetic `runs-changed` so stores refetch what they missed.
 * `watchLive(runIds)` tells the host which runs' live replay frames this page wants (sent
 * again after each reconnect); until it is called the host sends every run's.
 */
import type { ApiErrorBody, ApiMethod, WorkbenchEvent } from '../../src-shared/api';
import type { Transport } from './client';
import { ApiError, type ConnectionState } from './errors';

/** The subset of the WebSocket API the transport uses (so tests can hand in a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface HttpTransportOptions {
  /** Origin (and optional path prefix) of the host, e.g. `http://127.0.0.1:5123`. */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  WebSocket?: new (url: string) => SocketLike;
  /** First reconnect delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Called when the host refuses the token (401/403): the page sends the tab to the sign-in page. */
  onUnauthorized?: () => void;
}

export function createHttpTransport(opts: HttpTransportOptions): Transport {
  const base = opts.baseUrl.replace(/\/$/, '');
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const WS = opts.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => SocketLike);
  const retryMs = opts.retryMs ?? 500;
  const maxRetryMs = opts.maxRetryMs ?? 5000;

  const listeners = new Set<(e: WorkbenchEvent) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  let socket: SocketLike | null = null;
  let state: ConnectionState = 'closed';
  let delay = retryMs;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  let everOpened = false;
  /** The runs whose live replay frames are wanted; null: never said (the host sends all). */
  let liveRuns: number[] | null = null;
  const sendWatch = () => {
    if (!socket || state !== 'open' || liveRuns === null) return;
    try {
      socket.send(JSON.stringify({ type: 'watch-live', runIds: liveRuns }));
    } catch {
      // A socket closing under us: the next open sends the set again.
    }
  };

  const setState = (s: ConnectionState) => {
    state = s;
    connListeners.forEach((l) => l(s));
  };
  const emit = (e: WorkbenchEvent) => listeners.forEach((l) => l(e));

  function wsUrl(): string {
    const u = new URL(`${base}/api/events`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('token', opts.token);
    return u.toString();
  }

  function open(): void {
    if (closed || socket) return;
    setState('connecting');
    let s: SocketLike;
    try {
      s = new WS(wsUrl());
    } catch {
      scheduleReconnect();
      return;
    }
    socket = s;
    s.onopen = () => {
      delay = retryMs;
      const reconnected = everOpened;
      everOpened = true;
      setState('open');
      sendWatch();
      if (reconnected) emit({ type: 'runs-changed' });
    };
    s.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      // The host may batch several events in one frame.
      if (Array.isArray(msg)) msg.forEach((m) => emit(m as WorkbenchEvent));
      else if (msg && typeof msg === 'object' && 'type' in msg) emit(msg as WorkbenchEvent);
    };
    s.onerror = () => {};
    s.onclose = () => {
      socket = null;
      if (closed) return;
      setState('closed');
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      open();
    }, delay);
    delay = Math.min(maxRetryMs, delay * 2);
  }

  return {
    kind: 'http',
    async call(method: ApiMethod, args: unknown[]): Promise<unknown> {
      let res: Response;
      try {
        res = await doFetch(`${base}/api/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${opts.token}` },
          body: JSON.stringify({ args }),
        });
      } catch (err) {
        throw new ApiError({ message: `cannot reach the Cairn host (${(err as Error).message})`, kind: 'network' });
      }
      if (res.status === 401 || res.status === 403) {
        opts.onUnauthorized?.();
        throw new ApiError({
          message: 'the host refused this page: open the full URL that `cairn serve` printed (it carries the access token)',
          kind: 'unauthorized',
        });
      }
      let body: { result?: unknown; error?: ApiErrorBody };
      try {
        body = (await res.json()) as typeof body;
      } catch {
        throw new ApiError({ message: `${method}: HTTP ${res.status} without a JSON body`, kind: 'internal' });
      }
      if (body.error) throw new ApiError({ message: body.error.message, kind: body.error.kind ?? 'internal', field: body.error.field });
      if (!res.ok) throw new ApiError({ message: `${method}: HTTP ${res.status}`, kind: 'internal' });
      return body.result;
    },
    onEvent(fn) {
      listeners.add(fn);
      open();
      return () => {
        listeners.delete(fn);
      };
    },
    watchLive(runIds) {
      liveRuns = [...runIds];
      sendWatch();
    },
    onConnection(fn) {
      connListeners.add(fn);
      fn(state);
      return () => {
        connListeners.delete(fn);
      };
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
      socket = null;
      listeners.clear();
      connListeners.clear();
    },
  };
}
