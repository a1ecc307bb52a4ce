/**
 * PG's critic thread (src-shared/algos/pg-critic-step.ts; started by pg-critic-thread.ts). It
 * starts its own tfjs instance on the run's backend, single-threaded (the point is one more
 * core, not a pool inside it), builds replicas of the critics and their optimiser, and runs
 * each `update`: load the state, the critics' update with V published to the shared buffer as
 * soon as the forward has it, the state back. Any error is written to the shared failure flag
 * (the trainer may be waiting on V), reported, and ends the thread: the run fails.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../backend/select';
import { pgCriticUpdate, type PgCriticSpec } from '../../src-shared/algos/pg-critic-step';
import { makeCritics } from '../../src-shared/algos/pg-critics';
import type { EnvSpec } from '../../src-shared/envs/types';
import { RMSprop } from '../../src-shared/nn/optim';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import { signalDone, signalFailed } from './helper-signal';
import { serveHelper } from './helper-worker';
import type { PgHostMessage, PgShared } from './pg-critic-thread';

const port = parentPort!;
const { backend, spec, shared } = workerData as { backend: BackendChoice; spec: PgCriticSpec; shared: PgShared };

serveHelper<PgHostMessage>(
  backend,
  () => {
    const [envObsSize, H] = spec.sizes;
    const params = new ParamSet(tf);
    // The initial values are overwritten by every update's state; the Rng only fills them.
    const critics = makeCritics(tf, params, { numAgents: spec.numAgents, envObsSize } as EnvSpec, { criticHiddenDim: H, activation: spec.activation }, new Rng(0));
    const opt = new RMSprop(tf, params, { lr: spec.lr, alpha: spec.rmspropAlpha, eps: spec.rmspropEps });
    const values = new Float32Array(shared.values, 0, spec.maxRows);
    let stage = new Float32Array(0);
    return (msg) => {
      if (msg.kind === 'update') {
        params.loadRecords(msg.state.critic);
        opt.setState(msg.state.opt);
        const d = msg.job.batch;
        const need = d.T * d.N * d.B * d.E;
        if (stage.length < need) stage = new Float32Array(need);
        const result = pgCriticUpdate(tf, { params, critics, opt }, msg.job.settings, d, stage, values, () => signalDone(shared.signal, msg.seq));
        port.postMessage({ kind: 'update', id: msg.id, result, state: { critic: params.toRecords(), opt: opt.getState() } });
      }
    };
  },
  (e) => signalFailed(shared.signal, e),
);
