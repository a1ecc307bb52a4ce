/**
 * `cairn serve`: the workbench over HTTP + WebSocket on loopback, for a browser on this machine
 * or (through an SSH tunnel) on a laptop while a GPU box trains.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import tlsLib from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpHost } from '../hosts/http';
import { createWorkbench } from '../service/workbench';
import { parse, intFlag } from './args';
import { dbFlag, makeRunner, openStore, runnerFlags } from './common';
import { UsageError } from './errors';
import { openBrowser, type RedirectFile } from './open-browser';

export const SERVE_HELP = `Usage: cairn serve [--port P] [--host 127.0.0.1] [--tls-cert F --tls-key F | --insecure-http] [--db PATH] [--parallel N] [--backend NAME] [--no-open]

Serve the Cairn workbench (the same UI as the desktop app) over HTTP on this machine and print
its URL. The URL carries a random access token generated at each start: every request must
present it, so other users of this machine and web pages cannot drive the server.

Options:
  --port P         port to listen on (default 0: any free port)
  --host ADDR      interface to bind (default 127.0.0.1). Any other address exposes the
                   server to your network and needs TLS or --insecure-http; prefer an SSH
                   tunnel to a loopback server
  --tls-cert FILE  serve HTTPS with this PEM certificate (and --tls-key FILE, its key)
  --tls-key FILE
  --insecure-http  allow plain HTTP on a non-loopback --host: anyone on the network path
                   can read the access token and take over the server
  --db PATH        database file (or CAIRN_DB; default in your data folder)
  --parallel N     runs trained at once (default: number of cores)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu (or CAIRN_BACKEND)
  --open           open a browser even when stdout is not a terminal
  --no-open        do not open a browser (it is only opened on an interactive terminal);
                   the browser is given a private redirect file, never the token itself

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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new UsageError('--tls-cert: required with --tls-key (the PEM certificate file)');
  if (keyFile === undefined) throw new UsageError('--tls-key: required with --tls-cert (the PEM private key file)');
  const read = (flag: string, file: string, what: string) => {
    let text: Buffer;
    try {
      text = fs.readFileSync(file);
    } catch (err) {
      throw new UsageError(`--${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!text.includes(`-----BEGIN ${what}`) && !(what === 'PRIVATE KEY' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text.toString()))) {
      throw new UsageError(`--${flag}: ${file} is not a PEM ${what.toLowerCase()}`);
    }
    return text;
  };
  const cert = read('tls-cert', certFile, 'CERTIFICATE');
  const key = read('tls-key', keyFile, 'PRIVATE KEY');
  try {
    tlsLib.createSecureContext({ cert, key });
  } catch (err) {
    throw new UsageError(`--tls-key: does not match --tls-cert or cannot be used (${(err as Error).message})`);
  }
  return { cert, key };
}

export async function serve(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    parallel: { type: 'string' },
    backend: { type: 'string' },
    'no-open': { type: 'boolean' },
    open: { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'insecure-http': { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(SERVE_HELP);
  const port = intFlag('port', values.port, 0, 0, 65535);
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host: expected an interface address such as 127.0.0.1');
  const tls = readTls(values['tls-cert'], values['tls-key']);
  if (!isLoopback(host) && !tls && !values['insecure-http']) {
    throw new UsageError(
      `--host: ${host} is reachable from the network, where plain HTTP shows the access token to anyone on the path; ` +
        'give --tls-cert and --tls-key, or --insecure-http to accept that (or use 127.0.0.1 and an SSH tunnel)',
    );
  }

  // Every flag checked before the UI build (a minute) and before the database is opened.
  runnerFlags(values);
  dbFlag(values.db);
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
    server = await startHttpHost({ workbench, host, port, rendererDir, tls });
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
  if (!isLoopback(host)) {
    process.stderr.write(
      tls
        ? `cairn: listening on ${host} over HTTPS: reachable from your network (token required)\n`
        : `cairn: WARNING: listening on ${host} over plain HTTP (--insecure-http): the token crosses the network unencrypted\n`,
    );
  }
  let redirect: RedirectFile | null = null;
  if (!values['no-open'] && (values.open || process.stdout.isTTY)) redirect = openBrowser(server.url);

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
          redirect?.remove();
          process.off('SIGINT', onSig);
          process.off('SIGTERM', onSig);
          resolve();
        });
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
}
