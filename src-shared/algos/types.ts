/**
 * What an algorithm file exports, and what the worker asks of it.
 *
 * One file per algorithm (CleanRL spirit): hyperparameter schema with the paper's defaults in
 * the header, a trainer whose `round()` is one paper "episode" (one episode in each of the B
 * parallel copies, then the update), and a policy for evaluation from a checkpoint.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Schema, Values } from '../config/schema';
import type { EnvSpec, EpisodeRecord, VecEnv } from '../envs/types';
import type { Rng } from '../rng';
import type { StatGroup } from '../stat-groups';

export type Tf = typeof tfc;

export interface TrainContext {
  /** tfjs-core namespace with the backend already chosen and ready. */
  readonly tf: Tf;
  readonly env: VecEnv;
  /**
   * Resolved env config (the env's schema values), for the record only: a learner reads what
   * it needs from `env.spec` (sizes, layouts, spaces, teams), never env fields by name.
   */
  readonly envConfig: Values;
  /** Resolved algorithm hyperparameters (the algorithm's schema values). */
  readonly config: Values;
  readonly seed: number;
  /** Algorithm-side randomness (action sampling, init); env copies have their own streams. */
  readonly rng: Rng;
}

export interface RoundResult {
  /** Episodes that finished in this round (B of them for episodic rounds). */
  readonly episodes: EpisodeRecord[];
  /** Env steps taken this round: one env step = all agents of one copy acting once. */
  readonly envSteps: number;
  /** Update statistics, namespaced like CleanRL: "losses/actor", "charts/epsilon", ... */
  readonly stats: Record<string, number>;
}

/** Serialised learner state: named float tensors plus JSON-able counters (RNG, schedules). */
export interface Checkpoint {
  readonly tensors: Record<string, { shape: number[]; data: Float32Array }>;
  readonly extra: Record<string, unknown>;
}

export interface Trainer {
  /** Roll out one episode in every copy, update once, report. */
  round(): Promise<RoundResult>;
  /** Learner + env + RNG state, enough to continue bit-for-bit on the same backend. */
  save(): Promise<Checkpoint>;
  load(ckpt: Checkpoint): void;
  dispose(): void;
}

/** A policy acting on a VecEnv's buffers without learning (evaluation, baselines). */
export interface Policy {
  /** Called after each env reset of copy b (recurrent state). */
  resetCopy(b: number): void;
  /**
   * Write actions for the current `env.obs` / `env.actionMask`: discrete ones in `actions`
   * [B, N], box ones in `boxActions` [B, N, boxSize] (when the env has box agents).
   */
  act(env: VecEnv, actions: Int32Array, greedy: boolean, boxActions?: Float32Array): void;
  dispose(): void;
}

export interface PolicyContext {
  readonly tf: Tf;
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly config: Values;
  readonly rng: Rng;
  /** Weights to load; null builds a freshly initialised policy. */
  readonly checkpoint: Checkpoint | null;
}

export interface AlgoEntry {
  readonly id: string;
  readonly title: string;
  readonly schema: Schema;
  /**
   * What an env's spec lacks for this learner, in plain words; empty = it can train there.
   * Decided from the spec's spaces, layouts and teams (core/compat.ts), never from env ids.
   */
  accepts(spec: EnvSpec): readonly string[];
  /**
   * Ids of the registered envs whose default config this learner accepts: filled in by the
   * registry from `accepts` (for catalogues and forms), never declared by hand.
   */
  readonly envs?: readonly string[];
  /** Stat prefixes that are this learner's own diagnostics, titled (src-shared/stat-groups.ts). */
  readonly diagnostics?: readonly StatGroup[];
  /**
   * Configurations that take another code path than the defaults (F2A2's instantiations), for
   * the registry-driven contract test to cover as well: name and the fields they set.
   */
  readonly variants?: readonly { readonly name: string; readonly config: Readonly<Record<string, unknown>> }[];
  /**
   * For a learner with `algo.updateThreads`: false when this config's updates never use the
   * helper thread whatever the setting (PG with a correction term), so the host neither plans
   * a core for it nor logs one. Absent = the field is the whole story.
   */
  usesHelperThread?(config: Readonly<Record<string, unknown>>): boolean;
  createTrainer(ctx: TrainContext): Trainer;
  createPolicy(ctx: PolicyContext): Policy;
}
