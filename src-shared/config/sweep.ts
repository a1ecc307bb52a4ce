/**
 * A sweep: one experiment made of a base (preset + overrides), axes over any config fields,
 * and seeds. Expanding it gives its cells (one configuration each, labelled by the swept
 * values); every cell runs every seed. `cairn repro` is a named sweep with one `variants`
 * axis (labelled preset + overrides), so the CLI, the UI and the Slurm executor share one path.
 *
 * Axes:
 *   { key: "algo.lr", values: [1e-4, 3e-4] }                     a list
 *   { key: "algo.lr", range: { from, to, steps } }               evenly spaced, ends included
 *   { key: "algo.lr", logRange: { from, to, steps } }            evenly spaced in log space
 *   { link: [axis, axis, ...] }                                   move together (same length)
 *   { variants: [{ label, preset?, overrides? }, ...] }           named configurations
 * Sampling: `grid` (every combination, first axis slowest) or `random` (`samples` cells drawn
 * with a seeded PRNG: list and variant axes pick an entry, ranges draw uniformly, log-ranges
 * log-uniformly; `steps` is then ignored). The same spec and sampling seed give the same
 * cells everywhere, which is what lets a cluster task find its cell from its index alone.
 *
 * Values are checked here for shape only; the field types and ranges are checked when each
 * cell's config is resolved against the schemas (src-main/service/launch.ts), so every error
 * names the field.
 */
import { Rng } from '../rng';
import { ConfigError } from './schema';
import type { PartialExperiment } from './experiment';

export type AxisValue = number | string | boolean;

export interface RangeSpec {
  from: number;
  to: number;
  /** Number of points (grid sampling); at least 2 unless from === to. */
  steps?: number;
}

export interface VariantSpec {
  label: string;
  preset?: string;
  overrides?: PartialExperiment;
}

export type FieldAxis =
  | { key: string; values: AxisValue[] }
  | { key: string; range: RangeSpec }
  | { key: string; logRange: RangeSpec };

export type Axis = FieldAxis | { link: FieldAxis[] } | { variants: VariantSpec[] };

export type Sampling = { kind: 'grid' } | { kind: 'random'; samples: number; seed?: number };

export interface SweepSpec {
  name?: string;
  /** Base preset; a variants axis may set its own per variant. */
  preset?: string;
  overrides?: PartialExperiment;
  axes: Axis[];
  sampling?: Sampling;
  /** A count K (seeds first..first+K-1) or an explicit list. */
  seeds: number | number[];
  /** First seed when `seeds` is a count (default 1). */
  firstSeed?: number;
}

/** One configuration of the sweep: what it sets, and its label (the swept values). */
export interface SweepCell {
  index: number;
  label: string;
  /** Swept key -> value; a variants axis appears as "variant" -> its label. */
  values: Record<string, AxisValue>;
  preset?: string;
  overrides: PartialExperiment;
}

/** A cell x seed: one run. Task i of a cluster array is `runs[i]`. */
export interface SweepRun {
  task: number;
  cell: number;
  seed: number;
}

export const MAX_SWEEP_RUNS = 100_000;

const SECTIONS = ['env', 'algo', 'train'] as const;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkKey(field: string, key: unknown): string {
  if (typeof key !== 'string') throw new ConfigError(field, 'a config key such as algo.lr', key);
  const [section, name, ...rest] = key.split('.');
  if (!(SECTIONS as readonly string[]).includes(section) || !name || rest.length > 0) {
    throw new ConfigError(field, 'a config key env.<field>, algo.<field> or train.<field>', key);
  }
  return key;
}

function checkRange(field: string, r: unknown, log: boolean): RangeSpec {
  if (!isObj(r)) throw new ConfigError(field, 'an object { from, to, steps }', r);
  const { from, to, steps } = r;
  if (typeof from !== 'number' || !Number.isFinite(from)) throw new ConfigError(`${field}.from`, 'a finite number', from);
  if (typeof to !== 'number' || !Number.isFinite(to)) throw new ConfigError(`${field}.to`, 'a finite number', to);
  if (log && (from <= 0 || to <= 0)) throw new ConfigError(field, 'from and to > 0 for a log-range', r);
  if (steps !== undefined && (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > 10_000)) {
    throw new ConfigError(`${field}.steps`, 'an integer in [1, 10000]', steps);
  }
  return { from, to, steps: steps as number | undefined };
}

