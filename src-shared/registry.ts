/**
 * Registries of environments and algorithms. Adding an env or algorithm = one import here;
 * the conformance test and the (learner, env) contract test run over every entry.
 */
import type { EnvEntry } from './envs/types';
import type { AlgoEntry } from './algos/types';
import { manitokanEntry } from './envs/manitokan';
import { matrixGameEntry } from './envs/matrix-game';
import { spreadEntry } from './envs/spread';
import { battleEntry } from './envs/battle';
import { randomEntry } from './algos/random';
import { pgEntry } from './algos/pg';
import { comaEntry } from './algos/coma';
import { ippoEntry } from './algos/ippo';
import { mappoEntry } from './algos/mappo';
import { defaults } from './config/schema';

const envs: EnvEntry[] = [manitokanEntry, matrixGameEntry, spreadEntry, battleEntry];
/** Each learner with the ids of the built-in envs it accepts at their default configs. */
const algos: AlgoEntry[] = [randomEntry, pgEntry, comaEntry, ippoEntry, mappoEntry].map((a) => ({
  ...a,
  envs: envs.filter((e) => a.accepts(e.spec(defaults(e.schema))).length === 0).map((e) => e.id),
}));

/**
 * Add an environment from outside the built-in list (a researcher's module loaded with
 * `--env-module`). Ids are unique: a module cannot replace a
 * built-in env, and loading the same entry twice is a no-op.
 */
export function registerEnv(entry: EnvEntry): void {
  const have = getEnv(entry.id);
  if (have === entry) return;
  if (have) throw new Error(`env id ${JSON.stringify(entry.id)} is already taken by ${have.title}; choose another id`);
  envs.push(entry);
}

export function listEnvs(): readonly EnvEntry[] {
  return envs;
}
export function getEnv(id: string): EnvEntry | undefined {
  return envs.find((e) => e.id === id);
}
export function listAlgos(): readonly AlgoEntry[] {
  return algos;
}
export function getAlgo(id: string): AlgoEntry | undefined {
  return algos.find((a) => a.id === id);
}
