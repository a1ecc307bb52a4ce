/**
 * "Copy as CLI command": the `cairn train` line that launches the same experiment as a run (or
 * a set of seeds) from the terminal. Rounds and envs get their own flags; every other field
 * that differs from the preset becomes a `--set`, ids first (a section's schema depends on
 * them). Seeds follow the numbering both sides share: `--seed S --seeds K` is S..S+K-1.
 */
import type { ExperimentConfig } from '../../src-shared/config/experiment';

type Section = 'env' | 'algo' | 'train';
const SECTIONS: readonly Section[] = ['env', 'algo', 'train'];
/** train fields with a flag of their own. */
const FLAGS: Record<string, string> = { episodes: '--rounds', numEnvs: '--envs' };

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function valueText(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The `--set key=value` assignments that turn `base` (the preset's config, or defaults) into `config`. */
export function setAssignments(base: ExperimentConfig | null, config: ExperimentConfig): string[] {
  const ids: string[] = [];
  const rest: string[] = [];
  for (const section of SECTIONS) {
    const b = (base?.[section] ?? {}) as Record<string, unknown>;
    const c = config[section] as Record<string, unknown>;
    for (const [k, v] of Object.entries(c)) {
      if (section === 'train' && k in FLAGS) continue;
      if (JSON.stringify(b[k]) === JSON.stringify(v)) continue;
      (k === 'id' ? ids : rest).push(`${section}.${k}=${valueText(v)}`);
    }
  }
  return [...ids, ...rest];
}

export function cliCommand(opts: {
  preset: string | null;
  /** The preset's resolved config (null without a preset: the schema defaults). */
  base: ExperimentConfig | null;
  config: ExperimentConfig;
  seeds: number[];
  name?: string;
}): string {
  const { config, seeds } = opts;
  const parts = ['npx', 'cairn', 'train'];
  if (opts.preset) parts.push('--preset', opts.preset);
  const first = seeds.length ? Math.min(...seeds) : 1;
  const contiguous = seeds.length > 0 && seeds.every((s) => s - first < seeds.length) && new Set(seeds).size === seeds.length;
  parts.push('--seed', String(first));
  if (seeds.length > 1) parts.push('--seeds', String(seeds.length));
  for (const [k, flag] of Object.entries(FLAGS)) {
    const v = config.train[k];
    if (v !== undefined && JSON.stringify(opts.base?.train[k]) !== JSON.stringify(v)) parts.push(flag, String(v));
  }
  for (const a of setAssignments(opts.base, config)) parts.push('--set', a);
  if (opts.name) parts.push('--name', opts.name);
  const line = parts.map(shellQuote).join(' ');
  // Non-contiguous seeds (picked runs) are not one `--seeds` range: say which they were.
  return contiguous ? line : `${line}   # seeds were ${seeds.join(', ')}: run once per seed with --seed`;
}
