/**
 * Reproductions of the F2A2 paper's particle-task results (shared/specs/f2a2.md §6): Table 4
 * (communication topology), Table 5 (exchange frequency), Fig. 5 (learning curves against the
 * centralised baselines) and Fig. 8 (the w/o JOINT and w/o MOA ablations), on Cooperative
 * Treasure Collection (ctc) and Rover-Tower (rt). The SC2 rows (3m, 8m, 2s3z) are out of scope.
 *
 * Metric (spec §6): "mean episode reward of all agents in the last 1k timesteps"; ours is the
 * env's `mean_return` (the mean over agents of their episode return) averaged over the last 10%
 * of rounds, per seed, then mean and std over seeds. Paper: 5 seeds (tables), 10 (figures).
 *
 * Which F2A2: the paper's tables and Fig. 8 run F2A2-SAC (twin MAAC attention critics), and so
 * do ours (`TABLE_INST = 'sac'`, the `<env>-f2a2-sac` presets): the F2A2 columns and MAAC, the
 * centralised column, then share the policy network and differ in training only, as in the
 * paper. `f2a2-table4-td3` and `f2a2-table5-td3` are the same tables on F2A2-TD3 (the MLP twin
 * critics; what these tables ran before F2A2-SAC existed), kept to compare the two
 * instantiations' step shapes; they are not the paper's set-up. Fig. 5 runs all four F2A2
 * instantiations. The centralised column is MAAC where a `<env>-maac` preset is registered,
 * else MADDPG. Baselines and tasks whose presets this build lacks are left out of the variants
 * (never faked).
 *
 * Budgets: `paper` = 5 seeds x 4,167 rounds of 12 copies (50,000 episodes, the MAAC code's
 * default; the paper does not give its length). `small` = 2 seeds x 8 rounds of 4 copies (3,200
 * env steps on CTC, 800 on RT) with smaller minibatches, networks and 2 update iterations per
 * 100 steps (`SMALL_ALGO`, F2A2 runs only), a smoke check of the pipeline (every variant trains,
 * exchanges and reports), not of the paper's gaps: at that length no learner has left its
 * random start. For F2A2-SAC the same cut applies to both attention critics (hidden 64 = MAAC's
 * 4 heads of 16 dims; the schema needs a multiple of attendHeads); its temperature, clips and
 * regularisers stay the paper's, so the small run exercises the same update as the paper's,
 * only smaller.
 *
 * No budget between `small` and `paper` is defined for CTC and RT, because none that learns has
 * been found there (`f2a2-fig8-cn` below has one, on Cooperative Navigation) (issue 11;
 * docs/design.md "F2A2-SAC and MAAC: a learning budget on Rover-Tower"). wt-11s:
 * F2A2-SAC at SMALL_ALGO's settings, 4 copies, 39 rounds x 2 seeds (full MOA) and 56 rounds
 * (impromptu): mean_return at the random start (-17..0 per 10 rounds; random -8.1, on_goal_share
 * 0.106). wt-11l, 12 copies: MAAC at its paper preset (verified against spec §4.3 and the MAAC
 * code) flat at the random start through 624 episodes; F2A2-SAC (impromptu MOA, batch 128,
 * alpha1 = alpha2 = 1) did not stay there but collapsed below it within ~110 update iterations
 * (MOA accuracy 0.24 -> 0.95, on_goal_share down to 0.03): the a2 (delta^2) score term dominates
 * its actor at standardised rewards, so the spec's alpha2/alpha1 sweep (§1.12) must come before
 * any budget. issue-11a ran it (same settings, alpha1 = 1; docs/design.md "F2A2-SAC: why alpha1 =
 * alpha2 = 1 collapses"): every ratio collapses, 0.1 first (mean_return -28.3 in rounds 5-8), 1
 * in rounds 9-16 (-30.6, -56.0), 10 in rounds 9-14 (-18.2, -42.5), all below random with the
 * MOA's accuracy -> 0.8-0.98 (deterministic policies); two feedback loops of the joint objective
 * (the a2 score term pushes pi away from pi0; critic 1's a1 terms bias Q1 upwards more where pi
 * rose) explain it. w/o JOINT at the same settings stays near random through 696 episodes. So the default stays alpha1 = alpha2 = 1 (none learns, the
 * spec's value) and no `medium` budget is defined: at this length the F2A2-SAC columns would
 * measure the collapse. Cost now (worker CPU, 12 episodes a round): MAAC ~24 min per 1,000 episodes,
 * F2A2-SAC (impromptu, batch 128) ~49 min; a table is 14 runs x seeds, so e.g. 2,000 episodes x
 * 2 seeds is ~100 h of CPU per table, beyond a session on the shared machine.
 */
