/**
 * EITI: exploration via information-theoretic influence (Wang et al., ICLR 2020, "Influence-based
 * multi-agent exploration"; code TonghanWang/EITI-EDTI; shared/specs/alita.md §8), one of the
 * baselines of ALITA Table 1 on Sparse Push-Box and Secret Room.
 *
 * Learner: independent PPO per agent (the code's PPO2 with an MLP, 3 x 32), built on the shared
 * PPO machinery (ppo-trainer.ts, `inputs: 'features'`, defaults `ppoMlpSchema`). Each agent i's
 * reward at step t is the env's plus two intrinsic terms:
 *
 *   r_i = r_ext + eta / sqrt(n(s'_i) + 1) + beta_T sum_{j != i} I_ij(t)
 *
 * - curiosity: n(s'_i) = earlier visits of agent i's next discrete state (the env declares the
 *   state: `EnvSpec.discreteState`; Push-Box: own row, column and the box's, the code's 4-index
 *   key; Secret Room: own row and column, plus the door bits and target when observed).
 * - interaction I_ij, from tabular empirical transition counts (core/transition-counts.ts):
 *   `interaction: 'mi'` (default, the paper's term): log p^(s'_j | s_i, a_i, s_j, a_j) - log
 *   p^(s'_j | s_j, a_j), the sample of the mutual information between i's state-action and j's
 *   next state given j's own; `'count'`: 1 - p^(s'_j | s_j, a_j) / p^(s'_j | s_i, a_i, s_j, a_j),
 *   our reading of the code's "1 - p" count approximations (the code computes its term per
 *   environment class and its Push-Box class was not read: the option is ours, not the code's).
 * Counts are updated online, step by step in copy order, and belong to the checkpoint.
 *
 * Paper / code / here:
 * | aspect | EITI paper | EITI code | here |
 * |---|---|---|---|
 * | learner | PPO | PPO2, MLP 3 x 32, 32 envs, ent 0.1 | same (ppoMlpSchema), one actor and critic per agent |
 * | eta | Table 2 (not read) | --gamma_dec (README Pass example: 10) | 10, the README's; our configuration for Push-Box and Secret Room |
 * | beta_T | Table 2 (not read) | --gamma_coor_t (README: 0, an EDTI run) | 10: our configuration, the weight of the curiosity, so that a joint push (I about log 2) is worth as much as a fresh state; UNKNOWN in the paper |
 * | interaction | MI log-ratio | count approximations, per env class | 'mi'; 'count' option |
 * | counts | empirical | tables over info['state'] | Maps over the env's declared discrete state |
 *
 * Terminal steps: the next state of an episode's last step is its final observation (the env
 * runs without auto-reset in trainers), so the last transition is counted like any other.
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import type { EnvSpec } from '../envs/types';
import { envProblems } from './core/compat';
import { StateKeys, TransitionCounts, type InteractionForm } from './core/transition-counts';
import { ippoSchema } from './ippo';
import { PPO_FEATURE_NEEDS, PpoPolicy, PpoTrainer, ppoMlpSchema, type PpoHookContext, type PpoHooks, type PpoShapeInput, type PpoVariant } from './ppo-trainer';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';

/** The count-based terms EITI and EDTI share. */
export const countBonusSchema = {
  eta: { type: 'float', default: 10, min: 0, doc: 'Curiosity weight eta in eta / sqrt(n + 1) (README Pass example --gamma_dec=10; our configuration for these tasks).' },
  interaction: {
    type: 'enum',
    default: 'mi',
    values: ['mi', 'count'],
    doc: "Interaction term: mi = the paper's log p(s'_j | s_i, a_i, s_j, a_j) - log p(s'_j | s_j, a_j); count = 1 - p(s'_j | s_j, a_j) / p(s'_j | s_i, a_i, s_j, a_j) (our reading of the code's count approximation).",
  },
} as const satisfies Schema;

export const eitiSchema = {
  ...ppoMlpSchema(ippoSchema),
  ...countBonusSchema,
  betaT: { type: 'float', default: 10, min: 0, doc: "Interaction weight beta_T (paper Table 2, not read; our configuration: 10, the curiosity's weight)." },
} as const satisfies Schema;

