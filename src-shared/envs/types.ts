/**
 * The vectorised multi-agent environment contract.
 *
 * One env object holds B copies of a task and writes into flat typed arrays it owns (PufferLib
 * style): no allocation per step, one contiguous row per (copy, agent). Trainers read the
 * buffers right after `step` and copy what they keep.
 *
 * Agents of one env may differ (a speaker that only talks, a listener that only moves, prey
 * driven by a script): `spec.agents[i]` describes agent i's action space, observation size and
 * layout, and team. The flat buffers stay rectangular so learners can batch over agents:
 * - observation rows are `spec.obsSize` long (the widest agent); agent i fills its first
 *   `agents[i].obsSize` values and the rest stay 0;
 * - discrete actions are one int per (copy, agent) in `step(actions)`; the mask row is
 *   `spec.numActions` long (the largest discrete space) and is 0 past the agent's own n;
 * - continuous (box) actions are `spec.boxSize` floats per (copy, agent) in
 *   `step(actions, boxActions)`; agent i reads its first `action.size` values.
 * For an env whose agents all share one discrete space, `obsSize`, `numActions` and
 * `actionNames` are exactly that space, as before. docs/envs.md has a worked example.
 */
import type { Schema, Values } from '../config/schema';

/** Which headline a metric is: the env's success measure, or its team return. */
export type MetricRole = 'success' | 'return';

/**
 * One declared episode metric. Everything outside an env's own files (worker, store, UI,
 * reports, CLI) learns metric names from these declarations, never by name.
 */
export interface MetricSpec {
  readonly key: string;
  /** Human label for tables and chart titles. */
  readonly title: string;
  /** At most one metric per role: what summaries, tables and default charts lead with. */
  readonly role?: MetricRole;
  /** Shown by default (run header, default charts, reports, CLI summaries). */
  readonly headline?: boolean;
  readonly description?: string;
  /** Direction for "best run" sorting and report highlights; default true. */
  readonly higherIsBetter?: boolean;
}

/** One agent's action space. */
export type ActionSpace = DiscreteSpace | BoxSpace;

/** Pick one of n actions; `VecEnv.actionMask` says which are legal at each step. */
export interface DiscreteSpace {
  readonly kind: 'discrete';
  readonly n: number;
  /** One label per action (UI, replays). */
  readonly names: readonly string[];
}

/** A real vector of `size` components, each clipped by the env into [low[k], high[k]]. */
export interface BoxSpace {
  readonly kind: 'box';
  readonly size: number;
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** One label per component. */
  readonly names: readonly string[];
}

/**
 * One consecutive block of an observation (or state) row. Encoders read the blocks instead of
 * hard-coding sizes: a convolution over `planes`, an MLP over `features`.
 */
export type ObsBlock = FeatureBlock | PlaneBlock;

export interface FeatureBlock {
  readonly kind: 'features';
  /** What the block holds, e.g. "own velocity", "landmark positions (relative)". */
  readonly name: string;
  readonly size: number;
  /**
   * 'history' for values the env appends from the agent's own past (e.g. its last action),
   * which critics that take "the observation" leave out; 'env' otherwise (the default).
   */
  readonly source?: 'env' | 'history';
}

/** A small image: width x height cells with `channels` values each, stored in `order`. */
export interface PlaneBlock {
  readonly kind: 'planes';
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** Memory order, slowest axis first: 'xyc' = index (x*height + y)*channels + c; 'yxc', 'cyx' alike. */
  readonly order: 'xyc' | 'yxc' | 'cyx';
  readonly source?: 'env' | 'history';
}

/** One agent: its team, what it can do and what it sees. */
export interface AgentSpec {
  /** Display name, e.g. "agent 0", "speaker". */
  readonly name: string;
  /** Index into `EnvSpec.teams`. */
  readonly team: number;
  readonly action: ActionSpace;
  /** Used length of this agent's observation row (<= `EnvSpec.obsSize`; the rest is 0). */
  readonly obsSize: number;
  /** Blocks covering exactly `obsSize` values, in row order. */
  readonly obsLayout: readonly ObsBlock[];
}

