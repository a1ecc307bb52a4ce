/**
 * "Copy as CLI command" (issue 14, item 3): the command the run page copies, parsed the way
 * `cairn train` parses it (preset, --rounds/--envs, --set in order), gives back the run's
 * config exactly; seeds use the numbering both sides share.
 */
import { describe, expect, it } from 'vitest';
import { applySet, mergeExperiment, resolveExperiment, type ExperimentConfig } from '../../src-shared/config/experiment';
import { getPreset } from '../../src-shared/config/presets';
import { cliCommand, shellQuote } from '../../src-renderer/lib/cli-command';
import { seedRange } from '../../src-shared/config/limits';

/** What `cairn train` builds from the command's words (src-main/service/launch.ts buildConfig). */
function replay(cmd: string): { config: ExperimentConfig; seeds: number[] } {
  const words = cmd.split('   #')[0].trim().split(/\s+/).map((w) => w.replace(/^'(.*)'$/, '$1'));
  const flag = (f: string) => {
    const i = words.indexOf(f);
    return i >= 0 ? words[i + 1] : undefined;
  };
  const sets = words.flatMap((w, i) => (words[i - 1] === '--set' ? [w] : []));
  const train: Record<string, number> = {};
  if (flag('--rounds')) train.episodes = Number(flag('--rounds'));
  if (flag('--envs')) train.numEnvs = Number(flag('--envs'));
  let cfg = mergeExperiment(getPreset(flag('--preset')!)!.config, { train });
  for (const s of sets) cfg = applySet(cfg, s);
  return { config: resolveExperiment(cfg), seeds: seedRange(Number(flag('--seed') ?? 1), Number(flag('--seeds') ?? 1)) };
}

describe('copy as CLI command', () => {
  const preset = 'manitokan-pg-history';
  const base = resolveExperiment(getPreset(preset)!.config);

  it('round-trips an edited config and its seeds through the CLI’s own parsing', () => {
    const config: ExperimentConfig = JSON.parse(JSON.stringify(base));
    config.train.episodes = 150;
    config.train.numEnvs = 8;
    config.env.episodeLimit = 40;
    config.algo.lr = 0.0005;
    const cmd = cliCommand({ preset, base, config, seeds: [3, 4, 5] });
    expect(cmd).toMatch(/^npx cairn train --preset manitokan-pg-history --seed 3 --seeds 3 --rounds 150 --envs 8 /);
    expect(cmd).toContain('--set env.episodeLimit=40');
    const back = replay(cmd);
    expect(back.config).toEqual(config);
    expect(back.seeds).toEqual([3, 4, 5]);
  });

  it('an unedited preset run is just the preset and its seed', () => {
    expect(cliCommand({ preset, base, config: base, seeds: [1] })).toBe('npx cairn train --preset manitokan-pg-history --seed 1');
  });

  it('says so when the seeds are not one range', () => {
    expect(cliCommand({ preset, base, config: base, seeds: [1, 7] })).toMatch(/# seeds were 1, 7/);
  });

  it('quotes what the shell would split', () => {
    expect(shellQuote("it's a name")).toBe(`'it'\\''s a name'`);
    expect(shellQuote('env.x=1,2')).toBe('env.x=1,2');
  });
});
