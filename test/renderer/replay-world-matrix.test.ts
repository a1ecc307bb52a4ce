// @vitest-environment happy-dom
/**
 * The 2-D world and payoff-table replay views on replays recorded by the real envs (Cooperative
 * Navigation, the iterated Prisoner's Dilemma), so the views follow the envs' replay formats.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defaults } from '../../src-shared/config/schema';
import { getPreset } from '../../src-shared/config/presets';
import { randomActions } from '../../src-shared/env-check';
import type { Replay } from '../../src-shared/envs/types';
import { getEnv } from '../../src-shared/registry';
import { Rng } from '../../src-shared/rng';
import { registerBuiltinReplayRenderers } from '../../src-renderer/components/replay/builtin';
import { getReplayRenderer } from '../../src-renderer/components/replay/registry';
import { replayAgents } from '../../src-renderer/components/replay/generic/replay-read';
import World2dFrame from '../../src-renderer/components/replay/world2d/World2dFrame.vue';
import MatrixFrame from '../../src-renderer/components/replay/matrix/MatrixFrame.vue';
import MatrixPanel from '../../src-renderer/components/replay/matrix/MatrixPanel.vue';
import { matrixGame, jointActions } from '../../src-renderer/components/replay/matrix/matrix-read';
import { setApi } from '../../src-renderer/api/use-api';
import { useReplayPlayerStore } from '../../src-renderer/stores/replay-player';
import { fakeClient } from './fake-client';

/** One recorded episode of copy 0 of `envId` under `config`, with uniformly random actions. */
export function recordEpisode(envId: string, config: Record<string, unknown> = {}): Replay {
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

const spreadConfig = () => {
  const { id: _id, ...rest } = getPreset('spread-n3-pg')!.config.env ?? {};
  return rest;
};
const pdConfig = () => {
  const { id: _id, ...rest } = getPreset('pd-pg')!.config.env ?? {};
  return rest;
};

beforeAll(() => registerBuiltinReplayRenderers());

describe('2-D world view', () => {
  it('is chosen for a particle replay and draws every entity, named and coloured as the env declares', async () => {
    const r = recordEpisode('spread', spreadConfig());
    expect(getReplayRenderer(r)?.kind).toBe('world2d');
    const entities = (r.meta as { entities: { name: string; kind: string }[] }).entities;
    const w = mount(World2dFrame, { props: { replay: r, frame: 0 } });
    const groups = w.findAll('g.entity');
    expect(groups.map((g) => g.attributes('data-name')).sort()).toEqual(entities.map((e) => e.name).sort());
    expect(w.findAll('g.entity.agent')).toHaveLength(entities.filter((e) => e.kind === 'agent').length);
    expect(w.findAll('g.entity.landmark')).toHaveLength(entities.filter((e) => e.kind === 'landmark').length);
    for (const g of groups) expect(g.find('circle').attributes('fill')).toMatch(/^rgb\(/);
    expect(w.text()).toContain(entities[0].name);
    // Agents move under random actions: by a later frame their circles have moved and show velocity arrows.
    const x0 = w.find('g.entity.agent circle').attributes('cx');
    await w.setProps({ frame: Math.min(10, r.steps) });
    expect(w.find('g.entity.agent circle').attributes('cx')).not.toBe(x0);
    expect(w.findAll('line.velocity').length).toBeGreaterThan(0);
    expect(getReplayRenderer(r)!.agentColors(r)).toHaveLength(3);
    expect(replayAgents(r).map((a) => a.name)).toEqual(entities.filter((e) => e.kind === 'agent').map((e) => e.name));
  });

  it('shows a speaking agent\'s message', async () => {
    const r = recordEpisode('spread', spreadConfig());
    const E = (r.meta as { entities: unknown[] }).entities.length;
    const comm = new Array((r.steps + 1) * 3 * 2).fill(0);
    comm[(1 * 3 + 0) * 2 + 1] = 1; // agent 0 says [0, 1] at frame 1
    const talking: Replay = { ...r, columns: { ...r.columns, comm } };
    const w = mount(World2dFrame, { props: { replay: talking, frame: 1 } });
    expect(w.findAll('[data-testid="world2d-message"]').map((m) => m.text())).toEqual(['“0 1”']);
    expect(E).toBeGreaterThan(3);
  });
});

describe('payoff-table view', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('is chosen for a matrix replay and highlights the joint action of each step, with counts so far', async () => {
    const r = recordEpisode('matrix-game', pdConfig());
    expect(getReplayRenderer(r)?.kind).toBe('matrix');
    const g = matrixGame(r);
    expect(g.players).toHaveLength(2);
    const w = mount(MatrixFrame, { props: { replay: r, frame: 0 } });
    const cells = w.findAll('[data-testid="payoff-cell"]');
    expect(cells).toHaveLength(g.actions[0].length * g.actions[1].length);
    expect(w.findAll('td.current')).toHaveLength(0);
    await w.setProps({ frame: 1 });
    const j = r.columns.joint[0];
    expect(w.find('td.current').attributes('data-joint')).toBe(String(j));
    const [a0, a1] = jointActions(g, j);
    expect(w.text()).toContain(`${g.players[0]} ${g.actions[0][a0]}, ${g.players[1]} ${g.actions[1][a1]}`);
    await w.setProps({ frame: r.steps });
    const total = w.findAll('[data-testid="payoff-cell"] .count').reduce((s, c) => s + Number(c.text().slice(1)), 0);
    expect(total).toBe(r.steps);
    // Payoffs of the (C, C) cell as the env's table has them.
    expect(cells[0].find('.pay').text()).toBe(`${g.payoffs[0]}, ${g.payoffs[1]}`);
    expect(w.findAll('td.optimum').length).toBe(g.optimum.size);
  });

  it('charts each player\'s action probabilities over training from the run\'s declared frequency metrics', async () => {
    const r = recordEpisode('matrix-game', pdConfig());
    const asked: string[] = [];
    setApi(
      fakeClient({
        metricSeries: async (req) => {
          asked.push(req.key);
          const p = req.key.endsWith('_0') ? [0.5, 0.7, 0.9] : [0.5, 0.3, 0.1];
          return { runId: req.runId, key: req.key, x: [1, 2, 3], y: p, total: 3, downsampled: false };
        },
      }),
    );
    useReplayPlayerStore().runId = 12;
    const w = mount(MatrixPanel, { props: { replay: r, frame: 0 } });
    await flushPromises();
    expect(asked.sort()).toEqual(['action_freq_0_0', 'action_freq_0_1', 'action_freq_1_0', 'action_freq_1_1']);
    expect(w.findAll('polyline.line')).toHaveLength(4);
    const legend = w.findAll('[data-testid="matrix-prob-legend"]').map((l) => l.text());
    expect(legend).toContain(`P(${matrixGame(r).actions[0][0]}) 0.900`);
    setApi(null);
  });
});