/**
 * Who chooses a team's actions:
 * - 'learner': the algorithm being trained;
 * - 'script': the env itself (prey heuristics); `step` ignores what the caller passes for these
 *   agents and records what the script chose;
 * - 'frozen': a fixed policy the trainer loads (opponents from a checkpoint); to the env these
 *   are ordinary agents.
 */
export type Controller = 'learner' | 'script' | 'frozen';

export interface TeamSpec {
  readonly name: string;
  /** Agent indices, ascending. Every agent is in exactly one team. */
  readonly agents: readonly number[];
  readonly controller: Controller;
  /** For 'script': what the script does, in one line (shown in `cairn envs`). */
  readonly script?: string;
  /** True when every agent of the team receives the same reward at every step. */
  readonly sharedReward: boolean;
}

export interface EnvSpec {
  /** Registry id, e.g. "manitokan". */
  readonly id: string;
  readonly numAgents: number;
  /** Per agent: team, action space, observation size and layout (length numAgents). */
  readonly agents: readonly AgentSpec[];
  /** Teams partitioning the agents (at least one). */
  readonly teams: readonly TeamSpec[];
  /** Length of one agent's row in `obs`: the largest `agents[i].obsSize`. */
  readonly obsSize: number;
  /**
   * Length of the prefix of an observation row that comes from the environment itself
   * (without appended agent-side history such as the last-action one-hot). Critics that the
   * paper feeds "the observation" read this prefix. For agents that differ, the largest.
   */
  readonly envObsSize: number;
  /** Length of a mask row: the largest discrete `n` (0 when every agent acts in a box). */
  readonly numActions: number;
  /** Names of the actions of the largest discrete space (all of them for a single-space env). */
  readonly actionNames: readonly string[];
  /** Floats per (copy, agent) in `step`'s `boxActions`: the largest box size (0: no box agent). */
  readonly boxSize: number;
  /** Length of the global state row (for centralised critics). */
  readonly stateSize: number;
  /** Blocks covering `stateSize`. */
  readonly stateLayout: readonly ObsBlock[];
  readonly episodeLimit: number;
  /** Names of the per-episode metrics, in the order of `EpisodeRecord.metrics` (= `metrics` keys). */
  readonly metricKeys: readonly string[];
  /** The declared episode metrics, in `metricKeys` order. */
  readonly metrics: readonly MetricSpec[];
  /**
   * Dimension of the places agents occupy, for envs where they have one (particle tasks: 2):
   * the env then publishes `VecEnv.agentPositions` (neighbour graphs by distance, e.g. DRIMA's
   * communication radius). Absent: agents have no position.
   */
  readonly positionDims?: number;
  /**
   * Each agent's discrete local state, for learners that tabulate visits and transitions
   * (count-based curiosity, EITI/EDTI): per agent, blocks of its observation layout read as
   * one index each. Absent: the env offers no such key (its state is continuous or too large).
   */
  readonly discreteState?: readonly (readonly DiscreteStatePart[])[];
}

/**
 * One digit of an agent's discrete state key: block `block` of `agents[i].obsLayout`, read as a
 * one-hot (the index of its 1, radix = block size) or as bits (radix = 2^size).
 */
export interface DiscreteStatePart {
  readonly block: number;
  readonly read: 'onehot' | 'bits';
}

/** Metrics of one finished episode; `null` where a metric has no value (e.g. no reward yet). */
export interface EpisodeRecord {
  /** Which copy (0..B-1) the episode ran in. */
  readonly envIndex: number;
  readonly metrics: Record<string, number | null>;
  /** Present when replay recording was on for that copy during the episode. */
  readonly replay?: Replay;
}

