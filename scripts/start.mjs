#!/usr/bin/env node
// `npm start`: the Cairn desktop app when the Electron binary is installed; otherwise the same
// workbench served to your browser by `cairn serve` (one line says why, then the URL).
// Extra arguments go to the app or to `cairn serve`: `npm start -- --db /tmp/x.db`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Path of the installed Electron binary, or null. Reads what `require('electron')` reads but
 * without requiring it: electron's index.js starts a download when the binary is missing.
 */
export function electronBinary(root = ROOT) {
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const rel = fs.readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkg, 'dist');
  const exe = path.join(dist, rel);
  return rel && fs.existsSync(exe) ? exe : null;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
    // Ctrl-C reaches the child through the terminal; we wait for it to finish cleanly.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
    child.on('error', (err) => {
      process.stderr.write(`cairn: cannot start ${cmd}: ${err.message}\n`);
      resolve(1);
    });
  });
}

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when out/renderer is missing or older than the sources it is built from. */
function rendererStale() {
  const index = path.join(ROOT, 'out', 'renderer', 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  return ['src-renderer', 'src-shared'].some((d) => newestMtime(path.join(ROOT, d)) > built);
}

async function main() {
  const extra = process.argv.slice(2);
  const electron = electronBinary();
  if (electron) {
    const vite = path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
    const built = spawnSync(process.execPath, [vite, 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) {
      process.stderr.write('cairn: the app did not build (see above)\n');
      process.exit(built.status ?? 1);
    }
    // Chromium refuses to run as root with its OS sandbox on (containers); the per-window
    // sandbox (webPreferences.sandbox) stays on.
    const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    process.exit(await run(electron, ['.', ...rootArgs, ...extra]));
  }
  process.stdout.write(
    'cairn: the Electron binary is not installed (`node node_modules/electron/install.js` fetches it where the network allows); serving the workbench to your browser instead\n',
  );
  // A pulled checkout may carry a UI built from older sources: rebuild it before serving.
  if (rendererStale()) {
    const vite = path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
    const built = spawnSync(process.execPath, [vite, 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (built.status !== 0) {
      process.stderr.write('cairn: the workbench UI did not build (see above)\n');
      process.exit(built.status ?? 1);
    }
  }
  // `cairn serve` prints the URL to open.
  process.exit(await run(process.execPath, [path.join(ROOT, 'bin', 'cairn.mjs'), 'serve', ...extra]));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