/** What the count-based learners need of an env beyond an MLP PPO's. */
export function countProblems(spec: EnvSpec): string[] {
  const out = envProblems(PPO_FEATURE_NEEDS, spec);
  if (spec.numAgents < 2) out.push('a single agent has no teammate to influence');
  if (!spec.discreteState) out.push('the env declares no discrete per-agent state (EnvSpec.discreteState) to count');
  else {
    try {
      new TransitionCounts(new StateKeys(spec).sizes, spec.numActions);
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

/**
 * Per-step curiosity and interaction of every agent, counted online. EITI adds them to the
 * rewards; EDTI also weighs its value-of-interaction terms with the interaction.
 */
export class CountBonus {
  readonly keys: StateKeys;
  readonly counts: TransitionCounts;
  readonly N: number;
  readonly B: number;
  private readonly O: number;
  private readonly s: Float64Array; // [L][B][N] keys before the step
  private readonly a: Int32Array; //   [L][B][N]
  private readonly live: Uint8Array; // [L][B]
  /** [L][N][B] eta / sqrt(n + 1) of each agent's next state. */
  readonly curiosity: Float32Array;
  /** [L][N][N][B] I_ij (0 on the diagonal). */
  readonly interaction: Float32Array;
  private readonly s2: Float64Array;

  constructor(
    private readonly ctx: TrainContext,
    private readonly eta: number,
    private readonly form: InteractionForm,
  ) {
    const spec = ctx.env.spec;
    this.keys = new StateKeys(spec);
    this.counts = new TransitionCounts(this.keys.sizes, spec.numActions);
    this.N = spec.numAgents;
    this.B = ctx.env.numEnvs;
    this.O = spec.obsSize;
    const L = spec.episodeLimit;
    const { N, B } = this;
    this.s = new Float64Array(L * B * N);
    this.a = new Int32Array(L * B * N);
    this.live = new Uint8Array(L * B);
    this.curiosity = new Float32Array(L * N * B);
    this.interaction = new Float32Array(L * N * N * B);
    this.s2 = new Float64Array(N);
  }

  beforeStep(t: number, actions: Int32Array): void {
    const { N, B, O } = this;
    const env = this.ctx.env;
    for (let b = 0; b < B; b++) {
      const live = env.finished[b] ? 0 : 1;
      this.live[t * B + b] = live;
      if (!live) continue;
      for (let i = 0; i < N; i++) {
        const k = (t * B + b) * N + i;
        this.s[k] = this.keys.key(env.obs, (b * N + i) * O, i);
        this.a[k] = actions[b * N + i];
      }
    }
  }

  afterStep(t: number): void {
    const { N, B, O, s2 } = this;
    const obs = this.ctx.env.obs;
    this.curiosity.fill(0, t * N * B, (t + 1) * N * B);
    this.interaction.fill(0, t * N * N * B, (t + 1) * N * N * B);
    for (let b = 0; b < B; b++) {
      if (!this.live[t * B + b]) continue;
      for (let i = 0; i < N; i++) s2[i] = this.keys.key(obs, (b * N + i) * O, i);
      const base = (t * B + b) * N;
      const s = this.s.subarray(base, base + N);
      const a = this.a.subarray(base, base + N);
      for (let i = 0; i < N; i++) this.curiosity[(t * N + i) * B + b] = this.counts.curiosity(i, s2[i], this.eta);
      this.counts.countTransition(s, a, s2);
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          if (i !== j) this.interaction[((t * N + i) * N + j) * B + b] = this.counts.interaction(i, j, s, a, s2, this.form);
        }
      }
    }
  }

  /** Sum over teammates of agent i's interaction at (t, b). */
  interactionSum(t: number, i: number, b: number): number {
    const { N, B } = this;
    let v = 0;
    for (let j = 0; j < N; j++) if (j !== i) v += this.interaction[((t * N + i) * N + j) * B + b];
    return v;
  }

  /** Per-agent means over the round's valid steps, for the log. */
  stats(x: PpoShapeInput, perAgent: (i: number, t: number, b: number) => Record<string, number>): Record<string, number> {
    const { N, B } = this;
    const sums: Record<string, number> = {};
    let steps = 0;
    for (let t = 0; t < x.T; t++) {
      for (let b = 0; b < B; b++) {
        if (!x.valid[t * B + b]) continue;
        steps++;
        for (let i = 0; i < N; i++) for (const [k, v] of Object.entries(perAgent(i, t, b))) sums[`intrinsic/${k}_agent${i}`] = (sums[`intrinsic/${k}_agent${i}`] ?? 0) + v;
      }
    }
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) out[k] = steps > 0 ? v / steps : 0;
    const sz = this.counts.sizes();
    out['intrinsic/states_seen'] = sz.states;
    out['intrinsic/transitions_seen'] = sz.transitions;
    return out;
  }

  save(): Record<string, unknown> {
    return { counts: this.counts.save() };
  }

  load(st: Record<string, unknown>): void {
    const c = st.counts;
    if (typeof c !== 'object' || c === null) throw new Error('checkpoint has no transition counts');
    this.counts.load(c as Record<string, unknown>);
  }
}

function eitiHooks({ train, config }: PpoHookContext): PpoHooks {
  const cfg = typedValues('algo', eitiSchema, config as Values);
  const bonus = new CountBonus(train, cfg.eta, cfg.interaction);
  const { N, B } = bonus;
  return {
    beforeStep: (t, actions) => bonus.beforeStep(t, actions),
    afterStep: (t) => bonus.afterStep(t),
    shape: (x) => {
      const M = N * B;
      for (let t = 0; t < x.T; t++) {
        for (let b = 0; b < B; b++) {
          if (!x.valid[t * B + b]) continue;
          for (let i = 0; i < N; i++) x.rewards[t * M + i * B + b] += bonus.curiosity[(t * N + i) * B + b] + cfg.betaT * bonus.interactionSum(t, i, b);
        }
      }
      return bonus.stats(x, (i, t, b) => ({ curiosity: bonus.curiosity[(t * N + i) * B + b], interaction: bonus.interactionSum(t, i, b) }));
    },
    save: () => bonus.save(),
    load: (st) => bonus.load(st),
  };
}

export const EITI_VARIANT: PpoVariant = { id: 'eiti', schema: eitiSchema, independent: true, inputs: 'features', hooks: eitiHooks };

export const eitiEntry: AlgoEntry = {
  id: 'eiti',
  title: 'EITI: independent PPO with count curiosity and information-theoretic influence (Wang et al. 2020)',
  schema: eitiSchema,
  accepts: countProblems,
  createTrainer: (ctx: TrainContext) => new PpoTrainer(ctx, EITI_VARIANT),
  createPolicy: (ctx: PolicyContext) => new PpoPolicy(ctx, EITI_VARIANT),
};
