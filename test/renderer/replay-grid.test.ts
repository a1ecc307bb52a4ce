// @vitest-environment happy-dom
/**
 * The cell-grid replay view on replays recorded by the real grid envs (Push-Box, Secret Room),
 * and the 2-D world view on the new particle tasks (speaker-listener's message and goal colour,
 * the adversary's target), so the views follow the envs' replay formats.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { registerBuiltinReplayRenderers } from '../../src-renderer/components/replay/builtin';
import { getReplayRenderer } from '../../src-renderer/components/replay/registry';
import { actionText, replayAgents } from '../../src-renderer/components/replay/generic/replay-read';
import Grid2dFrame from '../../src-renderer/components/replay/grid2d/Grid2dFrame.vue';
import World2dFrame from '../../src-renderer/components/replay/world2d/World2dFrame.vue';
import { gridCells } from '../../src-renderer/components/replay/grid2d/grid-read';
import { defaults } from '../../src-shared/config/schema';
import { randomActions } from '../../src-shared/env-check';
import type { Replay } from '../../src-shared/envs/types';
import { getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';

/** One recorded episode of copy 0 of `envId` under `config`, with uniformly random actions. */
function recordEpisode(envId: string, config: Record<string, unknown> = {}): Replay {
  const entry = getEnv(envId)!;
  const env = entry.create({ ...defaults(entry.schema), ...config } as never, { numEnvs: 1, autoReset: false });
  env.setRecording(0, true);
  env.reset(7);
  const rng = new Rng(3);
  const actions = new Int32Array(env.spec.numAgents);
  const box = new Float32Array(env.spec.numAgents * env.spec.boxSize);
  while (!env.finished[0]) {
    randomActions(env, actions, box, rng);
    env.step(actions, env.spec.boxSize ? box : undefined);
  }
  return env.drainEpisodes()[0].replay!;
}

beforeAll(() => registerBuiltinReplayRenderers());

describe('grid view', () => {
  it('draws Push-Box: the scoring ring, the box, both agents (sharing a cell at the start), a legend', async () => {
    const r = recordEpisode('push-box', { episodeLimit: 20 });
    const R = getReplayRenderer(r)!;
    expect(R.kind).toBe('grid2d');
    expect(R.agentColors(r)).toEqual(['#4e79a7', '#59a14f']);
    const w = mount(Grid2dFrame, { props: { replay: r, frame: 0 } });
    expect(w.findAll('rect.tile')).toHaveLength(4 * 14);
    expect(w.findAll('rect.object').map((o) => o.attributes('data-name'))).toEqual(['box']);
    const a = w.findAll('circle.agent');
    expect(a).toHaveLength(2);
    expect(a[0].attributes('cx')).not.toBe(a[1].attributes('cx')); // both at (1, 1): side by side
    expect(a[0].attributes('cy')).toBe(a[1].attributes('cy'));
    expect(w.find('[data-testid="grid2d-legend"]').text()).toContain('wall (the box scores here)');
    expect(actionText(r, replayAgents(r), 0, 0)).toMatch(/^(up|right|down|left|stay)$/);
  });

  it('draws Secret Room with its doors as they are at each frame', async () => {
    const r = recordEpisode('secret-room', { episodeLimit: 5 });
    // Open every door from frame 2 on, as the large-room switch would.
    const toggle = r.columns.toggle.map((v, k) => (k >= 2 * 3 ? 1 : v));
    const opened = { ...r, columns: { ...r.columns, toggle } };
    const doors = (f: number) => gridCells(opened, f).filter((c) => c.tile.name.startsWith('door')).map((c) => c.tile.name);
    expect(doors(0)).toEqual(new Array(6).fill('door (closed)'));
    expect(doors(2)).toEqual(new Array(6).fill('door (open)'));
    const w = mount(Grid2dFrame, { props: { replay: opened, frame: 0 } });
    expect(w.findAll('rect.tile[data-tile="door (closed)"]')).toHaveLength(6);
    expect(w.findAll('rect.tile[data-tile="target room"]').length).toBeGreaterThan(0);
    await w.setProps({ frame: 3 });
    expect(w.findAll('rect.tile[data-tile="door (open)"]')).toHaveLength(6);
    // The timeline marks each door opening, at the frame it shows.
    const doorMarks = getReplayRenderer(opened)!.markers(opened).filter((m) => m.kind === 'door');
    expect(doorMarks.map((m) => [m.frame, m.label])).toEqual([
      [2, 'door 0 opened'],
      [2, 'door 1 opened'],
      [2, 'door 2 opened'],
    ]);
    expect(w.find('[data-testid="grid2d"]').attributes('data-frame')).toBe('3');
  });
});

describe('2-D world view on the new particle tasks', () => {
  it("speaker-listener: the speaker's message is shown and the listener wears its goal's colour", () => {
    const r = recordEpisode('speaker-listener');
    expect(getReplayRenderer(r)!.kind).toBe('world2d');
    const w = mount(World2dFrame, { props: { replay: r, frame: 1 } });
    expect(w.find('[data-testid="world2d-message"]').text()).toMatch(/1/);
    const goal = r.meta.goal as number;
    const fill = (name: string) => w.find(`g.entity[data-name="${name}"] circle`).attributes('fill');
    const g = fill(`landmark ${goal}`).match(/\d+/g)!.map(Number);
    const l = fill('listener').match(/\d+/g)!.map(Number);
    // MPE's goal colour + 0.45 (115 of 255), capped at 255.
    l.forEach((v, k) => expect(Math.abs(v - Math.min(255, g[k] + 115))).toBeLessThanOrEqual(1));
  });

  it('adversary: the target landmark is drawn green, the other dark', () => {
    const r = recordEpisode('adversary');
    const w = mount(World2dFrame, { props: { replay: r, frame: 0 } });
    const t = r.meta.target as number;
    expect(w.find(`g.entity[data-name="landmark ${t}"] circle`).attributes('fill')).toBe('rgb(38, 166, 38)');
    expect(w.find(`g.entity[data-name="landmark ${1 - t}"] circle`).attributes('fill')).toBe('rgb(38, 38, 38)');
  });
});
