/**
 * The shared core of every vectorised env: an env extends `VecEnvBase` and writes only
 * - `resetCopy(b, rng)`: draw copy b's next episode (and zero its own per-episode counters),
 * - `stepCopy(b, actions, box, rew)`: advance copy b one step, add each agent's reward into
 *   `rew` (length N, zeroed by the base), return true on a true termination,
 * - `observe(b, full)`: write copy b's obs rows, mask rows and state row,
 * - `episodeMetrics(b, terminated, out)`: the finished episode's declared metrics,
 * plus, where it has them, replay columns (`replayMeta`, `recordFrame`, `recordStep`), a script
 * for scripted teams (`scriptActions`) and its extra saved arrays (`savedArrays`).
 *
 * The base owns what every env used to re-implement: per-copy RNG streams derived from
 * (seed, stream tag, b); the step counter and the time limit (truncation is `!terminated &&
 * steps == episodeLimit`: a step that both terminates and hits the limit is a termination);
 * final observations copied before auto-reset; per-agent returns (float64); finished copies
 * without auto-reset (rewards 0, actions ignored); clipping and NaN checks of box actions;
 * replay recording with the generic `action`, `reward` (and `box_action`) columns; episode
 * records in `spec.metricKeys` order; and checkpoint state (RNG streams plus every saved typed
 * array, as plain JSON, restored exactly).
 */
import { ConfigError } from '../config/schema';
import { Rng, deriveSeed } from '../rng';
import type { EnvOptions, EnvSpec, EpisodeRecord, Replay, VecEnv } from './types';

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;

/** Columns of one episode being recorded (plain arrays: allocation only while recording). */
export class ReplayRecorder {
  readonly columns: Record<string, number[]> = {};
  steps = 0;

  constructor(
    readonly envId: string,
    readonly meta: Record<string, unknown>,
    /** Column names in the order they appear in the replay (generic ones are added too). */
    names: readonly string[],
  ) {
    for (const n of names) this.columns[n] = [];
  }

  col(name: string): number[] {
    let c = this.columns[name];
    if (c === undefined) this.columns[name] = c = [];
    return c;
  }

  finish(end: 'terminated' | 'truncated'): Replay {
    return { envId: this.envId, version: 1, steps: this.steps, meta: { ...this.meta, end }, columns: this.columns };
  }
}

/** Checkpoint header every env writes; envs add their own identifying fields (sizes). */
interface BaseState {
  version: 1;
  numEnvs: number;
  rng: number[];
  [field: string]: unknown;
}

