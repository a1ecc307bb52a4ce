/**
 * What `algo.updateThreads: 'auto'` means in this process: the host's runtime hint, 1 or 2.
 *
 * The host (src-main/runner/runner.ts) decides from the cores, its live runs and the load
 * average, and tells the run's worker, which sets it here; PpoTrainer (and COMA's and PG's
 * trainers) read it at the start of every update, so a change reaches the next round. It is
 * not part of the config: the stored config keeps 'auto' (what the user asked for), and 1 and
 * 2 give the same bits anyway.
 * Outside a host (trainers built in tests, the bench) nobody sets it, so 'auto' means 1.
 */
let hint: 1 | 2 = 1;

export function setPpoAutoThreads(threads: 1 | 2): void {
  hint = threads;
}

export function ppoAutoThreads(): 1 | 2 {
  return hint;
}

/**
 * The threads a learner's update uses this round: `setting` is its `algo.updateThreads`
 * ('auto' | '1' | '2'), `hostCanStart` whether a helper factory is registered in this process.
 * Asked at every update (under 'auto' the hint can change between rounds; the helpers hold no
 * state between updates, so closing one on a 1 is safe). 'auto' without a host is 1; '2'
 * without one is an error naming the field, since its run would silently use one thread.
 */
function updateThreadsNow(learner: string, setting: string, hostCanStart: boolean): 1 | 2 {
  const auto = setting === 'auto';
  if ((auto ? hint : Number(setting)) === 1) return 1;
  if (hostCanStart) return 2;
  if (auto) return 1;
  throw new Error(`${learner}: algo.updateThreads = 2 needs a host that can start threads (the CLI, the app's run worker, the bench); use 1 or auto here`);
}

/**
 * A trainer's helper thread across updates (PPO's, COMA's and PG's critic): started by the
 * first update that uses one, closed by an update that does not (it holds no state between
 * updates), by a failure the run cannot go on from, and at dispose.
 */
export class UpdateHelper<T extends { close(): void }> {
  private thread: T | null = null;

  constructor(private readonly learner: string) {}

  /**
   * This update's helper, or null for one thread (`updateThreadsNow`); `single`: this update
   * runs on one thread whatever the setting. `spec` is built only to start a helper.
   */
  now<S>(setting: string, factory: ((spec: S) => T) | null, spec: () => S, single = false): T | null {
    if (single || updateThreadsNow(this.learner, setting, factory !== null) === 1) {
      this.close();
      return null;
    }
    return (this.thread ??= factory!(spec()));
  }

  close(): void {
    this.thread?.close();
    this.thread = null;
  }
}
