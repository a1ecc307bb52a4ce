/**
 * "Applies when" declarations (FieldSpec.when): what the form folds, and a check over every
 * registered env's and learner's schema that each declaration names a field of its own schema
 * and a value that field can take (a typo would silently hide a field that matters).
 */
import { describe, expect, it } from 'vitest';
import { trainSchema } from '../../src-shared/config/experiment';
import { checkWhen, describeWhen, fieldApplies, type Schema } from '../../src-shared/config/schema';
import { listAlgos, listEnvs } from '../../src-shared/registry';
import { pgSchema } from '../../src-shared/algos/pg';

const schema = {
  correction: { type: 'enum', default: 'none', values: ['none', 'cross', 'self'], doc: '' },
  coef: { type: 'float', default: 1, doc: '', when: { field: 'correction', not: 'none' } },
  anti: { type: 'bool', default: false, doc: '', when: { field: 'correction', is: ['cross', 'self'] } },
  scope: { type: 'enum', default: 'a', values: ['a', 'b'], doc: '', when: [{ field: 'correction', not: 'none' }, { field: 'anti', is: true }] },
  penalty: { type: 'float', default: 0, doc: '' },
  mode: { type: 'enum', default: 'x', values: ['x', 'y'], doc: '', when: { field: 'penalty', not: 0 } },
} as const satisfies Schema;

describe('applies when', () => {
  it('folds fields whose conditions fail, reading defaults and draft text', () => {
    expect(fieldApplies(schema, {}, 'coef')).toBe(false);
    expect(fieldApplies(schema, { correction: 'self' }, 'coef')).toBe(true);
    expect(fieldApplies(schema, { correction: 'cross' }, 'anti')).toBe(true);
    expect(fieldApplies(schema, { correction: 'cross' }, 'scope')).toBe(false);
    expect(fieldApplies(schema, { correction: 'cross', anti: true }, 'scope')).toBe(true);
    // A number typed in the form is text until it parses: "0.5" applies, "0" and "" do not change it.
    expect(fieldApplies(schema, { penalty: '0.5' }, 'mode')).toBe(true);
    expect(fieldApplies(schema, { penalty: '0' }, 'mode')).toBe(false);
    expect(fieldApplies(schema, { penalty: 0 }, 'mode')).toBe(false);
    expect(fieldApplies(schema, {}, 'penalty')).toBe(true);
    expect(describeWhen(schema.scope)).toBe('applies when correction is not none and anti is true');
    expect(describeWhen(schema.anti)).toBe('applies when correction is cross or self');
  });

  it('reports declarations that name unknown fields or impossible values', () => {
    const bad = {
      a: { type: 'bool', default: false, doc: '' },
      b: { type: 'float', default: 1, doc: '', when: { field: 'nope', is: true } },
      c: { type: 'float', default: 1, doc: '', when: { field: 'a', is: 'yes' } },
    } as const satisfies Schema;
    expect(checkWhen(bad)).toEqual([
      'b: "when" names unknown field nope',
      'c: "when" compares a with "yes", which it cannot take (true or false)',
    ]);
  });

  it('every registered schema declares sound conditions', () => {
    const all: [string, Schema][] = [
      ['train', trainSchema],
      ...listEnvs().map((e): [string, Schema] => [`env ${e.id}`, e.schema]),
      ...listAlgos().map((a): [string, Schema] => [`algo ${a.id}`, a.schema]),
    ];
    for (const [name, s] of all) expect(checkWhen(s), name).toEqual([]);
    // PG folds its correction knobs until a correction is chosen.
    expect(fieldApplies(pgSchema, {}, 'correctionCoef')).toBe(false);
    expect(fieldApplies(pgSchema, { correction: 'self' }, 'correctionCoef')).toBe(true);
  });
});
