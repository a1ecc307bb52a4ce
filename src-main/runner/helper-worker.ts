/**
 * The worker side every learner's helper thread shares (the host side is helper-thread.ts):
 * its own tfjs instance on the run's backend, single-threaded (the point is one more core, not
 * a pool inside it); the queued messages handled in order, `memory` answered here for every
 * helper (bench --rss); any error reported, after `onError` (e.g. the shared failure flag a
 * waiting trainer reads), and the thread ended, so the run fails.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../backend/select';
import { helperMemory } from './helper-thread';

/**
 * Start the backend, then `setup` (the learner's replicas and buffers) and serve its handler.
 * Messages other than `memory` go to the handler; `{ kind: 'ready' }` is posted once it is set.
 */
export function serveHelper<M extends { kind: string }>(backend: BackendChoice, setup: () => (msg: M) => void, onError: (e: unknown) => void = () => {}): void {
  const port = parentPort!;
  const failed = (e: unknown): void => {
    onError(e);
    port.postMessage({ kind: 'error', message: (e as Error)?.stack ?? String(e) });
  };
  const main = async (): Promise<void> => {
    process.env.CAIRN_WASM_THREADS = '1';
    const info = await initBackend(backend);
    if (info.name !== backend) throw new Error(`backend ${backend} asked, ${info.name} started`);
    const handle = setup();
    port.on('message', (msg: M) => {
      try {
        if (msg.kind === 'memory') port.postMessage({ kind: 'memory', id: (msg as { id?: number }).id, ...helperMemory(tf.memory().numTensors) });
        else handle(msg);
      } catch (e) {
        failed(e);
        port.close();
        process.exit(1);
      }
    });
    port.postMessage({ kind: 'ready' });
  };
  main().catch((e) => {
    failed(e);
    process.exit(1);
  });
}
