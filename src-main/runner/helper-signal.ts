/**
 * "The helper's part of update `seq` is in the shared buffer": a signal a trainer can wait on
 * synchronously, in the middle of a taped forward, where a message cannot arrive. COMA's critic
 * thread (coma-critic-thread.ts) waits on its Q through it, PG's (pg-critic-thread.ts) on its V.
 *
 * The helper writes its data, then the update's sequence number, and notifies; on an error it
 * writes the message's first line and a failure flag first, so the waiting trainer fails with
 * that message instead of waiting for an answer that cannot come. Atomics.wait is allowed on a
 * Node main thread and in workers.
 */
import type { HelperThread } from './helper-thread';

/** The control words and the failure message's bytes, shared between host and helper. */
export interface SignalShared {
  sync: SharedArrayBuffer; //  int32 [WORDS]: SEQ, FAILED, ERROR_LEN
  error: SharedArrayBuffer; // utf-8 bytes of the failure's first line
}
const SEQ = 0;
const FAILED = 1;
const ERROR_LEN = 2;
const WORDS = 4;
const ERROR_BYTES = 1024;

/**
 * How long a wait lasts before giving up. It only runs out if the helper died without a word
 * (an error sets the failure flag, an exit fails the HelperThread): a forward takes milliseconds.
 */
const DEADLINE_MS = 600_000;

export function signalShared(): SignalShared {
  return { sync: new SharedArrayBuffer(WORDS * 4), error: new SharedArrayBuffer(ERROR_BYTES) };
}

/** The host's end: waits for update `seq`'s data. */
export class SignalWaiter {
  private readonly sync: Int32Array;
  private readonly error: Uint8Array;

  constructor(
    private readonly label: string,
    shared: SignalShared,
    private readonly helper: HelperThread,
  ) {
    this.sync = new Int32Array(shared.sync);
    this.error = new Uint8Array(shared.error);
  }

  /** Update `seq`'s data is in (does not wait). */
  ready(seq: number): boolean {
    return Atomics.load(this.sync, SEQ) === seq;
  }

  /** Blocks until update `seq`'s data is in; throws "<label> failed: ..." if the helper failed. */
  wait(seq: number): void {
    const t0 = Date.now();
    for (;;) {
      const f = this.helper.failure;
      if (f) throw f;
      if (Atomics.load(this.sync, FAILED) !== 0) {
        const len = Atomics.load(this.sync, ERROR_LEN);
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        throw new Error(`${this.label} failed: ${new TextDecoder().decode(this.error.slice(0, len))}`);
      }
      const at = Atomics.load(this.sync, SEQ);
      if (at === seq) return;
      if (Date.now() - t0 > DEADLINE_MS) throw new Error(`${this.label}: no answer from the helper after ${DEADLINE_MS / 1000} s`);
      Atomics.wait(this.sync, SEQ, at, 1000);
    }
  }
}

/** The helper's end: update `seq`'s data is written. */
export function signalDone(shared: SignalShared, seq: number): void {
  const sync = new Int32Array(shared.sync);
  Atomics.store(sync, SEQ, seq);
  Atomics.notify(sync, SEQ);
}

/** The helper's end: it failed with `e` (its first line reaches the waiting host). */
export function signalFailed(shared: SignalShared, e: unknown): void {
  const sync = new Int32Array(shared.sync);
  const text = String((e as Error)?.message ?? e).split('\n')[0];
  const bytes = new TextEncoder().encode(text).subarray(0, ERROR_BYTES);
  new Uint8Array(shared.error).set(bytes);
  Atomics.store(sync, ERROR_LEN, bytes.length);
  Atomics.store(sync, FAILED, 1);
  Atomics.notify(sync, SEQ);
}
