/**
 * PPO's inputs (split out of ppo-trainer.ts): what an env must offer (PPO_NEEDS, ppoProblems),
 * the row geometry read from its declared layouts, and how one actor or critic input row is
 * written from the env buffers (a view as one dense patch, the state grid as 3x3 patches, flags,
 * the last-action one-hot); and which rows and groups each side uses for IPPO and MAPPO.
 */
import type { EnvSpec, VecEnv } from '../envs/types';
import { im2col, patchCount } from '../nn/conv';
import type { InputShape } from '../nn/ppo-net';
import { envProblems, leadingPlanes, type EnvNeeds } from './core/compat';
import type { PpoConfig, PpoVariant } from './ppo-trainer';

/** Discrete agents alike, a convolutional view and a convolutional state (the critic's grid). */
export const PPO_NEEDS: EnvNeeds = { actions: 'discrete', uniformAgents: true, planesFirst: true, statePlanesFirst: true };

// ================================================================= inputs

/** Kernel of the state critic's convolution (paper Table 1: 3x3, stride 1). */
export const KERNEL = 3;

export type Source = 'own' | 'joint' | 'state';


/**
 * Row geometry, read from the env's declared layouts (checked once): each observation starts
 * with a planes block (the view, encoded as ONE patch: a convolution whose kernel covers the
 * view, i.e. a dense layer over it), followed by env features (flags) and agent-side history
 * (the last-action one-hot); the state starts with a planes grid in x-y-channel order
 * (convolved with 3x3 kernels), followed by features.
 */
export interface EnvLayout {
  readonly N: number;
  readonly O: number; // obs row length
  readonly envObs: number; // env part of an obs row
  readonly view: number; // values of the view planes block
  readonly flags: number; // envObs - view
  readonly lastAct: number; // O - envObs
  readonly SW: number; // state grid width
  readonly SH: number; // state grid height
  readonly SC: number; // state grid channels
  readonly stateExtra: number; // state features after the grid
  readonly stateSize: number;
}

/** What PPO needs of an env beyond the common needs, in plain words. */
export function ppoProblems(spec: EnvSpec): string[] {
  const out = envProblems(PPO_NEEDS, spec);
  const grid = leadingPlanes(spec.stateLayout);
  if (grid && grid.order !== 'xyc') out.push(`the state grid is stored in '${grid.order}' order (the critic's convolution reads 'xyc')`);
  if (grid && (grid.width < KERNEL || grid.height < KERNEL)) out.push(`the state grid ${grid.width}x${grid.height} is smaller than the ${KERNEL}x${KERNEL} kernel`);
  return out;
}

/** What the MLP ('features') variants need: discrete agents alike; any observation layout. */
export const PPO_FEATURE_NEEDS: EnvNeeds = { actions: 'discrete', uniformAgents: true };

/** The 'features' layout: the whole env observation is one dense "patch", no flags; no state grid. */
function featureLayout(spec: EnvSpec): EnvLayout {
  const problems = envProblems(PPO_FEATURE_NEEDS, spec);
  if (problems.length > 0) throw new Error(`ppo: env "${spec.id}" cannot be used: ${problems.join('; ')}`);
  return {
    N: spec.numAgents,
    O: spec.obsSize,
    envObs: spec.envObsSize,
    view: spec.envObsSize,
    flags: 0,
    lastAct: spec.obsSize - spec.envObsSize,
    SW: 0,
    SH: 0,
    SC: 0,
    stateExtra: spec.stateSize,
    stateSize: spec.stateSize,
  };
}

export function envLayout(spec: EnvSpec, inputs: PpoVariant['inputs'] = 'planes'): EnvLayout {
  if (inputs === 'features') return featureLayout(spec);
  const problems = ppoProblems(spec);
  if (problems.length > 0) throw new Error(`ppo: env "${spec.id}" cannot be used: ${problems.join('; ')}`);
  const view = leadingPlanes(spec.agents[0].obsLayout)!;
  const grid = leadingPlanes(spec.stateLayout)!;
  const V = view.width * view.height * view.channels;
  const G = grid.width * grid.height * grid.channels;
  return {
    N: spec.numAgents,
    O: spec.obsSize,
    envObs: spec.envObsSize,
    view: V,
    flags: spec.envObsSize - V,
    lastAct: spec.obsSize - spec.envObsSize,
    SW: grid.width,
    SH: grid.height,
    SC: grid.channels,
    stateExtra: spec.stateSize - G,
    stateSize: spec.stateSize,
  };
}

