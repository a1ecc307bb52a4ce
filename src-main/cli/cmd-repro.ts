import fs from 'node:fs';
import path from 'node:path';
import { budgetNames, budgetVariants, getRepro, listRepros, reproBudget } from '../../src-shared/config/repro';
import { ConfigError } from '../../src-shared/config/schema';
import { reproSweep } from '../../src-shared/config/sweep-repro';
import { finishLocalSweep, launchSweepLocal, planSweep } from '../service/sweep';
import { parse, intFlag } from './args';
import { addToProgress, makeRunner, openStore, runnerFlags, runSuccessKey, runToCompletion, runsJson } from './common';
import { trainSchema } from '../../src-shared/config/experiment';
import { chooseOpponentCheckpoint, roundList } from '../../src-shared/envs/frozen-opponent';
import { SEED_DEFAULT_FIRST, SEED_MAX_VALUE, SEEDS_MAX, seedRange } from '../../src-shared/config/limits';
import { Progress } from './progress';
import { UsageError } from './errors';
import { outcomeHtml, outcomeLines, outcomeRows, withOutcomeSection } from '../report/repro-outcome';
import type { ReferenceTable, Repro, ReproVariant } from '../../src-shared/config/repro';
import type { Store } from '../db/store';
import { convergenceHtml, convergenceText, convergenceTime, type Convergence, type ConvergenceRow } from '../report/convergence';
import { COMM_KEYS, commPoint, communicationHtml, communicationText, type CommGroup, type CommPoint } from '../report/communication';
import { fillReferenceTable, referenceTableHtml, referenceTableText, withReferenceSection, type FilledTable } from '../report/reference-table';

/** The reproduction's paper table filled from its runs (their stored summaries). */
async function reproTable(store: Store, table: ReferenceTable, runs: readonly { id: number; variant: string }[]): Promise<FilledTable> {
  const rows = [];
  for (const r of runs) {
    const row = await store.getRun(r.id);
    if (row) rows.push({ variant: r.variant, status: row.status, summary: row.summary });
  }
  return fillReferenceTable(table, rows);
}

/**
 * Per variant (in launch order), the time to convergence of each finished run's curve: the
 * variant's own `convergenceKey` where it has one (then named next to its label), else `key`.
 */
async function reproConvergence(store: Store, key: string, variants: readonly ReproVariant[], runs: readonly { id: number; variant: string }[]): Promise<ConvergenceRow[]> {
  const out = new Map<string, Convergence[]>();
  const keyOf = (label: string) => variants.find((v) => v.label === label)?.convergenceKey ?? key;
  for (const r of runs) {
    if (!out.has(r.variant)) out.set(r.variant, []);
    const row = await store.getRun(r.id);
    if (row?.status !== 'done') continue;
    const c = convergenceTime(await store.metricSeries(r.id, keyOf(r.variant)));
    if (c) out.get(r.variant)!.push(c);
  }
  return [...out].map(([variant, cs]) => ({ variant: keyOf(variant) === key ? variant : `${variant} (${keyOf(variant)})`, runs: cs }));
}

/** Per group of `rep.communication`, each variant's finished runs' last cumulative scalars sent. */
async function reproCommunication(store: Store, groups: NonNullable<Repro['communication']>['groups'], runs: readonly { id: number; variant: string }[]): Promise<CommGroup[]> {
  const points = new Map<string, CommPoint[]>();
  for (const r of runs) {
    if (!points.has(r.variant)) points.set(r.variant, []);
    if ((await store.getRun(r.id))?.status !== 'done') continue;
    const keys = new Set(await store.metricKeys(r.id));
    const key = COMM_KEYS.find((k) => keys.has(k));
    const p = key ? commPoint(await store.metricSeries(r.id, key)) : null;
    if (p) points.get(r.variant)!.push(p);
  }
  const row = (variant: string) => ({ variant, runs: points.get(variant) ?? [] });
  // Only variants this budget ran (a budget may leave some out).
  return groups.filter((g) => points.has(g.baseline)).map((g) => ({ baseline: row(g.baseline), rows: g.variants.filter((v) => points.has(v)).map(row) }));
}

