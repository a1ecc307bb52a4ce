/**
 * Preload of the Cairn window (sandboxed, context-isolated): exposes exactly two verbs to the
 * page as `window.cairn`, never `ipcRenderer` itself.
 *   call(method, args) -> Promise<{result} | {error}>   (the main process validates again)
 *   onEvent(fn)        -> unsubscribe function; fn receives each WorkbenchEvent
 * Built as CommonJS: sandboxed preloads cannot be ES modules.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL, isApiMethod } from './ipc';

const bridge = {
  call(method: string, args: unknown[]): Promise<unknown> {
    if (!isApiMethod(method)) {
      return Promise.resolve({ error: { kind: 'not-found', message: `no API method ${JSON.stringify(method)}` } });
    }
    return ipcRenderer.invoke(CALL_CHANNEL, method, Array.isArray(args) ? args : []);
  },
  onEvent(fn: (event: unknown) => void): () => void {
    if (typeof fn !== 'function') throw new TypeError('onEvent: expected a function');
    const listener = (_e: IpcRendererEvent, payload: unknown) => {
      // The main process may batch several events into one message.
      if (Array.isArray(payload)) for (const ev of payload) fn(ev);
      else fn(payload);
    };
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
};

contextBridge.exposeInMainWorld('cairn', bridge);
