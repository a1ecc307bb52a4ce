/**
 * Registries of environments and algorithms. Adding an env or algorithm = one import here;
 * the conformance test and the (learner, env) contract test run over every entry.
 */
import type { EnvEntry } from './envs/types';
import type { AlgoEntry } from './algos/types';
import { manitokanEntry } from './envs/manitokan';
import { matrixGameEntry } from './envs/matrix-game';
import { spreadEntry } from './envs/spread';
import { speakerListenerEntry } from './envs/speaker-listener';
import { adversaryEntry } from './envs/adversary';
import { pushBoxEntry } from './envs/push-box';
import { secretRoomEntry } from './envs/secret-room';
import { huntingEntry } from './envs/drima-hunting';
import { collectionEntry } from './envs/drima-collection';
import { battleEntry } from './envs/battle';
import { treasureCollectionEntry } from './envs/treasure-collection';
import { roverTowerEntry } from './envs/rover-tower';
import { randomEntry } from './algos/random';
import { pgEntry } from './algos/pg';
import { comaEntry } from './algos/coma';
import { ippoEntry } from './algos/ippo';
import { mappoEntry } from './algos/mappo';
import { vdnEntry } from './algos/vdn';
import { qmixEntry } from './algos/qmix';
import { qtranEntry } from './algos/qtran';
import { mavenEntry } from './algos/maven';
import { driAcEntry } from './algos/dri-ac';
import { a2cEntry } from './algos/a2c';
import { dqnEntry } from './algos/dqn';
import { safEntry } from './algos/saf';
import { ddpgEntry } from './algos/ddpg';
import { maddpgEntry } from './algos/maddpg';
import { alitaEntry } from './algos/alita';
import { maacEntry } from './algos/maac';
import { maAcEntry } from './algos/ma-ac';
import { eitiEntry } from './algos/eiti';
import { edtiEntry } from './algos/edti';
import { socialInfluenceEntry } from './algos/social-influence';
import { f2a2Entry } from './algos/f2a2';
import { f2a2ComaEntry } from './algos/f2a2-coma';
import { iqlEntry } from './algos/iql';
import { f2a2IsacEntry } from './algos/f2a2-isac';
import { defaults } from './config/schema';

// One entry per line, so that adding an env or a learner is a one-line change.
const envs: EnvEntry[] = [
  manitokanEntry,
  matrixGameEntry,
  spreadEntry,
  speakerListenerEntry,
  adversaryEntry,
  pushBoxEntry,
  secretRoomEntry,
  huntingEntry,
  collectionEntry,
  battleEntry,
  treasureCollectionEntry,
  roverTowerEntry,
];
const builtinAlgos: AlgoEntry[] = [
  randomEntry,
  pgEntry,
  comaEntry,
  ippoEntry,
  mappoEntry,
  vdnEntry,
  qmixEntry,
  qtranEntry,
  mavenEntry,
  safEntry,
  driAcEntry,
  a2cEntry,
  dqnEntry,
  ddpgEntry,
  maddpgEntry,
  alitaEntry,
  maacEntry,
  maAcEntry,
  eitiEntry,
  edtiEntry,
  socialInfluenceEntry,
  f2a2Entry,
  f2a2ComaEntry,
  iqlEntry,
  f2a2IsacEntry,
];
/** Each learner with the ids of the built-in envs it accepts at their default configs. */
const algos: AlgoEntry[] = builtinAlgos.map((a) => ({
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
  // The learners' lists of accepted envs were built from the built-ins: add the new env to
  // the lists of those that accept it (else `resolveConfig` refuses every learner for it).
  const spec = entry.spec(defaults(entry.schema));
  for (const a of algos) if (a.envs && !a.envs.includes(entry.id) && a.accepts(spec).length === 0) Object.assign(a, { envs: [...a.envs, entry.id] });
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
