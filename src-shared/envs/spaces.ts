/**
 * Builders for env specs: spaces, layouts, teams, and `buildSpec`, which derives the flat-buffer
 * sizes (`obsSize`, `numActions`, `boxSize`, ...) from the per-agent description so an env
 * cannot declare them inconsistently. `specProblems` lists what is wrong with a spec in plain
 * words (the conformance test and `cairn env check` print it).
 */
import type { ActionSpace, AgentSpec, BoxSpace, DiscreteSpace, EnvSpec, MetricSpec, ObsBlock, TeamSpec } from './types';

export function discrete(names: readonly string[]): DiscreteSpace {
  return { kind: 'discrete', n: names.length, names: [...names] };
}

export function box(names: readonly string[], low: number, high: number): BoxSpace {
  return { kind: 'box', size: names.length, low: names.map(() => low), high: names.map(() => high), names: [...names] };
}

export function features(name: string, size: number, source: 'env' | 'history' = 'env'): ObsBlock {
  return source === 'env' ? { kind: 'features', name, size } : { kind: 'features', name, size, source };
}

export function blocksSize(blocks: readonly ObsBlock[]): number {
  let n = 0;
  for (const b of blocks) n += b.kind === 'features' ? b.size : b.width * b.height * b.channels;
  return n;
}

/** Size of the leading blocks that come from the env (up to the first 'history' block). */
export function envBlocksSize(blocks: readonly ObsBlock[]): number {
  let n = 0;
  for (const b of blocks) {
    if (b.source === 'history') break;
    n += b.kind === 'features' ? b.size : b.width * b.height * b.channels;
  }
  return n;
}

export function agent(name: string, team: number, action: ActionSpace, obsLayout: readonly ObsBlock[]): AgentSpec {
  return { name, team, action, obsSize: blocksSize(obsLayout), obsLayout: [...obsLayout] };
}

export function team(name: string, agents: readonly number[], opts: Partial<Pick<TeamSpec, 'controller' | 'script' | 'sharedReward'>> = {}): TeamSpec {
  const t: TeamSpec = { name, agents: [...agents], controller: opts.controller ?? 'learner', sharedReward: opts.sharedReward ?? false };
  return opts.script === undefined ? t : { ...t, script: opts.script };
}

export interface SpecParts {
  id: string;
  agents: readonly AgentSpec[];
  teams: readonly TeamSpec[];
  stateLayout: readonly ObsBlock[];
  episodeLimit: number;
  metricKeys: readonly string[];
  /** Declared metrics in `metricKeys` order; undefined declares each key with itself as title. */
  metrics?: readonly MetricSpec[];
  /** Per agent, the observation blocks that make its discrete local state (EnvSpec.discreteState). */
  discreteState?: EnvSpec['discreteState'];
}

/** The full spec, with the flat-buffer sizes derived from the agents. */
export function buildSpec(p: SpecParts): EnvSpec {
  let obsSize = 0;
  let envObsSize = 0;
  let numActions = 0;
  let actionNames: readonly string[] = [];
  let boxSize = 0;
  for (const a of p.agents) {
    obsSize = Math.max(obsSize, a.obsSize);
    envObsSize = Math.max(envObsSize, envBlocksSize(a.obsLayout));
    if (a.action.kind === 'discrete') {
      if (a.action.n > numActions) {
        numActions = a.action.n;
        actionNames = a.action.names;
      }
    } else boxSize = Math.max(boxSize, a.action.size);
  }
  return {
    id: p.id,
    numAgents: p.agents.length,
    agents: p.agents,
    teams: p.teams,
    obsSize,
    envObsSize,
    numActions,
    actionNames: [...actionNames],
    boxSize,
    stateSize: blocksSize(p.stateLayout),
    stateLayout: p.stateLayout,
    episodeLimit: p.episodeLimit,
    metricKeys: p.metricKeys,
    metrics: p.metrics ?? p.metricKeys.map((key) => ({ key, title: key })),
    ...(p.discreteState ? { discreteState: p.discreteState } : {}),
  };
}

/** True when every agent picks from the same discrete space (what the current learners need). */
export function isUniformDiscrete(spec: EnvSpec): boolean {
  return spec.agents.every((a) => a.action.kind === 'discrete' && a.action.n === spec.numActions);
}

/** Agents the learner acts for (teams controlled by 'learner'), ascending. */
export function learnerAgents(spec: EnvSpec): number[] {
  const out: number[] = [];
  for (const t of spec.teams) if (t.controller === 'learner') out.push(...t.agents);
  return out.sort((a, b) => a - b);
}

