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
