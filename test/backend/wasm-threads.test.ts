/**
 * CAIRN_WASM_THREADS: the threaded SIMD build starts in Node with the asked thread count, gives
 * the single-threaded build's bytes (XNNPACK kernels, and whole MAPPO/IPPO training rounds
 * against the golden fixtures recorded single-threaded), and its process ends by itself.
 * Each count runs in its own process (wasm-threads-child.ts): the count is fixed when the
 * wasm module starts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, wasmThreadsChoice } from '../../src-main/backend/wasm-threads';

const ROOT = path.join(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'wasm-threads-child.ts');

interface ChildOut {
  threads: number;
  hash: string;
  otherCpuShare: number | null;
  golden: Record<string, string>;
}

/** Run the child to its natural end (a hang fails on the timeout: the child never calls exit). */
function child(threads: string, golden: string[] = []): Promise<{ code: number | null; out: ChildOut | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: { ...process.env, CAIRN_WASM_THREADS: threads, GOLDEN: golden.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let parsed: ChildOut | null = null;
      try {
        parsed = JSON.parse(line) as ChildOut;
      } catch {
        /* reported through the expectations below, with stderr */
      }
      resolve({ code, out: parsed, err: err.slice(-2000) });
    });
  });
}

describe('CAIRN_WASM_THREADS', () => {
  it('parses auto and 1..8, and names the variable and the allowed values otherwise', () => {
    expect(wasmThreadsChoice('auto')).toBe(1);
    expect(wasmThreadsChoice('1')).toBe(1);
    expect(wasmThreadsChoice('2')).toBe(2);
    expect(wasmThreadsChoice(MAX_WASM_THREADS)).toBe(MAX_WASM_THREADS);
    for (const bad of ['0', '9', '1.5', 'two', '-1']) {
      expect(() => wasmThreadsChoice(bad)).toThrow(/CAIRN_WASM_THREADS: expected auto or an integer 1\.\.8, got/);
    }
  });

  it('2 threads: the pool starts, XNNPACK kernels and MAPPO/IPPO rounds give the single-threaded bytes, the process ends by itself', async () => {
    const [one, two] = await Promise.all([child('1'), child('2', ['mappo-history', 'ippo-history'])]);
    expect(one.code, one.err).toBe(0);
    expect(two.code, two.err).toBe(0);
    expect(one.out!.threads).toBe(1);
    expect(two.out!.threads).toBe(2);
    expect(two.out!.hash).toBe(one.out!.hash);
    expect(two.out!.golden).toEqual({ 'mappo-history': 'same', 'ippo-history': 'same' });
  }, 600_000);

  it('a bad value fails the backend start with the message', async () => {
    const r = await child('0');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('CAIRN_WASM_THREADS: expected auto or an integer 1..8, got "0"');
  }, 120_000);
});
