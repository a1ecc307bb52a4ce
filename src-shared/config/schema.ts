/**
 * Config schema: one declarative description per env/algorithm/training option.
 *
 * The same field list drives CLI `--set key=value` parsing, validation with messages that name
 * the field and the allowed values, the UI's generated forms, and report config tables.
 */

/**
 * When a field does something: another field of the same schema has one of the values `is`
 * lists, or none of those `not` lists (e.g. `{ field: 'correction', not: 'none' }`). A list of
 * conditions must all hold. The form folds a field whose conditions fail (its value is still
 * validated and kept); nothing else changes: the learner or env still receives every field.
 */
export type AppliesWhen =
  | { field: string; is: FieldValue | readonly FieldValue[]; not?: never }
  | { field: string; not: FieldValue | readonly FieldValue[]; is?: never };

interface Common {
  doc: string;
  /** The choices under which this field has an effect (absent: always). */
  when?: AppliesWhen | readonly AppliesWhen[];
}

export type FieldSpec =
  | ({ type: 'int'; default: number; min?: number; max?: number } & Common)
  | ({ type: 'float'; default: number; min?: number; max?: number } & Common)
  | ({ type: 'bool'; default: boolean } & Common)
  | ({ type: 'enum'; default: string; values: readonly string[] } & Common)
  | ({ type: 'floatList'; default: number[]; min?: number; max?: number } & Common);

/** Ordered map from field name to its spec. */
export type Schema = Readonly<Record<string, FieldSpec>>;

export type FieldValue = number | boolean | string | number[];

/** The value type one field spec resolves to: an enum's own literals, a list as number[]. */
export type FieldType<F extends FieldSpec> = F extends { type: 'int' | 'float' }
  ? number
  : F extends { type: 'bool' }
    ? boolean
    : F extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : number[];

/**
 * Resolved values. `Values` alone is the untyped record every schema resolves to; `Values<typeof
 * someSchema>` (a schema declared `as const satisfies Schema`) is a typed object with one field
 * per schema entry, so learners read their config without hand-copied interfaces or casts.
 */
export type Values<S extends Schema = Schema> = string extends keyof S
  ? Record<string, FieldValue>
  : { -readonly [K in keyof S]: FieldType<S[K]> };

/** A validation failure that names the field and what is allowed (shown to users verbatim). */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly allowed: string,
    readonly got?: unknown,
  ) {
    super(
      got === undefined
        ? `${field}: ${allowed}`
        : `${field}: expected ${allowed}, got ${JSON.stringify(got)}`,
    );
    this.name = 'ConfigError';
  }
}

export function describeAllowed(spec: FieldSpec): string {
  const range = (s: { min?: number; max?: number }) =>
    s.min !== undefined && s.max !== undefined
      ? ` in [${s.min}, ${s.max}]`
      : s.min !== undefined
        ? ` >= ${s.min}`
        : s.max !== undefined
          ? ` <= ${s.max}`
          : '';
  switch (spec.type) {
    case 'int':
      return `an integer${range(spec)}`;
    case 'float':
      return `a number${range(spec)}`;
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'floatList':
      return `a comma-separated list of numbers${range(spec)}`;
  }
}

function checkRange(path: string, spec: FieldSpec & { min?: number; max?: number }, v: number, raw: unknown): void {
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    throw new ConfigError(path, describeAllowed(spec), raw);
  }
}

/**
 * The spec of field `key`, only if the schema itself declares it: `schema[key]` alone would
 * find `toString`, `constructor` or `__proto__` on Object.prototype and let them through.
 */
export function fieldSpec(schema: Schema, key: string): FieldSpec | undefined {
  return Object.hasOwn(schema, key) ? schema[key] : undefined;
}

/**
 * Numbers written as text (`--set`, form fields) must be plain decimal literals: `0x10`,
 * `0b1`, `1_000` and `Infinity` are refused rather than reinterpreted, and so is a literal
 * that does not survive as a float64 (`1e-400` would silently become 0, `1e400` Infinity).
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A plain decimal literal's value, or NaN (the policy above; CLI number flags use it too). */
export function parseDecimal(raw: string): number {
  const t = raw.trim();
  if (!DECIMAL.test(t)) return NaN;
  const v = Number(t);
  // Underflow: a non-zero mantissa that rounds to 0.
  if (v === 0 && /[1-9]/.test(t.replace(/[eE].*$/, ''))) return NaN;
  return v;
}

/** Coerce one value (from JSON or from a `--set` string) to the field's type, or throw. */
export function coerceField(path: string, spec: FieldSpec, raw: unknown): FieldValue {
  const allowed = describeAllowed(spec);
  switch (spec.type) {
    case 'int':
    case 'float': {
      const v = typeof raw === 'string' ? parseDecimal(raw) : raw;
      if (typeof v !== 'number' || !Number.isFinite(v) || (spec.type === 'int' && !Number.isInteger(v))) {
        throw new ConfigError(path, allowed, raw);
      }
      checkRange(path, spec, v, raw);
      return v;
    }
    case 'bool': {
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw new ConfigError(path, allowed, raw);
    }
    case 'enum': {
      // An enum of numerals (algo.updateThreads: auto, 1, 2) also takes the number, as configs
      // written when the field was an integer hold it.
      if (typeof raw === 'number' && spec.values.includes(String(raw))) return String(raw);
      if (typeof raw !== 'string' || !spec.values.includes(raw)) throw new ConfigError(path, allowed, raw);
      return raw;
    }
    case 'floatList': {
      const parts = Array.isArray(raw)
        ? raw
        : typeof raw === 'string' && raw.trim() !== ''
          ? raw.split(',').map(parseDecimal)
          : typeof raw === 'number'
            ? [raw]
            : null;
      if (!parts || parts.length === 0) throw new ConfigError(path, allowed, raw);
      return parts.map((p) => {
        if (typeof p !== 'number' || !Number.isFinite(p)) throw new ConfigError(path, allowed, raw);
        checkRange(path, spec, p, raw);
        return p;
      });
    }
  }
}