import type { Budget, ReferenceTable, Repro, ReproVariant } from './repro';
import type { PartialExperiment } from './experiment';
import { getPreset } from './presets';
import { getAlgo } from '../registry';
import { f2a2ComaPresetName, f2a2PresetName, f2a2Tasks, F2A2_NAVIGATION, F2A2_TRAIN, type F2a2Instantiation, type F2a2Task } from '../algos/f2a2-presets';

const PAPER: Budget = { episodes: F2A2_TRAIN.episodes, seeds: 5, numEnvs: F2A2_TRAIN.numEnvs };
const PAPER_FIG: Budget = { ...PAPER, seeds: 10 };
const SMALL: Budget = { episodes: 8, seeds: 2, numEnvs: 4 };

/** The small budget's cheaper learner (F2A2 runs only; baselines keep their presets). */
export const SMALL_ALGO = { batchSize: 128, hiddenDim: 64, moaHidden: 32, moaFifo: 300, warmup: 256, updateIters: 2,
  // The full MOA (f2a2-moa-natural.ts) cut as the minibatch is (1/8): it is most of a round's cost at the paper's sizes.
  moaNaturalBatch: 200, moaCharTrajectories: 125, moaCharSubset: 8, moaGruHidden: 32 };
/**
 * F2A2-COMA's small budget: its window (bufferSize) must fill within the run (RT's small run is
 * 800 env steps), so 256 steps instead of 1024; the same narrower networks and MOA as SMALL_ALGO.
 */
export const SMALL_COMA = { bufferSize: 256, hiddenDim: 64, moaHidden: 32, moaFifo: 300, updateIters: 2 };
const small = (extra: Record<string, unknown> = {}): ReproVariant['budgetOverrides'] => ({ small: { algo: { ...SMALL_ALGO, ...extra } } });

/** The paper's instantiation in Tables 4-5 and Fig. 8 (spec §6.2, §6.5). */
export const TABLE_INST: F2a2Instantiation = 'sac';
const INST_LABEL: Record<F2a2Instantiation, string> = { ddpg: 'F2A2-DDPG', td3: 'F2A2-TD3', sac: 'F2A2-SAC' };
const KEYS = ['mean_return', 'return_total', 'consensus/residual', 'consensus/scalars', 'f2a2/coef', 'moa/accuracy'];

/** Paper Table 4 (ctc, rt rows): centralised (MAAC), then 0, 20, 40, 60, 80, 100 % of edges, with 95% CIs. */
const TABLE4: Record<F2a2Task['key'], readonly (readonly [number, number])[]> = {
  ctc: [
    [148, 8],
    [23, 4],
    [37, 4],
    [45, 5],
    [112, 4],
    [142, 8],
    [147, 9],
  ],
  rt: [
    [121, 5],
    [52, 7],
    [52, 7],
    [78, 5],
    [126, 6],
    [135, 5],
    [139, 6],
  ],
};
const TABLE4_COLS = ['centralised', '0', '20', '40', '60', '80', '100'];

/** Paper Table 5: centralised, then N(inf,0), N(2000,1000), N(200,100), N(20,10), N(8,4), N(1,0). */
const TABLE5: Record<F2a2Task['key'], readonly (readonly [number, number])[]> = {
  ctc: [
    [148, 8],
    [23, 4],
    [24, 4],
    [33, 7],
    [139, 7],
    [146, 9],
    [147, 9],
  ],
  rt: [
    [121, 5],
    [52, 7],
    [52, 8],
    [56, 8],
    [136, 6],
    [139, 5],
    [139, 6],
  ],
};
const TABLE5_SCHEDULES: readonly (readonly [string, number, number])[] = [
  ['N(inf,0)', 0, 0],
  ['N(2000,1000)', 2000, 1000],
  ['N(200,100)', 200, 100],
  ['N(20,10)', 20, 10],
  ['N(8,4)', 8, 4],
  ['N(1,0)', 1, 0],
];

const has = (name: string) => getPreset(name) !== undefined;

/**
 * A baseline's preset on a task: the `f2a2-<env>-<id>` twin where one is registered (MADDPG and
 * COMA as appendix G configures them: input BatchNorm, reward normalisation, hard Gumbel), else
 * the env's own `<env>-<id>`. At the small budget it gets the same cheaper minibatch, width and
 * warm-up as F2A2 (those of its fields its learner has): with its 1024-step warm-up a baseline
 * would never update in a small run, and the columns would not be comparable.
 */
