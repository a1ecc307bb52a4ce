/**
 * `bench --ui` splits an interaction's Event Timing entry into input delay, processing and
 * presentation (src-main/service/bench-ui-browser.ts), the split that showed the Replay tab's
 * time was its first paint, not its handlers.
 */
import { describe, expect, it } from 'vitest';
import { eventPhases } from '../../src-main/service/bench-ui-browser';

describe('Event Timing split', () => {
  it('splits start -> processingStart -> processingEnd -> start + duration', () => {
    expect(eventPhases({ start: 1000, ps: 1012.34, pe: 1052.3, duration: 280 })).toEqual({
      worst_input_delay_ms: 12.3,
      worst_processing_ms: 40,
      worst_presentation_ms: 227.7,
    });
  });

  it('clamps presentation at 0 when the 8 ms rounding of duration ends before the handlers', () => {
    expect(eventPhases({ start: 0, ps: 1, pe: 10, duration: 8 }).worst_presentation_ms).toBe(0);
  });

  it('reports no split for entries without processing marks', () => {
    expect(eventPhases({ start: 0, duration: 50 })).toEqual({ worst_input_delay_ms: 0, worst_processing_ms: 0, worst_presentation_ms: 0 });
  });
});