function checkFieldAxis(field: string, a: unknown): FieldAxis {
  if (!isObj(a)) throw new ConfigError(field, 'an axis object', a);
  const key = checkKey(`${field}.key`, a.key);
  const kinds = ['values', 'range', 'logRange'].filter((k) => a[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(field, 'exactly one of values, range, logRange', Object.keys(a));
  if (a.values !== undefined) {
    const v = a.values;
    if (!Array.isArray(v) || v.length === 0) throw new ConfigError(`${field}.values`, 'a non-empty list', v);
    for (const x of v) {
      if (!['number', 'string', 'boolean'].includes(typeof x)) throw new ConfigError(`${field}.values`, 'numbers, strings or booleans', x);
    }
    return { key, values: v as AxisValue[] };
  }
  if (a.range !== undefined) return { key, range: checkRange(`${field}.range`, a.range, false) };
  return { key, logRange: checkRange(`${field}.logRange`, a.logRange, true) };
}

/** Validate the shape of a parsed sweep file (JSON), with errors naming the field. */
export function checkSweepSpec(raw: unknown): SweepSpec {
  if (!isObj(raw)) throw new ConfigError('sweep', 'a JSON object with axes and seeds', raw);
  const known = ['name', 'preset', 'overrides', 'axes', 'sampling', 'seeds', 'firstSeed'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) throw new ConfigError(`sweep.${k}`, `unknown key; allowed keys are ${known.join(', ')}`);
  if (raw.name !== undefined && typeof raw.name !== 'string') throw new ConfigError('sweep.name', 'a string', raw.name);
  if (raw.preset !== undefined && typeof raw.preset !== 'string') throw new ConfigError('sweep.preset', 'a preset name', raw.preset);
  if (raw.overrides !== undefined && !isObj(raw.overrides)) throw new ConfigError('sweep.overrides', 'an object { env, algo, train }', raw.overrides);
  if (!Array.isArray(raw.axes)) throw new ConfigError('sweep.axes', 'a list of axes (possibly empty)', raw.axes);
  const axes: Axis[] = raw.axes.map((a, i): Axis => {
    const f = `sweep.axes[${i}]`;
    if (isObj(a) && a.link !== undefined) {
      if (!Array.isArray(a.link) || a.link.length < 2) throw new ConfigError(`${f}.link`, 'a list of at least 2 axes', a.link);
      return { link: a.link.map((x, j) => checkFieldAxis(`${f}.link[${j}]`, x)) };
    }
    if (isObj(a) && a.variants !== undefined) {
      if (!Array.isArray(a.variants) || a.variants.length === 0) throw new ConfigError(`${f}.variants`, 'a non-empty list', a.variants);
      const labels = new Set<string>();
      return {
        variants: a.variants.map((v, j) => {
          const vf = `${f}.variants[${j}]`;
          if (!isObj(v) || typeof v.label !== 'string' || v.label === '') throw new ConfigError(`${vf}.label`, 'a non-empty string', isObj(v) ? v.label : v);
          if (labels.has(v.label)) throw new ConfigError(`${vf}.label`, 'a label not used by another variant', v.label);
          labels.add(v.label);
          if (v.preset !== undefined && typeof v.preset !== 'string') throw new ConfigError(`${vf}.preset`, 'a preset name', v.preset);
          if (v.overrides !== undefined && !isObj(v.overrides)) throw new ConfigError(`${vf}.overrides`, 'an object', v.overrides);
          return { label: v.label, preset: v.preset as string | undefined, overrides: v.overrides as PartialExperiment | undefined };
        }),
      };
    }
    return checkFieldAxis(f, a);
  });
  let sampling: Sampling = { kind: 'grid' };
  if (raw.sampling !== undefined) {
    const s = raw.sampling;
    if (!isObj(s) || (s.kind !== 'grid' && s.kind !== 'random')) throw new ConfigError('sweep.sampling.kind', 'one of grid, random', isObj(s) ? s.kind : s);
    if (s.kind === 'random') {
      if (typeof s.samples !== 'number' || !Number.isInteger(s.samples) || s.samples < 1 || s.samples > MAX_SWEEP_RUNS) {
        throw new ConfigError('sweep.sampling.samples', `an integer in [1, ${MAX_SWEEP_RUNS}]`, s.samples);
      }
      if (s.seed !== undefined && (typeof s.seed !== 'number' || !Number.isInteger(s.seed) || s.seed < 0)) {
        throw new ConfigError('sweep.sampling.seed', 'a non-negative integer', s.seed);
      }
      sampling = { kind: 'random', samples: s.samples, seed: s.seed as number | undefined };
    }
  }
  const seeds = raw.seeds;
  const okSeed = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 2 ** 31 - 1;
  if (typeof seeds === 'number') {
    if (!Number.isInteger(seeds) || seeds < 1 || seeds > 1000) throw new ConfigError('sweep.seeds', 'an integer count in [1, 1000] or a list of seeds', seeds);
  } else if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every(okSeed) || new Set(seeds).size !== seeds.length) {
    throw new ConfigError('sweep.seeds', 'an integer count in [1, 1000] or a list of distinct integers in [0, 2147483647]', seeds);
  }
  if (raw.firstSeed !== undefined && !okSeed(raw.firstSeed)) throw new ConfigError('sweep.firstSeed', 'an integer in [0, 2147483647]', raw.firstSeed);
  const spec: SweepSpec = {
    name: raw.name as string | undefined,
    preset: raw.preset as string | undefined,
    overrides: raw.overrides as PartialExperiment | undefined,
    axes,
    sampling,
    seeds: seeds as number | number[],
    firstSeed: raw.firstSeed as number | undefined,
  };
  const n = countRuns(spec);
  if (n > MAX_SWEEP_RUNS) throw new ConfigError('sweep', `at most ${MAX_SWEEP_RUNS} runs (cells x seeds)`, n);
  return spec;
}

export function sweepSeeds(spec: SweepSpec): number[] {
  if (Array.isArray(spec.seeds)) return [...spec.seeds];
  const first = spec.firstSeed ?? 1;
  return Array.from({ length: spec.seeds }, (_, i) => first + i);
}

/** Grid points of a range: `steps` evenly spaced values, both ends included. */
export function rangePoints(r: RangeSpec, log: boolean): number[] {
  const steps = r.steps ?? (r.from === r.to ? 1 : 2);
  if (steps === 1) return [r.from];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = i / (steps - 1);
    // Round to 12 significant digits so 1e-4..1e-2 gives 0.001, not 0.0010000000000000002.
    const v = log ? Math.exp(Math.log(r.from) + t * (Math.log(r.to) - Math.log(r.from))) : r.from + t * (r.to - r.from);
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

function fieldPoints(a: FieldAxis): AxisValue[] {
  if ('values' in a) return a.values;
  if ('range' in a) return rangePoints(a.range, false);
  return rangePoints(a.logRange, true);
}

/** Grid length of an axis (a linked group's members must agree). */
function axisLength(a: Axis, i: number): number {
  if ('variants' in a) return a.variants.length;
  if ('link' in a) {
    const lens = a.link.map(fieldPoints).map((p) => p.length);
    if (lens.some((l) => l !== lens[0])) {
      throw new ConfigError(`sweep.axes[${i}].link`, 'axes of the same length (they move together)', lens);
    }
    return lens[0];
  }
  return fieldPoints(a).length;
}

export function countCells(spec: SweepSpec): number {
  if (spec.sampling?.kind === 'random') return spec.sampling.samples;
  return spec.axes.reduce((n, a, i) => n * axisLength(a, i), 1);
}

export function countRuns(spec: SweepSpec): number {
  return countCells(spec) * (Array.isArray(spec.seeds) ? spec.seeds.length : spec.seeds);
}

/** Short text of a value for labels: 0.0003 -> 3e-4, integers as they are. */
export function formatAxisValue(v: AxisValue): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v) || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6)) return String(Number(v.toPrecision(6)));
  return v.toExponential().replace(/\.?0+e/, 'e').replace('e-', 'e-').replace('e+', 'e');
}

