/**
 * Measures training rounds from the outside, without touching the learners: wraps the env's
 * `step` (env time, lock-step steps, where the rollout ends), the engine's `runKernel` (kernel
 * calls and their time, by kernel name) and observes GC. One round's time is split into
 *   env        inside env.step / env.reset
 *   kernels    inside TensorFlow.js kernels (outermost calls only), by rollout / update phase
 *   js         the rest: the learners' CPU loops (GRU gates, sampling, returns), data staging,
 *              tensor creation and read-backs
 *   gc         garbage-collection pauses (also inside whichever of the above they interrupt)
 * The rollout phase is the round's start up to the end of its last env.step; the update is the
 * rest. Timing each kernel call costs ~1 us, so the probe is on only where asked (profiles);
 * counting alone is what the side-by-side bench uses.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import type { VecEnv } from '../../src-shared/envs/types';

export interface PhaseTimes {
  rollout: number;
  update: number;
}

export interface RoundProfile {
  rounds: number;
  /** Milliseconds per round. */
  roundMs: number;
  envMs: number;
  kernelMs: PhaseTimes;
  jsMs: PhaseTimes;
  gcMs: number;
  /** Kernel calls per round, by phase. */
  calls: PhaseTimes;
  /** Milliseconds per round by kernel name, largest first. */
  byKernel: [string, number, number][];
  /** Lock-step env steps per round and env steps (live copies) per round. */
  lockSteps: number;
  envSteps: number;
}

type RunKernel = (name: string, inputs: unknown, attrs?: unknown) => unknown;

/** Wraps an env and the engine for the lifetime of one probe; `restore()` undoes it. */
export class RoundProbe {
  private readonly engine = tf.engine() as unknown as { runKernel: RunKernel };
  private readonly origRunKernel: RunKernel;
  private readonly origStep: VecEnv['step'];
  private depth = 0;
  // Counters of the current round, and their values at the end of its latest env.step.
  private callCount = 0;
  private kernelMs = 0;
  private envMs = 0;
  private stepCalls = 0;
  private mark = { calls: 0, kernelMs: 0, at: 0 };
  private readonly byKernel = new Map<string, [number, number]>();
  private gcEntries: { start: number; duration: number }[] = [];
  private window = { start: -1, end: -1 };
  private readonly observer: PerformanceObserver;
  // Totals over the rounds measured since the last reset.
  private tot = { rounds: 0, round: 0, env: 0, kr: 0, ku: 0, rollout: 0, cr: 0, cu: 0, gc: 0, lock: 0, envSteps: 0 };

  constructor(
    private readonly env: VecEnv,
    private readonly timed: boolean,
  ) {
    this.origRunKernel = this.engine.runKernel;
    const orig = this.origRunKernel;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const probe = this;
    this.engine.runKernel = function (this: unknown, name: string, inputs: unknown, attrs?: unknown) {
      if (probe.depth > 0) return orig.call(this, name, inputs, attrs);
      probe.callCount++;
      if (!probe.timed) return orig.call(this, name, inputs, attrs);
      probe.depth++;
      const t0 = performance.now();
      try {
        return orig.call(this, name, inputs, attrs);
      } finally {
        const dt = performance.now() - t0;
        probe.depth--;
        probe.kernelMs += dt;
        const k = probe.byKernel.get(name) ?? [0, 0];
        k[0] += dt;
        k[1]++;
        probe.byKernel.set(name, k);
      }
    };
    this.origStep = env.step;
    const step = env.step.bind(env);
    env.step = (actions: Int32Array) => {
      const t0 = performance.now();
      const out = step(actions);
      const t1 = performance.now();
      this.envMs += t1 - t0;
      this.stepCalls++;
      this.mark = { calls: this.callCount, kernelMs: this.kernelMs, at: t1 };
      return out;
    };
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcEntries.push({ start: e.startTime, duration: e.duration });
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /**
   * Runs one round under the probe and returns its env steps. The rollout phase ends with the
   * round's last env.step; kernels after it (final bootstrap values, the update) are the update's.
   */
  async round(run: () => Promise<{ envSteps: number }>): Promise<number> {
    this.callCount = 0;
    this.kernelMs = 0;
    this.envMs = 0;
    this.stepCalls = 0;
    const start = performance.now();
    this.mark = { calls: 0, kernelMs: 0, at: start };
    const res = await run();
    const end = performance.now();
    const t = this.tot;
    t.rounds++;
    t.round += end - start;
    t.env += this.envMs;
    t.kr += this.mark.kernelMs;
    t.ku += this.kernelMs - this.mark.kernelMs;
    t.rollout += this.mark.at - start;
    t.cr += this.mark.calls;
    t.cu += this.callCount - this.mark.calls;
    t.lock += this.stepCalls;
    t.envSteps += res.envSteps;
    if (this.window.start < 0) this.window.start = start;
    this.window.end = end;
    return res.envSteps;
  }

  /** GC entries reach observers on a later timer tick: call before `summary()`. */
  async flushGc(): Promise<void> {
    await new Promise((r) => setTimeout(r, 30));
    this.tot.gc = 0;
    for (const e of this.gcEntries) if (e.start >= this.window.start && e.start < this.window.end) this.tot.gc += e.duration;
  }

  /** Per-round averages over the rounds measured since the last reset. */
  summary(): RoundProfile {
    const t = this.tot;
    const n = Math.max(1, t.rounds);
    const rolloutMs = t.rollout / n;
    const roundMs = t.round / n;
    const envMs = t.env / n;
    const kernelMs = { rollout: t.kr / n, update: t.ku / n };
    return {
      rounds: t.rounds,
      roundMs,
      envMs,
      kernelMs,
      jsMs: { rollout: rolloutMs - envMs - kernelMs.rollout, update: roundMs - rolloutMs - kernelMs.update },
      gcMs: t.gc / n,
      calls: { rollout: t.cr / n, update: t.cu / n },
      byKernel: [...this.byKernel.entries()].map(([k, [ms, c]]): [string, number, number] => [k, ms / n, c / n]).sort((a, b) => b[1] - a[1]),
      lockSteps: t.lock / n,
      envSteps: t.envSteps / n,
    };
  }

  reset(): void {
    this.tot = { rounds: 0, round: 0, env: 0, kr: 0, ku: 0, rollout: 0, cr: 0, cu: 0, gc: 0, lock: 0, envSteps: 0 };
    this.byKernel.clear();
    this.gcEntries = [];
    this.window = { start: -1, end: -1 };
  }

  restore(): void {
    this.engine.runKernel = this.origRunKernel;
    this.env.step = this.origStep;
    this.observer.disconnect();
  }
}