function baseline(t: F2a2Task, label: string, id: string): ReproVariant | null {
  const name = [`f2a2-${t.env}-${id}`, `${t.env}-${id}`].find(has);
  if (!name) return null;
  const algoId = String(getPreset(name)!.config.algo?.id ?? '');
  const schema = getAlgo(algoId)?.schema ?? {};
  const cheap = Object.fromEntries(Object.entries({ batchSize: 128, hiddenDim: 64, warmup: 256 }).filter(([k]) => k in schema));
  return { label: `${t.key} ${label}`, preset: name, ...(Object.keys(cheap).length ? { budgetOverrides: { small: { algo: cheap } } } : {}) };
}

/** The centralised baseline of the tables: MAAC where registered, else MADDPG. */
function centralised(t: F2a2Task): ReproVariant | null {
  return baseline(t, 'MAAC', 'maac') ?? baseline(t, 'MADDPG', 'maddpg');
}

function f2a2Variant(t: F2a2Task, label: string, algo: Record<string, unknown>, inst: F2a2Instantiation = TABLE_INST): ReproVariant {
  const overrides: PartialExperiment = { algo };
  return { label: `${t.key} ${label}`, preset: f2a2PresetName(t, inst), overrides, budgetOverrides: small() };
}

function tableRepro(
  name: string,
  figure: string,
  title: string,
  description: string,
  cols: string[],
  ref: Record<F2a2Task['key'], readonly (readonly [number, number])[]>,
  algos: Record<string, unknown>[],
  note: string,
  inst: F2a2Instantiation,
): Repro {
  const tasks = f2a2Tasks();
  const variants: ReproVariant[] = [];
  const rows: ReferenceTable['rows'][number][] = [];
  const baselines = new Set<string>();
  for (const t of tasks) {
    const c = centralised(t);
    if (c) variants.push(c);
    if (c) baselines.add(c.label.slice(t.key.length + 1));
    const f = algos.map((a, k) => f2a2Variant(t, `F2A2 ${cols[k + 1]}`, a, inst));
    variants.push(...f);
    const cells = [c, ...f].map((v, k) => (v ? { variant: v.label, key: 'mean_return', paper: ref[t.key][k][0], paperStd: ref[t.key][k][1], digits: 1 } : null));
    rows.push({ label: t.key, cells });
  }
  return {
    name,
    figure,
    title,
    description,
    variants,
    keys: KEYS,
    budgets: { paper: PAPER, small: SMALL },
    reference: {
      caption: `${figure}: mean episode reward, ${INST_LABEL[inst]} and ${[...baselines].join('/') || 'no centralised baseline'} (paper: F2A2-SAC and MAAC, 5 seeds, 95% CI)`,
      columns: cols,
      rows,
      note,
    },
  };
}

const TOPOLOGY_ALGOS: Record<string, unknown>[] = [
  { topology: 'none' },
  ...[0.2, 0.4, 0.6, 0.8].map((p) => ({ topology: 'ring-plus', edgeFraction: p })),
  { topology: 'full' },
];

const SCHEDULE_ALGOS: Record<string, unknown>[] = TABLE5_SCHEDULES.map(([, mean, std]) => ({ topology: 'full', exchangeMean: mean, exchangeStd: std }));

function fig5(): Repro {
  const variants: ReproVariant[] = [];
  for (const t of f2a2Tasks()) {
    for (const inst of ['ddpg', 'td3', 'sac'] as const) variants.push(f2a2Variant(t, INST_LABEL[inst], {}, inst));
    if (has(f2a2ComaPresetName(t))) variants.push({ label: `${t.key} F2A2-COMA`, preset: f2a2ComaPresetName(t), budgetOverrides: { small: { algo: { ...SMALL_COMA } } } });
    for (const [label, id] of [
      ['MADDPG', 'maddpg'],
      ['MAAC', 'maac'],
      ['COMA', 'coma'],
      ['MA-AC', 'ma-ac'],
    ] as const) {
      const v = baseline(t, label, id);
      if (v) variants.push(v);
    }
  }
  // §6.6: the decentralised learners' transmissions against MA-AC's, per task (where it is built).
  const labels = new Set(variants.map((v) => v.label));
  const groups = f2a2Tasks()
    .filter((t) => labels.has(`${t.key} MA-AC`))
    .map((t) => ({ baseline: `${t.key} MA-AC`, variants: variants.filter((v) => v.label.startsWith(`${t.key} F2A2`)).map((v) => v.label) }));
  return {
    name: 'f2a2-fig5',
    figure: 'F2A2 Fig. 5',
    title: 'Treasure Collection and Rover-Tower: F2A2 instantiations against the centralised baselines',
    description:
      'Learning curves (mean_return) of F2A2-DDPG, F2A2-TD3, F2A2-SAC and F2A2-COMA next to MADDPG, MAAC, COMA and MA-AC where their presets are registered. Paper (spec §6.1): each F2A2 reaches or exceeds its centralised counterpart (F2A2-DDPG >= MADDPG, F2A2-SAC >= MAAC, F2A2-COMA >= COMA), F2A2-TD3 > F2A2-DDPG on both tasks, the F2A2 lead is larger on RT, MA-AC <= COMA; end points CTC MAAC ~148 vs F2A2-SAC ~147, RT MAAC ~121 vs F2A2-SAC ~139.',
    variants,
    keys: KEYS,
    budgets: { paper: PAPER_FIG, small: SMALL },
    ...(groups.length ? { communication: { groups } } : {}),
  };
}

