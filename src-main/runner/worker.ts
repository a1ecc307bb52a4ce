/**
 * A run's worker: a child process that owns the run's environments, networks and RNG.
 *
 * A child process per run (not a worker thread) because tfjs-node misbehaves in a second
 * worker thread (tensorflow/tfjs#8388) and because a crash here (native abort, OOM) must fail
 * this run only. The worker never touches SQLite: it posts one message per round and the
 * runner batches the writes, so there is one writer per database per runner.
 *
 * Test-only fault injection: CAIRN_FAULT="throw:<round>[:<runId>]" throws and
 * "exit:<round>[:<runId>]" kills the process hard after that round (optionally only in one
 * run), so tests can check that only that run fails.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import type { EnvSpec, EpisodeRecord, VecEnv } from '../../src-shared/envs/types';
import { chooseOpponentCheckpoint, FrozenOpponentEnv, OPPONENT_STREAM, opponentSideSpec } from '../../src-shared/envs/frozen-opponent';
import { metricByRole } from '../../src-shared/metrics';
import { setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';
import { initBackend } from '../backend/select';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file';
import type { EpisodeOut, ParentMessage, StartMessage, WorkerMessage } from './protocol';
import { roundPoints } from './round-metrics';
import { loadEnvModule } from '../service/env-module';
import { interactionStats, withRewardInteraction } from '../../src-shared/envs/reward-interaction';

/** Stream id of the algorithm's RNG; env copies use their own streams derived from the seed. */
const ALGO_STREAM = 1_000_003;

let stopRequested = false;

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, undefined, () => resolve());
  });
}

/**
 * Fault injection for the fault and scheduler suites: CAIRN_FAULT=kind:round[:runId].
 * throw and exit crash the worker after that round; stall holds it there until the run is asked
 * to stop (at most two minutes), so a test can signal a run that is certainly mid-training
 * however fast this machine trains.
 */