/** Defaults of a schema. */
export function defaults(schema: Schema): Values {
  const out: Values = {};
  for (const [k, s] of Object.entries(schema)) out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  return out;
}

/**
 * Validate a partial object against a schema: unknown keys are errors (they are typos more
 * often than not), missing keys take defaults.
 */
export function resolve(prefix: string, schema: Schema, given: Record<string, unknown> | undefined): Values {
  const out = defaults(schema);
  for (const [k, v] of Object.entries(given ?? {})) {
    const spec = fieldSpec(schema, k);
    if (!spec) {
      throw new ConfigError(`${prefix}.${k}`, `unknown key; allowed keys are ${Object.keys(schema).join(', ')}`);
    }
    out[k] = coerceField(`${prefix}.${k}`, spec, v);
  }
  return out;
}

/**
 * The typed config of a schema, from resolved (or partial) values: every field is checked
 * against its spec (so a hand-built config cannot smuggle a wrong type in), missing fields take
 * defaults, and keys of other schemas are ignored (a learner reads only its own fields).
 */
export function typedValues<S extends Schema>(prefix: string, schema: S, values: Readonly<Record<string, unknown>>): Values<S> {
  const out: Record<string, FieldValue> = {};
  for (const [k, spec] of Object.entries(schema)) {
    const v = values[k];
    out[k] = v === undefined ? (Array.isArray(spec.default) ? [...spec.default] : spec.default) : coerceField(`${prefix}.${k}`, spec, v);
  }
  // The one place where the mapped type is asserted: every key of S was just set from its spec.
  return out as Values<S>;
}

/** Whether a (possibly draft, text-typed) value equals a declared one. */
function sameValue(v: unknown, target: FieldValue): boolean {
  if (typeof target === 'number') return typeof v === 'number' ? v === target : typeof v === 'string' && v.trim() !== '' && Number(v) === target;
  if (typeof target === 'boolean') return v === target || v === String(target);
  if (Array.isArray(target)) return Array.isArray(v) && v.length === target.length && v.every((x, i) => x === target[i]);
  return v === target;
}

/** The conditions of a field, as a list. */
export function whenList(spec: FieldSpec): readonly AppliesWhen[] {
  return spec.when === undefined ? [] : Array.isArray(spec.when) ? (spec.when as readonly AppliesWhen[]) : [spec.when as AppliesWhen];
}

/**
 * Whether field `key` has an effect under `values` (resolved or a form's draft; a missing value
 * counts as its default). Conditions naming a field the schema lacks hold (they are caught by
 * `checkWhen`, not here).
 */
export function fieldApplies(schema: Schema, values: Readonly<Record<string, unknown>>, key: string): boolean {
  const spec = fieldSpec(schema, key);
  if (!spec) return true;
  return whenList(spec).every((c) => {
    const other = fieldSpec(schema, c.field);
    if (!other) return true;
    const v = values[c.field] === undefined ? other.default : values[c.field];
    const list = (x: FieldValue | readonly FieldValue[]): readonly FieldValue[] =>
      Array.isArray(x) && other.type !== 'floatList' ? (x as readonly FieldValue[]) : [x as FieldValue];
    return c.is !== undefined ? list(c.is).some((t) => sameValue(v, t)) : !list(c.not!).some((t) => sameValue(v, t));
  });
}

/** Human text of a field's conditions, e.g. "applies when correction is not none". */
export function describeWhen(spec: FieldSpec): string {
  const parts = whenList(spec).map((c) => {
    const vals = (x: FieldValue | readonly FieldValue[]) => (Array.isArray(x) ? (x as FieldValue[]).map(String).join(' or ') : String(x));
    return c.is !== undefined ? `${c.field} is ${vals(c.is)}` : `${c.field} is not ${vals(c.not!)}`;
  });
  return parts.length ? `applies when ${parts.join(' and ')}` : '';
}

/** Problems of a schema's `when` declarations (unknown fields, values the field cannot take); empty when sound. */
export function checkWhen(schema: Schema): string[] {
  const out: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    for (const c of whenList(spec)) {
      const other = fieldSpec(schema, c.field);
      if (!other || c.field === key) {
        out.push(`${key}: "when" names ${c.field === key ? 'the field itself' : `unknown field ${c.field}`}`);
        continue;
      }
      const raw = c.is !== undefined ? c.is : c.not;
      const targets = Array.isArray(raw) && other.type !== 'floatList' ? (raw as FieldValue[]) : [raw as FieldValue];
      for (const t of targets) {
        try {
          coerceField(c.field, other, t);
        } catch {
          out.push(`${key}: "when" compares ${c.field} with ${JSON.stringify(t)}, which it cannot take (${describeAllowed(other)})`);
        }
      }
    }
  }
  return out;
}
