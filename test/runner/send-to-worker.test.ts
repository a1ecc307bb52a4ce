import { fork } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sendToWorker } from '../../src-main/runner/runner';

/**
 * A real child with an IPC channel that exits at once, as a worker does after its last
 * checkpoint (fork's module path is node's `-e`, so no file is needed).
 */
async function exitedChild() {
  const child = fork('-e', [''], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  await once(child, 'exit');
  return child;
}

describe('sendToWorker', () => {
  it('drops a message to a worker whose channel has closed instead of raising ERR_IPC_CHANNEL_CLOSED', async () => {
    const child = await exitedChild();
    const errors: Error[] = [];
    child.on('error', (e) => errors.push(e));
    expect(sendToWorker(child, { type: 'stop' })).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual([]);
    // What the runner did before: the same send raises the error the host crashed on.
    child.send({ type: 'stop' });
    await new Promise((r) => setTimeout(r, 20));
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ERR_IPC_CHANNEL_CLOSED']);
  });

  it('delivers to a live worker', async () => {
    const child = fork('-e', ['process.once("message", (m) => { process.send(m); process.disconnect(); })'], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const reply = once(child, 'message');
    expect(sendToWorker(child, { type: 'stop' })).toBe(true);
    expect((await reply)[0]).toEqual({ type: 'stop' });
    await once(child, 'exit');
  });
});
