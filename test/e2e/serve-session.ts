/**
 * One browser test session: the renderer built by vite into a temporary folder, the REAL
 * `cairn serve` on a temporary database (wasm, two parallel workers), Debian's Chromium through
 * playwright-core, and the helpers every browser test needs (the token-authorised API, polling
 * with the server log in the failure). Page errors and console errors go into that log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
export const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

export interface ServeSession {
  readonly url: string;
  readonly page: Page;
  /** What the server printed (and page errors), for failure messages. */
  log(): string;
  /** A workbench API call with the session's token. */
  api<T>(method: string, ...args: unknown[]): Promise<T>;
  /** Poll `fn` every 250 ms until it answers true; on timeout the error carries the server log. */
  until(what: string, fn: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a test's session differs from the default (wasm backend, 1440 x 1000). Downloads are
 * accepted (Playwright's default), which the workbench's export checks rely on.
 */
export interface ServeOptions {
  /** `cairn serve --backend`; null = the server's own choice (auto). */
  backend?: string | null;
  viewport?: { width: number; height: number };
}

export async function startServeSession(tmpPrefix: string, opts: ServeOptions = {}): Promise<ServeSession> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  fs.mkdirSync(SHOTS, { recursive: true });
  let serverLog = '';
  let server: ChildProcess | null = null;
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const { build } = await import('vite');
    const vue = (await import('@vitejs/plugin-vue')).default;
    const rendererDir = path.join(tmp, 'renderer');
    await build({
      root: path.join(ROOT, 'src-renderer'),
      base: './',
      plugins: [vue()],
      logLevel: 'error',
      configFile: false,
      build: { outDir: rendererDir, emptyOutDir: true, chunkSizeWarningLimit: 4000 },
    });
    const backend = opts.backend === undefined ? 'wasm' : opts.backend;
    const args = [path.join(ROOT, 'bin/cairn.mjs'), 'serve', '--port', '0', '--db', path.join(tmp, 'e2e.db'), '--no-open', '--parallel', '2'];
    const proc = spawn(process.execPath, backend === null ? args : [...args, '--backend', backend], {
      cwd: ROOT,
      env: { ...process.env, CAIRN_RENDERER_DIR: rendererDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = proc;
    proc.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cairn serve printed no URL\n${serverLog}`)), 45_000);
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        serverLog += d.toString();
        const m = /Cairn workbench: (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.once('exit', (code) => reject(new Error(`cairn serve exited with ${code}\n${serverLog}`)));
    });
    const token = new URL(url).searchParams.get('token') ?? /token=([^&#]+)/.exec(url)?.[1] ?? '';
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 1000 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => (serverLog += `\n[page error] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') serverLog += `\n[console] ${m.text()}`;
    });
    return {
      url,
      page,
      log: () => serverLog,
      async api<T>(method: string, ...args: unknown[]): Promise<T> {
        const res = await fetch(new URL(`/api/${method}`, url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ args }),
        });
        const body = (await res.json()) as { result?: T; error?: unknown };
        if (!res.ok) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
        return body.result as T;
      },
      async until(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
        const end = Date.now() + timeoutMs;
        for (;;) {
          if (await fn().catch(() => false)) return;
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- server log ---\n${serverLog.slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
