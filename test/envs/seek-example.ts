/**
 * The worked example of docs/envs.md: a complete two-agent env on the contract, in one file.
 * A seeker walks on cells 0..10 towards a hidden target; a hinter, who sees the target, may
 * "say" a direction, which this toy ignores (its action space differs from the seeker's, which
 * is the point). The conformance test runs it alongside the registered envs, so the example in
 * the docs cannot rot.
 */
import { defaults, type Values } from '../../src-shared/config/schema';
import type { Rng } from '../../src-shared/rng';
import { VecEnvBase } from '../../src-shared/envs/base';
import { agent, buildSpec, discrete, features, team } from '../../src-shared/envs/spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from '../../src-shared/envs/types';

const schema = {
  episodeLimit: { type: 'int', default: 10, min: 1, max: 1000, doc: 'Steps per episode.' },
} as const;

const METRICS: MetricSpec[] = [
  { key: 'found', title: 'Target found', role: 'success', headline: true },
  { key: 'return_total', title: 'Return (both agents)', role: 'return', headline: true },
  { key: 'episode_length', title: 'Episode length' },
];

function spec(limit: number): EnvSpec {
  const look = agent('seeker', 0, discrete(['left', 'stay', 'right']), [features('own cell, target cell', 2)]);
  const hint = agent('hinter', 0, discrete(['say left', 'say right']), [features('target cell', 1)]);
  return buildSpec({
    id: 'seek',
    agents: [look, hint],
    teams: [team('pair', [0, 1], { sharedReward: true })],
    stateLayout: [features('seeker cell, target cell', 2)],
    episodeLimit: limit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

class SeekEnv extends VecEnvBase {
  private readonly cell: Int32Array;
  private readonly target: Int32Array;
  constructor(limit: number, options: EnvOptions) {
    super(spec(limit), options, 0x7365656b);
    this.cell = new Int32Array(this.numEnvs);
    this.target = new Int32Array(this.numEnvs);
    this.reset(0);
  }
  protected resetCopy(b: number, rng: Rng): void {
    this.cell[b] = 5;
    this.target[b] = rng.int(11);
  }
  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const a = actions[b * 2];
    if (!(a >= 0 && a < 3)) throw new Error(`seek.step: action ${a} of copy ${b}, agent 0 is not in 0..2`);
    this.cell[b] = Math.min(10, Math.max(0, this.cell[b] + a - 1));
    const found = this.cell[b] === this.target[b];
    if (found) rew[0] = rew[1] = 1;
    return found;
  }
  protected observe(b: number): void {
    const O = this.spec.obsSize;
    this.obs[b * 2 * O] = this.cell[b];
    this.obs[b * 2 * O + 1] = this.target[b];
    this.obs[(b * 2 + 1) * O] = this.target[b];
    this.state[b * 2] = this.cell[b];
    this.state[b * 2 + 1] = this.target[b];
  }
  protected episodeMetrics(b: number, terminated: boolean, m: Record<string, number | null>): void {
    m.found = terminated ? 1 : 0;
    m.return_total = this.episodeReturn(b, 0) + this.episodeReturn(b, 1);
    m.episode_length = this.stepCount[b];
  }
  protected savedArrays() {
    return { cell: this.cell, target: this.target };
  }
}

export const seekEntry: EnvEntry = {
  id: 'seek',
  title: 'Seek (worked example)',
  schema,
  spec: (c: Values) => spec({ ...defaults(schema), ...c }.episodeLimit as number),
  create: (c: Values, o: EnvOptions) => new SeekEnv({ ...defaults(schema), ...c }.episodeLimit as number, o),
};
