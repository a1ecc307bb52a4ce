/**
 * What the registries hold, described for people and scripts (`cairn envs`, `cairn algos`):
 * every env's agents, teams, spaces, observation layout, declared metrics and presets, and
 * every learner's compatible envs and presets. Read from the registries and the env specs at
 * their default configs, so a new env or learner shows up without touching this file.
 */
import { defaults } from '../../src-shared/config/schema';
import { listPresets } from '../../src-shared/config/presets';
import type { ActionSpace, EnvEntry, ObsBlock, TeamSpec } from '../../src-shared/envs/types';
import type { AlgoEntry } from '../../src-shared/algos/types';
import type { MetricSpec } from '../../src-shared/metrics';
import { listAlgos, listEnvs } from '../../src-shared/registry';
import { envModuleOf } from './env-module';

export interface EnvInfo {
  id: string;
  title: string;
  /** Present for envs loaded from a module (its absolute path). */
  module?: string;
  numAgents: number;
  agents: { name: string; team: string; action: ActionSpace; obsSize: number; obsLayout: readonly ObsBlock[] }[];
  teams: readonly TeamSpec[];
  stateSize: number;
  episodeLimit: number;
  metrics: readonly MetricSpec[];
  presets: string[];
}

export interface AlgoInfo {
  id: string;
  title: string;
  /** Registered envs this learner can train on. */
  envs: string[];
  presets: string[];
}

/** Presets by env id and by algo id (a preset without ids gets the experiment defaults). */
function presetIndex(): { byEnv: Map<string, string[]>; byAlgo: Map<string, string[]> } {
  const byEnv = new Map<string, string[]>();
  const byAlgo = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const p of listPresets()) {
    push(byEnv, p.config.env?.id ?? 'manitokan', p.name);
    push(byAlgo, p.config.algo?.id ?? 'random', p.name);
  }
  return { byEnv, byAlgo };
}

export function describeEnv(e: EnvEntry, presets = presetIndex().byEnv): EnvInfo {
  const spec = e.spec(defaults(e.schema));
  const info: EnvInfo = {
    id: e.id,
    title: e.title,
    numAgents: spec.numAgents,
    agents: spec.agents.map((a) => ({ name: a.name, team: spec.teams[a.team]?.name ?? String(a.team), action: a.action, obsSize: a.obsSize, obsLayout: a.obsLayout })),
    teams: spec.teams,
    stateSize: spec.stateSize,
    episodeLimit: spec.episodeLimit,
    metrics: spec.metrics,
    presets: presets.get(e.id) ?? [],
  };
  const module = envModuleOf(e.id);
  return module === undefined ? info : { ...info, module };
}

/** Registered envs (module ones too) whose default config the learner accepts. */
export function compatibleEnvs(a: AlgoEntry, envs: readonly EnvEntry[] = listEnvs()): string[] {
  return envs
    .filter((e) => {
      try {
        return a.accepts(e.spec(defaults(e.schema))).length === 0;
      } catch {
        return false;
      }
    })
    .map((e) => e.id);
}

export function describeAlgo(a: AlgoEntry, presets = presetIndex().byAlgo): AlgoInfo {
  return { id: a.id, title: a.title, envs: compatibleEnvs(a), presets: presets.get(a.id) ?? [] };
}

export function describeEnvs(): EnvInfo[] {
  const { byEnv } = presetIndex();
  return listEnvs().map((e) => describeEnv(e, byEnv));
}

export function describeAlgos(): AlgoInfo[] {
  const { byAlgo } = presetIndex();
  return listAlgos().map((a) => describeAlgo(a, byAlgo));
}

/** One line for an action space: "discrete 7 (left, right, ...)" or "box 2 in [-1, 1] (x, y)". */
export function spaceText(s: ActionSpace): string {
  if (s.kind === 'discrete') return `discrete ${s.n} (${s.names.join(', ')})`;
  const lo = Math.min(...s.low);
  const hi = Math.max(...s.high);
  return `box ${s.size} in [${lo}, ${hi}] (${s.names.join(', ')})`;
}

/** One line for an observation layout: "27 = planes 3x3x3 'view' + features 7 'last action'". */
export function layoutText(size: number, blocks: readonly ObsBlock[]): string {
  const parts = blocks.map((b) => (b.kind === 'planes' ? `${b.width}x${b.height}x${b.channels} planes "${b.name}"` : `${b.size} "${b.name}"`));
  return `${size}${parts.length ? ` = ${parts.join(' + ')}` : ''}`;
}
