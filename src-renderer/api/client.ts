/**
 * The renderer's one Workbench client: every `WorkbenchApi` method plus `subscribe(fn)` for
 * live events. Behind it sits one of two transports, chosen once at startup:
 *
 * - Electron: the preload exposes `window.cairn.call(method, args)` and
 *   `window.cairn.onEvent(fn)` through contextBridge;
 * - HTTP: `POST /api/<method>` with `{args}` → `{result}` or `{error}`, the token from the page
 *   URL as `Authorization: Bearer`, and events over a WebSocket at `/api/events?token=` that
 *   reconnects with backoff (see `http-transport.ts`).
 *
 * Views and stores only ever see `WorkbenchClient`; they do not know which host answers.
 */
import { API_METHODS, type ApiErrorBody, type ApiMethod, type WorkbenchApi, type WorkbenchEvent } from '../../src-shared/api';
import { createHttpTransport } from './http-transport';
import { ApiError, type ConnectionState } from './errors';

export { ApiError, type ConnectionState };

/** What a transport provides; `call` resolves to the method's result or rejects with ApiError. */
export interface Transport {
  readonly kind: 'electron' | 'http';
  call(method: ApiMethod, args: unknown[]): Promise<unknown>;
  /** Live events; returns an unsubscribe function. */
  onEvent(fn: (e: WorkbenchEvent) => void): () => void;
  /** Event-channel state (the Electron bridge is always open). */
  onConnection?(fn: (s: ConnectionState) => void): () => void;
  /** Only these runs' `live` replay frames are wanted (the HTTP host then sends no others). */
  watchLive?(runIds: number[]): void;
  close?(): void;
}

export type WorkbenchClient = WorkbenchApi & {
  readonly transport: Transport['kind'];
  /** Receive every live event; returns an unsubscribe function. */
  subscribe(fn: (e: WorkbenchEvent) => void): () => void;
  onConnection(fn: (s: ConnectionState) => void): () => void;
  /**
   * The runs whose `live` replay events this page wants (replaces the last call's set; the
   * replay player is the one caller). Other runs' frames may still arrive (the Electron bridge
   * sends all): subscribers filter by runId as before.
   */
  watchLive(runIds: number[]): void;
  close(): void;
};

/** Wrap a transport as a typed client. */
export function createClient(transport: Transport): WorkbenchClient {
  const client: Record<string, unknown> = {
    transport: transport.kind,
    subscribe: (fn: (e: WorkbenchEvent) => void) => transport.onEvent(fn),
    onConnection: (fn: (s: ConnectionState) => void) => {
      if (transport.onConnection) return transport.onConnection(fn);
      fn('open');
      return () => {};
    },
    watchLive: (runIds: number[]) => transport.watchLive?.(runIds),
    close: () => transport.close?.(),
  };
  for (const m of API_METHODS) client[m] = (...args: unknown[]) => transport.call(m, args);
  return client as unknown as WorkbenchClient;
}

function isErrorBody(x: unknown): x is ApiErrorBody {
  return typeof x === 'object' && x !== null && typeof (x as ApiErrorBody).message === 'string';
}

/**
 * The preload's reply: an envelope `{result}` / `{error}` like the HTTP host's (preferred:
 * it survives contextBridge, which drops the fields of thrown errors) or the bare result.
 */
export function unwrapBridgeReply(reply: unknown): unknown {
  if (typeof reply === 'object' && reply !== null && !Array.isArray(reply)) {
    const keys = Object.keys(reply);
    if (keys.length === 1 && keys[0] === 'result') return (reply as { result: unknown }).result;
    if (keys.length === 1 && keys[0] === 'error' && isErrorBody((reply as { error: unknown }).error)) {
      const e = (reply as { error: ApiErrorBody }).error;
      throw new ApiError({ message: e.message, kind: e.kind ?? 'internal', field: e.field });
    }
  }
  return reply;
}

/** Electron transport over the preload bridge. */
export function createElectronTransport(bridge: CairnBridge): Transport {
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  let unhook: (() => void) | void;
  return {
    kind: 'electron',
    async call(method, args) {
      let reply: unknown;
      try {
        reply = await bridge.call(method, args);
      } catch (err) {
        // Errors crossing contextBridge keep only their message; the main process prefixes it.
        const msg = err instanceof Error ? err.message : String(err);
        throw new ApiError({ message: msg.replace(/^Error invoking remote method '[^']*': (Error: )?/, ''), kind: 'internal' });
      }
      return unwrapBridgeReply(reply);
    },
    onEvent(fn) {
      listeners.add(fn);
      if (!unhook) unhook = bridge.onEvent((e) => listeners.forEach((l) => l(e as WorkbenchEvent)));
      return () => listeners.delete(fn);
    },
    close() {
      if (typeof unhook === 'function') unhook();
      listeners.clear();
    },
  };
}

/** Pick the transport for this page: the Electron bridge when present, else HTTP on this origin. */
export function connect(win: Window = window): WorkbenchClient {
  if (win.cairn) return createClient(createElectronTransport(win.cairn));
  const token = takeToken(win);
  const toSignin = () => {
    // A stale token (the server restarted) would be refused again on reload: drop it.
    try {
      win.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage disabled: nothing kept.
    }
    win.location.replace(SIGNIN_PATH);
  };
  // Without a token every call would fail: say how to get in instead of a page of errors.
  if (token === '') toSignin();
  return createClient(createHttpTransport({ baseUrl: new URL(win.location.href).origin, token, onUnauthorized: toSignin }));
}

/** The host's public page that says how to open the workbench with its token (src-main/hosts/signin-page.ts). */
export const SIGNIN_PATH = '/signin';

const TOKEN_KEY = 'cairn-token';

/**
 * The access token from the page URL, then taken out of the address bar (no token in the
 * history, bookmarks or a screen share) and kept in sessionStorage: this tab and origin only,
 * and still there on reload.
 */
export function takeToken(win: Window): string {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage disabled: the token stays in memory for this page's life.
    }
    url.searchParams.delete('token');
    win.history.replaceState(win.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}
