/**
 * `algo.updateThreads: 'auto'`: whether a PPO run's critic steps get a helper thread, decided
 * by the host that runs it (runner.ts) and sent to the worker as a runtime hint
 * (src-shared/algos/ppo-threads-hint.ts), never written into the run's config.
 *
 * Why these inputs. A helper pays only on a core nobody else wants: one MAPPO run went 1.6x
 * faster with it on an idle 2-core machine, and ~15% slower when the machine's cores were
 * already full (docs/performance.md, "MAPPO and IPPO on two threads"). A run keeps one core
 * busy, its helper most of another. So the host counts
 * - the cores (os.availableParallelism),
 * - its own runs: the ones it runs at once (live plus queued ones about to start, capped by
 *   its concurrency), each taking a core, and the helpers it has already granted,
 * - everything else on the machine, from the 1-minute load average minus what its own runs
 *   account for (other programs, another Cairn process, other users). The average follows a
 *   new process with a one-minute time constant, so a run started t seconds ago is counted as
 *   1 - exp(-t / 60) of a busy thread (`ownLoadOf`), not as a whole one: otherwise a load of 1
 *   from someone else, seen as a run starts, would pass for the run itself. Where the OS has
 *   no load average (Windows reports 0) it is left out.
 * A run gets a helper when at least 3/4 of a core is spare after all that, and keeps it while
 * 0.4 is. The actor's and the critic's sides of the update are of similar size, so a helper
 * on a core it gets a share x of takes max(A, C / x) against A + C on one thread: it pays down
 * to x of about 0.5; the margin above that covers the load average's wander (a few tenths), and
 * the gap between on and off keeps a helper from being started and stopped every decision.
 */

export interface UpdateThreadsInput {
  /** Cores of the machine (os.availableParallelism()). */
  cores: number;
  /** This host's runs training at once, this one included (each keeps a core busy). */
  liveRuns: number;
  /** Helper threads this host's other runs have (granted or asked for with updateThreads 2). */
  otherHelpers: number;
  /** 1-minute load average; undefined where the OS gives none. */
  load?: number;
  /** What this host's runs and helpers account for in `load` (ownLoadOf); default: each a whole thread. */
  ownLoad?: number;
  /** The run's present choice (a new run: 1). */
  current: 1 | 2;
}

export interface UpdateThreadsChoice {
  threads: 1 | 2;
  /** Cores left after this host's runs, its other helpers and the load from elsewhere. */
  spare: number;
  /** For the run's log: the inputs and the reading. */
  why: string;
}

/** Spare cores at which a run takes a helper, and down to which it keeps one. */
export const TAKE_AT = 0.75;
export const KEEP_AT = 0.4;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export function decideUpdateThreads(i: UpdateThreadsInput): UpdateThreadsChoice {
  const own = i.ownLoad ?? i.liveRuns + i.otherHelpers + (i.current === 2 ? 1 : 0);
  const elsewhere = i.load === undefined ? 0 : Math.max(0, i.load - own);
  const spare = i.cores - i.liveRuns - i.otherHelpers - elsewhere;
  const threads = spare >= (i.current === 2 ? KEEP_AT : TAKE_AT) ? 2 : 1;
  const load = i.load === undefined ? 'no load average' : `load ${i.load.toFixed(1)}, ${elsewhere.toFixed(1)} of it from other processes`;
  const helpers = i.otherHelpers > 0 ? `, ${plural(i.otherHelpers, 'helper')} of other runs` : '';
  const why = `auto: ${plural(i.cores, 'core')}, ${plural(i.liveRuns, 'run')} here${helpers}, ${load}: ${spare.toFixed(1)} spare`;
  return { threads, spare, why };
}

/**
 * This host's share of the 1-minute load average: each busy thread (a run's worker, a helper)
 * started `ageS` seconds ago, as Linux's average has taken it in so far (time constant 60 s).
 */
export function ownLoadOf(threadAgesS: readonly number[]): number {
  let s = 0;
  for (const t of threadAgesS) s += 1 - Math.exp(-Math.max(0, t) / 60);
  return s;
}

/** The log line a run gets when its choice is made or changes. */
export function threadsLogLine(threads: 1 | 2, why: string): string {
  return `critic on a helper thread: ${threads === 2 ? 'yes' : 'no'} (${why})`;
}

/** os.loadavg()'s first figure, or undefined where the OS keeps none (it reports zeros). */
export function loadAverage(loadavg: readonly number[], platform: string): number | undefined {
  return platform === 'win32' ? undefined : loadavg[0];
}
