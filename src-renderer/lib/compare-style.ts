/**
 * Layering of the compare chart: band (z 1) under the runs (z 2) under the group means (z 3).
 * With "each run" on, the band fades and the runs are drawn near-opaque, so the seeds stay
 * visible against the band of their own colour (at 0.45 over a 0.2 band they vanished).
 */
export interface CompareStyle {
  bandOpacity: number;
  bandZ: number;
  runOpacity: number;
  runWidth: number;
  runZ: number;
  meanZ: number;
}

export function compareStyle(opts: { showRuns: boolean; grouped: boolean; dark: boolean }): CompareStyle {
  const withRuns = opts.showRuns && opts.grouped;
  return {
    bandOpacity: withRuns ? (opts.dark ? 0.2 : 0.1) : opts.dark ? 0.38 : 0.2,
    bandZ: 1,
    runOpacity: opts.grouped ? 0.8 : 1,
    runWidth: opts.grouped ? 1.1 : 1.4,
    runZ: 2,
    meanZ: 3,
  };
}
