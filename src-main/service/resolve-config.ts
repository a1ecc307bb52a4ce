/** Preset + overrides -> a resolved config, collecting every field error for the form. */
import type { FieldError, ResolveResult } from '../../src-shared/api';
import {
  diffExperiment,
  mergeExperiment,
  resolveExperiment,
  trainSchema,
  type ExperimentConfig,
  type PartialExperiment,
} from '../../src-shared/config/experiment';
import { getPreset, listPresets } from '../../src-shared/config/presets';
import { coerceField, ConfigError, type Schema } from '../../src-shared/config/schema';
import { getAlgo, getEnv, listAlgos, listEnvs } from '../../src-shared/registry';
import { isObj } from './api-input';


/** Validate preset + overrides, collecting every field error (not just the first). */
export function resolveConfigAll(req: { preset?: unknown; overrides?: unknown }): ResolveResult {
  const errors: FieldError[] = [];
  const push = (e: unknown) => {
    if (e instanceof ConfigError) errors.push({ field: e.field, message: e.message });
    else errors.push({ field: 'config', message: e instanceof Error ? e.message : String(e) });
  };
  let base: PartialExperiment = {};
  if (req.preset !== undefined && req.preset !== null && req.preset !== '') {
    const p = typeof req.preset === 'string' ? getPreset(req.preset) : undefined;
    if (!p) push(new ConfigError('preset', `one of ${listPresets().map((x) => x.name).join(', ')}`, req.preset));
    else base = p.config;
  }
  let overrides: PartialExperiment = {};
  if (req.overrides !== undefined && req.overrides !== null) {
    if (!isObj(req.overrides)) push(new ConfigError('overrides', 'an object { env?, algo?, train? }', req.overrides));
    else {
      for (const [k, v] of Object.entries(req.overrides)) {
        if (k !== 'env' && k !== 'algo' && k !== 'train') push(new ConfigError(k, 'unknown section; allowed are env, algo, train'));
        else if (v !== undefined && v !== null && !isObj(v)) push(new ConfigError(k, 'an object of fields', v));
      }
      overrides = Object.fromEntries(
        Object.entries(req.overrides).filter(([k, v]) => ['env', 'algo', 'train'].includes(k) && isObj(v)),
      ) as PartialExperiment;
    }
  }
  const merged = mergeExperiment(base, overrides);
  const envId = merged.env?.id ?? 'manitokan';
  const algoId = merged.algo?.id ?? 'random';
  const env = typeof envId === 'string' ? getEnv(envId) : undefined;
  const algo = typeof algoId === 'string' ? getAlgo(algoId) : undefined;
  if (!env) push(new ConfigError('env.id', `one of ${listEnvs().map((e) => e.id).join(', ')}`, envId));
  if (!algo) push(new ConfigError('algo.id', `one of ${listAlgos().map((a) => a.id).join(', ')}`, algoId));
  if (env && algo?.envs && !algo.envs.includes(env.id)) {
    push(new ConfigError('algo.id', `an algorithm that supports env ${env.id} (${listAlgos().filter((a) => !a.envs || a.envs.includes(env.id)).map((a) => a.id).join(', ')})`, algoId));
  }
  const check = (section: 'env' | 'algo' | 'train', schema: Schema | undefined, given: Record<string, unknown> | undefined) => {
    if (!schema) return;
    for (const [k, v] of Object.entries(given ?? {})) {
      if (k === 'id' && section !== 'train') continue;
      const spec = schema[k];
      if (!spec) {
        push(new ConfigError(`${section}.${k}`, `unknown key; allowed keys are ${Object.keys(schema).join(', ')}`));
        continue;
      }
      try {
        coerceField(`${section}.${k}`, spec, v);
      } catch (e) {
        push(e);
      }
    }
  };
  check('env', env?.schema, merged.env);
  check('algo', algo?.schema, merged.algo);
  check('train', trainSchema, merged.train);
  if (errors.length > 0) return { ok: false, errors };
  let config: ExperimentConfig;
  try {
    config = resolveExperiment(merged);
  } catch (e) {
    push(e);
    return { ok: false, errors };
  }
  // Diff against the preset (or the defaults of the chosen env and algorithm).
  let reference: ExperimentConfig;
  try {
    reference = resolveExperiment(base.env || base.algo || base.train ? base : { env: { id: config.env.id }, algo: { id: config.algo.id } });
  } catch {
    reference = resolveExperiment({ env: { id: config.env.id }, algo: { id: config.algo.id } });
  }
  const diff = diffExperiment(reference, config).map((d) => ({ key: d.key, preset: d.a ?? null, value: d.b ?? null }));
  return { ok: true, config, diff };
}

