/**
 * Config validation rejects keys that only exist on Object.prototype (they used to pass and
 * be dropped silently) and numeric text that is not a plain decimal float64 literal.
 */
import { describe, expect, it } from 'vitest';
import { applySet, resolveExperiment } from '../../src-shared/config/experiment';
import { coerceField, ConfigError, type FieldSpec } from '../../src-shared/config/schema';

const MEMBERS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

describe('config keys', () => {
  it.each(MEMBERS)('rejects %s as an unknown key, in --set and in JSON configs', (k) => {
    expect(() => applySet({ env: { id: 'manitokan' }, algo: { id: 'pg' }, train: {} }, `algo.${k}=1`)).toThrow(
      new RegExp(`^algo\\.${k}: unknown key; allowed keys are `),
    );
    const raw = JSON.parse(`{"env":{"id":"manitokan"},"algo":{"id":"pg"},"train":{"${k}":1}}`);
    expect(() => resolveExperiment(raw)).toThrow(ConfigError);
    expect(() => resolveExperiment(raw)).toThrow(new RegExp(`train\\.${k}: unknown key`));
  });
});

describe('numeric literals', () => {
  const float = { type: 'float', default: 0, doc: '' } as const;
  const int = { type: 'int', default: 0, min: 0, doc: '' } as const;
  const list: FieldSpec = { type: 'floatList', default: [0], doc: '' };
  it('accepts plain decimals with exponents', () => {
    for (const [t, v] of [['5e-4', 5e-4], ['-1.5', -1.5], ['.5', 0.5], ['3.', 3], ['+2E3', 2000], ['0', 0], ['0.000', 0], ['4.9e-324', 5e-324]] as const) {
      expect(coerceField('algo.lr', float, t)).toBe(v);
    }
    expect(coerceField('train.episodes', int, '1e3')).toBe(1000);
    expect(coerceField('algo.gammas', list, '0.9, 1e-2')).toEqual([0.9, 0.01]);
  });
  it.each(['0x10', '0b1', '0o7', '1_000', 'Infinity', '-Infinity', 'NaN', '1e-400', '1e400', '', ' ', '1,5', '5e', 'e5', '--1'])(
    'refuses %j with the field and the allowed values',
    (t) => {
      expect(() => coerceField('algo.lr', float, t)).toThrow(`algo.lr: expected a number, got ${JSON.stringify(t)}`);
    },
  );
  it('refuses bad list items too', () => {
    expect(() => coerceField('algo.gammas', list, '0.5,0x10')).toThrow(/algo\.gammas: expected a comma-separated list/);
  });
});
