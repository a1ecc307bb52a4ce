/**
 * The one rule every learner with a helper thread follows (algos/ppo-threads-hint.ts): the
 * `algo.updateThreads` field of every registered learner that has one (refusals name the field
 * and the three values; numbers from older configs resolve), and `UpdateHelper`, which starts,
 * reuses and closes a trainer's helper from update to update. The per-learner files
 * (ppo-threads, coma-threads, pg-threads) check that each learner's results do not depend on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listAlgos } from '../../src-shared/registry';
import { resolve } from '../../src-shared/config/schema';
import { UpdateHelper, setPpoAutoThreads } from '../../src-shared/algos/ppo-threads-hint';

const withThreads = listAlgos().filter((a) => 'updateThreads' in a.schema);

describe('algo.updateThreads, every learner that has it', () => {
  it('is declared by the learners with a helper thread', () => {
    expect(withThreads.map((a) => a.id)).toEqual(expect.arrayContaining(['ippo', 'mappo', 'coma', 'pg']));
  });

  for (const entry of withThreads) {
    it(`${entry.id}: auto by default; 1 and 2 as strings or numbers; anything else refused naming the field and the values`, () => {
      expect(resolve('algo', entry.schema, {}).updateThreads).toBe('auto');
      expect(resolve('algo', entry.schema, { updateThreads: 2 }).updateThreads).toBe('2');
      expect(resolve('algo', entry.schema, { updateThreads: '1' }).updateThreads).toBe('1');
      for (const bad of [3, 0, '3', 'two', true]) {
        expect(() => resolve('algo', entry.schema, { updateThreads: bad })).toThrow(/algo\.updateThreads: expected one of auto, 1, 2/);
      }
    });
  }
});

describe('UpdateHelper', () => {
  afterEach(() => setPpoAutoThreads(1));

  /** A factory that records what it started and what was closed. */
  function recording() {
    const log: string[] = [];
    let n = 0;
    const factory = (spec: { name: string }) => {
      const id = `${spec.name}#${++n}`;
      log.push(`start ${id}`);
      return { id, close: () => log.push(`close ${id}`) };
    };
    return { log, factory };
  }

  it('starts a helper on the first two-thread update, reuses it, closes it on a one-thread update and starts a new one after', () => {
    const { log, factory } = recording();
    const h = new UpdateHelper<{ id: string; close(): void }>('x');
    let specs = 0;
    const spec = () => ({ name: `s${++specs}` });
    const a = h.now('2', factory, spec);
    expect(h.now('2', factory, spec)).toBe(a);
    expect(h.now('1', factory, spec)).toBeNull();
    const b = h.now('2', factory, spec);
    expect(b).not.toBe(a);
    // `single`: one thread for this update whatever the setting.
    expect(h.now('2', factory, spec, true)).toBeNull();
    h.close();
    expect(log).toEqual(['start s1#1', 'close s1#1', 'start s2#2', 'close s2#2']);
    expect(specs).toBe(2);
  });

  it("auto follows the host's hint (1 without one); auto without a host is one thread; 2 without one names the learner and the field", () => {
    const { factory } = recording();
    const h = new UpdateHelper<{ id: string; close(): void }>('mylearner');
    const spec = () => ({ name: 's' });
    expect(h.now('auto', factory, spec)).toBeNull();
    setPpoAutoThreads(2);
    expect(h.now('auto', factory, spec)?.id).toBe('s#1');
    expect(h.now('auto', null, spec)).toBeNull();
    expect(() => h.now('2', null, spec)).toThrow(/^mylearner: algo\.updateThreads = 2 needs a host that can start threads .*; use 1 or auto here$/);
  });
});