function fig8(): Repro {
  const variants: ReproVariant[] = [];
  for (const t of f2a2Tasks()) {
    variants.push(f2a2Variant(t, 'F2A2', {}));
    variants.push(f2a2Variant(t, 'F2A2 w/o JOINT', { joint: false }));
    variants.push(f2a2Variant(t, 'F2A2 w/o MOA', { moa: 'off' }));
    const c = centralised(t);
    if (c) variants.push(c);
  }
  return {
    name: 'f2a2-fig8',
    figure: 'F2A2 Fig. 8',
    title: 'Ablations: F2A2 with and without the joint objective and the models of other agents',
    description:
      "F2A2-SAC (the paper ablates F2A2-SAC on two unnamed tasks, here CTC and RT) against w/o JOINT (BCGD: TD-only critic step, plain actor step) and w/o MOA (the others' true current policies, sampled). Paper: with JOINT >> w/o JOINT; with MOA > w/o MOA, and with MOA F2A2 can beat the centralised method.",
    variants,
    keys: KEYS,
    budgets: { paper: PAPER_FIG, small: SMALL },
  };
}

/**
 * Fig. 8 on Cooperative Navigation (N = 3): the one F2A2 reproduction whose learners leave the
 * random start within a session (the paper names no task for Fig. 8; spec §6.5's CTC and RT
 * are `f2a2-fig8`). Besides the paper's three lines and MAAC it runs the two halves of the
 * joint objective on their own (`jointTerms`, not in the paper), because on this task the full
 * objective falls below the random start while w/o JOINT rises (docs/design.md "issue-11s").
 * `medium` = 3 seeds x 90 rounds of 12 copies (1,080 episodes, ~1,000 update iterations) with
 * the impromptu MOA and 128-step minibatches (MAAC the same minibatch): ~4 min of CPU per F2A2
 * run, 34 min of wall for the 18 runs on two idle cores (measured 4 December). The paper budget is Fig. 8's (10 seeds,
 * 50,000 episodes, appendix G settings).
 */
const CN_KEYS = ['return_total', 'landmark_distance', 'occupied_landmarks', 'f2a2/delta', 'f2a2/coef', 'moa/accuracy', 'consensus/residual'];
const CN_MEDIUM: Budget = { episodes: 90, seeds: 3, numEnvs: 12 };
const CN_MEDIUM_ALGO = { moaModel: 'impromptu', batchSize: 128 };

