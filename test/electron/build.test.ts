/**
 * The desktop app builds: electron-vite bundles main (+ the run worker), preload and renderer.
 * The built worker is checked for real by training a tiny run with it. Where an Electron
 * binary is installed, the app is started under Xvfb and must open its window.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { launch } from '../../src-main/service/launch';
import { ReportThread } from '../../src-main/report/report-thread';
import type { RunRow } from '../../src-main/db/types';
import { tmpDir } from '../helpers/cli';

const ROOT = path.resolve(__dirname, '../..');
// Inside the project so the bundles resolve node_modules like the real out/ does.
const OUT = path.join(ROOT, 'out', `.test-build-${process.pid}`);
const dbDir = tmpDir('cairn-electron-');

/** The installed Electron binary, without requiring `electron` (that would start a download). */
function electronBinary(): string | null {
  const pkg = path.join(ROOT, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const exe = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkg, 'dist'), fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(exe) ? exe : null;
}

let build: { status: number | null; stderr: string; stdout: string };

beforeAll(() => {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', OUT], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  build = { status: res.status, stderr: res.stderr ?? '', stdout: res.stdout ?? '' };
}, 320_000);

afterAll(() => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.rmSync(dbDir, { recursive: true, force: true });
});

describe('electron build', () => {
  it('builds main, worker, preload and renderer', () => {
    if (build.status !== 0) throw new Error(`electron-vite build failed:\n${build.stderr.slice(-3000)}\n${build.stdout.slice(-2000)}`);
    for (const f of ['main/index.js', 'main/worker.js', 'main/report-worker.js', 'main/ppo-critic-worker.js', 'main/coma-critic-worker.js', 'main/pg-critic-worker.js', 'preload/index.cjs', 'renderer/index.html']) {
      expect(fs.existsSync(path.join(OUT, f)), f).toBe(true);
    }
    const main = fs.readFileSync(path.join(OUT, 'main/index.js'), 'utf8');
    expect(main).toMatch(/from ["']electron["']/);
    expect(main).toMatch(/from ["']sqlite3["']/); // native addon stays external
    expect(main).toContain('cairn:call');
    const preload = fs.readFileSync(path.join(OUT, 'preload/index.cjs'), 'utf8');
    expect(preload).toMatch(/require\(["']electron["']\)/); // CommonJS: sandboxed preloads cannot be ESM
    expect(preload).not.toMatch(/^import /m);
    expect(preload).toContain('exposeInMainWorld');
    expect(preload).not.toMatch(/sqlite3|node:fs/);
    const html = fs.readFileSync(path.join(OUT, 'renderer/index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="\/(?!\/)/); // relative asset URLs: they load from cairn://app/ and file://
  });

  it('the built worker trains a tiny run (what the packaged app forks)', async () => {
    expect(build.status).toBe(0);
    const store = await Store.open(path.join(dbDir, 'built.db'));
    const runner = new Runner({ store, maxParallel: 1, backend: 'wasm', workerFile: path.join(OUT, 'main/worker.js') });
    const { runs } = await launch(store, runner, { preset: 'manitokan-random', overrides: { train: { episodes: 5, numEnvs: 2 } }, seeds: [1] });
    const t0 = Date.now();
    while (['queued', 'running'].includes((await store.getRun(runs[0].id))!.status) && Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    runner.close();
    const run = (await store.getRun(runs[0].id))!;
    await store.close();
    expect(run.error).toBeNull();
    expect(run.status).toBe('done');
    expect(run.episodesDone).toBe(5);
  });

  it('the built report worker computes a comparison (what the packaged app runs reports in)', async () => {
    expect(build.status).toBe(0);
    const thread = new ReportThread({ workerFile: path.join(OUT, 'main/report-worker.js') });
    try {
      const run = { id: 1, experimentId: null, name: 'r', variant: null, config: {} } as unknown as RunRow;
      const res = await thread.run('compare', {
        raw: [{ run, x: Float64Array.of(0, 1, 2), y: Float64Array.of(1, 2, 3) }],
        names: [],
        req: { key: 'k', x: 'episode', groupBy: 'run', maxPoints: 10, smoothing: 0 },
      });
      expect(res.groups[0].mean).toEqual([1, 2, 3]);
    } finally {
      await thread.close();
    }
  });

  const electron = electronBinary();
  const xvfb = fs.existsSync('/usr/bin/Xvfb');
  const canRun = electron !== null && (xvfb || !!process.env.DISPLAY);
  (canRun ? it : it.skip)(
    canRun
      ? 'starts the app under Xvfb and opens its window'
      : `skipped: ${electron ? 'no Xvfb or DISPLAY to show a window on' : 'the Electron binary is not installed (node node_modules/electron/install.js fetches it where the network allows)'}`,
    async () => {
      let xvfbProc: ChildProcess | undefined;
      let display = process.env.DISPLAY;
      if (xvfb) {
        display = `:${90 + (process.pid % 9)}`;
        xvfbProc = spawn('/usr/bin/Xvfb', [display, '-screen', '0', '1400x900x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 1000));
      }
      const { _electron } = await import('playwright-core');
      const args = [path.join(OUT, 'main/index.js'), `--db=${path.join(dbDir, 'app.db')}`];
      if (process.getuid?.() === 0) args.push('--no-sandbox');
      const app = await _electron.launch({ executablePath: electron!, args, env: { ...process.env, DISPLAY: display ?? '' } as Record<string, string> });
      try {
        const win = await app.firstWindow();
        await win.waitForLoadState('domcontentloaded');
        expect(win.url()).toMatch(/^cairn:\/\/app\//);
        // String expressions: this file type-checks without the DOM library.
        expect(await win.evaluate('typeof window.cairn')).toBe('object');
        expect(await win.evaluate('typeof window.require')).toBe('undefined');
        const info = await win.evaluate("window.cairn.call('info', [])");
        expect(info).toMatchObject({ result: { host: 'electron' } });
      } finally {
        await app.close();
        xvfbProc?.kill();
      }
    },
    120_000,
  );
});
