/**
 * Where a sweep folder lives: on this machine (a login node, or a shared filesystem mounted
 * here) or on a host reached with the system `ssh`/`scp`. Both run the same POSIX shell
 * snippets, so the Slurm executor has one code path. Over ssh we use the user's own ssh
 * config and agent (`BatchMode=yes`: a host that would ask for a password fails with a
 * message instead of hanging) and never store a credential. `CAIRN_SSH_CONFIG` names an
 * ssh config file to use instead of ~/.ssh/config (tests point it at a throwaway key).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Transport {
  /** "this machine" or the ssh host, for messages. */
  readonly where: string;
  readonly sshHost: string | null;
  /** Run a POSIX shell snippet. Throws SweepFault when the host cannot be reached. */
  sh(script: string, input?: Buffer | string): Promise<ExecResult>;
  /** Write a file atomically (temporary name, then rename). */
  writeFile(file: string, data: string | Buffer): Promise<void>;
  /** A file's bytes, or null when it does not exist. */
  readFile(file: string): Promise<Buffer | null>;
  /** Copy a file to this machine; false when it does not exist. */
  fetch(file: string, localFile: string): Promise<boolean>;
}

/** A fault of the sweep's machinery (not of the user's input): reported on the sweep, exit 1. */
export class SweepFault extends Error {
  override name = 'SweepFault';
}

/** Quote for a POSIX shell. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function run(cmd: string, args: string[], input?: Buffer | string, timeoutMs = 120_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (signal === 'SIGKILL' ? `\n(${cmd} timed out after ${timeoutMs / 1000} s)` : ''),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

export class LocalTransport implements Transport {
  readonly where = 'this machine';
  readonly sshHost = null;

  sh(script: string, input?: Buffer | string): Promise<ExecResult> {
    return run('/bin/sh', ['-c', script], input);
  }

  async writeFile(file: string, data: string | Buffer): Promise<void> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  }

  async readFile(file: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async fetch(file: string, localFile: string): Promise<boolean> {
    try {
      await fs.promises.copyFile(file, localFile);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }
}

export class SshTransport implements Transport {
  readonly where: string;
  private readonly base: string[];

  constructor(readonly sshHost: string) {
    if (!/^[A-Za-z0-9_.@%:+-]+$/.test(sshHost) || sshHost.startsWith('-')) {
      throw new SweepFault(`--ssh: expected a host name from your ssh config or user@host, got ${JSON.stringify(sshHost)}`);
    }
    this.where = sshHost;
    const cfg = process.env.CAIRN_SSH_CONFIG;
    this.base = [...(cfg ? ['-F', cfg] : []), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15'];
  }

  async sh(script: string, input?: Buffer | string): Promise<ExecResult> {
    let r: ExecResult;
    try {
      r = await run('ssh', [...this.base, this.sshHost, '--', `/bin/sh -c ${q(script)}`], input);
    } catch (e) {
      throw new SweepFault(`ssh: cannot run the system ssh client (${(e as Error).message}); install OpenSSH`);
    }
    // ssh itself exits 255 on connection and authentication failures.
    if (r.code === 255) throw new SweepFault(`cannot reach ${this.sshHost} over ssh: ${lastLine(r.stderr) || 'connection failed'}`);
    return r;
  }

  async writeFile(file: string, data: string | Buffer): Promise<void> {
    const tmp = `${file}.tmp-${process.pid}`;
    const r = await this.sh(`mkdir -p ${q(path.posix.dirname(file))} && cat > ${q(tmp)} && mv ${q(tmp)} ${q(file)}`, data);
    if (r.code !== 0) throw new SweepFault(`cannot write ${file} on ${this.sshHost}: ${lastLine(r.stderr)}`);
  }

  async readFile(file: string): Promise<Buffer | null> {
    const r = await this.sh(`if [ -e ${q(file)} ]; then cat ${q(file)}; else echo CAIRN-NO-FILE >&2; exit 3; fi`);
    if (r.code === 3 && r.stderr.includes('CAIRN-NO-FILE')) return null;
    if (r.code !== 0) throw new SweepFault(`cannot read ${file} on ${this.sshHost}: ${lastLine(r.stderr)}`);
    return Buffer.from(r.stdout);
  }

  async fetch(file: string, localFile: string): Promise<boolean> {
    let r: ExecResult;
    try {
      r = await run('scp', [...this.base, '-q', `${this.sshHost}:${file}`, localFile]);
    } catch (e) {
      throw new SweepFault(`scp: cannot run the system scp client (${(e as Error).message}); install OpenSSH`);
    }
    if (r.code === 0) return true;
    if (/No such file/i.test(r.stderr)) return false;
    if (r.code === 255 && /(Connection|resolve|Permission denied|timed out)/i.test(r.stderr)) {
      throw new SweepFault(`cannot reach ${this.sshHost} over scp: ${lastLine(r.stderr)}`);
    }
    throw new SweepFault(`scp ${this.sshHost}:${file}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
  }
}

export function transportFor(sshHost: string | null | undefined): Transport {
  return sshHost ? new SshTransport(sshHost) : new LocalTransport();
}
