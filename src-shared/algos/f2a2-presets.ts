/**
 * Presets of F2A2 (f2a2.ts) on the two MAAC particle tasks of the paper's §6.1 (shared/specs/
 * f2a2.md §5): Cooperative Treasure Collection (`treasure-collection`, 8 agents, 100-step
 * episodes) and Rover-Tower (`rover-tower`, 8 agents, 25-step episodes), one per instantiation
 * built so far (F2A2-DDPG, F2A2-TD3), at the paper's appendix-G settings: 12 parallel rollouts,
 * a 1e6 replay, 4 update iterations of 1024-step minibatches per 100 env steps, Adam 1e-3,
 * tau 0.005, gamma 0.99, hidden 128, full topology with an exchange every iteration; 50,000
 * training episodes (the MAAC code's default, spec §4 DESIGN CHOICE) = 4,167 rounds of 12.
 * F2A2 has no released code, so there are no `-released-code` twins.
 *
 * The envs come from issue 11's env work (envs/treasure-collection.ts, envs/rover-tower.ts);
 * a task whose env is not registered in this build has no presets (the list is filtered, not
 * faked), so this file can land before or after the envs.
 */
import type { Preset } from '../config/presets';
import { getEnv } from '../registry';

export interface F2a2Task {
  /** The env id, also the preset-name prefix. */
  readonly env: 'treasure-collection' | 'rover-tower';
  /** The paper's short name (Tables 4-5 rows). */
  readonly key: 'ctc' | 'rt';
  readonly title: string;
}

export const F2A2_TASKS: readonly F2a2Task[] = [
  { env: 'treasure-collection', key: 'ctc', title: 'Cooperative Treasure Collection' },
  { env: 'rover-tower', key: 'rt', title: 'Rover-Tower' },
];

export const F2A2_INSTANTIATIONS = [
  { name: 'ddpg', label: 'F2A2-DDPG', paper: 'Prop 4 (Gumbel-softmax DDPG)' },
  { name: 'td3', label: 'F2A2-TD3', paper: 'Prop 5 (twin critics, delayed actor)' },
] as const;

export type F2a2Instantiation = (typeof F2A2_INSTANTIATIONS)[number]['name'];

/** Appendix G's MPE schedule: 12 rollouts x 4,167 rounds = 50,000 episodes. */
export const F2A2_TRAIN = { episodes: 4167, numEnvs: 12 };

export function f2a2PresetName(task: F2a2Task, inst: F2a2Instantiation): string {
  return `${task.env}-f2a2-${inst}`;
}

/** The tasks whose env this build registers. */
export function f2a2Tasks(): F2a2Task[] {
  return F2A2_TASKS.filter((t) => getEnv(t.env) !== undefined);
}

export function f2a2Presets(): Preset[] {
  return f2a2Tasks().flatMap((t) =>
    F2A2_INSTANTIATIONS.map(
      (inst): Preset => ({
        name: f2a2PresetName(t, inst.name),
        title: `${t.title}, ${inst.label}`,
        description: `${t.title} (8 agents) with ${inst.label}: per-agent actors, per-agent copies of the shared critic${inst.name === 'td3' ? 's' : ''} trained on the joint objective (alpha1 = alpha2 = 1), importance ratios truncated at 1, MOA models of the others, primal-dual consensus over the complete graph at every update iteration; appendix G settings, 50,000 episodes. Metric: mean_return.`,
        paper: `F2A2 §6.1, Fig. 5; ${inst.paper}`,
        config: { env: { id: t.env }, algo: { id: 'f2a2', instantiation: inst.name }, train: { ...F2A2_TRAIN } },
      }),
    ),
  );
}

/**
 * F2A2-COMA (the separate learner `f2a2-coma`, algos/f2a2-coma.ts): `<env>-f2a2-coma`, with its
 * schema's appendix-G defaults (the most recent 1024 steps per update, 4 iterations per 100 env
 * steps, bounded softmax 0.5 -> 0.01 over 50k steps). Appendix G gives the 12 rollouts for every
 * learner "except COMA and F2A2-COMA" and no other count: 12 here too (DESIGN CHOICE), so that
 * F2A2-COMA and its COMA baseline (`f2a2-<env>-coma`) see the same env steps per round.
 */
export function f2a2ComaPresetName(task: F2a2Task): string {
  return `${task.env}-f2a2-coma`;
}

export function f2a2ComaPresets(): Preset[] {
  return f2a2Tasks().map(
    (t): Preset => ({
      name: f2a2ComaPresetName(t),
      title: `${t.title}, F2A2-COMA`,
      description: `${t.title} (8 agents) with F2A2-COMA: per-agent MLP policies, per-agent copies of one centralised COMA critic Q(o, a^-i, i) trained on the joint on-policy objective (alpha1 = alpha2 = 1, counterfactual baseline, Prop 3), MOA models of the others' next actions, primal-dual consensus over the complete graph at every update iteration; the most recent 1024 steps per update, 4 updates per 100 env steps, 50,000 episodes. Metric: mean_return.`,
      paper: 'F2A2 §5.1.1 Prop 3, §6.1 Fig. 5; appendix G',
      config: { env: { id: t.env }, algo: { id: 'f2a2-coma' }, train: { ...F2A2_TRAIN } },
    }),
  );
}
