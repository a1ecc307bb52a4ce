/**
 * `cairn sweep`: axes over any config fields x seeds as one experiment, on the local worker
 * pool or as a Slurm job array (here, or over ssh), and the commands that follow a cluster
 * sweep: status, cancel, collect. `cairn sweep task` is what job.sh runs on a compute node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { budgetNames, budgetVariants, getRepro, listRepros, reproBudget } from '../../src-shared/config/repro';
import { ConfigError } from '../../src-shared/config/schema';
import { countCells, countRuns, parseAxisArg, type SweepSpec } from '../../src-shared/config/sweep';
import { reproSweep } from '../../src-shared/config/sweep-repro';
import { applySet, mergeExperiment, type PartialExperiment } from '../../src-shared/config/experiment';
import { getPreset } from '../../src-shared/config/presets';
import { backendChoice } from '../backend/select';
import type { Store, SweepRow } from '../db/store';
import { finishLocalSweep, launchSweepLocal, planSweep, type SweepPlan } from '../service/sweep';
import { collectSweep } from '../sweep/collect';
import { schedulerStates } from '../sweep/slurm';
import { cancelSlurm, submitSlurm } from '../sweep/submit';
import { transportFor } from '../sweep/transport';
import { intFlag, parse } from './args';
import { makeRunner, openStore, runToCompletion, runsJson } from './common';
import { UsageError } from './errors';
import { Progress } from './progress';

export const SWEEP_HELP = `Usage: cairn sweep FILE.json [options]
       cairn sweep --preset P --axis KEY=V1,V2 [--axis ...] --seeds K [options]
       cairn sweep --repro NAME [--budget paper|small|medium] [options]
       cairn sweep list | status ID|DIR | collect ID|DIR [--wait] | cancel ID

A sweep is one experiment: a base preset, axes over any config fields, and seeds; every
combination (cell) runs every seed. Runs are grouped by their swept values in compare and
reports.

Axes (--axis, repeatable; or "axes" in FILE.json):
  algo.lr=1e-4,3e-4,1e-3       a list of values
  train.numEnvs=8:32:4         a range from:to:steps (ends included)
  algo.lr=log:1e-4:1e-2:3      a log-range
  env.a=1,2+env.b=3,4          linked axes: move together (same length)

Options:
  --preset NAME        base preset        --set key=value   base override (repeatable)
  --seeds K            seeds S..S+K-1     --seed S          first seed (default 1)
  --rounds N           rounds per run (alias --episodes)    --envs B   parallel envs per run
  --sample N           N random cells instead of the grid (--sample-seed S, default 0)
  --repro NAME         a paper's figure or table (\`cairn repro --list\`) as the sweep
  --dry-run            print the cells and the number of runs, launch nothing
  --executor E         local (the worker pool; default) or slurm (a job array)
  --parallel P         local: runs at once      --backend NAME   backend (or CAIRN_BACKEND)
  --db PATH            database file            --json           machine-readable last line
Slurm (--executor slurm):
  --dir DIR            the sweep folder on the cluster's shared filesystem (absolute, empty)
  --ssh HOST           submit and collect over ssh (your ssh config and agent)
  --time T --mem M --cpus-per-task C --partition P --account A --gres G
  --sbatch DIRECTIVE   an extra #SBATCH directive, e.g. --sbatch=--qos=short (repeatable)
  --max-concurrent K   at most K tasks at once
  --cairn CMD          how the cluster runs Cairn (default: this Cairn locally, cairn over ssh)

Follow-up (ID: the sweep's id in \`cairn sweep list\`; DIR with --ssh HOST for a sweep
submitted elsewhere):
  status     runs by state, from squeue/sacct and the run files (collects what is new first)
  collect    import finished and in-progress runs (idempotent); --wait repeats until done
  cancel     scancel the array; tasks checkpoint, collected rounds stay
`;

const SUB = new Set(['list', 'status', 'collect', 'cancel', 'task']);

export async function sweep(argv: string[]): Promise<void> {
  if (argv[0] && SUB.has(argv[0])) return sub(argv[0], argv.slice(1));
  const { values, positionals } = parse(
    argv,
    {
      preset: { type: 'string' },
      axis: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      seeds: { type: 'string' },
      seed: { type: 'string' },
      episodes: { type: 'string' },
      rounds: { type: 'string' },
      envs: { type: 'string' },
      sample: { type: 'string' },
      'sample-seed': { type: 'string' },
      repro: { type: 'string' },
      budget: { type: 'string' },
      name: { type: 'string' },
      'dry-run': { type: 'boolean' },
      executor: { type: 'string' },
      parallel: { type: 'string' },
      backend: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean' },
      dir: { type: 'string' },
      ssh: { type: 'string' },
      time: { type: 'string' },
      mem: { type: 'string' },
      'cpus-per-task': { type: 'string' },
      partition: { type: 'string' },
      account: { type: 'string' },
      gres: { type: 'string' },
      sbatch: { type: 'string', multiple: true },
      'max-concurrent': { type: 'string' },
      cairn: { type: 'string' },
    },
    1,
  );
  if (values.help) return void process.stdout.write(SWEEP_HELP);
  const executor = values.executor ?? 'local';
  if (executor !== 'local' && executor !== 'slurm') throw new UsageError(`--executor: expected one of local, slurm, got ${JSON.stringify(executor)}`);
  // The submitter's choice (flag, else CAIRN_BACKEND) goes to the cluster's tasks too, so a sweep
  // run there gives the runs it gives here; the tasks' own environment is not the submitter's.
  values.backend ??= process.env.CAIRN_BACKEND;
  if (values.backend !== undefined) {
    try {
      backendChoice(values.backend);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }

  let spec: SweepSpec;
  let experimentPreset: string | undefined;
  if (positionals[0]) {
    if (values.preset || values.axis || values.repro) throw new UsageError('FILE.json: give either a sweep file or --preset/--axis/--repro, not both');
    spec = readSpecFile(positionals[0]);
  } else if (values.repro) {
    const rep = getRepro(values.repro);
    if (!rep) throw new ConfigError('--repro', `one of ${listRepros().map((r) => r.name).join(', ')}`, values.repro);
    const offered = budgetNames(rep);
    if (!(offered as string[]).includes(values.budget ?? 'paper')) throw new UsageError(`--budget: ${rep.name} offers ${offered.join(', ')}; got ${JSON.stringify(values.budget)}`);
    const { name: budgetName, budget: b } = reproBudget(rep, values.budget ?? 'paper');
    const k = intFlag('seeds', values.seeds, b.seeds, 1, 1000);
    const first = intFlag('seed', values.seed, 1, 0, 2 ** 31 - 1);
    // A sweep has one stage: variants against a first-stage run (opponentFrom) need `cairn repro`.
    spec = reproSweep({ ...rep, variants: budgetVariants(rep, b) }, budgetName, b, Array.from({ length: k }, (_, i) => first + i));
    experimentPreset = `repro:${rep.name}`;
  } else {
    if (!values.preset) throw new UsageError('--preset: required (or give FILE.json or --repro NAME); see `cairn presets`');
    spec = {
      preset: values.preset,
      axes: (values.axis ?? []).map(parseAxisArg),
      seeds: intFlag('seeds', values.seeds, 1, 1, 1000),
      firstSeed: intFlag('seed', values.seed, 1, 0, 2 ** 31 - 1),
    };
    if (values.sample !== undefined) {
      spec.sampling = { kind: 'random', samples: intFlag('sample', values.sample, 1, 1, 100_000), seed: intFlag('sample-seed', values['sample-seed'], 0, 0) };
    }
  }
  // Flags that adjust any sweep's base (a file's, a reproduction's).
  let base: PartialExperiment = spec.overrides ?? {};
  if (values.rounds !== undefined && values.episodes !== undefined) {
    throw new UsageError('--rounds: give --rounds or its alias --episodes, not both');
  }
  const rounds = values.rounds !== undefined ? intFlag('rounds', values.rounds, 0, 1) : values.episodes !== undefined ? intFlag('episodes', values.episodes, 0, 1) : undefined;
  if (rounds !== undefined) base = { ...base, train: { ...base.train, episodes: rounds } };
  if (values.envs !== undefined) base = { ...base, train: { ...base.train, numEnvs: intFlag('envs', values.envs, 0, 1, 4096) } };
  for (const s of values.set ?? []) base = applySetToSweep(spec, base, s);
  spec = { ...spec, overrides: base, ...(values.name ? { name: values.name } : {}) };
  if (values.repro && (rounds !== undefined || values.envs !== undefined)) {
    // The variants carry the budget's rounds and envs; the flags must win over them too.
    for (const a of spec.axes) if ('variants' in a) for (const v of a.variants) v.overrides = { ...v.overrides, train: { ...v.overrides?.train, ...base.train } };
  }

  const plan = planSweep(spec);
  if (values['dry-run']) return printPlan(plan, values.json === true);

  const store = await openStore(values.db);
  try {
    if (executor === 'local') {
      for (const flag of ['dir', 'ssh', 'time', 'mem', 'partition', 'account', 'gres', 'cairn'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag}: only with --executor slurm`);
      }
      const runner = makeRunner(store, values);
      const progress = new Progress();
      const rec = await launchSweepLocal(store, runner, plan, { experimentPreset });
      plan.runs.forEach((r, i) => progress.add(rec.runIds[i], r.seed, Number(plan.cells[r.cell].config.train.episodes)));
      process.stderr.write(
        `cairn: sweep ${rec.sweepId} (experiment ${rec.experimentId}): ${plan.cells.length} cells x ${plan.seeds.length} seeds = ${rec.runIds.length} runs in ${store.file}\n`,
      );
      await runToCompletion(runner, progress);
      const state = await finishLocalSweep(store, rec);
      const out = { sweepId: rec.sweepId, experimentId: rec.experimentId, state, ...(await runsJson(store, rec.runIds)) };
      if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
      else for (const r of out.runs) process.stdout.write(`run ${r.id} seed ${r.seed}: ${r.status}${r.error ? ` (${r.error})` : ''}\n`);
      if (state === 'failed') process.exitCode = 1;
      return;
    }
    if (!values.dir) throw new UsageError('--dir: required with --executor slurm (the sweep folder on the shared filesystem)');
    const rec = await submitSlurm(store, plan, {
      dir: values.dir,
      sshHost: values.ssh ?? null,
      experimentPreset,
      time: values.time,
      mem: values.mem,
      cpusPerTask: values['cpus-per-task'] === undefined ? undefined : intFlag('cpus-per-task', values['cpus-per-task'], 1, 1, 4096),
      partition: values.partition,
      account: values.account,
      gres: values.gres,
      directives: values.sbatch,
      maxConcurrent: values['max-concurrent'] === undefined ? undefined : intFlag('max-concurrent', values['max-concurrent'], 1, 1, 100_000),
      cairn: values.cairn ?? (values.ssh ? 'cairn' : thisCairn()),
      backend: values.backend,
    });
    process.stderr.write(
      `cairn: sweep ${rec.sweepId} (experiment ${rec.experimentId}): ${rec.runIds.length} tasks submitted as Slurm job ${rec.jobId} on ${values.ssh ?? 'this machine'}; \`cairn sweep collect ${rec.sweepId}\` imports their runs\n`,
    );
    if (values.json) process.stdout.write(JSON.stringify({ sweepId: rec.sweepId, experimentId: rec.experimentId, jobId: rec.jobId, runIds: rec.runIds }) + '\n');
  } finally {
    await store.close();
  }
}

function readSpecFile(file: string): SweepSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`FILE.json: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text) as SweepSpec;
  } catch (e) {
    throw new UsageError(`FILE.json: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** This very Cairn, for tasks on a cluster that shares this filesystem (a login node). */
