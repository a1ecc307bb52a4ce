/**
 * Issue 7, item 6: the desktop app loads a researcher's env module through the native file
 * dialog. The Electron binary is absent here, so the main-side path is tested with the dialog
 * as the mocked boundary: the IPC dispatch of `openEnvModule` on a real workbench (SQLite
 * file, runner), the real module loader on the worked example, and the config a launch
 * would record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src-main/db/store';
import { ENV_MODULE_DIALOG, envModuleChooser } from '../../src-main/hosts/electron/env-module-dialog';
import { dispatch } from '../../src-main/hosts/electron/ipc';
import { Runner } from '../../src-main/runner/runner';
import { buildConfig } from '../../src-main/service/launch';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { getEnv } from '../../src-shared/registry';
import { ROOT, tmpDir } from '../helpers/cli';

const EXAMPLE = path.join(ROOT, 'docs', 'examples', 'coin-guess-env.ts');
const dir = tmpDir('cairn-env-dialog-');
let wb: Workbench;
/** What the user answers in the dialog next. */
let answer: { canceled: boolean; filePaths: string[] } = { canceled: true, filePaths: [] };
const dialog = { showOpenDialog: vi.fn(async (..._a: unknown[]) => answer) };
const win = { id: 7 };
let parent: typeof win | undefined;

beforeAll(async () => {
  const store = await Store.open(path.join(dir, 'app.db'));
  wb = createWorkbench({
    store,
    runner: new Runner({ store, maxParallel: 1, backend: 'wasm' }),
    host: 'electron',
    backend: 'wasm',
    version: '0.0.0-test',
    chooseEnvModule: envModuleChooser(dialog as never, () => parent as never),
  });
});

afterAll(async () => {
  await wb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('openEnvModule over IPC (dialog mocked)', () => {
  it('the host says it offers the dialog', async () => {
    expect((await dispatch(wb, 'info', [])) as { result: { capabilities: string[] } }).toMatchObject({ result: { capabilities: ['openEnvModule'] } });
  });

  it('a cancelled dialog loads nothing', async () => {
    answer = { canceled: true, filePaths: [] };
    expect(await dispatch(wb, 'openEnvModule', [])).toEqual({ result: null });
    expect(dialog.showOpenDialog).toHaveBeenCalledWith(ENV_MODULE_DIALOG);
    expect(ENV_MODULE_DIALOG.properties).toEqual(['openFile']);
    expect(getEnv('coin-guess')).toBeUndefined();
  });

  it('takes no path from the page: any argument is refused before the dialog opens', async () => {
    dialog.showOpenDialog.mockClear();
    const r = (await dispatch(wb, 'openEnvModule', [EXAMPLE])) as { error: { kind: string; field: string; message: string } };
    expect(r.error).toMatchObject({ kind: 'input', field: 'args' });
    expect(dialog.showOpenDialog).not.toHaveBeenCalled();
    expect(getEnv('coin-guess')).toBeUndefined();
  });

  it('a file that is not an env module is refused with the file named', async () => {
    const notEnv = path.join(dir, 'not-env.ts');
    fs.writeFileSync(notEnv, 'export const answer = 42;\n');
    answer = { canceled: false, filePaths: [notEnv] };
    const r = (await dispatch(wb, 'openEnvModule', [])) as { error: { kind: string; field: string; message: string } };
    expect(r.error).toMatchObject({ kind: 'input', field: 'file' });
    expect(r.error.message).toMatch(/^file: .*not-env\.ts exports no single env entry/);
  });

  it('the chosen module is loaded like --env-module: listed, launchable, its path recorded', async () => {
    parent = win;
    answer = { canceled: false, filePaths: [EXAMPLE] };
    const r = (await dispatch(wb, 'openEnvModule', [])) as { result: { envId: string; title: string; path: string } };
    expect(r.result).toEqual({ envId: 'coin-guess', title: getEnv('coin-guess')!.title, path: EXAMPLE });
    // The dialog is modal to the app's window.
    expect(dialog.showOpenDialog).toHaveBeenLastCalledWith(win, ENV_MODULE_DIALOG);
    const schemas = await wb.getSchemas();
    expect(schemas.envs.map((e) => e.id)).toContain('coin-guess');
    const resolved = await wb.resolveConfig({ overrides: { env: { id: 'coin-guess' }, algo: { id: 'random' } } });
    // Regression: learners listed only the built-in envs, so every learner was refused for a module's env.
    expect(resolved).toMatchObject({ ok: true });
    expect(schemas.algos.find((a) => a.id === 'pg')!.envs).toContain('coin-guess');
    // What launch records: the page sent only the env id; the module's path comes from this process.
    expect(buildConfig({ overrides: { env: { id: 'coin-guess' }, algo: { id: 'random' } } }).envModule).toBe(EXAMPLE);
  });
});