function setField(o: PartialExperiment, key: string, v: AxisValue): PartialExperiment {
  const [section, name] = key.split('.') as [(typeof SECTIONS)[number], string];
  return { ...o, [section]: { ...o[section], [name]: v } };
}

/** One pick per axis: the index into its grid, or a drawn number for random ranges. */
type Pick = { index: number } | { value: number };

function cellFrom(spec: SweepSpec, picks: Pick[], index: number): SweepCell {
  let overrides: PartialExperiment = {};
  let preset = spec.preset;
  const values: Record<string, AxisValue> = {};
  const put = (a: FieldAxis, p: Pick) => {
    const v = 'value' in p ? Number(p.value.toPrecision(6)) : fieldPoints(a)[p.index];
    values[a.key] = v;
    overrides = setField(overrides, a.key, v);
  };
  spec.axes.forEach((a, i) => {
    const p = picks[i];
    if ('variants' in a) {
      const v = a.variants[(p as { index: number }).index];
      values.variant = v.label;
      if (v.preset !== undefined) preset = v.preset;
      const o = v.overrides ?? {};
      overrides = { env: { ...overrides.env, ...o.env }, algo: { ...overrides.algo, ...o.algo }, train: { ...overrides.train, ...o.train } };
    } else if ('link' in a) {
      for (const m of a.link) put(m, p);
    } else put(a, p);
  });
  return { index, label: cellLabel(spec, values), values, preset, overrides };
}

