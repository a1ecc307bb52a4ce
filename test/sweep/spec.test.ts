/** Sweep specs: axes, sampling, seeds and labels; planning against the real schemas and presets. */
import { describe, expect, it } from 'vitest';
import {
  checkSweepSpec,
  countRuns,
  expandCells,
  expandRuns,
  formatAxisValue,
  parseAxisArg,
  rangePoints,
  type SweepSpec,
} from '../../src-shared/config/sweep';
import { getRepro } from '../../src-shared/config/repro';
import { reproSweep } from '../../src-shared/config/sweep-repro';
import { planSweep } from '../../src-main/service/sweep';
import { jobScript } from '../../src-main/sweep/slurm';

describe('sweep spec', () => {
  it('a grid is every combination, first axis slowest, and every cell runs every seed (seed fastest)', () => {
    const spec = checkSweepSpec({
      preset: 'manitokan-pg',
      axes: [
        { key: 'algo.lr', values: [1e-4, 1e-3] },
        { key: 'train.numEnvs', values: [4, 8, 16] },
      ],
      seeds: 2,
    });
    const cells = expandCells(spec);
    expect(cells.map((c) => c.label)).toEqual([
      'algo.lr=1e-4 train.numEnvs=4',
      'algo.lr=1e-4 train.numEnvs=8',
      'algo.lr=1e-4 train.numEnvs=16',
      'algo.lr=0.001 train.numEnvs=4',
      'algo.lr=0.001 train.numEnvs=8',
      'algo.lr=0.001 train.numEnvs=16',
    ]);
    expect(cells[4].overrides).toEqual({ algo: { lr: 1e-3 }, train: { numEnvs: 8 } });
    expect(countRuns(spec)).toBe(12);
    expect(expandRuns(spec).slice(0, 3)).toEqual([
      { task: 0, cell: 0, seed: 1 },
      { task: 1, cell: 0, seed: 2 },
      { task: 2, cell: 1, seed: 1 },
    ]);
  });

  it('ranges include both ends; log-ranges are even in log space', () => {
    expect(rangePoints({ from: 0, to: 1, steps: 5 }, false)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(rangePoints({ from: 1e-4, to: 1e-2, steps: 3 }, true)).toEqual([1e-4, 1e-3, 1e-2]);
    const cells = expandCells(checkSweepSpec({ axes: [{ key: 'algo.lr', logRange: { from: 1e-4, to: 1e-2, steps: 3 } }], seeds: 1 }));
    expect(cells.map((c) => c.values['algo.lr'])).toEqual([1e-4, 1e-3, 1e-2]);
  });

  it('linked axes move together and must have the same length', () => {
    const spec = checkSweepSpec({
      axes: [{ link: [{ key: 'env.episodeLimit', values: [100, 200] }, { key: 'train.numEnvs', values: [4, 8] }] }],
      seeds: [3, 7],
    });
    expect(expandCells(spec).map((c) => c.values)).toEqual([
      { 'env.episodeLimit': 100, 'train.numEnvs': 4 },
      { 'env.episodeLimit': 200, 'train.numEnvs': 8 },
    ]);
    expect(expandRuns(spec).map((r) => r.seed)).toEqual([3, 7, 3, 7]);
    expect(() => countRuns(checkSweepSpec({ axes: [{ link: [{ key: 'algo.lr', values: [1, 2] }, { key: 'train.numEnvs', values: [4] }] }], seeds: 1 }))).toThrow(
      /sweep\.axes\[0\]\.link: expected axes of the same length/,
    );
  });

  it('random sampling is seeded: the same spec draws the same cells, another seed other cells', () => {
    const spec = (seed: number): SweepSpec =>
      checkSweepSpec({
        axes: [{ key: 'algo.lr', logRange: { from: 1e-5, to: 1e-2 } }, { key: 'algo.gamma', values: [0.9, 0.99] }],
        sampling: { kind: 'random', samples: 6, seed },
        seeds: 1,
      });
    const a = expandCells(spec(1)).map((c) => c.values);
    expect(expandCells(spec(1)).map((c) => c.values)).toEqual(a);
    expect(expandCells(spec(2)).map((c) => c.values)).not.toEqual(a);
    for (const v of a) {
      expect(v['algo.lr']).toBeGreaterThanOrEqual(1e-5);
      expect(v['algo.lr']).toBeLessThanOrEqual(1e-2);
      expect([0.9, 0.99]).toContain(v['algo.gamma']);
    }
  });

  it('bad input names the field and what is allowed', () => {
    expect(() => checkSweepSpec({ axes: [{ key: 'lr', values: [1] }], seeds: 1 })).toThrow(/sweep\.axes\[0\]\.key: expected a config key env\.<field>/);
    expect(() => checkSweepSpec({ axes: [{ key: 'algo.lr', values: [] }], seeds: 1 })).toThrow(/sweep\.axes\[0\]\.values: expected a non-empty list/);
    expect(() => checkSweepSpec({ axes: [{ key: 'algo.lr', values: [1], range: { from: 0, to: 1 } }], seeds: 1 })).toThrow(/exactly one of values, range, logRange/);
    expect(() => checkSweepSpec({ axes: [{ key: 'algo.lr', logRange: { from: 0, to: 1 } }], seeds: 1 })).toThrow(/from and to > 0/);
    expect(() => checkSweepSpec({ axes: [], seeds: 0 })).toThrow(/sweep\.seeds: expected an integer count/);
    expect(() => checkSweepSpec({ axes: [], seeds: [1, 1] })).toThrow(/sweep\.seeds/);
    expect(() => checkSweepSpec({ axes: [], seeds: 1, sampling: { kind: 'sobol' } })).toThrow(/sweep\.sampling\.kind: expected one of grid, random/);
    expect(() => checkSweepSpec({ axes: [], seeds: 1, colour: 'red' })).toThrow(/sweep\.colour: unknown key/);
    expect(() => checkSweepSpec({ axes: [{ key: 'algo.lr', range: { from: 0, to: 1, steps: 1000 } }, { key: 'algo.gamma', range: { from: 0, to: 1, steps: 1000 } }], seeds: 1 })).toThrow(
      /at most 100000 runs/,
    );
  });

  it('CLI axes: lists, ranges, log-ranges and linked axes', () => {
    expect(parseAxisArg('algo.lr=1e-4,3e-4')).toEqual({ key: 'algo.lr', values: [1e-4, 3e-4] });
    expect(parseAxisArg('env.agentOrder=fixed,random')).toEqual({ key: 'env.agentOrder', values: ['fixed', 'random'] });
    expect(parseAxisArg('train.numEnvs=8:32:4')).toEqual({ key: 'train.numEnvs', range: { from: 8, to: 32, steps: 4 } });
    expect(parseAxisArg('algo.lr=log:1e-4:1e-2:3')).toEqual({ key: 'algo.lr', logRange: { from: 1e-4, to: 1e-2, steps: 3 } });
    expect(parseAxisArg('env.a=1,2+env.b=true,false')).toEqual({ link: [{ key: 'env.a', values: [1, 2] }, { key: 'env.b', values: [true, false] }] });
    expect(() => parseAxisArg('algo.lr')).toThrow(/--axis: expected key=v1,v2/);
    expect(() => parseAxisArg('algo.lr=1,,2')).toThrow(/--axis algo\.lr: expected a comma-separated list/);
    expect(formatAxisValue(0.0003)).toBe('3e-4');
    expect(formatAxisValue(0.5)).toBe('0.5');
  });
});

describe('planning against the schemas', () => {
  it('resolves every cell and names the field and cell of a bad value before anything runs', () => {
    const plan = planSweep({ preset: 'manitokan-pg', axes: [{ key: 'algo.lr', values: [1e-3, 3e-3] }], seeds: 2 });
    expect(plan.cells.map((c) => c.config.algo.lr)).toEqual([1e-3, 3e-3]);
    expect(plan.cells[0].config.algo.id).toBe('pg');
    expect(plan.runs).toHaveLength(4);
    expect(() => planSweep({ preset: 'manitokan-pg', axes: [{ key: 'train.numEnvs', values: [4, -1] }], seeds: 1 })).toThrow(
      /train\.numEnvs: expected an integer in \[1, 4096\] \(in sweep cell "train\.numEnvs=-1"\), got -1/,
    );
    expect(() => planSweep({ preset: 'manitokan-pg', axes: [{ key: 'algo.nosuch', values: [1] }], seeds: 1 })).toThrow(/algo\.nosuch: unknown key/);
    expect(() => planSweep({ preset: 'nosuch', axes: [], seeds: 1 })).toThrow(/preset: expected one of/);
  });

  it('random draws on integer fields are rounded', () => {
    const plan = planSweep({ preset: 'manitokan-pg', axes: [{ key: 'train.numEnvs', logRange: { from: 2, to: 64 } }], sampling: { kind: 'random', samples: 5, seed: 3 }, seeds: 1 });
    for (const c of plan.cells) {
      expect(Number.isInteger(c.config.train.numEnvs)).toBe(true);
      expect(c.label).toBe(`train.numEnvs=${c.config.train.numEnvs}`);
    }
  });

  it('a reproduction is a sweep over its variants with the budget as the base', () => {
    const rep = getRepro('fig9')!;
    const plan = planSweep(reproSweep(rep, 'small', rep.budgets.small, [1, 2]));
    expect(plan.cells.map((c) => c.label)).toEqual(rep.variants.map((v) => v.label));
    expect(plan.cells[1].config.env.agentOrder).toBe('alternating');
    for (const c of plan.cells) expect(c.config.train.episodes).toBe(rep.budgets.small.episodes);
    expect(plan.runs).toHaveLength(rep.variants.length * 2);
  });
});

describe('the job array script', () => {
  it('carries the sbatch options and runs one task per run', () => {
    const s = jobScript('/shared/sw', 12, 'lr sweep', {
      time: '2:00:00',
      mem: '4G',
      cpusPerTask: 2,
      partition: 'gpu',
      account: 'lab',
      gres: 'gpu:1',
      maxConcurrent: 4,
      directives: ['--qos=short'],
      cairn: 'node /opt/cairn/bin/cairn.mjs',
      backend: 'wasm',
    });
    expect(s).toContain('#SBATCH --array=0-11%4\n');
    for (const d of ['--time=2:00:00', '--mem=4G', '--cpus-per-task=2', '--partition=gpu', '--account=lab', '--gres=gpu:1', '--qos=short', '--requeue']) {
      expect(s).toContain(`#SBATCH ${d}\n`);
    }
    expect(s).toMatch(/exec node \/opt\/cairn\/bin\/cairn\.mjs sweep task '\/shared\/sw' "\$SLURM_ARRAY_TASK_ID" --backend wasm\n$/);
    expect(() => jobScript('/d', 1, 'x', { time: '1:00\n#SBATCH --x' })).toThrow(/--time: expected a Slurm time/);
    expect(() => jobScript('/d', 1, 'x', { directives: ['qos=short'] })).toThrow(/--sbatch: expected a directive/);
    expect(() => jobScript('/d', 1, 'x', { cairn: 'cairn; rm -rf /' })).toThrow(/--cairn/);
  });
});
