/**
 * Presets of F2A2 (f2a2.ts) on the two MAAC particle tasks of the paper's §6.1 (shared/specs/
 * f2a2.md §5): Cooperative Treasure Collection (`treasure-collection`, 8 agents, 100-step
 * episodes) and Rover-Tower (`rover-tower`, 8 agents, 25-step episodes), one per off-policy
 * instantiation (F2A2-DDPG, F2A2-TD3, F2A2-SAC with MAAC's policy network), at the paper's appendix-G settings: 12 parallel rollouts,
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
  { name: 'ddpg', label: 'F2A2-DDPG', paper: 'Prop 4 (Gumbel-softmax DDPG)', algo: {} },
  { name: 'td3', label: 'F2A2-TD3', paper: 'Prop 5 (twin critics, delayed actor)', algo: {} },
  // MAAC's policy network (its baseline in Fig. 5 and Tables 4-5), so the two differ in training only.
  { name: 'sac', label: 'F2A2-SAC', paper: 'Prop 6 (twin MAAC attention critics, alpha 0.01)', algo: { activation: 'leaky-relu', init: 'torch', inputBatchNorm: true } },
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
        description: `${t.title} (8 agents) with ${inst.label}: per-agent actors, per-agent copies of the ${inst.name === 'sac' ? "two attention critics (their attention extractors shared by consensus)" : `shared critic${inst.name === 'td3' ? 's' : ''}`} trained on the joint objective (alpha1 = alpha2 = 1), importance ratios truncated at 1, MOA models of the others, primal-dual consensus over the complete graph at every update iteration; appendix G settings, 50,000 episodes. Metric: mean_return.`,
        paper: `F2A2 §6.1, Fig. 5; ${inst.paper}`,
        config: { env: { id: t.env }, algo: { id: 'f2a2', instantiation: inst.name, ...inst.algo }, train: { ...F2A2_TRAIN } },
      }),
    ),
  );
}

/**
 * F2A2-SAC on Cooperative Navigation (`spread`, N = 3, 25-step episodes), next to the baselines'
 * `spread-*` presets (f2a2-baseline-presets.ts). Not a task of the paper's Fig. 5 or tables;
 * Fig. 8 names no task, and this is where F2A2's ablations separate within a session: MAAC and
 * F2A2-SAC w/o JOINT rise from the random start within ~40 rounds of 12 episodes here, where on
 * Rover-Tower MAAC is still flat after 624 episodes (docs/design.md "issue-11s"). The reproduction `f2a2-fig8-cn`
 * runs it.
 */
export const F2A2_NAVIGATION = { env: { id: 'spread', numAgents: 3, episodeLimit: 25 }, name: 'spread-f2a2-sac' } as const;

export function f2a2NavigationPresets(): Preset[] {
  if (getEnv('spread') === undefined) return [];
  const sac = F2A2_INSTANTIATIONS.find((x) => x.name === 'sac')!;
  return [
    {
      name: F2A2_NAVIGATION.name,
      title: 'Cooperative Navigation (N = 3), F2A2-SAC',
      description: `Cooperative Navigation (3 agents cover 3 landmarks) with ${sac.label}: per-agent MAAC policies, per-agent copies of the two attention critics (their attention extractors shared by consensus) trained on the joint objective (alpha1 = alpha2 = 1), importance ratios truncated at 1, MOA models of the others, primal-dual consensus over the complete graph at every update iteration; appendix G settings, 50,000 episodes. Metric: return_total.`,
      paper: `F2A2 Fig. 8 (task not named by the paper); ${sac.paper}`,
      config: { env: { ...F2A2_NAVIGATION.env }, algo: { id: 'f2a2', instantiation: 'sac', ...sac.algo }, train: { ...F2A2_TRAIN } },
    },
  ];
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

/**
 * F2A2-ISAC on the battle (paper §6.3, Fig. 7; f2a2-isac.ts) at each army size of the figure
 * ({12, 32, 64, 128, 256} per side, spec §5), red learning against blue driven by a frozen IQL
 * checkpoint (spec §4.5): `cairn train --preset battle-f2a2-isac-64 --set
 * train.opponentRun=<id of a finished battle-iql-selfplay-64 run>`, or the `f2a2-fig7`
 * reproduction, which trains the opponent first. Budget: 2000 rounds of one battle capped at
 * geek-ai's 550 steps, as the IQL presets (the paper gives no ISAC training length).
 */
export const F2A2_BATTLE_SIZES = [12, 32, 64, 128, 256] as const;

export function f2a2BattlePresets(): Preset[] {
  if (getEnv('battle') === undefined) return [];
  return F2A2_BATTLE_SIZES.map((k) => ({
    name: `battle-f2a2-isac-${k}`,
    title: `Battle ${k} vs ${k}, F2A2-ISAC (red) against a frozen IQL checkpoint (blue)`,
    description: `Red: F2A2-ISAC (local twin critics and actor on the conv trunk, 4 parameter copies kept together by primal-dual consensus over the complete graph, alpha 0.08, lr 1e-4, gamma 0.95, batch 128). Blue acts from the latest checkpoint of run train.opponentRun (a finished battle-iql-selfplay-${k} run), epsilon 0.05.`,
    paper: 'F2A2 §6.3, Fig. 7; appendix G (ISAC settings)',
    config: { env: { id: 'battle', armySize: k, episodeLimit: 550 }, algo: { id: 'f2a2-isac' }, train: { episodes: 2000, numEnvs: 1, opponent: 'frozen' } },
  }));
}
