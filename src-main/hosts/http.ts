/**
 * The HTTP + WebSocket host of the Workbench API (`cairn serve`).
 *
 *   POST /api/<method>  {"args": [...]}  -> 200 {"result": ...} | 4xx/5xx {"error": ApiErrorBody}
 *   GET  /api/events    WebSocket: WorkbenchEvents as JSON (one event or an array per frame);
 *                       the client may send {"type":"watch-live","runIds":[...]} to receive
 *                       live replay frames (`live` events) of those runs only
 *   GET  /*             the built renderer (out/renderer), SPA fallback to index.html
 *
 * Security model (the server drives training and writes files, so a web page in the user's
 * browser or another local user must not be able to use it):
 * - it binds 127.0.0.1 unless told otherwise;
 * - a random 32-byte token is generated per start and printed in the URL; every API call must
 *   carry it as `Authorization: Bearer`, and the WebSocket as `?token=` (browsers cannot set
 *   headers on one) or the same header; anything else gets 401 (compared in constant time).
 *   No cookie: cookies ignore ports, so any other server on 127.0.0.1 (another user's) would
 *   receive it. The static files are the public UI bundle and need no token; the page reads
 *   the token from its URL, keeps it in sessionStorage and removes it from the address bar;
 * - a Host header that is not the bound host, localhost or an IP literal gets 403 (DNS
 *   rebinding: a hostile page on evil.example resolving to 127.0.0.1 sends Host: evil.example);
 * - an Origin header other than this server's own origin gets 403 (cross-site fetch and
 *   WebSocket hijacking);
 * - desktop-only methods (`DESKTOP_ONLY_METHODS`: loading an env module through a native
 *   dialog) get 403: a page must never make this host load code;
 * - responses carry a strict CSP, nosniff, no-referrer (the token is in the page URL) and
 *   frame-ancestors 'none'.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_METHODS, DESKTOP_ONLY_METHODS, type ApiErrorBody, type WorkbenchEvent } from '../../src-shared/api';
import { errorBody } from '../service/api-errors';
import { coalesceEvents } from '../service/events';
import type { Workbench } from '../service/workbench';
import { SIGNIN_PATH, signinPage, wantsHtml } from './signin-page';

export interface HttpHostOptions {
  workbench: Workbench;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Built renderer folder; static routes answer 503 with a hint when it is missing. */
  rendererDir?: string;
  /** Access token (default: 32 random bytes, hex). */
  token?: string;
  /** Largest accepted request body (default 16 MiB). */
  maxBodyBytes?: number;
  /** Event coalescing interval per client (default 100 ms: at most ~10 frames/s). */
  eventIntervalMs?: number;
  /** Serve HTTPS (and WSS) with this PEM certificate and key instead of plain HTTP. */
  tls?: { cert: Buffer | string; key: Buffer | string };
}

export interface HttpHost {
  url: string;
  port: number;
  host: string;
  token: string;
  server: http.Server;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const METHODS = new Set<string>(API_METHODS);
const DESKTOP_ONLY = new Set<string>(DESKTOP_ONLY_METHODS);

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** Host name part of a Host header ("[::1]:80" -> "::1", "a.b:1" -> "a.b"). */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : null;
  }
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

function secureEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  const wb = opts.workbench;
  const bindHost = opts.host ?? '127.0.0.1';
  const token = opts.token ?? crypto.randomBytes(32).toString('hex');
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const rendererDir = opts.rendererDir ? path.resolve(opts.rendererDir) : undefined;
  const intervalMs = opts.eventIntervalMs ?? 100;
  const scheme = opts.tls ? 'https' : 'http';
  const allowedNames = new Set(['localhost', '127.0.0.1', '::1', bindHost.toLowerCase()]);
  if (isWildcard(bindHost)) allowedNames.add(os.hostname().toLowerCase());

  /** DNS-rebinding guard: the Host must name us, not a domain someone pointed at us. */
  function hostAllowed(req: http.IncomingMessage): boolean {
    const name = hostName(req.headers.host);
    if (name === null) return false;
    if (allowedNames.has(name)) return true;
    // IP literals cannot be rebound; a server bound to all interfaces answers on any of them.
    return isWildcard(bindHost) && net.isIP(name) !== 0;
  }

  /** Cross-origin guard: browsers send Origin on cross-site requests and on every WebSocket. */
  function originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      const u = new URL(origin);
      return u.protocol === scheme + ':' && u.host.toLowerCase() === String(req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  }

  /** The bearer header carries the token (every API call). */
  function bearer(req: http.IncomingMessage): boolean {
    const auth = req.headers.authorization;
    return auth !== undefined && /^Bearer\s+/i.test(auth) && secureEqual(auth.replace(/^Bearer\s+/i, '').trim(), token);
  }

  /** The WebSocket: `?token=` (what browsers can send) or the bearer header. */
  function wsAuthorised(req: http.IncomingMessage, url: URL): boolean {
    const q = url.searchParams.get('token');
    return (q !== null && secureEqual(q, token)) || bearer(req);
  }

  function securityHeaders(req: http.IncomingMessage): Record<string, string> {
    // Only host-name characters: the header also reaches responses that refuse a bad Host.
    const host = String(req.headers.host ?? bindHost).replace(/[^A-Za-z0-9.:[\]-]/g, '');
    return {
      'Content-Security-Policy': [
        "default-src 'self'",
        `connect-src 'self' ${scheme === 'https' ? 'wss' : 'ws'}://${host}`,
        "img-src 'self' data: blob:",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join('; '),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
  }

  function sendJson(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      ...securityHeaders(req),
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': data.length,
      'Cache-Control': 'no-store',
    });
    res.end(data);
  }

  function sendHtml(req: http.IncomingMessage, res: http.ServerResponse, status: number, html: string): void {
    const data = Buffer.from(html);
    res.writeHead(status, {
      ...securityHeaders(req),
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': data.length,
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  function sendError(req: http.IncomingMessage, res: http.ServerResponse, status: number, error: ApiErrorBody): void {
    sendJson(req, res, status, { error });
  }

  function statusOf(body: ApiErrorBody): number {
    return body.kind === 'input' ? 400 : body.kind === 'not-found' ? 404 : 500;
  }

  function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const tooLarge = () => Object.assign(new Error(`request body larger than ${maxBody} bytes`), { status: 413 });
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBody) {
        // Answer at once; the connection is closed after the answer, unread body and all.
        req.resume();
        return reject(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          // Not req.destroy(): the client would see a connection reset instead of the 413.
          req.removeAllListeners('data');
          req.resume();
          chunks.length = 0;
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  /** Read and drop what is left of a request body, up to `limit` bytes. */
  function drain(req: http.IncomingMessage, limit: number): Promise<void> {
    return new Promise((resolve) => {
      if (req.readableEnded || req.destroyed) return resolve();
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > limit) resolve();
      });
      req.on('end', () => resolve());
      req.on('close', () => resolve());
      req.on('error', () => resolve());
      req.resume();
    });
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> {
    if (!METHODS.has(method)) {
      return sendError(req, res, 404, { kind: 'not-found', message: `no API method ${JSON.stringify(method)}` });
    }
    if (DESKTOP_ONLY.has(method)) {
      // A served page must never make this host load code (openEnvModule): refused whatever
      // the workbench could do, before the body is read.
      req.resume();
      return sendError(req, res, 403, {
        kind: 'input',
        message: `${method}: only the desktop app does this (through its own file dialog); cairn serve never loads a module a page asks for`,
      });
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendError(req, res, 405, { kind: 'input', message: `${method}: use POST with {"args": [...]}` });
    }
    let args: unknown[];
    try {
      const raw = await readBody(req);
      const text = raw.toString('utf8').trim();
      const parsed: unknown = text === '' ? { args: [] } : JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { args?: unknown }).args)) {
        return sendError(req, res, 400, { kind: 'input', field: 'args', message: 'body: expected {"args": [...]}' });
      }
      args = (parsed as { args: unknown[] }).args;
    } catch (err) {
      const status = (err as { status?: number }).status ?? 400;
      if (status === 413) {
        // Answer once the rest of the body has been read and dropped: closing while the client
        // still sends resets the connection, and the client never reads the 413 (seen with a
        // 17 MiB body from fetch). A body that goes on past 4x the limit is cut off.
        await drain(req, maxBody * 4);
        res.setHeader('Connection', 'close');
      }
      return sendError(req, res, status, { kind: 'input', message: `body: ${(err as Error).message}` });
    }
    try {
      const fn = (wb as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      const result = await fn.apply(wb, args);
      sendJson(req, res, 200, { result: result === undefined ? null : result });
    } catch (err) {
      const body = errorBody(err);
      sendError(req, res, statusOf(body), body);
    }
  }

  function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...securityHeaders(req), Allow: 'GET, HEAD' });
      return void res.end();
    }
    const headers: Record<string, string | string[]> = { ...securityHeaders(req) };
    if (!rendererDir || !fs.existsSync(path.join(rendererDir, 'index.html'))) {
      res.writeHead(503, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('The Cairn UI is not built: run `npx electron-vite build` (the API under /api works).\n');
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, headers);
      return void res.end();
    }
    if (rel.includes('\0')) {
      res.writeHead(400, headers);
      return void res.end();
    }
    let file = path.resolve(rendererDir, '.' + path.posix.normalize('/' + rel));
    if (file !== rendererDir && !file.startsWith(rendererDir + path.sep)) {
      res.writeHead(404, headers);
      return void res.end();
    }
    let stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = fs.statSync(file, { throwIfNoEntry: false });
    }
    if (!stat?.isFile() && url.pathname === '/favicon.ico') {
      // Browsers ask for it on their own; no icon is not an error worth a console line.
      res.writeHead(204, headers);
      return void res.end();
    }
    if (!stat?.isFile()) {
      // SPA fallback: paths without an extension are client-side routes.
      if (path.extname(rel) !== '') {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end('not found\n');
      }
      file = path.join(rendererDir, 'index.html');
      stat = fs.statSync(file);
    }
    const ext = path.extname(file).toLowerCase();
    headers['Content-Type'] = MIME[ext] ?? 'application/octet-stream';
    headers['Content-Length'] = String(stat.size);
    // Hashed assets never change; the page itself always revalidates.
    headers['Cache-Control'] = ext === '.html' ? 'no-store' : 'private, max-age=31536000, immutable';
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      route(req, res);
    } catch (err) {
      // Never let one malformed request take the server (and its training runs) down.
      if (!res.headersSent) sendError(req, res, 500, { kind: 'internal', message: String(err) });
      else res.destroy();
    }
  };
  const server: http.Server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : http.createServer(onRequest);

  function route(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      res.writeHead(400);
      return void res.end();
    }
    if (!hostAllowed(req)) {
      return sendError(req, res, 403, { kind: 'input', message: 'forbidden: unexpected Host header' });
    }
    if (!originAllowed(req)) {
      return sendError(req, res, 403, { kind: 'input', message: 'forbidden: cross-origin request' });
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      if (!bearer(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="cairn"');
        // A browser opening an API address gets a page saying how to get in; clients keep JSON.
        if (wantsHtml(req)) return sendHtml(req, res, 401, signinPage('api'));
        return sendError(req, res, 401, {
          kind: 'input',
          message: 'unauthorized: open the URL `cairn serve` printed (it carries the access token); API calls send it as Authorization: Bearer',
        });
      }
      const method = url.pathname.slice('/api/'.length);
      handleApi(req, res, method).catch((err) => {
        if (!res.headersSent) sendError(req, res, 500, { kind: 'internal', message: String(err) });
        else res.destroy();
      });
      return;
    }
    if (url.pathname === SIGNIN_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendHtml(req, res, 200, signinPage('page'));
    }
    serveStatic(req, res, url);
  }
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;

  // ---- events over WebSocket -------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /**
   * Per client: its coalescing sink and the runs whose live replay frames it asked for (null
   * until it asks: every run's, as before). `bench --ui` found every page parsing every run's
   * replay frames on its main thread, shown or not; the renderer asks for the run it shows.
   */
  const clients = new Map<WebSocket, { sink: ReturnType<typeof coalesceEvents>; live: Set<number> | null }>();
  const unsubscribe = wb.subscribe((e: WorkbenchEvent) => {
    for (const c of clients.values()) {
      if (e.type === 'live' && c.live && !c.live.has(e.runId)) continue;
      c.sink.push(e);
    }
  });

  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(400, 'Bad Request');
    }
    if (!hostAllowed(req) || !originAllowed(req)) return refuse(403, 'Forbidden');
    if (!wsAuthorised(req, url)) return refuse(401, 'Unauthorized');
    if (url.pathname !== '/api/events') return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sink = coalesceEvents((events) => {
        if (ws.readyState !== ws.OPEN) return;
        // A client that cannot keep up loses live replay frames first, never status changes.
        const slow = ws.bufferedAmount > 8 * 1024 * 1024;
        const out = slow ? events.filter((e) => e.type !== 'live') : events;
        if (out.length === 0) return;
        ws.send(JSON.stringify(out.length === 1 ? out[0] : out));
      }, intervalMs);
      const client = { sink, live: null as Set<number> | null };
      clients.set(ws, client);
      ws.on('message', (data, isBinary) => {
        // The one message a client may send; anything else is ignored, as before.
        const ids = isBinary ? null : parseWatchLive(String(data));
        if (ids) client.live = new Set(ids);
      });
      ws.on('close', () => {
        sink.close();
        clients.delete(ws);
      });
      ws.on('error', () => ws.terminate());
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
  const urlHost = isWildcard(bindHost) ? '127.0.0.1' : net.isIPv6(bindHost) ? `[${bindHost}]` : bindHost;
  const url = `${scheme}://${urlHost}:${port}/?token=${token}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    host: bindHost,
    token,
    server,
    close() {
      closing ??= (async () => {
        unsubscribe();
        for (const [ws, { sink }] of clients) {
          sink.close();
          ws.close(1001, 'server shutting down');
        }
        clients.clear();
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

/** Runs a client may watch at once (a page shows one; a bound keeps a hostile client's set small). */
export const MAX_WATCHED_RUNS = 64;

/**
 * `{"type":"watch-live","runIds":[1,2]}` -> the run ids; null for anything else (not JSON,
 * another type, ids that are not positive integers, more than MAX_WATCHED_RUNS of them).
 */
export function parseWatchLive(text: string): number[] | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== 'object' || (msg as { type?: unknown }).type !== 'watch-live') return null;
  const ids = (msg as { runIds?: unknown }).runIds;
  if (!Array.isArray(ids) || ids.length > MAX_WATCHED_RUNS) return null;
  if (!ids.every((v) => Number.isSafeInteger(v) && (v as number) > 0)) return null;
  return ids as number[];
}
