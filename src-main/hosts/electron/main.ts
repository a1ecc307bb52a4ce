/**
 * Electron main process of the Cairn desktop app.
 *
 * - Opens the default database (or `--db PATH` / $CAIRN_DB), starts a Runner whose workers are
 *   child processes running the built `worker.js` beside this file (training never runs on
 *   this thread), and builds the Workbench API over them.
 * - Serves the built renderer from a privileged `cairn://app/` scheme so every response carries
 *   a strict Content-Security-Policy header (file:// responses have no headers to set it on).
 * - One IPC choke point (`ipc.ts`) answers only windows created here; events go to those
 *   windows, coalesced to at most ~10 messages per second.
 * - Windows: contextIsolation on, nodeIntegration off, sandbox on, no webviews, no permission
 *   grants; links to the web open in the user's browser, never inside the app.
 * - Comparisons and reports compute in a worker thread (`report-worker.js` beside this file).
 * - Env modules (a researcher's own env) load through the native open dialog
 *   (`env-module-dialog.ts`), never from a path a page sends.
 * - PDF export renders the HTML report in a hidden window and calls `printToPDF`.
 * - Quitting stops running runs cleanly (they checkpoint and end as "stopped") and closes the
 *   database.
 */
import { failOrphans } from '../../runner/liveness';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, net, protocol, session, shell, type WebContents } from 'electron';
import { backendChoice } from '../../backend/select';
import { Store } from '../../db/store';
import { defaultDbPath } from '../../db/paths';
import { Runner } from '../../runner/runner';
import { coalesceEvents } from '../../service/events';
import { createWorkbench, type Workbench } from '../../service/workbench';
import { envModuleChooser } from './env-module-dialog';
import { EVENT_CHANNEL, setupIpc } from './ipc';

const MAIN_DIR = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = path.join(MAIN_DIR, '..', 'renderer');
const PRELOAD = path.join(MAIN_DIR, '..', 'preload', 'index.cjs');
const WORKER = path.join(MAIN_DIR, 'worker.js');
const REPORT_WORKER = path.join(MAIN_DIR, 'report-worker.js');
const SCHEME = 'cairn';
const APP_ORIGIN = `${SCHEME}://app`;
const DEV_URL = process.env.ELECTRON_RENDERER_URL;

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
};

function flag(name: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

const windows = new Set<BrowserWindow>();
let workbench: Workbench | null = null;
let shuttingDown = false;

protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (!app.requestSingleInstanceLock()) {
  // A second app on the same database would start a second runner; focus the first instead.
  app.quit();
} else {
  app.on('second-instance', () => {
    const w = [...windows][0];
    if (w) {
      if (w.isMinimized()) w.restore();
      w.focus();
    }
  });
  app.whenReady().then(start).catch((err: unknown) => {
    process.stderr.write(`cairn: ${err instanceof Error ? err.message : String(err)}\n`);
    app.exit(1);
  });
}

/** The renderer's files over cairn://app/..., with the CSP header and an SPA fallback. */
function serveRenderer(): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return new Response('not found', { status: 404 });
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return new Response('bad request', { status: 400 });
    }
    let file = path.resolve(RENDERER_DIR, '.' + path.posix.normalize('/' + rel));
    if (!file.startsWith(RENDERER_DIR + path.sep) && file !== RENDERER_DIR) return new Response('not found', { status: 404 });
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      if (path.extname(rel) !== '') return new Response('not found', { status: 404 });
      file = path.join(RENDERER_DIR, 'index.html');
    }
    const res = await net.fetch(`file://${file}`);
    return new Response(res.body, {
      status: 200,
      headers: {
        'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}

function isOurs(sender: WebContents, event?: { senderFrame?: { parent: unknown; url: string } | null }): boolean {
  const ours = [...windows].some((w) => !w.isDestroyed() && w.webContents.id === sender.id);
  if (!ours) return false;
  const frame = event?.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

function isAppUrl(u: string): boolean {
  return u.startsWith(`${APP_ORIGIN}/`) || (DEV_URL !== undefined && u.startsWith(DEV_URL));
}

function openExternally(url: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'mailto:') void shell.openExternal(u.toString());
  } catch {
    // not a URL: ignore
  }
}

function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) {
      e.preventDefault();
      openExternally(url);
    }
  });
  contents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Cairn',
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  windows.add(win);
  win.on('closed', () => windows.delete(win));
  win.once('ready-to-show', () => win.show());
  if (DEV_URL) void win.loadURL(DEV_URL);
  else void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

/** PDF of an HTML report: a hidden, sandboxed, script-less window and printToPDF. */
async function htmlToPdf(html: string): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pdf-'));
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, html);
  const win = new BrowserWindow({
    show: false,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false },
  });
  try {
    await win.loadFile(file);
    return await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4', margins: { top: 0.4, bottom: 0.4, left: 0.4, right: 0.4 } });
  } finally {
    win.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function start(): Promise<void> {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  if (DEV_URL) {
    // Dev server (electron-vite dev): same policy plus the HMR socket.
    ses.webRequest.onHeadersReceived((details, cb) => {
      cb({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [CSP.replace("connect-src 'self'", "connect-src 'self' ws://localhost:* ws://127.0.0.1:*")],
        },
      });
    });
  }
  serveRenderer();
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));

  const dbFile = flag('db') ?? defaultDbPath();
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  const store = await Store.open(dbFile);
  // Runs left "running" by a runner that died are failed (resumable) before the UI lists them.
  await failOrphans(store).catch(() => undefined);
  process.stdout.write(`Cairn: database ${store.file}\n`);
  const backend = backendChoice(flag('backend'));
  const parallel = flag('parallel');
  const runner = new Runner({
    store,
    backend,
    maxParallel: parallel ? Math.max(1, Number(parallel) || 1) : undefined,
    workerFile: fs.existsSync(WORKER) ? WORKER : undefined,
    // fork() from Electron runs the Electron binary: make it behave as plain Node.
    workerEnv: { ELECTRON_RUN_AS_NODE: '1' },
  });
  const wb = createWorkbench({
    store,
    runner,
    host: 'electron',
    backend,
    version: app.getVersion(),
    pdf: htmlToPdf,
    reportWorkerFile: fs.existsSync(REPORT_WORKER) ? REPORT_WORKER : undefined,
    // Env modules load from the native dialog only (the page cannot name a path).
    chooseEnvModule: envModuleChooser(dialog, () => BrowserWindow.getFocusedWindow() ?? [...windows][0]),
  });
  workbench = wb;
  setupIpc(ipcMain, wb, (sender, event) => isOurs(sender, event as never));
  const sink = coalesceEvents((events) => {
    for (const w of windows) {
      if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, events.length === 1 ? events[0] : events);
    }
  }, 100);
  wb.subscribe((e) => sink.push(e));

  createWindow();
  app.on('activate', () => {
    if (windows.size === 0) createWindow();
  });
}

app.on('window-all-closed', () => app.quit());

app.on('before-quit', (e) => {
  if (!workbench || shuttingDown) return;
  // Stop runs cleanly (checkpoint, status "stopped") and close the database, then quit.
  e.preventDefault();
  shuttingDown = true;
  const wb = workbench;
  workbench = null;
  void wb
    .close()
    .catch((err: unknown) => process.stderr.write(`cairn: shutdown: ${String(err)}\n`))
    .finally(() => app.quit());
});