/** A cell's label: its swept values in axis order ("algo.lr=3e-4 PG"); "base" when nothing is swept. */
export function cellLabel(spec: SweepSpec, values: Record<string, AxisValue>): string {
  const parts = sweptKeys(spec).map((k) => (k === 'variant' ? String(values.variant) : `${k}=${formatAxisValue(values[k])}`));
  return parts.length ? parts.join(' ') : 'base';
}

/** Every cell of the sweep, in a stable order (task order is cells x seeds, seed fastest). */
export function expandCells(spec: SweepSpec): SweepCell[] {
  const lengths = spec.axes.map((a, i) => axisLength(a, i));
  if (spec.sampling?.kind === 'random') {
    const rng = new Rng(spec.sampling.seed ?? 0, 0x5eed);
    const cells: SweepCell[] = [];
    for (let c = 0; c < spec.sampling.samples; c++) {
      const picks = spec.axes.map((a, i): Pick => {
        const r = 'range' in a ? a.range : 'logRange' in a ? a.logRange : null;
        if (r) {
          const t = rng.float();
          const v = 'logRange' in a ? Math.exp(Math.log(r.from) + t * (Math.log(r.to) - Math.log(r.from))) : r.from + t * (r.to - r.from);
          return { value: v };
        }
        return { index: rng.int(lengths[i]) };
      });
      cells.push(cellFrom(spec, picks, c));
    }
    return cells;
  }
  const total = lengths.reduce((n, l) => n * l, 1);
  const cells: SweepCell[] = [];
  for (let c = 0; c < total; c++) {
    let rest = c;
    const picks: Pick[] = new Array(lengths.length);
    for (let i = lengths.length - 1; i >= 0; i--) {
      picks[i] = { index: rest % lengths[i] };
      rest = Math.floor(rest / lengths[i]);
    }
    cells.push(cellFrom(spec, picks, c));
  }
  return cells;
}

/** cells x seeds, seed fastest: the order of the cluster's array tasks. */
export function expandRuns(spec: SweepSpec): SweepRun[] {
  const seeds = sweepSeeds(spec);
  const n = countCells(spec);
  const out: SweepRun[] = [];
  for (let c = 0; c < n; c++) for (const seed of seeds) out.push({ task: out.length, cell: c, seed });
  return out;
}

/** Names of the swept keys (a variants axis is "variant"), in axis order. */
export function sweptKeys(spec: SweepSpec): string[] {
  return spec.axes.flatMap((a) => ('variants' in a ? ['variant'] : 'link' in a ? a.link.map((m) => m.key) : [a.key]));
}

/**
 * Parse a CLI axis: `key=v1,v2,v3` (a list), `key=from:to:steps` (a range) or
 * `key=log:from:to:steps` (a log-range). Linked axes: `a=1,2+b=3,4` (joined by `+`).
 */
export function parseAxisArg(arg: string): Axis {
  const members = arg.split('+').map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError('--axis', 'key=v1,v2 or key=from:to:steps or key=log:from:to:steps', arg);
    const key = checkKey('--axis', part.slice(0, eq).trim());
    const body = part.slice(eq + 1).trim();
    const m = /^(log:)?([^:,]+):([^:,]+):(\d+)$/.exec(body);
    if (m) {
      const r = { from: Number(m[2]), to: Number(m[3]), steps: Number(m[4]) };
      return m[1] ? checkFieldAxis('--axis', { key, logRange: r }) : checkFieldAxis('--axis', { key, range: r });
    }
    const values = body.split(',').map((s) => s.trim());
    if (values.some((s) => s === '')) throw new ConfigError(`--axis ${key}`, 'a comma-separated list of values without empty entries', body);
    return { key, values: values.map(parseScalar) } as FieldAxis;
  });
  return members.length === 1 ? members[0] : { link: members };
}

function parseScalar(s: string): AxisValue {
  if (s === 'true') return true;
  if (s === 'false') return false;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}
