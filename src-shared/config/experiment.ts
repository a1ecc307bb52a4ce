/**
 * Experiment config = { env, algo, train }. A run is (experiment config, seed).
 *
 * Users address any field as `env.<key>`, `algo.<key>` or `train.<key>` (CLI `--set`, the
 * UI form, presets). Resolution fills defaults from the schemas and rejects unknown keys and
 * out-of-range values with a ConfigError naming the field.
 */
import { ConfigError, coerceField, fieldSpec, resolve, type Schema, type Values } from './schema';
import { getAlgo, getEnv, listAlgos, listEnvs } from '../registry';
import { rewardInteractionSchema } from '../envs/reward-interaction';
import { learnerSideSpec, opponentTeamProblem } from '../envs/frozen-opponent';

export const trainSchema = {
  episodes: {
    type: 'int',
    default: 10000,
    min: 1,
    max: 10_000_000,
    doc: "Training rounds, counted as the paper counts episodes: one episode in each of the B parallel envs, then one update (so episodes x numEnvs episodes in all).",
  },
  numEnvs: { type: 'int', default: 32, min: 1, max: 4096, doc: 'Parallel environment copies B (paper: 32).' },
  checkpointEvery: {
    type: 'int',
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: 'Save a checkpoint every M updates (also at the end and on stop); resume starts from the last one.',
  },
  replayEvery: {
    type: 'int',
    default: 10,
    min: 0,
    max: 1_000_000,
    doc: 'Store the replay of copy 0 every N rounds (0: only the final round). The final round is always stored.',
  },
  ...rewardInteractionSchema,
  opponent: {
    type: 'enum',
    default: 'self-play',
    values: ['self-play', 'frozen'],
    doc: "Who drives the opponent team (train.opponentTeam): the learner itself (self-play), or a checkpoint of run train.opponentRun (its latest, or the one of train.opponentRound), frozen (F2A2 §4.5: IQL fixed after self-play, acting with epsilon 0.05).",
  },
  opponentRun: {
    type: 'int',
    default: 0,
    min: 0,
    max: 2_147_483_647,
    doc: 'With opponent = frozen: the run whose checkpoint (train.opponentRound; by default its latest at launch) drives the opponent team; its env must be the same env with the same observation and action sizes.',
    when: { field: 'opponent', is: 'frozen' },
  },
  opponentRound: {
    type: 'int',
    default: 0,
    min: 0,
    max: 10_000_000,
    doc: "With opponent = frozen: the round of train.opponentRun whose checkpoint plays (e.g. an earlier, weaker opponent); 0 = that run's latest checkpoint at launch. The round must be one the run kept a checkpoint of; a resumed run keeps the round it started against.",
    when: { field: 'opponent', is: 'frozen' },
  },
  opponentTeam: {
    type: 'int',
    default: 1,
    min: 0,
    max: 1000,
    doc: 'With opponent = frozen: index of the frozen team in the env (battle: 1 = blue); the learner trains the others.',
    when: { field: 'opponent', is: 'frozen' },
  },
} as const satisfies Schema;

export interface ExperimentConfig {
  env: { id: string } & Values;
  algo: { id: string } & Values;
  train: Values;
  /**
   * Absolute path of the module that provides the env when it is not built in (a researcher's
   * own env, loaded with `--env-module`); the worker and
   * `cairn resume` load it before building the env.
   */
  envModule?: string;
}

/** A partial config as written in presets, files, or accumulated from `--set`. */
export interface PartialExperiment {
  env?: { id?: string } & Record<string, unknown>;
  algo?: { id?: string } & Record<string, unknown>;
  train?: Record<string, unknown>;
  envModule?: string;
}

