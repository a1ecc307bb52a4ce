/**
 * Type-only view of tfjs-core for the nn modules.
 *
 * Nothing in src-shared imports tfjs-core at runtime: the worker chooses the backend and hands
 * the namespace in (`TrainContext.tf`), so the renderer bundle never pulls TensorFlow.js in and
 * every module uses the one engine instance the backend was registered on.
 */
import type * as tfc from '@tensorflow/tfjs-core';

export type Tf = typeof tfc;
export type Tensor = tfc.Tensor;
export type Scalar = tfc.Scalar;
export type Variable = tfc.Variable;

/** A float tensor as plain data (checkpoints, parameter export). */
export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}
