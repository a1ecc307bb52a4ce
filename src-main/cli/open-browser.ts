/**
 * Opening the workbench in a browser without putting the token on a command line.
 *
 * Command lines are readable by every local user (`ps`, /proc/<pid>/cmdline), so the opener
 * (xdg-open, open, explorer, $BROWSER) gets the path of a private redirect file instead, as
 * Jupyter does: a file only this user may read (folder 0700, file 0600) whose page forwards to
 * the URL with the token. The file is removed when the server stops.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RedirectFile {
  file: string;
  remove(): void;
}

export function writeRedirectFile(url: string): RedirectFile {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-open-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'open.html');
  const attr = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const html =
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="refresh" content="0;url=${attr}"><title>Opening Cairn</title></head>` +
    `<body><p><a href="${attr}">Open the Cairn workbench</a></p>` +
    `<script>window.location.replace(${JSON.stringify(url).replace(/</g, '\\u003c')})</script></body></html>`;
  fs.writeFileSync(file, html, { mode: 0o600, flag: 'wx' });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The opener command for this platform, or $BROWSER when set (as xdg-utils and Python's webbrowser honour it). */
function opener(): string[] | null {
  const custom = process.env.BROWSER?.split(':')[0]?.trim();
  if (custom) return [custom];
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['explorer.exe'];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  return ['xdg-open'];
}

/** Open `url` through a redirect file. @returns the file (to remove on exit), or null when there is no opener. */
export function openBrowser(url: string): RedirectFile | null {
  const cmd = opener();
  if (!cmd) return null;
  const redirect = writeRedirectFile(url);
  try {
    const child = spawn(cmd[0], [...cmd.slice(1), pathToFileURL(redirect.file).href], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the URL is printed anyway.
  }
  return redirect;
}
