/**
 * VecEnvBase parts no registered env exercises yet: a scripted team (the env chooses those
 * agents' actions, whatever the caller passes, and replays record the script's choice), and a
 * box agent beside a discrete one.
 */
import { describe, expect, it } from 'vitest';
import type { Rng } from '../../src-shared/rng';
import { VecEnvBase } from '../../src-shared/envs/base';
import { agent, box, buildSpec, discrete, features, learnerAgents, specProblems, team } from '../../src-shared/envs/spaces';
import type { EnvOptions } from '../../src-shared/envs/types';

/** Hunter (learner, discrete) chases prey (script: always steps +1) on a line; a drifter (learner, box) is scored on |a|. */
class Chase extends VecEnvBase {
  readonly hunter: Int32Array;
  readonly prey: Int32Array;
  constructor(options: EnvOptions) {
    super(
      buildSpec({
        id: 'chase',
        agents: [
          agent('hunter', 0, discrete(['left', 'right']), [features('hunter, prey', 2)]),
          agent('drifter', 0, box(['push'], -1, 1), [features('nothing', 1)]),
          agent('prey', 1, discrete(['left', 'right']), [features('hunter, prey', 2)]),
        ],
        teams: [team('hunters', [0, 1]), team('prey', [2], { controller: 'script', script: 'always flees right' })],
        stateLayout: [features('hunter, prey', 2)],
        episodeLimit: 5,
        metricKeys: ['caught', 'return_total', 'episode_length'],
      }),
      options,
      99,
    );
    this.hunter = new Int32Array(this.numEnvs);
    this.prey = new Int32Array(this.numEnvs);
    this.reset(0);
  }
  protected resetCopy(b: number, rng: Rng): void {
    this.hunter[b] = 0;
    this.prey[b] = 1 + rng.int(3);
  }
  protected override scriptActions(b: number, actions: Int32Array): void {
    actions[b * 3 + 2] = 1;
  }
  protected stepCopy(b: number, actions: Int32Array, boxActions: Float32Array, rew: Float64Array): boolean {
    this.hunter[b] += actions[b * 3] === 1 ? 2 : -1;
    this.prey[b] += actions[b * 3 + 2] === 1 ? 1 : -1;
    rew[1] = -Math.abs(boxActions[b * 3 + 1]);
    const caught = this.hunter[b] >= this.prey[b];
    if (caught) rew[0] = 1;
    return caught;
  }
  protected observe(b: number): void {
    const O = this.spec.obsSize;
    for (const i of [0, 2]) {
      this.obs[(b * 3 + i) * O] = this.hunter[b];
      this.obs[(b * 3 + i) * O + 1] = this.prey[b];
    }
    this.state[b * 2] = this.hunter[b];
    this.state[b * 2 + 1] = this.prey[b];
  }
  protected episodeMetrics(b: number, terminated: boolean, m: Record<string, number | null>): void {
    m.caught = terminated ? 1 : 0;
    m.return_total = this.episodeReturn(b, 0) + this.episodeReturn(b, 1) + this.episodeReturn(b, 2);
    m.episode_length = this.stepCount[b];
  }
  protected savedArrays() {
    return { hunter: this.hunter, prey: this.prey };
  }
}

describe('VecEnvBase', () => {
  it('a scripted team: the env acts for it and the replay records the script', () => {
    const env = new Chase({ numEnvs: 1 });
    expect(specProblems(env.spec)).toEqual([]);
    expect(learnerAgents(env.spec)).toEqual([0, 1]);
    expect(env.spec.boxSize).toBe(1);
    // The drifter (box) has an all-zero mask row; the others have their two actions.
    expect(Array.from(env.actionMask)).toEqual([1, 1, 0, 0, 1, 1]);
    env.setRecording(0, true);
    const start = env.prey[0];
    const box = Float32Array.from([0, 3, 0]); // clipped to 1
    env.step(Int32Array.from([0, 0, 0]), box); // the caller asks the prey to go left: ignored
    expect(env.prey[0]).toBe(start + 1);
    expect(env.rewards[1]).toBe(-1);
    while (!env.dones[0]) env.step(Int32Array.from([1, 0, 0]), box);
    const [ep] = env.drainEpisodes();
    const actions = ep.replay!.columns.action;
    for (let t = 0; t < ep.replay!.steps; t++) {
      expect(actions[t * 3 + 1]).toBe(-1); // box agent
      expect(actions[t * 3 + 2]).toBe(1); // the script's choice
      expect(ep.replay!.columns.box_action.slice(t * 3, t * 3 + 3)).toEqual([0, 1, 0]); // [N, boxSize] per step, clipped
    }
  });

  it.each([
    [5, 1, 0],
    [6, 1, 1],
  ])('prey starting at %i: the 5th (last) step ends the episode with dones %i, truncated %i', (prey, done, trunc) => {
    // The hunter gains 1 cell per step on the prey: it catches a prey 5 ahead on the last allowed step.
    const env = new Chase({ numEnvs: 1, autoReset: false });
    const s = env.getState() as { prey: number[] };
    s.prey[0] = prey;
    env.setState(s);
    for (let t = 0; t < 4; t++) {
      env.step(Int32Array.from([1, 0, 0]), new Float32Array(3));
      expect(env.dones[0]).toBe(0);
    }
    env.step(Int32Array.from([1, 0, 0]), new Float32Array(3));
    expect([env.dones[0], env.truncated[0], env.finished[0]]).toEqual([done, trunc, 1]);
    expect(env.drainEpisodes()[0].metrics.caught).toBe(1 - trunc);
  });
});
