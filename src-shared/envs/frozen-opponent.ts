/**
 * A team driven by a frozen checkpoint (the contract's 'frozen' controller; F2A2 §4.5: "the
 * enemy's model is fixed to IQL after 2000 self-play training rounds ... then acts greedily
 * with epsilon 0.05"), as a VecEnv wrapper the worker puts between the env and the learner:
 *
 * - its spec is the inner spec with the opponent team's controller set to 'frozen', so the
 *   learner acts for, stores and learns from its own team only (learnerAgents);
 * - `step` first asks the frozen policy for the opponent team's actions on the current
 *   observations and writes them over those rows (the learner's values there are ignored),
 *   then steps the inner env; rewards, metrics and replays are the inner env's;
 * - the frozen policy draws from its own stream (exploration epsilon), saved in the env state
 *   so that resume is exact.
 *
 * The policy is built from the opponent run's own algorithm config over a spec in which only
 * the opponent team is 'learner' (so a parameter-shared network evaluates those rows only,
 * and a policy built per agent sees the agents it must drive). `act(greedy = false)` is what a
 * policy does outside evaluation: DQN and IQL act epsilon-greedily with their final epsilon
 * (0.05 by default), stochastic policies sample.
 *
 * Which checkpoint plays (`chooseOpponentCheckpoint`): the one saved at round
 * train.opponentRound of the opponent run, or its latest at launch when that is 0. A resumed
 * run plays the round its own checkpoint recorded, never a newer latest: the rounds before and
 * after the resume are then against the same net.
 */
import type { Values } from '../config/schema';
import { ConfigError } from '../config/schema';
import type { Policy } from '../algos/types';
import { Rng } from '../rng';
import type { Controller, EnvSpec, VecEnv } from './types';
import { VecEnvWrapper } from './wrapper';

/** Stream of the frozen policy's draws ("opp1"). */
export const OPPONENT_STREAM = 0x6f707031;

/** `spec` with the controllers replaced per team by `controllerOf(team index)`. */
export function withControllers(spec: EnvSpec, controllerOf: (team: number, current: Controller) => Controller): EnvSpec {
  return { ...spec, teams: spec.teams.map((t, k) => ({ ...t, controller: controllerOf(k, t.controller) })) };
}

/** The spec the learner sees: the opponent team frozen. */
export function learnerSideSpec(spec: EnvSpec, team: number): EnvSpec {
  return withControllers(spec, (k, c) => (k === team ? 'frozen' : c));
}

/** The spec the frozen policy is built on: only the opponent team is learner-controlled. */
export function opponentSideSpec(spec: EnvSpec, team: number): EnvSpec {
  return withControllers(spec, (k, c) => (k === team ? 'learner' : c === 'learner' ? 'frozen' : c));
}

/** Why `train.opponent*` cannot apply to this spec (empty when it can). */
export function opponentTeamProblem(spec: EnvSpec, train: Values): ConfigError | null {
  if (train.opponent !== 'frozen') return null;
  const team = Number(train.opponentTeam);
  if (spec.teams.length < 2) return new ConfigError('train.opponent', `self-play for env ${spec.id}, which has one team (a frozen opponent needs a second one)`, 'frozen');
  if (!(team >= 0 && team < spec.teams.length)) return new ConfigError('train.opponentTeam', `a team index 0..${spec.teams.length - 1} of env ${spec.id}`, team);
  if (spec.teams[team].controller !== 'learner') return new ConfigError('train.opponentTeam', `a learner-controlled team of env ${spec.id} (team ${spec.teams[team].name} is '${spec.teams[team].controller}')`, team);
  if (spec.teams[team].agents.some((i) => spec.agents[i].action.kind !== 'discrete')) return new ConfigError('train.opponentTeam', `a team of discrete agents (the frozen policy drives discrete actions only)`, team);
  if (!spec.teams.some((t, k) => k !== team && t.controller === 'learner')) return new ConfigError('train.opponentTeam', `a team that leaves another learner-controlled team to train`, team);
  return null;
}

export class FrozenOpponentEnv extends VecEnvWrapper {
  readonly spec: EnvSpec;
  private readonly actions: Int32Array;
  private readonly scratch: Int32Array;
  private readonly rows: Int32Array;