function thisCairn(): string {
  const bin = fileURLToPath(new URL('../../bin/cairn.mjs', import.meta.url));
  return `${process.execPath} ${bin}`;
}

function printPlan(plan: SweepPlan, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ name: plan.name, cells: plan.cells.map((c) => ({ label: c.label, values: c.values })), seeds: plan.seeds, runs: plan.runs.length }) + '\n');
    return;
  }
  process.stdout.write(`${plan.name}: ${countCells(plan.spec)} cells x ${plan.seeds.length} seeds = ${countRuns(plan.spec)} runs\n`);
  for (const c of plan.cells) process.stdout.write(`  ${c.label}\n`);
}

async function sub(cmd: string, argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { db: { type: 'string' }, ssh: { type: 'string' }, json: { type: 'boolean' }, wait: { type: 'boolean' }, every: { type: 'string' }, backend: { type: 'string' } },
    2,
  );
  if (values.help) return void process.stdout.write(SWEEP_HELP);
  if (cmd === 'task') {
    const dir = positionals[0];
    if (!dir) throw new UsageError('DIR: required (the sweep folder)');
    const index = intFlag('INDEX', positionals[1] ?? process.env.SLURM_ARRAY_TASK_ID, -1, 0);
    if (index < 0) throw new UsageError('INDEX: required (or $SLURM_ARRAY_TASK_ID)');
    let backend;
    try {
      backend = backendChoice(values.backend);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { runTask } = await import('../sweep/task');
    const status = await runTask({ dir, index, backend });
    if (status === 'failed') process.exitCode = 1;
    return;
  }
  const store = await openStore(values.db);
  try {
    if (cmd === 'list') {
      const rows = await store.listSweeps();
      if (values.json) return void process.stdout.write(JSON.stringify(rows.map(({ spec: _s, ...r }) => r)) + '\n');
      for (const r of rows) {
        process.stdout.write(`${String(r.id).padStart(4)}  ${r.state.padEnd(10)} ${r.executor.padEnd(6)} ${r.name}${r.jobId ? `  job ${r.jobId}` : ''}${r.location ? `  ${r.sshHost ? `${r.sshHost}:` : ''}${r.location}` : ''}${r.message ? `  (${r.message})` : ''}\n`);
      }
      return;
    }
    const { row, dir, ssh } = await resolveTarget(store, positionals[0], values.ssh);
    if (cmd === 'cancel') {
      if (!row) throw new UsageError('ID: cancel takes a sweep id from `cairn sweep list` (collect a folder first)');
      await cancelSlurm(store, row.id);
      process.stderr.write(`cairn: sweep ${row.id}: scancel ${row.jobId} sent; tasks checkpoint and publish their runs\n`);
      return;
    }
    if (cmd === 'status') {
      const t = transportFor(ssh);
      const sched = row?.jobId ? await schedulerStates(t, row.jobId) : null;
      const report = await collectSweep(store, t, dir);
      const out = { sweepId: report.sweepId, state: report.state, counts: report.counts, scheduler: sched ? Object.fromEntries(sched) : null, problems: report.problems };
      if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        process.stdout.write(`sweep ${report.sweepId}: ${report.state}  ${Object.entries(report.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
        for (const p of report.problems) process.stdout.write(`  ${p}\n`);
      }
      return;
    }
    // collect
    const every = intFlag('every', values.every, 5, 1, 3600);
    const t = transportFor(ssh);
    for (;;) {
      const report = await collectSweep(store, t, dir).catch(async (e: unknown) => {
        // Say it on the sweep as well, where the workbench shows it; its runs stay as they are.
        if (row) await store.updateSweep(row.id, { state: row.state, message: (e as Error).message.split('\n')[0] });
        throw e;
      });
      const line = `sweep ${report.sweepId}: ${report.state}; ${report.rounds} new rounds in ${report.updated} runs; ${Object.entries(report.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}`;
      if (values.json && (!values.wait || !['submitted', 'running'].includes(report.state))) process.stdout.write(JSON.stringify(report) + '\n');
      else process.stderr.write(`cairn: ${line}\n`);
      for (const p of report.problems) process.stderr.write(`cairn:   ${p}\n`);
      if (!values.wait || !['submitted', 'running'].includes(report.state)) {
        if (report.state === 'failed') process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, every * 1000));
    }
  } finally {
    await store.close();
  }
}

async function resolveTarget(store: Store, arg: string | undefined, ssh: string | undefined): Promise<{ row: SweepRow | null; dir: string; ssh: string | null }> {
  if (!arg) throw new UsageError('ID|DIR: required (a sweep id from `cairn sweep list`, or a sweep folder)');
  if (/^\d+$/.test(arg)) {
    const row = await store.getSweep(Number(arg));
    if (!row) throw new UsageError(`ID: no sweep ${arg} in ${store.file} (see \`cairn sweep list\`)`);
    if (row.executor !== 'slurm' || !row.location) throw new UsageError(`ID: sweep ${arg} ran on the local pool; its runs are already in the history`);
    return { row, dir: row.location, ssh: ssh ?? row.sshHost };
  }
  const dir = ssh ? arg : path.resolve(arg);
  if (!dir.startsWith('/')) throw new UsageError(`DIR: expected an absolute path on ${ssh}, got ${JSON.stringify(arg)}`);
  return { row: null, dir, ssh: ssh ?? null };
}

/**
 * `--set` on a sweep edits the overrides, which name no env or learner of their own: the
 * field is looked up in the base preset's schemas, or, for a sweep of variants (a reproduction
 * or a file without a base preset), in the first variant whose learner and env know it.
 */
function applySetToSweep(spec: SweepSpec, base: PartialExperiment, assignment: string): PartialExperiment {
  const contexts: PartialExperiment[] = [];
  if (spec.preset) contexts.push(getPreset(spec.preset)?.config ?? {});
  else {
    // The spec is checked later (planSweep names its bad fields); read only what is well formed.
    const axes: unknown[] = Array.isArray(spec.axes) ? spec.axes : [];
    for (const a of axes) {
      const variants = a && typeof a === 'object' && 'variants' in a && Array.isArray(a.variants) ? (a.variants as { preset?: unknown; overrides?: unknown }[]) : [];
      for (const v of variants) {
        if (!v || typeof v !== 'object') continue;
        const preset = typeof v.preset === 'string' ? getPreset(v.preset)?.config : undefined;
        const over = v.overrides && typeof v.overrides === 'object' ? (v.overrides as PartialExperiment) : {};
        contexts.push(mergeExperiment(preset ?? {}, over));
      }
    }
    if (contexts.length === 0) contexts.push({});
  }
  let first: unknown;
  for (const c of contexts) {
    try {
      return applySet(base, assignment, c);
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