/**
 * A compact, JSON-able recording of one episode: a static header plus per-step columns.
 * Column lengths are multiples of the number of recorded steps; each env documents its own
 * columns. Renderers are registered per env id; every env also records the generic columns
 * `action` (steps*N, discrete index or -1 for a box agent), `reward` (steps*N) and, when any
 * agent acts in a box, `box_action` (steps*N*boxSize), so a generic viewer can show any env.
 */
export interface Replay {
  readonly envId: string;
  readonly version: 1;
  /** Number of steps taken (frames hold steps + 1 states: the reset state and one per step). */
  readonly steps: number;
  readonly meta: Record<string, unknown>;
  readonly columns: Record<string, number[]>;
}

export interface VecEnv {
  readonly spec: EnvSpec;
  /** Number of copies B. */
  readonly numEnvs: number;
  /** [B, N, obsSize] observations after the last reset/step (agent rows zero-padded). */
  readonly obs: Float32Array;
  /** [B, stateSize] global state. */
  readonly state: Float32Array;
  /** [B, N, numActions] 1 = action available; 0 past an agent's own n and for box agents. */
  readonly actionMask: Uint8Array;
  /** [B, N] rewards of the last step. */
  readonly rewards: Float32Array;
  /** [B] 1 when the copy's episode ended on the last step (termination or time limit). */
  readonly dones: Uint8Array;
  /** [B] 1 when that end was the time limit rather than a true termination. */
  readonly truncated: Uint8Array;
  /**
   * [B] 1 while a copy sits finished and waits for `reset` (only without auto-reset). Its
   * actions are ignored and its rewards are 0.
   */
  readonly finished: Uint8Array;
  /**
   * [B, N, obsSize] last observation of each copy whose episode ended on the last step, kept
   * because auto-reset overwrites `obs` with the next episode's first observation.
   */
  readonly finalObs: Float32Array;
  /**
   * [B, N, spec.positionDims] each agent's position after the last reset or step, present
   * exactly when the spec declares `positionDims`.
   */
  readonly agentPositions?: Float32Array | Float64Array;
  /**
   * [B, N] 1 while the agent is in play, for envs whose agents can leave an episode before it
   * ends (battle: killed units); absent when every agent plays to the end. Learners that store
   * per-agent transitions end an agent's chain when it drops out (its later rows are padding).
   */
  readonly agentAlive?: Uint8Array;

  /** Reset every copy; copy b draws from its own stream derived from (seed, b). */
  reset(seed: number): void;
  /** Reset copies that are finished (start their next episode), keeping their RNG streams. */
  resetFinished(): void;
  /**
   * Step every unfinished copy. `actions` [B, N]: the discrete action of each agent (ignored
   * for box agents); `boxActions` [B, N, boxSize]: required when any agent acts in a box.
   * Actions of scripted agents are ignored (the env chooses them).
   */
  step(actions: Int32Array, boxActions?: Float32Array): void;
  /** Record a replay of copy b's next episodes (from its next reset) until switched off. */
  setRecording(envIndex: number, on: boolean): void;
  /** Episodes that finished since the last call, in the order they finished. */
  drainEpisodes(): EpisodeRecord[];
  /** Internal counters for checkpoints (RNG streams, episode counters): restore exactly. */
  getState(): unknown;
  setState(s: unknown): void;
}

export interface EnvOptions {
  numEnvs: number;
  /** When true (default), a finished copy starts its next episode within the same `step`. */
  autoReset?: boolean;
}

/** What the registry holds for one environment. */
export interface EnvEntry {
  readonly id: string;
  readonly title: string;
  readonly schema: Schema;
  /**
   * True when the env draws nothing at random (a matrix game): every seed gives the same
   * episodes, so the conformance test does not ask different seeds to differ.
   */
  readonly deterministic?: boolean;
  /** Configs besides the defaults that the conformance test also runs (other action modes, sizes). */
  readonly variants?: readonly { readonly name: string; readonly config: Values }[];
  /** Cheap: the spec that a given config produces (for network sizes, UI). */
  spec(config: Values): EnvSpec;
  create(config: Values, options: EnvOptions): VecEnv;
}