  constructor(
    inner: VecEnv,
    readonly team: number,
    private readonly policy: Policy,
    private readonly rng: Rng,
  ) {
    super(inner);
    this.spec = learnerSideSpec(inner.spec, team);
    const B = inner.numEnvs;
    const N = inner.spec.numAgents;
    this.actions = new Int32Array(B * N);
    this.scratch = new Int32Array(B * N);
    const agents = inner.spec.teams[team].agents;
    this.rows = new Int32Array(B * agents.length);
    let k = 0;
    for (let b = 0; b < B; b++) for (const i of agents) this.rows[k++] = b * N + i;
  }

  get rewards(): Float32Array {
    return this.inner.rewards;
  }

  override reset(seed: number): void {
    this.inner.reset(seed);
    for (let b = 0; b < this.numEnvs; b++) this.policy.resetCopy(b);
  }
  override resetFinished(): void {
    const was = Uint8Array.from(this.inner.finished);
    this.inner.resetFinished();
    for (let b = 0; b < this.numEnvs; b++) if (was[b]) this.policy.resetCopy(b);
  }
  override step(actions: Int32Array, boxActions?: Float32Array): void {
    this.actions.set(actions);
    this.policy.act(this.inner, this.scratch, false);
    for (const r of this.rows) this.actions[r] = this.scratch[r];
    this.inner.step(this.actions, boxActions);
  }

  override getState(): unknown {
    return { inner: this.inner.getState(), opponentRng: this.rng.getState() };
  }
  override setState(s: unknown): void {
    const st = s as { inner?: unknown; opponentRng?: number[] } | null;
    if (!st || !Array.isArray(st.opponentRng)) throw new Error(`${this.spec.id}.setState: the checkpoint holds no frozen-opponent stream (was it saved with train.opponent = self-play?)`);
    this.inner.setState(st.inner);
    this.rng.setState(st.opponentRng);
  }
}

/** One checkpoint of the opponent run: the round it was saved at and its file. */
export interface OpponentCheckpointRef {
  round: number;
  path: string;
}

/** Rounds for a message: all of a short list, the ends of a long one. */
export function roundList(rounds: readonly number[]): string {
  if (rounds.length <= 12) return rounds.join(', ');
  return `${rounds.slice(0, 6).join(', ')}, ..., ${rounds.slice(-6).join(', ')} (${rounds.length} in all)`;
}

/**
 * The checkpoint of run `runId` that drives the frozen team: the one of round `asked`
 * (train.opponentRound; 0 = the latest in `checkpoints`, listed oldest first), or of round
 * `pinned` when the run is resumed from a checkpoint that recorded the round it played.
 * @throws Error naming the field when the run has no checkpoint at that round, listing the
 *   rounds it has (checkpoints are saved every train.checkpointEvery rounds and at the end,
 *   and a round may be gone: a resume drops the opponent run's checkpoints it passed over).
 */
export function chooseOpponentCheckpoint(
  runId: number,
  checkpoints: readonly OpponentCheckpointRef[],
  asked: number,
  pinned?: number,
): OpponentCheckpointRef & { latest: boolean } {
  const want = pinned ?? asked;
  const have = checkpoints.map((c) => c.round);
  const rounds = [...new Set(have)].sort((a, b) => a - b);
  const kept = rounds.length ? `its checkpoints are at rounds ${roundList(rounds)}` : 'it has no checkpoint yet';
  if (want === 0) {
    const last = checkpoints[checkpoints.length - 1];
    if (!last) throw new Error(`train.opponentRun = ${runId}: that run has no checkpoint yet (it saves one every train.checkpointEvery rounds and at its end)`);
    return { ...last, latest: true };
  }
  // The last of equal rounds: the file the run wrote most recently for that round.
  const hit = checkpoints.filter((c) => c.round === want).pop();
  if (hit) return { ...hit, latest: hit === checkpoints[checkpoints.length - 1] };
  if (pinned !== undefined) {
    throw new Error(
      `train.opponentRound: this run played against round ${pinned} of run ${runId} before it was resumed, and run ${runId} no longer has that checkpoint; ${kept}. ` +
        'A resumed run keeps its opponent; start a new run to play another round.',
    );
  }
  throw new Error(`train.opponentRound = ${asked}: run ${runId} has no checkpoint at round ${asked}; ${kept} (0 plays the latest)`);
}
