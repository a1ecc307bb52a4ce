/** Timeline markers: moments of an episode worth jumping to. */

export type MarkerKind = 'pickup' | 'drop' | 'door' | 'reward' | 'kill';

export interface ReplayMarker {
  /** Step index t (0..steps-1) at which it happened; shown as step t + 1, the frame it lands on. */
  step: number;
  /** Frame showing the state right after it (t + 1). */
  frame: number;
  agent: number;
  kind: MarkerKind;
  /** Reward value for `reward` markers; units killed for `kill` markers. */
  value?: number;
  label: string;
}

export const MARKER_LABELS: Record<MarkerKind, string> = {
  pickup: 'key picked up',
  drop: 'key dropped (gift)',
  door: 'door opened',
  reward: 'reward',
  kill: 'units killed',
};
