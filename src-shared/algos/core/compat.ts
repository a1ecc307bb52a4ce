/**
 * Which envs a learner can train on, decided from what the env's spec offers (action space
 * kinds, observation layout, global state, who controls each team), never from a list of env
 * ids: a researcher's new env that offers the same is accepted without touching the learner.
 *
 * A learner declares its needs as `EnvNeeds`; `envProblems` lists, in plain words, what a
 * spec lacks (empty = compatible). The registry's `accepts` is built from it, and the config
 * check, `cairn algos` and the contract test all ask the same function.
 */
import type { Controller, EnvSpec, ObsBlock } from '../../envs/types';

export interface EnvNeeds {
  /** Action spaces the learner can drive: every agent discrete, every agent a box, or either. */
  readonly actions: 'discrete' | 'box' | 'any';
  /**
   * Every learner-controlled agent has the same discrete action count and observation size
   * (a parameter-shared actor, or one batched network per agent over one row width).
   */
  readonly uniformAgents?: boolean;
  /** The observation of every agent starts with a `planes` block (a convolutional encoder). */
  readonly planesFirst?: boolean;
  /** The global state starts with a `planes` block (a convolutional centralised critic). */
  readonly statePlanesFirst?: boolean;
  /** Team controllers the learner supports; default learner and script. */
  readonly controllers?: readonly Controller[];
}

/** What `spec` lacks for a learner with these needs, in plain words; empty when compatible. */
export function envProblems(needs: EnvNeeds, spec: EnvSpec): string[] {
  const out: string[] = [];
  const allowed = needs.controllers ?? ['learner', 'script'];
  const learned = new Set<number>();
  for (const t of spec.teams) {
    if (!allowed.includes(t.controller)) out.push(`team ${t.name} is controlled by '${t.controller}' (supported: ${allowed.join(', ')})`);
    if (t.controller === 'learner') for (const i of t.agents) learned.add(i);
  }
  if (learned.size === 0) out.push('no team is controlled by the learner');
  const agents = spec.agents.filter((_, i) => learned.has(i));
  for (const [i, a] of spec.agents.entries()) {
    if (!learned.has(i)) continue;
    if (needs.actions !== 'any' && a.action.kind !== needs.actions) out.push(`agent ${i} (${a.name}) acts in a ${a.action.kind} space (supported: ${needs.actions})`);
    if (needs.planesFirst && a.obsLayout[0]?.kind !== 'planes') out.push(`agent ${i} (${a.name}): the observation does not start with a planes block (a convolutional encoder needs one)`);
  }
  if (needs.uniformAgents && agents.length > 0) {
    const n = (x: (typeof agents)[number]) => (x.action.kind === 'discrete' ? x.action.n : -x.action.size);
    if (agents.some((a) => n(a) !== n(agents[0]) || a.obsSize !== agents[0].obsSize)) out.push('agents differ in action space or observation size (the learner batches them through one network shape)');
  }
  if (needs.statePlanesFirst && spec.stateLayout[0]?.kind !== 'planes') out.push('the global state does not start with a planes block (the centralised critic is convolutional)');
  return out;
}

/** Accepts every env (the random baseline). */
export function anyEnv(): string[] {
  return [];
}

/** The first planes block of a layout (what a convolutional encoder reads), if any. */
export function leadingPlanes(layout: readonly ObsBlock[]): Extract<ObsBlock, { kind: 'planes' }> | null {
  const b = layout[0];
  return b && b.kind === 'planes' ? b : null;
}