export function inputShape(l: EnvLayout, src: Source, lastAction: boolean): InputShape {
  const la = lastAction ? l.lastAct : 0;
  switch (src) {
    case 'own':
      return { P: 1, K: l.view, E: l.flags + la };
    case 'joint':
      return { P: 1, K: l.view * l.N, E: l.flags * l.N + la };
    case 'state':
      return { P: patchCount(l.SW, l.SH, KERNEL), K: KERNEL * KERNEL * l.SC, E: l.stateExtra };
  }
}

/**
 * Write one input row for agent `a` of copy `b` from the env buffers: patches at
 * patches[pOff..] (P * K) and extras at extras[eOff..] (E). Env values are multiplied by
 * `scale`; the last-action one-hot is copied as is.
 */
export function writeRow(
  env: VecEnv,
  l: EnvLayout,
  src: Source,
  lastAction: boolean,
  scale: number,
  a: number,
  b: number,
  patches: Float32Array,
  pOff: number,
  extras: Float32Array,
  eOff: number,
): void {
  const obs = env.obs;
  const { N, O, envObs, flags, view } = l;
  let e = eOff;
  if (src === 'state') {
    const s0 = b * l.stateSize;
    im2col(env.state, s0, l.SW, l.SH, l.SC, KERNEL, patches, pOff, scale);
    const tail = s0 + l.SW * l.SH * l.SC;
    for (let i = 0; i < l.stateExtra; i++) extras[e++] = env.state[tail + i] * scale;
    return;
  }
  const first = src === 'own' ? a : 0;
  const last = src === 'own' ? a + 1 : N;
  let p = pOff;
  for (let i = first; i < last; i++) {
    const o = (b * N + i) * O;
    for (let k = 0; k < view; k++) patches[p++] = obs[o + k] * scale;
  }
  for (let i = first; i < last; i++) {
    const o = (b * N + i) * O + view;
    for (let k = 0; k < flags; k++) extras[e++] = obs[o + k] * scale;
  }
  if (lastAction) {
    const o = (b * N + a) * O + envObs;
    for (let k = 0; k < O - envObs; k++) extras[e++] = obs[o + k];
  }
}

/** Which network rows and groups each side uses (derived from variant and config). */
export interface Sides {
  actorSrc: 'own' | 'joint';
  criticSrc: Source;
  GA: number; // actor groups
  GC: number; // critic groups
  rowsA: number; // actor rows per step, [agent][copy]
  rowsC: number; // critic rows per step: [agent][copy] (independent) or [copy] (shared V)
  J: number; // targets per critic row: 1, or N for the shared V
}

/** The actor's input source: `joint-with-last-action` is joint only when the last action is observed. */
export function actorSource(cfg: PpoConfig, l: EnvLayout): 'own' | 'joint' {
  if (cfg.actorObservation === 'joint-with-last-action') return l.lastAct > 0 ? 'joint' : 'own';
  return cfg.actorObservation;
}

export function sides(variant: PpoVariant, cfg: PpoConfig, l: EnvLayout, N: number, B: number): Sides {
  const actorSrc = actorSource(cfg, l);
  const criticSrc: Source = cfg.criticInput === 'own-obs' ? 'own' : cfg.criticInput === 'joint-obs' ? 'joint' : 'state';
  const GA = cfg.actorSharing === 'shared' ? 1 : N;
  if (variant.independent) return { actorSrc, criticSrc, GA, GC: N, rowsA: N * B, rowsC: N * B, J: 1 };
  return { actorSrc, criticSrc, GA, GC: 1, rowsA: N * B, rowsC: B, J: N };
}
