/**
 * The PPO critic's helper thread (src-shared/algos/ppo-critic-step.ts; started by
 * ppo-critic-thread.ts). It starts its own tfjs instance on the run's backend, single-threaded
 * (the point is one more core, not a pool inside it), builds a replica of the critic and runs
 * the queued messages in order: begin (load parameters and Adam state), rollout-step (the
 * critic's forward on one rollout step's rows, kept with its values in a CriticRolloutStore),
 * rollout-done (the values and chunk-start states back), step (one staged minibatch) or
 * staged-step (one minibatch staged here from the held rollout), end (send the state back).
 * Any error is reported and ends the thread: the run fails.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../backend/select';
import { CriticRolloutStore, criticStep, type CriticSpec, type CriticJob } from '../../src-shared/algos/ppo-critic-step';
import { Adam } from '../../src-shared/nn/optim';
import { PpoNet } from '../../src-shared/nn/ppo-net';
import { Rng } from '../../src-shared/rng';
import type { HostMessage } from './ppo-critic-thread';
import { serveHelper } from './helper-worker';

const port = parentPort!;
const { backend, spec } = workerData as { backend: BackendChoice; spec: CriticSpec };

serveHelper<HostMessage>(backend, () => {
  // The initial values are overwritten by every `begin`; the Rng only fills them.
  const net = new PpoNet(tf, spec.shape, spec.groups, spec.hidden, spec.outputs, spec.activation, 1, new Rng(0), spec.recurrent);
  const opt = new Adam(tf, net.params, { lr: spec.lr, eps: spec.eps });
  // The critic's rollout when this thread carries it, and the staging buffers of its minibatches.
  const store = new CriticRolloutStore(spec.shape, spec.groups, spec.hidden, spec.rollout);
  const bufs: Record<string, Float32Array> = {};
  const buf = (name: string, n: number): Float32Array => {
    if (!bufs[name] || bufs[name].length < n) bufs[name] = new Float32Array(n);
    const v = bufs[name].subarray(0, n);
    v.fill(0);
    return v;
  };
  return (msg) => {
    if (msg.kind === 'begin') {
      net.params.loadRecords(msg.state.params);
      opt.setState(msg.state.opt);
    } else if (msg.kind === 'step') {
      const r = criticStep(tf, net, opt, msg.job as CriticJob);
      port.postMessage({ kind: 'step', id: msg.id, value: r.value, norms: r.norms });
    } else if (msg.kind === 'rollout-step') {
      const { rowsC } = spec.rollout;
      if (msg.t === 0) store.reset();
      store.cPatch.set(msg.patches, msg.t * rowsC * store.pk);
      store.cExtra.set(msg.extras, msg.t * rowsC * store.E);
      store.step(tf, net, msg.t, msg.chunkStart);
    } else if (msg.kind === 'rollout-done') {
      port.postMessage({ kind: 'rollout-done', id: msg.id, result: { vals: store.vals.slice(), hCStore: store.hCStore.slice() } });
    } else if (msg.kind === 'staged-step') {
      const j = msg.job;
      const nC = j.GC * j.CL * j.SC;
      const inputs = { cP: buf('cP', nC * store.pk), cE: buf('cE', nC * store.E), cH: buf('cH', j.GC * j.SC * store.H), cOld: buf('cOld', nC * j.K) };
      store.stage(j.units, j.T, j.valid, inputs);
      const r = criticStep(tf, net, opt, { ...j, ...inputs });
      port.postMessage({ kind: 'step', id: msg.id, value: r.value, norms: r.norms });
    } else if (msg.kind === 'end') {
      port.postMessage({ kind: 'end', id: msg.id, state: { params: net.params.toRecords(), opt: opt.getState() } });
    }
  };
});
