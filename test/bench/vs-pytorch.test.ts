/**
 * The side-by-side bench: a missing PyTorch is reported, never a failure; the round probe
 * splits kernel calls at the last env step and leaves the engine as it found it; where PyTorch
 * is installed, every PyTorch twin runs one short round.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getEnv } from '../../src-shared/registry';
import { resolve } from '../../src-shared/config/schema';
import { RoundProbe } from '../../src-main/bench/round-probe';
import { VS_ROWS, findTorch, hostLine, probeTorch } from '../../src-main/bench/vs-pytorch';
import { ROOT, cli, tmpDir } from '../helpers/cli';
import { setupTf, tf } from '../nn/tf-setup';

/** A "python" that exists but has no torch, as on a machine without python3-torch. */
function pythonWithoutTorch(): string {
  const file = path.join(tmpDir('cairn-vs-'), 'python');
  fs.writeFileSync(file, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n", { mode: 0o755 });
  return file;
}

describe('PyTorch detection', () => {
  it('names a python that cannot start', async () => {
    const s = await probeTorch('/nonexistent/python3');
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.reason).toMatch(/\/nonexistent\/python3 could not be started \(ENOENT\)/);
  });

  it('names a python without torch, with its error', async () => {
    const py = pythonWithoutTorch();
    const s = await probeTorch(py);
    expect(s).toEqual({ ok: false, python: py, reason: `${py} cannot import torch (ModuleNotFoundError: No module named 'torch')` });
  });

  it('the CLI says PyTorch is missing and still times Cairn', async () => {
    const py = pythonWithoutTorch();
    const r = await cli(['bench', '--vs-pytorch', '--learners', 'pg', '--reps', '1', '--seconds', '0', '--python', py, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('PyTorch missing');
    expect(r.stdout).toContain("PyTorch missing:");
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(report.torch.ok).toBe(false);
    expect(report.results).toHaveLength(1);
    const pg = report.results[0];
    expect(pg.label).toBe('pg');
    expect(pg.torch).toEqual([]);
    expect(pg.cpuRatios).toEqual([]);
    expect(pg.cairn[0]).toBeGreaterThan(0);
    expect(pg.callsPerRound).toBeGreaterThan(0);
    expect(pg.lockSteps).toBeGreaterThan(0);
    // The host line: Cairn's own GEMM speed, and no PyTorch figure without PyTorch.
    expect(report.host.cairnGflops).toBeGreaterThan(0);
    expect(typeof report.host.avx512).toBe('boolean');
    expect(r.stdout).toMatch(/\nhost: .+, AVX-512 (yes|no); float32 \[4800, 64\] x \[64, 192\] on one thread: Cairn \(wasm\) \d+ GFLOP\/s\n/);
  });

  it('times the second-order PG rows against PG, with the correction steps they covered', async () => {
    const py = pythonWithoutTorch();
    const r = await cli(['bench', '--vs-pytorch', '--learners', 'pg,pg-self-correction', '--reps', '1', '--seconds', '0', '--python', py, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const sc = report.results.find((x: { label: string }) => x.label === 'pg-self-correction');
    expect(sc.correctionSteps).toHaveLength(1);
    expect(sc.correctionSteps[0]).toBeGreaterThanOrEqual(0);
    expect(sc.cpuMsPerStep[0]).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/pg-self-correction +\S+ +- +- +[\d.]+x PG \([\d.]+; cpu [\d.]+x; \d+ corr\. steps\) +(met|below) <=2x/);
    // The -2t rows differ from their one-thread rows only in updateThreads.
    expect(VS_ROWS.filter((x) => x.label.endsWith('-2t')).map((x) => x.label)).toEqual(['pg-2t', 'ippo-2t', 'mappo-2t', 'coma-2t']);
    for (const row of VS_ROWS.filter((x) => x.label.endsWith('-2t'))) {
      expect(row.algo, row.label).toEqual({ updateThreads: 2 });
      const base = VS_ROWS.find((x) => x.label === row.label.replace(/-2t$/, ''));
      expect([base?.preset, base?.torchAlgo], row.label).toEqual([row.preset, row.torchAlgo]);
    }
    // The one-pass rows differ from their split rows only in actorHelperShare 0.
    const onePass = VS_ROWS.filter((x) => x.label.endsWith('-one-pass'));
    expect(onePass.map((x) => x.label)).toContain('coma-2t-one-pass');
    for (const row of onePass) {
      const base = VS_ROWS.find((x) => x.label === row.label.replace(/-one-pass$/, ''));
      expect(row.algo, row.label).toEqual({ ...base?.algo, actorHelperShare: 0 });
      expect([base?.preset, base?.torchAlgo], row.label).toEqual([row.preset, row.torchAlgo]);
    }
    // The reference rows differ from their R-pass rows only in hvpMethod.
    for (const row of VS_ROWS.filter((x) => x.label.endsWith('-taped'))) {
      expect(row.algo, row.label).toEqual({ hvpMethod: 'taped' });
      expect(VS_ROWS.find((x) => x.label === row.label.replace(/-taped$/, ''))?.preset, row.label).toBe(row.preset);
    }
  });

  it('refuses an unknown learner in one line, exit 2', async () => {
    const r = await cli(['bench', '--vs-pytorch', '--learners', 'pg,nope']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--learners: expected some of pg, coma, .* got "nope"/);
  });
});

describe('RoundProbe', () => {
  beforeAll(setupTf);

  it('counts kernel calls per phase and restores the engine and env', async () => {
    const entry = getEnv('manitokan')!;
    const env = entry.create(resolve('env', entry.schema, {}), { numEnvs: 2, autoReset: false });
    env.reset(1);
    const runKernel = (tf.engine() as unknown as { runKernel: unknown }).runKernel;
    const step = env.step;
    const probe = new RoundProbe(env, true);
    const actions = new Int32Array(2 * env.spec.numAgents);
    const a = tf.tensor1d([1, 2, 3]);
    await probe.round(async () => {
      tf.add(a, a).dispose(); // rollout
      env.step(actions);
      tf.mul(a, a).dispose(); // rollout
      env.step(actions);
      tf.sub(a, a).dispose(); // after the last step: update
      tf.sum(a).dispose();
      return { envSteps: 4 };
    });
    await probe.flushGc();
    const p = probe.summary();
    probe.restore();
    a.dispose();
    expect(p.calls).toEqual({ rollout: 2, update: 2 });
    expect(p.lockSteps).toBe(2);
    expect(p.envSteps).toBe(4);
    expect(p.byKernel.map((k) => k[0]).sort()).toEqual(['Add', 'Multiply', 'Sub', 'Sum']);
    expect(p.envMs).toBeGreaterThan(0);
    expect((tf.engine() as unknown as { runKernel: unknown }).runKernel).toBe(runKernel);
    expect(env.step).toBe(step);
  });
});

describe('PyTorch twins', async () => {
  const torch = await findTorch(undefined);
  // Only where python3-torch is installed (the bench itself reports its absence, tested above).
  // Unique: the -2t rows (updateThreads 2) share their one-thread row's twin.
  const algos = [...new Set(VS_ROWS.filter((r) => r.torchAlgo).map((r) => r.torchAlgo!))];
  it.skipIf(!torch.ok)("the probe times PyTorch's GEMM on one thread and names OpenBLAS's kernels", () => {
    expect(torch.ok && torch.gemm?.gflops).toBeGreaterThan(0);
    const line = hostLine({ torch, backend: 'wasm', host: { cpu: 'X', avx512: true, cairnGflops: 10 } });
    const g = torch.ok ? torch.gemm! : null;
    expect(line).toContain(`Cairn (wasm) 10 GFLOP/s, PyTorch ${g!.gflops.toFixed(0)} GFLOP/s`);
    expect(line).toContain(`: ${(g!.gflops / 10).toFixed(1)}x Cairn's`);
    // Debian's torch links OpenBLAS, which names its kernel set under OPENBLAS_VERBOSE=2.
    if (g!.blasCore) expect(line).toContain(`(OpenBLAS ${g!.blasCore} kernels)`);
  });

  it.skipIf(!torch.ok)(`${algos.join(', ')} each run a round and report env-steps/s`, () => {
    // One interpreter for all (importing torch is most of the time).
    const r = spawnSync(torch.python, [path.join(ROOT, 'bench/torch_learners.py'), `--algo=${algos.join(',')}`, '--envs=4', '--steps=20', '--seconds=0'], {
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.algo)).toEqual(algos);
    for (const l of lines) {
      expect(l.rounds).toBe(1);
      expect(l.env_steps_per_s).toBeGreaterThan(0);
    }
  });
});
