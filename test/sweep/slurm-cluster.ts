/**
 * A one-node Slurm cluster for tests, started from a temp folder and stopped after: a private
 * munged (its own socket), slurmctld and slurmd on free ports, the node named by `hostname -s`
 * with this machine's CPUs, and the settings verified to work in a container as root
 * (proctrack/linuxproc, task/none, no accounting). Returns the reason instead when it cannot
 * start (not root, Slurm or munge not installed, a daemon that does not come up), so the tests
 * can skip with a clear message.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Cluster {
  dir: string;
  /** Environment for `sbatch`/`squeue`/`scancel` and for the CLI that calls them. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function has(bin: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number, logs: string[]): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) {
      const tail = logs.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').slice(-5).join(' | ') : '')).join(' || ');
      throw new Error(`${what} did not come up in ${timeoutMs / 1000} s: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startCluster(): Promise<Cluster | string> {
  if (process.getuid?.() !== 0) return 'not root (the test cluster runs slurmd as root)';
  for (const bin of ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo']) {
    if (!has(bin)) return `${bin} not installed (apt-get install slurm-wlm munge)`;
  }
  if (!fs.existsSync('/etc/munge/munge.key')) return 'no /etc/munge/munge.key (the munge package creates it)';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-slurm-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d));
  const host = os.hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(
    conf,
    [
      'ClusterName=cairntest',
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${dir}/munge.sock`,
      'CredType=cred/munge',
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      // Short grace between SIGTERM and SIGKILL: a cancelled task checkpoints within it.
      'KillWait=10',
      'MinJobAge=600',
      `NodeName=${host} CPUs=${os.availableParallelism()} State=UNKNOWN`,
      // Oversubscribed: the tests' tasks are tiny and the machine is shared.
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8`,
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[], log: string) => {
    const out = fs.openSync(path.join(dir, log), 'a');
    const c = spawn(cmd, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    children.push(c);
    return c;
  };
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    start(
      'munged',
      ['--force', '-F', `--socket=${dir}/munge.sock`, '--key-file=/etc/munge/munge.key', `--log-file=${dir}/log/munged.log`, `--pid-file=${dir}/munged.pid`, `--seed-file=${dir}/munged.seed`],
      'munged.out',
    );
    await waitFor('munged', () => fs.existsSync(`${dir}/munge.sock`), 10_000, [`${dir}/munged.out`]);
    start('slurmctld', ['-D', '-f', conf], 'slurmctld.out');
    start('slurmd', ['-D', '-f', conf], 'slurmd.out');
    await waitFor(
      'slurmd',
      () => {
        try {
          const s = execFileSync('sinfo', ['-h', '-o', '%t'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 5000 });
          return /^(idle|mix|alloc)/m.test(s.trim());
        } catch {
          return false;
        }
      },
      30_000,
      [`${dir}/slurmctld.out`, `${dir}/log/slurmctld.log`, `${dir}/log/slurmd.log`],
    );
  } catch (e) {
    await stop();
    return `the test cluster did not start: ${(e as Error).message}`;
  }
  return { dir, env, stop };
}