/** Everything inconsistent in a spec, in plain words; empty when it is sound. */
export function specProblems(spec: EnvSpec): string[] {
  const out: string[] = [];
  const N = spec.numAgents;
  if (spec.agents.length !== N) out.push(`agents lists ${spec.agents.length} agents but numAgents is ${N}`);
  const seen = new Array<number>(N).fill(0);
  spec.teams.forEach((t, ti) => {
    if (t.agents.length === 0) out.push(`team ${t.name} has no agents`);
    for (const i of t.agents) {
      if (!Number.isInteger(i) || i < 0 || i >= N) out.push(`team ${t.name} names agent ${i}, outside 0..${N - 1}`);
      else {
        seen[i]++;
        if (spec.agents[i] && spec.agents[i].team !== ti) out.push(`agent ${i} is in team ${t.name} but says team ${spec.agents[i].team}`);
      }
    }
  });
  seen.forEach((c, i) => c !== 1 && out.push(`agent ${i} is in ${c} teams (must be exactly one)`));
  spec.agents.forEach((a, i) => {
    const used = blocksSize(a.obsLayout);
    if (used !== a.obsSize) out.push(`agent ${i} (${a.name}): obsLayout covers ${used} values but obsSize is ${a.obsSize}`);
    if (a.obsSize > spec.obsSize) out.push(`agent ${i} (${a.name}): obsSize ${a.obsSize} exceeds spec.obsSize ${spec.obsSize}`);
    const s = a.action;
    if (s.kind === 'discrete') {
      if (!Number.isInteger(s.n) || s.n < 1) out.push(`agent ${i} (${a.name}): a discrete space needs n >= 1, got ${s.n}`);
      if (s.names.length !== s.n) out.push(`agent ${i} (${a.name}): ${s.names.length} action names for n = ${s.n}`);
      if (s.n > spec.numActions) out.push(`agent ${i} (${a.name}): n = ${s.n} exceeds spec.numActions ${spec.numActions}`);
    } else {
      if (s.low.length !== s.size || s.high.length !== s.size || s.names.length !== s.size) out.push(`agent ${i} (${a.name}): box bounds and names must have size ${s.size} entries`);
      for (let k = 0; k < s.size; k++) if (!(s.low[k] < s.high[k])) out.push(`agent ${i} (${a.name}): box component ${k} needs low < high, got [${s.low[k]}, ${s.high[k]}]`);
      if (s.size > spec.boxSize) out.push(`agent ${i} (${a.name}): box size ${s.size} exceeds spec.boxSize ${spec.boxSize}`);
    }
  });
  if (blocksSize(spec.stateLayout) !== spec.stateSize) out.push(`stateLayout covers ${blocksSize(spec.stateLayout)} values but stateSize is ${spec.stateSize}`);
  if (spec.actionNames.length !== spec.numActions) out.push(`actionNames has ${spec.actionNames.length} names for numActions = ${spec.numActions}`);
  if (new Set(spec.metricKeys).size !== spec.metricKeys.length) out.push('metricKeys has duplicates');
  if (!(spec.episodeLimit >= 1)) out.push(`episodeLimit must be >= 1, got ${spec.episodeLimit}`);
  if (spec.discreteState) {
    if (spec.discreteState.length !== N) out.push(`discreteState lists ${spec.discreteState.length} agents but numAgents is ${N}`);
    spec.discreteState.forEach((parts, i) => {
      for (const p of parts) {
        const b = spec.agents[i]?.obsLayout[p.block];
        if (!b || b.kind !== 'features') out.push(`discreteState of agent ${i}: block ${p.block} is not a features block of its observation`);
        else if (p.read === 'bits' && b.size > 20) out.push(`discreteState of agent ${i}: block "${b.name}" has ${b.size} bits (at most 20)`);
      }
    });
  }
  return out;
}

/** The sizes a single-space env used to declare (one discrete space and one feature row for all). */
export interface UniformParts {
  id: string;
  numAgents: number;
  obsSize: number;
  /** Defaults to obsSize; the rest of the row is agent-side history. */
  envObsSize?: number;
  actionNames: readonly string[];
  stateSize: number;
  episodeLimit: number;
  metricKeys: readonly string[];
  metrics?: readonly MetricSpec[];
}

/** A spec where every agent shares one discrete space and one flat observation, in one learner team. */
export function uniformSpec(p: UniformParts): EnvSpec {
  const envObs = p.envObsSize ?? p.obsSize;
  const layout = envObs === p.obsSize ? [features('observation', p.obsSize)] : [features('observation', envObs), features('agent history', p.obsSize - envObs, 'history')];
  const action = discrete(p.actionNames);
  const agents = Array.from({ length: p.numAgents }, (_, i) => agent(`agent ${i}`, 0, action, layout));
  return buildSpec({
    id: p.id,
    agents,
    teams: [team('agents', agents.map((_, i) => i))],
    stateLayout: [features('state', p.stateSize)],
    episodeLimit: p.episodeLimit,
    metricKeys: p.metricKeys,
    metrics: p.metrics,
  });
}