export function resolveExperiment(raw: PartialExperiment): ExperimentConfig {
  const envId = raw.env?.id ?? 'manitokan';
  const algoId = raw.algo?.id ?? 'random';
  const env = getEnv(envId);
  if (!env) throw new ConfigError('env.id', `one of ${listEnvs().map((e) => e.id).join(', ')}`, envId);
  const algo = getAlgo(algoId);
  if (!algo) throw new ConfigError('algo.id', `one of ${listAlgos().map((a) => a.id).join(', ')}`, algoId);
  const { id: _e, ...envRest } = raw.env ?? {};
  const { id: _a, ...algoRest } = raw.algo ?? {};
  const envValues = resolve('env', env.schema, envRest);
  const train = resolve('train', trainSchema, raw.train);
  let spec = env.spec(envValues);
  const opp = opponentTeamProblem(spec, train);
  if (opp) throw opp;
  // A round with no frozen opponent to pick it for is a mistake to name, not to ignore.
  if (train.opponent !== 'frozen' && Number(train.opponentRound) !== 0) {
    throw new ConfigError('train.opponentRound', '0 unless train.opponent = frozen (it picks the checkpoint round of the frozen opponent run)', train.opponentRound);
  }
  if (train.opponent === 'frozen') {
    if (Number(train.opponentRun) < 1) throw new ConfigError('train.opponentRun', 'the id of a run with a checkpoint (train.opponent = frozen)', train.opponentRun);
    spec = learnerSideSpec(spec, Number(train.opponentTeam));
  }
  const problems = algo.accepts(spec);
  if (problems.length > 0) {
    throw new ConfigError('algo.id', `an algorithm that can train on env ${envId} (${algoId}: ${problems[0]})`, algoId);
  }
  const out: ExperimentConfig = {
    env: { id: envId, ...envValues },
    algo: { id: algoId, ...resolve('algo', algo.schema, algoRest) },
    train,
  };
  if (raw.envModule !== undefined) out.envModule = raw.envModule;
  return out;
}

/** Schema of a section for the current ids (for `--set` coercion and UI forms). */
export function sectionSchema(section: 'env' | 'algo' | 'train', cfg: PartialExperiment): Schema {
  if (section === 'train') return trainSchema;
  if (section === 'env') return getEnv(cfg.env?.id ?? 'manitokan')?.schema ?? {};
  return getAlgo(cfg.algo?.id ?? 'random')?.schema ?? {};
}

/**
 * Apply one `key=value` assignment (CLI `--set`) to a partial config, coercing the value by
 * the field's schema so errors name the field at once. `context` is what `cfg` will later be
 * merged onto (a sweep's base preset): the env and learner ids that pick the schema come from
 * it when `cfg` holds only overrides.
 */
export function applySet(cfg: PartialExperiment, assignment: string, context?: PartialExperiment): PartialExperiment {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError('--set', 'key=value, e.g. env.episodeLimit=300', assignment);
  const key = assignment.slice(0, eq).trim();
  const value = assignment.slice(eq + 1).trim();
  const dot = key.indexOf('.');
  const section = dot > 0 ? key.slice(0, dot) : '';
  const field = key.slice(dot + 1);
  if (section !== 'env' && section !== 'algo' && section !== 'train') {
    throw new ConfigError(`--set ${key}`, 'a key starting with env., algo. or train.');
  }
  const next: PartialExperiment = {
    ...cfg,
    env: { ...cfg.env },
    algo: { ...cfg.algo },
    train: { ...cfg.train },
  };
  if (field === 'id' && section !== 'train') {
    const ids = section === 'env' ? listEnvs().map((e) => e.id) : listAlgos().map((a) => a.id);
    if (!ids.includes(value)) throw new ConfigError(key, `one of ${ids.join(', ')}`, value);
    next[section]!.id = value;
    return next;
  }
  const schema = sectionSchema(section, context ? mergeExperiment(context, cfg) : cfg);
  const spec = fieldSpec(schema, field);
  if (!spec) throw new ConfigError(key, `unknown key; allowed keys are ${Object.keys(schema).join(', ')}`);
  (next[section] as Record<string, unknown>)[field] = coerceField(key, spec, value);
  return next;
}

/** Deep-merge presets/overrides: later wins, per section. */
export function mergeExperiment(...parts: PartialExperiment[]): PartialExperiment {
  const out: PartialExperiment = { env: {}, algo: {}, train: {} };
  for (const p of parts) {
    Object.assign(out.env!, p.env);
    Object.assign(out.algo!, p.algo);
    Object.assign(out.train!, p.train);
    if (p.envModule !== undefined) out.envModule = p.envModule;
  }
  return out;
}

/** Fields whose value differs between two resolved configs, as dotted keys. */
export function diffExperiment(a: ExperimentConfig, b: ExperimentConfig): { key: string; a: unknown; b: unknown }[] {
  const out: { key: string; a: unknown; b: unknown }[] = [];
  for (const section of ['env', 'algo', 'train'] as const) {
    const keys = new Set([...Object.keys(a[section]), ...Object.keys(b[section])]);
    for (const k of keys) {
      const va = (a[section] as Record<string, unknown>)[k];
      const vb = (b[section] as Record<string, unknown>)[k];
      if (JSON.stringify(va) !== JSON.stringify(vb)) out.push({ key: `${section}.${k}`, a: va, b: vb });
    }
  }
  return out;
}
