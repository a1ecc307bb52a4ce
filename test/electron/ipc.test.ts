/**
 * The Electron IPC choke point, without Electron (ipc.ts takes ipcMain as a parameter):
 * senders we did not create are refused, only API_METHODS are callable, replies are envelopes.
 */
import { describe, expect, it } from 'vitest';
import type { WorkbenchApi } from '../../src-shared/api';
import { CALL_CHANNEL, dispatch, setupIpc } from '../../src-main/hosts/electron/ipc';
import { ApiError } from '../../src-main/service/api-errors';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function fakeIpc() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: (ch: string, fn: Handler) => void handlers.set(ch, fn),
    removeHandler: (ch: string) => void handlers.delete(ch),
  };
}

const api = {
  info: async () => ({ version: 'x' }),
  getRun: async (id: unknown) => {
    if (typeof id !== 'number') throw new ApiError({ kind: 'input', field: 'id', message: 'id: expected a positive integer id' });
    return null;
  },
  listRuns: async () => {
    throw new Error('disk on fire');
  },
} as unknown as WorkbenchApi;

describe('electron ipc', () => {
  it('registers one handler that refuses senders we did not create', async () => {
    const ipc = fakeIpc();
    const ours = { id: 1 };
    const remove = setupIpc(ipc as never, api, (sender) => sender === (ours as never));
    expect([...ipc.handlers.keys()]).toEqual([CALL_CHANNEL]);
    const h = ipc.handlers.get(CALL_CHANNEL)!;
    expect(await h({ sender: ours }, 'info', [])).toEqual({ result: { version: 'x' } });
    const refused = (await h({ sender: { id: 2 } }, 'info', [])) as { error: { message: string } };
    expect(refused.error.message).toMatch(/refused/);
    remove();
    expect(ipc.handlers.size).toBe(0);
  });

  it('only API methods, array args, errors as envelopes with kind and field', async () => {
    for (const m of ['subscribe', 'close', 'constructor', '__proto__', 42, null]) {
      expect(await dispatch(api, m, [])).toMatchObject({ error: { kind: 'not-found' } });
    }
    expect(await dispatch(api, 'info', 'x')).toMatchObject({ error: { kind: 'input', field: 'args' } });
    expect(await dispatch(api, 'getRun', ['x'])).toEqual({ error: { kind: 'input', field: 'id', message: 'id: expected a positive integer id' } });
    expect(await dispatch(api, 'getRun', [3])).toEqual({ result: null });
    expect(await dispatch(api, 'listRuns', [{}])).toEqual({ error: { kind: 'internal', message: 'disk on fire' } });
  });
});
