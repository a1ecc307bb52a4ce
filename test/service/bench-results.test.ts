/** The bench figures file: where it lives, merging by (learner, env, backend), and a damaged file read as none. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchFigure } from '../../src-shared/bench-estimate';
import { benchResultsFile, loadBenchFigures, saveBenchFigures } from '../../src-main/service/bench-results';
import { learnerFigures } from '../../src-main/service/bench-registry';
import { tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-bench-results-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const fig = (over: Partial<BenchFigure>): BenchFigure => ({
  algo: 'pg',
  env: 'manitokan',
  preset: 'manitokan-pg',
  backend: 'wasm',
  envStepsPerSecond: 1000,
  roundsPerSecond: 2,
  numEnvs: 32,
  measuredAt: 1,
  ...over,
});

describe('bench results', () => {
  it('lives beside the default database (not a --db or CAIRN_DB one), or where CAIRN_BENCH_RESULTS says', () => {
    expect(benchResultsFile({ XDG_DATA_HOME: '/data', CAIRN_DB: '/elsewhere/x.db' })).toBe(path.join('/data', 'cairn', 'bench-results.json'));
    expect(benchResultsFile({ CAIRN_BENCH_RESULTS: '/tmp/b.json' })).toBe('/tmp/b.json');
  });

  it('merges new figures by learner, env and backend, and reads a missing or damaged file as none', () => {
    const file = path.join(dir, 'sub', 'bench-results.json');
    expect(loadBenchFigures(file).figures).toEqual([]);
    saveBenchFigures([fig({}), fig({ algo: 'coma' })], file);
    saveBenchFigures([fig({ roundsPerSecond: 5, measuredAt: 2 }), fig({ backend: 'tensorflow' })], file);
    const got = loadBenchFigures(file).figures;
    expect(got).toHaveLength(3);
    expect(got.find((f) => f.algo === 'pg' && f.backend === 'wasm')?.roundsPerSecond).toBe(5);
    fs.writeFileSync(file, '{"figures": [{"algo": "pg"}, 3]}');
    expect(loadBenchFigures(file).figures).toEqual([]);
    fs.writeFileSync(file, 'not json');
    expect(loadBenchFigures(file)).toEqual({ file, figures: [] });
  });

  it('turns the training bench into figures of (learner, env)', () => {
    const [f] = learnerFigures(
      [{ name: 'x', value: 900, baseline: 1, baselineName: 'random', target: null, algo: 'pg', preset: 'spread-pg', envId: 'spread', roundsPerSecond: 3 }],
      'cpu',
      42,
    );
    expect(f).toEqual({ algo: 'pg', env: 'spread', preset: 'spread-pg', backend: 'cpu', envStepsPerSecond: 900, roundsPerSecond: 3, numEnvs: 32, measuredAt: 42 });
  });
});
