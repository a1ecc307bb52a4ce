/**
 * COMA's critic thread (src-shared/algos/coma-critic-step.ts; started by coma-critic-thread.ts).
 * It starts its own tfjs instance on the run's backend, single-threaded (the point is one more
 * core, not a pool inside it), builds replicas of the critic, its target and its optimiser, and
 * runs each `update`: load the state, the critic's update with Q published to the shared buffer
 * as soon as the forward has it, the state back. Any error is written to the shared failure
 * flag (a trainer may be waiting on Q), reported, and ends the thread: the run fails.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../backend/select';
import { comaCriticUpdate, type ComaCriticSpec } from '../../src-shared/algos/coma-critic-step';
import { ComaCriticWork, comaCriticPath } from '../../src-shared/algos/coma-critic';
import { actorLossWork, comaActorPart, type ComaActorPartBuffers } from '../../src-shared/algos/coma-actor-part';
import { RecurrentActor } from '../../src-shared/algos/recurrent-actor';
import type { EnvSpec } from '../../src-shared/envs/types';
import { registerGradients } from '../../src-shared/nn/gradients';
import { Mlp } from '../../src-shared/nn/mlp';
import { Adam, RMSprop, type Optimizer } from '../../src-shared/nn/optim';
import { ParamSet } from '../../src-shared/nn/params';
import { Rng } from '../../src-shared/rng';
import type { ComaHostMessage, ComaShared } from './coma-critic-thread';
import { signalDone, signalFailed } from './helper-signal';
import { serveHelper } from './helper-worker';

const port = parentPort!;
const { backend, spec, shared } = workerData as { backend: BackendChoice; spec: ComaCriticSpec; shared: ComaShared };

serveHelper<ComaHostMessage>(
  backend,
  () => {
    // The initial values are overwritten by every update's state; the Rng only fills them.
    const rng = new Rng(0);
    const sizes = [...spec.sizes];
    const params = new ParamSet(tf);
    const critic = new Mlp(tf, params, 'critic', sizes, spec.activation, 1, rng);
    const targetParams = new ParamSet(tf, false);
    const target = new Mlp(tf, targetParams, 'critic', sizes, spec.activation, 1, rng);
    const opt: Optimizer =
      spec.optimizer === 'adam' ? new Adam(tf, params, { lr: spec.lr }) : new RMSprop(tf, params, { lr: spec.lr, alpha: spec.rmspropAlpha, eps: spec.rmspropEps });
    const A = sizes[sizes.length - 1];
    const F = sizes[0];
    // The actor's replica for a split update (actorHelperShare); its values come with each job.
    let actor: RecurrentActor | null = null;
    let partBuf: ComaActorPartBuffers | undefined;
    if (spec.actor) {
      registerGradients(tf);
      const a = spec.actor;
      const envSpec = { obsSize: a.obsSize, numActions: a.numActions } as EnvSpec;
      actor = new RecurrentActor(tf, envSpec, { hiddenDim: a.hiddenDim, activation: a.activation, gruGates: a.gruGates }, 1, rng);
      // Sized for a whole batch: a part is smaller, and nothing is allocated per update.
      partBuf = { q: new Float32Array(spec.maxRows * a.numActions), work: actorLossWork(spec.maxRows, a.numActions) };
    }
    const buf = {
      feats: new Float32Array(spec.maxSlots * F),
      qPre: new Float32Array(shared.q, 0, spec.maxRows * A),
      work: new ComaCriticWork(spec.maxSlots, A),
    };
    return (msg) => {
      if (msg.kind === 'update') {
        params.loadRecords(msg.state.critic);
        targetParams.loadRecords(msg.state.target);
        opt.setState(msg.state.opt);
        const saved = comaCriticPath.reference;
        comaCriticPath.reference = msg.job.reference;
        try {
          const result = comaCriticUpdate(tf, { critic, params, target, opt }, msg.job.settings, msg.job.batch, msg.job.targetInSync, buf, () => signalDone(shared.signal, msg.seq));
          const job = msg.job.actor;
          if (job && !actor) throw new Error('coma critic thread: an actor part was sent, but the thread was started without the actor\'s sizes');
          // After the critic's update: its Q (buf.qPre) is complete, and the trainer needs this
          // part only after its own.
          const part = job ? comaActorPart(tf, actor!, job, buf.qPre, msg.job.batch.B, partBuf) : undefined;
          const transfer = part ? Object.values(part.grads).map((r) => r.data.buffer as ArrayBuffer) : [];
          port.postMessage({ kind: 'update', id: msg.id, result, state: { critic: params.toRecords(), target: {}, opt: opt.getState() }, actor: part }, transfer);
        } finally {
          comaCriticPath.reference = saved;
        }
      }
    };
  },
  (e) => signalFailed(shared.signal, e),
);