async function fault(runId: number, round: number): Promise<void> {
  const f = process.env.CAIRN_FAULT;
  if (!f) return;
  const [kind, at, only] = f.split(':');
  if (Number(at) !== round || (only !== undefined && Number(only) !== runId)) return;
  if (kind === 'throw') throw new Error(`injected fault after round ${round}`);
  if (kind === 'exit') process.kill(process.pid, 'SIGKILL');
  if (kind === 'stall') {
    const until = Date.now() + 120_000;
    while (!stopRequested && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The episodes table's summary columns, filled from the metrics the env declares with the roles
 * 'return' and 'success' (0 where it declares none); every declared metric also goes into
 * `values`, in the spec's order.
 */
function episodeRowMaker(spec: EnvSpec): (ep: EpisodeRecord, idx: number, round: number) => EpisodeOut {
  const returnKey = metricByRole(spec.metrics, 'return')?.key;
  const successKey = metricByRole(spec.metrics, 'success')?.key;
  // EpisodeRecord carries no step count, so the length column takes the conventional
  // `episode_length` metric where an env reports one (0 otherwise).
  const lengthKey = spec.metricKeys.includes('episode_length') ? 'episode_length' : undefined;
  return (ep, idx, round) => {
    const m = ep.metrics;
    return {
      idx,
      round,
      envIndex: ep.envIndex,
      length: (lengthKey && m[lengthKey]) || 0,
      return: (returnKey && m[returnKey]) || 0,
      success: (successKey && m[successKey]) || 0,
      values: spec.metricKeys.map((k) => m[k] ?? null),
    };
  };
}

/** What a checkpoint of a frozen-opponent run records of the opponent it played (resume pins it). */
interface PlayedOpponent {
  run: number;
  round: number;
}

/**
 * train.opponent = frozen: the opponent team acts from a checkpoint of train.opponentRun, the
 * one of train.opponentRound or its latest (src-shared/envs/frozen-opponent.ts); a resumed run
 * plays the round its checkpoint recorded (`played`). Everything that can be wrong with that
 * run fails this run here, before training, with a message naming the field.
 */
async function withOpponent(env: VecEnv, msg: StartMessage, played: PlayedOpponent | undefined): Promise<{ env: VecEnv; opponent?: PlayedOpponent }> {
  const train = msg.config.train;
  if (train.opponent !== 'frozen') return { env };
  const o = msg.opponent;
  const field = `train.opponentRun = ${train.opponentRun}`;
  if (!o || !o.found) throw new Error(`${field}: no such run in this database`);
  // Runs stored before train.opponentRound existed lack the key: they played the latest.
  const asked = Number(train.opponentRound ?? 0);
  const pinned = played && played.run === o.runId && Number.isInteger(played.round) && played.round > 0 ? played.round : undefined;
  const chosen = chooseOpponentCheckpoint(o.runId, o.checkpoints, asked, pinned);
  const oc = o.config;
  if (oc.env.id !== msg.config.env.id) throw new Error(`${field}: that run trained on env ${oc.env.id}, this one is on ${msg.config.env.id}`);
  const oEntry = getEnv(oc.env.id);
  const oAlgo = getAlgo(oc.algo.id);
  if (!oEntry || !oAlgo) throw new Error(`${field}: that run's env or learner (${oc.env.id}, ${oc.algo.id}) is not available here`);
  const { id: _e, ...oEnvConfig } = oc.env;
  const { id: _a, ...oAlgoConfig } = oc.algo;
  const theirs = oEntry.spec(oEnvConfig);
  const ours = env.spec;
  if (theirs.obsSize !== ours.obsSize || theirs.numActions !== ours.numActions) {
    throw new Error(`${field}: that run's observations/actions (${theirs.obsSize}/${theirs.numActions} per agent) differ from this env's (${ours.obsSize}/${ours.numActions}); change env settings to match (e.g. env.minimap)`);
  }
  let ckpt;
  try {
    ckpt = readCheckpointFile(chosen.path);
  } catch (e) {
    throw new Error(`${field}, round ${chosen.round}: ${(e as Error).message}`);
  }
  if (ckpt.extra.algo !== oc.algo.id) throw new Error(`${field}: checkpoint ${chosen.path} was written by ${String(ckpt.extra.algo)}, not by that run's learner ${oc.algo.id}`);
  const team = Number(train.opponentTeam);
  const rng = new Rng(msg.seed, OPPONENT_STREAM);
  let policy;
  try {
    policy = oAlgo.createPolicy({ tf, spec: opponentSideSpec(ours, team), numEnvs: env.numEnvs, config: oAlgoConfig, rng, checkpoint: ckpt });
  } catch (e) {
    throw new Error(`${field}: the ${oc.algo.id} checkpoint ${chosen.path} does not fit team ${ours.teams[team].name} of this env: ${(e as Error).message}`);
  }
  const why = pinned !== undefined ? 'the round this run played before its resume' : chosen.latest && asked === 0 ? 'its latest' : 'train.opponentRound';
  await send({ type: 'log', level: 'info', message: `frozen opponent: run ${o.runId}, round ${chosen.round} (${why}), checkpoint ${chosen.path}` });
  return { env: new FrozenOpponentEnv(env, team, policy, rng), opponent: { run: o.runId, round: chosen.round } };
}

async function run(msg: StartMessage): Promise<void> {
  const info = await initBackend(msg.backend);
  // Which library did the products says which numbers this run reproduces (the backend name
  // alone does not: another machine's wasm-blas may open another BLAS).
  if (info.blas) await send({ type: 'log', level: 'info', message: `backend wasm-blas: ${info.blas}` });
  const cfg = msg.config;
  // A researcher's env: load the module the run recorded (the launcher only records modules
  // the user chose through the CLI flag or the native file dialog).
  if (cfg.envModule) await loadEnvModule(cfg.envModule, 'envModule');
  const envEntry = getEnv(cfg.env.id);
  const algoEntry = getAlgo(cfg.algo.id);
  if (!envEntry) throw new Error(`env.id: unknown environment ${cfg.env.id}`);
  if (!algoEntry) throw new Error(`algo.id: unknown algorithm ${cfg.algo.id}`);
  const { id: _e, ...envConfig } = cfg.env;
  const { id: _a, ...algoConfig } = cfg.algo;
  const numEnvs = Number(cfg.train.numEnvs);
  const total = Number(cfg.train.episodes);
  const checkpointEvery = Number(cfg.train.checkpointEvery);
  const replayEvery = Number(cfg.train.replayEvery);

  // Read first: a frozen opponent's round is pinned by what the checkpoint recorded.
  let resumed = msg.resumeFrom ? readCheckpointFile(msg.resumeFrom) : undefined;
  const played = (resumed?.extra.cairn as { opponent?: PlayedOpponent } | undefined)?.opponent;
  const frozen = await withOpponent(envEntry.create(envConfig, { numEnvs, autoReset: false }), msg, played);
  // DRIMA's reward interaction (train.interaction) sits between the env and the learner, so
  // the learner reads reshaped rewards without knowing; its trackers ride in the env state.
  const env = withRewardInteraction(frozen.env, cfg.train);
  const metricKeys = env.spec.metricKeys;
  const episodeRow = episodeRowMaker(env.spec);
  const trainer = algoEntry.createTrainer({
    tf,
    env,
    envConfig,
    config: algoConfig,
    seed: msg.seed,
    rng: new Rng(msg.seed, ALGO_STREAM),
  });

  let round = 0;
  let envSteps = 0;
  let episodeIdx = 0;
  if (resumed) {
    trainer.load(resumed);
    const c = resumed.extra.cairn as { round: number; envSteps: number; episodeIdx: number };
    ({ round, envSteps, episodeIdx } = c);
    // Not kept for the whole run: a checkpoint may hold a replay buffer of hundreds of MB.
    resumed = undefined;
  }
  await send({ type: 'started', backend: info.name, metricKeys: [...metricKeys], metricSpecs: [...env.spec.metrics], round, envSteps });

  let lastSaved = round;
  const checkpoint = async () => {
    const ckpt = await trainer.save();
    const file = path.join(msg.checkpointDir, `round-${String(round).padStart(8, '0')}.ckpt`);
    const bytes = writeCheckpointFile(file, {
      tensors: ckpt.tensors,
      extra: { ...ckpt.extra, cairn: { round, envSteps, episodeIdx, ...(frozen.opponent ? { opponent: frozen.opponent } : {}) } },
    });
    lastSaved = round;
    await send({ type: 'checkpoint', round, envSteps, path: file, bytes });
  };

  // Copy 0 is always recorded (one copy of B: cheap) so live viewers get every round's
  // episode; only every replayEvery-th round, and the last, is stored.
  env.setRecording(0, true);
  let t0 = performance.now();
  let stepsSince = 0;
  while (round < total && !stopRequested) {
    const res = await trainer.round();
    round++;
    envSteps += res.envSteps;
    stepsSince += res.envSteps;
    const store = (replayEvery > 0 && round % replayEvery === 0) || round === total;
    let live;
    const episodes = res.episodes.map((ep) => {
      const row = episodeRow(ep, episodeIdx++, round);
      if (ep.replay) {
        live = ep.replay;
        if (store) row.replay = ep.replay;
      }
      return row;
    });
    const now = performance.now();
    const stats = { ...res.stats, ...interactionStats(env) };
    if (now - t0 >= 1000) {
      stats['charts/env_steps_per_s'] = (stepsSince * 1000) / (now - t0);
      t0 = now;
      stepsSince = 0;
    }
    const metrics = roundPoints(metricKeys, res.episodes, stats, {
      step: envSteps,
      episode: round,
      wallTime: Date.now(),
    });
    await send({ type: 'round', round, envSteps, metrics, episodes, live });
    await fault(msg.runId, round);
    // Rounds on the wasm/cpu backends never leave the microtask queue; yield to the event
    // loop so the runner's stop message is read.
    await new Promise((r) => setImmediate(r));
    if (round % checkpointEvery === 0 || round === total) await checkpoint();
  }
  if (round < total) {
    if (lastSaved !== round) await checkpoint();
    await send({ type: 'stopped', round, envSteps });
  } else {
    await send({ type: 'done', round, envSteps });
  }
  trainer.dispose();
}

process.on('message', (raw: unknown) => {
  const msg = raw as ParentMessage;
  if (msg.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (msg.type === 'threads') {
    // Read by the trainer at its next update (an 'auto' PPO run; other learners ignore it).
    setPpoAutoThreads(msg.updateThreads);
    return;
  }
  if (msg.type === 'start') {
    setPpoAutoThreads(msg.updateThreads ?? 1);
    run(msg)
      .then(() => process.exit(0))
      .catch(async (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        await send({ type: 'error', message: e.message, stack: e.stack });
        process.exit(1);
      });
  }
});

// A batch scheduler (Slurm's scancel, requeue, preemption, time limit) signals every process
// of a job, the worker included: stop after this round with a checkpoint, as the runner asks.
process.on('SIGTERM', () => {
  stopRequested = true;
});

// If the runner dies, do not train on as an orphan.
process.on('disconnect', () => process.exit(0));
