/**
 * The pass-through part of a VecEnv that wraps another (the reward interaction, the frozen
 * opponent): every buffer and method goes to `inner` unless the wrapper overrides it. A
 * wrapper declares what it changes (its `spec` and `rewards` at least, which every wrapper
 * must decide on) and overrides only the methods whose behaviour it adds to.
 */
import type { EnvSpec, EpisodeRecord, VecEnv } from './types';

export abstract class VecEnvWrapper implements VecEnv {
  abstract readonly spec: EnvSpec;
  abstract readonly rewards: Float32Array;

  constructor(readonly inner: VecEnv) {}

  get numEnvs(): number {
    return this.inner.numEnvs;
  }
  get obs(): Float32Array {
    return this.inner.obs;
  }
  get state(): Float32Array {
    return this.inner.state;
  }
  get actionMask(): Uint8Array {
    return this.inner.actionMask;
  }
  get dones(): Uint8Array {
    return this.inner.dones;
  }
  get truncated(): Uint8Array {
    return this.inner.truncated;
  }
  get finished(): Uint8Array {
    return this.inner.finished;
  }
  get finalObs(): Float32Array {
    return this.inner.finalObs;
  }
  get agentPositions(): Float32Array | Float64Array | undefined {
    return this.inner.agentPositions;
  }
  get agentAlive(): Uint8Array | undefined {
    return this.inner.agentAlive;
  }

  reset(seed: number): void {
    this.inner.reset(seed);
  }
  resetFinished(): void {
    this.inner.resetFinished();
  }
  setRecording(envIndex: number, on: boolean): void {
    this.inner.setRecording(envIndex, on);
  }
  drainEpisodes(): EpisodeRecord[] {
    return this.inner.drainEpisodes();
  }
  step(actions: Int32Array, boxActions?: Float32Array): void {
    this.inner.step(actions, boxActions);
  }
  getState(): unknown {
    return this.inner.getState();
  }
  setState(s: unknown): void {
    this.inner.setState(s);
  }
}
