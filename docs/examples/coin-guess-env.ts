/**
 * A worked example of the env contract (docs/env-modules.md): "coin guess".
 *
 * Every step a fair coin is flipped in each copy; each of two agents sees a hint that shows the
 * coin with probability `hintAccuracy` (else a fair random bit) and guesses heads or tails. A
 * correct guess pays 1. Episodes last `episodeLimit` steps (a time limit: truncation).
 *
 *   npx cairn env check docs/examples/coin-guess-env.ts
 *   npx cairn train --env-module docs/examples/coin-guess-env.ts --set algo.id=pg --episodes 50
 *
 * The base (`VecEnvBase`) owns the buffers, seeded per-copy RNG streams, auto-reset, time
 * limits, final observations, returns, replays and checkpoints; the env writes its reset, its
 * step, its observation and its episode metrics.
 */
import { VecEnvBase } from '../../src-shared/envs/base';
import { agent, buildSpec, discrete, features, team } from '../../src-shared/envs/spaces';
import type { EnvEntry, EnvOptions, EnvSpec } from '../../src-shared/envs/types';
import type { Schema, Values } from '../../src-shared/config/schema';
import type { Rng } from '../../src-shared/rng';

const schema = {
  episodeLimit: { type: 'int', default: 10, min: 1, max: 1000, doc: 'Steps per episode.' },
  hintAccuracy: { type: 'float', default: 0.75, min: 0, max: 1, doc: 'Probability that an agent\'s hint shows the coin.' },
} as const satisfies Schema;

function coinSpec(config: Values): EnvSpec {
  const guess = discrete(['heads', 'tails']);
  const obs = [features('hint (0 heads, 1 tails)', 1)];
  return buildSpec({
    id: 'coin-guess',
    agents: [agent('left', 0, guess, obs), agent('right', 0, guess, obs)],
    teams: [team('guessers', [0, 1])],
    stateLayout: [features('coin', 1)],
    episodeLimit: Number(config.episodeLimit),
    metricKeys: ['accuracy', 'return_total', 'episode_length'],
    metrics: [
      { key: 'accuracy', title: 'Correct guesses (fraction)', role: 'success', description: 'correct guesses / (steps x agents)' },
      { key: 'return_total', title: 'Return (both agents)', role: 'return' },
      { key: 'episode_length', title: 'Episode length' },
    ],
  });
}

class CoinGuessEnv extends VecEnvBase {
  /** [B] the coin of the current step; [B, 2] each agent's hint. */
  private readonly coin: Uint8Array;
  private readonly hint: Uint8Array;
  private readonly accuracy: number;

  constructor(config: Values, options: EnvOptions) {
    super(coinSpec(config), options, 0x5eed);
    this.coin = new Uint8Array(this.numEnvs);
    this.hint = new Uint8Array(this.numEnvs * 2);
    this.accuracy = Number(config.hintAccuracy);
    this.reset(0);
  }

  /** Flip copy b's coin and draw both hints from its own stream. */
  private flip(b: number, rng: Rng): void {
    this.coin[b] = rng.int(2);
    for (let i = 0; i < 2; i++) this.hint[b * 2 + i] = rng.float() < this.accuracy ? this.coin[b] : rng.int(2);
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.flip(b, rng);
  }

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    for (let i = 0; i < 2; i++) if (actions[b * 2 + i] === this.coin[b]) rew[i] += 1;
    this.flip(b, this.rngs[b]);
    return false; // only the time limit ends an episode
  }

  protected observe(b: number): void {
    for (let i = 0; i < 2; i++) this.obs[b * 2 + i] = this.hint[b * 2 + i];
    this.state[b] = this.coin[b];
  }

  protected episodeMetrics(b: number, _terminated: boolean, out: Record<string, number | null>): void {
    const steps = this.stepCount[b];
    const total = this.episodeReturn(b, 0) + this.episodeReturn(b, 1);
    out.accuracy = steps > 0 ? total / (2 * steps) : null;
    out.return_total = total;
    out.episode_length = steps;
  }

  protected savedArrays() {
    return { coin: this.coin, hint: this.hint };
  }
}

export const coinGuessEnv: EnvEntry = {
  id: 'coin-guess',
  title: 'Coin guess (worked example of the env contract)',
  schema,
  spec: coinSpec,
  create: (config, options) => new CoinGuessEnv(config, options),
};

export default coinGuessEnv;
