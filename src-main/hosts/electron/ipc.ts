/**
 * The Electron IPC choke point (Electron Fiddle's shape): one channel registry shared by the
 * main process and the preload, and one `ipcMain.handle` for every API call that
 *   1. ignores senders that are not a window this process created (and their sub-frames),
 *   2. accepts only method names in `API_METHODS`,
 *   3. answers with an envelope `{result}` / `{error: ApiErrorBody}` rather than throwing,
 *      because errors crossing contextBridge keep only their message.
 *
 * No runtime import of `electron` here: the preload imports the channel names from this file
 * and the main process hands in `ipcMain`, so the functions are testable under plain Node.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS, type ApiErrorBody, type ApiMethod, type WorkbenchApi } from '../../../src-shared/api';

/** Renderer -> main: `invoke(CALL_CHANNEL, method, args)`. */
export const CALL_CHANNEL = 'cairn:call';
/** Main -> renderer: `send(EVENT_CHANNEL, event | event[])`. */
export const EVENT_CHANNEL = 'cairn:event';

export type Reply = { result: unknown } | { error: ApiErrorBody };

const METHODS = new Set<string>(API_METHODS);

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && METHODS.has(m);
}

/** Error body of anything thrown by the workbench (which throws errors carrying `body`). */
export function replyError(err: unknown): { error: ApiErrorBody } {
  const body = (err as { body?: ApiErrorBody } | null)?.body;
  if (body && typeof body.message === 'string' && typeof body.kind === 'string') return { error: body };
  return { error: { kind: 'internal', message: err instanceof Error ? err.message : String(err) } };
}

/** Run one call: validated method, array args, envelope reply. */
export async function dispatch(api: WorkbenchApi, method: unknown, args: unknown): Promise<Reply> {
  if (!isApiMethod(method)) {
    return { error: { kind: 'not-found', message: `no API method ${JSON.stringify(method)}` } };
  }
  if (!Array.isArray(args)) return { error: { kind: 'input', field: 'args', message: 'args: expected an array' } };
  try {
    const fn = (api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    const result = await fn.apply(api, args);
    return { result: result === undefined ? null : result };
  } catch (err) {
    return replyError(err);
  }
}

/**
 * Register the one handler. `isOurs` decides whether a sender belongs to a window we created;
 * anything else (a webview, a window some page opened, a sub-frame of another origin) is
 * refused. Returns the function that removes the handler.
 */
export function setupIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: WorkbenchApi,
  isOurs: (sender: WebContents, event: IpcMainInvokeEvent) => boolean,
): () => void {
  ipcMain.removeHandler(CALL_CHANNEL);
  ipcMain.handle(CALL_CHANNEL, async (event: IpcMainInvokeEvent, method: unknown, args: unknown): Promise<Reply> => {
    if (!isOurs(event.sender, event)) {
      return { error: { kind: 'input', message: 'refused: this window may not call the Cairn API' } };
    }
    return dispatch(api, method, args);
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}
