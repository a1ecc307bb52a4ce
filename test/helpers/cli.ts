/** Run the real `cairn` binary (bin/cairn.mjs) in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'cairn.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tmpDir(prefix = 'cairn-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', CAIRN_BACKEND: 'wasm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cairn ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last non-empty stdout line parsed as JSON. */
export function lastJson<T = any>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