export abstract class VecEnvBase implements VecEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly obs: Float32Array;
  readonly state: Float32Array;
  readonly actionMask: Uint8Array;
  readonly rewards: Float32Array;
  readonly dones: Uint8Array;
  readonly truncated: Uint8Array;
  readonly finished: Uint8Array;
  readonly finalObs: Float32Array;

  protected readonly N: number;
  protected readonly autoReset: boolean;
  protected readonly limit: number;
  /** [B] steps taken in the current episode (during `stepCopy`: the 0-based index of this step). */
  protected readonly stepCount: Int32Array;
  /** [B] episodes started since `reset(seed)`, counted after `resetCopy` returns. */
  protected readonly episodeIndex: Int32Array;
  /** [B, N] returns of the current episode, summed in double precision. */
  protected readonly ret: Float64Array;
  protected rngs: Rng[] = [];

  private readonly streamTag: number;
  private readonly rew: Float64Array;
  private readonly scripted: boolean;
  private readonly acts: Int32Array;
  private readonly boxClip: Float32Array;
  private readonly boxLow: Float32Array;
  private readonly boxHigh: Float32Array;
  private readonly boxAgent: Uint8Array;
  private readonly recordOn: boolean[];
  private readonly recorders: (ReplayRecorder | null)[];
  private pending: EpisodeRecord[] = [];

  /**
   * `streamTag` is mixed into the user seed for the env's copies, so an algorithm's
   * `new Rng(seed)` never shares a stream with copy 0. Subclasses call `this.reset(0)` at the
   * end of their constructor, once their own arrays exist.
   */
  constructor(spec: EnvSpec, options: EnvOptions, streamTag: number) {
    const B = options.numEnvs;
    if (!Number.isInteger(B) || B < 1) throw new ConfigError('train.numEnvs', 'an integer >= 1', B);
    this.spec = spec;
    this.numEnvs = B;
    this.autoReset = options.autoReset ?? true;
    this.limit = spec.episodeLimit;
    this.streamTag = streamTag;
    const N = (this.N = spec.numAgents);
    const A = spec.numActions;
    this.obs = new Float32Array(B * N * spec.obsSize);
    this.finalObs = new Float32Array(B * N * spec.obsSize);
    this.state = new Float32Array(B * spec.stateSize);
    this.actionMask = new Uint8Array(B * N * A);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const s = spec.agents[i].action;
        if (s.kind === 'discrete') this.actionMask.fill(1, (b * N + i) * A, (b * N + i) * A + s.n);
      }
    }
    this.rewards = new Float32Array(B * N);
    this.dones = new Uint8Array(B);
    this.truncated = new Uint8Array(B);
    this.finished = new Uint8Array(B);
    this.stepCount = new Int32Array(B);
    this.episodeIndex = new Int32Array(B);
    this.ret = new Float64Array(B * N);
    this.rew = new Float64Array(N);
    this.scripted = spec.teams.some((t) => t.controller === 'script');
    this.acts = new Int32Array(this.scripted ? B * N : 0);
    const K = spec.boxSize;
    this.boxClip = new Float32Array(B * N * K);
    this.boxLow = new Float32Array(N * K);
    this.boxHigh = new Float32Array(N * K);
    this.boxAgent = new Uint8Array(N);
    for (let i = 0; i < N; i++) {
      const s = spec.agents[i].action;
      if (s.kind !== 'box') continue;
      this.boxAgent[i] = 1;
      for (let k = 0; k < s.size; k++) {
        this.boxLow[i * K + k] = s.low[k];
        this.boxHigh[i * K + k] = s.high[k];
      }
    }
    this.recordOn = new Array<boolean>(B).fill(false);
    this.recorders = new Array<ReplayRecorder | null>(B).fill(null);
  }

  // ------------------------------------------------------------------ what an env writes

  /** Draw copy b's next episode from `rng` and zero the env's own per-episode counters. */
  protected abstract resetCopy(b: number, rng: Rng): void;
  /**
   * Advance copy b by one step. `actions` [B, N] (scripted agents' already filled in), `box`
   * [B, N, boxSize] clipped into the agents' bounds. Add rewards into `rew` (length N, zeroed).
   * Return true when the episode terminated (not for the time limit: the base handles that).
   */
  protected abstract stepCopy(b: number, actions: Int32Array, box: Float32Array, rew: Float64Array): boolean;
  /**
   * Write copy b's obs rows, mask rows and state row from its dynamic state. `full` after a
   * reset or `setState` (rebuild any cache derived from saved arrays), false after a step.
   */
  protected abstract observe(b: number, full: boolean): void;
  /** Fill the finished episode's metrics (any key order; the base orders them by the spec). */
  protected abstract episodeMetrics(b: number, terminated: boolean, out: Record<string, number | null>): void;
  /** Typed arrays of per-copy dynamic state that a checkpoint must restore. */
  protected abstract savedArrays(): Record<string, Typed>;
  /** Fields that identify the env's shape in a checkpoint (checked on `setState`). */
  protected stateHeader(): Record<string, number> {
    return {};
  }
  /** Fill the actions of scripted agents of copy b into `actions` (envs with script teams). */
  protected scriptActions(_b: number, _actions: Int32Array): void {
    throw new Error(`${this.spec.id}: a team is scripted but the env writes no scriptActions`);
  }
  /** Replay header of copy b's episode (sizes, static layout); null: this env records no replays. */
  protected replayMeta(_b: number): Record<string, unknown> | null {
    return {};
  }
  /** Env-specific column names, in order (the generic ones follow). */
  protected replayColumns(): readonly string[] {
    return [];
  }
  /** Push copy b's current frame (called at the reset and after every step). */
  protected recordFrame(_b: number, _rec: ReplayRecorder): void {}
  /** Push env-specific per-step columns (after `action`/`reward` of this step). */
  protected recordStep(_b: number, _rec: ReplayRecorder): void {}

  // ------------------------------------------------------------------ episodes

  reset(seed: number): void {
    const base = deriveSeed(seed, this.streamTag);
    for (let b = 0; b < this.numEnvs; b++) {
      this.rngs[b] = new Rng(base, b);
      this.episodeIndex[b] = 0;
      this.finished[b] = 0;
      this.dones[b] = 0;
      this.truncated[b] = 0;
      this.recorders[b] = null;
      this.startEpisode(b);
    }
    this.rewards.fill(0);
    this.finalObs.fill(0);
  }

  resetFinished(): void {
    for (let b = 0; b < this.numEnvs; b++) {
      if (!this.finished[b]) continue;
      this.finished[b] = 0;
      this.startEpisode(b);
    }
  }

  private startEpisode(b: number): void {
    this.resetCopy(b, this.rngs[b]);
    this.episodeIndex[b]++;
    this.beginEpisode(b);
  }

  /**
   * Zero the base's per-episode counters of copy b, publish its first observation and start
   * recording if on. Envs call it directly only when they rebuild an episode by hand (tests).
   */
  protected beginEpisode(b: number): void {
    this.stepCount[b] = 0;
    const N = this.N;
    for (let i = 0; i < N; i++) this.ret[b * N + i] = 0;
    this.observe(b, true);
    this.recorders[b] = null;
    if (this.recordOn[b]) this.startRecording(b);
  }

  // ------------------------------------------------------------------ step

  step(actions: Int32Array, boxActions?: Float32Array): void {
    const B = this.numEnvs;
    const N = this.N;
    const id = this.spec.id;
    if (actions.length < B * N) throw new Error(`${id}.step: expected ${B * N} actions, got ${actions.length}`);
    const K = this.spec.boxSize;
    if (K > 0) {
      if (!boxActions || boxActions.length < B * N * K) throw new Error(`${id}.step: expected ${B * N * K} box actions ([B, N, ${K}]), got ${boxActions?.length ?? 'none'}`);
      this.clipBox(boxActions);
    }
    let acts = actions;
    if (this.scripted) {
      acts = this.acts;
      acts.set(actions.subarray(0, B * N));
      for (let b = 0; b < B; b++) if (!this.finished[b]) this.scriptActions(b, acts);
    }
    for (let b = 0; b < B; b++) this.stepOne(b, acts);
  }

  private clipBox(src: Float32Array): void {
    const K = this.spec.boxSize;
    const N = this.N;
    const dst = this.boxClip;
    const lo = this.boxLow;
    const hi = this.boxHigh;
    for (let b = 0; b < this.numEnvs; b++) {
      for (let i = 0; i < N; i++) {
        if (!this.boxAgent[i]) continue;
        const o = (b * N + i) * K;
        for (let k = 0; k < K; k++) {
          const v = src[o + k];
          if (v !== v) throw new Error(`${this.spec.id}.step: box action of copy ${b}, agent ${i}, component ${k} is NaN`);
          const l = lo[i * K + k];
          const h = hi[i * K + k];
          dst[o + k] = v < l ? l : v > h ? h : v;
        }
      }
    }
  }

  private stepOne(b: number, actions: Int32Array): void {
    const N = this.N;
    const aOff = b * N;
    const rewards = this.rewards;
    if (this.finished[b]) {
      for (let i = 0; i < N; i++) rewards[aOff + i] = 0;
      this.dones[b] = 0;
      this.truncated[b] = 0;
      return;
    }
    const rew = this.rew;
    for (let i = 0; i < N; i++) rew[i] = 0;
    const terminated = this.stepCopy(b, actions, this.boxClip, rew);
    const t = this.stepCount[b]++;
    const trunc = !terminated && t + 1 >= this.limit;
    const ret = this.ret;
    for (let i = 0; i < N; i++) {
      rewards[aOff + i] = rew[i];
      ret[aOff + i] += rew[i];
    }
    this.observe(b, false);

    const rec = this.recorders[b];
    if (rec !== null) {
      const act = rec.col('action');
      const r = rec.col('reward');
      for (let i = 0; i < N; i++) {
        act.push(this.boxAgent[i] ? -1 : actions[aOff + i]);
        r.push(rew[i]);
      }
      const K = this.spec.boxSize;
      if (K > 0) {
        const bx = rec.col('box_action');
        for (let k = aOff * K; k < (aOff + N) * K; k++) bx.push(this.boxClip[k]);
      }
      this.recordStep(b, rec);
      rec.steps++;
      this.recordFrame(b, rec);
    }

    if (terminated || trunc) {
      this.dones[b] = 1;
      this.truncated[b] = trunc ? 1 : 0;
      const o = this.spec.obsSize * N;
      const start = b * o;
      this.finalObs.set(this.obs.subarray(start, start + o), start);
      this.pending.push(this.episodeRecord(b, terminated, rec));
      this.recorders[b] = null;
      if (this.autoReset) this.startEpisode(b);
      else this.finished[b] = 1;
    } else {
      this.dones[b] = 0;
      this.truncated[b] = 0;
    }
  }

  private episodeRecord(b: number, terminated: boolean, rec: ReplayRecorder | null): EpisodeRecord {
    const m: Record<string, number | null> = {};
    this.episodeMetrics(b, terminated, m);
    const metrics: Record<string, number | null> = {};
    for (const k of this.spec.metricKeys) {
      const v = m[k];
      if (v === undefined) throw new Error(`${this.spec.id}: episode metric ${k} was not computed`);
      metrics[k] = v;
    }
    return rec ? { envIndex: b, metrics, replay: rec.finish(terminated ? 'terminated' : 'truncated') } : { envIndex: b, metrics };
  }

  drainEpisodes(): EpisodeRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Current-episode return of agent i in copy b (float64). */
  protected episodeReturn(b: number, i: number): number {
    return this.ret[b * this.N + i];
  }

  // ------------------------------------------------------------------ replays

  setRecording(envIndex: number, on: boolean): void {
    if (!Number.isInteger(envIndex) || envIndex < 0 || envIndex >= this.numEnvs) {
      throw new Error(`${this.spec.id}.setRecording: copy ${envIndex} out of range 0..${this.numEnvs - 1}`);
    }
    this.recordOn[envIndex] = on;
    if (!on) this.recorders[envIndex] = null;
    // A copy that has not stepped since its reset is at "its next reset": record from now.
    else if (this.recorders[envIndex] === null && this.stepCount[envIndex] === 0 && !this.finished[envIndex]) {
      this.startRecording(envIndex);
    }
  }

  private startRecording(b: number): void {
    const meta = this.replayMeta(b);
    if (meta === null) return;
    const names = [...this.replayColumns(), 'action', 'reward'];
    if (this.spec.boxSize > 0) names.push('box_action');
    const rec = new ReplayRecorder(this.spec.id, meta, names);
    this.recorders[b] = rec;
    this.recordFrame(b, rec);
  }

  // ------------------------------------------------------------------ checkpoints

  getState(): unknown {
    const s: BaseState = { version: 1, numEnvs: this.numEnvs, ...this.stateHeader(), rng: this.rngs.flatMap((r) => r.getState()) };
    for (const [k, a] of Object.entries(this.allSaved())) s[k] = Array.from(a);
    return s;
  }

  setState(raw: unknown): void {
    const s = raw as BaseState;
    const id = this.spec.id;
    const header: Record<string, number> = { numEnvs: this.numEnvs, ...this.stateHeader() };
    const mismatch = !s || s.version !== 1 || Object.entries(header).some(([k, v]) => s[k] !== v);
    if (mismatch) {
      const fields = Object.keys(header);
      throw new Error(
        `${id}.setState: state is for ${fields.map((k) => `${k}=${s?.[k]}`).join(', ')}; this env has ${fields.map((k) => header[k]).join(', ')}`,
      );
    }
    if (!Array.isArray(s.rng) || s.rng.length !== 4 * this.numEnvs) throw new Error(`${id}.setState: field rng has the wrong length`);
    for (const [k, dst] of Object.entries(this.allSaved())) {
      const src = s[k] as number[];
      if (!Array.isArray(src) || src.length !== dst.length) throw new Error(`${id}.setState: field ${k} has the wrong length`);
      dst.set(src);
    }
    for (let b = 0; b < this.numEnvs; b++) {
      this.rngs[b] = new Rng(0, b);
      this.rngs[b].setState(s.rng.slice(4 * b, 4 * b + 4));
      // obs/state/mask derive from the restored fields (a finished copy keeps its terminal obs).
      this.observe(b, true);
      this.recorders[b] = null;
    }
    this.pending = [];
  }

  private allSaved(): Record<string, Typed> {
    return {
      ...this.savedArrays(),
      stepCount: this.stepCount,
      episodeIndex: this.episodeIndex,
      ret: this.ret,
      finished: this.finished,
      dones: this.dones,
      truncated: this.truncated,
      rewards: this.rewards,
      finalObs: this.finalObs,
    };
  }
}