function fig8Cn(): Repro | null {
  if (!has(F2A2_NAVIGATION.name)) return null;
  const f2a2 = (label: string, algo: Record<string, unknown>): ReproVariant => ({
    label,
    preset: F2A2_NAVIGATION.name,
    overrides: { algo },
    budgetOverrides: { small: { algo: { ...SMALL_ALGO } }, medium: { algo: { ...CN_MEDIUM_ALGO } } },
  });
  const variants = [
    f2a2('F2A2', {}),
    f2a2('F2A2 w/o JOINT', { joint: false }),
    f2a2('F2A2 w/o MOA', { moa: 'off' }),
    f2a2('F2A2 joint critic only', { jointTerms: 'critic' }),
    f2a2('F2A2 joint actor only', { jointTerms: 'actor' }),
  ];
  if (has('spread-maac')) variants.push({ label: 'MAAC', preset: 'spread-maac', budgetOverrides: { small: { algo: { batchSize: 128, hiddenDim: 64, warmup: 256 } }, medium: { algo: { batchSize: 128 } } } });
  const cols = variants.map((v) => v.label);
  return {
    name: 'f2a2-fig8-cn',
    figure: 'F2A2 Fig. 8 (Cooperative Navigation)',
    title: 'Ablations on Cooperative Navigation: F2A2-SAC with and without the joint objective, its two halves, and MOA',
    description:
      "F2A2-SAC on Cooperative Navigation (3 agents) against w/o JOINT (TD-only critic step, plain actor step), w/o MOA, and, not in the paper, the joint objective's two cross terms alone: 'joint critic only' keeps the a1 actor terms in critic 1's step (the actor loses its a2 rhobar l(a^) d^2 term), 'joint actor only' keeps that actor term with TD-only critics. Paper (Fig. 8, task not named): with JOINT >> w/o JOINT; with MOA > w/o MOA. Metric: return_total (sum over agents, random policy about -700).",
    variants,
    keys: CN_KEYS,
    budgets: { paper: PAPER_FIG, small: SMALL, medium: CN_MEDIUM },
    convergence: { key: 'return_total' },
    reference: {
      caption: 'F2A2 Fig. 8 on Cooperative Navigation: return_total, mean over the last 10% of rounds (the paper prints no numbers for Fig. 8)',
      columns: cols,
      rows: [{ label: 'cn', cells: variants.map((v) => ({ variant: v.label, key: 'return_total', paper: null, digits: 1 })) }],
      note: 'Compare the orderings: the paper has with JOINT >> w/o JOINT and with MOA > w/o MOA on its (unnamed) tasks. The trend column of the convergence table says whether each curve rose, stayed flat or fell against its first rounds.',
    },
  };
}

function table4(inst: F2a2Instantiation): Repro {
  const td3 = inst !== TABLE_INST;
  return tableRepro(
    td3 ? `f2a2-table4-${inst}` : 'f2a2-table4',
    'F2A2 Table 4',
    `Communication topology: ${INST_LABEL[inst]} with 0-100% of the non-ring edges, exchanges every iteration${td3 ? ' (not the paper\'s instantiation)' : ''}`,
    `${INST_LABEL[inst]} with no edges, a random ring plus 20/40/60/80% of the other pairs redrawn every iteration, and the complete graph, next to the centralised baseline. Paper (F2A2-SAC vs MAAC): performance rises in steps (a jump between 40% and 60%), 80% is already close to full, and on RT F2A2 beats MAAC from 60% on.${td3 ? ' This is the same table on F2A2-TD3, to compare instantiations; f2a2-table4 is the paper\'s.' : ''}`,
    TABLE4_COLS,
    TABLE4,
    TOPOLOGY_ALGOS,
    `Paper: F2A2-SAC vs MAAC, 5 seeds, 95% CIs, the last 1k timesteps. Ours: ${INST_LABEL[inst]}, mean_return over the last 10% of rounds, std over seeds; the centralised column is MAAC where registered, else MADDPG. '0' means no edges at all (the paper's reading), equal to Table 5's N(inf,0). Compare the step shape and the orderings.`,
    inst,
  );
}

function table5(inst: F2a2Instantiation): Repro {
  const td3 = inst !== TABLE_INST;
  return tableRepro(
    td3 ? `f2a2-table5-${inst}` : 'f2a2-table5',
    'F2A2 Table 5',
    `Exchange frequency: ${INST_LABEL[inst]} exchanging every N(mean, std) iterations over the complete graph${td3 ? ' (not the paper\'s instantiation)' : ''}`,
    `${INST_LABEL[inst]} with each agent exchanging every N(mean, std) update iterations (never, 2000, 200, 20, 8, 1), full topology, next to the centralised baseline. Paper (F2A2-SAC vs MAAC): a jump between N(200,100) and N(20,10); N(20,10) already close to N(1,0).${td3 ? ' This is the same table on F2A2-TD3, to compare instantiations; f2a2-table5 is the paper\'s.' : ''}`,
    ['centralised', ...TABLE5_SCHEDULES.map(([l]) => l)],
    TABLE5,
    SCHEDULE_ALGOS,
    `Paper: F2A2-SAC vs MAAC, 5 seeds. Ours: ${INST_LABEL[inst]}, std read as a standard deviation (spec §2.6). At the small budget (a few hundred update iterations) N(2000,1000) and N(inf,0) cannot differ: compare them only at the paper's budget.`,
    inst,
  );
}

export function f2a2Repros(): Repro[] {
  const cn = fig8Cn();
  return [table4(TABLE_INST), table5(TABLE_INST), fig5(), fig8(), ...(cn ? [cn] : []), table4('td3'), table5('td3')];
}
