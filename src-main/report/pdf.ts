/**
 * PDF of an HTML report outside Electron: headless Chromium prints the self-contained HTML
 * file (no network: the report makes no requests and background networking is off).
 * Chromium is looked up as $CAIRN_CHROMIUM, then the usual system paths (Debian's
 * /usr/bin/chromium first). The Electron host prints with webContents.printToPDF instead.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
];

export class PdfUnavailableError extends Error {
  override name = 'PdfUnavailableError';
}

/** Path of a Chromium/Chrome executable, or null. */
export function findChromium(): string | null {
  const env = process.env.CAIRN_CHROMIUM;
  if (env) return fs.existsSync(env) ? env : null;
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

/** Print HTML to PDF with headless Chromium; throws PdfUnavailableError when there is none. */
export async function htmlToPdfChromium(html: string, opts: { timeoutMs?: number } = {}): Promise<Buffer> {
  const exe = findChromium();
  if (!exe) {
    throw new PdfUnavailableError(
      'PDF export needs Chromium or Chrome: install it (Debian: apt-get install chromium) or set CAIRN_CHROMIUM to its path; HTML export works without it',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pdf-'));
  const htmlFile = path.join(dir, 'report.html');
  const pdfFile = path.join(dir, 'report.pdf');
  fs.writeFileSync(htmlFile, html);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    '--no-pdf-header-footer',
    `--user-data-dir=${path.join(dir, 'profile')}`,
    `--print-to-pdf=${pdfFile}`,
    `file://${htmlFile}`,
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`PDF export: Chromium did not finish within ${(opts.timeoutMs ?? 60_000) / 1000} s`));
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new PdfUnavailableError(`PDF export: cannot start ${exe}: ${err.message}`));
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (fs.existsSync(pdfFile) && fs.statSync(pdfFile).size > 0) resolve();
        else reject(new Error(`PDF export: ${exe} exited with code ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
      });
    });
    return fs.readFileSync(pdfFile);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
