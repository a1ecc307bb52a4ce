#!/usr/bin/env node
// Builds Cairn's native BLAS addon (src-main/backend/native/cairn-blas.c, with the GRU gate
// kernels of cairn-gates.c) into
// node_modules/.cache/cairn-native/cairn-blas.node: run by `npm install` (postinstall) and by
// `npm run build:native`. It needs only a C compiler ($CC, else cc) and Node's C headers; the
// BLAS library itself is opened at run time. Where either is missing the build is skipped with
// one line saying why, and Cairn uses the plain wasm backend: this script never fails an install
// (exit code 0) unless --strict is given.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = ['cairn-blas.c', 'cairn-gates.c'].map((f) => path.join(ROOT, 'src-main', 'backend', 'native', f));
// $CAIRN_BLAS_ADDON: another place (what src-main/backend/blas.ts then loads from, too).
export const ADDON = process.env.CAIRN_BLAS_ADDON || path.join(ROOT, 'node_modules', '.cache', 'cairn-native', 'cairn-blas.node');
const strict = process.argv.includes('--strict');

function skip(why) {
  console.log(`cairn: native BLAS addon not built (${why}); training uses the plain wasm backend.`);
  process.exit(strict ? 1 : 0);
}

/** A directory holding node_api.h: Node's own headers, else node-gyp's cache, else node-api-headers. */
function headerDir() {
  const v = process.version;
  const dirs = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
    path.join(os.homedir(), '.cache', 'node-gyp', v.slice(1), 'include', 'node'),
    path.join(os.homedir(), 'Library', 'Caches', 'node-gyp', v.slice(1), 'include', 'node'),
  ];
  try {
    dirs.push(path.dirname(createRequire(import.meta.url).resolve('node-api-headers/include/node_api.h')));
  } catch {
    /* not installed: fine */
  }
  return dirs.find((d) => fs.existsSync(path.join(d, 'node_api.h'))) ?? null;
}

if (process.platform === 'win32') skip('Windows: build it with node-gyp and MSVC by hand, see docs/performance.md');
const include = headerDir();
if (!include) skip("no node_api.h found (Node's C headers)");
const cc = process.env.CC || 'cc';
// -ffp-contract=off: no fused multiply-adds, so the gate kernels keep the wasm kernel's bits
// (cairn-gates.c); -fvisibility=hidden: only N-API's entry points are exported.
const args = ['-O3', '-ffp-contract=off', '-fvisibility=hidden', '-std=c99', '-Wall', '-shared', '-fPIC', '-I', include, ...SRC, '-o', ADDON + '.tmp'];
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
else args.push('-ldl');
fs.mkdirSync(path.dirname(ADDON), { recursive: true });
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.error) skip(`no C compiler: ${cc} could not be run (${r.error.code ?? r.error.message})`);
if (r.status !== 0) skip(`${cc} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ')}`);
fs.renameSync(ADDON + '.tmp', ADDON);
console.log(`cairn: native BLAS addon built (${path.relative(ROOT, ADDON)})`);