export const REPRO_HELP = `Usage: cairn repro --list
       cairn repro NAME [--budget paper|small|medium] [--seeds K] [--rounds N] [--envs B] [options]

Reproduce a figure or table of one of the papers (\`--list\` names them: hidden gifts, ALITA,
DRIMA, F2A2): launch every variant over the same seeds as one experiment, then write its report
(charts with seed bands, the tables in the paper's layout) next to the database, in reports/.

Options:
  --list               list the reproductions with their variants and budgets
  --budget B           paper (the paper's seeds and rounds; default), small (minutes) or,
                       where a reproduction has one, medium (hours: a measured budget between
                       the two; f2a2-fig7's reaches a convergence point at 12 and 64 per side)
  --seeds K            override the number of seeds (seeds 1..K, or S..S+K-1 with --seed)
  --seed S             first seed (default 1)
  --rounds N           override the rounds per run (--episodes N is accepted as well)
  --envs B             override the parallel environments per run
  --parallel P         runs at once (default: number of cores)
  --backend NAME       auto | tensorflow-gpu | tensorflow | wasm-blas | wasm | cpu
  --stage1 E           reproductions with a second stage (f2a2-fig7): take the first stage's
                       runs from experiment E of this reproduction in the same database
                       (per variant and seed; their latest checkpoints, or those of
                       --opponent-round) instead of
                       training them again, and run the second stage only
  --opponent-round N   reproductions with a second stage: the first-stage runs' checkpoint
                       of round N plays the frozen opponent instead of their latest
                       (train.opponentRound; e.g. an earlier, weaker opponent). The round
                       must be one they keep: every train.checkpointEvery rounds, and the last
  --db PATH            database file
  --no-report          do not write the report
  --json               last stdout line: {"experimentId","report","runs":[...]}
`;

