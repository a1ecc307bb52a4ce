/**
 * A throwaway sshd on loopback for tests: its own host key, a fresh client key authorised for
 * the current user, a free port, and an ssh config file (for CAIRN_SSH_CONFIG) that names the
 * host `cairn-test-host`. Returns the reason instead when sshd cannot start here.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './slurm-cluster';

export interface Sshd {
  host: string;
  /** Environment for the CLI: CAIRN_SSH_CONFIG pointing at the config file. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const SSH_HOST = 'cairn-test-host';

export async function startSshd(extraEnv: Record<string, string> = {}): Promise<Sshd | string> {
  const sshd = '/usr/sbin/sshd';
  if (!fs.existsSync(sshd)) return 'sshd not installed (apt-get install openssh-server)';
  try {
    execFileSync('/bin/sh', ['-c', 'command -v ssh && command -v scp && command -v ssh-keygen'], { stdio: 'ignore' });
  } catch {
    return 'ssh, scp or ssh-keygen not installed (apt-get install openssh-client)';
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sshd-'));
  fs.chmodSync(dir, 0o700);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { stdio: 'ignore' });
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o600);
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = os.userInfo().username;
  // The remote shell needs what the test cluster's clients need (SLURM_CONF, PATH to node).
  const setEnv = Object.entries({ PATH: process.env.PATH ?? '/usr/bin:/bin', ...extraEnv }).map(([k, v]) => `${k}=${v}`);
  const conf = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    conf,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_key`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `PidFile ${dir}/sshd.pid`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      // scp speaks SFTP since OpenSSH 9.0.
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      `SetEnv ${setEnv.map((e) => `"${e}"`).join(' ')}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child = spawn(sshd, ['-D', '-e', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const clientConf = path.join(dir, 'ssh_config');
  fs.writeFileSync(
    clientConf,
    [
      `Host ${SSH_HOST}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${dir}/client_key`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking no',
      `  UserKnownHostsFile ${dir}/known_hosts`,
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Up when the port accepts connections.
  const t0 = Date.now();
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() - t0 > 10_000) {
      await stop();
      return `sshd did not start: ${stderr.trim().split('\n').slice(-2).join(' | ') || 'no answer on its port'}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: SSH_HOST, env: { CAIRN_SSH_CONFIG: clientConf }, stop };
}
