/**
 * F2A2's exchange schedule (shared/specs/f2a2.md §2.6, paper Table 5): each agent counts down
 * update iterations to its next consensus event; after each event (and once at the start) it
 * draws the next interval I ~ N(mean, std) and waits max(1, round(I)) iterations. mean = Infinity
 * means never (the "N(inf, 0)" column). The second parameter is a standard deviation (DESIGN
 * CHOICE; `secondParamIsVariance` reads it as a variance, the text's wording).
 */
import type { Rng } from '../../rng';

export interface ScheduleConfig {
  readonly mean: number;
  readonly std: number;
  readonly secondParamIsVariance: boolean;
}

export class ExchangeSchedule {
  /** [n] iterations left before each agent's next event (Infinity: never). */
  readonly countdown: Float64Array;
  private readonly sd: number;

  constructor(
    readonly n: number,
    readonly config: ScheduleConfig,
    rng: Rng,
  ) {
    if (!(config.mean >= 1)) throw new Error(`ExchangeSchedule: mean must be >= 1 or Infinity, got ${config.mean}`);
    if (!(config.std >= 0) || !Number.isFinite(config.std)) throw new Error(`ExchangeSchedule: std must be a finite number >= 0, got ${config.std}`);
    this.sd = config.secondParamIsVariance ? Math.sqrt(config.std) : config.std;
    this.countdown = new Float64Array(n);
    for (let i = 0; i < n; i++) this.countdown[i] = this.draw(rng);
  }

  /** One interval: max(1, round(mean + sd z)), or Infinity for mean = Infinity. */
  draw(rng: Rng): number {
    if (!Number.isFinite(this.config.mean)) return Infinity;
    const z = this.sd > 0 ? rng.normal() : 0;
    return Math.max(1, Math.round(this.config.mean + this.sd * z));
  }

  /**
   * Advance one update iteration: write into `fire` (length n) which agents hold a consensus
   * event now, and draw their next intervals. Returns how many fire.
   */
  tick(rng: Rng, fire: Uint8Array): number {
    let c = 0;
    for (let i = 0; i < this.n; i++) {
      this.countdown[i] -= 1;
      if (this.countdown[i] <= 0) {
        fire[i] = 1;
        c++;
        this.countdown[i] = this.draw(rng);
      } else fire[i] = 0;
    }
    return c;
  }

  getState(): number[] {
    return Array.from(this.countdown, (v) => (Number.isFinite(v) ? v : -1));
  }

  setState(s: readonly number[]): void {
    if (s.length !== this.n) throw new Error(`ExchangeSchedule.setState: expected ${this.n} countdowns, got ${s.length}`);
    for (let i = 0; i < this.n; i++) this.countdown[i] = s[i] < 0 ? Infinity : s[i];
  }
}
