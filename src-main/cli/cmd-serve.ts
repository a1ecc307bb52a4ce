/**
 * `cairn serve`: the workbench over HTTP + WebSocket on loopback, for a browser on this machine
 * or (through an SSH tunnel) on a laptop while a GPU box trains.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpHost } from '../hosts/http';
import { createWorkbench } from '../service/workbench';
import { parse, intFlag } from './args';
import { makeRunner, openStore } from './common';
import { UsageError } from './errors';

export const SERVE_HELP = `Usage: cairn serve [--port P] [--host 127.0.0.1] [--db PATH] [--parallel N] [--backend NAME] [--no-open]

Serve the Cairn workbench (the same UI as the desktop app) over HTTP on this machine and print
its URL. The URL carries a random access token generated at each start: every request must
present it, so other users of this machine and web pages cannot drive the server.

Options:
  --port P         port to listen on (default 0: any free port)
  --host ADDR      interface to bind (default 127.0.0.1; anything else exposes the server,
                   still token-protected, to your network: prefer an SSH tunnel)
  --db PATH        database file (or CAIRN_DB; default in your data folder)
  --parallel N     runs trained at once (default: number of cores)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (or CAIRN_BACKEND)
  --no-open        do not open a browser (it is only opened on an interactive terminal)

Ctrl-C stops running runs after their current round (they can be resumed) and exits.
`;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built renderer, building it first (electron-vite) when it is missing. */
export function ensureRenderer(root = ROOT, log: (s: string) => void = (s) => process.stderr.write(s)): string | undefined {
  const custom = process.env.CAIRN_RENDERER_DIR;
  const dir = custom ? path.resolve(custom) : path.join(root, 'out', 'renderer');
  const index = path.join(dir, 'index.html');
  if (fs.existsSync(index)) {
    // Not rebuilt here: several servers may start at once (tests) and must not race on out/.
    if (!custom && newestMtime([path.join(root, 'src-renderer'), path.join(root, 'src-shared')]) > fs.statSync(index).mtimeMs) {
      log('cairn: the UI in out/renderer is older than its sources; `npx electron-vite build` refreshes it\n');
    }
    return dir;
  }
  const cli = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!fs.existsSync(cli) || !fs.existsSync(path.join(root, 'electron.vite.config.ts'))) {
    log(`cairn: the UI is not built (${dir} is missing) and electron-vite is not installed; serving the API only\n`);
    return undefined;
  }
  log('cairn: building the UI (out/renderer is missing; this takes a minute once)...\n');
  const res = spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (res.status !== 0 || !fs.existsSync(path.join(dir, 'index.html'))) {
    const why = (res.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${res.status}`;
    log(`cairn: building the UI failed (${why}); run \`npx electron-vite build\` to see why. Serving the API only\n`);
    return undefined;
  }
  return dir;
}

/** Latest modification time of the files under some folders (0 if none). */
function newestMtime(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (fs.existsSync(d)) walk(d);
  return newest;
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer.exe' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the URL is printed anyway.
  }
}

export async function serve(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    parallel: { type: 'string' },
    backend: { type: 'string' },
    'no-open': { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(SERVE_HELP);
  const port = intFlag('port', values.port, 0, 0, 65535);
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host: expected an interface address such as 127.0.0.1');

  const rendererDir = ensureRenderer();
  const store = await openStore(values.db);
  let runner;
  try {
    runner = makeRunner(store, values);
  } catch (e) {
    await store.close();
    throw e;
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const workbench = createWorkbench({
    store,
    runner,
    host: 'http',
    backend: values.backend ?? process.env.CAIRN_BACKEND ?? 'auto',
    version: pkg.version,
  });
  let server;
  try {
    server = await startHttpHost({ workbench, host, port, rendererDir });
  } catch (err) {
    await workbench.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UsageError(`--port: ${port} is in use; choose another or --port 0 for any free port`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new UsageError(`--host: cannot bind ${JSON.stringify(host)} (${e.code})`);
    throw err;
  }
  process.stdout.write(`Cairn workbench: ${server.url}\n`);
  // Which history this is (npm start passes through here when Electron is absent).
  process.stdout.write(`Database: ${store.file}\n`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(`cairn: listening on ${host}: reachable from your network (token required)\n`);
  }
  if (!values['no-open'] && process.stdout.isTTY) openBrowser(server.url);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSig = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write('\ncairn: stopping runs after their current round (Ctrl-C again to quit at once)\n');
      void server
        .close()
        .then(() => workbench.close())
        .catch((err: unknown) => process.stderr.write(`cairn: shutdown: ${err instanceof Error ? err.message : String(err)}\n`))
        .finally(() => {
          process.off('SIGINT', onSig);
          process.off('SIGTERM', onSig);
          resolve();
        });
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
}
