/**
 * The desktop app's way to load a researcher's env module: the native open dialog, whose
 * answer only the user gives, then the same loading as `--env-module`
 * (`service/env-module.ts`, through the workbench's `openEnvModule`). A page cannot name the
 * file: the method takes no arguments, and the HTTP host refuses it outright.
 *
 * No runtime import of `electron`: main.ts hands in `dialog`, so tests stand in for it.
 */
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron';

export const ENV_MODULE_DIALOG: OpenDialogOptions = {
  title: 'Open an env module',
  buttonLabel: 'Load env',
  properties: ['openFile'],
  filters: [
    { name: 'Env modules (TypeScript, JavaScript)', extensions: ['ts', 'mts', 'js', 'mjs'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

/** The chooser the workbench calls: the chosen file's path, or null when the user cancels. */
export function envModuleChooser(dialog: Pick<Dialog, 'showOpenDialog'>, parent: () => BrowserWindow | undefined): () => Promise<string | null> {
  return async () => {
    const win = parent();
    const res = win ? await dialog.showOpenDialog(win, ENV_MODULE_DIALOG) : await dialog.showOpenDialog(ENV_MODULE_DIALOG);
    if (res.canceled || res.filePaths.length === 0) return null;
    return res.filePaths[0];
  };
}
