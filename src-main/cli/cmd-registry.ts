/**
 * `cairn envs`, `cairn algos` and `cairn env check`: the registries a user can see and extend.
 * A researcher's env module is loaded with --env-module (listed like a built-in one) and
 * checked against the env contract with `cairn env check PATH`.
 */
import path from 'node:path';
import { checkEnv, checkFailures } from '../../src-shared/env-check';
import { describeAlgos, describeEnvs, layoutText, spaceText } from '../service/registry-info';
import { loadEnvModule } from '../service/env-module';
import { parse } from './args';
import { UsageError } from './errors';

export const ENVS_HELP = `Usage: cairn envs [--env-module PATH] [--json]

List every environment: id, title, agents (team, action space, observation layout), teams
and who controls them, declared episode metrics (role and headline marked) and presets.
--env-module PATH adds your own env module to the list.
`;

export async function envs(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, 'env-module': { type: 'string' } });
  if (values.help) return void process.stdout.write(ENVS_HELP);
  if (values['env-module'] !== undefined) await loadEnvModule(values['env-module']);
  const list = describeEnvs();
  if (values.json) return void process.stdout.write(JSON.stringify({ envs: list }) + '\n');
  for (const e of list) {
    process.stdout.write(`${e.id}  ${e.title}${e.module ? `  (module ${e.module})` : ''}\n`);
    // Agents with the same team, space and layout print as one line.
    const groups: { idx: number[]; text: string }[] = [];
    e.agents.forEach((a, i) => {
      const text = `team ${a.team}; actions ${spaceText(a.action)}; obs ${layoutText(a.obsSize, a.obsLayout)}`;
      const g = groups.find((x) => x.text === text);
      if (g) g.idx.push(i);
      else groups.push({ idx: [i], text });
    });
    process.stdout.write(`  agents   ${e.numAgents}, episodes of at most ${e.episodeLimit} steps, state ${e.stateSize} values\n`);
    for (const g of groups) {
      const who = g.idx.length === 1 ? e.agents[g.idx[0]].name : `${g.idx.length} agents (${g.idx.map((i) => e.agents[i].name).join(', ')})`;
      process.stdout.write(`    ${who}: ${g.text}\n`);
    }
    for (const t of e.teams) {
      process.stdout.write(`  team     ${t.name}: agents ${t.agents.join(', ')}; ${t.controller}${t.script ? ` (${t.script})` : ''}${t.sharedReward ? '; shared reward' : ''}\n`);
    }
    const metrics = e.metrics.map((m) => `${m.key}${m.role ? ` [${m.role}]` : m.headline ? ' [headline]' : ''}`);
    process.stdout.write(`  metrics  ${metrics.join(', ') || 'none'}\n`);
    process.stdout.write(`  presets  ${e.presets.join(', ') || 'none'}\n\n`);
  }
}

export const ALGOS_HELP = `Usage: cairn algos [--env-module PATH] [--json]

List every learner: id, title, the environments it can train on, and its presets.
`;

export async function algos(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, 'env-module': { type: 'string' } });
  if (values.help) return void process.stdout.write(ALGOS_HELP);
  if (values['env-module'] !== undefined) await loadEnvModule(values['env-module']);
  const list = describeAlgos();
  if (values.json) return void process.stdout.write(JSON.stringify({ algos: list }) + '\n');
  for (const a of list) {
    process.stdout.write(`${a.id}  ${a.title}\n  envs     ${a.envs.join(', ') || 'none registered'}\n  presets  ${a.presets.join(', ') || 'none'}\n\n`);
  }
}

export const ENV_HELP = `Usage: cairn env check PATH [--json]

Load the env module at PATH (TypeScript written against the env contract, see
docs/env-modules.md) and run the conformance checks on it: a documented schema, a consistent
spec, buffer sizes, valid masks and finite values under random play, episode ends within the
limit (truncated only at the limit), finished copies waiting without auto-reset, determinism
per seed, and getState/setState round trips. Prints each check; exits 2 when any fails.
`;

export async function env(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, 2);
  if (values.help || positionals.length === 0) return void process.stdout.write(ENV_HELP);
  if (positionals[0] !== 'check') throw new UsageError(`env: unknown subcommand ${JSON.stringify(positionals[0])}; one of check`);
  const file = positionals[1];
  if (!file) throw new UsageError('PATH: expected the env module to check, e.g. cairn env check ./my-env.ts');
  const entry = await loadEnvModule(file, 'PATH');
  const results = checkEnv(entry);
  const failures = checkFailures(results);
  if (values.json) {
    process.stdout.write(JSON.stringify({ env: entry.id, module: path.resolve(file), ok: failures.length === 0, checks: results }) + '\n');
  } else {
    process.stdout.write(`env ${entry.id} (${entry.title}) from ${path.resolve(file)}\n`);
    for (const r of results) {
      process.stdout.write(`  ${r.problems.length ? 'FAIL' : 'ok  '}  ${r.name}\n`);
      for (const p of r.problems) process.stdout.write(`          ${p}\n`);
    }
    process.stdout.write(failures.length ? `${failures.length} problem(s); see docs/env-modules.md\n` : 'all checks passed\n');
  }
  // Exit 2 (bad input) without the one-line error: the lines above already say what fails.
  if (failures.length) process.exitCode = 2;
}