export async function repro(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      list: { type: 'boolean' },
      budget: { type: 'string' },
      seeds: { type: 'string' },
      seed: { type: 'string' },
      rounds: { type: 'string' },
      episodes: { type: 'string' },
      envs: { type: 'string' },
      parallel: { type: 'string' },
      backend: { type: 'string' },
      db: { type: 'string' },
      stage1: { type: 'string' },
      'opponent-round': { type: 'string' },
      'no-report': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) return void process.stdout.write(REPRO_HELP);
  if (values.list) {
    // The list takes no run options: ignoring them would hide a typo or a bad value.
    const extra = [...Object.keys(values).filter((k) => !['list', 'json', 'db', 'help'].includes(k)).map((k) => `--${k}`), ...positionals];
    if (extra.length) throw new UsageError(`--list: lists the reproductions and takes no other options (got ${extra[0]})`);
    if (values.json) return void process.stdout.write(JSON.stringify(listRepros()) + '\n');
    for (const r of listRepros()) {
      const p = r.budgets.paper;
      const s = r.budgets.small;
      const m = r.budgets.medium;
      process.stdout.write(`${r.name.padEnd(6)} ${r.figure}: ${r.title}\n`);
      process.stdout.write(`       variants: ${r.variants.map((v) => v.label).join(', ')}\n`);
      process.stdout.write(
        `       paper: ${p.seeds} seeds x ${p.episodes} rounds x ${p.numEnvs} envs; small: ${s.seeds} x ${s.episodes} x ${s.numEnvs}` +
          (m ? `; medium: ${m.seeds} x ${m.episodes} x ${m.numEnvs}${m.variants ? ` (${m.variants.join(', ')})` : ''}` : '') +
          '\n',
      );
    }
    return;
  }
  const name = positionals[0];
  const all = listRepros().map((r) => r.name).join(', ');
  if (!name) throw new UsageError(`NAME: required; one of ${all} (or --list)`);
  const rep = getRepro(name);
  if (!rep) throw new ConfigError('NAME', `one of ${all}`, name);
  const offered = budgetNames(rep);
  if (!(offered as string[]).includes(values.budget ?? 'paper')) {
    throw new UsageError(`--budget: ${rep.name} offers ${offered.join(', ')}; got ${JSON.stringify(values.budget)}`);
  }
  const { name: budgetName, budget } = reproBudget(rep, values.budget ?? 'paper');
  const atBudget = budgetVariants(rep, budget);
  const k = intFlag('seeds', values.seeds, budget.seeds, 1, SEEDS_MAX);
  const first = intFlag('seed', values.seed, SEED_DEFAULT_FIRST, 0, SEED_MAX_VALUE - k + 1);
  if (values.rounds !== undefined && values.episodes !== undefined) {
    throw new UsageError('--rounds: give --rounds or its alias --episodes, not both');
  }
  const ep = trainSchema.episodes;
  const episodes =
    values.episodes !== undefined ? intFlag('episodes', values.episodes, 0, ep.min, ep.max) : intFlag('rounds', values.rounds, budget.episodes, ep.min, ep.max);
  const numEnvs = intFlag('envs', values.envs, budget.numEnvs, trainSchema.numEnvs.min, trainSchema.numEnvs.max);
  const seeds = seedRange(first, k);
  const or = trainSchema.opponentRound;
  const opponentRound = values['opponent-round'] === undefined ? undefined : intFlag('opponent-round', values['opponent-round'], 0, or.min, or.max);
  if (opponentRound !== undefined && !atBudget.some((v) => v.opponentFrom)) {
    throw new UsageError(`--opponent-round: ${rep.name} has no second stage (no variant plays a frozen first-stage run)`);
  }
  runnerFlags(values);

  const store = await openStore(values.db);
  try {
    const launched = { experimentId: 0, experimentIds: [] as number[], runs: [] as { id: number; seed: number; variant: string }[] };
    // A reproduction is a named sweep: one variants axis over the given seeds, run to the end.
    const roundsGiven = values.rounds !== undefined || values.episodes !== undefined;
    const planOf = (variants: ReproVariant[], stageSeeds: number[]) =>
      planSweep(reproSweep({ ...rep, variants }, budgetName, { episodes, numEnvs, seeds: stageSeeds.length }, stageSeeds, roundsGiven));
    const stage = async (variants: ReproVariant[], stageSeeds: number[]): Promise<void> => {
      // One runner per stage: runToCompletion closes its runner once idle.
      const runner = makeRunner(store, values);
      const progress = new Progress();
      const plan = planOf(variants, stageSeeds);
      const rec = await launchSweepLocal(store, runner, plan, { experimentPreset: `repro:${rep.name}` });
      const runs = plan.runs.map((r, i) => ({ id: rec.runIds[i], seed: r.seed, variant: plan.cells[r.cell].label }));
      launched.experimentIds.push(rec.experimentId);
      launched.runs.push(...runs);
      await addToProgress(store, progress, runs.map((r) => r.id));
      process.stderr.write(
        `cairn: experiment ${rec.experimentId}: ${variants.length} variants x ${stageSeeds.length} seeds = ${runs.length} runs, ${[...new Set(plan.cells.map((c) => c.overrides.train?.episodes ?? episodes))].join('/')} rounds of ${numEnvs} envs each, in ${store.file}\n`,
      );
      await runToCompletion(runner, progress);
      await finishLocalSweep(store, rec);
    };
    // Variants against a frozen first-stage run: per seed, each gets that seed's run as opponent.
    let stage1: number | null = null;
    const second = atBudget.filter((v) => v.opponentFrom);
    if (values.stage1 === undefined) {
      const firstStage = atBudget.filter((v) => !v.opponentFrom);
      // Hours of first stage must not end in a second stage that cannot start: the rounds a
      // run keeps in its normal course are its checkpointEvery multiples and its last.
      if (opponentRound) {
        const opponents = new Set(second.map((v) => v.opponentFrom));
        for (const cell of planOf(firstStage, seeds).cells) {
          if (!opponents.has(cell.label)) continue;
          const every = Number(cell.config.train.checkpointEvery);
          const total = Number(cell.config.train.episodes);
          const kept = [...Array.from({ length: Math.floor(total / every) }, (_, i) => (i + 1) * every).filter((r) => r !== total), total];
          if (!kept.includes(opponentRound)) {
            throw new UsageError(`--opponent-round: the first-stage runs of "${cell.label}" will keep checkpoints at rounds ${roundList(kept)} (every train.checkpointEvery = ${every} and the last); got ${opponentRound}`);
          }
        }
      }
      await stage(firstStage, seeds);
    } else {
      const id = intFlag('stage1', values.stage1, 0, 1);
      if (second.length === 0) throw new UsageError(`--stage1: ${rep.name} has no second stage (no variant plays a frozen first-stage run)`);
      const exp = await store.getExperiment(id);
      if (!exp || exp.preset !== `repro:${rep.name}`) throw new UsageError(`--stage1: experiment ${id} is not a run of repro ${rep.name} in ${store.file}`);
      const { rows } = await store.listRuns({ experimentId: id });
      const labels = new Set(second.map((v) => v.opponentFrom!));
      for (const r of rows) if (r.variant && labels.has(r.variant) && seeds.includes(r.seed)) launched.runs.push({ id: r.id, seed: r.seed, variant: r.variant });
      stage1 = id;
      process.stderr.write(`cairn: first stage from experiment ${id}: runs ${launched.runs.map((r) => `${r.id} (${r.variant}, seed ${r.seed})`).join(', ') || 'none'}\n`);
    }
    const opponentOf = (v: ReproVariant, seed: number) => {
      const opp = launched.runs.find((r) => r.variant === v.opponentFrom && r.seed === seed);
      if (!opp && values.stage1 !== undefined) throw new UsageError(`--stage1: experiment ${values.stage1} has no run of "${v.opponentFrom}" with seed ${seed} (the opponent of "${v.label}")`);
      if (!opp) throw new Error(`repro ${rep.name}: variant "${v.label}" names opponentFrom "${v.opponentFrom}", which is not a first-stage variant`);
      return opp.id;
    };
    if (opponentRound && values.stage1 !== undefined) {
      // A reused first stage may lack the round (another checkpointEvery, a file deleted):
      // said before any second-stage run starts, not as one failed run after another.
      for (const seed of seeds) {
        for (const v of second) {
          const id = opponentOf(v, seed);
          try {
            chooseOpponentCheckpoint(id, (await store.listCheckpoints(id)).map((c) => ({ round: c.episode, path: c.path })), opponentRound);
          } catch (e) {
            throw new UsageError(`--opponent-round: ${(e as Error).message}`);
          }
        }
      }
    }
    const round = opponentRound === undefined ? {} : { opponentRound };
    for (const seed of second.length > 0 ? seeds : []) {
      const withOpponent = second.map((v) => ({ ...v, overrides: { ...v.overrides, train: { ...v.overrides?.train, opponent: 'frozen', opponentRun: opponentOf(v, seed), ...round } } }));
      await stage(withOpponent, [seed]);
    }
    // The report is named after this invocation's own first experiment and covers the reused one too.
    if (stage1 !== null) launched.experimentIds.push(stage1);
    launched.experimentId = launched.experimentIds[0];
    let report: string | null = null;
    // Reproductions that judge their runs (equilibrium reached, target met) say so per seed.
    const rows = [];
    for (const r of launched.runs) {
      const row = await store.getRun(r.id);
      if (row) rows.push(row);
    }
    const outcome = outcomeRows(rep, rows);
    if (!values['no-report']) {
      const { exportReportFromStore } = await import('../service/reports');
      const present = new Set<string>();
      for (const r of launched.runs) for (const key of await store.metricKeys(r.id)) present.add(key);
      const file = await exportReportFromStore(
        store,
        { kind: 'experiment', ids: launched.experimentIds, format: 'html', keys: rep.keys.filter((key) => present.has(key)) },
        (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
      );
      const dir = path.join(path.dirname(store.file), 'reports');
      fs.mkdirSync(dir, { recursive: true });
      report = path.join(dir, `repro-${rep.name}-experiment-${launched.experimentId}.html`);
      let html = withOutcomeSection(Buffer.from(file.base64, 'base64').toString('utf8'), outcomeHtml(rep, outcome));
      if (rep.reference) html = withReferenceSection(html, referenceTableHtml(await reproTable(store, rep.reference, launched.runs)));
      if (rep.convergence) html = withReferenceSection(html, convergenceHtml(rep.convergence.key, await reproConvergence(store, rep.convergence.key, rep.variants, launched.runs)));
      if (rep.communication) html = withReferenceSection(html, communicationHtml(await reproCommunication(store, rep.communication.groups, launched.runs)));
      fs.writeFileSync(report, html);
      process.stderr.write(`cairn: report written to ${report}\n`);
    }
    const out = { experimentId: launched.experimentId, experimentIds: launched.experimentIds, report, ...(await runsJson(store, launched.runs.map((r) => r.id))) };
    if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
    else {
      for (const r of out.runs) {
        const v = launched.runs.find((x) => x.id === r.id)!.variant;
        const row = await store.getRun(r.id);
        const key = row ? runSuccessKey(row) : undefined;
        const s = key === undefined ? undefined : r.summary[key];
        process.stdout.write(`run ${r.id} ${v} seed ${r.seed}: ${r.status}${key ? `  ${key} (last 10%) ${s == null ? 'n/a' : s.toFixed(3)}` : ''}\n`);
      }
    }
    for (const line of outcomeLines(outcome)) process.stderr.write(`cairn: ${line}\n`);
    if (rep.reference && !values.json) process.stdout.write('\n' + referenceTableText(await reproTable(store, rep.reference, launched.runs)));
    if (rep.convergence && !values.json) process.stdout.write('\n' + convergenceText(rep.convergence.key, await reproConvergence(store, rep.convergence.key, rep.variants, launched.runs)));
    if (rep.communication && !values.json) process.stdout.write('\n' + communicationText(await reproCommunication(store, rep.communication.groups, launched.runs)));
    if (out.runs.some((r) => r.status === 'failed')) process.exitCode = 1;
  } finally {
    await store.close();
  }
}
